# Production-like image for the web (gunicorn) and worker (celery) services of docker-compose.yml.
FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY . .
RUN SECRET_KEY=build-only DEBUG=0 python manage.py collectstatic --noinput
RUN useradd --system --uid 1000 qsort && mkdir -p /app/var && chown qsort /app/var
USER qsort
EXPOSE 8000
CMD ["gunicorn", "qsort.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]

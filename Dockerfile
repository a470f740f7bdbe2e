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
# gunicorn.conf.py: token-free access and error logs; the app refuses to start without a real
# SECRET_KEY and a real mail backend (qsort/security/checks.py).
CMD ["gunicorn", "-c", "gunicorn.conf.py"]

"""qsort: a web platform for Q-methodology studies.

The Celery app (``qsort.celery``) is loaded when Django's apps are ready (``qsort.runs.apps``),
not here: ``manage.py qanalysis`` imports this package without Django and should not pay for it.
``celery -A qsort`` finds ``qsort.celery.app`` by itself.
"""

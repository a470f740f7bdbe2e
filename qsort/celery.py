"""The Celery app. Tasks stay thin: they load rows, call pure code, store results."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "qsort.settings")

app = Celery("qsort")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

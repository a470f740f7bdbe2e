"""qsort: a web platform for Q-methodology studies."""

from qsort.celery import app as celery_app

__all__ = ["celery_app"]

"""What `runs` does when `studies` announces something (see qsort.studies.signals)."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import pre_delete
from django.dispatch import receiver

from qsort.studies.models import Sort
from qsort.studies.signals import sort_completed


@receiver(sort_completed, dispatch_uid="runs.reanalyse_after_new_sort")
def reanalyse_after_new_sort(study_id: int, **_signal: Any) -> None:
    # Imported here so that start-up (manage.py commands, checks) does not load numpy and the engine.
    from qsort.runs.services import reanalyse_after_new_sort

    reanalyse_after_new_sort(study_id)


@receiver(pre_delete, sender=Sort, dispatch_uid="runs.rerun_without_sort")
def rerun_without_sort(sender: type[Sort], instance: Sort, origin: object = None, **_signal: Any) -> None:
    """A withdrawn (deleted) sort leaves no trace in stored runs, whichever door deleted it."""
    from qsort.runs.services import rerun_without_sort

    rerun_without_sort(instance, origin=origin)

"""What `runs` does when `studies` announces something (see qsort.studies.signals)."""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from qsort.studies.signals import sort_completed


@receiver(sort_completed, dispatch_uid="runs.reanalyse_after_new_sort")
def reanalyse_after_new_sort(study_id: int, **_signal: Any) -> None:
    # Imported here so that start-up (manage.py commands, checks) does not load numpy and the engine.
    from qsort.runs.services import reanalyse_after_new_sort

    reanalyse_after_new_sort(study_id)

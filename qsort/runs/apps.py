from django.apps import AppConfig


class RunsConfig(AppConfig):
    name = "qsort.runs"
    label = "runs"

    def ready(self) -> None:
        from django.db.models.signals import pre_delete

        from qsort.runs.services import rerun_without_sort
        from qsort.studies.models import Sort

        # A withdrawn (deleted) sort leaves no trace in stored runs, whichever door deleted it.
        pre_delete.connect(rerun_without_sort, sender=Sort, dispatch_uid="runs.rerun_without_sort")

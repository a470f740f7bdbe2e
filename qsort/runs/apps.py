from django.apps import AppConfig


class RunsConfig(AppConfig):
    name = "qsort.runs"
    label = "runs"

    def ready(self) -> None:
        import qsort.celery  # noqa: F401  (our app becomes the one shared_task sends through)
        from qsort.runs import receivers  # noqa: F401  (connects the receivers)

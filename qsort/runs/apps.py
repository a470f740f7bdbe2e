from django.apps import AppConfig


class RunsConfig(AppConfig):
    name = "qsort.runs"
    label = "runs"

    def ready(self) -> None:
        from qsort.runs import receivers  # noqa: F401  (connects the receivers)

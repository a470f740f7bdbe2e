from django.apps import AppConfig


class RunsConfig(AppConfig):
    name = "qsort.runs"
    label = "runs"

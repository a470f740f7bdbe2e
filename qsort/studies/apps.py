from django.apps import AppConfig


class StudiesConfig(AppConfig):
    name = "qsort.studies"
    label = "studies"

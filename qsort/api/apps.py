from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "qsort.api"
    label = "api"

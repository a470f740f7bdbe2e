from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "qsort.api"
    label = "api"

    def ready(self) -> None:
        from qsort.api import tokens

        tokens.connect()

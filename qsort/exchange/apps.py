from django.apps import AppConfig


class ExchangeConfig(AppConfig):
    name = "qsort.exchange"
    label = "exchange"

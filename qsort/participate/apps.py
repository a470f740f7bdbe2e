from django.apps import AppConfig


class ParticipateConfig(AppConfig):
    name = "qsort.participate"
    label = "participate"

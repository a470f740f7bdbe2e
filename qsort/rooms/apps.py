from django.apps import AppConfig


class RoomsConfig(AppConfig):
    name = "qsort.rooms"
    label = "rooms"
    verbose_name = "Sessions and interviews"

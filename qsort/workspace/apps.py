from django.apps import AppConfig


class WorkspaceConfig(AppConfig):
    name = "qsort.workspace"
    label = "workspace"

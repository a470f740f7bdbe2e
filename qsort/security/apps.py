from django.apps import AppConfig


class SecurityConfig(AppConfig):
    """Cross-cutting protection: client addresses, rate limits, token-free logs, strict parsing,
    response headers and the deployment checks."""

    name = "qsort.security"

    def ready(self) -> None:
        from qsort.security import checks  # noqa: F401 - registers the deployment checks

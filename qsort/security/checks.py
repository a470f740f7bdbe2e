"""Deployment checks: `manage.py check --deploy` fails, and the production web server refuses to
start (qsort/wsgi.py), when the configuration would leak secrets or sign with a known key."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, Warning, register
from django.core.exceptions import ImproperlyConfigured

# Values that are documented or committed somewhere, so not secret: .env.example's placeholder
# and the Dockerfile's collectstatic key.
KNOWN_KEY_MARKERS = ("change-me", "build-only", "example", "placeholder")
MIN_KEY_LENGTH = 50
# Backends that write mail (password-reset links) into the log or nowhere, not to people.
LOG_EMAIL_BACKENDS = {
    "django.core.mail.backends.console.EmailBackend",
    "django.core.mail.backends.locmem.EmailBackend",
    "django.core.mail.backends.dummy.EmailBackend",
    "django.core.mail.backends.filebased.EmailBackend",
}


def production_problems() -> list[CheckMessage]:
    problems: list[CheckMessage] = []
    key = settings.SECRET_KEY if settings.SECRET_KEY_FROM_ENVIRONMENT else ""
    if not key:
        problems.append(
            Error("SECRET_KEY is not set.", hint="Set SECRET_KEY to a random value of 50+ characters.", id="qsort.E001")
        )
    elif any(marker in key.lower() for marker in KNOWN_KEY_MARKERS) or len(key) < MIN_KEY_LENGTH:
        problems.append(
            Error(
                "SECRET_KEY is a placeholder or too short.",
                hint="Generate one: python -c 'import secrets; print(secrets.token_urlsafe(50))'",
                id="qsort.E002",
            )
        )
    if settings.EMAIL_BACKEND in LOG_EMAIL_BACKENDS:
        problems.append(
            Error(
                f"EMAIL_BACKEND is {settings.EMAIL_BACKEND}: password-reset links would go to the log.",
                hint="Set EMAIL_BACKEND=django.core.mail.backends.smtp.EmailBackend and the EMAIL_* settings.",
                id="qsort.E003",
            )
        )
    return problems


@register(Tags.security, deploy=True)
def check_production_settings(app_configs=None, **kwargs) -> list[CheckMessage]:
    problems = production_problems()
    if not settings.REDIS_URL:
        problems.append(
            Warning(
                "No Redis: rate limits and sign-in lockouts are counted per process, not shared by the workers.",
                hint="Set CELERY_BROKER_URL (or REDIS_URL) to a redis:// URL.",
                id="qsort.W001",
            )
        )
    return problems


def refuse_unsafe_production() -> None:
    """Called by the WSGI entry point: with DEBUG off, start only with a safe configuration."""
    if settings.DEBUG:
        return
    problems = production_problems()
    if problems:
        raise ImproperlyConfigured(" ".join(f"{p.msg} {p.hint}" for p in problems))

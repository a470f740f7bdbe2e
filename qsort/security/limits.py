"""Rate limits per client address, counted in the shared cache (Redis in production) by
django-ratelimit, so every gunicorn worker sees the same counts. The rates live in
settings.QSORT_RATE_LIMITS; `rate_limited` guards Django views and `AddressThrottle` DRF views."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django_ratelimit.core import get_usage
from rest_framework.throttling import BaseThrottle

OPEN_LINK = "open_link"
PARTICIPANT = "participant"
LOGIN = "login"


def seconds_to_wait(request: HttpRequest, limit: str) -> int | None:
    """Count this request against `limit`; None if allowed, else the seconds until it would be."""
    usage = get_usage(request, group=f"qsort.{limit}", key="ip", rate=settings.QSORT_RATE_LIMITS[limit], increment=True)
    if usage is None or not usage["should_limit"]:
        return None
    return max(1, int(usage["time_left"]))


def rate_limited(limit: str, methods: tuple[str, ...] = ("POST",)) -> Callable:
    """Answer 429 (a plain-language page, or JSON for scripts) once an address is over `limit`."""

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if request.method in methods:
                wait = seconds_to_wait(request, limit)
                if wait is not None:
                    from qsort.security.views import too_many_requests

                    return too_many_requests(request, wait)
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


class AddressThrottle(BaseThrottle):
    """The same limits for API views: DRF answers 429 with Retry-After and a JSON `detail`."""

    limit = PARTICIPANT

    def allow_request(self, request, view) -> bool:
        self.wait_seconds = seconds_to_wait(request._request, self.limit)
        return self.wait_seconds is None

    def wait(self) -> float | None:
        return self.wait_seconds


class ParticipantThrottle(AddressThrottle):
    limit = PARTICIPANT


class LoginThrottle(AddressThrottle):
    limit = LOGIN

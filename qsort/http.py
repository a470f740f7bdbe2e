"""The request views see behind django-htmx's middleware, for type checking."""

from __future__ import annotations

from django.http import HttpRequest
from django_htmx.middleware import HtmxDetails


class HtmxRequest(HttpRequest):
    """A request after HtmxMiddleware (settings.MIDDLEWARE): `htmx` is truthy when htmx sent it.

    Only an annotation: views are still handed Django's own request object, which the
    middleware gave the attribute.
    """

    htmx: HtmxDetails

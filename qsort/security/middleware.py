"""Middleware for what every response or request needs, whatever the view."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.template.defaultfilters import filesizeformat
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext as _

from qsort.security.views import wants_json


def declared_length(request: HttpRequest) -> int:
    raw = request.META.get("CONTENT_LENGTH") or "0"
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 16 else 1 << 62


def refuse_oversized_bodies(get_response: Callable[[HttpRequest], HttpResponse]) -> Callable:
    """Answer 413 from the declared Content-Length, before anything reads the body.

    Signed-in staff may send imports (two files of QSORT_MAX_UPLOAD_BYTES); everyone else, and
    token-authenticated API clients, at most DATA_UPLOAD_MAX_MEMORY_SIZE. Runs after the session
    and user are known, and before CSRF (which reads POST bodies). The proxy in front should hold
    the larger limit too (README, "Deploying").
    """

    def middleware(request: HttpRequest) -> HttpResponse:
        length = declared_length(request)
        if length > settings.DATA_UPLOAD_MAX_MEMORY_SIZE:
            limit = (
                settings.QSORT_MAX_REQUEST_BYTES
                if request.user.is_authenticated
                else settings.DATA_UPLOAD_MAX_MEMORY_SIZE
            )
            if length > limit:
                return payload_too_large(request, limit)
        return get_response(request)

    return middleware


def payload_too_large(request: HttpRequest, limit: int) -> HttpResponse:
    text = _("What was sent is larger than %(limit)s, so it was not accepted and nothing was stored.") % {
        "limit": filesizeformat(limit)
    }
    if wants_json(request):
        return JsonResponse({"error": text, "detail": text}, status=413)
    return render(request, "security/message.html", {"title": _("Too large"), "text": text}, status=413)


def no_store(get_response: Callable[[HttpRequest], HttpResponse]) -> Callable:
    """`Cache-Control: no-store` on staff pages, API answers and downloads: what a signed-in
    researcher saw must not stay in a shared computer's or a proxy's cache. Static files never
    get here (WhiteNoise answers them first); responses that set their own policy keep it."""

    def middleware(request: HttpRequest) -> HttpResponse:
        response = get_response(request)
        personal = (
            request.user.is_authenticated
            or request.path.startswith("/api/")
            or response.has_header("Content-Disposition")
        )
        if personal and not response.has_header("Cache-Control"):
            patch_cache_control(response, no_store=True, private=True)
        return response

    return middleware

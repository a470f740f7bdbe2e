"""Answers the protection layer gives instead of the page asked for."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _


def wants_json(request: HttpRequest) -> bool:
    """API clients and the pages' own scripts (autosave) read JSON; people read a page."""
    return (
        request.path.startswith("/api/")
        or request.content_type == "application/json"
        or "application/json" in request.headers.get("Accept", "")
    )


def too_many_requests(request: HttpRequest, wait: int) -> HttpResponse:
    minutes = max(1, round(wait / 60))
    text = _(
        "Too many requests came from your network in a short time, so this one was not accepted. "
        "Nothing you already saved is lost. Please wait about %(minutes)s minute(s) and try again."
    ) % {"minutes": minutes}
    if wants_json(request):
        response: HttpResponse = JsonResponse({"error": text, "detail": text, "retry_after": wait}, status=429)
    else:
        title = _("Please wait a moment")
        response = render(request, "security/message.html", {"title": title, "text": text}, status=429)
    response["Retry-After"] = str(wait)
    return response


def health(request: HttpRequest) -> HttpResponse:
    """For the container healthcheck: the app answers and reaches its database."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return HttpResponse("ok", content_type="text/plain")

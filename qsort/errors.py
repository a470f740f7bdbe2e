"""Server errors as people should see them: a database outage is a pause (503), not a crash.

Django turns any exception, in a view or a middleware (the session save, for one), into a call
of handler500 while the exception is still being handled, so this one place sees them all.
"""

from __future__ import annotations

import sys

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.utils.translation import gettext as _
from django.views import defaults

# How long clients (and the participant page's autosave) wait before trying again.
RETRY_AFTER_SECONDS = 15


def server_error(request: HttpRequest) -> HttpResponse:
    if isinstance(sys.exc_info()[1], OperationalError | InterfaceError):
        return database_unavailable(request)
    return defaults.server_error(request)


def wants_json(request: HttpRequest) -> bool:
    """The API and the page's autosave read JSON; people get a page."""
    return (
        request.path.startswith("/api/")
        or request.path.endswith("/save/")
        or "application/json" in request.headers.get("Accept", "")
    )


def database_unavailable(request: HttpRequest) -> HttpResponse:
    message = _("Saving paused, we will retry: the database is unavailable for a moment. Nothing is lost.")
    if wants_json(request):
        response: HttpResponse = JsonResponse({"error": message, "retry_after": RETRY_AFTER_SECONDS}, status=503)
    else:
        # A standalone page: the usual base template reads the session, which lives in the database.
        response = HttpResponse(render_to_string("503.html", {"retry_after": RETRY_AFTER_SECONDS}), status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response

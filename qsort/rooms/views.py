"""Sessions in the room and interviews after it: the facilitator's session pages, the projector's
room screen, the join link, and the printable/DOCX interview material.

The room screen shows seat numbers, never names or tokens; its discussion board appears only once
three sorts of the session are complete (`qsort.analysis.group.MIN_GROUP_SORTS`).
"""

from __future__ import annotations

import io

import segno
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.cache import add_never_cache_headers
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from qsort.http import HtmxRequest
from qsort.participate.views import STEPS, _left, _message, _not_found, _not_open, _steps
from qsort.rooms import documents, services
from qsort.rooms.forms import InterviewPromptsForm, SessionForm, SessionInviteForm
from qsort.rooms.guides import NoSuchFactor, factor_schedule, interview_guide
from qsort.rooms.models import InterviewPrompts, Session, SessionClosed, SessionFull
from qsort.runs.models import AnalysisRun
from qsort.security.limits import OPEN_LINK, rate_limited
from qsort.studies.access import Can, access_for
from qsort.studies.models import Participant

ROOM_POLL_SECONDS = 3


def _session(request: HttpRequest, slug: str, pk: int, capability: Can = Can.EDIT):
    access = access_for(request.user, slug, capability)
    return access, get_object_or_404(Session.objects.select_related("study"), study=access.study, pk=pk)


def _docx(content: bytes, name: str) -> HttpResponse:
    response = HttpResponse(
        content, content_type="application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    )
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Cache-Control"] = "private, no-store"
    return response


# --- the facilitator's session pages ------------------------------------------------------------
@login_required
@require_http_methods(["GET", "POST"])
def sessions(request: HttpRequest, slug: str) -> HttpResponse:
    """A study's sessions; facilitators create new ones here."""
    access = access_for(request.user, slug, Can.EDIT if request.method == "POST" else Can.VIEW)
    study = access.study
    form = SessionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        session = form.save(commit=False)
        session.study, session.created_by = study, request.user
        session.save()
        messages.success(request, _("Session “%(name)s” created.") % {"name": session.name})
        return redirect(session.get_absolute_url())
    rows = study.sessions.annotate(
        joined=Count("members"),
        done=Count("members", filter=Q(members__participant__completed_at__isnull=False)),
    )
    context = {"access": access, "study": study, "tab": "sessions", "sessions": rows, "form": form}
    return render(request, "rooms/sessions.html", context, status=400 if form.errors else 200)


@login_required
@require_GET
def session(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    access, session = _session(request, slug, pk)
    context = {
        "access": access,
        "study": access.study,
        "tab": "sessions",
        "session": session,
        "seats": services.seat_progress(session),
        "invite_form": SessionInviteForm(),
        "new_links": _new_links(request, session),
    }
    return render(request, "rooms/session.html", context)


NEW_LINKS_KEY = "qsort-session-new-links"


def _new_links(request: HttpRequest, session: Session) -> list[Participant]:
    ids = request.session.pop(NEW_LINKS_KEY, None)
    if not ids:
        return []
    return list(session.study.participants.filter(pk__in=ids, seat__session=session).select_related("seat"))


@login_required
@require_POST
def session_status(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    """Open or close the door: a closed session's join link stops working at once."""
    _access, session = _session(request, slug, pk)
    status = request.POST.get("status", "")
    if status in Session.Status.values:
        session.set_status(status)
    return redirect(session.get_absolute_url())


@login_required
@require_POST
def session_invite(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    """Personal links that belong to the session, up to its free seats."""
    _access, session = _session(request, slug, pk)
    form = SessionInviteForm(request.POST)
    if not form.is_valid():
        for error in form.errors.get("count", []):
            messages.error(request, str(error))
    else:
        try:
            created = session.invite(form.cleaned_data["count"])
        except SessionFull:
            messages.error(request, _("Not enough free seats in this session for that many links."))
        else:
            request.session[NEW_LINKS_KEY] = [p.pk for p in created]
    return redirect(session.get_absolute_url())


@login_required
@require_GET
def session_qr(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    _access, session = _session(request, slug, pk)
    svg = io.BytesIO()
    segno.make(session.join_url, error="m").save(svg, kind="svg", scale=10, border=2, title=session.name)
    response = HttpResponse(svg.getvalue(), content_type="image/svg+xml")
    response["Cache-Control"] = "private, no-store"
    return response


# --- the room screen ----------------------------------------------------------------------------
@login_required
@require_GET
def room(request: HtmxRequest, slug: str, pk: int) -> HttpResponse:
    """The projector page. htmx polls its `live` partial; the board is shown only when the
    facilitator switched to it and the session has enough complete sorts."""
    access, session = _session(request, slug, pk)
    seats = services.seat_progress(session)
    # An unknown label (an old bookmark, a typo) shows the first question.
    condition = services.board_condition(session, request.GET.get("condition")) or services.board_condition(session)
    # None only for a study without any condition (so without sorts).
    completed = services.completed_under(session, condition) if condition else 0
    board = None
    if condition and session.screen == Session.Screen.BOARD and completed >= services.MIN_GROUP_SORTS:
        board = services.session_board(session, condition)
    conditions = list(access.study.conditions.all())
    context = {
        "access": access,
        "study": access.study,
        "session": session,
        "seats": seats,
        "free_seats": max(session.seats - len(seats), 0),
        "free_seat_tiles": range(max(session.seats - len(seats), 0)),
        "finished": sum(seat.done for seat in seats),
        "completed": completed,
        "condition": condition,
        "conditions": conditions if len(conditions) > 1 else [],
        "board": board,
        "board_allowed": completed >= services.MIN_GROUP_SORTS,
        "board_refusal": services.board_refusal(completed),
        "poll_seconds": ROOM_POLL_SECONDS,
    }
    template = "rooms/room.html#live" if request.htmx else "rooms/room.html"
    response = render(request, template, context)
    add_never_cache_headers(response)
    return response


@login_required
@require_POST
def room_screen(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    """Switch the room screen between progress and the discussion board."""
    _access, session = _session(request, slug, pk)
    screen = request.POST.get("screen", "")
    if screen in Session.Screen.values:
        session.screen = screen
        session.save(update_fields=["screen"])
    condition = services.board_condition(session, request.POST.get("condition")) or services.board_condition(session)
    room_url = reverse("rooms:room", args=[slug, pk])
    return redirect(f"{room_url}?{urlencode({'condition': condition.label})}" if condition else room_url)


# --- joining ------------------------------------------------------------------------------------
@require_http_methods(["GET", "POST"])
@rate_limited(OPEN_LINK)  # each "I agree" makes a participant, like the study's open link
def join(request: HttpRequest, token: str) -> HttpResponse:
    """The session's join link: consent first, then a seat and a personal link. It works only while
    the session is open and has a free seat; a person who already joined on this browser goes
    straight back to their sort."""
    session = Session.objects.select_related("study").filter(join_token=token.upper()).first()
    if session is None:
        response = _not_found(request)
    else:
        with translation.override(session.study.language):
            response = _join(request, session)
    add_never_cache_headers(response)
    return response


def _join(request: HttpRequest, session: Session) -> HttpResponse:
    key = f"qsort-session-{session.pk}"
    known = request.session.get(key)
    # A finished sort is forgotten: the next person on a shared phone or tablet starts their own.
    if known and Participant.objects.filter(token=known, seat__session=session, completed_at__isnull=True).exists():
        return redirect(reverse("participate:personal_link", args=[known]))
    study = session.study
    if not study.accepts_sorts:
        return _not_open(request, study)
    if not session.is_open:
        return _message(
            request, session.name, _("This session is closed. Please ask the facilitator in the room."), study=study
        )
    if request.method == "POST":
        if request.POST.get("choice") != "agree":
            return _left(request, study, request.path)
        try:
            participant = session.join()
        except SessionFull:
            return _session_full(request, session)
        except SessionClosed:
            return _not_open(request, study)
        request.session[key] = participant.token
        return redirect(reverse("participate:personal_link", args=[participant.token]))
    if session.members.count() >= session.seats:
        return _session_full(request, session)
    return render(
        request,
        "participate/consent.html",
        {
            "study": study,
            "steps": _steps(Participant.Stage.INVITED),
            "step_count": len(STEPS),
            "form_action": request.path,
        },
    )


def _session_full(request: HttpRequest, session: Session) -> HttpResponse:
    return _message(
        request,
        session.name,
        _("Every seat of this session is taken. Please ask the facilitator in the room."),
        status=409,
        study=session.study,
    )


# --- interview material -------------------------------------------------------------------------
def _guide(request: HttpRequest, slug: str, pk: int):
    access = access_for(request.user, slug, Can.VIEW)
    participant = get_object_or_404(Participant.objects.select_related("study"), study=access.study, pk=pk)
    # With several conditions, the guide talks about the participant's latest sort.
    sort = participant.sorts.order_by("-submitted_at", "-id").first() if participant.is_completed else None
    if sort is None:
        raise Http404("This participant has no completed sort yet.")
    return access, interview_guide(participant, sort)


@login_required
@require_GET
def guide(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    """A printable one-to-one interview guide for one participant (A4 print CSS)."""
    access, guide = _guide(request, slug, pk)
    context = {
        "access": access,
        "study": access.study,
        "guide": guide,
        "guide_sections": guide.sections(),
        "pk": pk,
    }
    response = render(request, "rooms/guide.html", context)
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_GET
def guide_docx(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    access, guide = _guide(request, slug, pk)
    return _docx(documents.guide_docx(guide), f"{access.study.slug}-guide-{guide.label}.docx")


def _schedule(request: HttpRequest, slug: str, run_id: int, factor: int, capability: Can):
    access = access_for(request.user, slug, capability)
    run = get_object_or_404(AnalysisRun, study=access.study, pk=run_id, status=AnalysisRun.Status.DONE)
    try:
        return access, factor_schedule(run, factor)
    except NoSuchFactor as missing:
        raise Http404("No such factor in this run.") from missing


@login_required
@require_GET
def schedule(request: HttpRequest, slug: str, run_id: int, factor: int) -> HttpResponse:
    """The interview schedule of one factor: printable, from the run's stored result."""
    access, schedule = _schedule(request, slug, run_id, factor, Can.VIEW)
    context = {"access": access, "study": access.study, "schedule": schedule, "schedule_sections": schedule.sections()}
    response = render(request, "rooms/schedule.html", context)
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_GET
def schedule_docx(request: HttpRequest, slug: str, run_id: int, factor: int) -> HttpResponse:
    access, schedule = _schedule(request, slug, run_id, factor, Can.DOWNLOAD)
    return _docx(documents.schedule_docx(schedule), f"{access.study.slug}-run{run_id}-factor{factor}-schedule.docx")


@login_required
@require_GET
def run_sessions(request: HttpRequest, slug: str, run_id: int) -> HttpResponse:
    """A run's defining sorts by session: which group holds which viewpoint."""
    access = access_for(request.user, slug, Can.VIEW)
    run = get_object_or_404(AnalysisRun, study=access.study, pk=run_id, status=AnalysisRun.Status.DONE)
    context = {
        "access": access,
        "study": access.study,
        "tab": "results",
        "run": run,
        "table": services.factor_sessions(run),
    }
    return render(request, "rooms/run_sessions.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def prompts(request: HttpRequest, slug: str) -> HttpResponse:
    """The study's wording of the guides' open prompts."""
    access = access_for(request.user, slug, Can.EDIT)
    instance = InterviewPrompts.for_study(access.study)
    form = InterviewPromptsForm(request.POST or None, instance=instance)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, _("Interview prompts saved."))
        return redirect(reverse("rooms:prompts", args=[slug]))
    context = {"access": access, "study": access.study, "tab": "sessions", "form": form}
    return render(request, "rooms/prompts.html", context, status=400 if form.errors else 200)

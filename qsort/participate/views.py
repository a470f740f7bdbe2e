"""The participant's pages: one personal link (`/p/<token>/`) that always shows the step they are
on, small POST endpoints to move on, the autosave, and the final submit.

No login: the unguessable token in the URL is the participant's key, CSRF protects every POST,
and pages are never cached, so the back button shows the current step rather than a stale one.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, pgettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from qsort.participate import services
from qsort.participate.services import PILES, DraftRejected, DraftRules, Stage, StepRefused
from qsort.security.limits import OPEN_LINK, PARTICIPANT, rate_limited
from qsort.security.middleware import declared_length
from qsort.security.parsing import InputRejected, load_json
from qsort.studies.models import Answer, Participant, SortComment, SortDraft, Statement, Study
from qsort.studies.services import (
    SortAlreadySubmitted,
    StudyNotAcceptingSorts,
    extreme_statements,
    questions_for_sort,
    submit_sort,
)
from qsort.studies.validation import SortInvalid, signed

AUTOSAVE_MAX_BYTES = 64 * 1024
SUBMIT_MAX_BYTES = 256 * 1024
OPEN_LINK_SESSION_KEY = "qsort-open-link-{}"

# A context keeps these apart from the same English words elsewhere ("Sort" is a verb here but a
# noun on the analysis pages), so each language can translate them as a participant's step.
STEPS = [
    (Stage.INVITED, pgettext_lazy("participant step", "Welcome")),
    (Stage.CONSENTED, pgettext_lazy("participant step", "How it works")),
    (Stage.PRESORT, pgettext_lazy("participant step", "First look")),
    (Stage.SORTING, pgettext_lazy("participant step", "Sort")),
    (Stage.REVIEW, pgettext_lazy("participant step", "Review")),
    (Stage.COMPLETED, pgettext_lazy("participant step", "Done")),
]


def _message(
    request: HttpRequest, title: str, text: str, *, status: int = 200, study: Study | None = None
) -> HttpResponse:
    return render(request, "participate/message.html", {"title": title, "text": text, "study": study}, status=status)


def _not_found(request: HttpRequest) -> HttpResponse:
    return _message(
        request,
        _("This link does not work"),
        _("Please check the link you were given, or ask the person who gave it to you for a new one."),
        status=404,
    )


def _not_open(request: HttpRequest, study: Study) -> HttpResponse:
    if study.status == Study.Status.DRAFT:
        text = _("This study has not started yet. Please try again later, or ask the person who invited you.")
    else:
        text = _("This study has finished and is not taking any more sorts. Thank you for your interest.")
    return _message(request, study.title, text, study=study)


def _full(request: HttpRequest, study: Study) -> HttpResponse:
    text = _(
        "This study already has all the participants it can take through this link. Thank you for "
        "your interest. If you were invited, please ask the person who invited you for a personal link."
    )
    return _message(request, study.title, text, study=study)


def _too_large(request: HttpRequest, limit: int) -> bool:
    return declared_length(request) > limit


def participant_view(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Load the participant by token (a kind 404 page if none), speak the study's language,
    and forbid caching so back/forward and a second tab always ask the server."""

    @wraps(view)
    def wrapper(request: HttpRequest, token: str) -> HttpResponse:
        participant = Participant.objects.select_related("study").filter(token=token).first()
        if participant is None:
            response = _not_found(request)
        else:
            with translation.override(participant.study.language):
                response = view(request, participant)
        add_never_cache_headers(response)
        return response

    return wrapper


def _steps(stage: str) -> list[dict]:
    stages: list[str] = [s for s, _label in STEPS]
    current = stages.index(stage)
    return [
        {"label": label, "number": i + 1, "done": i < current, "current": i == current}
        for i, (_stage, label) in enumerate(STEPS)
    ]


def _page(request: HttpRequest, participant: Participant, template: str, status: int = 200, **context) -> HttpResponse:
    study = participant.study
    conditions = participant.conditions_in_order()
    current = next((i for i, (_c, done) in enumerate(conditions) if not done), None)
    context.update(
        participant=participant,
        study=study,
        steps=_steps(participant.stage),
        step_count=len(STEPS),
        # Several conditions: which question this is ("Question 1 of 2") and how many are done.
        condition=conditions[current][0] if current is not None else None,
        condition_number=(current or 0) + 1,
        condition_count=len(conditions),
        conditions_done=sum(done for _c, done in conditions),
    )
    return render(request, f"participate/{template}", context, status=status)


def _js_text() -> dict[str, str]:
    """Everything the script says to the participant, translated here (no JS catalogue needed)."""
    return {
        "saving": _("Saving…"),
        "saved": _("Saved"),
        "offline": _("Not saved yet: no connection. We keep trying, your cards stay here."),
        "paused": _("Saving paused, we will retry. Your cards stay here."),
        "stale": _("This sort was changed in another window. Please reload this page to continue."),
        "counter": _("Card %(index)s of %(total)s"),
        "presorted": _("You put statement %(number)s on the %(pile)s pile."),
        "undone": _("Statement %(number)s is back on the deck."),
        "disagree": _("Disagree"),
        "neutral": _("Neutral"),
        "agree": _("Agree"),
        "picked": _("Statement %(number)s picked. Choose a column with the arrow keys or the buttons."),
        "target": _("Column %(column)s (%(count)s of %(capacity)s cards)."),
        "placed": _("Statement %(number)s placed in column %(column)s (%(count)s of %(capacity)s cards)."),
        "to_pile": _("Statement %(number)s is back on the %(pile)s pile."),
        "full": _("Column %(column)s is full (%(capacity)s of %(capacity)s). Move a card out first."),
        # The page's count changes in the browser: both forms go along, and the script picks
        # one with Intl.PluralRules for the page's language.
        "left_one": ngettext("%(left)s card still to place.", "%(left)s cards still to place.", 1),
        "left_other": ngettext("%(left)s card still to place.", "%(left)s cards still to place.", 2),
        "none_left": _("All cards are placed. You can still move them."),
        "place_all": _("Please place every card first: %(left)s still to place."),
        "cancelled": _("Nothing picked."),
        # The confirmation shown next to the card (short: it is read at a glance on a phone).
        "placed_short": _("Placed in %(column)s · %(count)s of %(capacity)s"),
        "to_pile_short": _("Back on the %(pile)s pile"),
        "full_short": _("%(column)s is full (%(capacity)s of %(capacity)s). Move a card out of it first."),
        "not_moved": _("Not moved: drop the card on a column. It stays where it was."),
        "undone_move": _("Undone: the card is back where it was."),
        "moved_within": _("Statement %(number)s is now card %(position)s of %(count)s in column %(column)s."),
        "pick_hint": _("Where does this card belong? Tap or click its place on the scale."),
        "all_placed": _("All cards are placed. Check your sort, or tap a card to move it."),
        "full_label": _("full"),
    }


def _statements(study: Study) -> dict[int, Statement]:
    return {s.number: s for s in study.statements.all()}


def _columns(study: Study, state: dict, statements: dict[int, Statement]) -> list[dict]:
    grid = study.grid()
    return [
        {
            "value": value,
            "label": signed(value),
            "capacity": capacity,
            "slots": range(capacity),
            "cards": [statements[n] for n in state["grid"].get(str(value), []) if n in statements],
        }
        for value, capacity in grid.items()
    ]


# --- pages ------------------------------------------------------------------------------------
@require_GET
@participant_view
def personal_link(request: HttpRequest, participant: Participant) -> HttpResponse:
    """The one page a participant needs: whatever step they are on."""
    study = participant.study
    if participant.is_completed:
        return _page(request, participant, "thanks.html")
    if not study.accepts_sorts:
        return _not_open(request, study)
    if participant.stage == Stage.INVITED:
        return _page(
            request, participant, "consent.html", form_action=reverse("participate:consent", args=[participant.token])
        )
    if participant.stage == Stage.CONSENTED:
        return _page(request, participant, "instructions.html", grid=_columns(study, services.empty_state(), {}))
    state = services.draft_state(participant)
    statements = _statements(study)
    if participant.stage == Stage.PRESORT:
        decided = dict(state["presort"])
        cards = [
            {"statement": statements[n], "pile": decided.get(n)}
            for n in services.deck_order(participant, list(statements))
        ]
        current = next((i for i, card in enumerate(cards) if card["pile"] is None), None)
        return _page(request, participant, "presort.html", cards=cards, current=current, state=state, text=_js_text())
    if participant.stage == Stage.REVIEW:
        return _review(request, participant, state, statements)
    return _grid(request, participant, state, statements)


def _grid(request: HttpRequest, participant: Participant, state: dict, statements: dict) -> HttpResponse:
    columns = _columns(participant.study, state, statements)
    placed = {card.number for column in columns for card in column["cards"]}
    piles: dict[str, list] = {pile: [] for pile in PILES}
    for number, pile in state["presort"]:
        if number in statements and number not in placed:
            piles[pile].append(statements[number])
    presorted = {number for number, _pile in state["presort"]}
    piles["neutral"] += [s for n, s in statements.items() if n not in placed and n not in presorted]
    pile_labels = {"disagree": _("Disagree"), "neutral": _("Neutral"), "agree": _("Agree")}
    return _page(
        request,
        participant,
        "grid.html",
        columns=columns,
        piles=[{"name": p, "label": pile_labels[p], "cards": piles[p]} for p in PILES],
        left=len(statements) - len(placed),
        state=state,
        text=_js_text(),
    )


def _review(
    request: HttpRequest,
    participant: Participant,
    state: dict,
    statements: dict,
    *,
    errors: list[str] | None = None,
    comments: dict[str, str] | None = None,
    answers: dict[str, str] | None = None,
) -> HttpResponse:
    study = participant.study
    placements = services.placements(state)
    values = dict(placements)
    comments = state["comments"] if comments is None else comments
    answers = state["answers"] if answers is None else answers
    extremes = [
        {
            "statement": statements[n],
            "value": signed(values[n]),
            "pole": study.label_agree if values[n] > 0 else study.label_disagree,
            "comment": comments.get(str(n), ""),
        }
        for n in sorted(extreme_statements(study, values), key=lambda n: (-values[n], n))
        if n in statements
    ]
    questions = [{"question": q, "answer": answers.get(str(q.pk), "")} for q in questions_for_sort(study, participant)]
    return _page(
        request,
        participant,
        "review.html",
        status=400 if errors else 200,
        columns=_columns(study, state, statements),
        placements=placements,
        extremes=extremes,
        questions=questions,
        errors=errors or [],
        state=state,
        text=_js_text(),
        comment_max_length=SortComment.MAX_LENGTH,
        answer_max_length=Answer.MAX_LENGTH,
    )


# --- moving on --------------------------------------------------------------------------------
@require_POST
@rate_limited(PARTICIPANT)
@participant_view
def consent(request: HttpRequest, participant: Participant) -> HttpResponse:
    """'I agree' stores the consent; 'Leave' stores nothing at all."""
    if request.POST.get("choice") != "agree":
        return _left(request, participant.study, participant.get_absolute_url())
    if not participant.study.accepts_sorts:
        return _not_open(request, participant.study)
    services.consent(participant)
    return redirect(participant)


def _left(request: HttpRequest, study: Study, back_url: str) -> HttpResponse:
    return render(request, "participate/left.html", {"study": study, "back_url": back_url})


@require_POST
@rate_limited(PARTICIPANT)
@participant_view
def stop(request: HttpRequest, participant: Participant) -> HttpResponse:
    """Finish after a completed condition (when the study allows it): what is done counts."""
    try:
        participant.stop_early()
    except ValueError:
        messages.error(request, _("Please finish this question first."))
    return redirect(participant)


@require_POST
@participant_view
def step(request: HttpRequest, participant: Participant) -> HttpResponse:
    """Go to the next step (or from the review back to the grid); refused with a reason."""
    if participant.is_completed or not participant.study.accepts_sorts:
        return redirect(participant)
    try:
        services.go_to(participant, request.POST.get("to", ""))
    except StepRefused as refused:
        messages.error(request, str(refused))
    return redirect(participant)


@require_POST
@rate_limited(PARTICIPANT)
@participant_view
def autosave(request: HttpRequest, participant: Participant) -> JsonResponse:
    """Store the page's work so far. Small and fast: the page calls it after every change."""
    if _too_large(request, AUTOSAVE_MAX_BYTES):
        return JsonResponse(
            {
                "error": _("This save is too large (over %(kb)s KB) and was not stored.")
                % {"kb": AUTOSAVE_MAX_BYTES // 1024}
            },
            status=413,
        )
    if participant.is_completed:
        return JsonResponse({"error": _("This sort is already complete; nothing more is saved.")}, status=409)
    if not participant.study.accepts_sorts or participant.stage == Stage.INVITED:
        return JsonResponse({"error": _("This study is not taking sorts at the moment.")}, status=409)
    try:
        payload = load_json(request.body)
        state = services.clean_state(DraftRules.for_study(participant.study), payload)
    except (InputRejected, DraftRejected) as error:
        problems = error.messages if isinstance(error, DraftRejected) else [str(error)]
        return JsonResponse({"error": " ".join(problems), "messages": problems}, status=400)
    if not services.save_draft(participant, state):
        return JsonResponse({"error": _js_text()["stale"], "stale": True}, status=409)
    return JsonResponse({"saved": True, "version": state["version"]})


@require_POST
@rate_limited(PARTICIPANT)
@participant_view
def submit(request: HttpRequest, participant: Participant) -> HttpResponse:
    """The final sort, through the one validator. Any problem: the review again, nothing lost."""
    if _too_large(request, SUBMIT_MAX_BYTES):
        return _message(
            request,
            _("Not sent"),
            _("What was sent is too large to be a sort, so nothing was stored. Please go back and try again."),
            status=413,
            study=participant.study,
        )
    if participant.stage == Stage.INVITED:
        return redirect(participant)
    pairs = [
        (number, value if colon else None)
        for number, colon, value in (item.partition(":") for item in request.POST.getlist("placement"))
    ]
    # A field's last value, as QueryDict.items() would give it.
    comments = {k.removeprefix("comment-"): v[-1] for k, v in request.POST.lists() if k.startswith("comment-")}
    answers = {k.removeprefix("answer-"): v[-1] for k, v in request.POST.lists() if k.startswith("answer-")}
    condition = participant.current_condition()
    try:
        submit_sort(participant, pairs, condition=condition, comments=comments, answers=answers)
    except SortInvalid as invalid:
        state = services.draft_state(participant)
        return _review(
            request,
            participant,
            state,
            _statements(participant.study),
            errors=invalid.messages,
            comments=comments,
            answers=answers,
        )
    except SortAlreadySubmitted:
        return _message(
            request,
            _("Your sort is already saved"),
            _("You have already sent your sort, and it is kept as it was. Thank you for taking part."),
            status=409,
            study=participant.study,
        )
    except StudyNotAcceptingSorts:
        return _not_open(request, participant.study)
    # The sort is stored; the unfinished copy of it has no purpose left (keep no more than needed),
    # and this browser forgets the participant, so the next person on it starts afresh.
    SortDraft.objects.filter(participant=participant, condition=condition).delete()
    request.session.pop(OPEN_LINK_SESSION_KEY.format(participant.study_id), None)
    return redirect(participant)


# --- the open study link ----------------------------------------------------------------------
@require_http_methods(["GET", "POST"])
@rate_limited(OPEN_LINK)
def open_link(request: HttpRequest, slug: str) -> HttpResponse:
    """Anyone with the study's link may take part: a participant is created only on 'I agree',
    and remembered in the session so a reload does not make a second one."""
    study = Study.objects.filter(slug=slug, open_link_enabled=True).first()
    if study is None:
        response = _not_found(request)
    else:
        with translation.override(study.language):
            response = _open_link(request, study)
    add_never_cache_headers(response)
    return response


def _open_link(request: HttpRequest, study: Study) -> HttpResponse:
    """A browser that started a sort here is asked whether it is still the same person (shared
    phones and computers): continue, or "Not you? Start a new sort", which forgets the other."""
    session_key = OPEN_LINK_SESSION_KEY.format(study.pk)
    known = request.session.get(session_key)
    if known and not Participant.objects.filter(token=known, study=study, completed_at__isnull=True).exists():
        del request.session[session_key]  # completed or withdrawn: nothing to come back to
        known = None
    choice = request.POST.get("choice") if request.method == "POST" else None
    if known and choice == "new":
        del request.session[session_key]
        known = choice = None
    elif known and choice == "agree":
        return redirect("participate:personal_link", token=known)  # consent sent twice (double click)
    elif known:
        return render(
            request,
            "participate/resume.html",
            {
                "study": study,
                "resume_url": reverse("participate:personal_link", args=[known]),
                "form_action": reverse("participate:open_link", args=[study.slug]),
            },
        )
    if not study.accepts_sorts:
        return _not_open(request, study)
    if study.open_link_full:
        return _full(request, study)
    if choice is not None and choice != "new":
        if choice != "agree":
            return _left(request, study, reverse("participate:open_link", args=[study.slug]))
        try:
            participant = services.join_open_study(study)
        except services.OpenLinkFull:
            return _full(request, study)
        request.session[session_key] = participant.token
        if not request.user.is_authenticated:
            request.session.set_expiry(0)  # a participant's session ends when the browser closes
        return redirect(participant)
    steps = _steps(Stage.INVITED)
    return render(
        request,
        "participate/consent.html",
        {
            "study": study,
            "steps": steps,
            "step_count": len(STEPS),
            "form_action": reverse("participate:open_link", args=[study.slug]),
        },
    )

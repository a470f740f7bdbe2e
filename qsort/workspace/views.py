"""The facilitator workspace: the study list and each study's overview, settings, questions and team.

Every view is behind a login and gets its study from `study_for`, so strangers see 404 and roles
without the capability 403. Deck, grid and participant pages live in views_deck and views_people.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import IntegrityError, transaction
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from qsort.http import HtmxRequest
from qsort.studies.access import Can, access_for, study_for
from qsort.studies.models import Collaborator, Participant, PostSortQuestion, Study, StudyNotReady
from qsort.workspace.forms import CollaboratorForm, QuestionForm, StudyCreateForm, StudySettingsForm
from qsort.workspace.services import duplicate_study, move, renumber_positions, studies_for_list


def home(request: HttpRequest) -> HttpResponse:
    """Signed-in people go to their studies; everyone else sees what qsort is."""
    if request.user.is_authenticated:
        return redirect("workspace:studies")
    return render(request, "workspace/home.html")


# --- the list --------------------------------------------------------------------------------


@login_required
@require_GET
def study_list(request: HttpRequest) -> HttpResponse:
    archived = request.GET.get("archived") == "1"
    studies = list(studies_for_list(request.user, archived=archived))
    mine = [s for s in studies if s.owner_id == request.user.pk]
    shared = [s for s in studies if s.owner_id != request.user.pk]
    return render(request, "workspace/study_list.html", {"mine": mine, "shared": shared, "archived": archived})


@login_required
@require_http_methods(["GET", "POST"])
def study_new(request: HttpRequest) -> HttpResponse:
    form = StudyCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        study = form.save(commit=False)
        study.owner = request.user
        study.slug = Study.objects.unique_slug(study.title)
        study.save()
        messages.success(request, _("Study created. Now add its statements."))
        return redirect("workspace:deck", slug=study.slug)
    return render(request, "workspace/study_new.html", {"form": form})


# --- one study -------------------------------------------------------------------------------


@login_required
@require_GET
def overview(request: HttpRequest, slug: str) -> HttpResponse:
    access = access_for(request.user, slug, Can.VIEW)
    study = access.study
    by_stage = dict(study.participants.order_by().values_list("stage").annotate(n=Count("id")))
    stages = [(label, by_stage.get(value, 0)) for value, label in Participant.Stage.choices]
    grid = study.grid()
    context = {
        "access": access,
        "study": study,
        "tab": "overview",
        "stages": stages,
        "counts": study.participant_counts(),
        "condition_progress": study.condition_progress(),
        "n_statements": study.statements.count(),
        "grid": grid,
        "grid_low": min(grid, default=0),
        "grid_high": max(grid, default=0),
        "grid_places": sum(grid.values()),
        "problems": study.readiness_problems() if study.status == Study.Status.DRAFT else [],
        "n_questions": study.questions.count(),
    }
    return render(request, "workspace/overview.html", context)


@login_required
@require_POST
def study_open(request: HttpRequest, slug: str) -> HttpResponse:
    study = study_for(request.user, slug, Can.EDIT)
    try:
        study.set_status(Study.Status.OPEN)
    except StudyNotReady as refusal:
        messages.error(request, _("The study cannot open yet: %(why)s") % {"why": refusal})
    else:
        messages.success(request, _("The study is open: participants can now sort."))
    return redirect(study)


@login_required
@require_POST
def study_close(request: HttpRequest, slug: str) -> HttpResponse:
    study = study_for(request.user, slug, Can.EDIT)
    study.set_status(Study.Status.CLOSED)
    messages.success(request, _("The study is closed: links no longer accept sorts."))
    return redirect(study)


@login_required
@require_POST
def study_duplicate(request: HttpRequest, slug: str) -> HttpResponse:
    study = study_for(request.user, slug, Can.EDIT)
    copy = duplicate_study(study, request.user)
    messages.success(
        request,
        _("This is a copy of “%(title)s”: a draft with the same texts, deck and grid.") % {"title": study.title},
    )
    return redirect("workspace:settings", slug=copy.slug)


@login_required
@require_POST
def study_archive(request: HttpRequest, slug: str) -> HttpResponse:
    study = study_for(request.user, slug, Can.MANAGE)
    study.archived = request.POST.get("archived", "1") == "1"
    study.save(update_fields=["archived", "updated_at"])
    if study.archived:
        messages.success(
            request,
            _("“%(title)s” is archived: it accepts no sorts and is listed under Archived.") % {"title": study.title},
        )
    else:
        messages.success(request, _("“%(title)s” is back in your studies.") % {"title": study.title})
    return redirect("workspace:studies")


@login_required
@require_http_methods(["GET", "POST"])
def study_delete(request: HttpRequest, slug: str) -> HttpResponse:
    """Deleting removes every sort: the owner confirms by typing the study's address."""
    access = access_for(request.user, slug, Can.MANAGE)
    study = access.study
    error = ""
    if request.method == "POST":
        if request.POST.get("confirm_slug", "").strip() != study.slug:
            error = _("Type the study's address exactly to confirm.")
        else:
            title = study.title
            study.delete()
            messages.success(request, _("“%(title)s” and all its data are deleted.") % {"title": title})
            return redirect("workspace:studies")
    return render(
        request, "workspace/study_delete.html", {"access": access, "study": study, "tab": "overview", "error": error}
    )


# --- settings and post-sort questions ----------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def study_settings(request: HttpRequest, slug: str) -> HttpResponse:
    access = access_for(request.user, slug, Can.EDIT)
    study = access.study
    form = StudySettingsForm(request.POST or None, instance=study)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, _("Settings saved."))
        return redirect("workspace:settings", slug=study.slug)
    return render(request, "workspace/settings.html", _questions_context(study, form=form, access=access))


def _questions_context(study: Study, **extra) -> dict:
    return {
        "study": study,
        "tab": "settings",
        "questions": list(study.questions.annotate(n_answers=Count("answers"))),
        "question_form": QuestionForm(prefix="new"),
        **extra,
    }


def _questions(request: HtmxRequest, study: Study, **extra) -> HttpResponse:
    """The questions block for htmx, or the settings page after a plain form post."""
    if request.htmx:
        return render(request, "workspace/settings.html#questions", _questions_context(study, **extra))
    if extra.get("error"):
        messages.error(request, extra["error"])
    return redirect(reverse("workspace:settings", args=[study.slug]) + "#questions")


@login_required
@require_POST
def question_add(request: HtmxRequest, slug: str) -> HttpResponse:
    study = study_for(request.user, slug, Can.EDIT)
    form = QuestionForm(request.POST, prefix="new")
    if not form.is_valid():
        return _questions(request, study, question_form=form, error=_("A question needs some text."))
    question = form.save(commit=False)
    question.study = study
    question.position = study.questions.count() + 1
    question.save()
    return _questions(request, study)


@login_required
@require_http_methods(["GET", "POST"])
def question_edit(request: HtmxRequest, slug: str, pk: int) -> HttpResponse:
    access = access_for(request.user, slug, Can.EDIT)
    study = access.study
    question = get_object_or_404(PostSortQuestion, study=study, pk=pk)
    form = QuestionForm(request.POST or None, instance=question, prefix=f"q{pk}")
    if request.method == "POST" and form.is_valid():
        form.save()
        return _questions(request, study)
    context = {"access": access, "study": study, "tab": "settings", "question": question, "form": form}
    if not request.htmx:
        return render(request, "workspace/question_edit.html", context)
    response = render(request, "workspace/settings.html#question_edit", context)
    if request.method == "POST":
        response["HX-Retarget"] = f"#question-{question.pk}"  # the form posts to #questions; errors stay in the row
    return response


@login_required
@require_POST
def question_move(request: HtmxRequest, slug: str, pk: int) -> HttpResponse:
    study = study_for(request.user, slug, Can.EDIT)
    step = -1 if request.POST.get("direction") == "up" else 1
    renumber_positions(move(list(study.questions.all()), pk, step), PostSortQuestion)
    return _questions(request, study)


@login_required
@require_POST
def question_delete(request: HtmxRequest, slug: str, pk: int) -> HttpResponse:
    study = study_for(request.user, slug, Can.EDIT)
    question = get_object_or_404(PostSortQuestion, study=study, pk=pk)
    if question.answers.exists():
        # Deleting the question would silently delete what participants answered.
        return _questions(
            request, study, error=_("This question has answers from participants, so it cannot be removed.")
        )
    question.delete()
    return _questions(request, study)


# --- team --------------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def team(request: HttpRequest, slug: str) -> HttpResponse:
    access = access_for(request.user, slug, Can.MANAGE)
    study = access.study
    form = CollaboratorForm(request.POST or None, study=study)
    if request.method == "POST" and form.is_valid():
        user = form.cleaned_data["username"]
        try:
            with transaction.atomic():
                Collaborator.objects.create(study=study, user=user, role=form.cleaned_data["role"])
        except IntegrityError:
            messages.error(request, _("%(name)s is on the team already.") % {"name": user.username})
        else:
            messages.success(request, _("%(name)s joined the team.") % {"name": user.username})
        return redirect("workspace:team", slug=study.slug)
    members = study.collaborators.select_related("user").order_by("role", "user__username")
    context = {"access": access, "study": study, "tab": "team", "form": form, "members": members}
    return render(request, "workspace/team.html", context)


@login_required
@require_POST
def team_change(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    study = study_for(request.user, slug, Can.MANAGE)
    member = get_object_or_404(Collaborator.objects.select_related("user"), study=study, pk=pk)
    role = request.POST.get("role")
    if role == "remove":
        member.delete()
        messages.success(request, _("%(name)s left the team.") % {"name": member.user.username})
    elif role in {Collaborator.Role.FACILITATOR, Collaborator.Role.RESEARCHER}:
        member.role = role
        member.save(update_fields=["role"])
        messages.success(
            request,
            _("%(name)s is now a %(role)s.")
            % {"name": member.user.username, "role": member.get_role_display().lower()},
        )
    else:
        messages.error(request, _("Choose a role."))
    return redirect("workspace:team", slug=study.slug)

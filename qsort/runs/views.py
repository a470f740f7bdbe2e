"""The results pages: start a run, watch it, read its dashboard, and derive new runs from it."""

from __future__ import annotations

from collections import defaultdict

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from qsort.analysis.rotation import rotate_pair
from qsort.runs import charts
from qsort.runs.dashboard import Comment, Dashboard
from qsort.runs.models import AnalysisRun
from qsort.runs.services import (
    MAX_FACTORS,
    RunRefused,
    derive_run,
    flag_overrides_for,
    retry,
    scree_eigenvalues,
    start_run,
)
from qsort.security.parsing import whole_number
from qsort.studies.access import Can, access_for, study_for
from qsort.studies.models import SortComment, Study

HISTORY_LENGTH = 50


class RunForm(forms.Form):
    factors = forms.IntegerField(label=gettext_lazy("Number of factors"), min_value=1, max_value=MAX_FACTORS, initial=3)
    extraction = forms.ChoiceField(
        label=gettext_lazy("Extraction"),
        choices=[("pca", gettext_lazy("Principal components (PCA)")), ("centroid", gettext_lazy("Centroid (Brown)"))],
    )
    rotation = forms.ChoiceField(
        label=gettext_lazy("Rotation"),
        choices=[("varimax", gettext_lazy("Varimax")), ("none", gettext_lazy("None"))],
    )
    exclude_open_link = forms.BooleanField(
        label=gettext_lazy("Leave out the sorts made through the open link"), required=False
    )
    excluded_sorts = forms.CharField(
        label=gettext_lazy("Leave out these sorts (their codes, separated by commas)"), required=False, max_length=4000
    )

    def clean_excluded_sorts(self) -> list[str]:
        return [label.strip() for label in self.cleaned_data["excluded_sorts"].split(",") if label.strip()]


class RotationForm(forms.Form):
    first = forms.IntegerField(label=gettext_lazy("Factor"), min_value=1, max_value=MAX_FACTORS)
    second = forms.IntegerField(label=gettext_lazy("and factor"), min_value=1, max_value=MAX_FACTORS)
    angle = forms.FloatField(label=gettext_lazy("Angle (degrees)"), min_value=-180, max_value=180)

    def __init__(self, *args, factors: int, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.factors = factors

    def clean(self) -> dict:
        data = super().clean()
        first, second = data.get("first"), data.get("second")
        if first and second and (first == second or max(first, second) > self.factors):
            raise forms.ValidationError(
                _("Choose two different factors of this analysis (1 to %(k)d).") % {"k": self.factors}
            )
        return data


def _run_of(study: Study, run_id: int) -> AnalysisRun:
    return get_object_or_404(AnalysisRun.objects.select_related("created_by"), pk=run_id, study=study)


@login_required
def results(request: HttpRequest, slug: str) -> HttpResponse:
    """Start a run (with the scree of the current sorts to choose K), and the run history."""
    access = access_for(request.user, slug, Can.ANALYSE if request.method == "POST" else Can.VIEW)
    study = access.study
    form = RunForm(request.POST or None)
    if form.is_valid():
        try:
            run = start_run(study, request.user, form.cleaned_data)
        except RunRefused as refusal:
            form.add_error(None, str(refusal))
        else:
            return redirect("runs:run", slug=study.slug, run_id=run.pk)
    runs = list(study.analysis_runs.defer("result").select_related("created_by")[:HISTORY_LENGTH])
    eigenvalues = scree_eigenvalues(study)
    return render(
        request,
        "runs/results.html",
        {
            "access": access,
            "study": study,
            "tab": "results",
            "form": form,
            "runs": runs,
            "latest": runs[0] if runs else None,
            "eigenvalues": eigenvalues[: MAX_FACTORS + 2],
            "scree": charts.scree(eigenvalues) if eigenvalues else "",
            "can_analyse": access.can_analyse,
        },
    )


def _comments(study: Study) -> dict[str, list[Comment]]:
    """Post-sort comments by statement, labelled by participant code (one query)."""
    comments: dict[str, list[Comment]] = defaultdict(list)
    rows = SortComment.objects.filter(sort__study=study).select_related("sort__participant", "statement")
    for comment in rows.order_by("statement__number", "sort__submitted_at"):
        comments[str(comment.statement.number)].append(Comment(comment.sort.participant.label, comment.text))
    return comments


def _axis(request: HttpRequest, name: str, default: int, k: int) -> int:
    value = whole_number(request.GET.get(name, default), low=1, high=k)
    return default if value is None else value


@login_required
def run(request: HttpRequest, slug: str, run_id: int) -> HttpResponse:
    """One run: its progress while it works, then its dashboard. htmx polls the `run-body`
    partial; the loadings plot and the rotation preview are partials of the same page."""
    access = access_for(request.user, slug, Can.VIEW)
    study = access.study
    run = get_object_or_404(AnalysisRun.objects.for_dashboard().select_related("created_by"), pk=run_id, study=study)
    context = {
        "access": access,
        "study": study,
        "tab": "results",
        "run": run,
        "can_analyse": access.can_analyse,
        "can_download": access.can_download,
    }
    if run.status == AnalysisRun.Status.DONE:
        dashboard = Dashboard(run.dashboard_result, _comments(study))
        k = dashboard.k
        x, y = _axis(request, "x", 1, k), _axis(request, "y", 2 if k > 1 else 1, k)
        rotation = RotationForm(request.GET if "angle" in request.GET else None, factors=k)
        context |= {
            "dashboard": dashboard,
            "x": x,
            "y": y,
            "factor_numbers": range(1, k + 1),
            "scree": charts.scree(dashboard.result["eigenvalues"], chosen=k),
            "loadings_plot": _loadings_plot(dashboard, x, y),
            "rotation": rotation,
            "preview": _rotation_preview(dashboard, rotation) if rotation.is_bound and rotation.is_valid() else "",
        }
    if request.htmx:
        partial = {"loadings-plot": "loadings-plot", "rotation-preview": "rotation-preview"}.get(
            request.htmx.target, "run-body"
        )
        return render(request, f"runs/run.html#{partial}", context)
    return render(request, "runs/run.html", context)


def _loadings_plot(dashboard: Dashboard, x: int, y: int, loadings: list[list[float]] | None = None):
    loadings = loadings or dashboard.result["loadings"]
    flags = dashboard.result["flags"]
    return charts.loadings(
        dashboard.result["sorts"],
        [row[x - 1] for row in loadings],
        [row[y - 1] for row in loadings],
        x_factor=x,
        y_factor=y,
        flagged_x=[row[x - 1] for row in flags],
        flagged_y=[row[y - 1] for row in flags],
        threshold=dashboard.threshold,
    )


def _rotation_preview(dashboard: Dashboard, rotation: RotationForm):
    first, second = rotation.cleaned_data["first"], rotation.cleaned_data["second"]
    rotated = rotate_pair(dashboard.result["loadings"], first - 1, second - 1, rotation.cleaned_data["angle"])
    return _loadings_plot(dashboard, first, second, rotated.tolist())


@login_required
@require_POST
def auto_reanalyse(request: HttpRequest, slug: str) -> HttpResponse:
    """Switch automatic re-analysis (the latest parameters re-run when a sort is completed)."""
    study = study_for(request.user, slug, Can.ANALYSE)
    study.auto_reanalyse = request.POST.get("auto_reanalyse") == "on"
    study.save(update_fields=["auto_reanalyse", "updated_at"])
    if study.auto_reanalyse:
        messages.success(request, _("The latest analysis will re-run automatically when a new sort is completed."))
    else:
        messages.success(request, _("Automatic re-analysis is off."))
    return redirect("runs:results", slug=study.slug)


@login_required
@require_POST
def retry_run(request: HttpRequest, slug: str, run_id: int) -> HttpResponse:
    study = study_for(request.user, slug, Can.ANALYSE)
    run = _run_of(study, run_id)
    if run.can_retry:
        retry(run)
        messages.success(request, _("The run is queued again."))
    else:
        messages.error(request, _("Only a failed run, or one that stopped making progress, can be retried."))
    return redirect("runs:run", slug=study.slug, run_id=run.pk)


def _done_run(request: HttpRequest, slug: str, run_id: int) -> AnalysisRun:
    study = study_for(request.user, slug, Can.ANALYSE)
    return get_object_or_404(AnalysisRun, pk=run_id, study=study, status=AnalysisRun.Status.DONE)


def _derived(request: HttpRequest, run: AnalysisRun, **changes) -> HttpResponse:
    try:
        new = derive_run(run, request.user, **changes)
    except RunRefused as refusal:
        messages.error(request, str(refusal))
        return redirect("runs:run", slug=run.study.slug, run_id=run.pk)
    return redirect("runs:run", slug=run.study.slug, run_id=new.pk)


@login_required
@require_POST
def rerun_with_flags(request: HttpRequest, slug: str, run_id: int) -> HttpResponse:
    """A new run with the flags as ticked in the loadings table (the old run is kept)."""
    run = _done_run(request, slug, run_id)
    wanted = set()
    for value in request.POST.getlist("flag"):
        sort, _sep, factor = value.partition(":")
        sort_index, factor_number = whole_number(sort, low=0), whole_number(factor, low=1)
        if sort_index is not None and factor_number is not None:
            wanted.add((sort_index, factor_number))
    return _derived(request, run, flag_overrides=flag_overrides_for(run, wanted))


@login_required
@require_POST
def rotate(request: HttpRequest, slug: str, run_id: int) -> HttpResponse:
    """A new run with a hand rotation of two factors applied after the rotation chosen."""
    run = _done_run(request, slug, run_id)
    form = RotationForm(request.POST, factors=run.parameters["factors"])
    if not form.is_valid():
        messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
        return redirect("runs:run", slug=run.study.slug, run_id=run.pk)
    step = [form.cleaned_data["first"], form.cleaned_data["second"], form.cleaned_data["angle"]]
    return _derived(request, run, pair_rotations=[*run.parameters.get("pair_rotations", []), step])


@login_required
@require_POST
def reflect(request: HttpRequest, slug: str, run_id: int) -> HttpResponse:
    """A new run with a factor's signs turned over (again, if it was already reflected)."""
    run = _done_run(request, slug, run_id)
    factor = whole_number(request.POST.get("factor", "")) or 0
    reflections = set(run.parameters.get("reflections", [])) ^ {factor}
    return _derived(request, run, reflections=sorted(reflections))

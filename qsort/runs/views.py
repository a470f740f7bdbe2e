"""The results pages: start a run, watch it, read its dashboard, and derive new runs from it."""

from __future__ import annotations

from collections import defaultdict
from functools import wraps

import numpy as np
from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count, F, Window
from django.db.models.functions import RowNumber
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from qsort.analysis.rotation import rotate_pair
from qsort.runs import charts
from qsort.runs.dashboard import PAGE_FIELDS, SORT_STATUSES, Comment, Dashboard, sort_rows
from qsort.runs.glossary import GLOSSARY
from qsort.runs.models import AnalysisRun, cut_items
from qsort.runs.services import (
    RunRefused,
    derive_run,
    flag_overrides_for,
    retry,
    scree_eigenvalues,
    start_run,
)
from qsort.runs.stability import evidence_for_results_page
from qsort.security.parsing import whole_number
from qsort.studies.access import Access, Can, access_for, study_for
from qsort.studies.models import SortComment, Study

HISTORY_LENGTH = 50
#: The loadings table shows this many sorts per page (a 20,000-sort run stays a light page).
SORTS_PER_PAGE = 100
#: Comments shown beside a statement; a count says how many more there are.
COMMENTS_SHOWN = 5


class RunForm(forms.Form):
    factors = forms.IntegerField(
        label=gettext_lazy("Number of factors"), min_value=1, max_value=AnalysisRun.MAX_FACTORS, initial=3
    )
    extraction = forms.ChoiceField(label=gettext_lazy("Extraction"), choices=AnalysisRun.Extraction.choices)
    rotation = forms.ChoiceField(label=gettext_lazy("Rotation"), choices=AnalysisRun.Rotation.choices)
    exclude_open_link = forms.BooleanField(
        label=gettext_lazy("Leave out the sorts made through the open link"), required=False
    )
    excluded_sorts = forms.CharField(
        label=gettext_lazy("Leave out these sorts (their codes, separated by commas)"), required=False, max_length=4000
    )

    def clean_excluded_sorts(self) -> list[str]:
        return [label.strip() for label in self.cleaned_data["excluded_sorts"].split(",") if label.strip()]


class RotationForm(forms.Form):
    first = forms.IntegerField(label=gettext_lazy("Factor"), min_value=1, max_value=AnalysisRun.MAX_FACTORS)
    second = forms.IntegerField(label=gettext_lazy("and factor"), min_value=1, max_value=AnalysisRun.MAX_FACTORS)
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
    evidence = evidence_for_results_page(study)
    form = RunForm(request.POST or None, initial={"factors": evidence["suggested"]} if evidence else None)
    if form.is_valid():
        try:
            run = start_run(study, request.user, form.cleaned_data)
        except RunRefused as refusal:
            form.add_error(None, str(refusal))
        else:
            return redirect("runs:run", slug=study.slug, run_id=run.pk)
    runs = list(study.analysis_runs.defer("result").select_related("created_by")[:HISTORY_LENGTH])
    # The evidence panel holds the same eigenvalues (one engine function): no second load.
    eigenvalues = evidence["eigenvalues"] if evidence else scree_eigenvalues(study)
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
            "eigenvalues": eigenvalues[: AnalysisRun.MAX_FACTORS + 2],
            "scree": charts.scree(eigenvalues) if eigenvalues else "",
            "can_analyse": access.can_analyse,
            "evidence": evidence,
        },
    )


def _comments(study: Study) -> dict[str, list[Comment]]:
    """Post-sort comments by statement, labelled by participant code, at most COMMENTS_SHOWN per
    statement (two queries whatever the number of sorts)."""
    comments: dict[str, list[Comment]] = defaultdict(list)
    first = (
        SortComment.objects.filter(sort__study=study)
        .annotate(rank=Window(RowNumber(), partition_by=F("statement_id"), order_by=[F("sort__submitted_at"), F("id")]))
        .filter(rank__lte=COMMENTS_SHOWN)
        .select_related("sort__participant", "statement")
        .order_by("statement__number", "rank")
    )
    for comment in first:
        comments[str(comment.statement.number)].append(Comment(comment.sort.participant.label, comment.text))
    return comments


def _comment_counts(study: Study) -> dict[str, int]:
    rows = SortComment.objects.filter(sort__study=study).values("statement__number").annotate(n=Count("id"))
    return {str(row["statement__number"]): row["n"] for row in rows}


def _axis(request: HttpRequest, name: str, default: int, k: int) -> int:
    value = whole_number(request.GET.get(name, default), low=1, high=k)
    return default if value is None else value


def _done_page(request: HttpRequest, slug: str, run_id: int, page: str) -> tuple[Access, AnalysisRun, Dashboard]:
    """A finished run with the result fields `page` shows; a run still working has only its
    overview (which shows the progress), so its other pages send people there."""
    access = access_for(request.user, slug, Can.VIEW)
    runs = AnalysisRun.objects.with_result_fields(*PAGE_FIELDS[page]).select_related("created_by")
    run = get_object_or_404(runs, pk=run_id, study=access.study)
    if run.status != AnalysisRun.Status.DONE:
        raise RunNotDone(access.study, run)
    return access, run, Dashboard({name: getattr(run, f"result_{name}") for name in PAGE_FIELDS[page]})


class RunNotDone(Exception):
    def __init__(self, study: Study, run: AnalysisRun) -> None:
        self.response = redirect("runs:run", slug=study.slug, run_id=run.pk)


def run_page(page: str):
    """A sub-page of a finished run: the tabs, the header and `page`'s template."""

    def decorator(view):
        @login_required
        @wraps(view)
        def wrapper(request: HttpRequest, slug: str, run_id: int, **kwargs) -> HttpResponse:
            try:
                access, run, dashboard = _done_page(request, slug, run_id, page)
            except RunNotDone as not_done:
                return not_done.response
            context = {
                "access": access,
                "study": access.study,
                "tab": "results",
                "run": run,
                "dashboard": dashboard,
                "can_analyse": access.can_analyse,
                "can_download": access.can_download,
            }
            return view(request, context, **kwargs)

        return wrapper

    return decorator


@login_required
def run(request: HttpRequest, slug: str, run_id: int) -> HttpResponse:
    """One run: its progress while it works, then its overview. htmx polls the `run-body` partial."""
    access = access_for(request.user, slug, Can.VIEW)
    study = access.study
    runs = AnalysisRun.objects.select_related("created_by")
    run = get_object_or_404(runs.defer("result"), pk=run_id, study=study)
    context = {
        "access": access,
        "study": study,
        "tab": "results",
        "run": run,
        "section": "overview",
        "can_analyse": access.can_analyse,
        "can_download": access.can_download,
    }
    if run.status == AnalysisRun.Status.DONE:
        fields = PAGE_FIELDS["overview"]
        result = runs.with_result_fields(*fields).values_list(*(f"result_{name}" for name in fields)).get(pk=run.pk)
        dashboard = Dashboard(dict(zip(fields, result, strict=True)))
        context |= {"dashboard": dashboard, "scree": charts.scree(dashboard.result["eigenvalues"], chosen=dashboard.k)}
    if request.htmx:
        return render(request, "runs/run.html#run-body", context)
    return render(request, "runs/run.html", context)


@run_page("factor")
def factor(request: HttpRequest, context: dict, number: int) -> HttpResponse:
    """One factor: its composite sort, distinguishing statements and crib sheet."""
    dashboard = context["dashboard"]
    if not 1 <= number <= dashboard.k:
        raise Http404
    dashboard.comments, dashboard.comment_counts = _comments(context["study"]), _comment_counts(context["study"])
    context |= {"section": "factor", "detail": dashboard.factor(number)}
    return render(request, "runs/factor.html", context)


@run_page("consensus")
def consensus(request: HttpRequest, context: dict) -> HttpResponse:
    """Consensus statements at the .01 level, those also at .05 marked (PQMethod's layout)."""
    dashboard = context["dashboard"]
    dashboard.comments, dashboard.comment_counts = _comments(context["study"]), _comment_counts(context["study"])
    context["section"] = "consensus"
    return render(request, "runs/consensus.html", context)


@run_page("loadings")
def loadings(request: HttpRequest, context: dict) -> HttpResponse:
    """Loadings and flags: the plot (a partial), the hand rotation preview (a partial) and the
    table, one page of sorts at a time, filtered by status. Each htmx partial loads only what it
    draws."""
    dashboard, run = context["dashboard"], context["run"]
    k = dashboard.k
    x, y = _axis(request, "x", 1, k), _axis(request, "y", 2 if k > 1 else 1, k)
    context |= {"section": "loadings", "x": x, "y": y, "factor_numbers": range(1, k + 1)}
    target = request.htmx.target if request.htmx else None
    if target == "loadings-plot":
        context["loadings_plot"] = _loadings_plot(run, dashboard, x, y)
        return render(request, "runs/loadings.html#loadings-plot", context)
    rotation = RotationForm(request.GET if "angle" in request.GET else None, factors=k)
    context["rotation"] = rotation
    if rotation.is_bound and rotation.is_valid():
        context["preview"] = _rotation_preview(run, dashboard, rotation)
    if target == "rotation-preview":
        return render(request, "runs/loadings.html#rotation-preview", context)
    statuses = dashboard.result["sort_status"]
    wanted = request.GET.get("status", "")
    if wanted not in SORT_STATUSES:
        wanted = ""
    indices = [i for i, status in enumerate(statuses) if not wanted or status == wanted]
    page = Paginator(indices, SORTS_PER_PAGE).get_page(request.GET.get("page"))
    shown = list(page.object_list)
    context |= {
        "status": wanted,
        "page": page,
        "sorts": _sort_rows(run, shown, [statuses[i] for i in shown]),
        "shown": ",".join(str(i) for i in shown),
    }
    if target == "loadings":
        return render(request, "runs/loadings.html#loadings-table", context)
    context["loadings_plot"] = _loadings_plot(run, dashboard, x, y)
    return render(request, "runs/loadings.html", context)


@run_page("header")
def stability(request: HttpRequest, context: dict) -> HttpResponse:
    """Each factor's stability under bootstrap resampling (the bootstrap engine's summaries)."""
    context["section"] = "stability"
    return render(request, "runs/stability.html", context)


@run_page("header")
def report(request: HttpRequest, context: dict) -> HttpResponse:
    """The run's files, its parameters in words, and the glossary of the results pages."""
    context |= {"section": "report", "glossary": GLOSSARY.values()}
    return render(request, "runs/report.html", context)


def _items(run: AnalysisRun, *selections: tuple[str, dict]) -> list[list]:
    """Rows or columns of result arrays, in one query: each selection is (field, rows= or column=)."""
    query = AnalysisRun.objects.filter(pk=run.pk)
    for n, (name, selection) in enumerate(selections):
        query = query.with_result_items(name, alias=str(n), **selection)
    values = query.values_list(*(f"items_{n}" for n in range(len(selections)))).get()
    return [cut_items(value, **selection) for value, (_name, selection) in zip(values, selections, strict=True)]


def _sort_rows(run: AnalysisRun, indices: list[int], statuses: list[str]) -> list:
    if not indices:
        return []
    rows = {"rows": indices}
    labels, loadings, flags, significant = _items(
        run, ("sorts", rows), ("loadings", rows), ("flags", rows), ("significant", rows)
    )
    return sort_rows(indices, labels, loadings, flags, significant, statuses)


def _loadings_plot(run: AnalysisRun, dashboard: Dashboard, x: int, y: int, *, turn: float | None = None):
    """The loadings of every sort on factors x and y (turned by `turn` degrees for a preview)."""
    xs, ys, flagged_x, flagged_y, labels = _items(
        run,
        ("loadings", {"column": x - 1}),
        ("loadings", {"column": y - 1}),
        ("flags", {"column": x - 1}),
        ("flags", {"column": y - 1}),
        ("sorts", {"rows": range(charts.LABELLED_POINTS + 1)}),  # labels only for a plot that small
    )
    if turn is not None:
        turned = rotate_pair(np.column_stack([xs, ys]), 0, 1, turn)
        xs, ys = turned[:, 0].tolist(), turned[:, 1].tolist()
    return charts.loadings(
        labels if len(xs) <= charts.LABELLED_POINTS else None,
        xs,
        ys,
        x_factor=x,
        y_factor=y,
        flagged_x=flagged_x,
        flagged_y=flagged_y,
        threshold=dashboard.threshold,
    )


def _rotation_preview(run: AnalysisRun, dashboard: Dashboard, rotation: RotationForm):
    data = rotation.cleaned_data
    return _loadings_plot(run, dashboard, data["first"], data["second"], turn=data["angle"])


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
    """A new run with the flags as ticked in the loadings table (the old run is kept).

    The table shows one page of sorts: `shown` lists them, and only their flags change."""
    run = _done_run(request, slug, run_id)
    wanted = set()
    for value in request.POST.getlist("flag"):
        sort, _sep, factor = value.partition(":")
        sort_index, factor_number = whole_number(sort, low=0), whole_number(factor, low=1)
        if sort_index is not None and factor_number is not None:
            wanted.add((sort_index, factor_number))
    shown = None
    if "shown" in request.POST:
        shown = {n for n in map(whole_number, request.POST["shown"].split(",")) if n is not None and n >= 0}
    return _derived(request, run, flag_overrides=flag_overrides_for(run, wanted, shown=shown))


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

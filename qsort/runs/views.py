"""The results pages: start a run, watch it, read its dashboard, and derive new runs from it."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from functools import wraps

import numpy as np
from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db import connection
from django.db.models import Count, F, Window
from django.db.models.fields.json import KeyTransform
from django.db.models.functions import RowNumber
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from qsort.analysis.rotation import rotate_pair
from qsort.http import HtmxRequest
from qsort.runs import charts
from qsort.runs.dashboard import PAGE_FIELDS, SORT_STATUSES, Comment, Dashboard, flag_frequencies, sort_rows
from qsort.runs.dashboard import stability as stability_of
from qsort.runs.glossary import GLOSSARY
from qsort.runs.models import AnalysisRun, Bootstrap, FactorEvidence, Part, result_parts
from qsort.runs.report import run_methods
from qsort.runs.services import (
    RunRefused,
    derive_run,
    flag_overrides_for,
    retry,
    scree_eigenvalues,
    start_run,
)
from qsort.runs.stability import (
    DEFAULT_STEPS,
    MAX_STEPS,
    cancel_job,
    evidence_job,
    finished_bootstraps,
    latest_bootstrap,
    run_evidence_job,
    start_bootstrap,
)
from qsort.security.parsing import whole_number
from qsort.studies.access import Access, Can, access_for, study_for
from qsort.studies.models import Participant, Sort, SortComment, Statement, Study, participant_label

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

    def __init__(self, *args, conditions: list[str], sessions: Sequence[tuple[int, str]] = (), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if sessions:  # focus-group sessions: a run may take only some of them (all by default)
            self.fields["sessions"] = forms.TypedMultipleChoiceField(
                label=gettext_lazy("Only these sessions"),
                choices=sessions,
                coerce=int,
                required=False,
                widget=forms.CheckboxSelectMultiple,
                help_text=gettext_lazy("Leave all unticked to take every sort, in a session or not."),
            )
        if len(conditions) > 1:  # which conditions' sorts enter the run (all by default)
            self.fields["conditions"] = forms.MultipleChoiceField(
                label=gettext_lazy("Conditions"),
                choices=[(label, label) for label in conditions],
                initial=conditions,
                widget=forms.CheckboxSelectMultiple,
                help_text=gettext_lazy("With more than one, each sort is named by its condition (P0007·Relapse)."),
            )


class RotationForm(forms.Form):
    first = forms.IntegerField(label=gettext_lazy("Factor"), min_value=1, max_value=AnalysisRun.MAX_FACTORS)
    second = forms.IntegerField(label=gettext_lazy("and factor"), min_value=1, max_value=AnalysisRun.MAX_FACTORS)
    angle = forms.FloatField(label=gettext_lazy("Angle (degrees)"), min_value=-180, max_value=180)

    def __init__(self, *args, factors: int, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.factors = factors

    def clean(self) -> dict:
        super().clean()
        data = self.cleaned_data
        first, second = data.get("first"), data.get("second")
        if first and second and (first == second or max(first, second) > self.factors):
            raise forms.ValidationError(
                _("Choose two different factors of this analysis (1 to %(k)d).") % {"k": self.factors}
            )
        return data


def _run_of(study: Study, run_id: int) -> AnalysisRun:
    return get_object_or_404(AnalysisRun.objects.select_related("created_by"), pk=run_id, study=study)


@login_required
def results(request: HtmxRequest, slug: str) -> HttpResponse:
    """Start a run (with the scree of the current sorts to choose K), and the run history."""
    access = access_for(request.user, slug, Can.ANALYSE if request.method == "POST" else Can.VIEW)
    study = access.study
    conditions = list(study.conditions.values_list("label", flat=True))
    sessions = list(study.sessions.order_by("created_at", "id").values_list("pk", "name"))
    form = RunForm(request.POST, conditions=conditions, sessions=sessions) if request.method == "POST" else None
    if form is not None and form.is_valid():
        try:
            run = start_run(study, request.user, form.cleaned_data)
        except RunRefused as refusal:
            form.add_error(None, str(refusal))
        else:
            return redirect("runs:run", slug=study.slug, run_id=run.pk)
    # The number-of-factors evidence is a job (1,000 draws of parallel analysis): started by the
    # first view of new data, polled by its partial while it works, its panel shown when done.
    job = evidence_job(study, user=request.user)
    evidence = job.result if job is not None and job.status == job.Status.DONE else None
    # The run form preselects the suggested number of factors: on load, or (results.js) when
    # the polled panel arrives, with its hint swapped in out of band.
    preselect = min(evidence["suggested"], AnalysisRun.MAX_FACTORS) if evidence else None
    panel = {
        "study": study,
        "job": job,
        "evidence": evidence,
        "preselect": preselect,
        "can_analyse": access.can_analyse,
        "no_panel": _("The evidence appears once at least two sorts are completed."),
        "poll_url": reverse("runs:results", args=[study.slug]),
        "again_url": reverse("runs:evidence", args=[study.slug]),
    }
    if request.htmx and request.htmx.target == "evidence-status":
        return render(request, "runs/_evidence_status.html", panel | {"suggestion_oob": True})
    if form is None:
        form = RunForm(initial={"factors": preselect} if preselect else None, conditions=conditions, sessions=sessions)
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
        }
        | panel,
    )


@login_required
@require_POST
def evidence_again(request: HttpRequest, slug: str) -> HttpResponse:
    """Compute the study's evidence again after it was cancelled or failed."""
    study = study_for(request.user, slug, Can.ANALYSE)
    evidence_job(study, user=request.user, again=True)
    return redirect(reverse("runs:results", args=[study.slug]) + "#evidence")


@login_required
@require_POST
def evidence_cancel(request: HttpRequest, slug: str, job_id: int) -> HttpResponse:
    """Cancel the study's evidence job, or a run's (then back to the run's page)."""
    study = study_for(request.user, slug, Can.ANALYSE)
    job = get_object_or_404(FactorEvidence.objects.defer("result"), pk=job_id, study=study)
    cancel_job(job)
    back = (
        reverse("runs:run", args=[study.slug, job.run_id]) if job.run_id else reverse("runs:results", args=[study.slug])
    )
    return redirect(back + "#evidence")


@login_required
@require_POST
def run_evidence_again(request: HttpRequest, slug: str, run_id: int) -> HttpResponse:
    """Compute a run's evidence again after it was cancelled or failed."""
    run = _done_run(request, slug, run_id)
    run_evidence_job(run, user=request.user, again=True)
    return redirect(reverse("runs:run", args=[run.study.slug, run.pk]) + "#evidence")


def _comments(study: Study) -> tuple[dict[str, list[Comment]], dict[str, int]]:
    """Post-sort comments by statement (labelled by participant, never by token): the first
    COMMENTS_SHOWN of each statement in the order they were made (a sort's comments are saved
    when it is submitted), and how many each has in all.

    One query whatever the number of sorts: per statement, a LATERAL join takes its first
    comments and a count through the comment-statement index, instead of numbering (or
    joining to their sorts) all 40,000 comments of a 20,000-sort study. A comment's sort and
    statement are of one study (a database trigger says so), so a statement's comments are
    the study's.
    """
    comments: dict[str, list[Comment]] = defaultdict(list)
    counts: dict[str, int] = {}
    if connection.vendor != "postgresql":  # SQLite (`make run`): number them all, small studies
        rows = (
            SortComment.objects.filter(sort__study=study)
            .annotate(
                rank=Window(RowNumber(), partition_by=F("statement_id"), order_by="id"),
                total=Window(Count("id"), partition_by=F("statement_id")),
                statement_number=F("statement__number"),
                participant_code=F("sort__participant__code"),
                participant_id=F("sort__participant_id"),
            )
            .filter(rank__lte=COMMENTS_SHOWN)
            .order_by("statement__number", "rank")
        )
    else:
        # Its SQL names the same columns as annotate() above, which mypy cannot read.
        rows = SortComment.objects.raw(  # type: ignore[assignment]
            f"""
        SELECT c.id, c.text, s.number AS statement_number, p.id AS participant_id, p.code AS participant_code,
               n.total
        FROM {Statement._meta.db_table} s
        CROSS JOIN LATERAL (
            SELECT c.id, c.text, c.sort_id FROM {SortComment._meta.db_table} c
            WHERE c.statement_id = s.id ORDER BY c.id LIMIT %s
        ) c
        CROSS JOIN LATERAL (
            SELECT count(*) AS total FROM {SortComment._meta.db_table} a WHERE a.statement_id = s.id
        ) n
        JOIN {Sort._meta.db_table} o ON o.id = c.sort_id
        JOIN {Participant._meta.db_table} p ON p.id = o.participant_id
        WHERE s.study_id = %s
        ORDER BY s.number, c.id
        """,  # noqa: S608 - table names are ours; values are parameters
            [COMMENTS_SHOWN, study.pk],
        )
    for row in rows:
        label = participant_label(row.participant_code, row.participant_id)
        comments[str(row.statement_number)].append(Comment(label, row.text))
        counts[str(row.statement_number)] = row.total
    return comments, counts


def _own_comments(study: Study) -> dict[tuple[str, str, str], str]:
    """(participant, condition, statement) -> comment, for the within-person view (one query)."""
    rows = SortComment.objects.filter(sort__study=study).values_list(
        "sort__participant_id", "sort__participant__code", "sort__condition__label", "statement__number", "text"
    )
    return {(participant_label(code, pk), condition, str(number)): text for pk, code, condition, number, text in rows}


def _axis(request: HttpRequest, name: str, default: int, k: int) -> int:
    value = whole_number(request.GET.get(name, default), low=1, high=k)
    return default if value is None else value


def _finished_run(request: HttpRequest, slug: str, run_id: int) -> tuple[Access, AnalysisRun]:
    """A finished run, its result deferred; a run still working has only its overview (which
    shows the progress), so its other pages send people there."""
    access = access_for(request.user, slug, Can.VIEW)
    runs = AnalysisRun.objects.defer("result").select_related("created_by")
    run = get_object_or_404(runs, pk=run_id, study=access.study)
    if run.status != AnalysisRun.Status.DONE:
        raise RunNotDone(access.study, run)
    return access, run


class RunNotDone(Exception):
    def __init__(self, study: Study, run: AnalysisRun) -> None:
        self.response = redirect("runs:run", slug=study.slug, run_id=run.pk)


#: What a request of a page reads besides its PAGE_FIELDS: (request, number of factors) ->
#: which entry of PAGE_FIELDS to read after all, and further parts of the result by name.
PartsFor = Callable[[HtmxRequest, int], tuple[str, dict[str, Part]]]


def run_page(page: str, *, parts_for: PartsFor | None = None):
    """A sub-page of a finished run: the tabs, the header and `page`'s template, with the
    result fields PAGE_FIELDS names for it (the dashboard) and any parts `parts_for` asks for
    (context["parts"]), all read in one query."""

    def decorator(view):
        @login_required
        @wraps(view)
        def wrapper(request: HtmxRequest, slug: str, run_id: int, **kwargs) -> HttpResponse:
            try:
                access, run = _finished_run(request, slug, run_id)
            except RunNotDone as not_done:
                return not_done.response
            fields, extra = parts_for(request, run.parameters["factors"]) if parts_for else (page, {})
            if extra.keys() & set(PAGE_FIELDS[fields]):
                raise ValueError(f"part names {sorted(extra)} hide result fields")
            loaded = result_parts(run.pk, {name: Part(name) for name in PAGE_FIELDS[fields]} | extra)
            context = {
                "access": access,
                "study": access.study,
                "tab": "results",
                "run": run,
                "dashboard": Dashboard({name: loaded.pop(name) for name in PAGE_FIELDS[fields]}),
                "parts": loaded,
                "can_analyse": access.can_analyse,
                "can_download": access.can_download,
            }
            return view(request, context, **kwargs)

        return wrapper

    return decorator


@login_required
def run(request: HtmxRequest, slug: str, run_id: int) -> HttpResponse:
    """One run: its progress while it works, then its overview. htmx polls the `run-body` partial."""
    access = access_for(request.user, slug, Can.VIEW)
    study = access.study
    runs = AnalysisRun.objects.select_related("created_by")
    run = get_object_or_404(runs.defer("result"), pk=run_id, study=study)
    run.study = study  # checked by access_for: no second look-up for its slug
    context = {
        "access": access,
        "study": study,
        "tab": "results",
        "run": run,
        "section": "overview",
        "can_analyse": access.can_analyse,
        "can_download": access.can_download,
    }
    if run.status != AnalysisRun.Status.DONE:
        return render(request, "runs/run.html#run-body" if request.htmx else "runs/run.html", context)
    if request.htmx and request.htmx.target == "evidence-status":  # polled while the run's evidence job works
        return render(request, "runs/_evidence_status.html", context | _run_panel(run, None, request.user))
    dashboard = Dashboard(result_parts(run.pk, {name: Part(name) for name in PAGE_FIELDS["overview"]}))
    context |= {
        "dashboard": dashboard,
        "scree": charts.scree(dashboard.result["eigenvalues"], chosen=dashboard.k),
        **_run_panel(run, dashboard.result.get("evidence"), request.user),
    }
    return render(request, "runs/run.html#run-body" if request.htmx else "runs/run.html", context)


def _run_panel(run: AnalysisRun, stored: dict | None, user) -> dict:
    """The run's evidence panel: the one its task stored (`stored`; up to EVIDENCE_INLINE_MAX_SORTS
    sorts), else its evidence job's once done, or the job's progress (the first view of an older
    run starts it)."""
    try:
        job = None if stored else run_evidence_job(run, user=user)
    except RunRefused:  # a result with nothing to work from
        job = None
    return {
        "evidence": stored or (job.result if job and job.status == job.Status.DONE else None),
        "job": job,
        "run_factors": run.parameters.get("factors"),
        "no_panel": _("This run has no number-of-factors panel."),
        "poll_url": reverse("runs:run", args=[run.study.slug, run.pk]),
        "again_url": reverse("runs:run_evidence", args=[run.study.slug, run.pk]),
    }


@run_page("factor")
def factor(request: HttpRequest, context: dict, number: int) -> HttpResponse:
    """One factor: its composite sort, distinguishing statements and crib sheet."""
    dashboard = context["dashboard"]
    if not 1 <= number <= dashboard.k:
        raise Http404
    dashboard.comments, dashboard.comment_counts = _comments(context["study"])
    context |= {"section": "factor", "detail": dashboard.factor(number)}
    return render(request, "runs/factor.html", context)


@run_page("consensus")
def consensus(request: HttpRequest, context: dict) -> HttpResponse:
    """Consensus statements at the .01 level, those also at .05 marked (PQMethod's layout)."""
    dashboard = context["dashboard"]
    dashboard.comments, dashboard.comment_counts = _comments(context["study"])
    context["section"] = "consensus"
    return render(request, "runs/consensus.html", context)


def _loadings_choice(request: HttpRequest, k: int) -> tuple[int, int, RotationForm, dict | None]:
    """The factors the loadings plot shows, and the hand rotation asked for (if it is valid)."""
    x, y = _axis(request, "x", 1, k), _axis(request, "y", 2 if k > 1 else 1, k)
    rotation = RotationForm(request.GET if "angle" in request.GET else None, factors=k)
    turn = rotation.cleaned_data if rotation.is_bound and rotation.is_valid() else None
    return x, y, rotation, turn


def _loadings_parts(request: HtmxRequest, k: int) -> tuple[str, dict[str, Part]]:
    """The plot and the rotation preview partials read two columns and the threshold (one
    query); the page and the table read the statuses first, to know which sorts to show."""
    target = request.htmx.target if request.htmx else None
    x, y, _rotation, turn = _loadings_choice(request, k)
    if target == "loadings-plot":
        return "plot", _plot_parts(x, y)
    if target == "rotation-preview":
        return "plot", _plot_parts(turn["first"], turn["second"]) if turn else {}
    return "loadings", {}


@run_page("loadings", parts_for=_loadings_parts)
def loadings(request: HtmxRequest, context: dict) -> HttpResponse:
    """Loadings and flags: the plot (a partial), the hand rotation preview (a partial) and the
    table, one page of sorts at a time, filtered by status. Each htmx partial loads only what it
    draws."""
    dashboard, run = context["dashboard"], context["run"]
    k = dashboard.k
    x, y, rotation, turn = _loadings_choice(request, k)
    context |= {"section": "loadings", "x": x, "y": y, "factor_numbers": range(1, k + 1), "rotation": rotation}
    target = request.htmx.target if request.htmx else None
    if target == "loadings-plot":
        context["loadings_plot"] = _plot(context["parts"], dashboard, x, y)
        return render(request, "runs/loadings.html#loadings-plot", context)
    if target == "rotation-preview":
        if turn:
            preview = _plot(context["parts"], dashboard, turn["first"], turn["second"], turn=turn["angle"])
            context["preview"] = preview
        return render(request, "runs/loadings.html#rotation-preview", context)
    statuses = dashboard.result["sort_status"]
    wanted = request.GET.get("status", "")
    if wanted not in SORT_STATUSES:
        wanted = ""
    indices = [i for i, status in enumerate(statuses) if not wanted or status == wanted]
    page = Paginator(indices, SORTS_PER_PAGE).get_page(request.GET.get("page"))
    shown = list(page.object_list)
    wanted_parts = {
        "labels": Part("sorts", rows=shown),
        "loadings": Part("loadings", rows=shown),
        "flags": Part("flags", rows=shown),
        "significant": Part("significant", rows=shown),
    }
    if target != "loadings":  # the whole page draws the plot (and a preview) too: same query
        wanted_parts |= _plot_parts(x, y)
        if turn:
            wanted_parts |= _plot_parts(turn["first"], turn["second"], prefix="turn_")
    parts = result_parts(run.pk, wanted_parts)
    frequencies = flag_frequencies(
        finished_bootstraps(run)
        .annotate(stats=KeyTransform("loading_stats", "result"))
        .values_list("stats", flat=True)
        .first()
    )
    rows = sort_rows(
        shown,
        parts["labels"],
        parts["loadings"],
        parts["flags"],
        parts["significant"],
        [statuses[i] for i in shown],
        frequencies,
    )
    context |= {
        "status": wanted,
        "page": page,
        "sorts": rows,
        "shown": ",".join(str(i) for i in shown),
        "has_frequencies": bool(frequencies),
    }
    if target == "loadings":
        return render(request, "runs/loadings.html#loadings-table", context)
    context["loadings_plot"] = _plot(parts, dashboard, x, y)
    if turn:
        turned = {name.removeprefix("turn_"): value for name, value in parts.items() if name.startswith("turn_")}
        context["preview"] = _plot(turned, dashboard, turn["first"], turn["second"], turn=turn["angle"])
    return render(request, "runs/loadings.html", context)


@run_page("conditions")
def conditions(request: HttpRequest, context: dict) -> HttpResponse:
    """A run over several conditions: factor x condition, statement shifts and each person."""
    tables = context["dashboard"].condition_tables(_own_comments(context["study"]))
    if tables is None:
        raise Http404("This run covers one condition.")
    context |= {"section": "conditions", "conditions": tables}
    return render(request, "runs/conditions.html", context)


@run_page("stability")
def stability(request: HtmxRequest, context: dict) -> HttpResponse:
    """Each factor's stability under bootstrap resampling, laid out from the bootstrap engine's
    summaries; while a bootstrap runs, its progress (an htmx partial polled every second) and
    a cancel button."""
    run, dashboard = context["run"], context["dashboard"]
    jobs = list(run.bootstraps.defer("result", "resamples")[:1])
    job = jobs[0] if jobs else None
    done = latest_bootstrap_result(run)
    context |= {
        "section": "stability",
        "job": job,
        "bootstrap": done[0] if done else None,
        "default_steps": DEFAULT_STEPS,
        "max_steps": MAX_STEPS,
    }
    if request.htmx and request.htmx.target == "bootstrap-status":  # polled while it works
        return render(request, "runs/stability.html#bootstrap-status", context | {"polled": True})
    if done:
        factors = stability_of(done[1], dashboard.statements)
        context["stability"] = [
            (
                factor,
                charts.forest(
                    [row.statement.id for row in factor.statements],
                    [row.mean for row in factor.statements],
                    [row.low for row in factor.statements],
                    [row.high for row in factor.statements],
                    [row.z for row in factor.statements],
                    [row.unstable for row in factor.statements],
                    title=_("Bootstrapped z-scores of factor %(n)d with their 95 %% intervals") % {"n": factor.number},
                ),
            )
            for factor in factors
        ]
    return render(request, "runs/stability.html", context)


def latest_bootstrap_result(run: AnalysisRun) -> tuple[Bootstrap, dict] | None:
    """The run's newest finished bootstrap and its summaries (the bootstrap JSON)."""
    job = latest_bootstrap(run)
    if job is None:
        return None
    assert job.result is not None  # a done bootstrap: bootstrap_done_has_result
    return job, job.result


@login_required
@require_POST
def start_bootstrap_view(request: HttpRequest, slug: str, run_id: int) -> HttpResponse:
    """Start a bootstrap of a finished run (steps and an optional seed, as the API takes)."""
    run = _done_run(request, slug, run_id)
    try:
        steps = int(request.POST.get("steps") or DEFAULT_STEPS)
        seed = int(request.POST["seed"]) if request.POST.get("seed", "").strip() else None
    except ValueError:
        messages.error(request, _("Steps and seed must be whole numbers."))
        return redirect("runs:stability", slug=run.study.slug, run_id=run.pk)
    try:
        start_bootstrap(run, request.user, steps=steps, seed=seed)
    except RunRefused as refusal:
        messages.error(request, str(refusal))
    return redirect("runs:stability", slug=run.study.slug, run_id=run.pk)


@login_required
@require_POST
def cancel_bootstrap_view(request: HttpRequest, slug: str, run_id: int, bootstrap_id: int) -> HttpResponse:
    run = _done_run(request, slug, run_id)
    job = get_object_or_404(run.bootstraps.defer("result", "resamples"), pk=bootstrap_id)
    cancel_job(job)
    return redirect("runs:stability", slug=run.study.slug, run_id=run.pk)


@run_page("report")
def report(request: HttpRequest, context: dict) -> HttpResponse:
    """The run's files, its parameters in words, and the glossary of the results pages."""
    run = context["run"]
    context |= {
        "section": "report",
        "glossary": GLOSSARY.values(),
        "has_bootstrap": finished_bootstraps(run).exists(),
        "methods": run_methods(run, context["dashboard"].result),
    }
    return render(request, "runs/report.html", context)


def _plot_parts(x: int, y: int, *, prefix: str = "") -> dict[str, Part]:
    """What the loadings plot of factors x and y draws: two columns of loadings and of flags,
    and the sort labels if the plot is small enough to label."""
    return {
        f"{prefix}xs": Part("loadings", column=x - 1),
        f"{prefix}ys": Part("loadings", column=y - 1),
        f"{prefix}flagged_x": Part("flags", column=x - 1),
        f"{prefix}flagged_y": Part("flags", column=y - 1),
        f"{prefix}plot_labels": Part("sorts", rows=range(charts.LABELLED_POINTS + 1)),
    }


def _plot(parts: dict, dashboard: Dashboard, x: int, y: int, *, turn: float | None = None):
    """The loadings plot of factors x and y (turned by `turn` degrees for a preview)."""
    xs, ys = parts["xs"], parts["ys"]
    if turn is not None:
        turned = rotate_pair(np.column_stack([xs, ys]), 0, 1, turn)
        xs, ys = turned[:, 0].tolist(), turned[:, 1].tolist()
    return charts.loadings(
        parts["plot_labels"] if len(xs) <= charts.LABELLED_POINTS else None,
        xs,
        ys,
        x_factor=x,
        y_factor=y,
        flagged_x=parts["flagged_x"],
        flagged_y=parts["flagged_y"],
        threshold=dashboard.threshold,
    )


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
        messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
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

"""The Data page: downloads (owner, researchers) and imports (owner, facilitators).

An import is two steps: the upload is previewed (every problem, nothing saved) and kept for a while in
temporary storage (the cache: Redis in production, with an expiry; the session holds only a
random reference); "Import" re-reads it and applies it in one transaction. Nothing is written
before that.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import TypeVar

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from qsort.exchange import services
from qsort.exchange.forms import ImportForm
from qsort.exchange.models import DownloadLog
from qsort.exchange.uploads import UploadRefused, read_upload
from qsort.http import HtmxRequest
from qsort.runs.models import AnalysisRun
from qsort.studies.access import Access, Can, access_for, study_for
from qsort.studies.models import DeckLocked, Study

STUDY_DOWNLOADS = [
    (
        "sorts.csv",
        gettext_lazy("Raw sorts (CSV)"),
        gettext_lazy("Statements as rows, one column per participant code: the layout R's qmethod reads."),
    ),
    ("statements.csv", gettext_lazy("Statements (CSV)"), gettext_lazy("Statement number and text.")),
    ("study.sta", gettext_lazy("PQMethod statements (.STA)"), gettext_lazy("One statement per line.")),
    (
        "study.dat",
        gettext_lazy("PQMethod sorts (.DAT)"),
        gettext_lazy("The fixed-width sorts file PQMethod and qmethod read."),
    ),
    (
        "results.json",
        gettext_lazy("easy-htmlq results (JSON)"),
        gettext_lazy("One record per participant with a 'sort' string; KADE, Ken-Q and qmethod import it."),
    ),
]
RECENT_DOWNLOADS = 10


def _page(request: HtmxRequest, access: Access, **extra) -> HttpResponse:
    study, can_download = access.study, access.can_download
    context = {
        "access": access,
        "study": study,
        "tab": "data",
        "can_download": can_download,
        "can_import": access.can_edit,
        "study_downloads": STUDY_DOWNLOADS,
        "runs": (
            AnalysisRun.objects.filter(study=study, status=AnalysisRun.Status.DONE).defer("result")[:10]
            if can_download
            else []
        ),
        "downloads": (
            DownloadLog.objects.filter(study=study).select_related("user")[:RECENT_DOWNLOADS] if can_download else []
        ),
        "max_upload": settings.QSORT_MAX_UPLOAD_BYTES,
        "statements_form": ImportForm(),
        **extra,
    }
    # htmx previews swap only the imports card; without JavaScript the whole page comes back.
    template = "exchange/data.html#imports" if request.htmx else "exchange/data.html"
    return render(request, template, context)


@login_required
@require_GET
def data_page(request: HtmxRequest, slug: str) -> HttpResponse:
    return _page(request, access_for(request.user, slug, Can.VIEW))


@login_required
@require_GET
def download_study_file(request: HttpRequest, slug: str, file: str) -> HttpResponse:
    study = study_for(request.user, slug, Can.DOWNLOAD)
    if file not in services.STUDY_FILES:
        raise Http404("No such export.")
    try:
        return services.export_study_file(study, file, request.user).as_response()
    except services.ExportUnavailable as unavailable:
        messages.error(request, str(unavailable))
        return redirect("exchange:data", slug=slug)


@login_required
@require_GET
def download_run_file(request: HttpRequest, slug: str, run_id: int, file: str) -> HttpResponse:
    study = study_for(request.user, slug, Can.DOWNLOAD)
    run = get_object_or_404(AnalysisRun.objects.defer("result"), pk=run_id, study=study)
    if file not in services.RUN_FILE_NAMES:
        raise Http404("No such export.")
    try:
        return services.export_run_file(run, file, request.user).as_response()
    except services.ExportUnavailable as unavailable:
        messages.error(request, str(unavailable))
        return redirect("exchange:data", slug=slug)


# --- imports -----------------------------------------------------------------------------
PlanT = TypeVar("PlanT")


# An unconfirmed preview is dropped after this long (the person is asked to choose the file again).
PREVIEW_SECONDS = 30 * 60


def _preview_key(request: HttpRequest, reference: str) -> str:
    return f"qsort:import-preview:{request.user.pk}:{reference}"


def _stash(request: HttpRequest, key: str, files: dict[str, bytes]) -> None:
    reference = secrets.token_urlsafe(16)
    cache.set(_preview_key(request, reference), files, timeout=PREVIEW_SECONDS)
    request.session[key] = reference


def _unstash(request: HttpRequest, key: str) -> dict[str, bytes] | None:
    reference = request.session.get(key)
    return cache.get(_preview_key(request, reference)) if isinstance(reference, str) else None


def _forget(request: HttpRequest, key: str) -> None:
    reference = request.session.pop(key, None)
    if isinstance(reference, str):
        cache.delete(_preview_key(request, reference))


def _stashed_plan(request: HttpRequest, key: str, preview: Callable[[dict[str, bytes]], PlanT]) -> PlanT | str:
    """The preview of the upload stashed at `key`, judged again now, or why there is none."""
    files = _unstash(request, key)
    if files is None:
        return _("The preview has expired; please choose the file again.")
    return preview(files)


def _changed_since_preview(changed: Exception) -> str:
    return _("The study changed since the preview, so nothing was imported: %(why)s") % {"why": changed}


@login_required
@require_POST
def import_statements(request: HtmxRequest, slug: str) -> HttpResponse:
    """The deck page's import on the Data page: the same reader, judge and preview."""
    access = access_for(request.user, slug, Can.EDIT)
    form = ImportForm(request.POST, request.FILES)
    rows, error = form.preview(access.study)
    return _page(
        request,
        access,
        statements_form=form,
        statements_preview=rows,
        statements_error=error,
        n_importable=sum(row.importable for row in rows),
    )


@login_required
@require_POST
def import_statements_confirm(request: HttpRequest, slug: str) -> HttpResponse:
    """Add the previewed statements, judged again against the deck as it is now."""
    study = study_for(request.user, slug, Can.EDIT)
    try:
        added = study.import_statements(request.POST.getlist("statement"))
    except DeckLocked as locked:
        messages.error(request, str(locked))
    else:
        messages.success(request, _("%(count)d statements added to the deck.") % {"count": len(added)})
    return redirect("exchange:data", slug=slug)


@login_required
@require_POST
def import_sorts(request: HtmxRequest, slug: str) -> HttpResponse:
    """Preview a sorts CSV (kept in temporary storage until it is confirmed, replaced or expired)."""
    access = access_for(request.user, slug, Can.EDIT)
    key = _sorts_key(access.study)
    _forget(request, key)  # a new upload replaces any earlier preview, even if refused
    try:
        data = read_upload(request.FILES.get("file"))
    except UploadRefused as refused:
        return _page(request, access, sorts_error=str(refused))
    if not data:
        return _page(request, access, sorts_error=_("Choose a file (or paste text) to import."))
    _stash(request, key, {"data": data})
    return _page(request, access, sorts_preview=services.preview_sorts(access.study, data))


@login_required
@require_POST
def import_sorts_confirm(request: HtmxRequest, slug: str) -> HttpResponse:
    """Store the previewed sorts, all or nothing, checked again against the study as it is now."""
    access = access_for(request.user, slug, Can.EDIT)
    study, key = access.study, _sorts_key(access.study)
    plan = _stashed_plan(request, key, lambda files: services.preview_sorts(study, files["data"]))
    if isinstance(plan, str):
        return _page(request, access, sorts_error=plan)
    if plan.problems:
        return _page(request, access, sorts_preview=plan)
    try:
        stored = services.apply_sorts(study, plan, request.user)
    except services.ImportFailed as changed:
        return _page(request, access, sorts_error=_changed_since_preview(changed))
    _forget(request, key)
    messages.success(request, _("%(count)d sorts imported.") % {"count": stored})
    return redirect("exchange:data", slug=slug)


def _sorts_key(study: Study) -> str:
    return f"exchange:sorts:{study.pk}"


PQMETHOD_KEY = "exchange:pqmethod"


def _study_import_page(request: HttpRequest, plan: services.StudyImport | None = None, error: str = "") -> HttpResponse:
    context = {
        "plan": plan,
        "error": error,
        "title": request.POST.get("title", ""),
        "max_upload": settings.QSORT_MAX_UPLOAD_BYTES,
    }
    return render(request, "exchange/import_study.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def import_study(request: HttpRequest) -> HttpResponse:
    """A new study from PQMethod .STA and .DAT files, owned by the person importing it: the form,
    and the preview of the files chosen (kept in temporary storage until confirmed or replaced)."""
    _forget(request, PQMETHOD_KEY)
    if request.method == "GET":
        return _study_import_page(request)
    sta, dat = request.FILES.get("sta"), request.FILES.get("dat")
    if sta is None or dat is None:
        return _study_import_page(request, error=_("Choose both files: the .STA statements and the .DAT sorts."))
    try:
        files = {"sta": read_upload(sta), "dat": read_upload(dat)}
    except UploadRefused as refused:
        return _study_import_page(request, error=str(refused))
    _stash(request, PQMETHOD_KEY, files)
    return _study_import_page(request, services.preview_pqmethod(files["sta"], files["dat"]))


@login_required
@require_POST
def import_study_confirm(request: HttpRequest) -> HttpResponse:
    """Create the previewed study, its deck, grid and sorts."""
    plan = _stashed_plan(request, PQMETHOD_KEY, lambda files: services.preview_pqmethod(files["sta"], files["dat"]))
    if isinstance(plan, str):
        return _study_import_page(request, error=plan)
    if plan.problems:
        return _study_import_page(request, plan)
    study = services.create_study_from_pqmethod(plan, request.user, request.POST.get("title", ""))
    _forget(request, PQMETHOD_KEY)
    messages.success(
        request,
        _("Study “%(title)s” created with %(statements)d statements and %(sorts)d sorts.")
        % {"title": study.title, "statements": len(plan.statements), "sorts": len(plan.sorts)},
    )
    return redirect("exchange:data", slug=study.slug)

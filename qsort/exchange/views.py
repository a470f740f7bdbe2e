"""The Data page: downloads (owner, researchers) and imports (owner, facilitators).

An import is two steps: the upload is previewed (every problem, nothing saved) and kept for a
while in temporary storage (the cache: Redis in production, with an expiry; the session holds
only a random reference); "Import" re-reads it and applies it in one transaction. Nothing is
written before that.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from qsort.exchange import services
from qsort.exchange.forms import ImportForm
from qsort.exchange.models import DownloadLog
from qsort.exchange.uploads import UploadRefused, read_upload
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


def _page(request: HttpRequest, access: Access, **extra) -> HttpResponse:
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
def data_page(request: HttpRequest, slug: str) -> HttpResponse:
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
    run = get_object_or_404(AnalysisRun, pk=run_id, study=study)
    if file not in services.RUN_FILE_NAMES:
        raise Http404("No such export.")
    try:
        return services.export_run_file(run, file, request.user).as_response()
    except services.ExportUnavailable as unavailable:
        messages.error(request, str(unavailable))
        return redirect("exchange:data", slug=slug)


# --- imports -----------------------------------------------------------------------------
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


def _two_step_import(
    request: HttpRequest,
    key: str,
    read: Callable[[], dict[str, bytes]],
    preview: Callable[[dict[str, bytes]], object],
    apply: Callable[[object], str],
    show: Callable[[object | None, str], HttpResponse],
) -> HttpResponse | None:
    """Preview a fresh upload (stashed in temporary storage), or apply the stashed one on "confirm".

    Returns the page to show, or None once the import is applied (the caller redirects).
    """
    if request.POST.get("confirm"):
        files = _unstash(request, key)
        if files is None:
            return show(None, _("The preview has expired; please choose the file again."))
        plan = preview(files)
        if getattr(plan, "problems", None):
            return show(plan, "")
        try:
            success = apply(plan)
        except services.ImportFailed as changed:
            return show(
                None, _("The study changed since the preview, so nothing was imported: %(why)s") % {"why": changed}
            )
        _forget(request, key)
        messages.success(request, success)
        return None
    _forget(request, key)  # a new upload replaces any earlier preview, even if refused
    try:
        files = read()
    except UploadRefused as refused:
        return show(None, str(refused))
    if not any(files.values()):
        return show(None, _("Choose a file (or paste text) to import."))
    _stash(request, key, files)
    return show(preview(files), "")


@login_required
@require_POST
def import_statements(request: HttpRequest, slug: str) -> HttpResponse:
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
def import_sorts(request: HttpRequest, slug: str) -> HttpResponse:
    access = access_for(request.user, slug, Can.EDIT)
    study = access.study
    key = f"exchange:sorts:{study.pk}"

    def apply(plan) -> str:
        stored = services.apply_sorts(study, plan, request.user)
        return _("%(count)d sorts imported.") % {"count": stored}

    def show(plan, error: str) -> HttpResponse:
        return _page(request, access, sorts_preview=plan, sorts_error=error)

    response = _two_step_import(
        request,
        key,
        lambda: {"data": read_upload(request.FILES.get("file"))},
        lambda files: services.preview_sorts(study, files["data"]),
        apply,
        show,
    )
    return response or redirect("exchange:data", slug=slug)


@login_required
def import_study(request: HttpRequest) -> HttpResponse:
    """A new study from PQMethod .STA and .DAT files, owned by the person importing it."""
    key = "exchange:pqmethod"
    created: list[Study] = []

    def show(plan, error: str) -> HttpResponse:
        return render(
            request,
            "exchange/import_study.html",
            {
                "plan": plan,
                "error": error,
                "title": request.POST.get("title", ""),
                "max_upload": settings.QSORT_MAX_UPLOAD_BYTES,
            },
        )

    if request.method != "POST":
        _forget(request, key)
        return show(None, "")

    def read() -> dict[str, bytes]:
        sta, dat = request.FILES.get("sta"), request.FILES.get("dat")
        if sta is None or dat is None:
            raise UploadRefused(_("Choose both files: the .STA statements and the .DAT sorts."))
        return {"sta": read_upload(sta), "dat": read_upload(dat)}

    def apply(plan) -> str:
        study = services.create_study_from_pqmethod(plan, request.user, request.POST.get("title", ""))
        created.append(study)
        return _("Study “%(title)s” created with %(statements)d statements and %(sorts)d sorts.") % {
            "title": study.title,
            "statements": len(plan.statements),
            "sorts": len(plan.sorts),
        }

    response = _two_step_import(
        request, key, read, lambda files: services.preview_pqmethod(files["sta"], files["dat"]), apply, show
    )
    return response or redirect("exchange:data", slug=created[0].slug)

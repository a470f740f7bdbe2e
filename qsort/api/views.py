"""The REST API: a thin edge over the same model methods and services as the web pages.

Every study-scoped endpoint goes through `access_for` (strangers 404, roles without the
capability 403). Token authentication comes first so an anonymous client gets 401 with a
`WWW-Authenticate: Token` challenge; browsers signed in to the site use their session (with CSRF).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import orjson
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from knox.auth import TokenAuthentication
from rest_framework import generics, serializers, status
from rest_framework.authentication import SessionAuthentication
from rest_framework.exceptions import APIException, NotFound, PermissionDenied, ValidationError
from rest_framework.permissions import SAFE_METHODS, AllowAny, IsAuthenticated
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils import encoders
from rest_framework.views import APIView

from qsort.api import serializers as s
from qsort.exchange import services as exchange
from qsort.participate import services as participate
from qsort.runs.models import AnalysisRun, Bootstrap, Part, load_result, result_parts
from qsort.runs.services import correlations_of
from qsort.security.limits import ParticipantThrottle
from qsort.studies.access import Access, Can, access_for, role_allows, study_for
from qsort.studies.models import (
    Collaborator,
    ConditionsLocked,
    DeckLocked,
    Participant,
    Sort,
    Statement,
    StatementsRefused,
    StatusRefused,
    Study,
    StudyNotReady,
)
from qsort.studies.services import SortAlreadySubmitted, StudyNotAcceptingSorts, resolve_condition, submit_sort
from qsort.studies.validation import SortInvalid

AUTHENTICATION = [TokenAuthentication, SessionAuthentication]


class Conflict(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The request conflicts with the study's current state."
    default_code = "conflict"


class Endpoint(APIView):
    """Signed-in clients only; `capability` maps safe methods to VIEW and writes to EDIT.
    Listed first in each endpoint's bases, so its settings win over the generic view's."""

    authentication_classes = AUTHENTICATION
    permission_classes = [IsAuthenticated]
    read_capability = Can.VIEW
    write_capability = Can.EDIT

    def access(self) -> Access:
        capability = self.read_capability if self.request.method in SAFE_METHODS else self.write_capability
        return access_for(self.request.user, self.kwargs["slug"], capability)

    def study(self) -> Study:
        return self.access().study


# --- studies -----------------------------------------------------------------------------
def _apply_study_changes(study: Study, data: dict) -> None:
    """Settings, then deck and grid (refused once sorted), then status (open checks readiness)."""
    for name in ("title", "condition_of_instruction", *Study.SETTINGS_FIELDS):
        if name in data:
            setattr(study, name, data[name])
    study.save()
    if "conditions" in data:
        try:
            study.set_conditions(data["conditions"])
        except ConditionsLocked as locked:
            raise Conflict({"conditions": [str(locked)]}) from None
    try:
        if "statements" in data:
            study.replace_deck(item["text"] for item in data["statements"])
        if "grid" in data:
            study.set_grid(data["grid"])
    except DeckLocked as locked:
        field = "statements" if "statements" in data else "grid"
        raise Conflict({field: [str(locked)]}) from None
    except StatementsRefused as refused:
        raise ValidationError({"statements": refused.messages}) from None
    if "status" in data:
        try:
            study.set_status(data["status"])
        except (StudyNotReady, StatusRefused) as problem:
            raise ValidationError({"status": [str(problem)]}) from None


class StudyList(Endpoint, generics.ListCreateAPIView[Study]):
    """Your studies (any role); `POST` creates a study you own."""

    def get_queryset(self):
        return Study.objects.for_user(self.request.user).order_by("-updated_at", "-id")

    def get_serializer_class(self):
        return s.StudyListSerializer if self.request.method in SAFE_METHODS else s.StudySerializer

    def get_serializer_context(self) -> dict[str, Any]:
        # The one study shown in full here is the one just created, which the caller owns.
        return {**super().get_serializer_context(), "role": Collaborator.Role.OWNER}

    def perform_create(self, serializer: serializers.BaseSerializer[Study]) -> None:
        data = serializer.validated_data
        owner = self.request.user
        assert owner.is_authenticated  # IsAuthenticated let no one else this far
        with transaction.atomic():
            # django-stubs checks create()'s keywords against fields; Django takes property setters too.
            study = Study.objects.create(  # type: ignore[misc]
                owner=owner, slug=data["slug"], title=data["title"], condition_of_instruction=""
            )
            _apply_study_changes(study, data)
        serializer.instance = study


class StudyDetail(Endpoint, generics.RetrieveUpdateAPIView[Study]):
    """A study's settings, statements, grid and questions; owner and facilitators may `PATCH`."""

    serializer_class = s.StudySerializer
    http_method_names = ["get", "patch", "head", "options"]

    def get_object(self) -> Study:
        access = self.access()
        self.role = access.role
        return access.study

    def get_serializer_context(self) -> dict:
        # The serializer reports the caller's role, found by get_object (which runs first).
        return {**super().get_serializer_context(), "role": getattr(self, "role", None)}

    def perform_update(self, serializer: serializers.BaseSerializer[Study]) -> None:
        study, data = serializer.instance, serializer.validated_data
        assert study is not None  # update() built the serializer on get_object()
        changed = [
            name for name in Study.ANALYSIS_SETTINGS_FIELDS if name in data and data[name] != getattr(study, name)
        ]
        if changed and not role_allows(self.role, Can.ANALYSE):
            raise PermissionDenied(
                _("Your role on this study (%(role)s) cannot change analysis settings: %(fields)s.")
                % {"role": self.role, "fields": ", ".join(changed)}
            )
        with transaction.atomic():
            _apply_study_changes(study, data)


class StatementList(Endpoint, generics.ListCreateAPIView[Statement]):
    """The deck; owner and facilitators add statements while the deck is unlocked (else 409)."""

    serializer_class = s.StatementSerializer
    pagination_class = None

    def get_queryset(self):
        return self.study().statements.order_by("number")

    def perform_create(self, serializer: serializers.BaseSerializer[Statement]) -> None:
        try:
            serializer.instance = self.study().add_statement(serializer.validated_data["text"])
        except DeckLocked as locked:
            raise Conflict({"text": [str(locked)]}) from None
        except StatementsRefused as refused:
            raise ValidationError({"text": refused.messages}) from None


class StatementDetail(Endpoint, generics.RetrieveUpdateAPIView[Statement]):
    """One statement; its text may be corrected even after the deck is locked (typos)."""

    serializer_class = s.StatementSerializer
    http_method_names = ["get", "patch", "head", "options"]

    def get_object(self) -> Statement:
        return get_object_or_404(self.study().statements, number=self.kwargs["number"])


# --- participants and sorts --------------------------------------------------------------
class ParticipantList(Endpoint, generics.ListCreateAPIView[Participant]):
    """Participants with their stage (codes, never tokens). `POST {"count": N, "codes": [...]}`
    creates personal links, which only the owner and facilitators ever receive."""

    serializer_class = s.ParticipantSerializer

    def get_queryset(self):
        participants = Participant.objects.filter(study=self.study()).order_by("created_at", "id")
        stage = self.request.query_params.get("stage")
        return participants.filter(stage=stage) if stage else participants

    @extend_schema(parameters=[OpenApiParameter("stage", str, enum=Participant.Stage.values, required=False)])
    def get(self, request: Request, slug: str) -> Response:
        return super().get(request, slug)

    @extend_schema(
        request=s.NewParticipantsSerializer,
        responses={
            201: inline_serializer("CreatedParticipants", {"participants": s.NewParticipantSerializer(many=True)})
        },
    )
    def post(self, request: Request, slug: str) -> Response:
        study = self.study()
        form = s.NewParticipantsSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        try:
            created = study.invite(form.validated_data["count"], form.validated_data["codes"])
        except ValueError as taken:
            raise ValidationError({"codes": [str(taken)]}) from None
        return Response(
            {"participants": s.NewParticipantSerializer(created, many=True).data}, status=status.HTTP_201_CREATED
        )


class SortList(Endpoint, generics.ListAPIView[Sort]):
    """Completed sorts: participant code, values by statement number, comments, answers, times."""

    serializer_class = s.SortSerializer
    read_capability = Can.DOWNLOAD

    def get_queryset(self):
        study = self.study()
        sorts = Sort.objects.filter(study=study)
        label = self.request.query_params.get("condition")
        if label is not None:
            try:
                sorts = sorts.filter(condition=resolve_condition(study, label))
            except SortInvalid as unknown:
                raise ValidationError({"condition": unknown.messages}) from None
        return sorts.order_by("submitted_at", "id").only("id")

    @extend_schema(
        parameters=[OpenApiParameter("condition", str, required=False, description="Only sorts of this condition")]
    )
    def get(self, request: Request, *args, **kwargs) -> Response:
        return super().get(request, *args, **kwargs)

    def list(self, request: Request, *args, **kwargs) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        assert page is not None  # settings.REST_FRAMEWORK pages every list
        rows = exchange.sort_rows(Sort.objects.filter(pk__in=[sort.pk for sort in page]))
        body = [
            {
                "participant": row.label,
                "condition": row.condition,
                "values": {str(number): value for number, value in row.values.items()},
                "comments": {str(number): text for number, text in row.comments.items()},
                "answers": {str(question): text for question, text in row.answers.items()},
                "submitted_at": row.submitted_at,
                "entered_by_facilitator": row.entered_by_facilitator,
            }
            for row in rows
        ]
        return self.get_paginated_response(s.SortSerializer(body, many=True).data)


def participant_for(token: str) -> Participant:
    participant = Participant.objects.select_related("study").filter(token=token).first()
    if participant is None:
        raise NotFound(_("No such participant link."))
    return participant


class ParticipantConsent(APIView):
    """A participant's client records that they agreed to the study's consent text (the same
    step as "I agree" on the web). Idempotent: the first consent time is kept. Like the submit,
    the token in the URL is the credential (see SubmitSort on CSRF)."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [ParticipantThrottle]

    @extend_schema(request=None, responses={200: s.ConsentSerializer, 409: OpenApiTypes.OBJECT})
    def post(self, request: Request, token: str) -> Response:
        participant = participant_for(token)
        if participant.consented_at is None:
            if participant.is_completed:
                raise Conflict({"detail": _("This sort was entered on paper; there is no online consent to record.")})
            if not participant.study.accepts_sorts:
                raise Conflict({"detail": str(StudyNotAcceptingSorts(participant.study))})
            participate.consent(participant)
        return Response(s.ConsentSerializer(participant).data)


class SubmitSort(APIView):
    """A participant's client submits a whole sort; the personal token in the URL is the credential.

    No authentication class runs here, so DRF exempts the view from CSRF: CSRF protects requests
    that a browser authenticates implicitly with a cookie, and this one carries no cookie-based
    authority at all: a forged cross-site request would need the secret token, which is exactly
    what the attacker lacks. The same values again are accepted (idempotent); different values
    after completion are refused with 409.
    """

    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [ParticipantThrottle]

    @extend_schema(
        request=s.SubmitSortSerializer,
        responses={201: s.SubmittedSortSerializer, 200: s.SubmittedSortSerializer, 409: OpenApiTypes.OBJECT},
    )
    def post(self, request: Request, token: str) -> Response:
        participant = participant_for(token)
        if participant.consented_at is None and not participant.is_completed:
            raise Conflict(
                {
                    "detail": _(
                        "This participant has not consented yet: record their consent with "
                        "POST /api/participate/<token>/consent/ first."
                    )
                }
            )
        form = s.SubmitSortSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        try:
            condition = resolve_condition(participant.study, data.get("condition"))
        except SortInvalid as unknown:
            raise ValidationError({"condition": unknown.messages}) from None
        try:
            sort, created = submit_sort(
                participant,
                data["values"].items(),
                condition=condition,
                comments=data["comments"],
                answers=data["answers"],
            )
        except SortInvalid as invalid:
            raise ValidationError(
                {"values" if invalid.about_placements else "non_field_errors": invalid.messages}
            ) from None
        except (SortAlreadySubmitted, StudyNotAcceptingSorts) as refused:
            raise Conflict({"detail": str(refused)}) from None
        body = {"status": "completed", "created": created, "submitted_at": sort.submitted_at}
        return Response(
            s.SubmittedSortSerializer(body).data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK
        )


# --- analyses ----------------------------------------------------------------------------
class AnalysisList(Endpoint, generics.ListCreateAPIView[AnalysisRun]):
    """A study's analysis runs; owner and researchers start one (queued for the worker)."""

    serializer_class = s.AnalysisRunSerializer
    write_capability = Can.ANALYSE

    def get_queryset(self):
        # The list never carries results (they are read, and logged, one run at a time).
        return AnalysisRun.objects.filter(study=self.study()).select_related("study").defer("result")

    @extend_schema(
        request=s.AnalysisRequestSerializer,
        responses={
            201: inline_serializer(
                "AnalysisStarted", {"id": serializers.IntegerField(), "status": serializers.CharField()}
            )
        },
    )
    def post(self, request: Request, slug: str) -> Response:
        # The runs room's create-and-queue workflow (imported here: that room owns it).
        from qsort.runs.services import RunRefused, start_run

        study = self.study()
        form = s.AnalysisRequestSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        parameters = {
            "factors": data["factors"],
            "extraction": data["extraction"],
            "rotation": data["rotation"],
            "flag_overrides": data["flags"],
            "exclude_open_link": data["exclude_open_link"],
            "excluded_sorts": data["excluded_sorts"],
            "conditions": data["conditions"],
            "sessions": data["sessions"],
        }
        try:
            run = start_run(study, request.user, parameters)
        except RunRefused as refused:
            raise ValidationError({"non_field_errors": [str(refused)]}) from None
        return Response({"id": run.pk, "status": run.status}, status=status.HTTP_201_CREATED)


def _run_for(request: Request, run_id: int, capability: Can, runs: QuerySet | None = None) -> AnalysisRun:
    """The run if the user may `capability` its study; a stranger cannot tell it exists.  Its
    result stays in the database unless `runs` loads it."""
    runs = AnalysisRun.objects.defer("result") if runs is None else runs
    run = runs.filter(pk=run_id).select_related("study").first()
    if run is None:
        raise NotFound(_("No such analysis."))
    run.study = study_for(request.user, run.study.slug, capability)
    return run


INCLUDES = ("correlations",)


class AnalysisJSONRenderer(JSONRenderer):
    """Compact JSON written by orjson: an analysis holds up to a million numbers (20 MB with the
    correlations of 1,000 sorts), which the standard encoder takes seconds to write."""

    def render(self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None) -> bytes:
        if data is None:
            return b""
        return orjson.dumps(data, default=encoders.JSONEncoder().default)


class AnalysisDetail(Endpoint, generics.RetrieveAPIView[AnalysisRun]):
    """Status and progress; when done, the result in the analysis JSON (shared/analysis-json.md)
    without the sorts x sorts `correlations` (a million numbers at 1,000 sorts) unless asked for
    with `?include=correlations`. The result only for the owner and researchers (who may download
    results), logged like a download; facilitators see the status only."""

    serializer_class = s.AnalysisRunSerializer
    renderer_classes = [AnalysisJSONRenderer]
    result: dict[str, Any] | None = None  # what the answer carries (get_object decides)

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "include",
                str,
                description="`correlations`: add the sorts x sorts correlation matrix to the result "
                "(computed from the sorts; null above 1,000 sorts).",
            )
        ]
    )
    def get(self, request: Request, *args, **kwargs) -> Response:
        return super().get(request, *args, **kwargs)

    def get_object(self) -> AnalysisRun:
        wanted = {item.strip() for item in self.request.query_params.get("include", "").split(",") if item.strip()}
        if unknown := sorted(wanted - set(INCLUDES)):
            raise ValidationError(
                {
                    "include": [
                        _("Nothing called %(names)s to include. Available: %(available)s.")
                        % {"names": ", ".join(unknown), "available": ", ".join(INCLUDES)}
                    ]
                }
            )
        run = _run_for(self.request, self.kwargs["run_id"], Can.VIEW)
        role = run.study.role_of(self.request.user)
        if run.status == AnalysisRun.Status.DONE and role_allows(role, Can.DOWNLOAD):
            # Stored, or computed from the sorts when the run did not store it (runs no longer do).
            self.result = load_result(run.pk, correlations="correlations" in wanted)
            if "correlations" in wanted:
                self.result["correlations"] = correlations_of(run.study, self.result)
        return run

    def retrieve(self, request: Request, *args, **kwargs) -> Response:
        run = self.get_object()
        if self.result is not None:
            exchange.log_download(run.study, request.user, "result.json", run=run, via_api=True)
        context = {**self.get_serializer_context(), "result": self.result}
        return Response(self.get_serializer(run, context=context).data)


class AnalysisRetry(Endpoint, APIView):
    """Re-queue a failed or stale run (same parameters, same id); 409 for any other run."""

    @extend_schema(
        request=None,
        responses={
            202: inline_serializer(
                "AnalysisRequeued", {"id": serializers.IntegerField(), "status": serializers.CharField()}
            ),
            409: OpenApiTypes.OBJECT,
        },
    )
    def post(self, request: Request, run_id: int) -> Response:
        from qsort.runs.services import retry  # the runs room owns the workflow

        run = _run_for(request, run_id, Can.ANALYSE)
        if not run.can_retry:
            raise Conflict({"detail": _("Only a failed run, or one that stopped making progress, can be retried.")})
        retry(run)
        return Response({"id": run.pk, "status": AnalysisRun.Status.QUEUED}, status=status.HTTP_202_ACCEPTED)


# --- stability: bootstrap jobs and number-of-factors evidence ---------------------------
def _bootstrap_for(request: Request, bootstrap_id: int, capability: Can) -> Bootstrap:
    """The job if the user may `capability` its run's study; strangers cannot tell it exists."""
    job = Bootstrap.objects.filter(pk=bootstrap_id).select_related("run__study").first()
    if job is None:
        raise NotFound(_("No such bootstrap."))
    job.run.study = study_for(request.user, job.run.study.slug, capability)
    return job


class AnalysisBootstrap(Endpoint, APIView):
    """Start a bootstrap of a finished run (qmethod's qmboots procedure) as a background job."""

    @extend_schema(request=s.BootstrapRequestSerializer, responses={202: s.BootstrapSerializer})
    def post(self, request: Request, run_id: int) -> Response:
        from qsort.runs.services import RunRefused
        from qsort.runs.stability import start_bootstrap

        run = _run_for(request, run_id, Can.ANALYSE)
        form = s.BootstrapRequestSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        try:
            job = start_bootstrap(run, request.user, **form.validated_data)
        except RunRefused as refused:
            raise ValidationError({"non_field_errors": [str(refused)]}) from None
        return Response(s.BootstrapSerializer(job).data, status=status.HTTP_202_ACCEPTED)


class BootstrapDetail(Endpoint, generics.RetrieveAPIView[Bootstrap]):
    """Status and progress of a bootstrap; when done, its summaries (the bootstrap JSON)."""

    serializer_class = s.BootstrapSerializer

    def get_object(self) -> Bootstrap:
        return _bootstrap_for(self.request, self.kwargs["bootstrap_id"], Can.VIEW)


class BootstrapCancel(Endpoint, APIView):
    """Cancel a queued or running bootstrap (a running one stops at its next batch of steps)."""

    @extend_schema(request=None, responses={200: s.BootstrapSerializer})
    def post(self, request: Request, bootstrap_id: int) -> Response:
        from qsort.runs.stability import cancel_job

        job = _bootstrap_for(request, bootstrap_id, Can.ANALYSE)
        if not job.can_cancel:
            raise Conflict({"detail": _("This bootstrap has already ended (%(status)s).") % {"status": job.status}})
        cancel_job(job)
        return Response(s.BootstrapSerializer(job).data)


EVIDENCE_JOB_RESPONSES = {
    200: OpenApiResponse(
        OpenApiTypes.OBJECT,
        description="The panel (the engine's evidence JSON: criteria with reasons, per-factor facts, "
        "suggested range, parallel analysis), once the job for the study's current sorts is done.",
    ),
    202: OpenApiResponse(
        s.FactorEvidenceJobSerializer,
        description="The job is queued or running: its status and progress (0-100); ask again.",
    ),
    409: OpenApiResponse(
        s.FactorEvidenceJobSerializer,
        description="The job was cancelled or failed (`error` says why), or the study has fewer than two "
        "completed sorts (`detail`). POST starts it again.",
    ),
}


class FactorEvidence(Endpoint, APIView):
    """How many factors to keep: Kaiser-Guttman, Q parallel analysis, Humphrey's rule, two
    significant loadings, explained variance and defining sorts, with a suggested range.

    Parallel analysis draws 1,000 sets of random sorts, so the panel is a background job with
    progress and cancel, one per state of the study's sorts and choice of sorts (leave some
    out as a run does, to see the evidence for that set before running it): the first GET for
    new data starts it, later GETs answer 202 with its progress until the panel is ready (200)."""

    write_capability = Can.ANALYSE

    def _query(self) -> tuple[Study, int, dict[str, Any]]:
        """The study, the trial solution's size and the sorts left out, checked (400 if not)."""
        from qsort.runs.services import RunRefused, clean_selection

        query = s.EvidenceQuerySerializer(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        study = self.study()
        try:
            selection = clean_selection(study, query.validated_data)
        except RunRefused as refused:
            raise ValidationError({"non_field_errors": [str(refused)]}) from None
        return study, query.validated_data["factors"], selection

    def _answer(self, *, again: bool) -> Response:
        from qsort.runs.stability import evidence_job

        study, factors, selection = self._query()
        job = evidence_job(study, factors, selection=selection, user=self.request.user, again=again)
        if job is None:
            raise Conflict({"detail": _("The evidence needs at least two completed sorts.")})
        return _evidence_answer(job)

    @extend_schema(parameters=[s.EvidenceQuerySerializer], responses=EVIDENCE_JOB_RESPONSES)
    def get(self, request: Request, slug: str) -> Response:
        return self._answer(again=False)

    @extend_schema(request=None, parameters=[s.EvidenceQuerySerializer], responses=EVIDENCE_JOB_RESPONSES)
    def post(self, request: Request, slug: str) -> Response:
        """Compute the panel again after it was cancelled or failed (otherwise as GET)."""
        return self._answer(again=True)


def _evidence_answer(job) -> Response:
    """An evidence job as the API answers it: its panel when done (200), else its status."""
    if job.status == job.Status.DONE:
        return Response(type(job).objects.values_list("result", flat=True).get(pk=job.pk))
    code = status.HTTP_409_CONFLICT if job.is_finished else status.HTTP_202_ACCEPTED
    return Response(s.FactorEvidenceJobSerializer(job).data, status=code)


class AnalysisFactorEvidence(Endpoint, APIView):
    """A finished run's own number-of-factors panel (its sorts, its loadings and flags). Runs
    of up to 300 sorts store it with the result; for a larger run it is a background job that
    the run starts when it finishes (202 with its progress until the panel is ready; cancel it
    with the study's factor-evidence cancel endpoint and the job's id)."""

    @extend_schema(responses=EVIDENCE_JOB_RESPONSES)
    def get(self, request: Request, run_id: int) -> Response:
        return self._answer(_run_for(request, run_id, Can.VIEW), request.user, again=False)

    @extend_schema(request=None, responses=EVIDENCE_JOB_RESPONSES)
    def post(self, request: Request, run_id: int) -> Response:
        """Compute the panel again after its job was cancelled or failed (otherwise as GET)."""
        return self._answer(_run_for(request, run_id, Can.ANALYSE), request.user, again=True)

    def _answer(self, run: AnalysisRun, user, *, again: bool) -> Response:
        from qsort.runs.services import RunRefused
        from qsort.runs.stability import require_done, run_evidence_job

        try:
            require_done(run)
            stored = result_parts(run.pk, {"evidence": Part("evidence")})["evidence"]
            if stored:
                return Response(stored)
            job = run_evidence_job(run, user=user, again=again)
        except RunRefused as refused:
            raise Conflict({"detail": str(refused)}) from None
        return _evidence_answer(job)


class FactorEvidenceCancel(Endpoint, APIView):
    """Cancel the study's queued or running evidence job (a running one stops at its next
    batch of draws)."""

    write_capability = Can.ANALYSE

    @extend_schema(request=None, responses={200: s.FactorEvidenceJobSerializer, 409: OpenApiTypes.OBJECT})
    def post(self, request: Request, slug: str, job_id: int) -> Response:
        from qsort.runs.models import FactorEvidence as Job
        from qsort.runs.stability import cancel_job

        job = get_object_or_404(Job.objects.defer("result"), pk=job_id, study=self.study())
        if not job.can_cancel:
            raise Conflict({"detail": _("This job has already ended (%(status)s).") % {"status": job.status}})
        cancel_job(job)
        return Response(s.FactorEvidenceJobSerializer(job).data)


# --- exports -----------------------------------------------------------------------------
FILE_RESPONSE = {
    (200, "application/octet-stream"): OpenApiResponse(OpenApiTypes.BINARY, description="The file."),
    404: OpenApiResponse(description="No such study or file."),
}


class StudyExport(Endpoint, APIView):
    """`sorts.csv`, `statements.csv`, `study.dat`, `study.sta`, `results.json` (logged)."""

    read_capability = Can.DOWNLOAD

    @extend_schema(responses=FILE_RESPONSE)
    def get(self, request: Request, slug: str, file: str) -> HttpResponse:
        study = self.study()
        return _export(
            file, exchange.STUDY_FILES, lambda: exchange.export_study_file(study, file, request.user, via_api=True)
        )


class RunExport(Endpoint, APIView):
    """`factor-arrays.csv`, `factor-arrays.xlsx`, `factor-arrays.json`, `result.json`, `report.xlsx`."""

    @extend_schema(responses=FILE_RESPONSE)
    def get(self, request: Request, run_id: int, file: str) -> HttpResponse:
        run = _run_for(request, run_id, Can.DOWNLOAD)
        return _export(
            file, exchange.RUN_FILE_NAMES, lambda: exchange.export_run_file(run, file, request.user, via_api=True)
        )


def _export(file: str, available: Iterable[str], export: Callable[[], exchange.Export]) -> HttpResponse:
    """One download through the exchange room: 404 naming the files there are, 409 when the
    export cannot be made now (the exchange says why)."""
    if file not in available:
        raise NotFound(
            _("No export called '%(file)s'. Available: %(files)s.") % {"file": file, "files": ", ".join(available)}
        )
    try:
        return export().as_response()
    except exchange.ExportUnavailable as unavailable:
        raise Conflict({"detail": str(unavailable)}) from None

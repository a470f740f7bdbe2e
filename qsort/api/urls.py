from csp.decorators import csp_update
from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerSplitView

from qsort.api import sessions, views
from qsort.api.tokens import ObtainToken

# The vendored documentation apps style themselves with inline styles and draw icons as data:
# images (Redoc also searches in a blob: worker); everything else stays 'self'. Their pages are
# our templates, without the vendors' inline script and web fonts.
DOCS_POLICY = csp_update(
    {"style-src": ["'self'", "'unsafe-inline'"], "img-src": ["'self'", "data:"], "worker-src": ["'self'", "blob:"]}
)


def docs(template: str) -> dict[str, str]:
    return {"url_name": "api:schema", "template_name": f"api/{template}.html"}


app_name = "api"
urlpatterns = [
    path("token/", ObtainToken.as_view(), name="token"),
    path("studies/", views.StudyList.as_view(), name="studies"),
    path("studies/<slug:slug>/", views.StudyDetail.as_view(), name="study"),
    path("studies/<slug:slug>/statements/", views.StatementList.as_view(), name="statements"),
    path("studies/<slug:slug>/statements/<int:number>/", views.StatementDetail.as_view(), name="statement"),
    path("studies/<slug:slug>/participants/", views.ParticipantList.as_view(), name="participants"),
    path("studies/<slug:slug>/sorts/", views.SortList.as_view(), name="sorts"),
    path("studies/<slug:slug>/analyses/", views.AnalysisList.as_view(), name="analyses"),
    path("studies/<slug:slug>/export/<str:file>", views.StudyExport.as_view(), name="study_export"),
    path("studies/<slug:slug>/sessions/", sessions.SessionList.as_view(), name="sessions"),
    path("sessions/<int:session_id>/summary/", sessions.SessionSummary.as_view(), name="session_summary"),
    path("participate/<str:token>/consent/", views.ParticipantConsent.as_view(), name="participant_consent"),
    path("participate/<str:token>/sort/", views.SubmitSort.as_view(), name="submit_sort"),
    path("analyses/<int:run_id>/", views.AnalysisDetail.as_view(), name="analysis"),
    path("analyses/<int:run_id>/retry/", views.AnalysisRetry.as_view(), name="analysis_retry"),
    path("analyses/<int:run_id>/bootstrap/", views.AnalysisBootstrap.as_view(), name="analysis_bootstrap"),
    path(
        "analyses/<int:run_id>/factor-evidence/",
        views.AnalysisFactorEvidence.as_view(),
        name="analysis_factor_evidence",
    ),
    path("bootstraps/<int:bootstrap_id>/", views.BootstrapDetail.as_view(), name="bootstrap"),
    path("bootstraps/<int:bootstrap_id>/cancel/", views.BootstrapCancel.as_view(), name="bootstrap_cancel"),
    path("studies/<slug:slug>/factor-evidence/", views.FactorEvidence.as_view(), name="factor_evidence"),
    path(
        "studies/<slug:slug>/factor-evidence/<int:job_id>/cancel/",
        views.FactorEvidenceCancel.as_view(),
        name="factor_evidence_cancel",
    ),
    path("analyses/<int:run_id>/export/<str:file>", views.RunExport.as_view(), name="analysis_export"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", DOCS_POLICY(SpectacularSwaggerSplitView.as_view(**docs("swagger_ui"))), name="docs"),
    path("redoc/", DOCS_POLICY(SpectacularRedocView.as_view(**docs("redoc"))), name="redoc"),
]

from django.urls import path

from qsort.runs import views

app_name = "runs"
urlpatterns = [
    path("studies/<slug:slug>/results/", views.results, name="results"),
    path("studies/<slug:slug>/results/auto/", views.auto_reanalyse, name="auto"),
    path("studies/<slug:slug>/results/evidence/", views.evidence_again, name="evidence"),
    path("studies/<slug:slug>/results/evidence/<int:job_id>/cancel/", views.evidence_cancel, name="evidence_cancel"),
    path("studies/<slug:slug>/results/<int:run_id>/", views.run, name="run"),
    path("studies/<slug:slug>/results/<int:run_id>/evidence/", views.run_evidence_again, name="run_evidence"),
    path("studies/<slug:slug>/results/<int:run_id>/factors/<int:number>/", views.factor, name="factor"),
    path("studies/<slug:slug>/results/<int:run_id>/loadings/", views.loadings, name="loadings"),
    path("studies/<slug:slug>/results/<int:run_id>/consensus/", views.consensus, name="consensus"),
    path("studies/<slug:slug>/results/<int:run_id>/conditions/", views.conditions, name="conditions"),
    path("studies/<slug:slug>/results/<int:run_id>/stability/", views.stability, name="stability"),
    path("studies/<slug:slug>/results/<int:run_id>/stability/start/", views.start_bootstrap_view, name="bootstrap"),
    path(
        "studies/<slug:slug>/results/<int:run_id>/stability/<int:bootstrap_id>/cancel/",
        views.cancel_bootstrap_view,
        name="bootstrap_cancel",
    ),
    path("studies/<slug:slug>/results/<int:run_id>/report/", views.report, name="report"),
    path("studies/<slug:slug>/results/<int:run_id>/retry/", views.retry_run, name="retry"),
    path("studies/<slug:slug>/results/<int:run_id>/flags/", views.rerun_with_flags, name="flags"),
    path("studies/<slug:slug>/results/<int:run_id>/rotate/", views.rotate, name="rotate"),
    path("studies/<slug:slug>/results/<int:run_id>/reflect/", views.reflect, name="reflect"),
]

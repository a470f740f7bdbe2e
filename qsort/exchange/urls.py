from django.urls import path

from qsort.exchange import views

app_name = "exchange"
urlpatterns = [
    path("studies/import/", views.import_study, name="import_study"),
    path("studies/import/confirm/", views.import_study_confirm, name="import_study_confirm"),
    path("studies/<slug:slug>/data/", views.data_page, name="data"),
    path("studies/<slug:slug>/data/import/statements/", views.import_statements, name="import_statements"),
    path(
        "studies/<slug:slug>/data/import/statements/confirm/",
        views.import_statements_confirm,
        name="import_statements_confirm",
    ),
    path("studies/<slug:slug>/data/import/sorts/", views.import_sorts, name="import_sorts"),
    path("studies/<slug:slug>/data/import/sorts/confirm/", views.import_sorts_confirm, name="import_sorts_confirm"),
    path("studies/<slug:slug>/data/runs/<int:run_id>/<str:file>", views.download_run_file, name="run_file"),
    path("studies/<slug:slug>/data/<str:file>", views.download_study_file, name="study_file"),
]

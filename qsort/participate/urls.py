from django.urls import path

from qsort.participate import views

app_name = "participate"
urlpatterns = [
    path("p/<str:token>/", views.personal_link, name="personal_link"),
    path("p/<str:token>/consent/", views.consent, name="consent"),
    path("p/<str:token>/step/", views.step, name="step"),
    path("p/<str:token>/stop/", views.stop, name="stop"),
    path("p/<str:token>/save/", views.autosave, name="autosave"),
    path("p/<str:token>/submit/", views.submit, name="submit"),
    path("s/<slug:slug>/", views.open_link, name="open_link"),
]

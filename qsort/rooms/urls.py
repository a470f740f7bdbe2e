from django.urls import path

from qsort.rooms import views

app_name = "rooms"
study = "studies/<slug:slug>/"
session = study + "sessions/<int:pk>/"
urlpatterns = [
    path(study + "sessions/", views.sessions, name="sessions"),
    path(session, views.session, name="session"),
    path(session + "status/", views.session_status, name="session_status"),
    path(session + "invite/", views.session_invite, name="session_invite"),
    path(session + "qr.svg", views.session_qr, name="session_qr"),
    path(session + "room/", views.room, name="room"),
    path(session + "room/screen/", views.room_screen, name="room_screen"),
    path(study + "interview-prompts/", views.prompts, name="prompts"),
    path(study + "participants/<int:pk>/guide/", views.guide, name="guide"),
    path(study + "participants/<int:pk>/guide.docx", views.guide_docx, name="guide_docx"),
    path(study + "results/<int:run_id>/factors/<int:factor>/schedule/", views.schedule, name="schedule"),
    path(study + "results/<int:run_id>/factors/<int:factor>/schedule.docx", views.schedule_docx, name="schedule_docx"),
    path("j/<str:token>/", views.join, name="join"),
]

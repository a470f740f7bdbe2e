from django.urls import path

from qsort.workspace import views, views_deck, views_people

app_name = "workspace"
study = "studies/<slug:slug>/"
urlpatterns = [
    path("", views.home, name="home"),
    path("studies/", views.study_list, name="studies"),
    path("studies/new/", views.study_new, name="study_new"),
    path(study, views.overview, name="overview"),
    path(study + "open/", views.study_open, name="open"),
    path(study + "close/", views.study_close, name="close"),
    path(study + "duplicate/", views.study_duplicate, name="duplicate"),
    path(study + "archive/", views.study_archive, name="archive"),
    path(study + "delete/", views.study_delete, name="delete"),
    path(study + "settings/", views.study_settings, name="settings"),
    path(study + "questions/add/", views.question_add, name="question_add"),
    path(study + "questions/<int:pk>/edit/", views.question_edit, name="question_edit"),
    path(study + "questions/<int:pk>/move/", views.question_move, name="question_move"),
    path(study + "questions/<int:pk>/delete/", views.question_delete, name="question_delete"),
    path(study + "team/", views.team, name="team"),
    path(study + "team/<int:pk>/", views.team_change, name="team_change"),
    path(study + "deck/", views_deck.deck, name="deck"),
    path(study + "deck/add/", views_deck.statement_add, name="statement_add"),
    path(study + "deck/reorder/", views_deck.deck_reorder, name="deck_reorder"),
    path(study + "deck/import/", views_deck.deck_import, name="deck_import"),
    path(study + "deck/import/confirm/", views_deck.deck_import_confirm, name="deck_import_confirm"),
    path(study + "deck/<int:pk>/edit/", views_deck.statement_edit, name="statement_edit"),
    path(study + "deck/<int:pk>/move/", views_deck.statement_move, name="statement_move"),
    path(study + "deck/<int:pk>/delete/", views_deck.statement_delete, name="statement_delete"),
    path(study + "grid/", views_deck.grid, name="grid"),
    path(study + "participants/", views_people.participants, name="participants"),
    path(study + "participants/invite/", views_people.participants_invite, name="invite"),
    path(study + "participants/links.csv", views_people.participants_csv, name="links_csv"),
    path(study + "participants/<int:pk>/qr.svg", views_people.participant_qr, name="qr"),
    path(study + "participants/<int:pk>/withdraw/", views_people.participant_withdraw, name="withdraw"),
    path(study + "paper-sort/", views_people.paper_sort, name="paper_sort"),
    path(study + "print/", views_people.print_deck, name="print"),
]

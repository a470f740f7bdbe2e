"""The Data page: who sees what, downloads logged, imports previewed then applied on confirmation."""

from __future__ import annotations

import html
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from qsort.exchange import pqmethod
from qsort.exchange.models import DownloadLog
from qsort.studies.models import DeckLocked, Sort, Study

pytestmark = pytest.mark.django_db
pytest_plugins = ["tests.api_support"]


def test_anonymous_visitors_are_sent_to_login(client, study):
    for url in ("/studies/tiny/data/", "/studies/tiny/data/sorts.csv", "/studies/import/"):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")


def test_strangers_get_404_everywhere(client, stranger, stored_run):
    client.force_login(stranger)
    for url in (
        "/studies/tiny/data/",
        "/studies/tiny/data/sorts.csv",
        f"/studies/tiny/data/runs/{stored_run.pk}/result.json",
    ):
        assert client.get(url).status_code == 404
    assert client.post("/studies/tiny/data/import/statements/", {"text": "x"}).status_code == 404
    assert not DownloadLog.objects.exists()


def test_researchers_see_downloads_but_no_imports(client, researcher, stored_run):
    client.force_login(researcher)
    page = client.get("/studies/tiny/data/").content.decode()
    assert "/studies/tiny/data/sorts.csv" in page
    assert f"/studies/tiny/data/runs/{stored_run.pk}/report.xlsx" in page
    assert "/data/import/" not in page
    assert client.post("/studies/tiny/data/import/statements/", {"text": "x"}).status_code == 403


def test_facilitators_see_imports_but_cannot_download(client, facilitator, study):
    client.force_login(facilitator)
    page = client.get("/studies/tiny/data/").content.decode()
    assert "/data/import/statements/" in page
    assert "/studies/tiny/data/sorts.csv" not in page
    assert client.get("/studies/tiny/data/sorts.csv").status_code == 403
    assert not DownloadLog.objects.exists()


def test_a_download_is_served_as_an_attachment_and_logged(client, researcher, stored_run):
    client.force_login(researcher)
    response = client.get("/studies/tiny/data/study.dat")
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="TINY.DAT"'
    assert response.content.startswith(b"  0  1  6 Tiny study\r\n")
    response = client.get(f"/studies/tiny/data/runs/{stored_run.pk}/result.json")
    assert response.json() == {"answer": 42}
    logs = list(DownloadLog.objects.order_by("id").values_list("user__username", "file", "run", "via_api"))
    assert logs == [("resea", "study.dat", None, False), ("resea", "result.json", stored_run.pk, False)]
    page = client.get("/studies/tiny/data/").content.decode()
    assert "study.dat" in page and "resea" in page  # the recent downloads table
    assert client.get("/studies/tiny/data/passwords.txt").status_code == 404


def test_an_unfinished_run_cannot_be_downloaded(client, researcher, stored_run):
    stored_run.status, stored_run.result = "running", None
    stored_run.save()
    client.force_login(researcher)
    response = client.get(f"/studies/tiny/data/runs/{stored_run.pk}/report.xlsx", follow=True)
    assert "no result yet" in response.content.decode()
    assert not DownloadLog.objects.exists()


def previewed(page: str) -> list[str]:
    """The statements a preview's confirm button would send."""
    return [html.unescape(value) for value in re.findall(r'name="statement" value="([^"]*)"', page)]


def test_statements_import_shows_a_preview_and_saves_only_on_confirm(client, facilitator, study):
    client.force_login(facilitator)
    upload = SimpleUploadedFile("deck.csv", b"text\r\nSeventh <b>bold</b>\r\nEighth\r\n", content_type="text/csv")
    response = client.post("/studies/tiny/data/import/statements/", {"file": upload})
    page = response.content.decode()
    assert "2 statements will be added" in page
    assert "Seventh &lt;b&gt;bold&lt;/b&gt;" in page  # shown as text
    assert study.statements.count() == 6
    confirmed = {"statement": previewed(page)}
    response = client.post("/studies/tiny/data/import/statements/confirm/", confirmed, follow=True)
    assert "2 statements added to the deck." in response.content.decode()
    assert list(study.statements.filter(number__gt=6).values_list("text", flat=True)) == [
        "Seventh <b>bold</b>",
        "Eighth",
    ]
    response = client.post("/studies/tiny/data/import/statements/confirm/", confirmed, follow=True)
    assert "0 statements added to the deck." in response.content.decode()  # confirming again adds nothing
    assert study.statements.count() == 8


def test_a_preview_says_which_lines_are_skipped_and_why(client, facilitator, study):
    client.force_login(facilitator)
    response = client.post("/studies/tiny/data/import/statements/", {"text": "New\n\nStatement number 1\n"})
    page = response.content.decode()
    assert "1 statement will be added" in page
    assert "Empty line. Skipped." in page and "Already in the deck. Skipped." in page
    assert previewed(page) == ["New"]
    assert study.statements.count() == 6
    client.post("/studies/tiny/data/import/statements/confirm/", {"statement": previewed(page)})
    assert list(study.statements.filter(number__gt=6).values_list("text", flat=True)) == ["New"]


def test_uploads_over_the_limit_are_refused_with_a_message(client, facilitator, study, settings):
    settings.QSORT_MAX_UPLOAD_BYTES = 100
    client.force_login(facilitator)
    upload = SimpleUploadedFile("big.txt", b"A statement\n" * 20)
    response = client.post("/studies/tiny/data/import/statements/", {"file": upload})
    page = response.content.decode()
    assert "big.txt is 240\xa0bytes; files up to 100\xa0bytes can be imported. Nothing was saved." in page
    assert study.statements.count() == 6
    assert f"exchange:statements:{study.pk}" not in client.session


def test_a_new_study_is_created_from_pqmethod_files(client, owner, demo_study):
    from qsort.exchange import services

    data = services.load_study_data(demo_study)
    sta = SimpleUploadedFile("RELAPSE.STA", pqmethod.write_sta([t for _, t in data.statements]))
    dat = SimpleUploadedFile(
        "RELAPSE.DAT", pqmethod.write_dat("Relapse (copy)", data.grid, [(r.label, r.values) for r in data.sorts])
    )
    client.force_login(owner)
    assert "Import a study from PQMethod" in client.get("/studies/import/").content.decode()
    page = client.post("/studies/import/", {"sta": sta, "dat": dat}).content.decode()
    assert "38 statements and 40 sorts will be imported" in page
    assert Study.objects.count() == 1
    response = client.post("/studies/import/confirm/", {"title": "Relapse, imported"})
    study = Study.objects.get(title="Relapse, imported")
    assert response["Location"] == f"/studies/{study.slug}/data/"
    assert study.owner == owner
    assert Sort.objects.filter(study=study).count() == 40


def test_a_broken_pqmethod_file_is_explained_and_nothing_is_created(client, owner):
    client.force_login(owner)
    sta = SimpleUploadedFile("X.STA", b"one\r\ntwo\r\n")
    dat = SimpleUploadedFile("X.DAT", b"garbage\r\n")
    page = client.post("/studies/import/", {"sta": sta, "dat": dat}).content.decode()
    assert "The .DAT file needs two header lines" in page
    assert "Create the study" not in page
    page = client.post("/studies/import/", {"sta": SimpleUploadedFile("X.STA", b"one")}).content.decode()
    assert "Choose both files" in page
    assert Study.objects.count() == 0


def test_sorts_import_preview_then_confirm_stores_every_sort(client, owner, study):
    client.force_login(owner)
    csv_text = "statement_id,A1,A2\n1,-1,1\n2,-1,1\n3,0,0\n4,0,0\n5,1,-1\n6,1,-1\n"
    upload = SimpleUploadedFile("sorts.csv", csv_text.encode(), content_type="text/csv")
    page = client.post("/studies/tiny/data/import/sorts/", {"file": upload}).content.decode()
    assert "2 sorts will be stored" in page and "2 new participants" in page
    assert not Sort.objects.exists()
    response = client.post("/studies/tiny/data/import/sorts/confirm/", follow=True)
    assert "2 sorts imported." in response.content.decode()
    assert sorted(study.sorts.values_list("participant__code", flat=True)) == ["A1", "A2"]
    response = client.post("/studies/tiny/data/import/sorts/confirm/")
    assert "The preview has expired" in response.content.decode()  # confirming twice stores nothing twice
    assert study.sorts.count() == 2


def test_an_htmx_preview_returns_only_the_imports_card(client, facilitator, study):
    client.force_login(facilitator)
    response = client.post("/studies/tiny/data/import/statements/", {"text": "Seventh\n"}, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert html.lstrip().startswith('<section class="card" id="imports"')
    assert "<html" not in html
    assert "1 statement will be added" in html
    assert study.statements.count() == 6


def test_the_data_page_costs_the_same_queries_however_many_downloads_and_runs(
    client, researcher, stored_run, django_assert_max_num_queries
):
    from qsort.runs.models import AnalysisRun

    client.force_login(researcher)
    for _ in range(5):
        AnalysisRun.objects.create(study=stored_run.study, status="done", progress=100, parameters={}, result={})
        client.get("/studies/tiny/data/sorts.csv")
    with django_assert_max_num_queries(12):
        page = client.get("/studies/tiny/data/").content.decode()
    assert page.count("report.xlsx") == 6


def test_a_sort_arriving_between_preview_and_confirm_cancels_the_import(client, facilitator, study, tiny_sort):
    from qsort.studies.services import submit_sort

    client.force_login(facilitator)
    page = client.post("/studies/tiny/data/import/statements/", {"text": "Seventh\n"}).content.decode()
    submit_sort(study.invite(codes=["LATE"])[0], tiny_sort.items())  # the deck locks meanwhile
    confirmed = {"statement": previewed(page)}
    page = client.post("/studies/tiny/data/import/statements/confirm/", confirmed, follow=True).content.decode()
    assert str(DeckLocked()) in html.unescape(page)
    assert study.statements.count() == 6

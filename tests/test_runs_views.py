"""The results pages: who may see and start runs, what a bad request is told, and the runs
that flags, hand rotation, reflection and retry create."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from qsort.runs.models import QUEUED_STALE_AFTER, AnalysisRun, worker_lost_before
from qsort.studies.models import SortComment
from tests.conftest import make_study
from tests.runs_support import add_sorts, execute

pytestmark = pytest.mark.django_db
PCA3 = {"factors": 2, "extraction": "pca", "rotation": "varimax"}


def results_url(study) -> str:
    return f"/studies/{study.slug}/results/"


def run_url(run, suffix: str = "") -> str:
    return f"/studies/{run.study.slug}/results/{run.pk}/{suffix}"


@pytest.fixture
def done_run(sorted_study, owner):
    run = AnalysisRun.objects.create(study=sorted_study, created_by=owner, parameters={**PCA3})
    return execute(run)


@pytest.mark.parametrize(("persona", "offered"), [("owner", True), ("researcher", True), ("facilitator", False)])
def test_the_dashboard_offers_the_run_files_only_to_roles_that_may_download(
    client, request, persona, offered, done_run
):
    client.force_login(request.getfixturevalue(persona))
    page = client.get(run_url(done_run, "report/")).content.decode()
    report = f"/studies/{done_run.study.slug}/data/runs/{done_run.pk}/report.xlsx"
    assert (report in page) is offered
    assert (f"/studies/{done_run.study.slug}/data/runs/{done_run.pk}/factor-arrays.csv" in page) is offered


# --- permissions ---------------------------------------------------------------------------


RUN_PAGES = ("", "factors/1/", "factors/2/", "loadings/", "consensus/", "stability/", "report/")


def test_anonymous_visitors_are_sent_to_the_login_page(client, sorted_study, done_run):
    for url in (results_url(sorted_study), *(run_url(done_run, page) for page in RUN_PAGES)):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")


def test_strangers_get_404_on_every_results_url(client, stranger, done_run):
    client.force_login(stranger)
    for url in (results_url(done_run.study), *(run_url(done_run, page) for page in RUN_PAGES)):
        assert client.get(url).status_code == 404
    for suffix in ("retry/", "flags/", "rotate/", "reflect/"):
        assert client.post(run_url(done_run, suffix), {"factor": 1}).status_code == 404
    assert client.post(results_url(done_run.study), PCA3).status_code == 404
    assert AnalysisRun.objects.count() == 1


@pytest.mark.parametrize("persona", ["owner", "facilitator", "researcher"])
def test_every_collaborator_can_read_the_results(client, request, persona, done_run):
    client.force_login(request.getfixturevalue(persona))
    page = client.get(results_url(done_run.study))
    assert page.status_code == 200
    assert f"Run {done_run.pk}" in page.content.decode()
    for page in RUN_PAGES:
        assert client.get(run_url(done_run, page)).status_code == 200
    assert "Composite sort" in client.get(run_url(done_run, "factors/1/")).content.decode()
    assert "S01" in client.get(run_url(done_run, "loadings/")).content.decode()


def test_a_facilitator_cannot_start_runs_or_change_flags_rotation_or_reflection(client, facilitator, done_run):
    client.force_login(facilitator)
    assert client.post(results_url(done_run.study), PCA3).status_code == 403
    assert client.post(run_url(done_run, "flags/"), {"flag": ["0:1"]}).status_code == 403
    assert client.post(run_url(done_run, "rotate/"), {"first": 1, "second": 2, "angle": 10}).status_code == 403
    assert client.post(run_url(done_run, "reflect/"), {"factor": 1}).status_code == 403
    assert AnalysisRun.objects.count() == 1
    page = client.get(run_url(done_run, "loadings/")).content.decode()
    assert "Re-run with these flags" not in page
    assert 'name="flag"' not in page
    assert "Hand rotation" not in page
    assert (
        "Only the study's owner and researchers can start" in client.get(results_url(done_run.study)).content.decode()
    )


def test_runs_of_another_study_are_not_reachable_through_this_one(client, owner, done_run):
    other = make_study(owner, slug="other")
    client.force_login(owner)
    for page in RUN_PAGES:
        assert client.get(f"/studies/{other.slug}/results/{done_run.pk}/{page}").status_code == 404


# --- starting a run ------------------------------------------------------------------------


def test_a_researcher_starts_a_run_which_is_queued_after_commit(
    client, researcher, sorted_study, django_capture_on_commit_callbacks
):
    client.force_login(researcher)
    with django_capture_on_commit_callbacks() as callbacks:
        response = client.post(results_url(sorted_study), {"factors": 2, "extraction": "centroid", "rotation": "none"})
    run = AnalysisRun.objects.get()
    assert response.status_code == 302
    assert response["Location"] == run_url(run)
    assert (run.status, run.created_by, run.automatic) == ("queued", researcher, False)
    assert run.parameters == {
        "factors": 2,
        "extraction": "centroid",
        "rotation": "none",
        "flag_overrides": [],
        "pair_rotations": [],
        "reflections": [],
    }
    assert len(callbacks) == 1  # the task is sent only once the row is committed


def test_asking_for_more_factors_than_sorts_is_refused_in_plain_words(client, owner, study):
    add_sorts(study, 3)
    client.force_login(owner)
    response = client.post(results_url(study), {"factors": 5, "extraction": "pca", "rotation": "varimax"})
    assert response.status_code == 200
    assert "You asked for 5 factors but the study has only 3 completed sorts: choose at most 3." in (
        response.content.decode()
    )
    assert not AnalysisRun.objects.exists()


def test_asking_for_as_many_factors_as_statements_is_refused(client, owner, sorted_study):
    client.force_login(owner)
    response = client.post(results_url(sorted_study), {"factors": 6, "extraction": "pca", "rotation": "varimax"})
    assert "With 6 statements an analysis can find at most 5 factors." in response.content.decode()
    assert not AnalysisRun.objects.exists()


def test_a_study_without_completed_sorts_says_so(client, owner, study):
    client.force_login(owner)
    response = client.post(results_url(study), PCA3)
    assert "There are no completed sorts yet: an analysis needs at least two." in response.content.decode()
    assert "The scree appears once at least two sorts are completed." in response.content.decode()
    assert not AnalysisRun.objects.exists()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"factors": 0, "extraction": "pca", "rotation": "varimax"}, "greater than or equal to 1"),
        ({"factors": 2, "extraction": "ml", "rotation": "varimax"}, "Select a valid choice"),
        ({"factors": 2, "extraction": "pca", "rotation": "oblimin"}, "Select a valid choice"),
        ({"factors": "two", "extraction": "pca", "rotation": "varimax"}, "Enter a whole number"),
    ],
)
def test_bad_parameters_are_refused_with_the_field_error(client, owner, sorted_study, data, message):
    client.force_login(owner)
    response = client.post(results_url(sorted_study), data)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not AnalysisRun.objects.exists()


def test_the_results_page_shows_the_scree_and_the_history_in_few_queries(
    client, owner, sorted_study, django_assert_max_num_queries
):
    for _ in range(5):
        AnalysisRun.objects.create(study=sorted_study, created_by=owner, parameters={**PCA3})
    client.force_login(owner)
    client.get(results_url(sorted_study))  # the first view of these sorts queues their evidence job
    with django_assert_max_num_queries(11):  # then one look-up finds it
        page = client.get(results_url(sorted_study)).content.decode()
    assert page.count("2 factors, PCA, varimax") == 6  # five history rows and the latest run
    assert 'aria-label="Scree plot of the eigenvalues"' in page


def test_a_researcher_switches_automatic_re_analysis_on_and_off(client, researcher, facilitator, stranger, study):
    url = f"/studies/{study.slug}/results/auto/"
    client.force_login(researcher)
    response = client.post(url, {"auto_reanalyse": "on"}, follow=True)
    assert "will re-run automatically when a new sort is completed" in response.content.decode()
    study.refresh_from_db()
    assert study.auto_reanalyse is True
    client.post(url, {})
    study.refresh_from_db()
    assert study.auto_reanalyse is False
    client.force_login(facilitator)
    assert client.post(url, {"auto_reanalyse": "on"}).status_code == 403
    client.force_login(stranger)
    assert client.post(url, {"auto_reanalyse": "on"}).status_code == 404
    study.refresh_from_db()
    assert study.auto_reanalyse is False


def test_the_scree_is_computed_once_per_state_of_the_data(owner, study, django_assert_num_queries):
    from qsort.runs.services import scree_eigenvalues

    add_sorts(study, 4)
    first = scree_eigenvalues(study)
    assert len(first) == 4 and first == sorted(first, reverse=True)
    with django_assert_num_queries(1):  # only the data's state; the eigenvalues come from the cache
        assert scree_eigenvalues(study) == first
    add_sorts(study, 1, codes=["LATE"])
    assert len(scree_eigenvalues(study)) == 5


# --- progress --------------------------------------------------------------------------------


def test_a_queued_run_polls_its_progress_partial_every_second(client, owner, sorted_study):
    run = AnalysisRun.objects.create(study=sorted_study, created_by=owner, parameters={**PCA3})
    AnalysisRun.objects.filter(pk=run.pk).update(
        status="running", progress=47, stage="rotating", started_at=timezone.now()
    )
    client.force_login(owner)
    partial = client.get(run_url(run), headers={"HX-Request": "true", "HX-Target": "run-body"}).content.decode()
    assert partial.startswith('\n<div id="run-body"') or partial.lstrip().startswith('<div id="run-body"')
    assert 'hx-trigger="every 1s"' in partial
    assert 'value="47"' in partial
    assert "Rotating" in partial
    assert "<html" not in partial


def test_a_finished_run_stops_polling_and_swaps_in_the_dashboard(client, owner, done_run):
    client.force_login(owner)
    partial = client.get(run_url(done_run), headers={"HX-Request": "true", "HX-Target": "run-body"}).content.decode()
    assert "hx-trigger" not in partial.split(">", 1)[0]
    assert '<progress max="100" value="100"' in partial
    # the run's pages appear with the overview: tabs to every factor, the characteristics, the scree
    assert 'aria-label="Pages of this run"' in partial
    for f in range(1, 3):
        assert f'href="{run_url(done_run, f"factors/{f}/")}"' in partial
    assert "Factors found" in partial and "Scree of eigenvalues" in partial


def test_a_failed_run_shows_its_error_and_can_be_retried(
    client, owner, sorted_study, django_capture_on_commit_callbacks
):
    run = AnalysisRun.objects.create(
        study=sorted_study, created_by=owner, parameters={**PCA3}, status="failed", error="Sort S03 has one value."
    )
    client.force_login(owner)
    page = client.get(run_url(run)).content.decode()
    assert "Sort S03 has one value." in page
    assert "hx-trigger" not in page
    with django_capture_on_commit_callbacks() as callbacks:
        response = client.post(run_url(run, "retry/"))
    assert response.status_code == 302
    run.refresh_from_db()
    assert (run.status, run.error, run.progress) == ("queued", "", 0)
    assert len(callbacks) == 1


def test_a_run_queued_too_long_is_stale_and_can_be_retried(client, owner, sorted_study):
    run = AnalysisRun.objects.create(study=sorted_study, created_by=owner, parameters={**PCA3})
    AnalysisRun.objects.filter(pk=run.pk).update(queued_at=timezone.now() - QUEUED_STALE_AFTER - timedelta(seconds=1))
    client.force_login(owner)
    page = client.get(run_url(run)).content.decode()
    assert "Stale" in page
    assert "the analysis worker may be down" in page
    assert "hx-trigger" not in page
    client.post(run_url(run, "retry/"))
    run.refresh_from_db()
    assert run.status == "queued" and not run.is_stale


def test_a_run_whose_worker_died_is_stale_and_retried_from_scratch(
    client, researcher, sorted_study, django_capture_on_commit_callbacks
):
    run = AnalysisRun.objects.create(study=sorted_study, created_by=researcher, parameters={**PCA3})
    long_ago = worker_lost_before() - timedelta(seconds=1)
    AnalysisRun.objects.filter(pk=run.pk).update(
        status="running", stage="rotating", progress=55, started_at=long_ago, heartbeat_at=long_ago
    )
    client.force_login(researcher)
    page = client.get(run_url(run)).content.decode()
    assert "Stale" in page and "Retry" in page and "hx-trigger" not in page
    with django_capture_on_commit_callbacks(execute=True):
        client.post(run_url(run, "retry/"))  # with the broker up, a worker would take it from here
    run.refresh_from_db()
    assert (run.status, run.progress, run.stage, run.started_at) == ("queued", 0, "", None)
    execute(run)
    assert run.status == "done"


def test_a_finished_run_cannot_be_retried(client, owner, done_run):
    client.force_login(owner)
    response = client.post(run_url(done_run, "retry/"), follow=True)
    assert "Only a failed run, or one that stopped making progress, can be retried." in response.content.decode()
    done_run.refresh_from_db()
    assert done_run.status == "done"


# --- derived runs: flags, rotation, reflection ----------------------------------------------


def test_toggled_flags_start_a_new_run_with_those_overrides_and_keep_the_old_one(client, owner, done_run):
    flags = done_run.result["flags"]
    ticked = [f"{i}:{f + 1}" for i, row in enumerate(flags) for f, flag in enumerate(row) if flag]
    first_flag = ticked.pop(0)  # untick the first sort's flag
    unflagged_sort = int(first_flag.split(":")[0])
    client.force_login(owner)
    response = client.post(run_url(done_run, "flags/"), {"flag": [*ticked, "1:2" if "1:2" not in ticked else "1:1"]})
    new = AnalysisRun.objects.exclude(pk=done_run.pk).get()
    assert response["Location"] == run_url(new)
    overrides = {(sort, factor): flag for sort, factor, flag in new.parameters["flag_overrides"]}
    label = done_run.result["sorts"][unflagged_sort]
    assert overrides[(label, int(first_flag.split(":")[1]))] is False
    assert new.parameters["factors"] == done_run.parameters["factors"]
    execute(new)
    assert new.result["flags"][unflagged_sort][int(first_flag.split(":")[1]) - 1] is False
    done_run.refresh_from_db()
    assert done_run.status == "done" and done_run.result["flags"] == flags


def test_a_hand_rotation_previews_then_runs_as_a_new_run(client, owner, done_run):
    client.force_login(owner)
    preview = client.get(
        run_url(done_run, "loadings/"),
        {"first": 1, "second": 2, "angle": 30},
        headers={"HX-Request": "true", "HX-Target": "rotation-preview"},
    ).content.decode()
    assert preview.lstrip().startswith('<div id="rotation-preview">')
    assert "<svg" in preview and "Run with this rotation" in preview
    assert not AnalysisRun.objects.exclude(pk=done_run.pk).exists()

    client.post(run_url(done_run, "rotate/"), {"first": 1, "second": 2, "angle": 30})
    new = AnalysisRun.objects.exclude(pk=done_run.pk).get()
    assert new.parameters["pair_rotations"] == [[1, 2, 30.0]]
    execute(new)
    assert new.status == "done"
    assert new.result["loadings"] != done_run.result["loadings"]


def test_a_rotation_of_a_factor_with_itself_is_refused(client, owner, done_run):
    client.force_login(owner)
    response = client.post(run_url(done_run, "rotate/"), {"first": 2, "second": 2, "angle": 10}, follow=True)
    assert "Choose two different factors of this analysis (1 to 2)." in response.content.decode()
    assert AnalysisRun.objects.count() == 1


def test_reflecting_a_factor_starts_a_run_with_that_factor_turned_over(client, owner, done_run):
    client.force_login(owner)
    client.post(run_url(done_run, "reflect/"), {"factor": 2})
    new = execute(AnalysisRun.objects.exclude(pk=done_run.pk).get())
    assert new.parameters["reflections"] == [2]
    old_z = [row[1] for row in done_run.result["zscores"]]
    new_z = [row[1] for row in new.result["zscores"]]
    assert new_z == pytest.approx([-z for z in old_z])


def test_reflecting_a_factor_that_does_not_exist_is_refused(client, owner, done_run):
    client.force_login(owner)
    response = client.post(run_url(done_run, "reflect/"), {"factor": 7}, follow=True)
    assert "Factor 7 is not part of this analysis." in response.content.decode()
    assert AnalysisRun.objects.count() == 1


# --- the dashboard ---------------------------------------------------------------------------


def test_the_dashboard_shows_comments_beside_statements_and_escapes_every_label(client, owner, study):
    add_sorts(study, 9, codes=["<b>x</b>", *[f"S{i:02d}" for i in range(2, 10)]])
    first = study.sorts.order_by("submitted_at").first()
    SortComment.objects.create(sort=first, statement=study.statements.get(number=1), text="<script>alert(1)</script>")
    study.statements.filter(number=2).update(text="Cards & <i>markup</i>")
    run = execute(AnalysisRun.objects.create(study=study, created_by=owner, parameters={**PCA3}))
    client.force_login(owner)
    pages = {page: client.get(run_url(run, page)).content.decode() for page in RUN_PAGES}
    for page in pages.values():
        assert "<script>alert(1)</script>" not in page
        assert "<b>x</b>" not in page
        assert "<i>markup</i>" not in page
        for participant in study.participants.all():
            assert participant.token not in page
    factor_pages = pages["factors/1/"] + pages["factors/2/"]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in factor_pages
    assert "Cards &amp; &lt;i&gt;markup&lt;/i&gt;" in factor_pages
    assert "&lt;b&gt;x&lt;/b&gt;" in pages["loadings/"]


@pytest.mark.parametrize("vendor", ["postgresql", "sqlite"])  # `make run`'s path numbers them in the ORM
def test_a_statement_shows_its_first_comments_and_counts_the_rest(client, owner, study, monkeypatch, vendor):
    add_sorts(study, 9)
    for i, sort in enumerate(study.sorts.order_by("submitted_at")):
        SortComment.objects.create(sort=sort, statement=study.statements.get(number=1), text=f"said by {sort.pk}")
        if i < 6:  # a second statement with other counts: each statement is counted on its own
            SortComment.objects.create(sort=sort, statement=study.statements.get(number=2), text=f"also {sort.pk}")
    run = execute(AnalysisRun.objects.create(study=study, created_by=owner, parameters={**PCA3}))
    client.force_login(owner)
    monkeypatch.setattr(connection, "vendor", vendor)
    pages = (
        client.get(run_url(run, "factors/1/")).content.decode()
        + client.get(run_url(run, "factors/2/")).content.decode()
    )
    assert "9 comments" in pages and "and 4 more" in pages
    assert "6 comments" in pages and "and 1 more" in pages
    shown = [sort.pk for sort in study.sorts.order_by("submitted_at")]
    assert f"said by {shown[4]}" in pages and f"said by {shown[5]}" not in pages
    assert f"also {shown[4]}" in pages and f"also {shown[5]}" not in pages


@pytest.mark.parametrize(
    ("page", "queries"),
    # Each page's header shows the study's question, a Condition row of its own (one query), and
    # the tabs ask whether the study has sessions, for the factors-by-session page (one query).
    [("", 7), ("factors/1/", 8), ("loadings/", 9), ("consensus/", 8), ("stability/", 9), ("report/", 10)],
)
# Session, user, study, run, then the parts of its result the page shows (one query), plus the
# comments with their counts on the factor and consensus pages (one query), the statuses then
# the page of sorts on the loadings page: never more with more sorts.
def test_each_page_of_the_dashboard_renders_in_a_handful_of_queries(
    client, owner, done_run, page, queries, django_assert_max_num_queries
):
    client.force_login(owner)
    url = run_url(done_run, page)
    client.get(url)  # the overview's evidence panel is computed once, then cached
    with django_assert_max_num_queries(queries):
        assert client.get(url).status_code == 200


def test_each_htmx_partial_loads_only_what_it_shows(client, owner, done_run, django_assert_num_queries):
    client.force_login(owner)
    url = run_url(done_run, "loadings/")
    for target, query, queries, starts in (
        # session, user, study, run, and the result's threshold with the two columns drawn
        ("loadings-plot", {"x": 1, "y": 2}, 5, '<div id="loadings-plot"'),
        ("rotation-preview", {"first": 1, "second": 2, "angle": 5}, 5, '<div id="rotation-preview"'),
        # ... the statuses, then the page of sorts and its bootstrap flag frequencies
        ("loadings", {"status": "flagged"}, 7, '<section id="loadings"'),
    ):
        with django_assert_num_queries(queries), CaptureQueriesContext(connection) as captured:
            response = client.get(url, query, headers={"HX-Request": "true", "HX-Target": target})
        assert response.content.decode().lstrip().startswith(starts)
        assert "<html" not in response.content.decode()
        if target != "loadings":  # a plot reads neither every sort's status nor their rows
            assert not any("sort_status" in q["sql"] or "significant" in q["sql"] for q in captured)
    plot = client.get(url, {"x": 2, "y": 1}, headers={"HX-Request": "true", "HX-Target": "loadings-plot"})
    assert "Loadings of each sort on factor 2 (across) and factor 1 (up)" in plot.content.decode()
    assert plot.content.decode().count("<circle") == len(done_run.result["sorts"])


def test_each_factor_page_draws_its_composite_sort(client, owner, done_run):
    client.force_login(owner)
    for f, factor in enumerate(done_run.result["factors"], start=1):
        page = client.get(run_url(done_run, f"factors/{f}/")).content.decode()
        assert page.count('class="composite"') == (factor["defining_sorts"] > 0)
        assert f'aria-label="Composite sort of factor {f}"' in page
    assert client.get(run_url(done_run, "factors/3/")).status_code == 404


def test_the_pages_of_an_unfinished_run_lead_to_its_progress(client, owner, sorted_study):
    run = AnalysisRun.objects.create(study=sorted_study, created_by=owner, parameters={**PCA3})
    client.force_login(owner)
    for page in RUN_PAGES[1:]:
        response = client.get(run_url(run, page))
        assert response.status_code == 302 and response["Location"] == run_url(run)


def test_a_factor_the_engine_calls_mirrored_offers_reflection(client, owner, facilitator, done_run):
    result = done_run.result
    result["factors"][1]["mirrored"] = True
    result["warnings"] = ["Factor 2 is defined mainly by negative loadings."]
    AnalysisRun.objects.filter(pk=done_run.pk).update(result=result)
    client.force_login(owner)
    page = client.get(run_url(done_run)).content.decode()
    assert "Factor 2 is defined mainly by negative loadings." in page
    assert "Reflect factor 2 and re-run" in page
    assert "Reflect factor 1" not in page
    assert "mirror image of their viewpoint" in client.get(run_url(done_run, "factors/2/")).content.decode()
    assert "mirror image" not in client.get(run_url(done_run, "factors/1/")).content.decode()
    client.force_login(facilitator)
    assert "Reflect factor 2 and re-run" not in client.get(run_url(done_run)).content.decode()


def test_consensus_is_laid_out_at_the_01_level_with_the_05_level_marked(client, owner, done_run):
    from qsort.runs.dashboard import Dashboard

    result = done_run.result
    rows = Dashboard(result).consensus
    assert [r.statement.id for r in rows] == result["consensus_01"]
    assert [r.statement.id for r in rows if r.consensus_05] == result["consensus"]
    marks: dict[str, set[str]] = {}
    for difference in result["differences"]:
        marks.setdefault(difference["statement"], set()).add(difference["significance"])
    for row in rows:  # PQMethod: none of the pairs at p < .01; at .05 as well when marked
        assert marks[row.statement.id] <= {"", "*"}
        assert row.consensus_05 == (marks[row.statement.id] == {""})
    client.force_login(owner)
    page = client.get(run_url(done_run, "consensus/")).content.decode()
    assert page.count('<td class="st">') == len(rows)


def test_a_factors_statement_tables_put_that_factor_first(done_run):
    from qsort.runs.dashboard import Dashboard

    factor_2 = Dashboard(done_run.result).factor(2)
    for rows in (factor_2.distinguishing, factor_2.crib.top, factor_2.crib.bottom):
        for row in rows:
            assert [cell.factor for cell in row.cells] == [2, 1]
            assert row.cells[1].mark == ""  # only the factor being read is marked


def test_loadings_and_z_scores_are_written_as_floatformat_would_in_each_language():
    from django.template.defaultfilters import floatformat
    from django.utils import translation

    from qsort.runs.dashboard import two_places

    for language in ("en", "de"):
        with translation.override(language):
            for value in (0.4567, -1.234, 12.0, -0.001, 0.0, -2.996):
                assert two_places(value) == floatformat(value, 2), (language, value)
            assert two_places(None) == ""
    with translation.override("de"):
        assert two_places(-0.25) == "-0,25"

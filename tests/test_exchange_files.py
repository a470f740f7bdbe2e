"""Study exports and imports through the services: PQMethod round trip, CSV safety, statements."""

from __future__ import annotations

import csv
import io
import json

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from qsort.exchange import services, tables, writers
from qsort.exchange.forms import ImportForm
from qsort.exchange.models import DownloadLog
from qsort.exchange.statements import read_statements
from qsort.studies.models import DeckLocked, Study

pytestmark = pytest.mark.django_db
pytest_plugins = ["tests.api_support"]

INJECTION = '=HYPERLINK("http://x","y")'


def sorts_by_code(study: Study) -> dict[str, dict[int, int]]:
    return {sort.participant.code: sort.values_by_number() for sort in study.sorts.select_related("participant")}


def test_the_demo_survives_a_pqmethod_round_trip(demo_study):
    sta = services.export_study_file(demo_study, "study.sta", demo_study.owner)
    dat = services.export_study_file(demo_study, "study.dat", demo_study.owner)
    assert (sta.filename, dat.filename) == ("RELAPSEA.STA", "RELAPSEA.DAT")
    plan = services.preview_pqmethod(sta.body, dat.body)
    assert plan.problems == []
    assert plan.forced
    imported = services.create_study_from_pqmethod(plan, demo_study.owner)
    assert imported.slug == "relapse-and-recovery-2"
    assert imported.title == "Relapse and recovery"
    assert imported.status == "closed"
    assert list(imported.statements.values_list("number", "text")) == list(
        demo_study.statements.values_list("number", "text")
    )
    assert imported.grid() == demo_study.grid()
    assert sorts_by_code(imported) == sorts_by_code(demo_study)
    assert all(sort.entered_by == demo_study.owner for sort in imported.sorts.all())


def test_a_pqmethod_preview_lists_every_bad_sort_and_saves_nothing():
    sta = b"one\r\ntwo\r\nthree\r\n"
    dat = (
        "  0  2  3 Bad\r\n"
        + " -1  1"
        + "  0" * 5
        + "  1  1  1"
        + "  0" * 12
        + "\r\n"
        + "A         -1 0 1\r\n"
        + "B          1 1 1\r\n"
    ).encode()
    plan = services.preview_pqmethod(sta, dat)
    assert not plan.forced  # B does not hold the grid's distribution
    assert plan.grid == {-1: 1, 0: 1, 1: 3}
    assert plan.problems == []  # on a free grid widened to what the sorts use, both are valid
    plan = services.preview_pqmethod(b"one\r\ntwo\r\n", dat)
    assert plan.problems == ["The .STA file holds 2 statements but the .DAT file has 3 values per sort."]
    bad = dat.replace(b"B          1 1 1", b"B          1 1 7")
    plan = services.preview_pqmethod(sta, bad)
    assert any(p.startswith(".DAT line 4 (B): Statement 3 is placed at +7, outside the grid") for p in plan.problems)
    with pytest.raises(ValueError):
        services.create_study_from_pqmethod(plan, None)
    assert Study.objects.count() == 0


def test_statements_import_previews_problems_with_line_numbers(study):
    upload = SimpleUploadedFile("deck.csv", b"number,text\r\n1,New one\r\n2,\r\n3,new ONE\r\n4,Statement number 2\r\n")
    rows = study.preview_statements(read_statements(upload=upload))
    assert [(row.line, row.problem) for row in rows if not row.importable] == [
        (3, "Empty line."),
        (4, "Same as line 2."),
        (5, "Already in the deck."),
    ]
    rows = study.preview_statements(read_statements(text="Plain one\n'=SUM(A1)\nPlain two\n"))
    assert all(row.importable for row in rows)
    assert [row.text for row in rows] == ["Plain one", "=SUM(A1)", "Plain two"]  # our own neutralising is undone
    study.import_statements(row.text for row in rows)
    assert list(study.statements.filter(number__gt=6).values_list("number", "text")) == [
        (7, "Plain one"),
        (8, "=SUM(A1)"),
        (9, "Plain two"),
    ]


def test_statements_cannot_be_imported_into_a_locked_deck(one_sort_study):
    form = ImportForm({"text": "New\n"})
    assert form.preview(one_sort_study) == ([], str(DeckLocked()))
    with pytest.raises(DeckLocked):
        one_sort_study.import_statements(["New"])


def test_a_formula_statement_comes_out_inert_in_csv_and_xlsx(study, tiny_sort):
    statement = study.statements.get(number=1)
    statement.text = INJECTION
    statement.save()
    participant = study.invite(codes=["@evil"])[0]
    from qsort.studies.services import submit_sort

    submit_sort(participant, tiny_sort.items(), comments={1: "+1 for this"})
    data = services.load_study_data(study)

    rows = list(csv.reader(io.StringIO(writers.csv_bytes(tables.statements_table(data)).decode())))
    assert rows[1] == ["1", "'" + INJECTION]
    header = next(csv.reader(io.StringIO(writers.csv_bytes(tables.sorts_table(data)).decode())))
    assert header == ["statement_id", "'@evil"]

    book = openpyxl.load_workbook(
        io.BytesIO(writers.xlsx_bytes([tables.statements_table(data), tables.comments_table(data)]))
    )
    cell = book["Statements"]["B2"]
    assert cell.value == "'" + INJECTION
    assert cell.data_type == "s"  # text, not a formula
    assert book["Statements"]["A2"].value == 1  # numbers stay numbers
    comment_row = [c.value for c in book["Comments"][2]]
    assert comment_row == ["'@evil", 1, "'" + INJECTION, -1, "'+1 for this"]
    assert all(c.data_type != "f" for row in book["Comments"].iter_rows() for c in row)


def test_raw_sorts_csv_has_the_qmethod_layout_with_codes(demo_study):
    export = services.export_study_file(demo_study, "sorts.csv", demo_study.owner)
    rows = list(csv.reader(io.StringIO(export.body.decode())))
    assert rows[0] == ["statement_id", *(f"D{i:02d}" for i in range(1, 41))]
    assert [row[0] for row in rows[1:]] == [str(n) for n in range(1, 39)]
    first = demo_study.sorts.get(participant__code="D01").values_by_number()
    assert [int(row[1]) for row in rows[1:]] == [first[n] for n in range(1, 39)]
    assert export.filename == "relapse-and-recovery-sorts.csv"
    assert export.content_type.startswith("text/csv")


def test_easy_htmlq_json_holds_one_sort_string_per_participant(demo_study):
    export = services.export_study_file(demo_study, "results.json", demo_study.owner)
    records = json.loads(export.body)
    assert len(records) == 40
    record = records["D01"]
    first = demo_study.sorts.get(participant__code="D01").values_by_number()
    assert record["sort"] == "|".join(str(first[n]) for n in range(1, 39))
    assert record["uid"] == "D01"
    assert "datetime" in record


def test_every_export_is_logged(demo_study, researcher):
    for name in services.STUDY_FILES:
        services.export_study_file(demo_study, name, researcher)
    assert sorted(DownloadLog.objects.values_list("file", flat=True)) == sorted(services.STUDY_FILES)
    assert set(DownloadLog.objects.values_list("user", flat=True)) == {researcher.pk}


def test_loading_a_study_costs_a_constant_number_of_queries(demo_study, django_assert_max_num_queries):
    with django_assert_max_num_queries(8):
        data = services.load_study_data(demo_study)
    assert len(data.sorts) == 40 and len(data.statements) == 38


SORTS_CSV = (
    "statement_id,P01,NEW1,NEW2\nsta_1,-1,1,-1\nsta_2,-1,1,-1\nsta_3,0,0,0\nsta_4,0,0,0\nsta_5,1,-1,1\nsta_6,1,-1,1\n"
)


def test_sorts_import_uses_existing_participants_and_creates_new_ones(study, facilitator):
    waiting = study.invite(codes=["P01"])[0]
    plan = services.preview_sorts(study, SORTS_CSV.encode())
    assert plan.problems == []
    assert plan.codes == ["P01", "NEW1", "NEW2"]
    assert plan.new_codes == ["NEW1", "NEW2"]
    assert services.apply_sorts(study, plan, facilitator) == 3
    assert sorts_by_code(study)["NEW1"] == {1: 1, 2: 1, 3: 0, 4: 0, 5: -1, 6: -1}
    waiting.refresh_from_db()
    assert waiting.stage == "completed"
    assert set(study.sorts.values_list("entered_by", flat=True)) == {facilitator.pk}


def test_one_bad_column_stops_the_whole_sorts_import(study, facilitator, one_sort_study):
    bad = SORTS_CSV.replace("sta_6,1,-1,1", "sta_6,1,-1,4").replace("sta_5", "sta_9")
    plan = services.preview_sorts(study, bad.encode())
    assert plan.problems == [
        "Line 6: 'sta_9' is not a statement number of this study.",
        "The file has no row for statement(s) 5.",
    ]
    plan = services.preview_sorts(study, SORTS_CSV.replace("sta_6,1,-1,1", "sta_6,1,-1,4").encode())
    assert plan.problems == [
        "Column 2 (P01): this participant already has a sort.",
        "Column 4 (NEW2): Statement 6 is placed at +4, outside the grid (-1 to +1).",
    ]
    with pytest.raises(ValueError):
        services.apply_sorts(study, plan, facilitator)
    assert study.sorts.count() == 1
    assert not study.participants.filter(code__startswith="NEW").exists()
    plan = services.preview_sorts(study, b"statement_id,A\n1,x\n")
    assert plan.problems == ["Sort 'A', statement '1': the value is 'x', not an integer."]


def test_a_sort_stored_after_the_preview_makes_the_import_fail_whole(study, facilitator, tiny_sort):
    """The race between the (re-)preview and the transaction: the one validator still refuses."""
    from qsort.studies.services import submit_sort

    waiting = study.invite(codes=["P01"])[0]
    plan = services.preview_sorts(study, SORTS_CSV.encode())
    submit_sort(waiting, {**tiny_sort, 1: 1, 6: -1}.items())  # P01 sorts online meanwhile
    with pytest.raises(services.ImportFailed, match="already completed a different sort"):
        services.apply_sorts(study, plan, facilitator)
    assert list(study.sorts.values_list("participant__code", flat=True)) == ["P01"]
    assert not study.participants.filter(code__startswith="NEW").exists()


def test_the_xlsx_writer_keeps_every_kind_of_cell_as_a_spreadsheet_reads_it():
    """Our own XLSX writer, read back by openpyxl: types, blanks, spaces, markup, wide rows."""
    wide = tuple(range(30))  # past column Z
    text = ' <b>&"quoted"</b> '
    book = openpyxl.load_workbook(
        io.BytesIO(
            writers.xlsx_bytes(
                [
                    tables.Table("Cells", ("a", "b", "c", "d", "e"), [(1, 2.5, True, None, text), (-3, 1e-05, False)]),
                    tables.Table("Wide & <odd>", tuple(f"c{i}" for i in wide), [wide], note="Said above the table."),
                ]
            )
        )
    )
    assert book.sheetnames == ["Cells", "Wide & <odd>"]
    cells = book["Cells"]
    assert [c.value for c in cells[1]] == ["a", "b", "c", "d", "e"] and all(c.font.b for c in cells[1])
    assert [c.value for c in cells[2]] == [1, 2.5, True, None, text]
    assert [c.data_type for c in cells[2]][:3] == ["n", "n", "b"] and not cells["A2"].font.b
    assert [c.value for c in cells[3]][:3] == [-3, 1e-05, False]
    wide_sheet = book["Wide & <odd>"]
    assert wide_sheet["A1"].value == "Said above the table."
    assert [c.value for c in wide_sheet[3]] == list(wide) and wide_sheet["AD2"].value == "c29"

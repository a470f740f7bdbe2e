"""The interview guide and the factor schedule as Word documents (python-docx), laid out from the
same data as the printable pages, for researchers who edit their schedule in a word processor."""

from __future__ import annotations

from io import BytesIO
from typing import TYPE_CHECKING

from django.utils import formats
from django.utils.translation import gettext as _

from qsort.rooms.guides import FactorSchedule, InterviewGuide, ScheduleStatement

if TYPE_CHECKING:
    from docx.document import Document as DocxDocument


def _new_document(title: str) -> DocxDocument:
    # Imported here: python-docx (and lxml) took a fifth of a second of every process start
    # (`manage.py check` imports every view), and only these downloads need it.
    from docx import Document
    from docx.shared import Cm, Pt

    document = Document()
    section = document.sections[0]
    section.page_width, section.page_height = Cm(21.0), Cm(29.7)  # A4
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, Cm(2))
    document.styles["Normal"].font.size = Pt(11)
    document.add_heading(title, level=0)
    return document


def _saved(document: DocxDocument) -> bytes:
    out = BytesIO()
    document.save(out)
    return out.getvalue()


def guide_docx(guide: InterviewGuide) -> bytes:
    document = _new_document(_("Interview guide: %(label)s") % {"label": guide.label})
    document.add_paragraph(
        _("%(study)s · sorted on %(date)s%(paper)s")
        % {
            "study": guide.study.title,
            "date": formats.date_format(guide.submitted_at, "DATE_FORMAT"),
            "paper": _(" (paper sort)") if guide.entered_on_paper else "",
        }
    )
    document.add_paragraph(guide.question, style="Intense Quote")

    document.add_heading(_("Their sort"), level=1)
    grid = document.add_table(rows=1, cols=2)
    grid.style = "Table Grid"
    grid.rows[0].cells[0].text, grid.rows[0].cells[1].text = _("Column"), _("Cards")
    for column in guide.columns:
        row = grid.add_row().cells
        row[0].text = column.label
        row[1].text = "\n".join(f"{number}. {text}" for number, text in column.cards)

    for heading, cards in guide.sections():
        document.add_heading(heading, level=1)
        for card in cards:
            reference = _(" (reference %(position)s)") % {"position": card.reference} if card.reference else ""
            document.add_paragraph(f"{card.value_label}  {card.text}{reference}", style="List Bullet")
            if card.comment:
                document.add_paragraph(_("Their comment: “%(comment)s”") % {"comment": card.comment})
            document.add_paragraph(card.prompt, style="Intense Quote")

    if guide.answers:
        document.add_heading(_("Their answers after sorting"), level=1)
        for answer in guide.answers:
            document.add_paragraph(answer["question"], style="List Bullet")
            document.add_paragraph(answer["answer"])
            document.add_paragraph(answer["prompt"], style="Intense Quote")
    return _saved(document)


def _statement_table(document: DocxDocument, statements: list[ScheduleStatement]) -> None:
    table = document.add_table(rows=1, cols=3)
    table.style = "Table Grid"
    for cell, text in zip(table.rows[0].cells, (_("Array position"), _("z-score"), _("Statement")), strict=True):
        cell.text = text
    for statement in statements:
        row = table.add_row().cells
        row[0].text = statement.value_label
        row[1].text = f"{statement.zscore:+.2f}" if statement.zscore is not None else ""
        row[2].text = f"{statement.number}. {statement.text}"


def schedule_docx(schedule: FactorSchedule) -> bytes:
    document = _new_document(
        _("Interview schedule: factor %(factor)s of analysis #%(run)s")
        % {"factor": schedule.factor, "run": schedule.run.pk}
    )
    document.add_paragraph(
        _("%(study)s · %(n)s defining sorts") % {"study": schedule.run.study.title, "n": schedule.defining_sorts}
    )
    for heading, statements in schedule.sections():
        document.add_heading(heading, level=1)
        if statements:
            _statement_table(document, statements)
        else:
            document.add_paragraph(_("None."))
    document.add_heading(_("What people who share this view wrote"), level=1)
    if not schedule.quotes:
        document.add_paragraph(_("No comments."))
    for quote in schedule.quotes:
        statement = quote["statement"]
        document.add_paragraph(f"{statement.number}. {statement.text} ({statement.value_label})", style="List Bullet")
        document.add_paragraph(f"“{quote['comment']}”", style="Quote")
    return _saved(document)

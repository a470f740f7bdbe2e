"""Forms of the imports that the deck page and the Data page share."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from qsort.exchange.statements import Row, read_statements
from qsort.exchange.uploads import UploadRefused
from qsort.studies.deck import ImportRow
from qsort.studies.models import DeckLocked, Study


class ImportForm(forms.Form):
    """Statements to import, on the deck page and the Data page alike (see qsort.exchange.statements)."""

    text = forms.CharField(
        label=_("Paste statements, one per line"), required=False, widget=forms.Textarea(attrs={"rows": 8})
    )
    file = forms.FileField(
        label=_("…or upload a CSV file (number,text or text)"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.txt,text/csv,text/plain"}),
    )

    def rows(self) -> list[Row]:
        """The rows given, read by the one statement reader (BadImport when unreadable)."""
        return read_statements(text=self.cleaned_data.get("text", ""), upload=self.cleaned_data.get("file"))

    def preview(self, study: Study) -> tuple[list[ImportRow], str]:
        """The rows judged against the study's deck, or why there is nothing to show."""
        if study.deck_locked:
            return [], str(DeckLocked())
        if not self.is_valid():
            message = " ".join(str(error) for error in self.non_field_errors())
            return [], message or str(_("Paste some statements or choose a CSV file."))
        try:
            return study.preview_statements(self.rows()), ""
        except UploadRefused as refused:
            return [], str(refused)

    def clean(self):
        super().clean()
        cleaned = self.cleaned_data
        if not cleaned.get("text", "").strip() and not cleaned.get("file"):
            raise forms.ValidationError(_("Paste some statements or choose a CSV file."))
        return cleaned

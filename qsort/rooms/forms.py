from __future__ import annotations

import string
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from qsort.rooms.models import MAX_SEATS, InterviewPrompts, Session


class SessionForm(forms.ModelForm):
    seats = forms.IntegerField(min_value=1, max_value=MAX_SEATS, initial=10, label=_("Seats"))

    class Meta:
        model = Session
        fields = ["name", "place", "starts_at", "seats"]
        labels = {"name": _("Name"), "place": _("Place"), "starts_at": _("Starts at")}
        widgets = {"starts_at": forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")}


class SessionInviteForm(forms.Form):
    count = forms.IntegerField(min_value=1, max_value=MAX_SEATS, label=_("How many personal links"))


class InterviewPromptsForm(forms.ModelForm):
    class Meta:
        model = InterviewPrompts
        fields = list(InterviewPrompts.FIELDS)
        labels = {
            "agree": _("A most-agree card with a comment"),
            "agree_no_comment": _("A most-agree card without a comment"),
            "disagree": _("A most-disagree card with a comment"),
            "disagree_no_comment": _("A most-disagree card without a comment"),
            "difference": _("A card placed far from the reference (factor or group)"),
            "answer": _("A post-sort answer"),
        }
        widgets = {name: forms.Textarea(attrs={"rows": 2}) for name in InterviewPrompts.FIELDS}

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        allowed = ", ".join("{" + p + "}" for p in sorted(InterviewPrompts.PLACEHOLDERS))
        for name in InterviewPrompts.FIELDS:
            text = cleaned.get(name)
            if not text:
                continue
            try:
                names = {field for _literal, field, _spec, _conv in string.Formatter().parse(text) if field is not None}
            except ValueError:
                self.add_error(name, ValidationError(_("Unbalanced braces. Placeholders are: %s.") % allowed))
                continue
            unknown = names - InterviewPrompts.PLACEHOLDERS
            if unknown:
                self.add_error(
                    name,
                    ValidationError(
                        _("Unknown placeholder %(names)s. Placeholders are: %(allowed)s.")
                        % {"names": ", ".join("{" + n + "}" for n in sorted(unknown)), "allowed": allowed}
                    ),
                )
        return cleaned

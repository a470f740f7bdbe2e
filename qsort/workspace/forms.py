"""Workspace forms: what facilitators type, checked with messages they can act on."""

from __future__ import annotations

import re
from collections.abc import Sequence

from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from qsort.studies.deck import tidy
from qsort.studies.models import (
    GRID_MIN_VALUE,
    PARTICIPANT_CODE_MAX_LENGTH,
    Collaborator,
    Condition,
    GridColumn,
    PostSortQuestion,
    Statement,
    Study,
)
from qsort.workspace.grids import MAX_HALF_RANGE, MIN_HALF_RANGE


class FirstQuestionMixin(forms.ModelForm):
    """The question participants sort by, stored on the study's first condition.

    A study with several conditions edits its questions in the conditions editor instead, so
    the field is left out there."""

    condition_of_instruction = forms.CharField(
        label=_("Condition of instruction"),
        help_text=_("The question participants sort by, e.g. 'What helps a person sustain recovery?'"),
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk and self.instance.has_several_conditions:
            del self.fields["condition_of_instruction"]
        else:
            self.initial.setdefault("condition_of_instruction", self.instance.condition_of_instruction)

    def clean(self) -> dict:
        super().clean()
        cleaned = self.cleaned_data
        if "condition_of_instruction" in cleaned:
            self.instance.condition_of_instruction = cleaned["condition_of_instruction"]
        return cleaned


class StudyCreateForm(FirstQuestionMixin):
    class Meta:
        model = Study
        fields = ["title"]


class StudySettingsForm(FirstQuestionMixin):
    field_order = ["title", "condition_of_instruction"]
    # How several conditions are taken: shown once a study has more than one.
    CONDITION_FIELDS = ("condition_order", "later_sorts_start", "allow_partial")

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if not (self.instance.pk and self.instance.has_several_conditions):
            for name in self.CONDITION_FIELDS:
                del self.fields[name]
        # Left empty, the open link's cap stays as it is.
        self.fields["open_link_cap"].required = False

    def clean_open_link_cap(self) -> int:
        return self.cleaned_data.get("open_link_cap") or self.instance.open_link_cap

    class Meta:
        model = Study
        fields = [
            "title",
            "label_disagree",
            "label_agree",
            "consent_text",
            "welcome_text",
            "thank_you_text",
            "support_text",
            "language",
            "show_statement_numbers",
            "open_link_enabled",
            "open_link_cap",
            "comments_required",
            "condition_order",
            "later_sorts_start",
            "allow_partial",
            "room_shows_comments",
        ]
        labels = {
            "label_disagree": _("Label of the left pole"),
            "label_agree": _("Label of the right pole"),
            "open_link_enabled": _("Open link"),
            "open_link_cap": _("Most people who can join through the open link"),
            "comments_required": _("Ask for a comment on the cards at both ends (required)"),
            "support_text": _("Support text (shown when a participant takes a break)"),
            "show_statement_numbers": _("Show statement numbers to participants"),
            "room_shows_comments": _("Show comments on a session's discussion board (anonymously)"),
        }
        widgets = {
            "consent_text": forms.Textarea(attrs={"rows": 5}),
            "welcome_text": forms.Textarea(attrs={"rows": 3}),
            "thank_you_text": forms.Textarea(attrs={"rows": 3}),
            "support_text": forms.Textarea(attrs={"rows": 3}),
        }
        help_texts = {"thank_you_text": _("Shown under the heading “Thank you” once a sort is sent.")}


class ConditionForm(forms.ModelForm):
    """A condition of instruction; once sorts exist only its texts can change (the label names sorts)."""

    class Meta:
        model = Condition
        fields = ["label", "question", "instructions"]
        widgets = {"question": forms.Textarea(attrs={"rows": 2}), "instructions": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args, locked: bool = False, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if locked:
            self.fields["label"].disabled = True

    def validate_unique(self) -> None:
        # The study is set by the view after validation; check the label against its siblings here.
        study = self.instance.study if self.instance.study_id else None
        label = self.cleaned_data.get("label")
        if study and label and study.conditions.filter(label__iexact=label).exclude(pk=self.instance.pk).exists():
            self.add_error("label", _("Another condition of this study has this label."))


class QuestionForm(forms.ModelForm):
    class Meta:
        model = PostSortQuestion
        fields = ["text", "required", "each_condition"]
        labels = {"text": _("Question"), "required": _("Participants must answer it")}
        widgets = {"text": forms.TextInput()}


class StatementForm(forms.ModelForm):
    class Meta:
        model = Statement
        fields = ["text"]
        labels = {"text": _("Statement")}
        widgets = {"text": forms.Textarea(attrs={"rows": 2, "maxlength": Statement.MAX_LENGTH})}

    def clean_text(self) -> str:
        text = tidy(self.cleaned_data["text"])
        if len(text) > Statement.MAX_LENGTH:
            raise forms.ValidationError(_("A statement can be at most %(n)d characters.") % {"n": Statement.MAX_LENGTH})
        return text


class GridForm(forms.Form):
    """The range, the distribution and one capacity per column; columns outside the range are ignored."""

    half_range = forms.TypedChoiceField(
        label=_("Range"),
        coerce=int,
        choices=[(k, f"-{k} … +{k}") for k in range(MIN_HALF_RANGE, MAX_HALF_RANGE + 1)],
    )
    distribution = forms.ChoiceField(label=_("Distribution"), choices=Study.Distribution.choices)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for value in range(GRID_MIN_VALUE, -GRID_MIN_VALUE + 1):
            self.fields[f"cap_{value}"] = forms.IntegerField(
                label=f"{value:+d}" if value else "0", required=False, min_value=0, max_value=GridColumn.MAX_CAPACITY
            )

    def columns(self) -> list[int]:
        half_range = self.cleaned_data.get("half_range") or MIN_HALF_RANGE
        return list(range(-half_range, half_range + 1))

    def clean(self):
        super().clean()
        cleaned = self.cleaned_data
        if "half_range" in cleaned:
            missing = [value for value in self.columns() if cleaned.get(f"cap_{value}") is None]
            if missing and not self.errors:
                raise forms.ValidationError(_("Give every column a capacity (0 or more)."))
        return cleaned

    @property
    def capacities(self) -> dict[int, int]:
        return {value: self.cleaned_data[f"cap_{value}"] for value in self.columns()}


class InviteForm(forms.Form):
    count = forms.IntegerField(
        label=_("Number of links"), min_value=0, max_value=Study.MAX_INVITES, initial=1, required=False
    )
    codes = forms.CharField(
        label=_("Pseudonymous codes (optional, one per link, separated by commas or new lines)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "placeholder": "P01, P02, P03"}),
    )

    def clean_codes(self) -> list[str]:
        codes = [code.strip() for code in re.split(r"[,;\n]", self.cleaned_data["codes"]) if code.strip()]
        too_long = [code for code in codes if len(code) > 40]
        if too_long:
            raise forms.ValidationError(_("Codes can be at most 40 characters: %(code)s") % {"code": too_long[0][:60]})
        if len(codes) > Study.MAX_INVITES:
            raise forms.ValidationError(_("At most %(n)d links at once.") % {"n": Study.MAX_INVITES})
        return codes

    def clean(self):
        super().clean()
        cleaned = self.cleaned_data
        if not self.errors and not (cleaned.get("count") or cleaned.get("codes")):
            raise forms.ValidationError(_("Ask for at least one link, or give codes."))
        return cleaned


class CollaboratorForm(forms.Form):
    username = forms.CharField(label=_("Username"), max_length=150)
    role = forms.ChoiceField(
        label=_("Role"),
        choices=[(Collaborator.Role.FACILITATOR, _("Facilitator")), (Collaborator.Role.RESEARCHER, _("Researcher"))],
    )

    def __init__(self, *args, study: Study, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.study = study

    def clean_username(self):
        username = self.cleaned_data["username"].strip()
        user = get_user_model().objects.filter(username__iexact=username).first()
        if user is None:
            raise forms.ValidationError(_("There is no user called '%(name)s'.") % {"name": username})
        if user.pk == self.study.owner_id:
            raise forms.ValidationError(_("%(name)s owns this study already.") % {"name": user.username})
        if self.study.collaborators.filter(user=user).exists():
            raise forms.ValidationError(_("%(name)s is on the team already.") % {"name": user.username})
        return user


class PaperSortForm(forms.Form):
    code = forms.CharField(
        label=_("Participant code"),
        required=False,
        max_length=PARTICIPANT_CODE_MAX_LENGTH,
        help_text=_("An existing participant's code, or a new code; leave empty for a new unnamed participant."),
    )

    def __init__(
        self, *args, conditions: list[str], sessions: Sequence[tuple[int, str]] = (), for_chosen: bool = False, **kwargs
    ) -> None:
        super().__init__(*args, **kwargs)
        if for_chosen:  # the participant was picked from the list
            del self.fields["code"]
        if sessions:  # a sort made in a focus group belongs to its session (its board, its counts)
            self.fields["session"] = forms.TypedChoiceField(
                label=_("Session"),
                choices=[("", _("No session")), *sessions],
                coerce=int,
                empty_value=None,
                required=False,
            )
        if len(conditions) > 1:
            self.fields["condition"] = forms.ChoiceField(
                label=_("Condition (the question this paper sort answered)"),
                choices=[(label, label) for label in conditions],
            )

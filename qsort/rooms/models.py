"""Sorting together in a room: focus-group sessions, their seats, and the prompts of the
one-to-one interview guides that follow them.

A session has its own join link (its own token, never the study's open link) that works only
while the session is open and has a free seat; everyone who joins gets the next seat number,
which is all the room screen ever shows of them.
"""

from __future__ import annotations

import secrets
import string

from django.conf import settings
from django.db import models, transaction
from django.db.models import Max, Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from qsort.participate.services import join_open_study
from qsort.studies.models import Participant, Study

# Letters and digits that cannot be mistaken for each other when read off a projector.
JOIN_ALPHABET = "".join(c for c in string.ascii_uppercase + string.digits if c not in "0O1IL5S2Z8B")
JOIN_TOKEN_LENGTH = 10  # 25^10: about 46 bits, behind a rate limit and only while a session is open
MAX_SEATS = 60  # a room, not an online survey: larger groups use the open study link


def new_join_token() -> str:
    return "".join(secrets.choice(JOIN_ALPHABET) for _ in range(JOIN_TOKEN_LENGTH))


class SessionFull(Exception):
    """Every seat of the session is taken."""


class SessionClosed(Exception):
    """The session is closed (or its study no longer takes sorts): the door is shut."""


class Session(models.Model):
    """One sitting of a study with a group, e.g. "Focus group 2, Tuesday 14:00"."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        CLOSED = "closed", _("Closed")

    class Screen(models.TextChoices):
        PROGRESS = "progress", _("Progress")
        BOARD = "board", _("Discussion board")

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="sessions")
    name = models.CharField(max_length=120, help_text=_('e.g. "Focus group 2, Tuesday 14:00"'))
    place = models.CharField(max_length=120, blank=True)
    starts_at = models.DateTimeField(null=True, blank=True)
    seats = models.PositiveSmallIntegerField(default=10)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    screen = models.CharField(max_length=10, choices=Screen.choices, default=Screen.PROGRESS)
    join_token = models.CharField(max_length=20, unique=True, default=new_join_token, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["study", "-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(seats__gte=1) & Q(seats__lte=MAX_SEATS), name="session_seats_in_range"),
            models.CheckConstraint(condition=Q(status__in=["open", "closed"]), name="session_status_valid"),
            models.CheckConstraint(condition=Q(screen__in=["progress", "board"]), name="session_screen_valid"),
            models.CheckConstraint(condition=~Q(name=""), name="session_name_not_empty"),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("rooms:session", args=[self.study.slug, self.pk])

    @property
    def join_url(self) -> str:
        return settings.SITE_URL + reverse("rooms:join", args=[self.join_token])

    @property
    def join_prefix(self) -> str:
        """The join link without its code, so a room screen can show the code in large type."""
        return self.join_url.removesuffix(f"{self.join_token}/")

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.OPEN

    @property
    def accepts_joiners(self) -> bool:
        return self.is_open and self.study.accepts_sorts

    def set_status(self, status: str) -> None:
        self.status = status
        self.save(update_fields=["status"])

    def _lock(self) -> None:
        """Lock the session row: two people joining at the same moment never get the same seat
        number, nor one seat too many."""
        Session.objects.select_for_update().filter(pk=self.pk).first()

    def _free_seats(self) -> int:
        return self.seats - self.members.count()

    def _next_seat(self, participant: Participant) -> Seat:
        last = self.members.aggregate(last=Max("number"))["last"] or 0
        return Seat.objects.create(session=self, participant=participant, number=last + 1)

    def join(self) -> Participant:
        """A person joining through the session's link, once they agreed to take part."""
        with transaction.atomic():
            self._lock()
            if not self.accepts_joiners:
                raise SessionClosed()
            if self._free_seats() < 1:
                raise SessionFull()
            participant = join_open_study(self.study)
            self._next_seat(participant)
        return participant

    def invite(self, count: int) -> list[Participant]:
        """Personal links that belong to the session, for people who prefer their own link."""
        with transaction.atomic():
            self._lock()
            if count > self._free_seats():
                raise SessionFull()
            participants = self.study.invite(count=count)
            for participant in participants:
                self._next_seat(participant)
        return participants

    def add_paper_participant(self, participant: Participant) -> Seat:
        """Seat someone whose paper sort is typed in for this session. Paper sorts were made in the
        room, so they are seated even when every online seat is taken."""
        with transaction.atomic():
            self._lock()
            return self._next_seat(participant)


class Seat(models.Model):
    """A participant's place in a session: the number the room screen shows instead of a name."""

    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="members")
    participant = models.OneToOneField(Participant, on_delete=models.CASCADE, related_name="seat")
    number = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["session", "number"]
        constraints = [
            models.UniqueConstraint(fields=["session", "number"], name="seat_unique_number_per_session"),
        ]

    def __str__(self) -> str:
        return f"Seat {self.number} of {self.session}"


class InterviewPrompts(models.Model):
    """A study's wording of the open prompts in its interview guides. Placeholders in braces:
    {statement}, {value}, {comment}, {reference} (e.g. "factor 2 puts it at +3" or "the group's
    average is +0.25"), {question}, {answer}."""

    DEFAULTS = {
        "agree": "You placed '{statement}' at {value} and wrote '{comment}'. Can you tell me more about that?",
        "agree_no_comment": "You placed '{statement}' at {value}. What made it one of the most important cards?",
        "disagree": "You placed '{statement}' at {value} and wrote '{comment}'. Can you tell me more about that?",
        "disagree_no_comment": "You placed '{statement}' at {value}. Why did it matter so little to you?",
        "difference": "You placed '{statement}' at {value}, while {reference}. What is different for you?",
        "answer": "You answered '{question}' with '{answer}'. Could you say more?",
    }
    PLACEHOLDERS = frozenset({"statement", "value", "comment", "reference", "question", "answer"})

    study = models.OneToOneField(Study, on_delete=models.CASCADE, related_name="interview_prompts")
    agree = models.TextField(default=DEFAULTS["agree"])
    agree_no_comment = models.TextField(default=DEFAULTS["agree_no_comment"])
    disagree = models.TextField(default=DEFAULTS["disagree"])
    disagree_no_comment = models.TextField(default=DEFAULTS["disagree_no_comment"])
    difference = models.TextField(default=DEFAULTS["difference"])
    answer = models.TextField(default=DEFAULTS["answer"])

    FIELDS = tuple(DEFAULTS)

    def __str__(self) -> str:
        return f"Interview prompts of {self.study}"

    @classmethod
    def for_study(cls, study: Study) -> InterviewPrompts:
        """The study's prompts, or the defaults (unsaved) when it has none of its own."""
        return cls.objects.filter(study=study).first() or cls(study=study)

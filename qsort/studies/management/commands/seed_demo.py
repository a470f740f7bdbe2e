"""Create the demo facilitator and the "Relapse and recovery" study with synthetic sorts.

The study has the seed's design: two conditions of instruction (Relapse, Recovery), each of the
40 synthetic participants sorting under both, with the shifts planted in `demo.recovery_sorts`.
`--one-condition` makes the earlier single-question form (one sort per participant), which the
tests of single-condition behaviour use. Idempotent: running it again creates nothing new.

Development only (DEBUG on): the facilitator is an ordinary account (no staff or superuser
rights) with a random password printed once, when it is created.
"""

import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from qsort.studies import demo
from qsort.studies.models import Condition, PostSortQuestion, Study
from qsort.studies.services import submit_sort


class Command(BaseCommand):
    help = "Development only: create the demo facilitator account and the demo study (safe to run twice)."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--one-condition",
            action="store_true",
            help="One question and one sort per participant (the demo before conditions of instruction).",
        )

    @transaction.atomic
    def handle(self, *args, **options) -> None:
        if not settings.DEBUG:
            raise CommandError("seed_demo runs only with DEBUG=1: the demo account must never exist in production.")
        one_condition = options["one_condition"]
        user_model = get_user_model()
        user, created_user = user_model.objects.get_or_create(username=demo.DEMO_USERNAME)
        password = secrets.token_urlsafe(12)
        if created_user:
            user.set_password(password)
            user.save()

        study, created_study = Study.objects.get_or_create(
            slug=demo.DEMO_SLUG,
            defaults={
                "title": "Relapse and recovery",
                "owner": user,
                # A property Django's constructor takes; django-stubs checks defaults against fields only.
                "condition_of_instruction": demo.CONDITION if one_condition else demo.CONDITIONS[0][1],  # type: ignore[misc]
                "consent_text": demo.CONSENT,
                "welcome_text": demo.WELCOME,
                "thank_you_text": demo.THANK_YOU,
                "label_disagree": "Most disagree",
                "label_agree": "Most agree",
            },
        )
        if created_study:
            if not one_condition:
                first = study.conditions.get()
                first.label = demo.CONDITIONS[0][0]
                first.save(update_fields=["label"])
                Condition.objects.bulk_create(
                    Condition(study=study, position=position, label=label, question=question)
                    for position, (label, question) in enumerate(demo.CONDITIONS[1:], start=2)
                )
            for text in demo.STATEMENTS:
                study.add_statement(text)
            study.set_grid(demo.GRID)
            PostSortQuestion.objects.bulk_create(
                PostSortQuestion(study=study, text=text, position=i) for i, text in enumerate(demo.QUESTIONS)
            )
            study.open()
            participants = study.invite(codes=[f"D{i + 1:02d}" for i in range(demo.DEMO_SORTS)])
            for participant, values in zip(participants, demo.synthetic_sorts(), strict=True):
                submit_sort(participant, enumerate(values, start=1), condition=study.conditions.first())
            if not one_condition:
                for participant, values in zip(participants, demo.recovery_sorts(), strict=True):
                    submit_sort(participant, enumerate(values, start=1), condition=demo.CONDITIONS[1][0])

        login = (
            f"password: {password}  (shown once: note it down)"
            if created_user
            else f"password: as printed when it was created (reset: manage.py changepassword {demo.DEMO_USERNAME})"
        )
        self.stdout.write(
            f"Demo study: {study.title} ({study.slug}), {study.sorts.count()} completed sorts"
            f"{' (created)' if created_study else ' (already there)'}.\n"
            f"Log in as  username: {demo.DEMO_USERNAME}  {login}"
        )

"""Create the demo facilitator and the "Relapse and recovery" study with synthetic sorts.

Development only (DEBUG on): the facilitator is an ordinary account (no staff or superuser
rights) with a random password printed once, when it is created. Idempotent: running it again
creates nothing new.
"""

import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from qsort.studies import demo
from qsort.studies.models import PostSortQuestion, Study
from qsort.studies.services import submit_sort


class Command(BaseCommand):
    help = "Development only: create the demo facilitator account and the demo study (safe to run twice)."

    @transaction.atomic
    def handle(self, *args, **options) -> None:
        if not settings.DEBUG:
            raise CommandError("seed_demo runs only with DEBUG=1: the demo account must never exist in production.")
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
                "condition_of_instruction": demo.CONDITION,
                "consent_text": demo.CONSENT,
                "welcome_text": demo.WELCOME,
                "thank_you_text": demo.THANK_YOU,
                "label_disagree": "Most disagree",
                "label_agree": "Most agree",
            },
        )
        if created_study:
            for text in demo.STATEMENTS:
                study.add_statement(text)
            study.set_grid(demo.GRID)
            PostSortQuestion.objects.bulk_create(
                PostSortQuestion(study=study, text=text, position=i) for i, text in enumerate(demo.QUESTIONS)
            )
            study.open()
            participants = study.invite(codes=[f"D{i + 1:02d}" for i in range(demo.DEMO_SORTS)])
            for participant, values in zip(participants, demo.synthetic_sorts(), strict=True):
                submit_sort(participant, enumerate(values, start=1))

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

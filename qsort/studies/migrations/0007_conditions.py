"""Conditions of instruction: every study gets one Condition holding its old question.

Existing sorts and drafts are moved to that condition; nothing else about them changes. A
participant may now have one sort (and one draft) per condition instead of one in all.
"""

import django.core.validators
import django.db.models.deletion
from django.db import migrations, models

FIRST_LABEL = "Q1"


def checks_now(schema_editor):
    """Check foreign keys at once, so the ALTER TABLEs after the data steps find no pending events."""
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE")


def questions_to_conditions(apps, schema_editor):
    checks_now(schema_editor)
    Study = apps.get_model("studies", "Study")
    Condition = apps.get_model("studies", "Condition")
    Condition.objects.bulk_create(
        Condition(study_id=pk, position=1, label=FIRST_LABEL, question=question)
        for pk, question in Study.objects.values_list("pk", "condition_of_instruction")
    )


def conditions_to_questions(apps, schema_editor):
    Condition = apps.get_model("studies", "Condition")
    Study = apps.get_model("studies", "Study")
    for condition in Condition.objects.filter(position=1):
        Study.objects.filter(pk=condition.study_id).update(condition_of_instruction=condition.question)


def sorts_to_first_condition(apps, schema_editor):
    checks_now(schema_editor)
    Condition = apps.get_model("studies", "Condition")
    first = models.Subquery(
        Condition.objects.filter(study_id=models.OuterRef("study_id"), position=1).values("pk")[:1]
    )
    apps.get_model("studies", "Sort").objects.update(condition_id=first)
    first_of_participant = models.Subquery(
        Condition.objects.filter(study_id=models.OuterRef("participant__study_id"), position=1).values("pk")[:1]
    )
    SortDraft = apps.get_model("studies", "SortDraft")
    for draft in SortDraft.objects.annotate(first=first_of_participant):
        SortDraft.objects.filter(pk=draft.pk).update(condition_id=draft.first)


# A sort's condition must belong to the sort's study, like its participant (see 0002).
SAME_STUDY = """
CREATE OR REPLACE FUNCTION qsort_sort_same_study() RETURNS trigger AS $$
BEGIN
  IF (SELECT study_id FROM studies_participant WHERE id = NEW.participant_id) IS DISTINCT FROM NEW.study_id THEN
    RAISE EXCEPTION 'participant % belongs to another study than the sort', NEW.participant_id
      USING ERRCODE = 'integrity_constraint_violation';
  END IF;
  IF (SELECT study_id FROM studies_condition WHERE id = NEW.condition_id) IS DISTINCT FROM NEW.study_id THEN
    RAISE EXCEPTION 'condition % belongs to another study than the sort', NEW.condition_id
      USING ERRCODE = 'integrity_constraint_violation';
  END IF;
  RETURN NEW;
END $$ LANGUAGE plpgsql;
"""

PARTICIPANT_ONLY = """
CREATE OR REPLACE FUNCTION qsort_sort_same_study() RETURNS trigger AS $$
BEGIN
  IF (SELECT study_id FROM studies_participant WHERE id = NEW.participant_id) IS DISTINCT FROM NEW.study_id THEN
    RAISE EXCEPTION 'participant % belongs to another study than the sort', NEW.participant_id
      USING ERRCODE = 'integrity_constraint_violation';
  END IF;
  RETURN NEW;
END $$ LANGUAGE plpgsql;
"""


def run_on_postgresql(sql):
    def operation(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            with schema_editor.connection.cursor() as cursor:
                cursor.execute(sql)

    return operation


class Migration(migrations.Migration):
    dependencies = [("studies", "0006_study_support_text_and_numbers")]

    operations = [
        migrations.CreateModel(
            name="Condition",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("position", models.PositiveSmallIntegerField()),
                (
                    "label",
                    models.CharField(
                        help_text="A short name for results and exports, e.g. 'Relapse'.",
                        max_length=30,
                        validators=[
                            django.core.validators.RegexValidator(
                                "^[^_·/\\\\]+$",
                                "A condition's label cannot contain '_', '·', '/' or '\\' (sort names use them).",
                            )
                        ],
                    ),
                ),
                (
                    "question",
                    models.TextField(
                        help_text="The question participants sort by, e.g. 'What helps a person sustain recovery?'"
                    ),
                ),
                (
                    "instructions",
                    models.TextField(blank=True, help_text="Optional words shown with this question only."),
                ),
                (
                    "study",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="conditions", to="studies.study"
                    ),
                ),
            ],
            options={
                "ordering": ["study", "position", "id"],
                "constraints": [
                    models.UniqueConstraint(fields=("study", "position"), name="condition_unique_position_per_study"),
                    models.UniqueConstraint(fields=("study", "label"), name="condition_unique_label_per_study"),
                    models.CheckConstraint(condition=models.Q(("label", ""), _negated=True), name="condition_label_not_empty"),
                    models.CheckConstraint(
                        condition=models.Q(("label__contains", "_"), _negated=True), name="condition_label_no_underscore"
                    ),
                    models.CheckConstraint(condition=models.Q(("position__gte", 1)), name="condition_position_positive"),
                ],
            },
        ),
        migrations.RunPython(questions_to_conditions, conditions_to_questions),
        migrations.RemoveField(model_name="study", name="condition_of_instruction"),
        migrations.AddField(
            model_name="postsortquestion",
            name="each_condition",
            field=models.BooleanField(
                default=False,
                help_text="Otherwise it is asked once, after the participant's first sort.",
                verbose_name="Ask after every condition",
            ),
        ),
        migrations.AddField(
            model_name="study",
            name="allow_partial",
            field=models.BooleanField(
                default=False,
                help_text="Their completed sorts count; the conditions they did not reach stay empty.",
                verbose_name="Participants may stop after any completed condition",
            ),
        ),
        migrations.AddField(
            model_name="study",
            name="condition_order",
            field=models.CharField(
                choices=[
                    ("fixed", "Fixed: every participant sorts the conditions in the order listed"),
                    ("counterbalanced", "Counterbalanced: the order rotates from one participant to the next"),
                ],
                default="fixed",
                max_length=16,
                verbose_name="Order of conditions",
            ),
        ),
        migrations.AddField(
            model_name="study",
            name="later_sorts_start",
            field=models.CharField(
                choices=[
                    ("fresh", "Fresh: a new pre-sort, with an empty grid"),
                    ("previous", "From the previous sort: the cards start where the participant placed them last"),
                ],
                default="fresh",
                max_length=10,
                verbose_name="Second and later sorts start",
            ),
        ),
        migrations.AddConstraint(
            model_name="study",
            constraint=models.CheckConstraint(
                condition=models.Q(("condition_order__in", ["fixed", "counterbalanced"])),
                name="study_condition_order_valid",
            ),
        ),
        migrations.AddConstraint(
            model_name="study",
            constraint=models.CheckConstraint(
                condition=models.Q(("later_sorts_start__in", ["fresh", "previous"])),
                name="study_later_sorts_start_valid",
            ),
        ),
        migrations.AlterField(
            model_name="sort",
            name="participant",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE, related_name="sorts", to="studies.participant"
            ),
        ),
        migrations.AlterField(
            model_name="sortdraft",
            name="participant",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE, related_name="drafts", to="studies.participant"
            ),
        ),
        migrations.AddField(
            model_name="sort",
            name="condition",
            field=models.ForeignKey(
                null=True, on_delete=django.db.models.deletion.RESTRICT, related_name="sorts", to="studies.condition"
            ),
        ),
        migrations.AddField(
            model_name="sortdraft",
            name="condition",
            field=models.ForeignKey(
                null=True, on_delete=django.db.models.deletion.CASCADE, related_name="drafts", to="studies.condition"
            ),
        ),
        migrations.RunPython(sorts_to_first_condition, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="sort",
            name="condition",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.RESTRICT, related_name="sorts", to="studies.condition"
            ),
        ),
        migrations.AlterField(
            model_name="sortdraft",
            name="condition",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE, related_name="drafts", to="studies.condition"
            ),
        ),
        migrations.AddConstraint(
            model_name="sort",
            constraint=models.UniqueConstraint(fields=("participant", "condition"), name="sort_once_per_condition"),
        ),
        migrations.AddConstraint(
            model_name="sortdraft",
            constraint=models.UniqueConstraint(
                fields=("participant", "condition"), name="sortdraft_once_per_condition"
            ),
        ),
        migrations.RunPython(run_on_postgresql(SAME_STUDY), run_on_postgresql(PARTICIPANT_ONLY)),
    ]

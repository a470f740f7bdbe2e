"""On PostgreSQL, the database itself refuses a sort value, comment or sort that mixes studies.

A CHECK constraint cannot look at another table, so these are small triggers. SQLite (the
no-services development default) relies on the sort validator alone.
"""

from django.db import migrations

TRIGGERS = """
CREATE FUNCTION qsort_sort_item_same_study() RETURNS trigger AS $$
BEGIN
  IF (SELECT study_id FROM studies_statement WHERE id = NEW.statement_id)
     IS DISTINCT FROM (SELECT study_id FROM studies_sort WHERE id = NEW.sort_id) THEN
    RAISE EXCEPTION 'statement % belongs to another study than sort %', NEW.statement_id, NEW.sort_id
      USING ERRCODE = 'integrity_constraint_violation';
  END IF;
  RETURN NEW;
END $$ LANGUAGE plpgsql;

CREATE TRIGGER sortvalue_same_study BEFORE INSERT OR UPDATE ON studies_sortvalue
  FOR EACH ROW EXECUTE FUNCTION qsort_sort_item_same_study();
CREATE TRIGGER sortcomment_same_study BEFORE INSERT OR UPDATE ON studies_sortcomment
  FOR EACH ROW EXECUTE FUNCTION qsort_sort_item_same_study();

CREATE FUNCTION qsort_sort_same_study() RETURNS trigger AS $$
BEGIN
  IF (SELECT study_id FROM studies_participant WHERE id = NEW.participant_id) IS DISTINCT FROM NEW.study_id THEN
    RAISE EXCEPTION 'participant % belongs to another study than the sort', NEW.participant_id
      USING ERRCODE = 'integrity_constraint_violation';
  END IF;
  RETURN NEW;
END $$ LANGUAGE plpgsql;

CREATE TRIGGER sort_same_study BEFORE INSERT OR UPDATE ON studies_sort
  FOR EACH ROW EXECUTE FUNCTION qsort_sort_same_study();
"""

DROP = """
DROP TRIGGER IF EXISTS sort_same_study ON studies_sort;
DROP TRIGGER IF EXISTS sortcomment_same_study ON studies_sortcomment;
DROP TRIGGER IF EXISTS sortvalue_same_study ON studies_sortvalue;
DROP FUNCTION IF EXISTS qsort_sort_same_study();
DROP FUNCTION IF EXISTS qsort_sort_item_same_study();
"""


def run_on_postgresql(sql):
    def operation(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            # A plain cursor call: RAISE's % placeholders must not be taken for query parameters.
            with schema_editor.connection.cursor() as cursor:
                cursor.execute(sql)

    return operation


class Migration(migrations.Migration):
    dependencies = [("studies", "0001_initial")]
    operations = [migrations.RunPython(run_on_postgresql(TRIGGERS), run_on_postgresql(DROP))]

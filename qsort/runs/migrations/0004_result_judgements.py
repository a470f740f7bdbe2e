"""Stored results get the judgements the engine now reports itself (sort status, significant
loadings, mirrored factors, consensus at .01, marks), so the dashboard never re-derives them."""

from django.db import migrations


def add_judgements(apps, schema_editor) -> None:
    from qsort.analysis.result import add_judgements as complete

    AnalysisRun = apps.get_model("runs", "AnalysisRun")
    for run in AnalysisRun.objects.filter(result__isnull=False).iterator(chunk_size=20):
        if "sort_status" not in run.result:
            run.result = complete(run.result)
            run.save(update_fields=["result"])


class Migration(migrations.Migration):
    dependencies = [("runs", "0003_run_claim_and_heartbeat")]
    operations = [migrations.RunPython(add_judgements, migrations.RunPython.noop)]

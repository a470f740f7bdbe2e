"""``manage.py qanalysis SORTS.csv``: run the analysis engine on a sorts CSV, write its JSON.

A thin shell over ``qsort.analysis``: read with the engine's reader, call ``analyse``, write
the object of shared/analysis-json.md to ``--output`` (or stdout).  Started often from scripts,
so it skips Django's system checks (``manage.py check`` runs them) and writes with orjson: a
million correlations in a few hundredths of a second instead of most of a second.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
from django.core.management.base import BaseCommand, CommandError, CommandParser

from qsort.analysis import AnalysisInputError, analyse, read_sorts_csv
from qsort.analysis import distribution as dist
from qsort.runs.models import AnalysisRun


def _cell(text: str, option: str) -> tuple[str, int]:
    sort_id, sep, factor = text.rpartition(":")
    if not sep or not sort_id or not factor.strip().isdigit():
        raise CommandError(f"{option} {text!r}: write it as SORT:FACTOR, e.g. US1:2")
    return sort_id, int(factor)


def dump(result: dict[str, Any]) -> bytes:
    """The JSON text: numbers at full precision (shortest round-trip form), no NaN (the result
    holds nulls), non-ASCII written as UTF-8."""
    return orjson.dumps(result)


class Command(BaseCommand):
    requires_system_checks: list[str] = []
    help = "Analyse a sorts CSV (statement_id,<sort id>,... then one row per statement) and write JSON."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("sorts", help="CSV: header statement_id,<sort id>,...; integer grid values")
        parser.add_argument("--factors", type=int, required=True, help="number of factors to extract")
        parser.add_argument("--extraction", choices=AnalysisRun.Extraction.values, default=AnalysisRun.Extraction.PCA)
        parser.add_argument("--rotation", choices=AnalysisRun.Rotation.values, default=AnalysisRun.Rotation.VARIMAX)
        parser.add_argument("--correlation", choices=["pearson", "spearman", "kendall"], default="pearson")
        parser.add_argument(
            "--distribution",
            help="grid for the factor arrays, one value per statement: V1,V2,...,VN "
            "(or a file holding them); needed when the sorts do not share one distribution",
        )
        parser.add_argument(
            "--flag",
            action="append",
            default=[],
            metavar="SORT:FACTOR",
            help="flag SORT on FACTOR by hand (repeatable); a sort named here keeps only the flags given here",
        )
        parser.add_argument(
            "--unflag", action="append", default=[], metavar="SORT:FACTOR", help="remove a flag (repeatable)"
        )
        parser.add_argument("--flag-level", type=float, choices=[0.05, 0.01], default=0.05)
        parser.add_argument("--split-bipolar", type=int, metavar="FACTOR", help="split FACTOR's negative pole")
        parser.add_argument(
            "--include-correlations",
            action="store_true",
            help="include the sorts x sorts correlation matrix even above 1,000 sorts",
        )
        parser.add_argument("--output", "-o", help="JSON file to write (default: stdout)")

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["sorts"])
        if not path.is_file():
            raise CommandError(f"no such file: {path}")
        try:
            table = read_sorts_csv(path)
            distribution = None
            if options["distribution"]:
                given = options["distribution"]
                source = Path(given)
                distribution = dist.parse(source.read_text() if source.is_file() else given)
            _, differing = dist.shared_grid(table.values)
            if differing is not None and distribution is None:
                raise CommandError(
                    f"the sorts do not share one distribution (sort {table.sort_ids[differing]!r} differs from "
                    f"sort {table.sort_ids[0]!r}): give the grid for the factor arrays with "
                    "--distribution=V1,V2,...,VN (one value per statement)"
                )
            result = analyse(
                table.values,
                table.statement_ids,
                table.sort_ids,
                factors=options["factors"],
                extraction=options["extraction"],
                rotation=options["rotation"],
                correlation=options["correlation"],
                distribution=distribution,
                flag_overrides=self._overrides(options, table.sort_ids),
                flag_level=options["flag_level"],
                split_bipolar=options["split_bipolar"],
                include_correlations=True if options["include_correlations"] else None,
            )
        except AnalysisInputError as error:
            raise CommandError(str(error)) from error
        text = dump(result.to_json()) + b"\n"
        if options["output"]:
            Path(options["output"]).write_bytes(text)
            self.stderr.write(f"wrote {options['output']}: {len(table.sort_ids)} sorts, {result.n_factors} factors")
        else:
            self.stdout.write(text.decode(), ending="")
        for warning in result.warnings:
            self.stderr.write(f"warning: {warning}")

    @staticmethod
    def _overrides(options: dict[str, Any], sort_ids: list[str]) -> list[tuple[str, int, bool]]:
        """--flag S:F sets S's flags to exactly the factors given for it; --unflag clears one."""
        chosen: dict[str, set[int]] = {}
        for text in options["flag"]:
            sort_id, factor = _cell(text, "--flag")
            chosen.setdefault(sort_id, set()).add(factor)
        overrides: list[tuple[str, int, bool]] = []
        for sort_id, factors in chosen.items():
            if sort_id not in sort_ids:
                raise CommandError(f"--flag: there is no sort {sort_id!r}")
            overrides += [(sort_id, f, f in factors) for f in range(1, options["factors"] + 1)]
        for text in options["unflag"]:
            sort_id, factor = _cell(text, "--unflag")
            overrides.append((sort_id, factor, False))
        return overrides

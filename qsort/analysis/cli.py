"""``manage.py qanalysis SORTS.csv``: run the engine on a sorts CSV and write its JSON.

Pure (no Django): ``manage.py`` hands ``qanalysis`` straight to ``main`` before Django starts,
because on a small study Django's start-up (apps, models, Celery) took longer than the analysis
and made the command slower than Rscript + qmethod.  The Django management command of the same
name (for ``call_command`` and ``manage.py help``) wraps the same ``add_arguments`` and ``run``.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from qsort.analysis import distribution as dist
from qsort.analysis.correlation import METHODS
from qsort.analysis.engine import EXTRACTIONS, ROTATIONS, analyse
from qsort.analysis.errors import AnalysisInputError
from qsort.analysis.flagging import DEFAULT_LEVEL, LEVELS
from qsort.analysis.io import read_sorts_csv

HELP = "Analyse a sorts CSV (statement_id,<sort id>,... then one row per statement) and write JSON."


class CommandLineError(Exception):
    """The command line or its input file is wrong; the message says how to put it right."""


@dataclass
class Outcome:
    stdout: bytes  # the JSON, unless it went to --output
    notes: list[str] = field(default_factory=list)  # for stderr: what was written, the engine's warnings


def dump(result: dict[str, Any]) -> bytes:
    """The JSON text: numbers at full precision (shortest round-trip form), no NaN (the result
    holds nulls), non-ASCII written as UTF-8."""
    return orjson.dumps(result)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("sorts", help="CSV: header statement_id,<sort id>,...; integer grid values")
    parser.add_argument("--factors", type=int, required=True, help="number of factors to extract")
    parser.add_argument("--extraction", choices=EXTRACTIONS, default=EXTRACTIONS[0])
    parser.add_argument("--rotation", choices=ROTATIONS, default=ROTATIONS[0])
    parser.add_argument("--correlation", choices=METHODS, default=METHODS[0])
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
    parser.add_argument("--flag-level", type=float, choices=tuple(LEVELS), default=DEFAULT_LEVEL)
    parser.add_argument("--split-bipolar", type=int, metavar="FACTOR", help="split FACTOR's negative pole")
    parser.add_argument(
        "--include-correlations",
        action="store_true",
        help="include the sorts x sorts correlation matrix even above 1,000 sorts",
    )
    parser.add_argument("--output", "-o", help="JSON file to write (default: stdout)")


def run(options: Mapping[str, Any]) -> Outcome:
    """Read, analyse, and write --output (or return the JSON for stdout)."""
    path = Path(options["sorts"])
    if not path.is_file():
        raise CommandLineError(f"no such file: {path}")
    try:
        table = read_sorts_csv(path)
        distribution = None
        if options["distribution"]:
            given = options["distribution"]
            source = Path(given)
            distribution = dist.parse(source.read_text() if source.is_file() else given)
        _, differing = dist.shared_grid(table.values)
        if differing is not None and distribution is None:
            raise CommandLineError(
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
            flag_overrides=_overrides(options, table.sort_ids),
            flag_level=options["flag_level"],
            split_bipolar=options["split_bipolar"],
            include_correlations=True if options["include_correlations"] else None,
        )
    except AnalysisInputError as error:
        raise CommandLineError(str(error)) from error
    text = dump(result.to_json()) + b"\n"
    warnings = [f"warning: {warning}" for warning in result.warnings]
    if not options["output"]:
        return Outcome(text, warnings)
    Path(options["output"]).write_bytes(text)
    wrote = f"wrote {options['output']}: {len(table.sort_ids)} sorts, {result.n_factors} factors"
    return Outcome(b"", [wrote, *warnings])


def _cell(text: str, option: str) -> tuple[str, int]:
    sort_id, sep, factor = text.rpartition(":")
    if not sep or not sort_id or not re.fullmatch(r"[0-9]{1,3}", factor.strip()):
        raise CommandLineError(f"{option} {text!r}: write it as SORT:FACTOR, e.g. US1:2")
    return sort_id, int(factor)


def _overrides(options: Mapping[str, Any], sort_ids: list[str]) -> list[tuple[str, int, bool]]:
    """--flag S:F sets S's flags to exactly the factors given for it; --unflag clears one."""
    chosen: dict[str, set[int]] = {}
    for text in options["flag"]:
        sort_id, factor = _cell(text, "--flag")
        chosen.setdefault(sort_id, set()).add(factor)
    overrides: list[tuple[str, int, bool]] = []
    for sort_id, factors in chosen.items():
        if sort_id not in sort_ids:
            raise CommandLineError(f"--flag: there is no sort {sort_id!r}")
        overrides += [(sort_id, f, f in factors) for f in range(1, options["factors"] + 1)]
    for text in options["unflag"]:
        sort_id, factor = _cell(text, "--unflag")
        overrides.append((sort_id, factor, False))
    return overrides


def main(argv: Sequence[str] | None = None) -> int:
    """The command as ``manage.py qanalysis ...`` runs it: exit status 0, or 1 with the reason."""
    parser = argparse.ArgumentParser(prog="manage.py qanalysis", description=HELP)
    add_arguments(parser)
    options = vars(parser.parse_args(argv))
    try:
        outcome = run(options)
    except CommandLineError as error:
        print(f"CommandError: {error}", file=sys.stderr)
        return 1
    sys.stdout.buffer.write(outcome.stdout)
    for note in outcome.notes:
        print(note, file=sys.stderr)
    return 0

"""A run written down: the methods paragraph, the DOCX run report, and the bootstrap exports.

Everything here reads what the run recorded (its parameters and the analysis JSON), the
evidence panel and the newest finished bootstrap: nothing is recomputed, so the report says
exactly what the dashboard shows.
"""

from __future__ import annotations

import io
import tomllib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db.models.fields.json import KeyTransform

from qsort.analysis import flagging
from qsort.exchange import writers
from qsort.exchange.tables import Cell, Table
from qsort.runs.models import AnalysisRun, Bootstrap, Part, result_parts
from qsort.runs.services import RunRefused
from qsort.runs.stability import evidence_for_run, finished_bootstraps, latest_bootstrap, require_done, stored_result

DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def software_version() -> str:
    """qsort's version as pyproject.toml declares it (one place)."""
    with open(Path(settings.BASE_DIR) / "pyproject.toml", "rb") as handle:
        return tomllib.load(handle)["project"]["version"]


# --- the methods paragraph ---------------------------------------------------------------
def _count(n: int, one: str, many: str) -> str:
    return f"{n:,} {one if n == 1 else many}"


def _list(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def methods_paragraph(
    result: Mapping[str, Any], evidence: Mapping[str, Any] | None = None, bootstrap: Mapping[str, Any] | None = None
) -> str:
    """A paragraph a researcher can paste into a paper: every decision the run recorded."""
    p = result["parameters"]
    n, sorts, k = len(result["statements"]), len(result["sorts"]), p["factors"]
    correlation = {"pearson": "Pearson", "spearman": "Spearman", "kendall": "Kendall (tau-b)"}[
        p.get("correlation", "pearson")
    ]
    parts = [
        f"{_count(sorts, 'Q-sort', 'Q-sorts')} of {_count(n, 'statement', 'statements')} were intercorrelated "
        f"({correlation} correlation) and {_count(k, 'factor was', 'factors were')} extracted by "
        + (
            "principal component analysis"
            if p["extraction"] == "pca"
            else "Brown's (1980) centroid method (as implemented in the R package qmethod, convergence 1e-5)"
        )
        + (
            ", then rotated by varimax (Kaiser normalisation, stopping as R's stats::varimax at eps = 1e-5)."
            if p["rotation"] == "varimax"
            else ", without rotation."
        )
    ]
    rotations = p.get("pair_rotations") or []
    if rotations:
        parts.append(
            "The factors were then rotated by hand, in this order: "
            + _list([f"factors {a} and {b} by {angle:g} degrees" for a, b, angle in rotations])
            + " (counter-clockwise in the plane of the two factors)."
        )
    reflections = p.get("reflections") or []
    if reflections:
        parts.append(
            f"{'Factor' if len(reflections) == 1 else 'Factors'} {_list([str(f) for f in reflections])} "
            f"{'was' if len(reflections) == 1 else 'were'} reflected (loadings multiplied by -1)."
        )
    level = p.get("flag_level", flagging.DEFAULT_LEVEL)
    p_text = f"{level:.2f}".lstrip("0")  # ".05", as papers write it
    z = flagging.LEVELS[level]
    threshold = result.get("flag_threshold", z / n**0.5)
    parts.append(
        f"A Q-sort was flagged as defining a factor when its loading was significant at p < {p_text} "
        f"(|a| > {z}/sqrt({n}) = {threshold:.3f}) and its square exceeded the sum of its squared loadings "
        "on the other factors."
    )
    overrides = p.get("flag_overrides") or []
    if overrides:
        added = [f"{s} on factor {f}" for s, f, flag in overrides if flag]
        removed = [f"{s} on factor {f}" for s, f, flag in overrides if not flag]
        said = []
        if added:
            said.append("flagged " + _list(added))
        if removed:
            said.append("removed the flag of " + _list(removed))
        parts.append(f"The researcher then {' and '.join(said)} by hand.")
    defining = [f["defining_sorts"] for f in result["factors"]]
    explained = sum(f["explained_variance"] for f in result["factors"])
    parts.append(
        "Factor scores are weighted averages of the flagged Q-sorts (weight a/(1 - a^2)), expressed as "
        "z-scores and as factor arrays on the study's grid; distinguishing (p < .05) and consensus statements "
        "were identified from the standard errors of the differences (Brown 1980). "
        f"The factors have {_list([str(d) for d in defining])} defining Q-sorts and together explain "
        f"{explained:.1f}% of the variance."
    )
    if evidence:
        criteria = "; ".join(f"{c['name']}: {c['factors']}" for c in evidence["criteria"])
        low, high = evidence["suggested_range"]
        pa = evidence["parallel_analysis"]
        parts.append(
            f"To choose the number of factors the criteria were compared ({criteria}; parallel analysis "
            f"with {pa['draws']:,} sets of random Q-sorts drawn from the study's own grid, "
            f"{pa['percentile']:g}th percentile, each factor also tested against random sorts sharing the factors "
            f"before it (revised parallel analysis, Green et al. 2012)), which suggested {low}"
            + (f" to {high}" if high != low else "")
            + " factors."
        )
    if bootstrap:
        call = bootstrap["call"]
        excluded = len(bootstrap.get("error_steps", []))
        seed = (
            f"resamples drawn with seed {call['seed']}"
            if call.get("seed") is not None
            else "resamples given explicitly"
        )
        moved = ", ".join(f"{v:.2f}" for v in bootstrap["fsi"]["FSindex_intended"])
        fsi = ", ".join(f"{v:.2f}" for v in bootstrap["fsi"]["FSindex"])
        steps = _count(call["nsteps"], "bootstrap step", "bootstrap steps")
        parts.append(
            f"The stability of the solution was assessed with {steps} "
            f"following qmethod's qmboots procedure (Zabala & Pascual 2016; {seed}; factor order and sign aligned to "
            f"the full-sample solution with qindtest; {_count(excluded, 'step', 'steps')} with an order-swap error "
            f"excluded). Per factor, statements moved on average {moved} grid columns between the original and "
            f"the bootstrapped factor array; qmethod's qfsi reports FSindex {fsi}."
        )
    parts.append(
        f"Analysis by qsort {software_version()}, whose engine reproduces the R package qmethod 1.8.4 "
        "(Zabala 2014) to within 1e-6."
    )
    return " ".join(parts)


#: What methods_paragraph reads of a run's result and of its bootstrap's: the report page loads
#: only these (a 20,000-sort result is 5 MB, a bootstrap's resamples steps x sorts numbers).
METHODS_FIELDS = ("parameters", "statements", "sorts", "flag_threshold", "factors")
METHODS_BOOTSTRAP_FIELDS = ("call", "error_steps", "fsi")


def run_methods(run: AnalysisRun, result: Mapping[str, Any] | None = None) -> str:
    """The methods paragraph of a finished run with its evidence and newest bootstrap.
    `result`: its METHODS_FIELDS and "evidence", when the caller has them already."""
    require_done(run)
    if result is None:
        result = result_parts(run.pk, {name: Part(name) for name in (*METHODS_FIELDS, "evidence")})
    boot = (
        finished_bootstraps(run)
        .values(**{name: KeyTransform(name, "result") for name in METHODS_BOOTSTRAP_FIELDS})
        .first()
    )
    return methods_paragraph(result, evidence_for_run(run, result), boot)


# --- bootstrap tables (bootstrap.xlsx) ---------------------------------------------------
def bootstrap_tables(boot: Mapping[str, Any], texts: list[str] | None = None) -> list[Table]:
    """One sheet per factor for z-scores and for loadings, the arrays, the index and the log."""
    k = len(boot["zscore_stats"])
    texts = texts or [""] * len(boot["statements"])
    tables = [
        Table(
            "Bootstrap",
            ("field", "value"),
            [
                (key, value if isinstance(value, str | int | float | bool) else str(value))
                for key, value in boot["call"].items()
            ]
            + [("seconds", boot["seconds"]), ("order-swap steps left out", len(boot.get("error_steps", [])))],
        ),
        Table(
            "Bootstrapped arrays",
            (
                "statement",
                "text",
                *(f"F{f + 1} original" for f in range(k)),
                *(f"F{f + 1} bootstrap" for f in range(k)),
            ),
            [
                (
                    sid,
                    texts[s],
                    *(row[f] for f in range(k) for row in [boot["original"]["zsc_n"][s]]),
                    *(boot["bootstrapped_factor_scores"][f][s] for f in range(k)),
                )
                for s, sid in enumerate(boot["statements"])
            ],
        ),
        Table(
            "Stability index",
            ("factor", "FSindex", "NFSindex", "FSindex_intended", "NFSindex_intended"),
            [
                (
                    f + 1,
                    *(boot["fsi"][key][f] for key in ("FSindex", "NFSindex", "FSindex_intended", "NFSindex_intended")),
                )
                for f in range(k)
            ],
        ),
    ]
    for f in range(k):
        z = boot["zscore_stats"][f]
        fields = ("n", "mean", "sd", "q025", "q25", "q75", "q975")
        tables.append(
            Table(
                f"F{f + 1} z-scores",
                ("statement", "text", *fields),
                [(sid, texts[s], *(z[name][s] for name in fields)) for s, sid in enumerate(z["statement"])],
            )
        )
        loadings = boot["loading_stats"][f]
        columns = ("n", "mean", "sd", "q025", "q975", "flag_freq")
        tables.append(
            Table(
                f"F{f + 1} loadings",
                ("sort", *columns),
                [(sort, *(loadings[name][q] for name in columns)) for q, sort in enumerate(loadings["sort"])],
            )
        )
    tables.append(
        Table(
            "Steps",
            ("step", "order", "sign", "resample"),
            [
                (i + 1, order, sign, " ".join(str(v) for v in resample))
                for i, (order, sign, resample) in enumerate(
                    zip(boot["order_log"], boot["sign_log"], boot["resamples"], strict=True)
                )
            ],
        )
    )
    return tables


def bootstrap_xlsx(run: AnalysisRun) -> bytes:
    boot: dict[str, Any] = _finished_bootstrap(run).result or {}
    return writers.xlsx_bytes(bootstrap_tables(boot, stored_result(run).get("statement_texts")))


def _finished_bootstrap(run: AnalysisRun) -> Bootstrap:
    job = latest_bootstrap(run)
    if job is None:
        raise RunRefused("This analysis has no finished bootstrap yet: start one from its stability page or the API.")
    return job


# --- the DOCX run report -----------------------------------------------------------------
def _table(document: Any, header: list[str], rows: list[list[Cell]]) -> None:
    table = document.add_table(rows=1, cols=len(header))
    table.style = "Light Grid Accent 1"
    for cell, text in zip(table.rows[0].cells, header, strict=True):
        cell.text = str(text)
    for row in rows:
        cells = table.add_row().cells
        for cell, value in zip(cells, row, strict=True):
            cell.text = "" if value is None else (f"{value:.3f}" if isinstance(value, float) else str(value))


def _grid(document: Any, result: Mapping[str, Any], f: int) -> None:
    """A factor array as the grid a participant filled: one column per grid value, most
    disagree on the left; each cell lists statement numbers (texts follow in a table)."""
    from docx.enum.text import WD_ALIGN_PARAGRAPH  # python-docx: imported by the DOCX export only

    values = result["distribution"]["values"]
    column: dict[int, list[str]] = {v: [] for v in values}
    for s, row in enumerate(result["factor_arrays"]):
        value = row[f]
        if value is not None:
            column.setdefault(value, []).append(result["statements"][s])
    depth = max((len(c) for c in column.values()), default=0)
    table = document.add_table(rows=depth + 1, cols=len(column))
    table.style = "Table Grid"
    for c, value in enumerate(sorted(column)):
        head = table.rows[0].cells[c]
        head.text = f"{value:+d}" if value else "0"
        head.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER
        for r, statement in enumerate(column[value], start=1):
            table.rows[r].cells[c].text = str(statement)
            table.rows[r].cells[c].paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER


def report_docx(run: AnalysisRun) -> bytes:
    """The run report: characteristics, arrays as grids, distinguishing and consensus
    statements, the evidence panel, the stability results and the methods paragraph."""
    result = stored_result(run)
    evidence = evidence_for_run(run, result)
    job = latest_bootstrap(run)
    boot = job.result if job else None
    k = len(result["factors"])
    texts = result.get("statement_texts") or [str(s) for s in result["statements"]]
    # Imported here: python-docx (and lxml) took a fifth of a second of every process start
    # (`manage.py check` imports every view), and only this download needs it.
    from docx import Document
    from docx.shared import Pt

    document = Document()
    document.styles["Normal"].font.size = Pt(10)
    document.add_heading(f"{run.study.title}: analysis run {run.pk}", level=0)
    finished = run.finished_at.strftime("%Y-%m-%d %H:%M UTC") if run.finished_at else ""
    document.add_paragraph(
        f"{len(result['sorts'])} Q-sorts, {len(result['statements'])} statements, {k} factors. {finished}"
    )

    document.add_heading("Methods", level=1)
    document.add_paragraph(methods_paragraph(result, evidence, boot))

    document.add_heading("Factor characteristics", level=1)
    _table(
        document,
        ["", *(f"Factor {f + 1}" for f in range(k))],
        [
            ["Defining sorts", *(c["defining_sorts"] for c in result["factors"])],
            ["Eigenvalue (sum of squared loadings)", *(c["eigenvalue"] for c in result["factors"])],
            ["Explained variance (%)", *(c["explained_variance"] for c in result["factors"])],
            ["Composite reliability", *(c["composite_reliability"] for c in result["factors"])],
            ["SE of factor scores", *(c["se_factor_scores"] for c in result["factors"])],
        ],
    )

    document.add_heading("Factor arrays", level=1)
    for f in range(k):
        document.add_heading(f"Factor {f + 1}", level=2)
        if result["factor_arrays"][0][f] is None:
            document.add_paragraph("No defining sort: this factor has no array.")
            continue
        _grid(document, result, f)
    _table(
        document,
        ["Statement", "Text", *(f"F{f + 1}" for f in range(k))],
        [[sid, texts[s], *result["factor_arrays"][s]] for s, sid in enumerate(result["statements"])],
    )

    document.add_heading("Distinguishing and consensus statements", level=1)
    for factor, ids in result["distinguishing"].items():
        document.add_heading(f"Distinguishing factor {factor} (p < .05)", level=2)
        index = {sid: s for s, sid in enumerate(result["statements"])}
        if ids:
            _table(
                document,
                ["Statement", "Text", "Array", "z-score"],
                [
                    [
                        sid,
                        texts[index[sid]],
                        result["factor_arrays"][index[sid]][int(factor) - 1],
                        result["zscores"][index[sid]][int(factor) - 1],
                    ]
                    for sid in ids
                ],
            )
        else:
            document.add_paragraph("None.")
    document.add_heading("Consensus statements (no pair of factors differs at p < .05)", level=2)
    consensus = result["consensus"]
    index = {sid: s for s, sid in enumerate(result["statements"])}
    if consensus:
        _table(document, ["Statement", "Text"], [[sid, texts[index[sid]]] for sid in consensus])
    else:
        document.add_paragraph("None.")

    document.add_heading("How many factors: the evidence", level=1)
    if evidence:
        _table(
            document,
            ["Criterion", "Factors", "Reason"],
            [[c["name"], c["factors"], c["reason"]] for c in evidence["criteria"]],
        )
        low, high = evidence["suggested_range"]
        document.add_paragraph(f"Suggested range: {low} to {high} factors; this run kept {k}.")
        _table(
            document,
            [
                "Factor",
                "Eigenvalue",
                "Parallel 95th pct.",
                "Cumulative variance %",
                "Humphrey product",
                "Significant loadings",
                "Defining sorts",
            ],
            [
                [
                    f["factor"],
                    f["eigenvalue"],
                    evidence["parallel_analysis"]["threshold"][f["factor"] - 1],
                    f["cumulative_variance"],
                    f["humphrey_product"],
                    f["significant_loadings"],
                    f["defining_sorts"],
                ]
                for f in evidence["per_factor"]
            ],
        )
    else:
        document.add_paragraph("Not available: the sorts of this run are no longer all in the study.")

    document.add_heading("Stability (bootstrap)", level=1)
    if boot:
        call = boot["call"]
        document.add_paragraph(
            f"{call['nsteps']} steps (seed {call['seed']}), {len(boot.get('error_steps', []))} left out "
            f"(order-swap errors); computed in {boot['seconds']:.2f} s."
        )
        _table(
            document,
            ["Factor", "qmethod FSindex (as qfsi computes it)", "qmethod NFSindex", "Mean move of a statement"],
            [
                [f + 1, boot["fsi"]["FSindex"][f], boot["fsi"]["NFSindex"][f], boot["fsi"]["FSindex_intended"][f]]
                for f in range(len(boot["fsi"]["FSindex"]))
            ],
        )
        for f, stats in enumerate(boot["zscore_stats"]):
            document.add_heading(f"Factor {f + 1}: bootstrapped z-scores", level=2)
            _table(
                document,
                ["Statement", "Array", "Bootstrap array", "Mean z", "SD", "2.5 %", "97.5 %"],
                [
                    [
                        sid,
                        boot["original"]["zsc_n"][s][f],
                        boot["bootstrapped_factor_scores"][f][s],
                        stats["mean"][s],
                        stats["sd"][s],
                        stats["q025"][s],
                        stats["q975"][s],
                    ]
                    for s, sid in enumerate(stats["statement"])
                ],
            )
    else:
        document.add_paragraph("No bootstrap of this run has finished yet.")

    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


#: Run files built from the run itself (its bootstrap, evidence and report), beside the
#: exchange room's files built from its result alone. Builders raise RunRefused with a reason.
RUN_REPORT_FILES: dict[str, tuple[str, Callable[[AnalysisRun], bytes]]] = {
    "bootstrap.json": (writers.JSON_TYPE, lambda run: writers.json_bytes(_finished_bootstrap(run).result)),
    "bootstrap.xlsx": (writers.XLSX_TYPE, bootstrap_xlsx),
    "report.docx": (DOCX_TYPE, report_docx),
}

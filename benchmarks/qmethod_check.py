"""Our engine against live R qmethod on fresh random studies (a verification script, not a test).

    .venv/bin/python benchmarks/qmethod_check.py                 # 4 fresh studies, 30 bootstrap steps
    .venv/bin/python benchmarks/qmethod_check.py --seed 7 --steps 50
    QMETHOD_R_SOURCE=/path/to/qmethod .venv/bin/python benchmarks/qmethod_check.py

The tests compare the engine with the qmethod outputs recorded in shared/reference; this
script makes new studies each run (the seed is printed, ``--seed`` repeats a run) and runs
qmethod on them in the same run, so the agreement is not limited to the recorded cases.  Per
study (a forced quasi-normal grid, sorts drawn from a few viewpoints with noise, some
negative loaders):

- ``qmethod(..., extraction = "PCA" | "centroid", rotation = "varimax")`` against
  ``analyse(..., extraction=...)``: loadings, flags, z-scores, factor arrays, the differences
  between factors and their significance codes;
- ``qmboots(..., nsteps, load = "auto", indet = "qindtest")`` (PCA: qmboots' only extraction)
  against ``bootstrap_analysis`` given qmboots' own resamples: order and sign logs, z-score
  and loading statistics, flag frequencies, bootstrapped factor arrays and the stability index.

Numbers must agree within 1e-6; flags, arrays, codes and logs exactly.  Prints one line per
check and exits 1 if any differs.

Known difference (``--seed 6``, study 3, centroid): when two columns tie exactly for the
smallest sum in the reflection loop, qmethod's ``centroid`` reflects both at once, and its
``tmat[, oo] <- vec`` then writes the two negated rows into the two columns in column-major
order, so the matrix is no longer symmetric and the factors that follow differ; the engine
reflects the lowest index (shared/Q-METHOD.md, centroid rule (c)).

Needs ``Rscript`` and qmethod (``benchmarks/qmethod_r.py``): without them it says so and exits
0 (nothing to compare).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from qmethod_r import find

from qsort.analysis import analyse, read_sorts_csv
from qsort.analysis.bootstrap import bootstrap_analysis

TOL = 1e-6
# statements, sorts, factors, viewpoints, grid half-width
STUDIES = [(25, 12, 2, 2, 3), (33, 20, 3, 3, 4), (40, 30, 4, 4, 4), (48, 45, 3, 3, 5)]
R_PROGRAM = """
args <- commandArgs(trailingOnly = TRUE)
sorts <- read_sorts(args[1])
k <- as.integer(args[2])
steps <- as.integer(args[4])
plain <- function(x) unname(as.matrix(x))
comparisons <- function(res) lapply(combn(k, 2, simplify = FALSE), function(ab) {
  name <- paste0("f", ab[1], "_f", ab[2])
  list(factors = ab, difference = res$qdc[[name]], significance = res$qdc[[paste0("sig_", name)]])
})
analysis <- function(extraction) {
  res <- qmethod(sorts, nfactors = k, extraction = extraction, rotation = "varimax", forced = TRUE, silent = TRUE)
  list(loadings = plain(res$loa), flags = plain(res$flagged), zscores = plain(res$zsc),
       factor_arrays = plain(res$zsc_n), differences = comparisons(res))
}
out <- list(pca = analysis("PCA"), centroid = analysis("centroid"))
if (steps > 0) {
  set.seed(as.integer(args[5]))
  sink(nullfile())
  boot <- qmboots(sorts, nfactors = k, nsteps = steps, load = "auto", rotation = "varimax",
                  indet = "qindtest", fsi = TRUE)
  sink()
  z <- boot[["zscore-stats"]]
  l <- boot[["loa.stats"]]
  out$bootstrap <- list(
    resamples = unname(as.list(boot$resamples)),
    order_log = unname(as.character(unlist(boot$indet.tests[[2]][[1]]))),
    sign_log = unname(as.character(unlist(boot$indet.tests[[2]][[2]]))),
    zscore_stats = lapply(seq_len(k), function(f) {
      s <- z[[f + 1]]
      list(statement = rownames(s), n = s$n, mean = s$mean, sd = s$sd,
           q025 = s[["2.5%"]], q25 = s[["25%"]], q75 = s[["75%"]], q975 = s[["97.5%"]])
    }),
    bootstrapped_factor_scores = lapply(seq_len(k), function(f) z[[1]][[f]]),
    loading_stats = lapply(seq_len(k), function(f) {
      s <- l[[f]]
      list(sort = rownames(s), n = s$n, mean = s$mean, sd = s$sd, q025 = s[["2.5%"]],
           q975 = s[["97.5%"]], flag_freq = s$flag_freq)
    }),
    fsi = list(FSindex = boot$fsi$FSindex, NFSindex = boot$fsi$NFSindex))
}
write(toJSON(out, digits = NA, na = "null"), args[3])
"""


def study(n: int, p: int, views: int, half: int, rng: np.random.Generator) -> np.ndarray:
    """A forced quasi-normal grid on -half..half; each sort one viewpoint (a few reversed) + noise."""
    grid = np.sort(np.round(np.clip(rng.normal(0, half / 2, n), -half, half)).astype(np.int64))
    latent = rng.normal(size=(n, views))[:, rng.integers(0, views, p)] * rng.choice([-1, 1], p, p=[0.15, 0.85])
    latent += rng.normal(scale=rng.uniform(0.6, 1.4), size=(n, p))
    return grid[np.argsort(np.argsort(latent, axis=0, kind="stable"), axis=0)]


def number(values: Any) -> np.ndarray:
    """R's JSON (nulls for NA) as a float array with NaN."""
    return np.array(values, dtype=object).astype(np.float64)


def gap(a: Any, b: Any) -> float:
    """Largest absolute difference; NaN where one side is missing and the other is not."""
    x, y = number(a), number(b)
    if x.shape != y.shape or not np.array_equal(np.isnan(x), np.isnan(y)):
        return float("nan")
    both = ~np.isnan(x)
    return float(np.abs(x[both] - y[both]).max(initial=0.0))


def arrays_where_defined(ours: list[list[Any]], theirs: list[list[Any]]) -> list[list[Any]]:
    """qmethod's arrays with nulls where ours has none: a factor with no defining sort has no
    z-scores, and qmethod still ranks its NAs into an array that means nothing."""
    pairs = zip(ours, theirs, strict=True)
    return [[None if a is None else b for a, b in zip(row, other, strict=True)] for row, other in pairs]


class Report:
    def __init__(self) -> None:
        self.failed = 0
        self.checks = 0

    def number(self, what: str, ours: Any, theirs: Any) -> str:
        g = gap(ours, theirs)
        ok = g <= TOL  # NaN fails
        return self._count(ok, f"{what} {g:.1e}" if ok else f"{what} DIFFER ({g:.2g})")

    def exact(self, what: str, ours: Any, theirs: Any) -> str:
        return self._count(ours == theirs, what if ours == theirs else f"{what} DIFFER")

    def _count(self, ok: bool, text: str) -> str:
        self.checks += 1
        self.failed += not ok
        return text


def check_analysis(report: Report, table: Any, k: int, extraction: str, r: dict[str, Any]) -> str:
    ours = analyse(table.values, table.statement_ids, table.sort_ids, factors=k, extraction=extraction)
    mine = ours.to_json()
    pairs = {(tuple(d["factors"]), d["statement"]): d for d in mine["differences"]}
    theirs_diff, ours_diff, theirs_codes, ours_codes = [], [], [], []
    for block in r["differences"]:
        if (tuple(block["factors"]), table.statement_ids[0]) not in pairs:
            # ours leaves out a pair with a factor that has no defining sort; qmethod's are NA there
            theirs_codes.append(all(v is None for v in block["difference"]))
            ours_codes.append(True)
            continue
        for s, sid in enumerate(table.statement_ids):
            d = pairs[(tuple(block["factors"]), sid)]
            theirs_diff.append(block["difference"][s])
            ours_diff.append(d["difference"])
            theirs_codes.append(block["significance"][s])
            ours_codes.append(d["significance"])
    parts = [
        report.number("loadings", mine["loadings"], r["loadings"]),
        report.exact("flags", mine["flags"], r["flags"]),
        report.number("z-scores", mine["zscores"], r["zscores"]),
        report.exact("arrays", mine["factor_arrays"], arrays_where_defined(mine["factor_arrays"], r["factor_arrays"])),
        report.number("differences", ours_diff, theirs_diff),
        report.exact("codes", ours_codes, theirs_codes),
    ]
    return ", ".join(parts)


def by_name(stats: dict[str, Any], key: str, names: list[str], field: str) -> list[Any]:
    where = {name: i for i, name in enumerate(stats[key])}
    return [stats[field][where[name]] for name in names]


def check_bootstrap(report: Report, table: Any, k: int, r: dict[str, Any]) -> str:
    result = analyse(table.values, table.statement_ids, table.sort_ids, factors=k)
    ours = bootstrap_analysis(table.values, result, resamples=np.array(r["resamples"]) - 1).to_json()
    parts = [
        report.exact("order log", ours["order_log"], r["order_log"]),
        report.exact("sign log", ours["sign_log"], r["sign_log"]),
    ]
    statements, sorts = list(table.statement_ids), sorted(table.sort_ids, key=str.encode)
    z_ours, z_theirs, l_ours, l_theirs = [], [], [], []
    for f in range(k):
        for field in ("n", "mean", "sd", "q025", "q25", "q75", "q975"):
            z_ours.append(by_name(ours["zscore_stats"][f], "statement", statements, field))
            z_theirs.append(by_name(r["zscore_stats"][f], "statement", statements, field))
        for field in ("n", "mean", "sd", "q025", "q975", "flag_freq"):
            l_ours.append(by_name(ours["loading_stats"][f], "sort", sorts, field))
            l_theirs.append(by_name(r["loading_stats"][f], "sort", sorts, field))
    parts += [
        report.number("z-score stats", z_ours, z_theirs),
        report.number("loading stats + flag freq", l_ours, l_theirs),
        report.exact("bootstrapped arrays", ours["bootstrapped_factor_scores"], r["bootstrapped_factor_scores"]),
        report.number(
            "FSindex/NFSindex",
            [ours["fsi"]["FSindex"], ours["fsi"]["NFSindex"]],
            [r["fsi"]["FSindex"], r["fsi"]["NFSindex"]],
        ),
    ]
    errors = len(ours["error_steps"])
    return f"{', '.join(parts)} ({errors} order-swap steps left out)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seed", type=int, default=int(time.time()) % 100_000, help="default: from the clock")
    parser.add_argument("--steps", type=int, default=30, help="qmboots steps per study (0: no bootstrap)")
    args = parser.parse_args()
    r, why = find()
    if r is None:
        print(f"R: {why}: nothing to compare against (install R and qmethod, see benchmarks/qmethod_r.py)")
        return
    print(f"R: {r.description}; seed {args.seed}; {args.steps} bootstrap steps; tolerance {TOL:g}")
    report = Report()
    rng = np.random.default_rng(args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for i, (n, p, k, views, half) in enumerate(STUDIES):
            x = study(n, p, views, half, rng)
            csv = folder / f"study{i}.csv"
            lines = ["statement_id," + ",".join(f"P{q + 1:02d}" for q in range(p))]
            lines += [f"S{s + 1}," + ",".join(str(v) for v in row) for s, row in enumerate(x)]
            csv.write_text("\n".join(lines) + "\n")
            out = folder / f"study{i}.json"
            r.run(R_PROGRAM, folder, "qmethod_check", csv, k, out, args.steps, args.seed + i)
            theirs = json.loads(out.read_text())
            table = read_sorts_csv(csv)
            print(f"study {i + 1}: {n} statements x {p} sorts, grid -{half}..+{half}, {k} factors")
            print(f"  PCA + varimax:      {check_analysis(report, table, k, 'pca', theirs['pca'])}")
            print(f"  centroid + varimax: {check_analysis(report, table, k, 'centroid', theirs['centroid'])}")
            if args.steps:
                print(f"  qmboots, {args.steps} steps:  {check_bootstrap(report, table, k, theirs['bootstrap'])}")
    print(f"{report.checks - report.failed} of {report.checks} checks agree")
    if report.failed:
        raise SystemExit(1)


if __name__ == "__main__":
    main()

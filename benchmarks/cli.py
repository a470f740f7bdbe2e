"""``manage.py qanalysis`` as a whole process, next to a plain numpy script and Rscript + qmethod.

    .venv/bin/python benchmarks/cli.py              # 33 x 20 and 60 x 1,000, 5 runs each (R: 3)
    .venv/bin/python benchmarks/cli.py --repeat 9 --r-repeat 5
    .venv/bin/python benchmarks/cli.py --keep DIR   # keep the CSVs and JSON outputs in DIR
    QMETHOD_R_SOURCE=/path/to/qmethod .venv/bin/python benchmarks/cli.py   # qmethod from its source

Each case writes one sorts CSV (a forced quasi-normal grid, sorts drawn from 4 viewpoints plus
as much noise) and times, in the same run, fresh processes of:

- qanalysis: ``manage.py qanalysis sorts.csv --factors 5 --output out.json`` (PCA, varimax);
- numpy: ``benchmarks/plain_analysis.py``, a plain numpy script with no Django and no qsort,
  doing the same PCA, varimax, flags, z-scores and factor arrays and writing the same big
  fields (correlations up to 1,000 sorts, loadings, z-scores, arrays, flags) with ``json``;
  its loadings are checked against qanalysis's, so both did the same analysis;
- Rscript: ``qmethod(sorts, 5, rotation="varimax", forced=TRUE, silent=TRUE)`` on the same CSV,
  writing its loadings, flags, z-scores and arrays with jsonlite; its loadings and arrays are
  checked against qanalysis's too.  R needs ``Rscript`` on the PATH (Debian: r-base-core,
  r-cran-psych, r-cran-gparotation, r-cran-jsonlite) and qmethod either installed where R
  finds it (e.g. ``R_LIBS=LIB`` after ``R CMD INSTALL -l LIB qmethod``) or as a source
  directory named by ``QMETHOD_R_SOURCE`` (``benchmarks/qmethod_r.py``).  Without them the
  script says so and prints our side with issue 15's recorded figure (0.63 s at 33 x 20).

Figures are the median (and best) wall clock and the median CPU (user + system) of the runs;
targets: at 33 x 20 qanalysis faster than Rscript, at 60 x 1,000 qanalysis within 1.5x of the
numpy script.  Then one in-process breakdown of qanalysis (import, read, analyse,
to_json, dumps) at each size.  On a busy machine wall clocks are noisy: the load average is
printed before and after.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from qmethod_r import QmethodR, find

ROOT = Path(__file__).resolve().parents[1]
PLAIN = Path(__file__).with_name("plain_analysis.py")
SIZES = [(33, 20), (60, 1_000)]
FACTORS = 5
RSCRIPT_REFERENCE = {(33, 20): 0.63}  # issue 15: Rscript + qmethod 1.8.4, quiet machine
R_PROGRAM = """
args <- commandArgs(trailingOnly = TRUE)
sorts <- read_sorts(args[1])
res <- qmethod(sorts, nfactors = as.integer(args[2]), rotation = "varimax", forced = TRUE, silent = TRUE)
out <- list(loadings = unname(as.matrix(res$loa)), flags = unname(res$flagged),
            zscores = unname(as.matrix(res$zsc)), factor_arrays = unname(as.matrix(res$zsc_n)))
write(toJSON(out, digits = NA), args[3])
"""


@dataclass(frozen=True)
class Timing:
    median: float  # wall clock
    best: float
    cpu: float  # median user + system

    def __str__(self) -> str:
        return f"{self.median:.3f} ({self.best:.3f}) / {self.cpu:.3f}"


def write_sorts(n: int, p: int, path: Path) -> None:
    rng = np.random.default_rng(20240601 + p)
    grid = np.sort(np.round(np.clip(rng.normal(0, 2.0, n), -4, 4)).astype(np.int64))
    views = rng.normal(size=(n, 4))
    latent = views[:, rng.integers(0, 4, p)] * rng.choice([-1, 1], p, p=[0.15, 0.85])
    latent += rng.normal(size=(n, p))
    data = grid[np.argsort(np.argsort(latent, axis=0, kind="stable"), axis=0)]
    lines = ["statement_id," + ",".join(f"q{i}" for i in range(p))]
    lines += [f"s{s + 1}," + ",".join(str(v) for v in row) for s, row in enumerate(data)]
    path.write_text("\n".join(lines) + "\n")


def timed(command: list[str], repeat: int) -> Timing:
    """Wall clock and CPU (user + system) of `repeat` fresh processes.  On a shared, busy
    machine the CPU figure is the steadier one: waiting for a core is not in it."""
    walls, cpus = [], []
    for _ in range(repeat):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True, cwd=ROOT)
        walls.append(time.perf_counter() - started)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return Timing(statistics.median(walls), min(walls), statistics.median(cpus))


def same_analysis(ours: dict, other: dict, who: str, size: str, arrays: bool) -> None:
    """Stop the benchmark if `other` did not do the analysis qanalysis did."""
    agree = np.allclose(ours["loadings"], other["loadings"], atol=1e-8, rtol=0) and ours["flags"] == other["flags"]
    if arrays:  # a factor with no defining sort has no array in ours (null), a meaningless one in qmethod's
        mine, theirs = np.array(ours["factor_arrays"], dtype=float), np.array(other["factor_arrays"], dtype=float)
        agree = agree and np.array_equal(mine, np.where(np.isnan(mine), np.nan, theirs), equal_nan=True)
    if not agree:
        gap = np.abs(np.array(ours["loadings"]) - np.array(other["loadings"])).max()
        raise SystemExit(f"{size}: {who} and qanalysis disagree (loadings differ by up to {gap:.2g}, or flags/arrays)")


def breakdown(csv: Path) -> str:
    """One qanalysis, step by step, in a fresh process (import costs are first-time costs)."""
    code = f"""
import json, os, sys, time
t0 = time.perf_counter()
sys.path.insert(0, {str(ROOT)!r})
t1 = time.perf_counter()
from qsort.analysis.cli import dump
t2 = time.perf_counter()
from qsort.analysis import analyse, read_sorts_csv
table = read_sorts_csv({str(csv)!r})
t3 = time.perf_counter()
result = analyse(table.values, table.statement_ids, table.sort_ids, factors={FACTORS})
t4 = time.perf_counter()
obj = result.to_json()
t5 = time.perf_counter()
text = dump(obj)
t6 = time.perf_counter()
print(json.dumps([t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4, t6 - t5]))
"""
    steps = json.loads(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)
    names = ["import command", "read CSV", "analyse", "to_json", "dumps"]
    return ", ".join(f"{name} {seconds:.3f}" for name, seconds in zip(names, steps[1:], strict=True))


def load() -> str:
    return " ".join(f"{v:.2f}" for v in os.getloadavg())


def case(n: int, p: int, folder: Path, r: QmethodR | None, repeat: int, r_repeat: int) -> str:
    size = f"{n} x {p:,}"
    csv = folder / f"sorts_{n}x{p}.csv"
    write_sorts(n, p, csv)
    ours_json, plain_json, r_json = (folder / f"{who}_{n}x{p}.json" for who in ("qanalysis", "numpy", "r"))
    command = [sys.executable, "manage.py", "qanalysis", str(csv), "--factors", str(FACTORS)]
    qanalysis = timed([*command, "--output", str(ours_json)], repeat)
    numpy_script = timed([sys.executable, str(PLAIN), str(csv), str(FACTORS), str(plain_json)], repeat)
    ours = json.loads(ours_json.read_text())
    same_analysis(ours, json.loads(plain_json.read_text()), "the numpy script", size, arrays=False)
    ratio = f"{qanalysis.median / numpy_script.median:.2f}x numpy"
    if r is not None:
        program = r.program(R_PROGRAM, folder, "qmethod_cli")
        rscript = timed([r.rscript, str(program), str(csv), str(FACTORS), str(r_json)], r_repeat)
        same_analysis(ours, json.loads(r_json.read_text()), "Rscript + qmethod", size, arrays=True)
        r_text, r_seconds = str(rscript), rscript.median
    elif (n, p) in RSCRIPT_REFERENCE:
        r_text, r_seconds = f"{RSCRIPT_REFERENCE[(n, p)]:.2f}* (issue 15)", RSCRIPT_REFERENCE[(n, p)]
    else:
        r_text, r_seconds = "-", None
    if r_seconds is not None:
        ratio += f", {qanalysis.median / r_seconds:.2f}x Rscript"
    if (n, p) == (33, 20):
        verdict = "met" if r_seconds is not None and qanalysis.median < r_seconds else "missed"
        target = f"target qanalysis < Rscript: {verdict}"
    else:
        verdict = "met" if qanalysis.median <= 1.5 * numpy_script.median else "missed"
        target = f"target qanalysis <= 1.5x numpy: {verdict}"
    return (
        f"{size:>9}  qanalysis {qanalysis}  numpy {numpy_script}  Rscript {r_text}  "
        f"JSON {ours_json.stat().st_size / 2**20:.2f} MB\n{'':>11}{ratio}; {target}"
    )


def main() -> None:
    args = sys.argv[1:]
    repeat = int(args[args.index("--repeat") + 1]) if "--repeat" in args else 5
    r_repeat = int(args[args.index("--r-repeat") + 1]) if "--r-repeat" in args else 3
    keep = Path(args[args.index("--keep") + 1]) if "--keep" in args else None
    folder = keep or Path(tempfile.mkdtemp(prefix="qsort-cli-"))
    folder.mkdir(parents=True, exist_ok=True)
    r, why = find()
    env_note = "DATABASE_URL unset: SQLite settings" if "DATABASE_URL" not in os.environ else "DATABASE_URL set"
    print(f"manage.py qanalysis --factors {FACTORS} (PCA, varimax), numpy script, Rscript + qmethod: whole processes")
    print(f"load average {load()} on {os.cpu_count()} CPUs; {env_note}")
    print(f"R: {r.description}" if r else f"R: {why}: only our side is timed")
    print(f"seconds: wall median (best) / CPU median; {repeat} runs each, Rscript {r_repeat}")
    try:
        for n, p in SIZES:
            print(case(n, p, folder, r, repeat, r_repeat), flush=True)
        if r is None:
            print("* Rscript + qmethod not timed here: the figure is issue 15's (quiet machine)")
        else:
            print("Rscript's loadings, flags and factor arrays equal qanalysis's (loadings within 1e-8)")
        print(f"load average after: {load()}")
        print("in-process breakdown of one qanalysis (seconds):")
        for n, p in SIZES:
            print(f"  {n} x {p:,}: {breakdown(folder / f'sorts_{n}x{p}.csv')}")
    finally:
        if keep is None:
            shutil.rmtree(folder)


if __name__ == "__main__":
    main()

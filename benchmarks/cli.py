"""``manage.py qanalysis`` as a whole process, next to a plain numpy script and Rscript + qmethod.

    .venv/bin/python benchmarks/cli.py              # 33 x 20 and 60 x 1,000, best of 5
    .venv/bin/python benchmarks/cli.py --repeat 9   # best of 9 fresh processes
    .venv/bin/python benchmarks/cli.py --keep DIR   # keep the CSVs and JSON outputs in DIR

Each case writes one sorts CSV (a forced quasi-normal grid, sorts drawn from 4 viewpoints plus
as much noise) and times, wall clock and best of N fresh processes, in the same run:

- qanalysis: ``manage.py qanalysis sorts.csv --factors 5 --output out.json`` (PCA, varimax);
- numpy: ``benchmarks/plain_analysis.py``, a plain numpy script with no Django and no qsort,
  doing the same PCA, varimax, flags, z-scores and factor arrays and writing the same big
  fields (correlations up to 1,000 sorts, loadings, z-scores, arrays, flags) with ``json``;
  its loadings are checked against qanalysis's, so both did the same analysis;
- Rscript: qmethod on the same CSV, when ``Rscript`` and the qmethod package are installed;
  otherwise the figure measured for issue 15 on a quiet machine (0.63 s at 33 x 20) is printed
  as the reference.

Then one in-process breakdown of qanalysis (django.setup, import, read, analyse, to_json,
dumps) at each size. Figures are noisy on a busy machine: the load average is printed.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
PLAIN = Path(__file__).with_name("plain_analysis.py")
SIZES = [(33, 20), (60, 1_000)]
FACTORS = 5
RSCRIPT_REFERENCE = {(33, 20): 0.63}  # issue 15: Rscript + qmethod 1.8.4, quiet machine
R_PROGRAM = """
suppressMessages(library(qmethod))
args <- commandArgs(trailingOnly = TRUE)
sorts <- read.csv(args[1], row.names = 1)
res <- qmethod(sorts, nfactors = as.integer(args[2]), rotation = "varimax", forced = TRUE, silent = TRUE)
write(jsonlite::toJSON(res$loa, digits = NA), args[3])
"""


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


def best_of(command: list[str], repeat: int) -> tuple[float, float]:
    """Best wall-clock and best CPU (user + system) seconds of `repeat` fresh processes.  On a
    shared, busy machine the CPU figure is the steadier one: waiting for a core is not in it."""
    walls, cpus = [], []
    for _ in range(repeat):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True, cwd=ROOT)
        walls.append(time.perf_counter() - started)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return min(walls), min(cpus)


def rscript_seconds(csv: Path, out: Path, repeat: int) -> tuple[float, float] | None:
    rscript = shutil.which("Rscript")
    if rscript is None:
        return None
    probe = subprocess.run([rscript, "-e", "library(qmethod); library(jsonlite)"], capture_output=True)
    if probe.returncode != 0:
        return None
    program = out.with_suffix(".R")
    program.write_text(R_PROGRAM)
    return best_of([rscript, str(program), str(csv), str(FACTORS), str(out)], repeat)


def breakdown(csv: Path) -> str:
    """One qanalysis, step by step, in a fresh process (import costs are first-time costs)."""
    code = f"""
import json, os, sys, time
t0 = time.perf_counter()
sys.path.insert(0, {str(ROOT)!r})
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "qsort.settings")
import django
django.setup()
t1 = time.perf_counter()
from qsort.runs.management.commands.qanalysis import Command, dump
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
    names = ["django.setup", "import command", "read CSV", "analyse", "to_json", "dumps"]
    return ", ".join(f"{name} {seconds:.3f}" for name, seconds in zip(names, steps, strict=True))


def main() -> None:
    args = sys.argv[1:]
    repeat = int(args[args.index("--repeat") + 1]) if "--repeat" in args else 5
    keep = Path(args[args.index("--keep") + 1]) if "--keep" in args else None
    folder = keep or Path(tempfile.mkdtemp(prefix="qsort-cli-"))
    folder.mkdir(parents=True, exist_ok=True)
    env_note = "DATABASE_URL unset: SQLite settings" if "DATABASE_URL" not in os.environ else "DATABASE_URL set"
    print(f"manage.py qanalysis --factors {FACTORS} (PCA, varimax): whole process, wall clock, best of {repeat}")
    print(f"load average {' '.join(f'{v:.2f}' for v in os.getloadavg())} on {os.cpu_count()} CPUs; {env_note}")
    print("seconds: wall clock / CPU (user + system); ratio = qanalysis / numpy")
    print(f"{'statements x sorts':>20} {'qanalysis':>13} {'numpy':>13} {'ratio':>11} {'Rscript':>13}  JSON MB")
    try:
        for n, p in SIZES:
            csv = folder / f"sorts_{n}x{p}.csv"
            write_sorts(n, p, csv)
            ours, plain = folder / f"qanalysis_{n}x{p}.json", folder / f"numpy_{n}x{p}.json"
            command = [sys.executable, "manage.py", "qanalysis", str(csv), "--factors", str(FACTORS)]
            qanalysis = best_of([*command, "--output", str(ours)], repeat)
            numpy_script = best_of([sys.executable, str(PLAIN), str(csv), str(FACTORS), str(plain)], repeat)
            a, b = json.loads(ours.read_text()), json.loads(plain.read_text())
            same = np.allclose(a["loadings"], b["loadings"], atol=1e-10, rtol=0) and a["flags"] == b["flags"]
            if not same:
                raise SystemExit(f"{n} x {p}: the numpy script and qanalysis disagree on the loadings or flags")
            r = rscript_seconds(csv, folder / f"r_{n}x{p}.json", repeat)
            if r is not None:
                r_text = f"{r[0]:>6.3f}/{r[1]:<6.3f}"
            elif (n, p) in RSCRIPT_REFERENCE:
                r_text = f"{RSCRIPT_REFERENCE[(n, p)]:>6.2f}* wall "
            else:
                r_text = f"{'-':>13}"
            ratio = f"{qanalysis[0] / numpy_script[0]:>5.2f}/{qanalysis[1] / numpy_script[1]:<5.2f}"
            print(
                f"{f'{n} x {p:,}':>20} {qanalysis[0]:>6.3f}/{qanalysis[1]:<6.3f} "
                f"{numpy_script[0]:>6.3f}/{numpy_script[1]:<6.3f} {ratio} {r_text}  "
                f"{ours.stat().st_size / 2**20:.2f}",
                flush=True,
            )
        if shutil.which("Rscript") is None:
            print("* Rscript is not installed here: the figure is issue 15's (Rscript + qmethod, quiet machine)")
        print("in-process breakdown of one qanalysis (seconds):")
        for n, p in SIZES:
            print(f"  {n} x {p:,}: {breakdown(folder / f'sorts_{n}x{p}.csv')}")
    finally:
        if keep is None:
            shutil.rmtree(folder)


if __name__ == "__main__":
    main()

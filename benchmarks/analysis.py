"""Time and memory of one whole analysis (qsort.analysis.analyse), no file I/O.

    .venv/bin/python benchmarks/analysis.py                       # every size, PCA and centroid
    .venv/bin/python benchmarks/analysis.py 80x10000              # one size
    .venv/bin/python benchmarks/analysis.py 80x50000 centroid     # one size, one extraction
    .venv/bin/python benchmarks/analysis.py --repeat 3 80x10000   # best of 3 runs

Data: a forced quasi-normal grid, sorts drawn from 4 viewpoints (15% of them reversed) plus
as much noise; 5 factors, varimax, automatic flags.  Each case runs in a fresh process so
its memory figure is its own: "peak RSS" is the process's maximum resident set size
(resource.getrusage, ru_maxrss) including the interpreter, numpy and the input matrix;
"base" is the RSS just before analyse() was called, so peak - base is what the analysis
itself added.  The header gives the load average and the BLAS library, kernel and threads
(numpy's OpenBLAS; OPENBLAS_NUM_THREADS sets them), and each row the 1-minute load average
when that case finished: on a busy machine the figures are noisy, so repeat (``--repeat N``
keeps the best time of N fresh processes, and the largest peak) and say what the load was.
With other processes holding the cores, two BLAS threads slow every matrix product (the
centroid makes thousands) several-fold: compare with OPENBLAS_NUM_THREADS=1.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

SIZES = [(40, 40), (60, 1_000), (80, 10_000), (80, 50_000)]
EXTRACTIONS = ["pca", "centroid"]
ROOT = Path(__file__).resolve().parents[1]


def _rss_mb() -> float:
    with open("/proc/self/statm") as handle:
        pages = int(handle.read().split()[1])
    return pages * resource.getpagesize() / 2**20


def _blas() -> str:
    """numpy's OpenBLAS as it runs here: the kernel it picked (OPENBLAS_CORETYPE can force an
    older one) and its thread count."""
    import ctypes

    import numpy as np  # noqa: F401  (loads the library)

    with open("/proc/self/maps") as handle:
        paths = {line.split()[-1] for line in handle if "openblas" in line}
    try:
        lib = ctypes.CDLL(paths.pop())
        lib.scipy_openblas_get_corename64_.restype = ctypes.c_char_p
        core = lib.scipy_openblas_get_corename64_().decode()
        threads = lib.scipy_openblas_get_num_threads64_()
    except (KeyError, OSError, AttributeError):  # no OpenBLAS, or another build of it
        return "BLAS kernel and threads unknown"
    return f"OpenBLAS kernel {core}, {threads} threads"


def one(n: int, p: int, extraction: str) -> dict[str, float]:
    import numpy as np

    sys.path.insert(0, str(ROOT))
    from qsort.analysis import analyse

    rng = np.random.default_rng(20240601)
    grid = np.sort(np.round(np.clip(rng.normal(0, 2.0, n), -5, 5)).astype(np.int64))
    views = rng.normal(size=(n, 4))
    latent = views[:, rng.integers(0, 4, p)] * rng.choice([-1, 1], p, p=[0.15, 0.85])
    latent += rng.normal(size=(n, p))
    data = grid[np.argsort(np.argsort(latent, axis=0, kind="stable"), axis=0)]
    statements = [f"s{i}" for i in range(n)]
    sorts = [f"q{i}" for i in range(p)]
    del views, latent
    base = _rss_mb()
    start = time.perf_counter()
    result = analyse(data, statements, sorts, factors=5, extraction=extraction)
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "seconds": seconds,
        "peak_rss_mb": peak,
        "base_rss_mb": base,
        "flagged": int(result.flags.any(axis=1).sum()),
    }


def main() -> None:
    if len(sys.argv) == 4 and sys.argv[1] == "--one":
        n, p = (int(v) for v in sys.argv[2].split("x"))
        print(json.dumps(one(n, p, sys.argv[3])))
        return
    args = sys.argv[1:]
    repeat = 1
    if "--repeat" in args:
        at = args.index("--repeat")
        repeat = int(args[at + 1])
        del args[at : at + 2]
    extractions = [a for a in args if a in EXTRACTIONS] or EXTRACTIONS
    sizes = [tuple(int(v) for v in a.split("x")) for a in args if a not in EXTRACTIONS] or SIZES
    print("qsort.analysis.analyse, 5 factors, varimax; time in-process, no file I/O")
    print(f"load average {' '.join(f'{v:.2f}' for v in os.getloadavg())} on {os.cpu_count()} CPUs; {_blas()}")
    print("memory: peak RSS of a fresh process (resource ru_maxrss); base = RSS before analyse")
    print(f"time: best of {repeat} run(s)")
    print(
        f"{'statements x sorts':>20} {'extraction':>10} {'time s':>9} {'peak RSS MB':>12} {'base MB':>8} "
        f"{'flagged':>8} {'load':>5}"
    )
    for n, p in sizes:
        for extraction in extractions:
            runs = [
                json.loads(
                    subprocess.run(
                        [sys.executable, __file__, "--one", f"{n}x{p}", extraction],
                        capture_output=True,
                        text=True,
                        check=True,
                    ).stdout
                )
                for _ in range(repeat)
            ]
            best = min(r["seconds"] for r in runs)
            peak = max(r["peak_rss_mb"] for r in runs)
            r = runs[0]
            print(
                f"{f'{n} x {p:,}':>20} {extraction:>10} {best:>9.3f} {peak:>12.0f} {r['base_rss_mb']:>8.0f} "
                f"{r['flagged']:>8} {os.getloadavg()[0]:>5.2f}",
                flush=True,
            )


if __name__ == "__main__":
    main()

"""R's qmethod beside our engine: where it is, and how a benchmark runs it.

Used by ``benchmarks/cli.py``, ``benchmarks/bootstrap.py`` and ``benchmarks/qmethod_check.py``.
R is ``Rscript`` on the PATH (Debian: ``apt-get install r-base-core r-cran-psych
r-cran-gparotation r-cran-jsonlite``).  qmethod is either

- an installed package that R finds (``R CMD INSTALL -l LIB DIR`` then ``R_LIBS=LIB``), or
- a source directory named by ``QMETHOD_R_SOURCE=DIR`` (its ``DESCRIPTION`` and ``R/*.R``):
  every R file is sourced into one attached environment at start-up, after psych and
  GPArotation are loaded.

qmethod's code is never part of this repository: keep the package or its source outside it.
When neither is there, ``find()`` says why and the benchmarks print only our side.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

# Loads qmethod (installed package or QMETHOD_R_SOURCE) and jsonlite, quietly.
PRELUDE = r"""
local({
  src <- Sys.getenv("QMETHOD_R_SOURCE")
  if (!nzchar(src)) {
    suppressMessages(library(qmethod))
  } else {
    suppressMessages({library(psych); library(GPArotation)})
    env <- attach(NULL, name = "qmethod-source")
    version <- read.dcf(file.path(src, "DESCRIPTION"), fields = "Version")[1, 1]
    assign("packageVersion", function(pkg, ...) {
      if (identical(pkg, "qmethod")) package_version(version) else utils::packageVersion(pkg, ...)
    }, envir = env)
    for (file in sort(list.files(file.path(src, "R"), pattern = "[.][Rr]$", full.names = TRUE))) {
      sys.source(file, envir = env)
    }
  }
})
suppressMessages(library(jsonlite))
read_sorts <- function(path) read.csv(path, row.names = 1, check.names = FALSE)  # a data frame, as qmethod expects
"""


@dataclass(frozen=True)
class QmethodR:
    rscript: str
    description: str  # e.g. "qmethod 1.5.6 (source /path), psych 2.2.9, R 4.2.2"

    def program(self, body: str, folder: Path, name: str) -> Path:
        """Write PRELUDE + body as an R script file in folder and return its path."""
        path = folder / f"{name}.R"
        path.write_text(PRELUDE + body)
        return path

    def run(self, body: str, folder: Path, name: str, *args: object) -> str:
        """Run an R program once; its standard output (stderr is shown on failure)."""
        program = self.program(body, folder, name)
        done = subprocess.run(
            [self.rscript, str(program), *map(str, args)], capture_output=True, text=True, check=False
        )
        if done.returncode != 0:
            raise RuntimeError(f"Rscript {name} failed:\n{done.stderr[-3000:]}")
        return done.stdout


def find() -> tuple[QmethodR | None, str]:
    """(R with qmethod, "") when both are here, else (None, the reason in words)."""
    rscript = shutil.which("Rscript")
    if rscript is None:
        return None, "Rscript is not installed here"
    probe = PRELUDE + (
        'cat(sprintf("qmethod %s%s, psych %s, R %s.%s", packageVersion("qmethod"),'
        ' if (nzchar(Sys.getenv("QMETHOD_R_SOURCE"))) paste0(" (source ", Sys.getenv("QMETHOD_R_SOURCE"), ")")'
        ' else "", packageVersion("psych"), R.version$major, R.version$minor))'
    )
    done = subprocess.run([rscript, "-e", probe], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        where = os.environ.get("QMETHOD_R_SOURCE") or "an installed package"
        lines = done.stderr.strip().splitlines()
        error = next((line for line in lines if line.startswith("Error")), lines[0] if lines else "no message")
        return None, f"Rscript is here but qmethod ({where}) or jsonlite did not load: {error}"
    return QmethodR(rscript, done.stdout.strip()), ""

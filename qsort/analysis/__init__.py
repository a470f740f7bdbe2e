"""The Q-method analysis engine: pure numpy/scipy, no Django.

``analyse(data, statement_ids, sort_ids, factors=K, ...)`` returns a frozen
``AnalysisResult``; ``result.to_json()`` is the object of shared/analysis-json.md.
See README.md in this folder for the conventions.
"""

from __future__ import annotations

from qsort.analysis.engine import analyse
from qsort.analysis.errors import AnalysisInputError
from qsort.analysis.io import SortsTable, read_sorts_csv, read_sorts_text
from qsort.analysis.result import AnalysisResult

__all__ = [
    "AnalysisInputError",
    "AnalysisResult",
    "SortsTable",
    "analyse",
    "read_sorts_csv",
    "read_sorts_text",
]

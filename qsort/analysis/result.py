"""The frozen analysis result and its JSON form (docs: shared/analysis-json.md)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from qsort.analysis import flagging
from qsort.analysis.flagging import CONFOUNDED, NONSIGNIFICANT
from qsort.analysis.scores import CODE_ORDER, RELIABILITY, Characteristics, Comparisons


def _num(x: float) -> float | None:
    return None if np.isnan(x) else float(x)


def _matrix(m: np.ndarray) -> list[Any]:
    """Nested lists of floats, None for NaN, any shape.  One ``tolist`` on the whole array: a
    million numbers in milliseconds rather than a Python call each, at full precision."""
    m = np.asarray(m, dtype=np.float64)
    missing = np.isnan(m)
    nested: list[Any] = np.where(missing, np.array(None), m).tolist() if missing.any() else m.tolist()
    return nested


def _int_matrix(m: np.ndarray) -> list[list[int | None]]:
    m = np.asarray(m, dtype=np.float64)
    missing = np.isnan(m)
    whole = np.where(missing, 0, m).astype(np.int64)
    nested: list[list[int | None]] = np.where(missing, np.array(None), whole).tolist()
    return nested


@dataclass(frozen=True)
class AnalysisResult:
    """Everything one analysis produced.  Arrays are read-only; factors are 0-based here and
    numbered 1..K in the JSON.  ``zscores`` / ``factor_arrays`` hold NaN for a factor with no
    defining sort (null in JSON)."""

    parameters: dict[str, Any]
    statement_ids: tuple[str, ...]
    sort_ids: tuple[str, ...]
    forced: bool
    qscores: np.ndarray
    correlations: np.ndarray | None
    eigenvalues: np.ndarray
    unrotated_loadings: np.ndarray
    loadings: np.ndarray
    flags: np.ndarray
    significant: np.ndarray  # sorts x K: |loading| > flag_threshold
    sort_status: tuple[str, ...]  # per sort: flagged, confounded or nonsignificant (flagging.sort_status)
    mirrored: np.ndarray  # per factor: defined mainly by negative loaders, its array mirrors them
    flag_threshold: float
    zscores: np.ndarray
    factor_arrays: np.ndarray
    characteristics: Characteristics
    comparisons: Comparisons
    warnings: tuple[str, ...] = field(default=())

    @property
    def confounded(self) -> tuple[str, ...]:
        return tuple(s for s, status in zip(self.sort_ids, self.sort_status, strict=True) if status == CONFOUNDED)

    @property
    def nonsignificant(self) -> tuple[str, ...]:
        return tuple(s for s, status in zip(self.sort_ids, self.sort_status, strict=True) if status == NONSIGNIFICANT)

    @property
    def n_factors(self) -> int:
        return int(self.loadings.shape[1])

    def distinguishing(self) -> dict[str, list[str]]:
        """Factor number (string) -> ids of the statements that distinguish it."""
        out: dict[str, list[str]] = {str(f + 1): [] for f in range(self.n_factors)}
        for s, factors in enumerate(self.comparisons.distinguishes):
            for f in factors:
                out[str(f + 1)].append(self.statement_ids[s])
        return out

    def to_json(self) -> dict[str, Any]:
        """The analysis-json.md object: plain Python values, nulls instead of NaN."""
        ch, cmp = self.characteristics, self.comparisons
        values, counts = np.unique(self.qscores, return_counts=True)
        differences = [
            {
                "statement": sid,
                "factors": [a + 1, b + 1],
                "difference": float(cmp.differences[s, c]),
                "significance": str(cmp.codes[s, c]),
            }
            for s, sid in enumerate(self.statement_ids)
            for c, (a, b) in enumerate(cmp.pairs)
        ]
        return {
            "parameters": dict(self.parameters),
            "statements": list(self.statement_ids),
            "sorts": list(self.sort_ids),
            "distribution": {
                "values": [int(v) for v in values],
                "counts": [int(c) for c in counts],
            },
            "correlations": None if self.correlations is None else _matrix(self.correlations),
            "eigenvalues": np.asarray(self.eigenvalues, dtype=np.float64).tolist(),
            "unrotated_ss_loadings": (self.unrotated_loadings**2).sum(0).tolist(),
            "unrotated_loadings": _matrix(self.unrotated_loadings),
            "loadings": _matrix(self.loadings),
            "flags": np.asarray(self.flags, dtype=bool).tolist(),
            "significant": np.asarray(self.significant, dtype=bool).tolist(),
            "sort_status": list(self.sort_status),
            "flag_threshold": float(self.flag_threshold),
            "zscores": _matrix(self.zscores),
            "factor_arrays": _int_matrix(self.factor_arrays),
            "factors": [
                {
                    "eigenvalue": float(ch.eigenvalues[f]),
                    "explained_variance": float(ch.explained[f]),
                    "defining_sorts": int(ch.defining[f]),
                    "average_reliability_coefficient": RELIABILITY,
                    "composite_reliability": float(ch.reliability[f]),
                    "se_factor_scores": _num(ch.se_scores[f]),
                    "mirrored": bool(self.mirrored[f]),
                }
                for f in range(self.n_factors)
            ],
            "factor_correlations": _matrix(ch.z_correlations),
            "se_differences": _matrix(ch.se_differences),
            "differences": differences,
            "statement_status": [
                {
                    "statement": sid,
                    "distinguishes": [f + 1 for f in cmp.distinguishes[s]],
                    "consensus": bool(cmp.consensus[s]),
                    "consensus_01": bool(cmp.consensus_01[s]),
                    "marks": [str(m) for m in cmp.marks[s]],
                }
                for s, sid in enumerate(self.statement_ids)
            ],
            "distinguishing": self.distinguishing(),
            "consensus": [sid for s, sid in enumerate(self.statement_ids) if cmp.consensus[s]],
            "consensus_01": [sid for s, sid in enumerate(self.statement_ids) if cmp.consensus_01[s]],
            "confounded": list(self.confounded),
            "nonsignificant": list(self.nonsignificant),
            "warnings": list(self.warnings),
        }


def add_judgements(stored: dict[str, Any]) -> dict[str, Any]:
    """A result JSON stored before the engine reported sort status, significance, mirrored
    factors, consensus at .01 and marks, completed by the same rules (for the data migration).

    Only for old results: a new result has these fields from ``analyse``.
    """
    loadings = np.array(stored["loadings"], dtype=np.float64).reshape(len(stored["sorts"]), -1)
    flags = np.array(stored["flags"], dtype=bool).reshape(loadings.shape)
    level = stored["parameters"].get("flag_level", flagging.DEFAULT_LEVEL)
    n_statements = len(stored["statements"])
    significant = flagging.significant(loadings, n_statements, level)
    has_scores = np.array([f["se_factor_scores"] is not None for f in stored["factors"]], dtype=bool)
    mirrored = flagging.mirrored(loadings, flags) & has_scores
    codes: dict[str, dict[int, list[str]]] = {}
    for difference in stored["differences"]:
        for factor in difference["factors"]:
            codes.setdefault(difference["statement"], {}).setdefault(factor, []).append(difference["significance"])
    consensus_01 = set(stored.get("consensus_01", []))
    out = dict(stored)
    out["flag_threshold"] = stored.get("flag_threshold") or flagging.threshold(n_statements, level)
    out["significant"] = significant.tolist()
    out["sort_status"] = flagging.sort_status(flags, significant).tolist()
    out["factors"] = [{**f, "mirrored": bool(m)} for f, m in zip(stored["factors"], mirrored, strict=True)]
    out["statement_status"] = [
        {
            **status,
            "consensus_01": status["statement"] in consensus_01,
            "marks": [
                min(codes.get(status["statement"], {}).get(f, [""]), key=CODE_ORDER.index)
                for f in range(1, len(stored["factors"]) + 1)
            ],
        }
        for status in stored["statement_status"]
    ]
    return out

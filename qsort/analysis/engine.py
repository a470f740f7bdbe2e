"""``analyse``: the whole Q-method pipeline from a grid-value matrix to an AnalysisResult."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np

from qsort.analysis import correlation as corr
from qsort.analysis import distribution as dist
from qsort.analysis import extraction as extract
from qsort.analysis import flagging, scores
from qsort.analysis import rotation as rotate
from qsort.analysis.errors import AnalysisInputError
from qsort.analysis.result import AnalysisResult

Progress = Callable[[str, int], None]

#: Above this many sorts the correlation matrix is left out unless asked for.
CORRELATIONS_LIMIT = 1000

#: The extractions and rotations the engine knows, its default first (the runs' model offers
#: the same values with labels; a test holds them equal).
EXTRACTIONS: tuple[str, ...] = ("pca", "centroid")
ROTATIONS: tuple[str, ...] = ("varimax", "none")


def _ids(ids: Iterable[object], what: str, expected: int) -> tuple[str, ...]:
    out = tuple(str(i) for i in ids)
    if len(out) != expected:
        raise AnalysisInputError(f"{len(out)} {what} ids for {expected} {what}s in the data")
    seen: set[str] = set()
    for i in out:
        if not i.strip():
            raise AnalysisInputError(f"a {what} id is empty")
        if i in seen:
            raise AnalysisInputError(f"{what} id {i!r} appears more than once")
        seen.add(i)
    return out


def _values(data: object, statements: Sequence[str], sorts: Sequence[str]) -> np.ndarray:
    """The data as int64, or an error naming the first missing / non-integer value."""
    try:
        x = np.asarray(data, dtype=np.float64)
        if np.isfinite(x).all() and (x == np.round(x)).all():
            return x.astype(np.int64)
    except (TypeError, ValueError):
        pass
    for (s, q), v in np.ndenumerate(np.asarray(data, dtype=object)):
        where = f"sort {sorts[q]!r}, statement {statements[s]!r}"
        if v is None or (isinstance(v, str) and not v.strip()):
            raise AnalysisInputError(f"{where}: the value is missing")
        try:
            number = float(v)
        except (TypeError, ValueError):
            raise AnalysisInputError(f"{where}: the value {v!r} is not an integer") from None
        if np.isnan(number):
            raise AnalysisInputError(f"{where}: the value is missing")
        if not np.isfinite(number) or number != round(number):
            raise AnalysisInputError(f"{where}: the value {v!r} is not an integer")
    raise AnalysisInputError("the data holds values that are not integers")  # unreachable


def _factor_number(value: object, k: int, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not 1 <= value <= k:
        raise AnalysisInputError(f"{what}: factor {value!r} is not between 1 and {k}")
    return int(value) - 1


def analyse(
    data: np.ndarray,
    statement_ids: Sequence[object],
    sort_ids: Sequence[object],
    *,
    factors: int,
    extraction: str = "pca",
    rotation: str = "varimax",
    correlation: str = "pearson",
    distribution: Sequence[int] | np.ndarray | None = None,
    flag_overrides: Iterable[tuple[str, int, bool]] = (),
    flag_level: float = flagging.DEFAULT_LEVEL,
    pair_rotations: Iterable[tuple[int, int, float]] = (),
    reflections: Iterable[int] = (),
    split_bipolar: int | None = None,
    include_correlations: bool | None = None,
    varimax_full: bool = False,
    progress: Progress | None = None,
) -> AnalysisResult:
    """Run a Q-method analysis the way qmethod 1.8.4 does, plus the engine's options.

    data: statements x sorts grid values (integers).  Factors are numbered from 1 in every
    argument.  Order of operations: correlate -> extract (PCA: decreasing eigenvalue, column
    sums >= 0; centroid: qmethod's order and signs) -> rotate (varimax as R's stats::varimax,
    or to full convergence with ``varimax_full``; PCA factors are then re-ordered by
    decreasing sum of squares and re-signed to positive sums, centroid factors are left as
    they come, as in qmethod) -> ``pair_rotations`` (factor i, factor j, degrees), in order ->
    ``reflections`` (factor numbers multiplied by -1) -> automatic flags at ``flag_level``
    (.05 as qmethod, or .01) -> ``flag_overrides`` (sort id, factor, flagged) -> optional
    ``split_bipolar`` -> z-scores, arrays, characteristics, comparisons.

    split_bipolar=f: the sorts flagged on factor f with a *negative* loading leave f and
    define an extra factor K+1 whose loadings are f's loadings reflected (x -1), so its
    z-scores and array are the negative pole's own viewpoint; f keeps its positive pole.

    Raises AnalysisInputError (a ValueError) for anything the data or options do not allow.
    """
    report = progress or (lambda stage, percent: None)
    report("correlating", 0)
    raw = np.asarray(data, dtype=object)
    if raw.ndim != 2 or raw.size == 0:
        raise AnalysisInputError("the data must be a non-empty statements x sorts table")
    n, p = raw.shape
    statements = _ids(statement_ids, "statement", n)
    sorts = _ids(sort_ids, "sort", p)
    if p < 2:
        raise AnalysisInputError(f"at least 2 sorts are needed, the data has {p}")
    if n < 3:
        raise AnalysisInputError(f"at least 3 statements are needed, the data has {n}")
    x = _values(data, statements, sorts)
    for name, value, allowed in (
        ("extraction", extraction, EXTRACTIONS),
        ("rotation", rotation, ROTATIONS),
        ("correlation", correlation, corr.METHODS),
    ):
        if value not in allowed:
            raise AnalysisInputError(f"{name} {value!r} is not one of {', '.join(allowed)}")
    if flag_level not in flagging.LEVELS:
        raise AnalysisInputError(f"flag_level {flag_level!r} is not one of {', '.join(map(str, flagging.LEVELS))}")
    limit = min(p, n - 1)
    if isinstance(factors, bool) or not isinstance(factors, (int, np.integer)) or factors < 1:
        raise AnalysisInputError(f"factors must be a positive integer, not {factors!r}")
    if factors > limit:
        raise AnalysisInputError(f"{factors} factors asked for, but {n} statements and {p} sorts allow at most {limit}")
    k = int(factors)

    qscores, differing = dist.shared_grid(x)
    forced = differing is None
    if differing is not None:
        if distribution is None:
            raise AnalysisInputError(
                f"the sorts do not share one distribution (sort {sorts[differing]!r} differs "
                f"from sort {sorts[0]!r}): give the distribution for the factor arrays"
            )
        qscores = dist.parse(distribution)
        if qscores.size != n:
            raise AnalysisInputError(f"the distribution has {qscores.size} values for {n} statements")
        low, high = int(qscores[0]), int(qscores[-1])
        outside = np.argwhere((x < low) | (x > high))
        if outside.size:
            s, q = outside[0]
            raise AnalysisInputError(
                f"sort {sorts[q]!r}, statement {statements[s]!r}: the value {int(x[s, q])} is "
                f"outside the grid {low}..{high}"
            )
    assert qscores is not None

    overrides = []
    for item in flag_overrides:
        sort_id, factor, flagged = item
        if str(sort_id) not in sorts:
            raise AnalysisInputError(f"flag override: there is no sort {sort_id!r}")
        overrides.append((str(sort_id), _factor_number(factor, k, "flag override"), bool(flagged)))
    pairs = []
    for first, second, degrees in pair_rotations:
        i = _factor_number(first, k, "pair rotation")
        j = _factor_number(second, k, "pair rotation")
        if i == j or not np.isfinite(float(degrees)):
            raise AnalysisInputError(
                f"pair rotation ({first}, {second}, {degrees}) needs two different factors and a finite angle"
            )
        pairs.append((i, j, float(degrees)))
    reflected = [_factor_number(f, k, "reflection") for f in reflections]
    split = None if split_bipolar is None else _factor_number(split_bipolar, k, "split_bipolar")

    z = corr.factor(x, list(sorts), correlation)
    want_cor = p <= CORRELATIONS_LIMIT if include_correlations is None else include_correlations
    correlations = corr.matrix(z) if want_cor else None

    report("extracting", 15)
    eigenvalues, vectors = extract.eigen(z, k if extraction == "pca" else 0)
    if eigenvalues.size < k or eigenvalues[k - 1] <= 1e-10 * max(eigenvalues[0], 1.0):
        rank = int((eigenvalues > 1e-10 * max(eigenvalues[0], 1.0)).sum())
        raise AnalysisInputError(f"{k} factors asked for, but the sorts' correlations only support {rank}")
    unrotated = extract.pca_loadings(eigenvalues, vectors) if extraction == "pca" else extract.centroid(z, k)

    report("rotating", 50)
    loadings = unrotated
    if rotation == "varimax":
        loadings, _ = rotate.varimax(unrotated, full=varimax_full)
        if extraction == "pca":
            loadings = rotate.order_and_sign(loadings)
    for i, j, degrees in pairs:
        loadings = rotate.rotate_pair(loadings, i, j, degrees)
    for f in reflected:
        loadings = rotate.reflect(loadings, f)

    report("flagging", 60)
    flags = flagging.automatic(loadings, n, flag_level)
    index = {s: q for q, s in enumerate(sorts)}
    for sort_id, f, flagged in overrides:
        flags[index[sort_id], f] = flagged
    warnings: list[str] = []
    negative = [f"{sorts[q]} on factor {f + 1}" for q, f in np.argwhere(flags & (loadings < 0))]
    if negative:
        warnings.append(
            "Sorts flagged with a negative loading count inverted in the factor scores: "
            + ", ".join(negative)
            + ". Check these flags, or split the bipolar factor."
        )
    multi = [sorts[q] for q in np.flatnonzero(flags.sum(axis=1) > 1)]
    if multi:
        warnings.append("Sorts flagged on more than one factor: " + ", ".join(multi) + ".")
    if split is not None:
        pole = flags[:, split] & (loadings[:, split] < 0)
        if pole.any():
            loadings = np.column_stack([loadings, -loadings[:, split]])
            flags[pole, split] = False
            flags = np.column_stack([flags, pole])
            warnings.append(
                f"Factor {split + 1} is split: its negative pole "
                f"({', '.join(sorts[q] for q in np.flatnonzero(pole))}) is factor "
                f"{loadings.shape[1]}, with factor {split + 1}'s loadings reflected."
            )
        else:
            warnings.append(f"Factor {split + 1} has no negatively flagged sort: not split.")
    significant = flagging.significant(loadings, n, flag_level)
    status = flagging.sort_status(flags, significant)

    report("scoring", 70)
    w = scores.weights(loadings, flags)
    zsc = scores.zscores(x.astype(np.float64), w)
    arrays = scores.factor_arrays(zsc, qscores)
    ch = scores.characteristics(loadings, flags, zsc)
    mirrored = flagging.mirrored(loadings, flags) & ~np.isnan(zsc[0])
    for f in range(loadings.shape[1]):
        if np.isnan(zsc[0, f]):
            warnings.append(
                f"Factor {f + 1} has no defining sort: it has no z-scores or factor array "
                "and is left out of the comparisons."
            )
        elif mirrored[f]:
            warnings.append(
                f"Factor {f + 1} is defined mainly by negative loadings: its array is the "
                "mirror image of their viewpoint; reflect the factor to read it directly."
            )

    report("distinguishing", 90)
    comparisons = scores.compare(zsc, ch.se_differences)
    if len({f for pair in comparisons.pairs for f in pair}) < 2:
        warnings.append("Fewer than two factors have defining sorts: no statement is distinguishing or consensus.")
    parameters: dict[str, Any] = {
        "factors": k,
        "extraction": extraction,
        "rotation": rotation,
        "correlation": correlation,
        "forced": forced,
        "flag_overrides": [[s, f + 1, v] for s, f, v in overrides],
        "flag_level": flag_level,
        "varimax_full": bool(varimax_full),
        "pair_rotations": [[i + 1, j + 1, d] for i, j, d in pairs],
        "reflections": [f + 1 for f in reflected],
        "split_bipolar": None if split is None else split + 1,
    }
    result = AnalysisResult(
        parameters=parameters,
        statement_ids=statements,
        sort_ids=sorts,
        forced=forced,
        qscores=np.sort(qscores),
        correlations=correlations,
        eigenvalues=eigenvalues,
        unrotated_loadings=unrotated,
        loadings=loadings,
        flags=flags,
        significant=significant,
        sort_status=tuple(status),
        mirrored=mirrored,
        flag_threshold=flagging.threshold(n, flag_level),
        zscores=zsc,
        factor_arrays=arrays,
        characteristics=ch,
        comparisons=comparisons,
        warnings=tuple(warnings),
    )
    report("distinguishing", 100)
    return result

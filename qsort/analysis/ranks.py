"""Average ranks in numpy: the one tie rule (R's ``rank``, scipy's ``rankdata(method="average")``).

Written here rather than imported from ``scipy.stats`` because that package takes about a
second to import, which every command line and web process would pay for one small function.
"""

from __future__ import annotations

import numpy as np


def average_ranks(values: np.ndarray) -> np.ndarray:
    """1-based ranks down each column (or of a vector); tied values share their mean rank."""
    x = np.asarray(values, dtype=np.float64)
    column = x.reshape(x.shape[0], -1)
    n = column.shape[0]
    order = np.argsort(column, axis=0, kind="stable")
    ordered = np.take_along_axis(column, order, axis=0)
    position = np.broadcast_to(np.arange(n)[:, None], ordered.shape)
    new = np.ones(ordered.shape, dtype=bool)
    new[1:] = ordered[1:] != ordered[:-1]
    last = np.ones(ordered.shape, dtype=bool)
    last[:-1] = new[1:]
    first_of_run = np.maximum.accumulate(np.where(new, position, 0), axis=0)
    last_of_run = np.minimum.accumulate(np.where(last, position, n - 1)[::-1], axis=0)[::-1]
    ranks = np.empty(ordered.shape)
    np.put_along_axis(ranks, order, (first_of_run + last_of_run) / 2 + 1, axis=0)
    return ranks.reshape(x.shape)

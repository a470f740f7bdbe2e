"""Shared helpers for the analysis tests (no Django, no database)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

# The shared/ folder lies beside the checkout (CI lays a copy out the same way).
SHARED = Path(__file__).resolve().parents[2] / ".." / "shared"
REFERENCE = SHARED / "reference"


def reference_files() -> list[Path]:
    return sorted(REFERENCE.rglob("qmethod_*.json"))


def synthetic_sorts(n: int, p: int, *, views: int = 3, noise: float = 1.0, seed: int = 0) -> np.ndarray:
    """Forced-grid sorts from a few viewpoints plus noise (some sorts reversed)."""
    rng = np.random.default_rng(seed)
    grid = np.sort(np.round(np.clip(rng.normal(0, max(1.0, n / 16), n), -6, 6)).astype(int))
    viewpoints = rng.normal(size=(n, views))
    which = rng.integers(0, views, p)
    sign = rng.choice([-1, 1], p, p=[0.15, 0.85])
    latent = viewpoints[:, which] * sign + noise * rng.normal(size=(n, p))
    ranks = np.argsort(np.argsort(latent, axis=0, kind="stable"), axis=0)
    return grid[ranks]

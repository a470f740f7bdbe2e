"""Server-rendered SVG charts: a scree plot and a loadings plot. Plain strings, no JS library.

Every label passes through `escape`, so a participant code or a title with markup is drawn
as text. The SVGs scale with their container (viewBox, no fixed width).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

WIDTH, HEIGHT = 640, 360
PAD_LEFT, PAD_RIGHT, PAD_TOP, PAD_BOTTOM = 64, 16, 16, 62


def _svg(width: int, height: int, title: str, body: list[str]) -> SafeString:
    return mark_safe(  # noqa: S308 - every user-supplied string in body went through escape()
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}" '
        f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>{"".join(body)}</svg>'
    )


def _nice_step(span: float, ticks: int = 5) -> float:
    raw = span / ticks
    magnitude = 10 ** math.floor(math.log10(raw)) if raw > 0 else 1
    for multiple in (1, 2, 2.5, 5, 10):
        if raw <= multiple * magnitude:
            return multiple * magnitude
    return 10 * magnitude


def scree(eigenvalues: Sequence[float], *, chosen: int | None = None, limit: int = 12) -> SafeString:
    """Eigenvalues against factor number, with the eigenvalue-1 line (Kaiser-Guttman) dashed."""
    values = list(eigenvalues)[:limit]
    if not values:
        return SafeString("")
    top = max(max(values), 1.0)
    step = _nice_step(top)
    top = math.ceil(top / step) * step
    inner_w, inner_h = WIDTH - PAD_LEFT - PAD_RIGHT, HEIGHT - PAD_TOP - PAD_BOTTOM

    def x(i: int) -> float:
        return PAD_LEFT + (inner_w * i / (len(values) - 1) if len(values) > 1 else inner_w / 2)

    def y(v: float) -> float:
        return PAD_TOP + inner_h * (1 - v / top)

    body = [f'<rect x="{PAD_LEFT}" y="{PAD_TOP}" width="{inner_w}" height="{inner_h}" class="plot-area"/>']
    tick = 0.0
    while tick <= top + 1e-9:
        body.append(
            f'<line x1="{PAD_LEFT}" x2="{WIDTH - PAD_RIGHT}" y1="{y(tick):.1f}" y2="{y(tick):.1f}" class="grid"/>'
            f'<text x="{PAD_LEFT - 6}" y="{y(tick) + 4:.1f}" class="tick" text-anchor="end">{tick:g}</text>'
        )
        tick += step
    body.append(f'<line x1="{PAD_LEFT}" x2="{WIDTH - PAD_RIGHT}" y1="{y(1):.1f}" y2="{y(1):.1f}" class="kaiser"/>')
    points = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in enumerate(values))
    body.append(f'<polyline points="{points}" class="line"/>')
    for i, value in enumerate(values):
        selected = chosen is not None and i < chosen
        body.append(
            f'<circle cx="{x(i):.1f}" cy="{y(value):.1f}" r="5" class="point{" chosen" if selected else ""}">'
            f"<title>{escape(_('Factor %(n)d: eigenvalue %(v).2f') % {'n': i + 1, 'v': value})}</title></circle>"
            f'<text x="{x(i):.1f}" y="{HEIGHT - PAD_BOTTOM + 24}" class="tick" text-anchor="middle">{i + 1}</text>'
        )
    body.append(
        f'<text x="{PAD_LEFT + inner_w / 2:.1f}" y="{HEIGHT - 8}" class="axis-label" text-anchor="middle">'
        f"{escape(_('Factor'))}</text>"
        f'<text x="20" y="{PAD_TOP + inner_h / 2:.1f}" class="axis-label" text-anchor="middle" '
        f'transform="rotate(-90 20 {PAD_TOP + inner_h / 2:.1f})">{escape(_("Eigenvalue"))}</text>'
    )
    return _svg(WIDTH, HEIGHT, _("Scree plot of the eigenvalues"), body)


#: Up to this many sorts the loadings plot draws a point per sort (labels where they fit);
#: above, it draws a grid of bins shaded by how many sorts fall in each.
LABELLED_POINTS = 300
POINTS_LIMIT = 2000
BINS = 40
#: Point labels are 10 SVG units high on a wide screen; on a phone the plot is drawn at half
#: size, so runs.css draws them 17 high: labels are placed for each size, CSS shows one set.
LABEL_SIZES = {"wide": 10, "narrow": 17}


def _place_labels(
    points: list[tuple[float, float, str]], bounds: tuple[float, float, float, float], font: float
) -> list[str]:
    """Labels for the points whose label fits beside them without touching another label or
    point; the rest stay unlabelled (their label shows on hover or focus). Points far from the
    centre (the clearest loaders) are labelled first."""
    left, top, right, bottom = bounds
    xy = np.array([(x, y) for x, y, _ in points], dtype=float).reshape(-1, 2)
    dots = np.column_stack([xy - 4.5, xy + 4.5])  # x0, y0, x1, y1 of every point
    boxes = np.empty((0, 4))
    centre = np.array([(left + right) / 2, (top + bottom) / 2])
    out = []
    for i in np.argsort(-((xy - centre) ** 2).sum(axis=1), kind="stable"):
        x, y, label = points[i]
        width, height = 0.62 * font * len(label), 1.1 * font
        low = y + height + 2
        for bx, by, anchor in (
            (x + 6, y - 5, "start"),
            (x - 6, y - 5, "end"),
            (x + 6, low, "start"),
            (x - 6, low, "end"),
        ):
            x0 = bx if anchor == "start" else bx - width
            box = np.array([x0, by - height + 2, x0 + width, by + 2])
            if box[0] < left or box[2] > right or box[1] < top or box[3] > bottom:
                continue
            hits = _overlaps(box, dots)
            hits[i] = False
            if not hits.any() and not _overlaps(box, boxes).any():
                boxes = np.vstack([boxes, box])
                out.append(
                    f'<text x="{bx:.1f}" y="{by:.1f}" class="point-label" text-anchor="{anchor}">{escape(label)}</text>'
                )
                break
    return out


def _overlaps(box: np.ndarray, others: np.ndarray) -> np.ndarray:
    return (others[:, 0] < box[2]) & (box[0] < others[:, 2]) & (others[:, 1] < box[3]) & (box[1] < others[:, 3])


def loadings(
    labels: Sequence[str] | None,
    xs: Sequence[float],
    ys: Sequence[float],
    *,
    x_factor: int,
    y_factor: int,
    flagged_x: Sequence[bool],
    flagged_y: Sequence[bool],
    threshold: float,
) -> SafeString:
    """Each sort as a point at its loadings on two factors; the significance band is shaded.

    Sorts flagged on the horizontal factor are filled one colour, on the vertical another.
    With `labels` (up to LABELLED_POINTS sorts) each point can be focused and names its sort
    on hover and focus, and labels are drawn where they fit; above POINTS_LIMIT sorts the plot
    is a grid of bins (a point per sort would be megabytes of ink).
    """
    size = 520
    pad = 56
    inner = size - 2 * pad

    def px(v: float) -> float:
        return pad + inner * (v + 1) / 2

    def py(v: float) -> float:
        return pad + inner * (1 - (v + 1) / 2)

    body = [f'<rect x="{pad}" y="{pad}" width="{inner}" height="{inner}" class="plot-area"/>']
    body.append(
        f'<rect x="{px(-threshold):.1f}" y="{py(threshold):.1f}" width="{px(threshold) - px(-threshold):.1f}" '
        f'height="{py(-threshold) - py(threshold):.1f}" class="band"/>'
    )
    for tick in (-1, -0.5, 0, 0.5, 1):
        line = "grid axis" if tick == 0 else "grid"
        body.append(
            f'<line x1="{px(tick):.1f}" x2="{px(tick):.1f}" y1="{pad}" y2="{size - pad}" class="{line}"/>'
            f'<line x1="{pad}" x2="{size - pad}" y1="{py(tick):.1f}" y2="{py(tick):.1f}" class="{line}"/>'
            f'<text x="{px(tick):.1f}" y="{size - pad + 22}" class="tick" text-anchor="middle">{tick:g}</text>'
            f'<text x="{pad - 6}" y="{py(tick) + 4:.1f}" class="tick" text-anchor="end">{tick:g}</text>'
        )
    if len(xs) > POINTS_LIMIT:
        body.extend(_bins(xs, ys, flagged_x, flagged_y, px, py, inner))
    else:
        kinds = [
            "flag-x" if fx else "flag-y" if fy else "unflagged" for fx, fy in zip(flagged_x, flagged_y, strict=True)
        ]
        for i, (lx, ly, kind) in enumerate(zip(xs, ys, kinds, strict=True)):
            if labels is None:
                body.append(f'<circle cx="{px(lx):.1f}" cy="{py(ly):.1f}" r="4.5" class="{kind}"/>')
                continue
            name = escape(f"{labels[i]}: {lx:.2f}, {ly:.2f}")
            body.append(
                f'<g class="point" tabindex="0" role="img" aria-label="{name}">'
                f'<circle cx="{px(lx):.1f}" cy="{py(ly):.1f}" r="4.5" class="{kind}"/>'
                f'<text x="{px(lx):.1f}" y="{py(ly) - 9:.1f}" class="hover-label" text-anchor="middle">'
                f"{name}</text></g>"
            )
        if labels is not None:
            points = [(px(lx), py(ly), str(label)) for label, lx, ly in zip(labels, xs, ys, strict=True)]
            for size_name, font in LABEL_SIZES.items():
                body.append(f'<g class="point-labels {size_name}" aria-hidden="true">')
                body.extend(_place_labels(points, (pad, pad, size - pad, size - pad), font))
                body.append("</g>")
    x_name = _("Factor %(n)d") % {"n": x_factor}
    y_name = _("Factor %(n)d") % {"n": y_factor}
    body.append(
        f'<text x="{size / 2}" y="{size - 8}" class="axis-label" text-anchor="middle">{escape(x_name)}</text>'
        f'<text x="20" y="{size / 2}" class="axis-label" text-anchor="middle" '
        f'transform="rotate(-90 20 {size / 2})">{escape(y_name)}</text>'
    )
    title = _("Loadings of each sort on factor %(x)d (across) and factor %(y)d (up)") % {"x": x_factor, "y": y_factor}
    return _svg(size, size, title, body)


def _bins(xs, ys, flagged_x, flagged_y, px, py, inner: float) -> list[str]:
    """A BINS x BINS grid over -1..1: each bin's shade grows with its count (log scale), its
    colour is that of the kind of sort most common in it."""
    x = np.clip(((np.asarray(xs) + 1) / 2 * BINS).astype(int), 0, BINS - 1)
    y = np.clip(((np.asarray(ys) + 1) / 2 * BINS).astype(int), 0, BINS - 1)
    kind = np.where(np.asarray(flagged_x, bool), 0, np.where(np.asarray(flagged_y, bool), 1, 2))
    counts = np.zeros((3, BINS, BINS), dtype=int)
    np.add.at(counts, (kind, x, y), 1)
    total = counts.sum(axis=0)
    most = np.log1p(total.max())
    side = inner / BINS
    out = []
    for bx, by in zip(*np.nonzero(total), strict=True):
        n = int(total[bx, by])
        shade = 1 + int(4 * np.log1p(n) / most) if most else 1
        cls = ("flag-x", "flag-y", "unflagged")[int(counts[:, bx, by].argmax())]
        lx, ly = -1 + 2 * bx / BINS, -1 + 2 * (by + 1) / BINS
        tip = escape(_("%(n)d sorts near %(x).2f, %(y).2f") % {"n": n, "x": lx + 1 / BINS, "y": ly - 1 / BINS})
        out.append(
            f'<rect x="{px(lx):.1f}" y="{py(ly):.1f}" width="{side:.1f}" height="{side:.1f}" '
            f'class="bin {cls} shade-{min(shade, 5)}"><title>{tip}</title></rect>'
        )
    return out


def forest(
    labels: Sequence[str],
    means: Sequence[float | None],
    lows: Sequence[float | None],
    highs: Sequence[float | None],
    originals: Sequence[float | None],
    unstable: Sequence[bool],
    *,
    title: str,
) -> SafeString:
    """A dot per statement at its bootstrapped mean z-score, a line for its 95 % interval and a
    tick at the run's own z-score; statements whose array position is unstable in red, marked
    "≠" at the right. Rows in the order given (the caller sorts them)."""
    row, top, bottom, left, right = 16, 28, 40, 52, 40
    width = 640
    height = top + bottom + row * len(labels)
    values = [v for v in (*lows, *highs, *originals) if v is not None]
    span = max(3.0, math.ceil(max((abs(v) for v in values), default=3.0)))
    inner = width - left - right

    def px(v: float) -> float:
        return left + inner * (v + span) / (2 * span)

    body = [f'<rect x="{left}" y="{top}" width="{inner}" height="{row * len(labels)}" class="plot-area"/>']
    for tick in range(-int(span), int(span) + 1):
        body.append(
            f'<line x1="{px(tick):.1f}" x2="{px(tick):.1f}" y1="{top}" y2="{height - bottom}" '
            f'class="{"grid axis" if tick == 0 else "grid"}"/>'
            f'<text x="{px(tick):.1f}" y="{height - bottom + 16}" class="tick" text-anchor="middle">{tick:+d}</text>'
        )
    for i, (label, mean, low, high, own, odd) in enumerate(
        zip(labels, means, lows, highs, originals, unstable, strict=True)
    ):
        y = top + row * i + row / 2
        kind = "unstable" if odd else "stable"
        tip = _("Statement %(s)s: bootstrapped z %(m)s (95 %% interval %(a)s to %(b)s), this run %(z)s") % {
            "s": label,
            "m": "—" if mean is None else f"{mean:.2f}",
            "a": "—" if low is None else f"{low:.2f}",
            "b": "—" if high is None else f"{high:.2f}",
            "z": "—" if own is None else f"{own:.2f}",
        }
        parts = [f"<title>{escape(tip)}</title>"]
        parts.append(f'<text x="{left - 6}" y="{y + 4:.1f}" class="tick" text-anchor="end">{escape(label)}</text>')
        if low is not None and high is not None:
            parts.append(f'<line x1="{px(low):.1f}" x2="{px(high):.1f}" y1="{y:.1f}" y2="{y:.1f}" class="interval"/>')
        if own is not None:
            parts.append(f'<line x1="{px(own):.1f}" x2="{px(own):.1f}" y1="{y - 5:.1f}" y2="{y + 5:.1f}" class="own"/>')
        if mean is not None:
            parts.append(f'<circle cx="{px(mean):.1f}" cy="{y:.1f}" r="3.5" class="mean"/>')
        if odd:
            parts.append(f'<text x="{width - right + 8}" y="{y + 4:.1f}" class="unstable-mark">≠</text>')
        body.append(f'<g class="forest-row {kind}">{"".join(parts)}</g>')
    body.append(
        f'<text x="{left + inner / 2:.1f}" y="{height - 6}" class="axis-label" text-anchor="middle">'
        f"{escape(_('Bootstrapped z-score'))}</text>"
        f'<text x="{left + inner / 2:.1f}" y="{top - 10}" class="tick" text-anchor="middle">'
        f"{escape(_('dot: mean of the resamples · line: 95 % interval · tick: this run'))}</text>"
    )
    return _svg(width, height, title, body)

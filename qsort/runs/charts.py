"""Server-rendered SVG charts: a scree plot and a loadings plot. Plain strings, no JS library.

Every label passes through `escape`, so a participant code or a title with markup is drawn
as text. The SVGs scale with their container (viewBox, no fixed width).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

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


def loadings(
    labels: Sequence[str],
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

    Sorts flagged on the horizontal factor are filled one colour, on the vertical another;
    labels are drawn for up to 120 sorts (beyond that they would only be ink).
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
    show_labels = len(labels) <= 120
    for label, lx, ly, fx, fy in zip(labels, xs, ys, flagged_x, flagged_y, strict=True):
        kind = "flag-x" if fx else "flag-y" if fy else "unflagged"
        title = escape(f"{label}: {lx:.2f}, {ly:.2f}")
        body.append(
            f'<circle cx="{px(lx):.1f}" cy="{py(ly):.1f}" r="4.5" class="{kind}"><title>{title}</title></circle>'
        )
        if show_labels:
            body.append(f'<text x="{px(lx) + 6:.1f}" y="{py(ly) - 5:.1f}" class="point-label">{escape(label)}</text>')
    x_name = _("Factor %(n)d") % {"n": x_factor}
    y_name = _("Factor %(n)d") % {"n": y_factor}
    body.append(
        f'<text x="{size / 2}" y="{size - 8}" class="axis-label" text-anchor="middle">{escape(x_name)}</text>'
        f'<text x="20" y="{size / 2}" class="axis-label" text-anchor="middle" '
        f'transform="rotate(-90 20 {size / 2})">{escape(y_name)}</text>'
    )
    title = _("Loadings of each sort on factor %(x)d (across) and factor %(y)d (up)") % {"x": x_factor, "y": y_factor}
    return _svg(size, size, title, body)

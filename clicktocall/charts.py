"""Charts drawn as SVG on the server: no JavaScript, no CDN, readable by screen readers.

Each chart is an ``<svg role="img">`` labelled by its ``<title>`` and ``<desc>``; every bar
carries its own ``<title>`` (shown as a tooltip). The pages that show a chart also show
the same numbers in a table, the fallback for anyone who cannot see the picture.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe

FONT = "font-family:system-ui,sans-serif;font-size:12px"
COLORS = ("#1b6fb5", "#c2410c", "#6b7280")


@dataclass(frozen=True)
class Bar:
    """One bar: a label, its stacked values (one per series) and a tooltip."""

    label: str
    values: tuple[int, ...]
    tooltip: str = ""


def nice_max(value: float) -> int:
    """The smallest 1, 2 or 5 × 10ⁿ at or above ``value`` (at least 1)."""
    if value <= 1:
        return 1
    exponent = math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        candidate = step * 10**exponent
        if candidate >= value:
            return int(candidate)
    return int(10 ** (exponent + 1))  # pragma: no cover - the loop always returns


def _ticks(top: int, count: int = 4) -> list[int]:
    step = max(1, top // count)
    return list(range(0, top + 1, step))


def _svg_open(chart_id: str, width: int, height: int, title: str, desc: str) -> str:
    return format_html(
        '<svg xmlns="http://www.w3.org/2000/svg" class="ctc-chart" id="{id}" role="img" viewBox="0 0 {w} {h}" '
        'width="100%" preserveAspectRatio="xMinYMin meet" style="max-width:{w}px" '
        'aria-labelledby="{id}-title {id}-desc">'
        '<title id="{id}-title">{title}</title><desc id="{id}-desc">{desc}</desc>',
        id=chart_id,
        w=width,
        h=height,
        title=title,
        desc=desc,
    )


def column_chart(
    chart_id: str,
    bars: Sequence[Bar],
    *,
    title: str,
    desc: str,
    series: Sequence[str],
    width: int = 760,
    height: int = 260,
) -> SafeString:
    """Vertical stacked columns, one per bar (e.g. one per day), with a y axis and a legend."""
    left, right, top, bottom = 44, 8, 28, 36
    plot_w, plot_h = width - left - right, height - top - bottom
    peak = max((sum(bar.values) for bar in bars), default=0)
    ymax = nice_max(peak)
    parts = [_svg_open(chart_id, width, height, title, desc), f'<g style="{FONT}" fill="#374151">']
    for tick in _ticks(ymax):
        y = top + plot_h - plot_h * tick / ymax
        parts.append(
            f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e5e7eb"/>'
            f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" aria-hidden="true">{tick}</text>'
        )
    x = left
    for i, name in enumerate(series):
        parts.append(
            f'<rect x="{x}" y="6" width="12" height="12" fill="{COLORS[i % len(COLORS)]}"/>'
            f'<text x="{x + 16}" y="16">{escape(name)}</text>'
        )
        x += 24 + 7 * len(name)
    slot = plot_w / max(len(bars), 1)
    bar_w = max(1.0, slot * 0.8)
    label_every = max(1, math.ceil(len(bars) / 10))
    for index, bar in enumerate(bars):
        bx = left + index * slot + (slot - bar_w) / 2
        base = top + plot_h
        parts.append(f'<g class="ctc-bar" data-label="{escape(bar.label)}" data-total="{sum(bar.values)}">')
        parts.append(f"<title>{escape(bar.tooltip or bar.label)}</title>")
        for series_index, value in enumerate(bar.values):
            if value <= 0:
                continue
            h = plot_h * value / ymax
            base -= h
            parts.append(
                f'<rect x="{bx:.1f}" y="{base:.1f}" width="{bar_w:.1f}" height="{h:.1f}" '
                f'fill="{COLORS[series_index % len(COLORS)]}"/>'
            )
        parts.append("</g>")
        if index % label_every == 0:
            parts.append(
                f'<text x="{bx + bar_w / 2:.1f}" y="{top + plot_h + 16}" text-anchor="middle" '
                f'aria-hidden="true">{escape(bar.label)}</text>'
            )
    parts.append(f'<line x1="{left}" x2="{width - right}" y1="{top + plot_h}" y2="{top + plot_h}" stroke="#6b7280"/>')
    parts.append("</g></svg>")
    return mark_safe("".join(parts))


def bar_chart(
    chart_id: str,
    rows: Sequence[tuple[str, int]],
    *,
    title: str,
    desc: str,
    width: int = 760,
    color: str = COLORS[0],
    colors: Sequence[str] | None = None,
) -> SafeString:
    """Horizontal bars with their label on the left and their value on the right.

    ``colors`` gives each row its own fill (else every bar is ``color``).
    """
    label_w, value_w, row_h, pad = 230, 70, 26, 8
    height = pad * 2 + row_h * max(len(rows), 1)
    plot_w = width - label_w - value_w
    peak = max((value for _, value in rows), default=0) or 1
    parts = [_svg_open(chart_id, width, height, title, desc), f'<g style="{FONT}" fill="#374151">']
    for index, (label, value) in enumerate(rows):
        y = pad + index * row_h
        w = plot_w * value / peak
        parts.append(f'<g class="ctc-bar" data-label="{escape(label)}" data-total="{value}">')
        parts.append(f"<title>{escape(label)}: {value}</title>")
        parts.append(f'<text x="{label_w - 8}" y="{y + 17}" text-anchor="end">{escape(label)}</text>')
        parts.append(
            f'<rect x="{label_w}" y="{y + 4}" width="{max(w, 0.5 if value else 0):.1f}" height="{row_h - 8}" '
            f'fill="{colors[index] if colors else color}"/>'
        )
        parts.append(f'<text x="{label_w + w + 6:.1f}" y="{y + 17}">{value}</text>')
        parts.append("</g>")
    parts.append("</g></svg>")
    return mark_safe("".join(parts))

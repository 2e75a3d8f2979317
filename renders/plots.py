"""Charts as inline SVG, drawn on the server: no JavaScript, nothing loaded from anywhere.

Every chart has labelled axes with round tick values, so a reader can take a number off it.
The resource timeline of a job shows each sample as a dot (samples are taken about every
50-100 ms in a job's first second, then every RENDER_MONITOR_INTERVAL_S; the line between
dots is drawn straight, it is not a measurement).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext, gettext_lazy

WIDTH, HEIGHT = 640, 190
LEFT, RIGHT, TOP, BOTTOM = 52, 14, 24, 30
SERIES = (
    # (key, label, colour, unit)
    ("cpu_percent", "CPU", "#1f77b4", "%"),
    ("rss_mb", "RSS", "#2ca02c", gettext_lazy("MB")),
    ("gpu_util", gettext_lazy("GPU util"), "#d62728", "%"),
    ("gpu_mem_used_mb", gettext_lazy("GPU memory"), "#9467bd", gettext_lazy("MB")),
)


def nice_ticks(top: float, count: int = 4) -> list[float]:
    """0 and round steps (1, 2, 2.5 or 5 times a power of ten) up to at least `top`."""
    if top <= 0 or not math.isfinite(top):
        return [0.0, 1.0]
    raw = top / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    return [round(step * i, 10) for i in range(math.ceil(top / step - 1e-9) + 1)]


def _safe(value: Any) -> Any:
    return value if isinstance(value, int | float) else conditional_escape(value)


def format_html(template: str, *args: Any, **kwargs: Any) -> SafeString:
    """Django's format_html, except that numbers stay numbers, so the template may format
    them (`{:.1f}`); everything else is escaped as there."""
    return mark_safe(template.format(*map(_safe, args), **{k: _safe(v) for k, v in kwargs.items()}))


def format_html_join(sep: str, template: str, rows: Any) -> SafeString:
    return mark_safe(
        sep.join(
            format_html(template, **row) if isinstance(row, dict) else format_html(template, *row)
            for row in rows
        )
    )


def _label(value: float) -> str:
    if value >= 1000:
        return f"{value:,.0f}"
    return f"{value:g}" if value == int(value) else f"{value:.2g}" if value < 1 else f"{value:.1f}"


@dataclass(frozen=True, slots=True)
class _Frame:
    """The plotting area and its scales."""

    x_max: float
    y_max: float
    width: int = WIDTH
    height: int = HEIGHT
    top: int = TOP  # room above the plot: the title, and a legend where there is one

    def x(self, value: float) -> float:
        return LEFT + (self.width - LEFT - RIGHT) * value / (self.x_max or 1.0)

    def y(self, value: float) -> float:
        span = self.height - self.top - BOTTOM
        return self.height - BOTTOM - span * value / (self.y_max or 1.0)


def _axes(
    frame: _Frame, *, y_ticks: Sequence[float], x_ticks: Sequence[tuple[float, str]], y_unit: str
) -> SafeString:
    """Grid lines and labels for the ticks, and the axis lines."""
    base, right = frame.height - BOTTOM, frame.width - RIGHT
    horizontal = format_html_join(
        "",
        '<line x1="{l}" y1="{y}" x2="{r}" y2="{y}" stroke="#e3e3e3"/>'
        '<text x="{tl}" y="{ty}" font-size="10" text-anchor="end" fill="#555">{v}</text>',
        (
            {
                "l": LEFT,
                "r": right,
                "y": frame.y(v),
                "tl": LEFT - 4,
                "ty": frame.y(v) + 3,
                "v": _label(v),
            }
            for v in y_ticks
        ),
    )
    vertical = format_html_join(
        "",
        '<line x1="{x}" y1="{b}" x2="{x}" y2="{b2}" stroke="#999"/>'
        '<text x="{x}" y="{ty}" font-size="10" text-anchor="middle" fill="#555">{v}</text>',
        (
            {"x": (frame.x(x)), "b": base, "b2": base + 4, "ty": base + 15, "v": text}
            for x, text in x_ticks
        ),
    )
    return format_html(
        '{}{}<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="#777"/>'
        '<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="#777"/>'
        '<text x="{}" y="{}" font-size="10" fill="#555">{}</text>',
        horizontal,
        vertical,
        LEFT,
        base,
        right,
        base,
        LEFT,
        frame.top,
        LEFT,
        base,
        4,
        frame.top - 10,
        y_unit,
    )


def _svg(frame: _Frame, title: str, body: SafeString) -> SafeString:
    return format_html(
        '<figure style="margin:0 0 10px 0"><svg xmlns="http://www.w3.org/2000/svg" '
        'width="{w}" height="{h}" viewBox="0 0 {w} {h}" role="img" aria-label="{t}" '
        'style="background:#fcfcfc;border:1px solid #ddd;max-width:100%;height:auto">'
        '<text x="{tx}" y="14" font-size="12" font-weight="bold">{t}</text>{body}</svg></figure>',
        w=frame.width,
        h=frame.height,
        t=title,
        tx=LEFT,
        body=body,
    )


def _time_ticks(t_max: float) -> list[tuple[float, str]]:
    return [(t, f"{_label(t)} s") for t in nice_ticks(t_max, 5) if t <= t_max * 1.0001]


def timeline_svg(timeline: Sequence[dict[str, Any]]) -> SafeString:
    """One chart per measured series over the job's time, each on its own value scale."""
    if not timeline:
        return mark_safe("<p>No samples.</p>")
    t_max = max(float(s.get("t", 0.0)) for s in timeline) or 1.0
    charts = []
    for key, label, colour, unit in SERIES:
        points = [(float(s["t"]), float(s[key])) for s in timeline if s.get(key) is not None]
        if not points:
            continue
        ticks = nice_ticks(max(v for _, v in points))
        frame = _Frame(x_max=t_max, y_max=ticks[-1])
        line = " ".join(f"{frame.x(t):.1f},{frame.y(v):.1f}" for t, v in points)
        dots = format_html_join(
            "",
            '<circle cx="{:.1f}" cy="{:.1f}" r="2.5" fill="{}"><title>{} s: {} {}</title></circle>',
            ((frame.x(t), frame.y(v), colour, f"{t:.2f}", _label(v), unit) for t, v in points),
        )
        body = format_html(
            '{}<polyline fill="none" stroke="{}" stroke-width="1.5" points="{}"/>{}',
            _axes(frame, y_ticks=ticks, x_ticks=_time_ticks(t_max), y_unit=str(unit)),
            colour,
            line,
            dots,
        )
        title = gettext("%(series)s: %(count)d samples over %(seconds)s s") % {
            "series": label,
            "count": len(points),
            "seconds": f"{t_max:.2f}",
        }
        charts.append(_svg(frame, title, body))
    return mark_safe("".join(charts))


@dataclass(frozen=True, slots=True)
class BarSeries:
    label: str
    colour: str
    values: Sequence[float]


def stacked_bars_svg(
    title: str, categories: Sequence[str], series: Sequence[BarSeries], *, unit: str = ""
) -> SafeString:
    """One bar per category, its series stacked, with a legend."""
    totals = [sum(s.values[i] for s in series) for i in range(len(categories))]
    ticks = nice_ticks(max(totals, default=0) or 1)
    frame = _Frame(x_max=max(len(categories), 1), y_max=ticks[-1], width=720, height=236, top=44)
    slot = frame.x(1) - frame.x(0)
    bars = []
    for i, _category in enumerate(categories):
        bottom = 0.0
        for s in series:
            value = s.values[i]
            if value:
                bars.append(
                    format_html(
                        '<rect x="{:.1f}" y="{:.1f}" width="{:.1f}" height="{:.1f}" fill="{}">'
                        "<title>{}: {} {}</title></rect>",
                        frame.x(i) + slot * 0.15,
                        frame.y(bottom + value),
                        slot * 0.7,
                        frame.y(bottom) - frame.y(bottom + value),
                        s.colour,
                        categories[i],
                        _label(value),
                        s.label,
                    )
                )
            bottom += value
    every = max(1, math.ceil(len(categories) / 8))
    x_ticks = [(i + 0.5, c) for i, c in enumerate(categories) if i % every == 0]
    legend = format_html_join(
        "",
        '<rect x="{}" y="21" width="10" height="10" fill="{}"/>'
        '<text x="{}" y="30" font-size="11">{}</text>',
        ((LEFT + 90 * k, s.colour, LEFT + 90 * k + 14, s.label) for k, s in enumerate(series)),
    )
    body = format_html(
        "{}{}{}",
        _axes(frame, y_ticks=ticks, x_ticks=x_ticks, y_unit=unit),
        mark_safe("".join(bars)),
        legend,
    )
    return _svg(frame, title, body)


def line_svg(
    title: str,
    categories: Sequence[str],
    values: Sequence[float | None],
    *,
    unit: str,
    target: float | None = None,
    colour: str = "#1f77b4",
) -> SafeString:
    """Values per category joined by a line (gaps where there is none), and a dashed
    target line."""
    present = [v for v in values if v is not None]
    ticks = nice_ticks(max([*present, target or 0], default=0) * 1.1 or 1)
    frame = _Frame(x_max=max(len(categories), 1), y_max=ticks[-1], width=720, height=220)
    points = [
        (frame.x(i + 0.5), frame.y(v), categories[i], v)
        for i, v in enumerate(values)
        if v is not None
    ]
    every = max(1, math.ceil(len(categories) / 8))
    x_ticks = [(i + 0.5, c) for i, c in enumerate(categories) if i % every == 0]
    target_line = (
        format_html(
            '<line x1="{}" y1="{:.1f}" x2="{}" y2="{:.1f}" stroke="#c62828" '
            'stroke-dasharray="5,4"/><text x="{}" y="{:.1f}" font-size="10" fill="#c62828" '
            'text-anchor="end">{} {} {}</text>',
            LEFT,
            frame.y(target),
            frame.width - RIGHT,
            frame.y(target),
            frame.width - RIGHT,
            frame.y(target) - 4,
            gettext("target"),
            _label(target),
            unit,
        )
        if target is not None
        else ""
    )
    body = format_html(
        '{}{}<polyline fill="none" stroke="{}" stroke-width="2" points="{}"/>{}',
        _axes(frame, y_ticks=ticks, x_ticks=x_ticks, y_unit=unit),
        target_line,
        colour,
        " ".join(f"{x},{y}" for x, y, _c, _v in points),
        format_html_join(
            "",
            '<circle cx="{}" cy="{}" r="3" fill="{}"><title>{}: {} {}</title></circle>',
            (((x), (y), colour, c, _label(v), unit) for x, y, c, v in points),
        ),
    )
    return _svg(frame, title, body)

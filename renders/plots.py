"""The resource timeline as an inline SVG: no JavaScript, no CDN, readable in the admin."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

WIDTH, HEIGHT, PAD = 640, 180, 36
SERIES = (
    # (key, label, colour, unit)
    ("cpu_percent", "CPU %", "#1f77b4", "%"),
    ("rss_mb", "RSS MB", "#2ca02c", "MB"),
    ("gpu_util", "GPU util %", "#d62728", "%"),
    ("gpu_mem_used_mb", "GPU mem MB", "#9467bd", "MB"),
)


def _polyline(points: Sequence[tuple[float, float]], t_max: float, v_max: float) -> str:
    inner_w, inner_h = WIDTH - 2 * PAD, HEIGHT - 2 * PAD
    return " ".join(
        f"{PAD + inner_w * t / t_max:.1f},{HEIGHT - PAD - inner_h * v / v_max:.1f}"
        for t, v in points
    )


def timeline_svg(timeline: Sequence[dict[str, Any]]) -> SafeString:
    """One small chart per measured series, each scaled to its own maximum."""
    if not timeline:
        return mark_safe("<p>No samples.</p>")
    t_max = max(float(s.get("t", 0.0)) for s in timeline) or 1.0
    charts = []
    for key, label, colour, unit in SERIES:
        points = [(float(s["t"]), float(s[key])) for s in timeline if s.get(key) is not None]
        if not points:
            continue
        v_max = max(v for _, v in points) or 1.0
        charts.append(
            format_html(
                '<figure style="margin:0 0 8px 0">'
                '<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" '
                'role="img" aria-label="{label}" style="background:#fafafa;border:1px solid #ddd">'
                '<line x1="{pad}" y1="{base}" x2="{right}" y2="{base}" stroke="#999"/>'
                '<line x1="{pad}" y1="{pad}" x2="{pad}" y2="{base}" stroke="#999"/>'
                '<text x="{pad}" y="{label_y}" font-size="12">'
                "{label} (max {v_max} {unit})</text>"
                '<text x="{right}" y="{t_y}" font-size="11" text-anchor="end">{t_max} s</text>'
                '<polyline fill="none" stroke="{colour}" stroke-width="2" points="{points}"/>'
                "{dots}</svg></figure>",
                w=WIDTH,
                h=HEIGHT,
                pad=PAD,
                base=HEIGHT - PAD,
                right=WIDTH - PAD,
                label_y=PAD - 10,
                t_y=HEIGHT - PAD + 16,
                label=label,
                v_max=f"{v_max:.1f}",
                unit=unit,
                t_max=f"{t_max:.2f}",
                colour=colour,
                points=_polyline(points, t_max, v_max),
                dots=format_html_join(
                    "",
                    '<circle cx="{}" cy="{}" r="2.5" fill="{}"/>',
                    ((*xy.split(","), colour) for xy in _polyline(points, t_max, v_max).split(" ")),
                ),
            )
        )
    return mark_safe("".join(charts))

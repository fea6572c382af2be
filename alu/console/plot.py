"""The decisions plot, drawn on the server as SVG markup: verdicts per time bucket as
stacked bars, and the 95th-percentile latency of each bucket as a line. Only numbers and
fixed labels go into the markup (never a target's name), so it needs no escaping beyond
what the template does, and no script or library reaches the browser."""

from __future__ import annotations

import math
import time
from collections.abc import Sequence

from .store import Decision

VERDICTS = ("passed", "rewritten", "redacted", "refused", "failed_closed")
# Colours a viewer with a common colour-vision deficiency still tells apart (Okabe-Ito).
COLOURS = {
    "passed": "#009E73",
    "rewritten": "#56B4E9",
    "redacted": "#E69F00",
    "refused": "#CC79A7",
    "failed_closed": "#D55E00",
}
WIDTH, HEIGHT, LEFT, RIGHT, TOP, BOTTOM = 720, 260, 44, 52, 12, 28


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(0.95 * len(ordered)) - 1)]


def buckets(decisions: Sequence[Decision], count: int = 24, now: float | None = None) -> list[dict]:
    """``count`` equal time buckets from the oldest decision to now: each bucket's start,
    its verdict counts and its p95 latency (None when empty)."""
    now = now or time.time()
    start = min((d.at for d in decisions), default=now - 3600)
    span = max(now - start, 60.0) / count
    out = [
        {"start": start + i * span, "counts": dict.fromkeys(VERDICTS, 0), "latencies": []}
        for i in range(count)
    ]
    for d in decisions:
        slot = out[min(count - 1, int((d.at - start) / span))]
        slot["counts"][d.verdict if d.verdict in VERDICTS else "failed_closed"] += 1
        slot["latencies"].append(d.latency_s)
    for slot in out:
        slot["p95"] = _p95(slot.pop("latencies")) if any(slot["counts"].values()) else None
    return out


def svg(decisions: Sequence[Decision], now: float | None = None) -> str:
    """The plot as an ``<svg>`` element, with a title and description for screen readers."""
    slots = buckets(decisions, now=now)
    most = max((sum(s["counts"].values()) for s in slots), default=0) or 1
    slowest = max((s["p95"] for s in slots if s["p95"] is not None), default=0.0) or 1.0
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    bar_w = plot_w / len(slots)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" role="img"'
        ' aria-labelledby="plot-title plot-desc" class="plot">',
        '<title id="plot-title">Verdicts and latency over time</title>',
        f'<desc id="plot-desc">{len(decisions)} decisions in {len(slots)} time buckets: bars count'
        f" verdicts (at most {most} in a bucket), the line is the 95th-percentile latency"
        f" (at most {slowest:.2f} s).</desc>",
        f'<line x1="{LEFT}" y1="{TOP + plot_h}" x2="{LEFT + plot_w}" y2="{TOP + plot_h}" stroke="#555"/>',
        f'<text x="{LEFT - 6}" y="{TOP + 10}" text-anchor="end" font-size="11">{most}</text>',
        f'<text x="{LEFT - 6}" y="{TOP + plot_h}" text-anchor="end" font-size="11">0</text>',
        f'<text x="{LEFT + plot_w + 6}" y="{TOP + 10}" font-size="11">{slowest:.2f} s</text>',
    ]
    points = []
    for i, slot in enumerate(slots):
        x = LEFT + i * bar_w
        y = TOP + plot_h
        for verdict in VERDICTS:
            n = slot["counts"][verdict]
            if n:
                h = plot_h * n / most
                y -= h
                parts.append(
                    f'<rect x="{x + 1:.1f}" y="{y:.1f}" width="{bar_w - 2:.1f}" height="{h:.1f}"'
                    f' fill="{COLOURS[verdict]}"><title>{verdict}: {n}</title></rect>'
                )
        if slot["p95"] is not None:
            points.append(f"{x + bar_w / 2:.1f},{TOP + plot_h - plot_h * slot['p95'] / slowest:.1f}")
    if points:
        parts.append(f'<polyline points="{" ".join(points)}" fill="none" stroke="#222" stroke-width="2"/>')
    first = time.strftime("%Y-%m-%d %H:%M", time.gmtime(slots[0]["start"]))
    last = time.strftime("%Y-%m-%d %H:%M", time.gmtime(now or time.time()))
    parts.append(f'<text x="{LEFT}" y="{HEIGHT - 8}" font-size="11">{first} UTC</text>')
    parts.append(
        f'<text x="{LEFT + plot_w}" y="{HEIGHT - 8}" text-anchor="end" font-size="11">{last} UTC</text>'
    )
    parts.append("</svg>")
    return "".join(parts)

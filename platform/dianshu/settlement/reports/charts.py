"""A small inline SVG chart for printable pages: bars on the left axis and, optionally, a line on
its own right axis, one slot a label. No JavaScript and no external assets, so a page prints and
archives as it is."""

from __future__ import annotations

import html
from decimal import Decimal


def svg_chart(
    labels: list[str],
    bars: list[Decimal],
    bar_name: str,
    line: list[Decimal] | None = None,
    line_name: str = "",
    width: int = 640,
    height: int = 260,
) -> str:
    pad = 48
    e = html.escape
    bmax = max([*bars, Decimal(1)])
    slot = (width - 2 * pad) / max(len(labels), 1)
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" '
        f'aria-label="{e(bar_name)}{" and " + e(line_name) if line else ""}">',
        f'<line x1="{pad}" y1="{height - pad}" x2="{width - pad}" y2="{height - pad}" stroke="#333"/>',
    ]
    for i, label in enumerate(labels):
        x = pad + i * slot
        bh = float(max(bars[i], Decimal(0)) / bmax) * (height - 2 * pad)
        out.append(
            f'<rect x="{x + slot * 0.15:.1f}" y="{height - pad - bh:.1f}" width="{slot * 0.7:.1f}" '
            f'height="{bh:.1f}" fill="#7aa6d6"><title>{e(label)}: {bars[i]} {e(bar_name)}</title></rect>'
        )
        out.append(
            f'<text x="{x + slot / 2:.1f}" y="{height - pad + 16}" font-size="11" text-anchor="middle">'
            f"{e(label)}</text>"
        )
    if line:
        lmin, lmax = min([*line, Decimal(0)]), max([*line, Decimal(1)])
        points = []
        for i, v in enumerate(line):
            y = height - pad - float((v - lmin) / ((lmax - lmin) or 1)) * (height - 2 * pad)
            points.append(f"{pad + i * slot + slot / 2:.1f},{y:.1f}")
            out.append(
                f'<circle cx="{pad + i * slot + slot / 2:.1f}" cy="{y:.1f}" r="3" fill="#c0392b">'
                f"<title>{e(labels[i])}: {v} {e(line_name)}</title></circle>"
            )
        out.append(f'<polyline points="{" ".join(points)}" fill="none" stroke="#c0392b" stroke-width="2"/>')
        out.append(
            f'<text x="{width - pad}" y="{pad - 16}" font-size="12" fill="#c0392b" text-anchor="end">'
            f"— {e(line_name)} (max {lmax})</text>"
        )
    out.append(f'<text x="{pad}" y="{pad - 16}" font-size="12" fill="#2c5d8f">■ {e(bar_name)} (max {bmax})</text>')
    out.append("</svg>")
    return "".join(out)

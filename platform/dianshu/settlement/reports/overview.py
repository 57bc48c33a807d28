"""The city's view of a settlement year: every region's budget, fund total and point value side by
side, as CSV or a printable HTML page with a chart (rows from runs.figures.city_overview)."""

from __future__ import annotations

import html
import io
from decimal import Decimal
from typing import Any

from dianshu import csvcells
from dianshu.settlement.reports.charts import svg_chart

COLUMNS = ("region", "name", "ledger", "status", "version", "T", "R", "B", "E", "F", "P", "S", "PV", "hospitals")


def overview_csv(rows: list[dict[str, Any]]) -> str:
    buf = io.StringIO()
    w = csvcells.writer(buf, lineterminator="\n")
    w.writerow(COLUMNS)
    for r in rows:
        w.writerow([r.get(c, "") for c in COLUMNS])
    return buf.getvalue()


def overview_html(city: str, year: int, rows: list[dict[str, Any]]) -> str:
    e = html.escape
    charts = []
    for ledger in sorted({r["ledger"] for r in rows}):
        mine = [r for r in rows if r["ledger"] == ledger]
        charts.append(f"<h2>{e(ledger)}: fund total F (bars) and point value (line) by region</h2>")
        charts.append(
            svg_chart(
                [r["region"] for r in mine],
                [Decimal(r["F"]) for r in mine],
                "F (yuan)",
                [Decimal(r["PV"]) for r in mine],
                "point value",
                width=max(640, 90 * len(mine)),
            )
        )
    head = "".join(f"<th>{e(c)}</th>" for c in COLUMNS)
    body = "".join("<tr>" + "".join(f"<td>{e(str(r.get(c, '')))}</td>" for c in COLUMNS) + "</tr>" for r in rows)
    return f"""<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>{e(city)} settlement {year}</title>
<style>body{{font:14px system-ui,sans-serif;margin:2em}}table{{border-collapse:collapse;margin:1em 0}}
th,td{{border:1px solid #ccc;padding:.25em .6em;text-align:right}}th{{background:#f4f4f4}}
@media print{{body{{margin:0}}}}</style></head><body>
<h1>{e(city)}: annual clearing {year}, region by region</h1>
<p>Each region's published clearing, or its newest draft where none is published (status column).</p>
{"".join(charts)}
<table><tr>{head}</tr>{body}</table>
</body></html>
"""

"""A hospital's settlement statement (the data of runs.figures.statement_data) as CSV or a printable
HTML page with an inline SVG chart (no JavaScript, no external assets: it prints and archives as it
is)."""

from __future__ import annotations

import html
import io
from decimal import Decimal
from typing import Any

from dianshu import csvcells
from dianshu.settlement.reports.charts import svg_chart


def to_csv(data: dict[str, Any]) -> str:
    buf = io.StringIO()
    w = csvcells.writer(buf, lineterminator="\n")
    w.writerow(["section", "item", "value"])
    for k, v in data["run"].items():
        w.writerow(["run", k, v])
    for k, v in data["figures"].items():
        w.writerow(["region", k, v])
    w.writerow(["hospital", "code", data["hospital"]])
    w.writerow(["hospital", "alliance", data["alliance"] or ""])
    for k, v in data["line"].items():
        w.writerow(["hospital", k, "" if v is None else v])
    w.writerow([])
    w.writerow(["month", "cases", "points", "self_pay", "payment"])
    for m in data["months"]:
        w.writerow([m["month"], m["cases"], m["points"], m["self_pay"], m["payment"]])
    return buf.getvalue()


def to_html(data: dict[str, Any]) -> str:
    e = html.escape
    run, line = data["run"], data["line"]
    title = f"{data['hospital_name']} ({data['hospital']}): {run['kind']} settlement {run['year']}"
    if run["kind"] == "monthly":
        title += f"-{int(run['month']):02d}"
    rows = "".join(f"<tr><th>{e(k)}</th><td>{e(str(v))}</td></tr>" for k, v in data["figures"].items())
    mine = "".join(f"<tr><th>{e(k)}</th><td>{e('' if v is None else v)}</td></tr>" for k, v in line.items())
    months = "".join(
        f"<tr><td>{e(m['month'])}</td><td>{e(m['cases'])}</td><td>{e(m['points'])}</td>"
        f"<td>{e(m['self_pay'])}</td><td>{e(m['payment'])}</td></tr>"
        for m in data["months"]
    )
    return f"""<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>{e(title)}</title>
<style>body{{font:14px system-ui,sans-serif;margin:2em;max-width:60em}}table{{border-collapse:collapse;margin:1em 0}}
th,td{{border:1px solid #ccc;padding:.25em .6em;text-align:right}}th{{text-align:left;background:#f4f4f4}}
@media print{{body{{margin:0}}}}</style></head><body>
<h1>{e(title)}</h1>
<p>Ledger {e(run["ledger"])}, run {e(run["id"])} version {e(str(run["version"]))}, {e(run["status"])}
{e("published " + run["published_at"]) if run["published_at"] else "(draft: not final)"}.
{e("Alliance " + data["alliance"]) if data["alliance"] else ""}</p>
<h2>Points and money by month</h2>
{
        svg_chart(
            [m["month"][-2:] for m in data["months"]],
            [Decimal(m["points"]) for m in data["months"]],
            "points",
            [Decimal(m["payment"]) for m in data["months"]],
            "payment",
        )
    }
<table><tr><th>month</th><th>cases</th><th>points</th><th>self pay</th><th>payment</th></tr>{months}</table>
<h2>This hospital</h2><table>{mine}</table>
<h2>The region's ledger</h2><table>{rows}</table>
</body></html>
"""

"""A hospital's settlement statement (the data of runs.figures.statement_data) as tables (CSV or one
XLSX workbook: the summary, the monthly lines, the region's ledger), or a printable page (HTML, or
PDF from the same template) with its charts, in Chinese or English. Labels come from the message
catalogue (dianshu.reports.labels), figures are formatted by dianshu.reports.numbers."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from dianshu.reports import render
from dianshu.reports.charts import bar_line_svg
from dianshu.reports.labels import column, text
from dianshu.reports.numbers import POINT_PLACES, PV_PLACES, Formatter, month_date
from dianshu.tabular.write import Column, Kind, Lang, Table, workbook_bytes

TABLES = ("summary", "months", "ledger")
FIGURES = ("T", "R", "B", "E", "F", "P", "S", "PV", "PV_provisional", "due", "payable", "holdback", "payment")
FIGURES += ("balance", "withheld", "hospitals")  # PV_exact (unrounded, for the next year's runs) is not shown
PV_KEYS = ("PV", "PV_provisional", "pv")


def _kind(key: str) -> tuple[Kind, int | None]:
    if key in ("cases", "hospitals"):
        return Kind.count, None
    if key in ("points", "deductions", "P"):
        return Kind.decimal, POINT_PLACES
    if key in PV_KEYS:
        return Kind.decimal, PV_PLACES
    if key == "score":
        return Kind.decimal, 2
    return Kind.money, None


def _col(key: str, msgid: str | None = None) -> Column:
    return column(key, *_kind(key), msgid=msgid)


def _number(value: Any) -> Decimal | None:
    return None if value is None or value == "" else Decimal(str(value))


def _period(data: dict[str, Any], f: Formatter) -> str:
    run = data["run"]
    if run["kind"] == "monthly":
        return f.month(f"{run['year']}-{int(run['month']):02d}")
    return text("statement.period.annual", f.lang, year=run["year"])


def statement_title(data: dict[str, Any], lang: Lang) -> str:
    doc = text(f"doc.{data['run']['kind']}", lang)
    return text("statement.title", lang, hospital=data["hospital_name"], period=_period(data, Formatter(lang)), doc=doc)


def _who(data: dict[str, Any], lang: Lang) -> dict[str, Any]:
    run = data["run"]
    return {
        "hospital": data["hospital"],
        "hospital_name": data["hospital_name"],
        "region": data["tenant"],
        "region_name": data.get("region_name") or data["tenant"],
        "kind": text(f"kind.{run['kind']}", lang),
        "year": run["year"],
        "month": run["month"],
        "ledger": text(f"ledger.{run['ledger']}", lang),
        "status": text(f"status.{run['status']}", lang),
        "version": run["version"],
        "run": run["id"],
        "alliance": data.get("alliance"),
    }


WHO = (
    column("hospital"),
    column("hospital_name"),
    column("region"),
    column("region_name"),
    column("kind"),
    column("year"),
    column("month"),
    column("ledger"),
    column("status"),
    column("version"),
    column("run"),
)


def tables(data: dict[str, Any], lang: Lang = Lang.zh) -> dict[str, Table]:
    """The statement's three tables (each names the hospital): summary (one row: the run and the
    hospital's line), months (a row a month) and ledger (one row: the region's figures)."""
    run, who = data["run"], _who(data, lang)
    stem = f"statement-{run['year']}-{run['kind']}-{data['hospital']}"

    def titles(msgid: str) -> tuple[str, str]:
        return tuple(f"{data['hospital_name']} {_period(data, Formatter(L))} {text(msgid, L)}" for L in Lang)

    # The line's fields in the order the figures give them (runs.figures.LINE_FIELDS), the empty left out.
    line_cols = tuple(_col(k) for k, v in data["line"].items() if v is not None)
    summary = Table(
        f"{stem}-summary",
        *titles("statement.summary"),
        (*WHO, column("alliance"), *line_cols),
        [who | {k: _number(v) for k, v in data["line"].items() if v is not None}],
    )
    has_pv = any(m.get("pv") for m in data["months"])
    month_cols = (
        column("hospital"),
        column("hospital_name"),
        column("month", Kind.month),
        _col("cases"),
        _col("points"),
        _col("self_pay"),
        _col("payment"),
        *((_col("pv", "fig.PV_provisional"),) if has_pv else ()),
    )
    months = Table(
        f"{stem}-months",
        *titles("statement.months"),
        month_cols,
        [
            {
                "hospital": data["hospital"],
                "hospital_name": data["hospital_name"],
                "month": month_date(m["month"]),
                "cases": int(m["cases"]),
                "points": _number(m["points"]),
                "self_pay": _number(m["self_pay"]),
                "payment": _number(m["payment"]),
                "pv": _number(m.get("pv")),
            }
            for m in data["months"]
        ],
    )
    fig_keys = [k for k in FIGURES if k in data["figures"]]
    ledger = Table(
        f"{stem}-ledger",
        *titles("statement.ledger_table"),
        (column("hospital"), column("hospital_name"), *WHO[2:], *(_col(k, f"fig.{k}") for k in fig_keys)),
        [who | {k: _number(data["figures"][k]) for k in fig_keys}],
    )
    return {"summary": summary, "months": months, "ledger": ledger}


SHEETS = {"summary": "statement.summary", "months": "statement.months", "ledger": "statement.ledger_table"}


def to_xlsx(data: dict[str, Any], lang: Lang = Lang.zh) -> bytes:
    """One workbook: the summary, the monthly lines and the region's ledger, a sheet each."""
    ts = tables(data, lang)
    return workbook_bytes(
        [ts[k] for k in TABLES], lang, sheets=[text(SHEETS[k], lang) for k in TABLES], title=statement_title(data, lang)
    )


def _shown(key: str, value: Any, f: Formatter) -> str:
    """A figure with its unit, for the page's label/value tables."""
    kind, places = _kind(key)
    if key in PV_KEYS:
        return f.pv(value)
    if kind is Kind.money:
        return f.money(value)
    return f.cell(value, Column(key, "", "", kind, places))


def to_html(data: dict[str, Any], lang: Lang = Lang.zh, *, now: datetime.datetime | None = None) -> str:
    f, run = Formatter(lang), data["run"]

    def t(msgid: str, **kw: Any) -> str:
        return text(msgid, lang, **kw)

    ts = tables(data, lang)
    months = data["months"]
    short = [f.month_short(m["month"]) for m in months]
    chart = bar_line_svg(
        short,
        [Decimal(m["points"]) for m in months],
        t("axis", label=t("col.points"), unit=t("unit.points")),
        [Decimal(m["payment"]) for m in months],
        t("axis", label=t("col.payment"), unit=t("unit.yuan")),
        title=t("statement.chart"),
    )
    pv = [_number(m.get("pv")) for m in months]
    pv_chart = (
        bar_line_svg(
            short,
            None,
            "",
            pv,
            t("axis", label=t("fig.PV_provisional"), unit=t("unit.yuan_per_point")),
            title=t("statement.pv_chart"),
        )
        if any(v is not None for v in pv)
        else None
    )
    mt = ts["months"]
    return render.html(
        "statement.html",
        lang,
        bureau=t("bureau", city=data.get("city_name") or data.get("region_name") or data["tenant"]),
        orientation="portrait",
        title=statement_title(data, lang),
        region_name=data.get("region_name") or data["tenant"],
        ledger=t(f"ledger.{run['ledger']}"),
        status=t(f"status.{run['status']}"),
        draft=run["status"] == "draft",
        published_at=f.when(run["published_at"]),
        alliance=data.get("alliance"),
        line=[(t(f"col.{k}"), _shown(k, v, f)) for k, v in data["line"].items() if v is not None],
        chart=chart,
        pv_chart=pv_chart,
        month_head=render.table_head(mt.columns[2:], lang),
        months=render.table_cells(mt.columns[2:], (row[2:] for row in mt.values()), f),
        figures=[(t(f"fig.{k}"), _shown(k, data["figures"][k], f)) for k in FIGURES if k in data["figures"]],
        trace=t(
            "footer.trace",
            run=run["id"],
            version=run["version"],
            when=f.when(now or datetime.datetime.now(datetime.UTC)),
        ),
    )


def to_pdf(data: dict[str, Any], lang: Lang = Lang.zh, *, now: datetime.datetime | None = None) -> bytes:
    return render.pdf(to_html(data, lang, now=now))

"""A table as CSV or XLSX bytes.

CSV: UTF-8 with a BOM, CRLF line ends (what Excel writes), header in the requested language, cells
through csvcells (no cell runs as a formula), numbers plain (12345.60: Excel parses them; no
thousands separators, which would turn a number into text), dates ISO (2025-03-06).
XLSX (openpyxl): one sheet, bold frozen header, numbers as numbers with zh-CN formats (money
#,##0.00, counts #,##0, ratios 0.00%), dates as dates, every text cell stored as text (a value
starting with = is never a formula), column widths from the content."""

from __future__ import annotations

import csv
import datetime
import io
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from enum import Enum
from typing import Any
from zoneinfo import ZoneInfo

from dianshu import csvcells

BOM = "\ufeff"
# The zone every date and time is shown in (the reports' numbers.SHANGHAI is this one).
SHANGHAI = ZoneInfo("Asia/Shanghai")


class Lang(Enum):
    zh = "zh"
    en = "en"


class Kind(Enum):
    text = "text"
    count = "count"  # a whole number: #,##0
    money = "money"  # yuan with 2 places: #,##0.00
    decimal = "decimal"  # a number shown with its own places (points, CMI, indices)
    ratio = "ratio"  # a share 0–1 shown as a percentage: 0.00%
    date = "date"
    month = "month"  # a date shown as YYYY-MM


XLSX_FORMATS = {
    Kind.count: "#,##0",
    Kind.money: "#,##0.00",
    Kind.ratio: "0.00%",
    Kind.date: "yyyy-mm-dd",
    Kind.month: "yyyy-mm",
}


@dataclass(frozen=True)
class Column:
    key: str
    zh: str
    en: str
    kind: Kind = Kind.text
    places: int | None = None  # decimal: the XLSX format's places (None: as the value has them)

    def header(self, lang: Lang) -> str:
        return self.zh if lang is Lang.zh else self.en


@dataclass(frozen=True)
class Table:
    """What a download holds: its file name's stem (ASCII), its titles, columns and rows (each a
    mapping from column key, or a sequence in column order)."""

    name: str
    title_zh: str
    title_en: str
    columns: tuple[Column, ...]
    rows: Sequence[Any] = field(default_factory=tuple)

    def title(self, lang: Lang) -> str:
        return self.title_zh if lang is Lang.zh else self.title_en

    def values(self) -> Iterable[list[Any]]:
        keys = [c.key for c in self.columns]
        for row in self.rows:
            if isinstance(row, dict):
                yield [row.get(k) for k in keys]
            elif hasattr(row, "_mapping"):
                m = row._mapping
                yield [m.get(k) for k in keys]
            elif isinstance(row, list | tuple):
                if len(row) != len(keys):
                    raise ValueError(f"{self.name}: a row of {len(row)} cells for {len(keys)} columns")
                yield list(row)
            else:
                yield [getattr(row, k) for k in keys]


def _wall_time(value: datetime.datetime) -> datetime.datetime:
    """A moment as Beijing wall time without a zone (CSV and Excel have none); a naive value as it is."""
    return value if value.tzinfo is None else value.astimezone(SHANGHAI).replace(tzinfo=None)


def _csv_cell(value: Any, column: Column) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if column.kind is Kind.month and isinstance(value, datetime.date):
        return value.strftime("%Y-%m")
    if isinstance(value, datetime.datetime):
        return _wall_time(value).strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, float):
        return repr(value)
    return value


def csv_chunks(table: Table, lang: Lang = Lang.zh, chunk: int = 1 << 16) -> Iterator[bytes]:
    """The CSV's bytes in pieces of about `chunk` bytes, for streaming: the BOM and the header
    first, then the rows as they come."""
    out = io.StringIO()
    out.write(BOM)
    w = csvcells.writer(out, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    w.writerow([c.header(lang) for c in table.columns])
    for values in table.values():
        w.writerow([_csv_cell(v, c) for v, c in zip(values, table.columns, strict=True)])
        if out.tell() > chunk:
            yield out.getvalue().encode("utf-8")
            out.seek(0)
            out.truncate()
    yield out.getvalue().encode("utf-8")


def csv_bytes(table: Table, lang: Lang = Lang.zh) -> bytes:
    return b"".join(csv_chunks(table, lang))


def _sheet_title(title: str) -> str:
    # Excel: at most 31 characters, none of []:*?/\
    cleaned = "".join(" " if ch in "[]:*?/\\" else ch for ch in title).strip()
    return (cleaned or "Sheet1")[:31]


def _xlsx_value(value: Any, column: Column) -> Any:
    if value is None:
        return None
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, bool):
        return 1 if value else 0
    if isinstance(value, Decimal):
        # Excel holds a double: 15 significant digits, enough for yuan to the fen up to 10^13.
        return float(value)
    if isinstance(value, datetime.datetime):
        return _wall_time(value)  # Beijing time, whatever the server's zone
    if isinstance(value, int | float | datetime.date):
        return value
    return str(value)


def _fill_sheet(ws: Any, table: Table, lang: Lang) -> None:
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    bold = Font(bold=True)
    widths = [len(c.header(lang).encode("gbk", "replace")) for c in table.columns]
    for j, c in enumerate(table.columns, start=1):
        cell = ws.cell(row=1, column=j, value=c.header(lang))
        cell.data_type = "s"
        cell.font = bold
    formats = []
    for c in table.columns:
        if c.kind is Kind.decimal and c.places is not None:
            formats.append("#,##0" + ("." + "0" * c.places if c.places else ""))
        else:
            formats.append(XLSX_FORMATS.get(c.kind))
    for i, values in enumerate(table.values(), start=2):
        for j, (v, c) in enumerate(zip(values, table.columns, strict=True), start=1):
            x = _xlsx_value(v, c)
            cell = ws.cell(row=i, column=j, value=x)
            if isinstance(x, str):
                cell.data_type = "s"  # text stays text: "=1+1" is shown, never computed
            elif x is not None and formats[j - 1]:
                cell.number_format = formats[j - 1]
            if x is not None:
                widths[j - 1] = max(widths[j - 1], len(str(x).encode("gbk", "replace")))
    for j, w in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(j)].width = min(60, w + 2)
    ws.freeze_panes = "A2"


def workbook_bytes(
    tables: Sequence[Table],
    lang: Lang = Lang.zh,
    *,
    sheets: Sequence[str] | None = None,
    title: str | None = None,
    generated_at: datetime.datetime | None = None,
) -> bytes:
    """One workbook, a sheet a table (named `sheets`, else by the tables' titles), each as xlsx_bytes
    writes its one."""
    from openpyxl import Workbook

    wb = Workbook()
    wb.remove(wb.active)
    for k, table in enumerate(tables):
        ws = wb.create_sheet(_sheet_title(sheets[k] if sheets else table.title(lang)))
        _fill_sheet(ws, table, lang)
    when = (generated_at or datetime.datetime(2000, 1, 1)).replace(tzinfo=None, microsecond=0)
    wb.properties.creator = "Dianshu"
    wb.properties.title = title or tables[0].title(lang)
    wb.properties.created = wb.properties.modified = when
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def xlsx_bytes(table: Table, lang: Lang = Lang.zh, *, generated_at: datetime.datetime | None = None) -> bytes:
    return workbook_bytes([table], lang, generated_at=generated_at)


FORMATS = ("csv", "xlsx")
MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",  # the printed reports (dianshu.reports.render), downloaded the same way
}


def table_bytes(table: Table, fmt: str, lang: Lang = Lang.zh) -> bytes:
    if fmt == "csv":
        return csv_bytes(table, lang)
    if fmt == "xlsx":
        return xlsx_bytes(table, lang)
    raise ValueError(f"format: {fmt!r} is not one of {', '.join(FORMATS)}")

"""Rows of an uploaded spreadsheet (CSV or XLSX), each with its row number as the person sees it
in Excel (the header is row 1), for imports that refuse bad rows one by one.

Limits before anything is parsed: the file's size, and for XLSX the unpacked size of its parts (a
small zip can unpack to gigabytes) and their count. The header must name each expected column
once (Chinese or English names, as the import declares them); unknown columns are refused, not
ignored. Cells come back as text, stripped; an empty cell is None. XLSX numbers come back as their
plain text (3, 2.5), dates as YYYY-MM-DD: the import's strict schema parses them like CSV text.
A CSV's text is UTF-8 or GB18030, declared or detected by the rule of dianshu.tabular.encoding; the
rows say which (`Sheet.encoding`)."""

from __future__ import annotations

import csv
import datetime
import io
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from dianshu.tabular import encoding as enc

MAX_BYTES = 20 * 2**20
MAX_UNPACKED = 200 * 2**20
MAX_PARTS = 200
MAX_ROWS = 100_000


class SheetRefused(Exception):
    """The file as a whole cannot be read: `field` names what (file, header, a column)."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


@dataclass(frozen=True)
class SheetRow:
    number: int  # as Excel numbers it: the header is row 1
    cells: dict[str, str | None]  # column key -> text


class Sheet(list[SheetRow]):
    """A sheet's rows, and the encoding its CSV text was read in (None for an XLSX workbook)."""

    encoding: str | None = None


def _text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, datetime.datetime):
        if value.time() == datetime.time(0):
            return value.date().isoformat()
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    text = str(value).strip()
    return text or None


def _header(raw: Sequence[object], names: Mapping[str, str]) -> list[str | None]:
    """Header cells -> column keys; `names` maps every accepted header text (zh and en) to a key."""
    keys: list[str | None] = []
    seen: set[str] = set()
    for i, cell in enumerate(raw, start=1):
        text = _text(cell)
        if text is None:
            keys.append(None)
            continue
        key = names.get(text.lstrip("\ufeff")) or names.get(text.lstrip("\ufeff").lower())
        if key is None:
            raise SheetRefused(f"header.{i}", f"unknown column {text!r} (known: {', '.join(sorted(set(names)))})")
        if key in seen:
            raise SheetRefused(f"header.{i}", f"column {text!r} appears twice")
        seen.add(key)
        keys.append(key)
    if not seen:
        raise SheetRefused("header", "the first row names no column")
    return keys


def _rows(lines: Sequence[Sequence[object]], names: Mapping[str, str], required: Sequence[str]) -> Sheet:
    if not lines:
        raise SheetRefused("file", "empty: no header row")
    keys = _header(lines[0], names)
    if missing := [k for k in required if k not in keys]:
        raise SheetRefused("header", f"missing column(s): {', '.join(missing)}")
    out = Sheet()
    for n, line in enumerate(lines[1:], start=2):
        cells: dict[str, str | None] = {k: None for k in keys if k}
        extra = False
        for i, value in enumerate(line):
            key = keys[i] if i < len(keys) else None
            text = _text(value)
            if key is None:
                extra = extra or text is not None
            else:
                cells[key] = text
        if all(v is None for v in cells.values()) and not extra:
            continue  # a blank line
        if extra:
            cells["__extra__"] = "a cell outside the named columns"
        out.append(SheetRow(n, cells))
        if len(out) > MAX_ROWS:
            raise SheetRefused("file", f"more than {MAX_ROWS:,} rows")
    return out


def read_csv(data: bytes, names: Mapping[str, str], required: Sequence[str], encoding: str | None = None) -> Sheet:
    """`encoding` as declared (utf-8, gb18030, gbk), or None to detect it: Excel on Chinese Windows
    saves "CSV" as GB18030 (ANSI) unless told UTF-8."""
    if len(data) > MAX_BYTES:
        raise SheetRefused("file", f"larger than {MAX_BYTES // 2**20} MiB")
    try:
        text, used = enc.decode(data, encoding)
    except enc.EncodingRefused as e:
        raise SheetRefused(e.field, e.reason) from None
    try:
        lines = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as e:
        raise SheetRefused("file", f"not CSV: {e}") from e
    rows = _rows(lines, names, required)
    rows.encoding = used
    return rows


def read_xlsx(data: bytes, names: Mapping[str, str], required: Sequence[str]) -> Sheet:
    if len(data) > MAX_BYTES:
        raise SheetRefused("file", f"larger than {MAX_BYTES // 2**20} MiB")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            parts = z.infolist()
            if len(parts) > MAX_PARTS or sum(p.file_size for p in parts) > MAX_UNPACKED:
                raise SheetRefused("file", "the workbook unpacks too large")
    except zipfile.BadZipFile as e:
        raise SheetRefused("file", "not an XLSX workbook (not a zip file)") from e
    from openpyxl import load_workbook

    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as e:  # openpyxl raises many kinds for a broken workbook
        raise SheetRefused("file", f"not a readable XLSX workbook ({type(e).__name__})") from e
    try:
        ws = wb.worksheets[0]
        lines = []
        for line in ws.iter_rows(values_only=True):
            lines.append(line)
            if len(lines) > MAX_ROWS + 1:
                raise SheetRefused("file", f"more than {MAX_ROWS:,} rows")
    finally:
        wb.close()
    return _rows(lines, names, required)


def read_sheet(data: bytes, names: Mapping[str, str], required: Sequence[str], encoding: str | None = None) -> Sheet:
    """CSV or XLSX by content (an XLSX is a zip: it starts with PK), whatever the file is called.
    `encoding` is the CSV's, declared (an XLSX workbook names its own: it is not asked for)."""
    if data[:2] == b"PK":
        try:
            enc.canonical(encoding)  # a bad name is refused whatever the file
        except enc.EncodingRefused as e:
            raise SheetRefused(e.field, e.reason) from None
        return read_xlsx(data, names, required)
    return read_csv(data, names, required, encoding)

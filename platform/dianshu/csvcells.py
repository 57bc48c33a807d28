"""CSV cells that a spreadsheet will not run: every CSV the platform writes for people goes
through `writer` (errors.csv, comparisons, statements, the city overview).

A cell that starts with = + - @ (or tab, CR, LF) is a formula to Excel and LibreOffice (CSV
injection, OWASP): such a cell is written with a leading single quote, which the spreadsheet
shows as text. A cell that reads as a plain number (-12.50, +3) is left alone, as OWASP allows:
negative amounts in a statement stay numbers, and "-12.50" cannot run anything. Files meant to be
read back by a program (the synthetic city's input files) use the csv module directly."""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")
_NUMBER = re.compile(r"^[+-]?\d+(\.\d+)?$", re.ASCII)


def safe_cell(value: Any) -> Any:
    """The value as a spreadsheet-safe cell: numbers as they are, text quoted when it would start a formula."""
    if value is None:
        return ""
    if isinstance(value, int | Decimal) and not isinstance(value, bool):
        return value
    text = str(value)
    if text.startswith(FORMULA_START) and not _NUMBER.match(text):
        return "'" + text
    return text


class SafeWriter:
    """csv.writer with every cell passed through safe_cell."""

    def __init__(self, f: Any, **kwargs: Any) -> None:
        self._w = csv.writer(f, **kwargs)

    def writerow(self, row: Iterable[Any]) -> Any:
        return self._w.writerow([safe_cell(c) for c in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for r in rows:
            self.writerow(r)


def writer(f: Any, **kwargs: Any) -> SafeWriter:
    return SafeWriter(f, **kwargs)

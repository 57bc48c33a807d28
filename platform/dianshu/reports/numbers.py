"""Figures as people read them, by Babel: zh-CN by default (English with lang=en), money in 元 to the
fen with thousands separators, points and point values to the places settlement keeps them
(dianshu.settlement.places), dates and times in Asia/Shanghai
without microseconds. A value already at its places is shown as it is (no second rounding)."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from babel.dates import format_date, format_datetime, format_skeleton
from babel.numbers import format_decimal

from dianshu.reports.labels import text
from dianshu.settlement.places import FEN, POINT, PV_SHOWN
from dianshu.tabular.write import SHANGHAI, Column, Kind, Lang

MONEY_PLACES = -FEN.as_tuple().exponent  # 2
POINT_PLACES = -POINT.as_tuple().exponent  # 4
PV_PLACES = -PV_SHOWN.as_tuple().exponent  # 6
LOCALES = {Lang.zh: "zh_CN", Lang.en: "en"}


def _decimal(value: Any) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(str(value))


def month_date(value: Any) -> datetime.date:
    """'2025-04' (or a date) as the month's first day."""
    if isinstance(value, datetime.date):
        return value.replace(day=1)
    y, m = str(value).split("-")[:2]
    return datetime.date(int(y), int(m), 1)


class Formatter:
    def __init__(self, lang: Lang = Lang.zh) -> None:
        self.lang, self.locale = lang, LOCALES[lang]

    def number(self, value: Any, places: int) -> str:
        if value is None or value == "":
            return text("none", self.lang)
        pattern = "#,##0" + ("." + "0" * places if places else "")
        return format_decimal(_decimal(value), format=pattern, locale=self.locale)

    def count(self, value: Any) -> str:
        return self.number(value, 0)

    def money(self, value: Any, unit: bool = True) -> str:
        shown = self.number(value, MONEY_PLACES)
        return f"{shown} {text('unit.yuan', self.lang)}" if unit and value not in (None, "") else shown

    def points(self, value: Any) -> str:
        return self.number(value, POINT_PLACES)

    def pv(self, value: Any, unit: bool = True) -> str:
        shown = self.number(value, PV_PLACES)
        return f"{shown} {text('unit.yuan_per_point', self.lang)}" if unit and value not in (None, "") else shown

    def date(self, value: datetime.date) -> str:
        return format_date(value, "long", locale=self.locale)

    def month(self, value: Any) -> str:
        return format_skeleton("yMMM", month_date(value), locale=self.locale)

    def month_short(self, value: Any) -> str:
        """The month alone (4月, Apr): chart ticks under a title that names the year."""
        return format_skeleton("MMM", month_date(value), locale=self.locale)

    def when(self, value: datetime.datetime | str | None) -> str:
        """A moment in Asia/Shanghai to the second (a naive value is taken as UTC)."""
        if value is None:
            return text("none", self.lang)
        if isinstance(value, str):
            value = datetime.datetime.fromisoformat(value)
        if value.tzinfo is None:
            value = value.replace(tzinfo=datetime.UTC)
        return format_datetime(value.replace(microsecond=0), "medium", tzinfo=SHANGHAI, locale=self.locale)

    def cell(self, value: Any, column: Column) -> str:
        """A table cell as the page shows it, by its column's kind."""
        if value is None or value == "":
            return text("none", self.lang)
        if column.kind is Kind.money:
            return self.money(value, unit=False)
        if column.kind is Kind.count:
            return self.count(value)
        if column.kind is Kind.decimal:
            return self.number(value, column.places if column.places is not None else POINT_PLACES)
        if column.kind is Kind.month:
            return self.month(value)
        if column.kind is Kind.date:
            return self.date(value)
        return str(value)

"""How the portal shows figures and names the API's enum values, in the request's language
(dianshu_graphql.language; Chinese by default): one home with the reports, the Formatter
(dianshu.reports.numbers: thousands separators, money to the fen with 元, times in Asia/Shanghai)
and the message catalogue (dianshu.reports.labels). The API answers Decimals as strings; they are
formatted from Decimal, never through float."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from dianshu.reports.labels import MESSAGES, text
from dianshu.reports.numbers import Formatter
from dianshu.tabular.write import SHANGHAI, Lang
from dianshu_graphql.language import current

BEIJING = SHANGHAI  # one home for the zone: dianshu.tabular.write
DASH = text("none", Lang.zh)  # the same in both languages
FORMATTERS = {lang: Formatter(lang) for lang in Lang}


def _fmt() -> Formatter:
    return FORMATTERS[current()]


# A template's label group -> the catalogue's prefix (the rest are the group's own name).
PREFIX: dict[str, str] = {}


def _decimal(value: object) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def number(value: object, places: int = 2) -> str:
    """1234567.8 → 1,234,567.80: zh-CN grouping, `places` fixed."""
    d = _decimal(value)
    return DASH if d is None else _fmt().number(d, places)


def money(value: object) -> str:
    """An amount in yuan: 1,234,567.80 元."""
    d = _decimal(value)
    return DASH if d is None else _fmt().money(d)


def integer(value: object) -> str:
    return number(value, 0)


def percent(value: object, places: int = 1) -> str:
    d = _decimal(value)
    return DASH if d is None else f"{number(d * 100, places)}%"


def share(value: object, places: int = 2) -> str:
    """A share the API gives already in percent (analytics: 54.3478 → 54.35%)."""
    d = _decimal(value)
    return DASH if d is None else f"{number(d, places)}%"


def when(value: object) -> str:
    """An ISO time from the API in Beijing time, to the second."""
    if not value:
        return DASH
    try:
        return _fmt().when(str(value))
    except ValueError:
        return str(value)


def label(value: object, group: str) -> str:
    """The name of an enum value in the request's language (`value | label("ledger")` in a template) from the
    catalogue; the value itself when it has none."""
    if value is None:
        return DASH
    msgid = f"{PREFIX.get(group, group)}.{value}"
    return text(msgid, current()) if msgid in MESSAGES else str(value)


FILTERS = {
    "number": number,
    "money": money,
    "integer": integer,
    "percent": percent,
    "share": share,
    "when": when,
    "label": label,
}

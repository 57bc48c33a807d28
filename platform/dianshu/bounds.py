"""The plausible range of every kind of input value, in one place: years, months, hospital levels,
decimals and money, text lengths, characters. Each check returns None or the reason it refuses, so
the API, the jobs and the file readers say the same thing about the same value."""

from __future__ import annotations

import re
from decimal import Decimal

YEAR_MIN, YEAR_MAX = 2000, 2100
MONTH_MIN, MONTH_MAX = 1, 12
HOSPITAL_LEVELS = (1, 2, 3)  # 一级 / 二级 / 三级

# Decimals: money and points stay far below 10^12 (a city's yearly fund is ~10^10 yuan); money has
# at most 2 places (fen), other decimals (rates, coefficients, points) at most 6.
DECIMAL_MAX_ABS = Decimal(10) ** 12
DECIMAL_MAX_PLACES = 6
MONEY_PLACES = 2

# Text: free text (reasons, requests, comments, names, labels) and every other string (codes, ids,
# keys, cursors, filters).
TEXT_MAX_CHARS = 2000
STRING_MAX_CHARS = 256

# C0 controls except tab/newline/carriage return, DEL, and lone surrogates (which PostgreSQL and
# UTF-8 cannot store): never meaningful in any input.
_BAD_CHAR = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")


def year_reason(value: object) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int):
        return "must be a whole number"
    if not YEAR_MIN <= value <= YEAR_MAX:
        return f"must be a year from {YEAR_MIN} to {YEAR_MAX} (got {value})"
    return None


def month_reason(value: object) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int):
        return "must be a whole number"
    if not MONTH_MIN <= value <= MONTH_MAX:
        return f"must be a month from {MONTH_MIN} to {MONTH_MAX} (got {value})"
    return None


def year_month_reason(value: object) -> str | None:
    """A month as 'YYYY-MM' with a plausible year."""
    if not isinstance(value, str) or not re.fullmatch(r"\d{4}-\d{2}", value):
        return f"must be a month as YYYY-MM (got {value!r})"
    return year_reason(int(value[:4])) or month_reason(int(value[5:]))


def level_reason(value: object) -> str | None:
    if value not in HOSPITAL_LEVELS or isinstance(value, bool):
        return f"must be a hospital level, one of {', '.join(map(str, HOSPITAL_LEVELS))} (got {value!r})"
    return None


def decimal_reason(value: Decimal, places: int = DECIMAL_MAX_PLACES) -> str | None:
    if not value.is_finite():
        return f"must be a finite decimal (got {value})"
    if abs(value) >= DECIMAL_MAX_ABS:
        return f"must be below {DECIMAL_MAX_ABS:,} in size"
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and -exponent > places:
        return f"must have at most {places} decimal places (got {value})"
    return None


def money_reason(value: Decimal) -> str | None:
    return decimal_reason(value, MONEY_PLACES)


def text_reason(value: str, max_chars: int) -> str | None:
    if m := _BAD_CHAR.search(value):
        return f"must not contain control characters (U+{ord(m.group()):04X} at position {m.start()})"
    if len(value) > max_chars:
        return f"must be at most {max_chars} characters (got {len(value)})"
    return None

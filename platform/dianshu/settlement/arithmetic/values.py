"""Reading a decimal from an API or a file: strings or integers, never floats (money must not pass
through binary floating point), finite."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any


def parse_decimal(value: Any) -> Decimal:
    """The value as a Decimal, or ValueError saying why not."""
    if isinstance(value, float | bool):
        raise ValueError(f"decimals travel as strings, not {type(value).__name__} ({value!r})")
    try:
        d = Decimal(str(value))
    except InvalidOperation:
        raise ValueError(f"{value!r} is not a decimal") from None
    if not d.is_finite():
        raise ValueError(f"{value!r} is not a decimal")
    return d

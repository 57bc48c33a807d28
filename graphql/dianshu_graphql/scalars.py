"""The Decimal scalar as this API reads it: money, points and ratios travel as strings ("0.05") or
whole numbers, never as floats. A JSON float is already binary (0.1 + 0.2 arrives as
0.30000000000000004): reading it as a decimal would change what the client meant without a word,
so it is refused, in a variable and as a literal alike. Ranges, places and NaN are the argument
guard's (guards.py, dianshu.bounds), refused there as typed errors naming the field."""

from __future__ import annotations

import decimal
from typing import Any

import strawberry
from strawberry.exceptions import StrawberryInputCoercionError
from strawberry.schema.types.base_scalars import DecimalDefinition


def parse_decimal(value: Any) -> decimal.Decimal:
    if type(value) is str:
        try:
            return decimal.Decimal(value)
        except decimal.DecimalException:
            raise StrawberryInputCoercionError(f'Value cannot represent a Decimal: "{value[:40]}".') from None
    if type(value) is int:
        return decimal.Decimal(value)
    kind = "a float" if type(value) is float else f"a {type(value).__name__}"
    raise StrawberryInputCoercionError(
        f"Value cannot represent a Decimal: decimals travel as strings, not {kind} ({value})"
    )


Decimal = strawberry.scalar(
    name="Decimal",
    description=(
        'A decimal number as a string ("1234.50", "0.05") or a whole number; never a float. Money '
        "is in yuan with at most 2 places, points and ratios with the places their fields say."
    ),
    serialize=DecimalDefinition.serialize,
    parse_value=parse_decimal,
)

SCALAR_MAP: dict[object, Any] = {decimal.Decimal: Decimal}

"""The places settlement keeps its figures to: money to the fen, points to 4 places, a point value
shown to 6 (it is kept unrounded in the arithmetic). Constants only: the arithmetic rounds to them,
and the reports show figures to them, without either importing the other."""

from __future__ import annotations

from decimal import Decimal

FEN = Decimal("0.01")
POINT = Decimal("0.0001")
PV_SHOWN = Decimal("0.000001")

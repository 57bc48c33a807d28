"""Rounding of money (to the fen) and points (to 4 places), by the policy's `rounding` parameter:
half_up (四舍五入, SPEC's default), half_even or down. The settlement functions that take a policy
set the mode for their work (`with rounding(policy)`); everything else rounds half-up."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from decimal import ROUND_DOWN, ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal
from typing import Any

from dianshu.settlement.places import FEN, POINT

MODES = {"half_up": ROUND_HALF_UP, "half_even": ROUND_HALF_EVEN, "down": ROUND_DOWN}

_mode: ContextVar[str] = ContextVar("dianshu_rounding", default=ROUND_HALF_UP)


@contextmanager
def rounding(policy: Any) -> Iterator[None]:
    token = _mode.set(MODES[policy.rounding])
    try:
        yield
    finally:
        _mode.reset(token)


def fen(x: Decimal) -> Decimal:
    return x.quantize(FEN, _mode.get())


def q4(x: Decimal) -> Decimal:
    return x.quantize(POINT, _mode.get())


def money(x: Decimal, policy: Any) -> Decimal:
    """To the fen by the policy's rounding (for code that is not inside `rounding(policy)`)."""
    return x.quantize(FEN, MODES[policy.rounding])

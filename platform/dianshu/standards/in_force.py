"""The payment standard in force: one rule, one home. A city's standard is in force on a day when it
is published and the day falls in [effective_from, effective_to) (no end date: open-ended); of
several, the one that took effect last."""

from __future__ import annotations

import datetime
from typing import Any

from sqlalchemy import Select, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from dianshu.standards.models import PaymentStandard


def in_force(city: str, on: datetime.date, *columns: Any) -> Select[Any]:
    """The query for the standard in force (the row, or `columns` of it)."""
    return (
        select(*(columns or (PaymentStandard,)))
        .where(
            PaymentStandard.city_code == city,
            PaymentStandard.status == "published",
            PaymentStandard.effective_from <= on,
            or_(PaymentStandard.effective_to.is_(None), PaymentStandard.effective_to > on),
        )
        .order_by(PaymentStandard.effective_from.desc())
        .limit(1)
    )


async def standard_in_force(session: AsyncSession, city: str, on: datetime.date) -> PaymentStandard | None:
    return (await session.execute(in_force(city, on))).scalar_one_or_none()

"""The payment standard in force: one rule, one home. A city's standard is in force on a day when it
is published and the day falls in [effective_from, effective_to) (no end date: open-ended); of
several, the one that took effect last."""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from dianshu.standards.models import DrgSchemeVersion, PaymentStandard


def in_force(city: str | Sequence[str], on: datetime.date, *columns: Any) -> Select[Any]:
    """The query for the standard in force in a city (or the newest of several cities'): the row,
    or `columns` of it."""
    return (
        select(*(columns or (PaymentStandard,)))
        .where(
            PaymentStandard.city_code == city if isinstance(city, str) else PaymentStandard.city_code.in_(city),
            PaymentStandard.status == "published",
            PaymentStandard.effective_from <= on,
            or_(PaymentStandard.effective_to.is_(None), PaymentStandard.effective_to > on),
        )
        .order_by(PaymentStandard.effective_from.desc())
        .limit(1)
    )


async def standard_in_force(session: AsyncSession, city: str, on: datetime.date) -> PaymentStandard | None:
    return (await session.execute(in_force(city, on))).scalar_one_or_none()


def version_in_force(scheme: str, on: datetime.date) -> Select[Any]:
    """The query for a scheme's published version in force on `on` (the same rule for versions:
    published, `on` in [effective_from, effective_to), the newest of several)."""
    return (
        select(DrgSchemeVersion)
        .where(
            DrgSchemeVersion.scheme_code == scheme,
            DrgSchemeVersion.status == "published",
            DrgSchemeVersion.effective_from <= on,
            or_(DrgSchemeVersion.effective_to.is_(None), DrgSchemeVersion.effective_to > on),
        )
        .order_by(DrgSchemeVersion.effective_from.desc())
        .limit(1)
    )

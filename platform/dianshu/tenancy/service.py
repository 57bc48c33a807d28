"""Reading and writing hospitals. Every query runs in a session whose transaction carries the
caller's scope, so row-level security decides what exists; the explicit filters here are for
what the caller asked, not for security."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import func, literal_column, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from dianshu.tenancy.codes import hospital_code_problem
from dianshu.tenancy.models import HOSPITAL_LEVELS, HOSPITAL_TYPES, Hospital, Tenant


@dataclass(frozen=True)
class FieldError:
    """One refused input: which record, which field, why."""

    record: str
    field: str
    reason: str

    def __str__(self) -> str:
        return f"{self.record}: {self.field}: {self.reason}"


class ValidationFailed(Exception):
    def __init__(self, errors: Sequence[FieldError]) -> None:
        self.errors = list(errors)
        super().__init__("; ".join(str(e) for e in self.errors[:10]))


async def list_tenants(session: AsyncSession, visible: Sequence[str]) -> list[Tenant]:
    rows = await session.execute(select(Tenant).where(Tenant.code.in_(list(visible))).order_by(Tenant.code))
    return list(rows.scalars())


async def list_hospitals(
    session: AsyncSession,
    *,
    tenant_id: str | None = None,
    level: int | None = None,
    type: str | None = None,
    after: tuple[str, str] | None = None,
    limit: int = 50,
) -> list[Hospital]:
    """Keyset page of hospitals ordered by (tenant, code)."""
    q = select(Hospital).order_by(Hospital.tenant_id, Hospital.id).limit(limit)
    if tenant_id is not None:
        q = q.where(Hospital.tenant_id == tenant_id)
    if level is not None:
        q = q.where(Hospital.level == level)
    if type is not None:
        q = q.where(Hospital.type == type)
    if after is not None:
        from sqlalchemy import tuple_

        q = q.where(tuple_(Hospital.tenant_id, Hospital.id) > tuple_(*after))
    return list((await session.execute(q)).scalars())


async def get_hospitals(session: AsyncSession, keys: Sequence[tuple[str, str]]) -> dict[tuple[str, str], Hospital]:
    if not keys:
        return {}
    from sqlalchemy import tuple_

    rows = await session.execute(select(Hospital).where(tuple_(Hospital.tenant_id, Hospital.id).in_(list(keys))))
    return {(h.tenant_id, h.id): h for h in rows.scalars()}


def validate_roster(
    tenant_id: str, rows: Sequence[dict[str, Any]], *, code_pattern: str | None = None
) -> list[dict[str, Any]]:
    """Check a roster of hospitals; returns clean rows or raises ValidationFailed naming each bad
    record (by position and code), field and reason. Nothing is changed silently. A code must have
    its city's hospital-code shape (settings hospital_code_pattern / hospital_code_patterns) and this
    region's division."""
    if code_pattern is None:
        from dianshu.config import get_settings

        code_pattern = get_settings().hospital_code_pattern_for(tenant_id)
    errors: list[FieldError] = []
    clean: list[dict[str, Any]] = []
    seen: set[str] = set()
    for i, row in enumerate(rows, start=1):
        code = str(row.get("id") or row.get("code") or "").strip()
        rec = f"hospital #{i}" + (f" ({code})" if code else "")
        if not code:
            errors.append(FieldError(rec, "code", "required"))
        elif len(code) > 20:
            errors.append(FieldError(rec, "code", "longer than 20 characters"))
        elif (problem := hospital_code_problem(code, tenant_id, code_pattern)) is not None:
            errors.append(FieldError(rec, "code", problem))
        elif code in seen:
            errors.append(FieldError(rec, "code", "appears twice in this roster"))
        seen.add(code)
        name = str(row.get("name") or "").strip()
        if not name:
            errors.append(FieldError(rec, "name", "required"))
        level = row.get("level")
        if level not in HOSPITAL_LEVELS:
            errors.append(FieldError(rec, "level", f"must be one of 1, 2, 3 (got {level!r})"))
        htype = row.get("type")
        if htype not in HOSPITAL_TYPES:
            errors.append(FieldError(rec, "type", f"must be one of {', '.join(HOSPITAL_TYPES)} (got {htype!r})"))
        raw_coef = row.get("coefficient", "1.0")
        try:
            coef = Decimal(str(raw_coef))
            if not coef.is_finite() or coef <= 0 or coef.as_tuple().exponent < -4:  # type: ignore[operator]
                raise InvalidOperation
        except (InvalidOperation, ValueError):
            errors.append(
                FieldError(rec, "coefficient", f"must be a positive decimal with at most 4 places (got {raw_coef!r})")
            )
            coef = Decimal(1)
        alliance = row.get("alliance_id") or row.get("allianceId")
        clean.append(
            {
                "tenant_id": tenant_id,
                "id": code,
                "name": name,
                "level": level,
                "type": htype,
                "coefficient": coef,
                "alliance_id": alliance,
            }
        )
    if errors:
        raise ValidationFailed(errors)
    return clean


async def upsert_hospitals(session: AsyncSession, rows: list[dict[str, Any]]) -> tuple[int, int]:
    """Insert or update hospitals; returns (inserted, updated). Re-sending the same roster
    changes nothing (updates only rows whose values differ)."""
    if not rows:
        return 0, 0
    stmt = insert(Hospital).values(rows)
    excluded = stmt.excluded
    changed = (
        (Hospital.name != excluded.name)
        | (Hospital.level != excluded.level)
        | (Hospital.type != excluded.type)
        | (Hospital.coefficient != excluded.coefficient)
        | (Hospital.alliance_id.is_distinct_from(excluded.alliance_id))
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=["tenant_id", "id"],
        set_={
            "name": excluded.name,
            "level": excluded.level,
            "type": excluded.type,
            "coefficient": excluded.coefficient,
            "alliance_id": excluded.alliance_id,
            "updated_at": func.now(),
        },
        where=changed,
    ).returning(Hospital.id, literal_column("(xmax = 0)").label("inserted"))
    result = (await session.execute(stmt)).all()
    inserted = sum(1 for r in result if r.inserted)
    return inserted, len(result) - inserted


async def parent_city(session: AsyncSession, tenant: str) -> str | None:
    """The city a region belongs to (None for a city or an unknown tenant)."""
    return (await session.execute(select(Tenant.parent_code).where(Tenant.code == tenant))).scalar_one_or_none()

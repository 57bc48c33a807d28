"""Entered indicator values (SPEC section 8: what does not come from the case data: satisfaction
surveys, complaints, audit samples, clinical-pathway rates, training coverage until training records
exist), per hospital and year, with who entered them.

Only an indicator of the catalogue in force for the year whose source is `entered` or `training` is
entered. The value is a strict decimal (never a float), at most 4 places, in its unit's range:
percent and score 0–100; a count a whole number >= 0. E02 (complaints per 1000 discharges, unit
per_mille) is entered as the COUNT of complaints in the year, a whole number >= 0: the per-1000
figure is computed at scoring from the hospital's cases that year (count / cases × 1000).

The bureau enters (region_admin for its region, city_admin for any of its regions), never a hospital.
Entering the same value (and note) again writes nothing and audits nothing; a changed value updates
the row and audits old -> new."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from dianshu.audit import service as audit
from dianshu.errors import Refused
from dianshu.evaluation.catalogue import Indicator
from dianshu.evaluation.models import EvaluationEntry
from dianshu.evaluation.versions import MAX_YEAR, MIN_YEAR, CatalogueVersionRefused, catalogue_in_force
from dianshu.scope import Role, Scope

# Who may enter values: the bureaus' administrators (system: jobs, the demo).
ENTERERS = (Role.city_admin, Role.region_admin, Role.system)
PLACES = 4  # indicator values: 4 decimal places
LIMIT = Decimal(10) ** 10  # what numeric(14, 4) holds
NOTE_MAX = 1000
# Units whose entered value is a count of events in the year (E02: the complaints, not per 1000).
COUNTED_UNITS = ("count", "per_mille")
HUNDRED_UNITS = ("percent", "score")


class EntryRefused(Refused):
    """An entered value refused: record "entry <hospital>/<year>/<code>"."""


@dataclass(frozen=True)
class Entered:
    entry: EvaluationEntry
    changed: bool  # False: the same value (and note) was already entered: nothing written


def entered_meaning(indicator: Indicator) -> str:
    """What the entered value of an indicator is, in words (for the API's descriptions and errors)."""
    if indicator.unit == "per_mille":
        return "the count of events in the year (a whole number >= 0); per 1000 cases is computed at scoring"
    if indicator.unit == "count":
        return "a whole number >= 0"
    if indicator.unit in HUNDRED_UNITS:
        return f"a {indicator.unit} from 0 to 100"
    return f"a {indicator.unit} >= 0"


def check_value(indicator: Indicator, value: Any, record: str) -> Decimal:
    """The value as a Decimal in the indicator's range, or EntryRefused naming field `value`."""
    if isinstance(value, bool) or not isinstance(value, Decimal | int | str):
        raise EntryRefused(record, "value", f"a decimal as a string or an integer, never {type(value).__name__}")
    try:
        v = Decimal(value.strip() if isinstance(value, str) else value)
    except ArithmeticError:
        raise EntryRefused(record, "value", f"{str(value)[:40]!r} is not a decimal") from None
    if not v.is_finite():
        raise EntryRefused(record, "value", f"{str(value)[:40]!r} is not a decimal")
    if v < 0 or v >= LIMIT:
        raise EntryRefused(record, "value", f"must be {entered_meaning(indicator)} (got {v})")
    exponent = v.as_tuple().exponent
    if isinstance(exponent, int) and -exponent > PLACES and v != v.quantize(Decimal(1).scaleb(-PLACES)):
        raise EntryRefused(record, "value", f"at most {PLACES} decimal places (got {v})")
    if indicator.unit in HUNDRED_UNITS and v > 100:
        raise EntryRefused(record, "value", f"must be {entered_meaning(indicator)} (got {v})")
    if indicator.unit in COUNTED_UNITS and v != v.to_integral_value():
        raise EntryRefused(record, "value", f"must be {entered_meaning(indicator)} (got {v})")
    return v


async def enterable(session: AsyncSession, year: int, code: str, record: str) -> Indicator:
    """The indicator `code` of the catalogue in force for `year`, if it is one that is entered."""
    if isinstance(year, bool) or not isinstance(year, int) or not MIN_YEAR <= year <= MAX_YEAR:
        raise EntryRefused(record, "year", f"must be a year from {MIN_YEAR} to {MAX_YEAR} (got {year!r})")
    try:
        _, label, catalogue = await catalogue_in_force(session, year)
    except CatalogueVersionRefused as e:
        raise EntryRefused(record, "year", e.reason, kind="not_found") from None
    indicator = catalogue.by_code().get(code)
    if indicator is None:
        raise EntryRefused(record, "code", f"{code[:20]!r} is not an indicator of the catalogue {label}")
    if not indicator.entered:
        raise EntryRefused(
            record, "code", f"{code} is computed from the data (source {indicator.source}): it is not entered"
        )
    return indicator


async def enter_indicator(
    session: AsyncSession,
    scope: Scope,
    tenant: str,
    hospital: str,
    year: int,
    code: str,
    value: Any,
    note: str = "",
) -> Entered:
    """Enter (or correct) a hospital's value of an entered indicator for a year (see the module)."""
    record = f"entry {str(hospital)[:20]}/{year}/{str(code)[:20]}"
    if scope.role not in ENTERERS:
        raise PermissionError(f"role {scope.role.value} may not enter indicator values (the bureau enters them)")
    if not scope.sees_tenant(tenant):
        raise PermissionError(f"tenant {tenant} is outside your scope")
    indicator = await enterable(session, year, code, record)
    v = check_value(indicator, value, record)
    if not isinstance(note, str) or len(note) > NOTE_MAX:
        raise EntryRefused(record, "note", f"text of at most {NOTE_MAX} characters")
    note = note.strip()
    known = (
        await session.execute(
            text("select 1 from hospital where tenant_id = :t and id = :h"), {"t": tenant, "h": hospital}
        )
    ).first()
    if known is None:
        raise EntryRefused(record, "hospital", f"not a hospital of {tenant}")

    E = EvaluationEntry
    key = (E.tenant_id == tenant, E.hospital_id == hospital, E.year == year, E.code == code)
    inserted = await session.execute(
        insert(E)
        .values(
            tenant_id=tenant, hospital_id=hospital, year=year, code=code, value=v, note=note, entered_by=scope.actor
        )
        .on_conflict_do_nothing(index_elements=["tenant_id", "hospital_id", "year", "code"])
        .returning(E.value)
    )
    if inserted.first() is not None:
        await audit.record(
            session, scope, tenant, "evaluation.entered", f"entry:{hospital}/{year}/{code}",
            hospital_id=hospital, old=None, new=str(v), note=note,
        )  # fmt: skip
        return Entered((await session.execute(select(E).where(*key))).scalar_one(), True)
    # There: lock it (a concurrent correction waits) and change it only if something differs.
    row = (await session.execute(select(E).where(*key).with_for_update())).scalar_one()
    if row.value == v and row.note == note:
        return Entered(row, False)
    old_value, old_note = row.value, row.note
    await session.execute(
        text(
            "update evaluation_entry set value = :v, note = :n, entered_by = :by, entered_at = now()"
            " where tenant_id = :t and hospital_id = :h and year = :y and code = :c"
        ),
        {"v": v, "n": note, "by": scope.actor, "t": tenant, "h": hospital, "y": year, "c": code},
    )
    await session.refresh(row)
    await audit.record(
        session, scope, tenant, "evaluation.entered", f"entry:{hospital}/{year}/{code}",
        hospital_id=hospital, old=str(old_value), new=str(v),
        **({"old_note": old_note, "note": note} if old_note != note else {}),
    )  # fmt: skip
    return Entered(row, True)


async def entered_values(session: AsyncSession, tenants: Sequence[str], year: int) -> dict[tuple[str, str], Decimal]:
    """(hospital_id, indicator code) -> the entered value, for the hospitals of `tenants` visible to
    the session's scope (row-level security)."""
    E = EvaluationEntry
    rows = await session.execute(
        select(E.hospital_id, E.code, E.value).where(E.tenant_id.in_(list(tenants)), E.year == year)
    )
    return {(h, c): v for h, c, v in rows}


def entries_query(year: int, tenant: str | None = None, hospital: str | None = None, code: str | None = None):
    """The entries of a year (visible ones: row-level security), by tenant, hospital and code."""
    E = EvaluationEntry
    q = select(E).where(E.year == year).order_by(E.tenant_id, E.hospital_id, E.code)
    if tenant is not None:
        q = q.where(E.tenant_id == tenant)
    if hospital is not None:
        q = q.where(E.hospital_id == hospital)
    if code is not None:
        q = q.where(E.code == code)
    return q

"""Saving training records: courses, sessions, people and attendance, each checked strictly, safe to
retry and audited.

Who writes: the bureau (city_admin for any of its regions, region_admin for its region; system for
jobs and the demo) saves courses and sessions; people and attendance also a hospital (hospital_user),
for its own hospital only (row-level security checks it again on every row written). Records are
kept in the region (the hospitals' tenant): a city-organised session is saved, with level city, in
each region whose people attend it.

Retry safety: every record has a natural key (a course's code, a session's code, a person's
pseudonymised id, attendance by session and person). Saving what is already there writes nothing and
audits nothing; a change updates the row and audits old -> new (only the fields that changed).

People are pseudonymised: `person_id` is the hospital's or bureau's own pseudonymous code (4 to 64
letters, digits, `_`, `.`, `-`), never a name or an ID-card or phone number (such shapes are refused).
A person never changes hospital (the attendance rows carry it): one who moves is registered anew.
People are registered only here (the declared roster): an attendance line never registers anyone."""

from __future__ import annotations

import datetime
import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from dianshu import bounds
from dianshu.audit import service as audit
from dianshu.errors import Refused
from dianshu.scope import Role, Scope
from dianshu.tenancy.service import parent_city
from dianshu.training.models import LEVELS, ROLES, TOPICS, TrainingCourse, TrainingPerson, TrainingSession

# The bureau's writers (courses and sessions) and who may also save people and attendance.
BUREAU_WRITERS = (Role.city_admin, Role.region_admin, Role.system)
PEOPLE_WRITERS = (*BUREAU_WRITERS, Role.hospital_user)

TOPIC_ZH = {"policy": "DRG政策", "coding": "病案编码", "settlement_list": "结算清单填写", "tool_use": "工具使用"}
LEVEL_ZH = {"city": "市级", "region": "区级", "hospital": "院级"}
ROLE_ZH = {"coder": "编码员", "physician": "医师", "bureau_staff": "医保经办人员"}

CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,29}")
PERSON = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{3,63}")
# What a pseudonymised id must never be: a resident ID-card number (15 or 18 characters) or a mobile.
ID_CARD = re.compile(r"\d{15}|\d{17}[\dXx]")
MOBILE = re.compile(r"1\d{10}")
TITLE_MAX = 200
TRAINER_MAX = 100
HOURS_MAX = Decimal(24)
SCORE_MAX = Decimal(100)
# Neutral: whether another hospital holds the id is not this hospital's to know.
NOT_AVAILABLE = "this id is not available to you: choose another"


class TrainingRefused(Refused):
    """A training record refused: record "course <code>", "session <code>", "person <id>", "row <n>"."""


class TrainingForbidden(PermissionError):
    """The caller may not write this record (its role, or another hospital's person)."""


@dataclass(frozen=True)
class Saved:
    row: Any
    changed: bool  # False: the same content was already there: nothing written, nothing audited


# ---- strict values ----------------------------------------------------------------------------------


def _str(value: Any, record: str, field: str) -> str:
    if type(value) is not str:
        raise TrainingRefused(record, field, f"must be text, not {type(value).__name__}")
    return value.strip()


def check_code(value: Any, record: str, field: str = "code") -> str:
    v = _str(value, record, field)
    if not CODE.fullmatch(v):
        raise TrainingRefused(record, field, f"must be a code of 1 to 30 letters, digits, _ . - (got {v[:40]!r})")
    return v


def person_reason(value: Any) -> str | None:
    if type(value) is not str:
        return f"must be text, not {type(value).__name__}"
    v = value.strip()
    if not PERSON.fullmatch(v):
        return f"must be a pseudonymised id of 4 to 64 letters, digits, _ . - (never a name; got {v[:40]!r})"
    if ID_CARD.fullmatch(v) or MOBILE.fullmatch(v):
        return "looks like an ID-card or phone number: give the pseudonymised id, never the person's own numbers"
    return None


def check_person_id(value: Any, record: str, field: str = "personId") -> str:
    if (reason := person_reason(value)) is not None:
        raise TrainingRefused(record, field, reason)
    return value.strip()


def _text(value: Any, record: str, field: str, limit: int) -> str:
    v = _str(value, record, field)
    if not v:
        raise TrainingRefused(record, field, "required")
    if (reason := bounds.text_reason(v, limit)) is not None:
        raise TrainingRefused(record, field, reason)
    return v


def _one_of(value: Any, allowed: tuple[str, ...], labels: dict[str, str], record: str, field: str) -> str:
    """A code of `allowed`, given as the code or its Chinese label (as a spreadsheet has it)."""
    if type(value) is str:
        v = value.strip()
        if v in allowed:
            return v
        for code, zh in labels.items():
            if v == zh:
                return code
    shown = ", ".join(f"{a} ({labels[a]})" for a in allowed)
    raise TrainingRefused(record, field, f"must be one of {shown} (got {str(value)[:40]!r})")


def decimal_of(value: Any, record: str, field: str, places: int, low: Decimal, high: Decimal, *, zero: bool) -> Decimal:
    """A strict decimal (a Decimal, an int or decimal text; never a float) in [low, high] (low
    excluded unless `zero`) with at most `places` places."""
    if isinstance(value, bool) or not isinstance(value, Decimal | int | str):
        raise TrainingRefused(
            record, field, f"must be a decimal (as text) or a whole number, not {type(value).__name__}"
        )
    try:
        v = Decimal(value.strip() if isinstance(value, str) else value)
    except ArithmeticError:
        raise TrainingRefused(record, field, f"{str(value)[:40]!r} is not a decimal") from None
    if not v.is_finite():
        raise TrainingRefused(record, field, f"{str(value)[:40]!r} is not a decimal")
    if v < low or (v == low and not zero) or v > high:
        bound = "from" if zero else "above"
        raise TrainingRefused(record, field, f"must be {bound} {low} to {high} (got {v})")
    exponent = v.as_tuple().exponent
    if isinstance(exponent, int) and -exponent > places and v != v.quantize(Decimal(1).scaleb(-places)):
        raise TrainingRefused(record, field, f"at most {places} decimal place(s) (got {v})")
    return v.quantize(Decimal(1).scaleb(-places)) if places else v.to_integral_value()


def check_score(value: Any, record: str, field: str = "score") -> Decimal:
    return decimal_of(value, record, field, 2, Decimal(0), SCORE_MAX, zero=True)


def check_date(value: Any, record: str, field: str) -> datetime.date:
    if isinstance(value, str):
        try:
            value = datetime.date.fromisoformat(value.strip())
        except ValueError:
            raise TrainingRefused(record, field, f"must be a date YYYY-MM-DD (got {value[:40]!r})") from None
    if isinstance(value, datetime.datetime) or not isinstance(value, datetime.date):
        raise TrainingRefused(record, field, "must be a date YYYY-MM-DD")
    if (reason := bounds.year_reason(value.year)) is not None:
        raise TrainingRefused(record, field, reason)
    return value


# ---- scope ------------------------------------------------------------------------------------------


async def check_region(session: AsyncSession, scope: Scope, tenant: Any, record: str, writers: Sequence[Role]) -> str:
    """The tenant, when the caller may write training records in it: a region in scope."""
    if scope.role not in writers:
        raise TrainingForbidden(f"role {scope.role.value} may not save this")
    t = _str(tenant, record, "tenant")
    if not scope.sees_tenant(t):
        raise TrainingForbidden(f"tenant {t[:20]} is outside your scope")
    if await parent_city(session, t) is None:
        raise TrainingRefused(
            record, "tenant", f"{t} is not a region: training records are kept in the hospitals' region"
        )
    return t


async def hospital_known(session: AsyncSession, tenant: str, hospital: str) -> bool:
    found = await session.execute(
        text("select 1 from hospital where tenant_id = :t and id = :h"), {"t": tenant, "h": hospital}
    )
    return found.first() is not None


def _jsonable(values: dict[str, Any]) -> dict[str, Any]:
    return {k: (str(v) if isinstance(v, Decimal | datetime.date) else v) for k, v in values.items()}


async def _save(
    session: AsyncSession,
    scope: Scope,
    model: Any,
    key: dict[str, Any],
    values: dict[str, Any],
    action: str,
    target: str,
    *,
    hospital_id: str | None = None,
    fixed: dict[str, str] | None = None,
) -> Saved | None:
    """Insert the row, or change what differs; None when a row with the key exists but the scope
    cannot see it. `fixed`: column -> field name of what may not change (a change: StateConflict)."""
    inserted = await session.execute(
        insert(model).values(**key, **values, saved_by=scope.actor).on_conflict_do_nothing().returning(model.tenant_id)
    )
    where = [getattr(model, k) == v for k, v in key.items()]
    if inserted.first() is not None:
        await audit.record(
            session, scope, key["tenant_id"], action, target, hospital_id=hospital_id, old=None, new=_jsonable(values)
        )
        return Saved((await session.execute(select(model).where(*where))).scalar_one(), True)
    row = (await session.execute(select(model).where(*where).with_for_update())).scalar_one_or_none()
    if row is None:
        return None
    changed = {k: v for k, v in values.items() if getattr(row, k) != v}
    if not changed:
        return Saved(row, False)
    for column, name in (fixed or {}).items():
        if column in changed:
            raise TrainingRefused(
                target,
                name,
                f"is {getattr(row, column)!s} and cannot change (register the person anew under another id)",
                kind="state",
            )
    old = {k: getattr(row, k) for k in changed}
    await session.execute(
        update(model)
        .where(*where)
        .values(**changed, saved_by=scope.actor, saved_at=datetime.datetime.now(datetime.UTC))
    )
    await session.refresh(row)
    await audit.record(
        session,
        scope,
        key["tenant_id"],
        action,
        target,
        hospital_id=hospital_id,
        old=_jsonable(old),
        new=_jsonable(changed),
    )
    return Saved(row, True)


# ---- courses, sessions, people ----------------------------------------------------------------------


async def save_course(session: AsyncSession, scope: Scope, tenant: Any, code: Any, topic: Any, title: Any) -> Saved:
    record = f"course {str(code)[:30]}"
    t = await check_region(session, scope, tenant, record, BUREAU_WRITERS)
    c = check_code(code, record)
    values = {
        "topic": _one_of(topic, TOPICS, TOPIC_ZH, record, "topic"),
        "title": _text(title, record, "title", TITLE_MAX),
    }
    saved = await _save(session, scope, TrainingCourse, {"tenant_id": t, "code": c}, values, "training.course", record)
    assert saved is not None  # courses are tenant-wide: the bureau sees every one
    return saved


async def save_session(
    session: AsyncSession,
    scope: Scope,
    tenant: Any,
    code: Any,
    course: Any,
    held_on: Any,
    trainer: Any,
    hours: Any,
    level: Any,
    host_hospital: Any = None,
) -> Saved:
    record = f"session {str(code)[:30]}"
    t = await check_region(session, scope, tenant, record, BUREAU_WRITERS)
    c = check_code(code, record)
    course_code = check_code(course, record, "course")
    values: dict[str, Any] = {
        "course_code": course_code,
        "held_on": check_date(held_on, record, "heldOn"),
        "trainer": _text(trainer, record, "trainer", TRAINER_MAX),
        "hours": decimal_of(hours, record, "hours", 1, Decimal(0), HOURS_MAX, zero=False),
        "level": _one_of(level, LEVELS, LEVEL_ZH, record, "level"),
    }
    host = None if host_hospital is None else _str(host_hospital, record, "hostHospital") or None
    if (values["level"] == "hospital") != (host is not None):
        raise TrainingRefused(record, "hostHospital", "required for a hospital-level session, and only for one")
    if host is not None and not await hospital_known(session, t, host):
        raise TrainingRefused(record, "hostHospital", f"{host[:20]} is not a hospital of {t}", kind="not_found")
    values["host_hospital_id"] = host
    known = await session.execute(
        select(TrainingCourse.code).where(TrainingCourse.tenant_id == t, TrainingCourse.code == course_code)
    )
    if known.first() is None:
        raise TrainingRefused(record, "course", f"no course {course_code} in {t}", kind="not_found")
    saved = await _save(
        session, scope, TrainingSession, {"tenant_id": t, "code": c}, values, "training.session", record
    )
    assert saved is not None
    return saved


async def save_person(
    session: AsyncSession,
    scope: Scope,
    tenant: Any,
    person_id: Any,
    hospital: Any,
    role: Any,
    active: Any = True,
    active_from: Any = None,
    left_on: Any = None,
) -> Saved:
    """Register a person on the hospital's (or the bureau's) roster, or change their role or period.

    The period: `active_from` (given, or kept, or for a new person the registration date: today) to
    `left_on` (given; or, with `active` false and none given, kept or today; `active` true clears it).
    The roster of a year is who was on it at any time in the year (training/coverage.py)."""
    record = f"person {str(person_id)[:64]}"
    t = await check_region(session, scope, tenant, record, PEOPLE_WRITERS)
    pid = check_person_id(person_id, record)
    r = _one_of(role, ROLES, ROLE_ZH, record, "role")
    if type(active) is not bool:
        raise TrainingRefused(record, "active", "must be true or false")
    start = None if active_from is None else check_date(active_from, record, "activeFrom")
    left = None if left_on is None else check_date(left_on, record, "leftOn")
    if left is not None and active:
        raise TrainingRefused(record, "leftOn", "only with active false (a person who left)")
    h = None if hospital is None else _str(hospital, record, "hospital") or None
    if (r == "bureau_staff") != (h is None):
        raise TrainingRefused(record, "hospital", "a coder or physician has a hospital; bureau staff have none")
    if scope.hospital_id is not None and h != scope.hospital_id:
        raise TrainingForbidden(f"a hospital saves its own people only ({scope.hospital_id})")
    if h is not None and not await hospital_known(session, t, h):
        raise TrainingRefused(record, "hospital", f"{h[:20]} is not a hospital of {t}", kind="not_found")
    existing = (
        await session.execute(
            select(TrainingPerson.active_from, TrainingPerson.left_on).where(
                TrainingPerson.tenant_id == t, TrainingPerson.person_id == pid
            )
        )
    ).first()
    today = datetime.date.today()
    if start is None:
        start = existing.active_from if existing is not None else today
    if left is None and not active:
        left = existing.left_on if existing is not None and existing.left_on is not None else today
    if left is not None and left < start:
        raise TrainingRefused(record, "leftOn", f"{left} is before activeFrom {start}")
    saved = await _save(
        session,
        scope,
        TrainingPerson,
        {"tenant_id": t, "person_id": pid},
        {"hospital_id": h, "role": r, "active_from": start, "left_on": left},
        "training.person",
        record,
        hospital_id=h,
        fixed={"hospital_id": "hospital"},
    )
    if saved is None:
        raise TrainingRefused(record, "personId", NOT_AVAILABLE)
    return saved

"""Attendance (签到) and assessment scores, one or many at once: the one path of both the
recordTrainingAttendance mutation (one line) and the CSV/XLSX import (every row of a sheet).

A line names a session (its code), a person (the pseudonymised id) and, optionally, the person's
hospital and role, and the score (0–100, at most 2 places). The person must be on the roster
already (registered through saveTrainingPerson): a line for anyone else is refused ("not on the
hospital's roster: register them first"), so an attendance sheet can never make up the
denominator of coverage; the registered person's hospital and role, when given, must be the
registered ones. A withdrawn attendance is not recorded again. A hospital records
its own people only. Every line is checked on its own: a bad line is refused with its record ("row
7"), field and reason, and the good lines land.

Set-wise: the sessions, people and hospitals named are read in one statement each, the attendance
written in one statement (unnest of arrays, whatever the number of lines).
Retry-safe: a line already recorded with the same score (or with no score given) writes nothing; a
changed score is updated; a blank score never erases one. One audit entry per call that changed
something (what came in, the counts, the first changes old -> new); nothing changed, nothing audited."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from dianshu.audit import service as audit
from dianshu.errors import Refused
from dianshu.scope import Scope
from dianshu.tabular.read import SheetRefused, read_sheet
from dianshu.training.models import ROLES
from dianshu.training.service import (
    PEOPLE_WRITERS,
    ROLE_ZH,
    TrainingRefused,
    _one_of,
    _text,
    check_code,
    check_person_id,
    check_region,
    check_score,
)

# The import's columns: key -> (Chinese header, English header); session and person are required.
COLUMNS = {
    "session": ("培训场次编号", "session"),
    "person": ("人员编号", "person"),
    "hospital": ("医疗机构编码", "hospital"),
    "role": ("人员类别", "role"),
    "score": ("考核成绩", "score"),
}
REQUIRED = ("session", "person")
HEADER_NAMES = {name: key for key, names in COLUMNS.items() for name in names}
AUDITED_CHANGES = 100  # the changes listed in the audit entry (the counts are always whole)
ERRORS_SHOWN = 1000
REASON_MAX = 500
NOT_ON_ROSTER = "not on the hospital's roster: register them first (saveTrainingPerson)"


@dataclass(frozen=True)
class Line:
    record: str  # "row 7" (the spreadsheet's row), or "input"
    session: Any
    person: Any
    hospital: Any = None
    role: Any = None
    score: Any = None
    extra: str | None = None  # a cell outside the named columns
    clear_score: bool = False  # erase the recorded score (the mutation's clearScore; never a blank)


@dataclass
class Outcome:
    lines: int = 0
    recorded: int = 0  # attendance rows new
    updated: int = 0  # scores changed
    unchanged: int = 0  # already there as given: nothing written
    registered: int = 0  # always 0: an attendance line never registers anyone (kept in the answer)
    errors: list[tuple[str, str, str]] = field(default_factory=list)  # (record, field, reason)
    encoding: str | None = None  # the CSV's text encoding (utf-8 or gb18030); None for XLSX or no file
    # (session, person) -> the line's outcome, for the single-line mutation
    written: dict[tuple[str, str], str] = field(default_factory=dict)

    @property
    def refused(self) -> int:
        return len({r for r, _, _ in self.errors})


@dataclass(frozen=True)
class _Good:
    record: str
    session: str
    person: str
    hospital: str | None
    role: str | None
    score: Decimal | None
    clear: bool = False


def _parse(line: Line) -> _Good:
    r = line.record
    if line.extra:
        raise TrainingRefused(r, "row", line.extra)
    issues: list[tuple[str, str]] = []
    values: dict[str, Any] = {}
    checks = (
        ("session", lambda v: check_code(v, r, "session"), True),
        ("person", lambda v: check_person_id(v, r, "person"), True),
        ("hospital", lambda v: check_code(v, r, "hospital"), False),
        ("role", lambda v: _one_of(v, ROLES, ROLE_ZH, r, "role"), False),
        ("score", lambda v: check_score(v, r, "score"), False),
    )
    for name, check, required in checks:
        v = getattr(line, name)
        if v is None or (isinstance(v, str) and not v.strip()):
            if required:
                issues.append((name, "required"))
            values[name] = None
            continue
        try:
            values[name] = check(v)
        except Refused as e:
            issues.extend(e.issues)
    if line.clear_score is not False:
        if line.clear_score is not True:
            issues.append(("clearScore", "must be true or false"))
        elif values.get("score") is not None:
            issues.append(("score", "give a score or clearScore, not both"))
    if issues:
        raise TrainingRefused(r, issues[0][0], issues[0][1], more=issues[1:])
    return _Good(r, **values, clear=line.clear_score is True)


async def record_lines(
    session: AsyncSession, scope: Scope, tenant: Any, lines: Sequence[Line], source: dict[str, Any]
) -> Outcome:
    """Check every line, register the new people and record the good lines (see the module).
    TrainingForbidden when the caller may not record attendance in `tenant` at all."""
    t = await check_region(session, scope, tenant, "attendance", PEOPLE_WRITERS)
    out = Outcome(lines=len(lines))

    def refuse(record: str, issues: Sequence[tuple[str, str]]) -> None:
        out.errors.extend((record, f, why) for f, why in issues)

    parsed: list[_Good] = []
    first_of: dict[tuple[str, str], str] = {}
    for line in lines:
        try:
            g = _parse(line)
        except Refused as e:
            refuse(line.record, e.issues)
            continue
        if (g.session, g.person) in first_of:
            refuse(
                g.record,
                [("person", f"{g.person} at session {g.session} again (first at {first_of[(g.session, g.person)]})")],
            )
            continue
        first_of[(g.session, g.person)] = g.record
        parsed.append(g)

    sessions = set(
        (
            await session.execute(
                text("select code from training_session where tenant_id = :t and code = any(cast(:c as text[]))"),
                {"t": t, "c": sorted({g.session for g in parsed})},
            )
        ).scalars()
    )
    people = {
        r.person_id: (r.hospital_id, r.role)
        for r in await session.execute(
            text(
                "select person_id, hospital_id, role from training_person"
                " where tenant_id = :t and person_id = any(cast(:p as text[]))"
            ),
            {"t": t, "p": sorted({g.person for g in parsed})},
        )
    }
    hospitals = set(
        (
            await session.execute(
                text("select id from hospital where tenant_id = :t and id = any(cast(:h as text[]))"),
                {"t": t, "h": sorted({g.hospital for g in parsed if g.hospital})},
            )
        ).scalars()
    )

    good: list[tuple[_Good, str | None]] = []  # the line and the person's hospital
    for g in parsed:
        issues: list[tuple[str, str]] = []
        if g.session not in sessions:
            issues.append(("session", f"no session {g.session} in {t}"))
        if g.hospital is not None and g.hospital not in hospitals:
            issues.append(("hospital", f"{g.hospital} is not a hospital of {t}"))
        hospital: str | None = None
        if g.person not in people:
            # Never registered by an attendance line (the roster is declared: saveTrainingPerson);
            # neutral: whether another hospital has the id is not this hospital's to know.
            issues.append(("person", NOT_ON_ROSTER))
        else:
            hospital, role = people[g.person]
            if scope.hospital_id is not None and hospital != scope.hospital_id:
                issues.append(("person", NOT_ON_ROSTER))
            else:
                if g.hospital is not None and g.hospital != hospital:
                    issues.append(
                        ("hospital", f"{g.person} is registered at {hospital or 'no hospital (bureau staff)'}")
                    )
                if g.role is not None and g.role != role:
                    issues.append(("role", f"{g.person} is registered as {role}"))
        if issues:
            fields: set[str] = set()
            refuse(g.record, [(f, why) for f, why in issues if not (f in fields or fields.add(f))])
            continue
        good.append((g, hospital))

    if good:
        withdrawn = {
            (r.session_code, r.person_id)
            for r in await session.execute(
                text(
                    "select session_code, person_id from training_attendance where tenant_id = :t"
                    " and withdrawn_at is not null and (session_code, person_id) in"
                    " (select * from unnest(cast(:s as text[]), cast(:p as text[])))"
                ),
                {"t": t, "s": [g.session for g, _ in good], "p": [g.person for g, _ in good]},
            )
        }
        for g, _ in good:
            if (g.session, g.person) in withdrawn:
                refuse(g.record, [("session", "this attendance was withdrawn: it is not recorded again")])
        good = [(g, h) for g, h in good if (g.session, g.person) not in withdrawn]

    changes: list[list[Any]] = []
    if good:
        old = {
            (r.session_code, r.person_id): r.score
            for r in await session.execute(
                text(
                    "select session_code, person_id, score from training_attendance where tenant_id = :t"
                    " and (session_code, person_id) in"
                    " (select * from unnest(cast(:s as text[]), cast(:p as text[])))"
                ),
                {"t": t, "s": [g.session for g, _ in good], "p": [g.person for g, _ in good]},
            )
        }
        written = await session.execute(
            text(
                "insert into training_attendance as a"
                " (tenant_id, session_code, person_id, hospital_id, score, recorded_by)"
                " select :t, s, p, h, sc, :by"
                " from unnest(cast(:s as text[]), cast(:p as text[]), cast(:h as text[]), cast(:sc as numeric[]))"
                " as u(s, p, h, sc)"
                " on conflict (tenant_id, session_code, person_id) do update"
                " set score = excluded.score, recorded_by = excluded.recorded_by, recorded_at = now()"
                " where excluded.score is not null and a.score is distinct from excluded.score"
                " returning session_code, person_id"
            ),
            {
                "t": t,
                "by": scope.actor,
                "s": [g.session for g, _ in good],
                "p": [g.person for g, _ in good],
                "h": [h for _, h in good],
                "sc": [g.score for g, _ in good],
            },
        )
        for s_code, p_id in written:
            key = (s_code, p_id)
            if key in old:
                out.updated += 1
                out.written[key] = "updated"
            else:
                out.recorded += 1
                out.written[key] = "recorded"
            if len(changes) < AUDITED_CHANGES:
                new = next(g.score for g, _ in good if (g.session, g.person) == key)
                changes.append(
                    [s_code, p_id, None if old.get(key) is None else str(old[key]), None if new is None else str(new)]
                )
        clear = [g for g, _ in good if g.clear and (g.session, g.person) in old]
        if clear:
            cleared = await session.execute(
                text(
                    "update training_attendance set score = null, recorded_by = :by, recorded_at = now()"
                    " where tenant_id = :t and score is not null and withdrawn_at is null"
                    " and (session_code, person_id) in"
                    " (select * from unnest(cast(:s as text[]), cast(:p as text[])))"
                    " returning session_code, person_id"
                ),
                {"t": t, "by": scope.actor, "s": [g.session for g in clear], "p": [g.person for g in clear]},
            )
            for key in cleared:
                key = (key[0], key[1])
                out.updated += 1
                out.written[key] = "updated"
                if len(changes) < AUDITED_CHANGES:
                    changes.append([key[0], key[1], None if old.get(key) is None else str(old[key]), None])
        out.unchanged = len(good) - out.recorded - out.updated
    # In the sheet's order (parse errors were found before the look-ups': one list by row).
    order = {line.record: i for i, line in enumerate(lines)}
    out.errors.sort(key=lambda e: order.get(e[0], len(order)))
    if out.recorded or out.updated:
        await audit.record(
            session,
            scope,
            t,
            "training.attendance",
            f"attendance:{source.get('what', 'input')}",
            **source,
            lines=out.lines,
            recorded=out.recorded,
            updated=out.updated,
            refused=out.refused,
            changes=changes,
        )
    return out


def sheet_lines(data: bytes, encoding: str | None = None) -> tuple[list[Line], str | None]:
    """The lines of an attendance spreadsheet (CSV or XLSX), and the CSV's encoding (declared or
    detected: dianshu.tabular.encoding); SheetRefused for the file as a whole."""
    rows = read_sheet(data, HEADER_NAMES, REQUIRED, encoding)
    lines = [
        Line(
            f"row {r.number}",
            r.cells.get("session"),
            r.cells.get("person"),
            r.cells.get("hospital"),
            r.cells.get("role"),
            r.cells.get("score"),
            r.cells.get("__extra__"),
        )
        for r in rows
    ]
    return lines, rows.encoding


async def import_attendance(
    session: AsyncSession, scope: Scope, tenant: Any, data: bytes, filename: str = "", encoding: str | None = None
) -> Outcome:
    """Every row of an attendance spreadsheet; TrainingRefused (record "file") when the file as a
    whole cannot be read (its header, its size, its encoding: `encoding` declared, or detected)."""
    try:
        lines, used = sheet_lines(data, encoding)
    except SheetRefused as e:
        raise TrainingRefused("file", e.field, e.reason) from None
    source = {"what": "import", "file": filename[:200], "sha256": hashlib.sha256(data).hexdigest()}
    out = await record_lines(session, scope, tenant, lines, source)
    out.encoding = used
    return out


@dataclass(frozen=True)
class Withdrawn:
    session_code: str
    person_id: str
    withdrawn_at: Any
    withdrawn_by: str
    reason: str
    changed: bool  # False: withdrawn already (a retry): nothing written, nothing audited


async def withdraw_attendance(
    session: AsyncSession, scope: Scope, tenant: Any, session_code: Any, person_id: Any, reason: Any
) -> Withdrawn:
    """Withdraw an attendance recorded by mistake: the row stays (who, when, why), and coverage,
    queries and downloads ignore it; never deleted. Retry-safe: withdrawn already, nothing written
    or audited (whatever the reason given again). A hospital withdraws its own people's only (row-level
    security: another hospital's row is not found)."""
    t = await check_region(session, scope, tenant, "attendance", PEOPLE_WRITERS)
    s_code = check_code(session_code, "attendance", "session")
    pid = check_person_id(person_id, "attendance", "personId")
    why = _text(reason, "attendance", "reason", REASON_MAX)
    row = (
        await session.execute(
            text(
                "select hospital_id, score, withdrawn_at, withdrawn_by, withdrawn_reason from training_attendance"
                " where tenant_id = :t and session_code = :s and person_id = :p for update"
            ),
            {"t": t, "s": s_code, "p": pid},
        )
    ).first()
    if row is None:
        raise TrainingRefused("attendance", "personId", f"no attendance of {pid} at session {s_code}", kind="not_found")
    if row.withdrawn_at is not None:
        return Withdrawn(s_code, pid, row.withdrawn_at, row.withdrawn_by, row.withdrawn_reason, False)
    done = (
        await session.execute(
            text(
                "update training_attendance set withdrawn_at = now(), withdrawn_by = :by, withdrawn_reason = :why"
                " where tenant_id = :t and session_code = :s and person_id = :p and withdrawn_at is null"
                " returning withdrawn_at"
            ),
            {"t": t, "s": s_code, "p": pid, "by": scope.actor, "why": why},
        )
    ).scalar_one()
    await audit.record(
        session,
        scope,
        t,
        "training.attendance.withdraw",
        f"attendance {s_code} {pid}",
        hospital_id=row.hospital_id,
        old={"score": None if row.score is None else str(row.score), "withdrawn": False},
        new={"withdrawn": True, "reason": why},
    )
    return Withdrawn(s_code, pid, done, scope.actor, why, True)

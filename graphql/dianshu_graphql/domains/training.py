"""Training records (培训) in GraphQL: courses, sessions, people, attendance and coverage per
hospital (row-level security: the bureau sees all of its tenants, a hospital its own people only),
and the mutations that save them (strict, retry-safe, audited), with the CSV/XLSX import of
attendance (per-row errors; the good rows land)."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry
from sqlalchemy import select, tuple_
from strawberry.file_uploads import Upload
from strawberry.types import Info

from dianshu.errors import Refused
from dianshu.scope import Role
from dianshu.tabular.read import MAX_BYTES
from dianshu.training import attendance as att
from dianshu.training import service
from dianshu.training.coverage import coverage
from dianshu.training.models import TrainingAttendance as AttendanceRow
from dianshu.training.models import TrainingCourse as CourseRow
from dianshu.training.models import TrainingPerson as PersonRow
from dianshu.training.models import TrainingSession as SessionRow
from dianshu_graphql import pagination
from dianshu_graphql.errors import FieldError, NotFound, PermissionDenied, StateConflict, ValidationError, invalid
from dianshu_graphql.errors import refused as as_union
from dianshu_graphql.permissions import BUREAU, Allow
from dianshu_graphql.types.training import (
    HospitalTrainingCoverage,
    RecordTrainingAttendanceInput,
    SaveTrainingCourseInput,
    SaveTrainingPersonInput,
    SaveTrainingSessionInput,
    TrainingAttendance,
    TrainingAttendancePayload,
    TrainingCourse,
    TrainingCoursePayload,
    TrainingImportPayload,
    TrainingLevel,
    TrainingPerson,
    TrainingPersonPayload,
    TrainingRole,
    TrainingSession,
    TrainingSessionPayload,
    TrainingTopic,
    TrainingWithdrawalPayload,
    WithdrawTrainingAttendanceInput,
)

SaveTrainingCourseResult = Annotated[
    TrainingCoursePayload | ValidationError | PermissionDenied, strawberry.union("SaveTrainingCourseResult")
]
SaveTrainingSessionResult = Annotated[
    TrainingSessionPayload | ValidationError | PermissionDenied | NotFound,
    strawberry.union("SaveTrainingSessionResult"),
]
SaveTrainingPersonResult = Annotated[
    TrainingPersonPayload | ValidationError | PermissionDenied | NotFound | StateConflict,
    strawberry.union("SaveTrainingPersonResult"),
]
RecordTrainingAttendanceResult = Annotated[
    TrainingAttendancePayload | ValidationError | PermissionDenied,
    strawberry.union("RecordTrainingAttendanceResult"),
]
WithdrawTrainingAttendanceResult = Annotated[
    TrainingWithdrawalPayload | ValidationError | PermissionDenied | NotFound,
    strawberry.union("WithdrawTrainingAttendanceResult"),
]
ImportTrainingAttendanceResult = Annotated[
    TrainingImportPayload | ValidationError | PermissionDenied, strawberry.union("ImportTrainingAttendanceResult")
]

# Readers: the bureaus and hospitals (row-level security decides the rows).
READ = Allow(Role.hospital_user, *BUREAU)
BUREAU_WRITE = Allow(Role.city_admin, Role.region_admin)
PEOPLE_WRITE = Allow(Role.city_admin, Role.region_admin, Role.hospital_user)
_PATHS = {
    "personId": "personId",
    "heldOn": "heldOn",
    "hostHospital": "hostHospital",
    "activeFrom": "activeFrom",
    "leftOn": "leftOn",
    "session": "session",
}


def _path(field: str) -> str:
    return f"input.{_PATHS.get(field, field)}"


def _tenants(info: Info, tenant: str | None) -> list[str]:
    return [tenant] if tenant is not None else list(info.context.scope.tenant_ids)


def _attendance_query():
    A, S = AttendanceRow, SessionRow
    return (
        select(A, S.held_on, S.course_code)
        .join(S, (S.tenant_id == A.tenant_id) & (S.code == A.session_code))
        .where(A.withdrawn_at.is_(None))
        .order_by(A.tenant_id, A.session_code, A.person_id)
    )


def _attendance_of(row) -> TrainingAttendance:
    a, held_on, course_code = row
    return TrainingAttendance(
        tenant_code=a.tenant_id,
        session_code=a.session_code,
        person_id=a.person_id,
        hospital=a.hospital_id,
        held_on=held_on,
        course_code=course_code,
        score=a.score,
        recorded_by=a.recorded_by,
        recorded_at=a.recorded_at,
    )


async def _keyset_page(
    info: Info,
    q: Any,
    keys: tuple[Any, ...],
    of: Any,
    first: int | None,
    after: str | None,
    *,
    whole_rows: bool = False,
) -> Any:
    """One page of `q` ordered by the key columns `keys` (text), after the cursor of a page's last key.
    `whole_rows`: `q` selects several entities (the first carries the keys)."""
    limit = pagination.page_size(first)
    cursor = pagination.decode_cursor(after, *(str for _ in keys))
    q = q.order_by(None).order_by(*keys).limit(limit + 1)
    if cursor:
        q = q.where(tuple_(*keys) > tuple_(*cursor))
    async with info.context.session() as s:
        result = await s.execute(q)
        rows = list(result.all() if whole_rows else result.scalars())
    names = [k.key for k in keys]
    if whole_rows:
        return pagination.build(rows, limit, lambda r: [getattr(r[0], n) for n in names], of, after=after)
    return pagination.build(rows, limit, lambda r: [getattr(r, n) for n in names], of, after=after)


@strawberry.type
class TrainingQuery:
    @strawberry.field(
        description="Training courses, by region (all of yours when left out) and topic.", extensions=[READ]
    )
    async def training_courses(
        self,
        info: Info,
        tenant: str | None = None,
        topic: TrainingTopic | None = None,
        first: int | None = 50,
        after: str | None = None,
    ) -> pagination.Connection[TrainingCourse]:
        C = CourseRow
        q = select(C).where(C.tenant_id.in_(_tenants(info, tenant)))
        if topic is not None:
            q = q.where(C.topic == topic.value)
        return await _keyset_page(info, q, (C.tenant_id, C.code), TrainingCourse.of, first, after)

    @strawberry.field(
        description="Training sessions, by region, year held, course and level (every user of a region sees its "
        "sessions).",
        extensions=[READ],
    )
    async def training_sessions(
        self,
        info: Info,
        tenant: str | None = None,
        year: int | None = None,
        course: str | None = None,
        level: TrainingLevel | None = None,
        first: int | None = 50,
        after: str | None = None,
    ) -> pagination.Connection[TrainingSession]:
        import datetime

        S = SessionRow
        q = select(S).where(S.tenant_id.in_(_tenants(info, tenant)))
        if year is not None:
            q = q.where(S.held_on >= datetime.date(year, 1, 1), S.held_on < datetime.date(year + 1, 1, 1))
        if course is not None:
            q = q.where(S.course_code == course)
        if level is not None:
            q = q.where(S.level == level.value)
        return await _keyset_page(info, q, (S.tenant_id, S.code), TrainingSession.of, first, after)

    @strawberry.field(
        description="People on record (a hospital sees its own; bureau staff only the bureau), by region, hospital, "
        "role and whether active.",
        extensions=[READ],
    )
    async def training_people(
        self,
        info: Info,
        tenant: str | None = None,
        hospital: str | None = None,
        role: TrainingRole | None = None,
        active: bool | None = None,
        first: int | None = 50,
        after: str | None = None,
    ) -> pagination.Connection[TrainingPerson]:
        P = PersonRow
        q = select(P).where(P.tenant_id.in_(_tenants(info, tenant)))
        if hospital is not None:
            q = q.where(P.hospital_id == hospital)
        if role is not None:
            q = q.where(P.role == role.value)
        if active is not None:
            import datetime

            today = datetime.date.today()
            on = P.left_on.is_(None) | (P.left_on > today)
            q = q.where(on if active else ~on)
        return await _keyset_page(info, q, (P.tenant_id, P.person_id), TrainingPerson.of, first, after)

    @strawberry.field(
        description="Attendance and scores (a hospital sees its own people's), by region, year held, session, "
        "hospital and person.",
        extensions=[READ],
    )
    async def training_attendance(
        self,
        info: Info,
        tenant: str | None = None,
        year: int | None = None,
        session: str | None = None,
        hospital: str | None = None,
        person_id: str | None = None,
        first: int | None = 50,
        after: str | None = None,
    ) -> pagination.Connection[TrainingAttendance]:
        import datetime

        A, S = AttendanceRow, SessionRow
        q = _attendance_query().where(A.tenant_id.in_(_tenants(info, tenant)))
        if year is not None:
            q = q.where(S.held_on >= datetime.date(year, 1, 1), S.held_on < datetime.date(year + 1, 1, 1))
        if session is not None:
            q = q.where(A.session_code == session)
        if hospital is not None:
            q = q.where(A.hospital_id == hospital)
        if person_id is not None:
            q = q.where(A.person_id == person_id)
        keys = (A.tenant_id, A.session_code, A.person_id)
        return await _keyset_page(info, q, keys, _attendance_of, first, after, whole_rows=True)

    @strawberry.field(
        description="Training coverage per hospital in a year: the share of its active coders and physicians on "
        "record who attended a session held in the year (what the evaluation's F07 reads; a hospital sees its own).",
        extensions=[READ],
    )
    async def training_coverage(
        self,
        info: Info,
        year: int,
        tenant: str | None = None,
        hospital: str | None = None,
        first: int | None = 50,
        after: str | None = None,
    ) -> pagination.Connection[HospitalTrainingCoverage]:
        limit = pagination.page_size(first)
        cursor = pagination.decode_cursor(after, str, str)
        async with info.context.session() as s:
            rows = await coverage(s, _tenants(info, tenant), year, hospital)
        if cursor:
            rows = [r for r in rows if (r.tenant_id, r.hospital_id) > (cursor[0], cursor[1])]
        return pagination.build(
            rows[: limit + 1], limit, lambda c: [c.tenant_id, c.hospital_id], HospitalTrainingCoverage.of, after=after
        )


def _payload_errors(out: att.Outcome) -> list[FieldError]:
    return [FieldError(record=r, field=f, reason=why) for r, f, why in out.errors[: att.ERRORS_SHOWN]]


@strawberry.type
class TrainingMutation:
    @strawberry.mutation(
        description="Save a training course by its code (the same again writes nothing; a change is audited).",
        extensions=[BUREAU_WRITE],
    )
    async def save_training_course(self, info: Info, input: SaveTrainingCourseInput) -> SaveTrainingCourseResult:
        try:
            async with info.context.session() as s:
                saved = await service.save_course(
                    s, info.context.scope, input.tenant, input.code, input.topic.value, input.title
                )
        except service.TrainingForbidden as e:
            return PermissionDenied(message=str(e))
        except Refused as e:
            return as_union(e, path=_path)  # type: ignore[return-value]
        return TrainingCoursePayload(course=TrainingCourse.of(saved.row), changed=saved.changed)

    @strawberry.mutation(
        description="Save a training session by its code (the same again writes nothing; a change is audited).",
        extensions=[BUREAU_WRITE],
    )
    async def save_training_session(self, info: Info, input: SaveTrainingSessionInput) -> SaveTrainingSessionResult:
        try:
            async with info.context.session() as s:
                saved = await service.save_session(
                    s,
                    info.context.scope,
                    input.tenant,
                    input.code,
                    input.course,
                    input.held_on,
                    input.trainer,
                    input.hours,
                    input.level.value,
                    input.host_hospital,
                )
        except service.TrainingForbidden as e:
            return PermissionDenied(message=str(e))
        except Refused as e:
            return as_union(e, path=_path)  # type: ignore[return-value]
        return TrainingSessionPayload(session=TrainingSession.of(saved.row), changed=saved.changed)

    @strawberry.mutation(
        description="Register or update a person by pseudonymised id (a hospital its own people; the same again "
        "writes nothing; a person never changes hospital).",
        extensions=[PEOPLE_WRITE],
    )
    async def save_training_person(self, info: Info, input: SaveTrainingPersonInput) -> SaveTrainingPersonResult:
        try:
            async with info.context.session() as s:
                saved = await service.save_person(
                    s,
                    info.context.scope,
                    input.tenant,
                    input.person_id,
                    input.hospital,
                    input.role.value,
                    input.active,
                    input.active_from,
                    input.left_on,
                )
        except service.TrainingForbidden as e:
            return PermissionDenied(message=str(e))
        except Refused as e:
            return as_union(e, path=_path)  # type: ignore[return-value]
        return TrainingPersonPayload(person=TrainingPerson.of(saved.row), changed=saved.changed)

    @strawberry.mutation(
        description="Record one attendance (and score) of a person on the roster (registered by saveTrainingPerson: "
        "an attendance never registers anyone). The same again writes nothing; a changed score is updated and "
        "audited; clearScore erases the score.",
        extensions=[PEOPLE_WRITE],
    )
    async def record_training_attendance(
        self, info: Info, input: RecordTrainingAttendanceInput
    ) -> RecordTrainingAttendanceResult:
        line = att.Line(
            "input",
            input.session,
            input.person_id,
            input.hospital,
            None if input.role is None else input.role.value,
            input.score,
            clear_score=input.clear_score,
        )
        try:
            async with info.context.session() as s:
                out = await att.record_lines(s, info.context.scope, input.tenant, [line], {"what": "input"})
                if out.errors:
                    names = {"person": "personId", "clearScore": "clearScore"}
                    return ValidationError(
                        message="; ".join(f"{names.get(f, f)}: {why}" for _, f, why in out.errors),
                        errors=[
                            FieldError(record="attendance", field=f"input.{names.get(f, f)}", reason=why)
                            for _, f, why in out.errors
                        ],
                    )
                q = _attendance_query().where(
                    AttendanceRow.tenant_id == input.tenant,
                    AttendanceRow.session_code == input.session.strip(),
                    AttendanceRow.person_id == input.person_id.strip(),
                )
                row = (await s.execute(q)).one()
        except service.TrainingForbidden as e:
            return PermissionDenied(message=str(e))
        except Refused as e:
            return as_union(e, path=_path)  # type: ignore[return-value]
        return TrainingAttendancePayload(
            attendance=_attendance_of(row), changed=bool(out.written), registered=out.registered > 0
        )

    @strawberry.mutation(
        description="Withdraw an attendance recorded by mistake (kept with who, when and why; coverage, queries and "
        "downloads ignore it; never deleted). Withdrawn already: nothing written (changed false).",
        extensions=[PEOPLE_WRITE],
    )
    async def withdraw_training_attendance(
        self, info: Info, input: WithdrawTrainingAttendanceInput
    ) -> WithdrawTrainingAttendanceResult:
        try:
            async with info.context.session() as s:
                w = await att.withdraw_attendance(
                    s, info.context.scope, input.tenant, input.session, input.person_id, input.reason
                )
        except service.TrainingForbidden as e:
            return PermissionDenied(message=str(e))
        except Refused as e:
            return as_union(e, path=_path)  # type: ignore[return-value]
        return TrainingWithdrawalPayload(
            session_code=w.session_code,
            person_id=w.person_id,
            withdrawn_at=w.withdrawn_at,
            withdrawn_by=w.withdrawn_by,
            reason=w.reason,
            changed=w.changed,
        )

    @strawberry.mutation(
        description="Import attendance from a CSV (UTF-8 or GB18030) or XLSX sheet with the columns 培训场次编号/"
        "session, 人员编号/person, and optionally 医疗机构编码/hospital, 人员类别/role, 考核成绩/score. "
        "Each bad row is listed (row number and field) and the good rows land; importing the same file "
        "again writes nothing. A CSV's encoding (utf-8, gb18030; gbk is read as gb18030) is detected when "
        "not given, and the answer says which was used.",
        extensions=[PEOPLE_WRITE],
    )
    async def import_training_attendance(
        self, info: Info, tenant: str, file: Upload, encoding: str | None = None
    ) -> ImportTrainingAttendanceResult:
        data = bytearray()
        while chunk := await file.read(1 << 20):
            data += chunk
            if len(data) > MAX_BYTES:
                return invalid("file", "file", f"larger than {MAX_BYTES // 2**20} MiB")
        filename = str(getattr(file, "filename", "") or "")
        try:
            async with info.context.session() as s:
                out = await att.import_attendance(s, info.context.scope, tenant, bytes(data), filename, encoding)
        except service.TrainingForbidden as e:
            return PermissionDenied(message=str(e))
        except Refused as e:
            return as_union(e)  # type: ignore[return-value]
        return TrainingImportPayload(
            rows=out.lines,
            recorded=out.recorded,
            updated=out.updated,
            unchanged=out.unchanged,
            registered=out.registered,
            refused=out.refused,
            errors=_payload_errors(out),
            encoding=out.encoding,
        )

"""GraphQL types of the training records (培训): courses, sessions, people (pseudonymised ids),
attendance with assessment scores, coverage per hospital, and the inputs that save them."""

from __future__ import annotations

import datetime
from decimal import Decimal
from enum import Enum

import strawberry

from dianshu.training import models
from dianshu.training.coverage import Coverage
from dianshu_graphql.errors import FieldError


@strawberry.enum(description="What a course teaches.")
class TrainingTopic(Enum):
    policy = strawberry.enum_value("policy", description="DRG payment policy (DRG政策).")
    coding = strawberry.enum_value("coding", description="Diagnosis and procedure coding (病案编码).")
    settlement_list = strawberry.enum_value(
        "settlement_list", description="Filling in the settlement list (结算清单填写)."
    )
    tool_use = strawberry.enum_value("tool_use", description="Using the tools (工具使用).")


@strawberry.enum(description="Who organised a session.")
class TrainingLevel(Enum):
    city = strawberry.enum_value("city", description="The city (市级).")
    region = strawberry.enum_value("region", description="The region (区级).")
    hospital = strawberry.enum_value("hospital", description="A hospital (院级): hostHospital names it.")


@strawberry.enum(description="A trained person's role.")
class TrainingRole(Enum):
    coder = strawberry.enum_value("coder", description="A coder (编码员).")
    physician = strawberry.enum_value("physician", description="A physician (医师).")
    bureau_staff = strawberry.enum_value("bureau_staff", description="Bureau staff (医保经办人员): no hospital.")


@strawberry.type(description="A training course of a region (课程).")
class TrainingCourse:
    tenant_code: str
    code: str
    topic: TrainingTopic
    title: str
    saved_by: str
    saved_at: datetime.datetime

    @classmethod
    def of(cls, c: models.TrainingCourse) -> TrainingCourse:
        return cls(
            tenant_code=c.tenant_id,
            code=c.code,
            topic=TrainingTopic(c.topic),
            title=c.title,
            saved_by=c.saved_by,
            saved_at=c.saved_at,
        )


@strawberry.type(description="A session of a course (培训场次).")
class TrainingSession:
    tenant_code: str
    code: str
    course_code: str
    held_on: datetime.date
    trainer: str
    hours: Decimal = strawberry.field(description="Class hours (学时), 1 place.")
    level: TrainingLevel
    host_hospital: str | None = strawberry.field(description="The hospital of a hospital-level session.")
    saved_by: str
    saved_at: datetime.datetime

    @classmethod
    def of(cls, s: models.TrainingSession) -> TrainingSession:
        return cls(
            tenant_code=s.tenant_id,
            code=s.code,
            course_code=s.course_code,
            held_on=s.held_on,
            trainer=s.trainer,
            hours=s.hours,
            level=TrainingLevel(s.level),
            host_hospital=s.host_hospital_id,
            saved_by=s.saved_by,
            saved_at=s.saved_at,
        )


@strawberry.type(description="A person trained (学员), by pseudonymised id only.")
class TrainingPerson:
    tenant_code: str
    person_id: str = strawberry.field(description="The pseudonymised id (never a name or an ID number).")
    hospital: str | None = strawberry.field(description="Null for bureau staff.")
    role: TrainingRole
    active: bool = strawberry.field(description="On the roster today (not left).")
    active_from: datetime.date = strawberry.field(description="On the roster from this date.")
    left_on: datetime.date | None = strawberry.field(
        description="Left on this date (null: still there); the roster of a year is who was on it at any time in it."
    )
    saved_by: str
    saved_at: datetime.datetime

    @classmethod
    def of(cls, p: models.TrainingPerson) -> TrainingPerson:
        return cls(
            tenant_code=p.tenant_id,
            person_id=p.person_id,
            hospital=p.hospital_id,
            role=TrainingRole(p.role),
            active=p.active,
            active_from=p.active_from,
            left_on=p.left_on,
            saved_by=p.saved_by,
            saved_at=p.saved_at,
        )


@strawberry.type(description="A person's attendance of a session, with the assessment score when assessed.")
class TrainingAttendance:
    tenant_code: str
    session_code: str
    person_id: str
    hospital: str | None
    held_on: datetime.date = strawberry.field(description="The session's date.")
    course_code: str
    score: Decimal | None = strawberry.field(description="考核成绩, 0 to 100 (2 places); null: not assessed.")
    recorded_by: str
    recorded_at: datetime.datetime


@strawberry.type(description="A hospital's training coverage in a year (培训覆盖率).")
class HospitalTrainingCoverage:
    tenant_code: str
    hospital: str
    hospital_name: str
    year: int
    coders: int = strawberry.field(description="Active coders on record.")
    coders_trained: int = strawberry.field(description="Of them, those who attended a session held in the year.")
    physicians: int
    physicians_trained: int
    coverage: Decimal | None = strawberry.field(
        description="(codersTrained + physiciansTrained) ÷ (coders + physicians) × 100, 4 places half-up; null "
        "without coders or physicians on record (then the evaluation's F07 is the entered value)."
    )

    @classmethod
    def of(cls, c: Coverage) -> HospitalTrainingCoverage:
        return cls(
            tenant_code=c.tenant_id,
            hospital=c.hospital_id,
            hospital_name=c.hospital_name,
            year=c.year,
            coders=c.coders,
            coders_trained=c.coders_trained,
            physicians=c.physicians,
            physicians_trained=c.physicians_trained,
            coverage=c.coverage,
        )


@strawberry.type(description="The course as it is now.")
class TrainingCoursePayload:
    course: TrainingCourse
    changed: bool = strawberry.field(description="Whether this call wrote it (false: the same was there).")


@strawberry.type(description="The session as it is now.")
class TrainingSessionPayload:
    session: TrainingSession
    changed: bool = strawberry.field(description="Whether this call wrote it (false: the same was there).")


@strawberry.type(description="The person as registered now.")
class TrainingPersonPayload:
    person: TrainingPerson
    changed: bool = strawberry.field(description="Whether this call wrote it (false: the same was there).")


@strawberry.type(description="The attendance as recorded now.")
class TrainingAttendancePayload:
    attendance: TrainingAttendance
    changed: bool = strawberry.field(description="Whether this call wrote it (false: the same was there).")
    registered: bool = strawberry.field(
        description="Always false.",
        deprecation_reason="An attendance never registers anyone: register people with saveTrainingPerson.",
    )


@strawberry.type(description="What an attendance import did: the good rows landed, each bad row is listed.")
class TrainingImportPayload:
    rows: int = strawberry.field(description="Rows read (blank rows skipped).")
    recorded: int = strawberry.field(description="Attendance rows new.")
    updated: int = strawberry.field(description="Scores changed.")
    unchanged: int = strawberry.field(description="Rows already recorded as given: nothing written.")
    registered: int = strawberry.field(
        description="Always 0.",
        deprecation_reason="An import never registers anyone: register people with saveTrainingPerson.",
    )
    refused: int = strawberry.field(description="Rows refused (see errors).")
    errors: list[FieldError] = strawberry.field(
        description="Each refused row's fields: record 'row 7' (Excel's row number, the header is row 1), "
        "field (the column's key: session, person, hospital, role, score) and reason. At most 1000."
    )
    encoding: str | None = strawberry.field(
        default=None, description="The CSV's text encoding, declared or detected: utf-8 or gb18030 (null for XLSX)."
    )


@strawberry.input(description="A course (saved by its code: the same again writes nothing).")
class SaveTrainingCourseInput:
    tenant: str = strawberry.field(description="The region.")
    code: str = strawberry.field(description="1 to 30 letters, digits, _ . -")
    topic: TrainingTopic
    title: str


@strawberry.input(description="A session (saved by its code: the same again writes nothing).")
class SaveTrainingSessionInput:
    tenant: str = strawberry.field(description="The region (a city session is saved in each region attending).")
    code: str
    course: str = strawberry.field(description="The course's code.")
    held_on: datetime.date
    trainer: str
    hours: Decimal = strawberry.field(description="Above 0 to 24, at most 1 place.")
    level: TrainingLevel
    host_hospital: str | None = strawberry.field(default=None, description="Required for level hospital only.")


@strawberry.input(description="A person (saved by the pseudonymised id: the same again writes nothing).")
class SaveTrainingPersonInput:
    tenant: str
    person_id: str = strawberry.field(description="4 to 64 letters, digits, _ . -; never a name or ID number.")
    hospital: str | None = strawberry.field(default=None, description="Null for bureau staff only.")
    role: TrainingRole
    active: bool = strawberry.field(default=True, description="False: left (leftOn, or today when not given).")
    active_from: datetime.date | None = strawberry.field(
        default=None, description="On the roster from (a new person: the registration date when left out)."
    )
    left_on: datetime.date | None = strawberry.field(default=None, description="The date left (with active false).")


@strawberry.input(description="One attendance (the same again writes nothing; a changed score is updated).")
class RecordTrainingAttendanceInput:
    tenant: str
    session: str = strawberry.field(description="The session's code.")
    person_id: str
    hospital: str | None = strawberry.field(
        default=None, description="The person's hospital (checked against the roster)."
    )
    role: TrainingRole | None = strawberry.field(default=None, description="The person's role (checked).")
    score: Decimal | None = strawberry.field(default=None, description="0 to 100, 2 places; null: leave as is.")
    clear_score: bool = strawberry.field(
        default=False, description="True: erase the recorded score (a blank never does); not with a score."
    )


@strawberry.input(description="Withdraw an attendance recorded by mistake (kept, never deleted; ignored everywhere).")
class WithdrawTrainingAttendanceInput:
    tenant: str
    session: str = strawberry.field(description="The session's code.")
    person_id: str
    reason: str = strawberry.field(description="Why (required, up to 500 characters).")


@strawberry.type(description="A withdrawn attendance. changed false: it was withdrawn already (nothing written).")
class TrainingWithdrawalPayload:
    session_code: str
    person_id: str
    withdrawn_at: datetime.datetime
    withdrawn_by: str
    reason: str
    changed: bool

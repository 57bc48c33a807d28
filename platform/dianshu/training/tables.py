"""The training downloads as tables (dianshu.tabular.write): coverage per hospital and the
attendance of a year, Chinese headers by default, English on request; codes shown as their
Chinese labels in a Chinese download and as the codes in an English one."""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from dianshu.tabular.write import Column, Kind, Lang, Table
from dianshu.training.coverage import Coverage
from dianshu.training.service import LEVEL_ZH, ROLE_ZH, TOPIC_ZH

COVERAGE_COLUMNS = (
    Column("tenant_id", "统筹区", "Region"),
    Column("hospital_id", "医疗机构编码", "Hospital code"),
    Column("hospital_name", "医疗机构名称", "Hospital name"),
    Column("year", "年度", "Year", Kind.count),
    Column("coders", "在册编码员数", "Coders on record", Kind.count),
    Column("coders_trained", "已培训编码员数", "Coders trained", Kind.count),
    Column("physicians", "在册医师数", "Physicians on record", Kind.count),
    Column("physicians_trained", "已培训医师数", "Physicians trained", Kind.count),
    Column("coverage", "培训覆盖率(%)", "Training coverage (%)", Kind.decimal, 4),
)

ATTENDANCE_COLUMNS = (
    Column("tenant_id", "统筹区", "Region"),
    Column("session_code", "培训场次编号", "Session"),
    Column("held_on", "培训日期", "Date", Kind.date),
    Column("course_code", "课程编号", "Course"),
    Column("topic", "课程类别", "Topic"),
    Column("level", "培训级别", "Level"),
    Column("hours", "学时", "Hours", Kind.decimal, 1),
    Column("trainer", "授课人", "Trainer"),
    Column("person_id", "人员编号", "Person"),
    Column("role", "人员类别", "Role"),
    Column("hospital_id", "医疗机构编码", "Hospital code"),
    Column("score", "考核成绩", "Score", Kind.decimal, 2),
)

ATTENDANCE = """
select a.tenant_id, a.session_code, s.held_on, s.course_code, c.topic, s.level, s.hours, s.trainer,
       a.person_id, p.role, a.hospital_id, a.score
from training_attendance a
join training_session s on s.tenant_id = a.tenant_id and s.code = a.session_code
join training_course c on c.tenant_id = s.tenant_id and c.code = s.course_code
join training_person p on p.tenant_id = a.tenant_id and p.person_id = a.person_id
where a.tenant_id = any(cast(:t as text[])) and s.held_on >= :start and s.held_on < :next
  and (cast(:h as text) is null or a.hospital_id = cast(:h as text)) and a.withdrawn_at is null
order by a.tenant_id, s.held_on, a.session_code, a.person_id
"""


def coverage_table(rows: Sequence[Coverage], tenant: str, year: int) -> Table:
    return Table(
        f"training-coverage-{tenant}-{year}",
        f"培训覆盖率 {tenant} {year}",
        f"Training coverage {tenant} {year}",
        COVERAGE_COLUMNS,
        [
            {
                "tenant_id": c.tenant_id,
                "hospital_id": c.hospital_id,
                "hospital_name": c.hospital_name,
                "year": c.year,
                "coders": c.coders,
                "coders_trained": c.coders_trained,
                "physicians": c.physicians,
                "physicians_trained": c.physicians_trained,
                "coverage": c.coverage,
            }
            for c in rows
        ],
    )


async def attendance_rows(
    session: AsyncSession, tenants: Sequence[str], year: int, hospital: str | None = None
) -> list[dict[str, Any]]:
    result = await session.execute(
        text(ATTENDANCE),
        {
            "t": sorted(set(tenants)),
            "start": datetime.date(year, 1, 1),
            "next": datetime.date(year + 1, 1, 1),
            "h": hospital,
        },
    )
    return [dict(r._mapping) for r in result]


def attendance_table(rows: Sequence[dict[str, Any]], tenant: str, year: int, lang: Lang) -> Table:
    def label(labels: dict[str, str], code: str) -> str:
        return labels.get(code, code) if lang is Lang.zh else code

    return Table(
        f"training-attendance-{tenant}-{year}",
        f"培训签到 {tenant} {year}",
        f"Training attendance {tenant} {year}",
        ATTENDANCE_COLUMNS,
        [
            {
                **r,
                "topic": label(TOPIC_ZH, r["topic"]),
                "level": label(LEVEL_ZH, r["level"]),
                "role": label(ROLE_ZH, r["role"]),
            }
            for r in rows
        ],
    )

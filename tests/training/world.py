"""A small hand-built training world in region A of a fresh city (the coverage tests' arithmetic
is written against it):

hospital A1: coders P1, P2 and P3 (P3 left on 2024-12-31), physicians P4, P5, P6; bureau staff BS1
hospital A2: physicians Q1, Q2, Q3
everyone on the roster from 2024-01-01 (registered through save_person: the declared roster)
sessions (region A): S1 2025-03-06 (course C1, policy), S2 2024-12-30 (C2, coding),
                     S3 2025-11-20 (C2, coding)
attendance: P1@S1 85, P1@S3 92.5, P2@S2 78, P3@S1 60, P4@S1 88, P5@S3 (no score), BS1@S1 95,
            Q1@S1 70, Q2@S3 (no score)
"""

from __future__ import annotations

import datetime

from dianshu.db.session import scoped_session
from dianshu.scope import Role
from dianshu.training.attendance import Line, record_lines
from dianshu.training.service import save_course, save_person, save_session
from tests.conftest import scope_for

FROM = datetime.date(2024, 1, 1)


async def build(db, city) -> None:
    region = scope_for(Role.region_admin, (city.a,))
    async with scoped_session(db, region) as s:
        await save_course(s, region, city.a, "C1", "policy", "DRG付费政策解读")
        await save_course(s, region, city.a, "C2", "coding", "ICD-10编码规范")
        await save_session(s, region, city.a, "S1", "C1", datetime.date(2025, 3, 6), "市医保局", "3", "city")
        await save_session(s, region, city.a, "S2", "C2", datetime.date(2024, 12, 30), "讲师甲", "2.5", "region")
        await save_session(
            s, region, city.a, "S3", "C2", datetime.date(2025, 11, 20), "讲师乙", "2", "hospital", city.a1
        )
        for pid, role in (
            ("P1", "coder"),
            ("P2", "coder"),
            ("P4", "physician"),
            ("P5", "physician"),
            ("P6", "physician"),
        ):
            await save_person(s, region, city.a, f"{pid}-0001", city.a1, role, active_from=FROM)
        await save_person(s, region, city.a, "P3-0001", city.a1, "coder", False, FROM, datetime.date(2024, 12, 31))
        await save_person(s, region, city.a, "BS1-0001", None, "bureau_staff", active_from=FROM)
        for q in ("Q1", "Q2", "Q3"):
            await save_person(s, region, city.a, f"{q}-0001", city.a2, "physician", active_from=FROM)
        lines = [
            Line("input", "S1", "P1-0001", score="85"),
            Line("input", "S3", "P1-0001", score="92.5"),
            Line("input", "S2", "P2-0001", score="78"),
            Line("input", "S1", "P3-0001", score="60"),
            Line("input", "S1", "P4-0001", score="88"),
            Line("input", "S3", "P5-0001"),
            Line("input", "S1", "BS1-0001", score="95"),
            Line("input", "S1", "Q1-0001", score="70"),
            Line("input", "S3", "Q2-0001"),
        ]
        out = await record_lines(s, region, city.a, lines, {"what": "world"})
    assert out.errors == [] and out.recorded == 9

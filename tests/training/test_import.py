"""The attendance import (CSV and XLSX): each bad row refused naming its row and field while the good
rows land; the same file again writes and audits nothing; a changed score is updated; a line never
registers anyone (the roster is declared through saveTrainingPerson)."""

from __future__ import annotations

import io
import json

import pytest
from sqlalchemy import text

from dianshu.db.session import scoped_session
from dianshu.scope import Role, Scope
from tests.api import Api
from tests.training import world


@pytest.fixture
async def api(settings, db):
    a = Api(settings, db)
    yield a
    await a.client.aclose()


IMPORT = """
mutation($tenant: String!, $file: Upload!, $encoding: String) {
  importTrainingAttendance(tenant: $tenant, file: $file, encoding: $encoding) {
    __typename
    ... on TrainingImportPayload {
      rows recorded updated unchanged registered refused errors { record field reason } encoding
    }
    ... on ValidationError { message errors { record field reason } }
    ... on PermissionDenied { message }
  }
}"""


async def send(
    api: Api, token: str, tenant: str, data: bytes, filename: str = "签到.csv", encoding: str | None = None
) -> dict:
    operations = {"query": IMPORT, "variables": {"tenant": tenant, "file": None, "encoding": encoding}}
    r = await api.client.post(
        "/graphql",
        data={"operations": json.dumps(operations), "map": json.dumps({"0": ["variables.file"]})},
        files={"0": (filename, data, "application/octet-stream")},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert not body.get("errors"), body
    return body["data"]["importTrainingAttendance"]


def sheet(city) -> list[list[str]]:
    """Row 1 the header; rows 2-10 the lines (Excel's numbering)."""
    return [
        ["培训场次编号", "人员编号", "医疗机构编码", "人员类别", "考核成绩"],
        ["S1", "P6-0001", "", "", "81"],  # 2: registered physician of A1: lands
        ["S1", "NEW-0001", city.a1, "编码员", "90"],  # 3: not on the roster (never registered by a line)
        ["S1", "NEW-0002", city.a1, "", ""],  # 4: not on the roster
        ["S9", "P6-0001", "", "", ""],  # 5: no such session
        ["S3", "P6-0001", "", "", "101"],  # 6: score out of range
        ["S3", "Q3-0001", city.a1, "", ""],  # 7: Q3 is A2's
        ["S3", "张三", "", "", ""],  # 8: a name, not a pseudonymised id
        ["S1", "P6-0001", "", "", "82"],  # 9: P6 at S1 again in the file
        ["S3", "BS1-0001", "", "", "88.5"],  # 10: bureau staff: lands
    ]


def csv_of(rows: list[list[str]]) -> bytes:
    return ("\ufeff" + "\r\n".join(",".join(r) for r in rows) + "\r\n").encode("utf-8")


def xlsx_of(rows: list[list[str]]) -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    for r in rows:
        ws.append([float(c) if c.replace(".", "", 1).isdigit() and not c.startswith("0") else (c or None) for c in r])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


async def attendance(db, tenant: str) -> dict:
    async with scoped_session(db, Scope.system((tenant,))) as s:
        rows = await s.execute(
            text("select session_code, person_id, hospital_id, score from training_attendance where tenant_id = :t"),
            {"t": tenant},
        )
        return {(r.session_code, r.person_id): (r.hospital_id, r.score) for r in rows}


async def audit_count(db, tenant: str) -> int:
    async with scoped_session(db, Scope.system((tenant,))) as s:
        return (
            await s.execute(
                text("select count(*) from audit_log where tenant_id = :t and action = 'training.attendance'"),
                {"t": tenant},
            )
        ).scalar_one()


NOT_ON_ROSTER = "not on the hospital's roster: register them first (saveTrainingPerson)"
EXPECTED_ERRORS = [
    ("row 3", "person", NOT_ON_ROSTER),
    ("row 4", "person", NOT_ON_ROSTER),
    ("row 5", "session", "no session S9 in TENANT"),
    ("row 6", "score", "must be from 0 to 100 (got 101)"),
    ("row 7", "hospital", "Q3-0001 is registered at HA2"),
    ("row 8", "person", "must be a pseudonymised id of 4 to 64 letters, digits, _ . - (never a name; got '张三')"),
    ("row 9", "person", "P6-0001 at session S1 again (first at row 2)"),
]


def gbk_csv_of(rows: list[list[str]]) -> bytes:
    """What Excel's "Save as CSV" writes on Chinese Windows: GBK, no BOM (issue 14)."""
    return ("\r\n".join(",".join(r) for r in rows) + "\r\n").encode("gbk")


@pytest.mark.parametrize("kind", ["csv", "xlsx", "gbk"])
async def test_bad_rows_named_good_rows_land_and_a_reimport_writes_nothing(api, db, city, kind):
    await world.build(db, city)
    region = api.token(Role.region_admin, [city.a])
    data = {"csv": csv_of, "xlsx": xlsx_of, "gbk": gbk_csv_of}[kind](sheet(city))
    before, audits = await attendance(db, city.a), await audit_count(db, city.a)
    name = "签到.xlsx" if kind == "xlsx" else "签到.csv"
    res = await send(api, region, city.a, data, name)
    expected = [
        {"record": r, "field": f, "reason": why.replace("TENANT", city.a).replace("HA2", city.a2)}
        for r, f, why in EXPECTED_ERRORS
    ]
    assert res == {
        "__typename": "TrainingImportPayload",
        "rows": 9,
        "recorded": 2,
        "updated": 0,
        "unchanged": 0,
        "registered": 0,
        "refused": 7,
        "errors": expected,  # row 8's 张三 read back exactly from GBK too
        "encoding": {"csv": "utf-8", "xlsx": None, "gbk": "gb18030"}[kind],
    }
    after = await attendance(db, city.a)
    from decimal import Decimal

    assert {k: v for k, v in after.items() if k not in before} == {
        ("S1", "P6-0001"): (city.a1, Decimal("81.00")),
        ("S3", "BS1-0001"): (None, Decimal("88.50")),
    }
    assert await audit_count(db, city.a) == audits + 1
    # The same file again: nothing written, nothing audited, the same errors.
    again = await send(api, region, city.a, data, name)
    assert {**again, "errors": None} == {**res, "recorded": 0, "registered": 0, "unchanged": 2, "errors": None}
    assert again["errors"] == expected
    assert await attendance(db, city.a) == after and await audit_count(db, city.a) == audits + 1


async def test_a_changed_score_is_updated_and_a_blank_never_erases_one(api, db, city):
    await world.build(db, city)
    region = api.token(Role.region_admin, [city.a])
    rows = [["session", "person", "score"], ["S1", "P1-0001", "86"], ["S1", "P4-0001", ""]]
    res = await send(api, region, city.a, csv_of(rows))
    assert (res["recorded"], res["updated"], res["unchanged"], res["refused"]) == (0, 1, 1, 0)
    after = await attendance(db, city.a)
    from decimal import Decimal

    assert after[("S1", "P1-0001")][1] == Decimal("86.00") and after[("S1", "P4-0001")][1] == Decimal("88.00")


async def test_a_hospital_imports_its_own_people_only(api, db, city):
    await world.build(db, city)
    a2 = api.token(Role.hospital_user, [city.a], city.a2)
    rows = [
        ["session", "person", "hospital", "role"],
        ["S3", "Q3-0001", "", ""],
        ["S3", "P6-0001", "", ""],  # A1's: A2 cannot see it, and may not take the id
        ["S3", "NOBODY-01", "", ""],  # no one's
    ]
    res = await send(api, a2, city.a, csv_of(rows))
    assert res["recorded"] == 1 and res["refused"] == 2 and res["registered"] == 0
    # Neutral: another hospital's id reads as an id no one has (no existence oracle).
    assert [(e["record"], e["field"], e["reason"]) for e in res["errors"]] == [
        ("row 3", "person", NOT_ON_ROSTER),
        ("row 4", "person", NOT_ON_ROSTER),
    ]


async def test_an_attendance_only_import_declares_no_roster(api, db, city):
    """B1 has no one on its roster and an entered F07: an import naming B1's would-be coders (with
    hospital and role) registers no one and records nothing: every row is refused, and B1's roster
    stays empty (no coverage from the records, the entered F07 stays)."""
    from dianshu.training.coverage import coverage_values

    await world.build(db, city)
    token = api.token(Role.region_admin, [city.b])
    async with scoped_session(db, Scope.system((city.b,))) as s:
        from dianshu.training.service import save_course, save_session

        sys = Scope.system((city.b,))
        await save_course(s, sys, city.b, "CB", "policy", "政策")
        await save_session(s, sys, city.b, "SB", "CB", "2025-04-01", "讲师", "2", "region")
    rows = [["session", "person", "hospital", "role"], *(["SB", f"B-{i:04}", city.b1, "coder"] for i in range(3))]
    res = await send(api, token, city.b, csv_of(rows))
    assert (res["recorded"], res["registered"], res["refused"]) == (0, 0, 3)
    assert {e["reason"] for e in res["errors"]} == {NOT_ON_ROSTER}
    async with scoped_session(db, Scope.system((city.b,))) as s:
        assert await coverage_values(s, [city.b], 2025) == {}


@pytest.mark.parametrize(
    ("data", "field", "reason"),
    [
        (b"session,person,name\r\nS1,P1-0001,x\r\n", "header.3", "unknown column 'name'"),
        (b"person,score\r\nP1-0001,80\r\n", "header", "missing column(s): session"),
        (b"", "file", "empty: no header row"),
        (b"PK\x03\x04 not a zip", "file", "not an XLSX workbook (not a zip file)"),
    ],
)
async def test_a_file_that_cannot_be_read_is_refused_whole(api, db, city, data, field, reason):
    region = api.token(Role.region_admin, [city.a])
    res = await send(api, region, city.a, data)
    assert res["__typename"] == "ValidationError"
    assert res["errors"][0]["record"] == "file" and res["errors"][0]["field"] == field
    assert res["errors"][0]["reason"].startswith(reason)


async def test_a_declared_encoding_the_bytes_contradict_is_refused(api, db, city):
    region = api.token(Role.region_admin, [city.a])
    res = await send(
        api, region, city.a, gbk_csv_of([["培训场次编号", "人员编号"], ["S1", "P1-0001"]]), encoding="utf-8"
    )
    assert res["__typename"] == "ValidationError"
    # 培 is C5 E0 in GBK: the file's first byte is not UTF-8.
    assert (res["errors"][0]["record"], res["errors"][0]["field"]) == ("file", "encoding")
    assert (
        "declared utf-8, but the file is not UTF-8 from byte(s) 0xC5 at offset 0 (line 1)" in res["errors"][0]["reason"]
    )


async def test_viewers_and_other_regions_may_not_import(api, db, city):
    data = csv_of([["session", "person"], ["S1", "P1-0001"]])
    viewer = api.token(Role.region_viewer, [city.a])
    assert (await send(api, viewer, city.a, data))["__typename"] == "PermissionDenied"
    other = api.token(Role.region_admin, [city.b])
    assert (await send(api, other, city.a, data))["__typename"] == "PermissionDenied"


RECORD = """
mutation($input: RecordTrainingAttendanceInput!) {
  recordTrainingAttendance(input: $input) {
    __typename
    ... on TrainingAttendancePayload {
      changed registered attendance { sessionCode personId hospital heldOn courseCode score }
    }
    ... on ValidationError { errors { record field reason } }
  }
}"""


async def test_record_one_attendance_is_retry_safe(api, db, city):
    await world.build(db, city)
    a1 = api.token(Role.hospital_user, [city.a], city.a1)
    line = {"tenant": city.a, "session": "S3", "personId": "P6-0001", "score": "75.5"}
    first = (await api.gql(a1, RECORD, {"input": line}))["recordTrainingAttendance"]
    assert first == {
        "__typename": "TrainingAttendancePayload",
        "changed": True,
        "registered": False,
        "attendance": {
            "sessionCode": "S3",
            "personId": "P6-0001",
            "hospital": city.a1,
            "heldOn": "2025-11-20",
            "courseCode": "C2",
            "score": "75.50",
        },
    }
    audits = await audit_count(db, city.a)
    again = (await api.gql(a1, RECORD, {"input": line}))["recordTrainingAttendance"]
    assert again == {**first, "changed": False} and await audit_count(db, city.a) == audits
    bad = (await api.gql(a1, RECORD, {"input": {**line, "score": "100.001"}}))["recordTrainingAttendance"]
    assert bad == {
        "__typename": "ValidationError",
        "errors": [{"record": "attendance", "field": "input.score", "reason": "must be from 0 to 100 (got 100.001)"}],
    }


WITHDRAW = """
mutation($input: WithdrawTrainingAttendanceInput!) {
  withdrawTrainingAttendance(input: $input) {
    __typename
    ... on TrainingWithdrawalPayload { sessionCode personId withdrawnBy reason changed }
    ... on ValidationError { errors { record field reason } }
    ... on NotFound { record field }
    ... on PermissionDenied { message }
  }
}"""

COVERAGE = """query($tenant: String, $year: Int!) { trainingCoverage(tenant: $tenant, year: $year) {
  nodes { hospital codersTrained physiciansTrained coverage } } }"""


async def withdraw_audits(db, tenant: str) -> int:
    async with scoped_session(db, Scope.system((tenant,))) as s:
        return (
            await s.execute(
                text("select count(*) from audit_log where tenant_id = :t and action = 'training.attendance.withdraw'"),
                {"t": tenant},
            )
        ).scalar_one()


async def test_a_withdrawn_attendance_counts_nowhere_and_a_retry_writes_nothing(api, db, city):
    """A1 2025 before: P1, P4, P5 trained of 5: 60.0000. P4's attendance at S1 withdrawn (a mistake):
    P1, P5 of 5: 2 ÷ 5 × 100 = 40.0000 (physicians trained 2 -> 1); the row stays (who, why) and the
    attendance query and download leave it out; the same withdrawal again writes and audits nothing;
    the same line recorded again is refused (a withdrawal is not undone by a re-import)."""
    await world.build(db, city)
    a1 = api.token(Role.hospital_user, [city.a], city.a1)
    line = {"tenant": city.a, "session": "S1", "personId": "P4-0001", "reason": "录入错误:未到场"}
    first = (await api.gql(a1, WITHDRAW, {"input": line}))["withdrawTrainingAttendance"]
    assert first["__typename"] == "TrainingWithdrawalPayload" and first["changed"] is True
    assert first["reason"] == "录入错误:未到场"
    audits = await withdraw_audits(db, city.a)
    assert audits == 1
    again = (await api.gql(a1, WITHDRAW, {"input": line}))["withdrawTrainingAttendance"]
    assert again == {**first, "changed": False} and await withdraw_audits(db, city.a) == 1
    cov = (await api.gql(a1, COVERAGE, {"tenant": city.a, "year": 2025}))["trainingCoverage"]["nodes"]
    assert cov == [{"hospital": city.a1, "codersTrained": 1, "physiciansTrained": 1, "coverage": "40.0000"}]
    rows = await attendance(db, city.a)
    assert ("S1", "P4-0001") in rows  # kept, never deleted
    q = """query($p: String) { trainingAttendance(personId: $p) { nodes { sessionCode } } }"""
    assert (await api.gql(a1, q, {"p": "P4-0001"}))["trainingAttendance"]["nodes"] == []
    res = await send(api, a1, city.a, csv_of([["session", "person", "score"], ["S1", "P4-0001", "88"]]))
    assert res["recorded"] == 0 and res["errors"] == [
        {"record": "row 2", "field": "session", "reason": "this attendance was withdrawn: it is not recorded again"}
    ]
    # Another hospital's row is not found (row-level security), a blank reason refused.
    a2 = api.token(Role.hospital_user, [city.a], city.a2)
    other = (await api.gql(a2, WITHDRAW, {"input": {**line, "personId": "P1-0001"}}))["withdrawTrainingAttendance"]
    assert other["__typename"] == "NotFound"
    blank = (await api.gql(a1, WITHDRAW, {"input": {**line, "reason": " "}}))["withdrawTrainingAttendance"]
    assert blank["__typename"] == "ValidationError" and blank["errors"][0]["field"] == "input.reason"


async def test_clear_score_erases_a_score_a_blank_never_does(api, db, city):
    """P1 at S1 scored 85: clearScore erases it (audited once); again: nothing written; a score and
    clearScore together refused."""
    await world.build(db, city)
    a1 = api.token(Role.hospital_user, [city.a], city.a1)
    line = {"tenant": city.a, "session": "S1", "personId": "P1-0001", "clearScore": True}
    audits = await audit_count(db, city.a)
    first = (await api.gql(a1, RECORD, {"input": line}))["recordTrainingAttendance"]
    assert first["changed"] is True and first["attendance"]["score"] is None
    assert (await attendance(db, city.a))[("S1", "P1-0001")] == (city.a1, None)
    assert await audit_count(db, city.a) == audits + 1
    again = (await api.gql(a1, RECORD, {"input": line}))["recordTrainingAttendance"]
    assert again == {**first, "changed": False} and await audit_count(db, city.a) == audits + 1
    both = (await api.gql(a1, RECORD, {"input": {**line, "score": "80"}}))["recordTrainingAttendance"]
    assert both["__typename"] == "ValidationError" and both["errors"][0]["field"] == "input.score"

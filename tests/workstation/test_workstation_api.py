"""The workstation check through the database and the API, on the hand-settled year of
tests/settlement/world.py (region A, ZJ-DRG ES23: avg cost 8,000.00, b 100; avg_cost_all 8,000.00):
hospital a1 has stays A-1, A-2 (March, discharged 2025-03-06 10:00, patients PA-1, PA-2) and A-3
(May); a2 has A-4 (April). Here a1's coefficient is 0.9 and region A's employee policy sets the
provisional point value 12.5 (a first year: no clearing of 2024 to take it from).

A pneumonia draft of 8,000.00 at a1: ES23, normal, 100 × 0.9 = 90.0000 points, 90 × 12.5 = 1,125.00."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from sqlalchemy import event, text

from dianshu.db.session import scoped_session
from dianshu.scope import Role
from dianshu.settlement.runs import policies
from dianshu.tenancy.service import upsert_hospitals, validate_roster
from dianshu.workstation.draft import DraftRefused
from dianshu.workstation.service import CACHE, StandingCache, check_draft
from tests.api import Api
from tests.conftest import scope_for
from tests.settlement.world import load_year, publish_standard
from tests.test_standards_db import builtin_versions  # noqa: F401

QUERY = """
query Check($draft: WorkstationDraftInput!, $hospital: String) {
  workstationCheck(draft: $draft, hospital: $hospital) {
    __typename
    ... on WorkstationCheck {
      hospitalCode drg basePoints coefficient points pointsType pointValue expectedPayment costSoFar
      costRatio highOutlierK highOutlierThreshold
      grouping { drg trace }
      lastStay { listId drg }
      warnings { code severity field messageZh messageEn }
    }
    ... on ValidationError { message errors { field reason } }
    ... on PermissionDenied { message }
    ... on NotFound { message field }
    ... on StateConflict { message field }
  }
}
"""


def draft(**over):
    d = {
        "patient_id": "PA-9",
        "sex": 1,
        "age_years": 64,
        "admission_time": "2025-03-15 09:00",
        "discharge_time": "2025-03-20 10:00",
        "discharge_dept": "呼吸内科",
        "diagnoses": ["J18.900", "I10.x00x002"],
        "total_cost": "8000.00",
        "fund_type": "employee",
    }
    d.update(over)
    return d


def gql_draft(d):
    camel = {
        "patient_id": "patientId",
        "age_years": "ageYears",
        "admission_time": "admissionTime",
        "discharge_time": "dischargeTime",
        "discharge_dept": "dischargeDept",
        "total_cost": "totalCost",
        "fund_type": "fundType",
        "vent_hours": "ventHours",
    }
    return {camel.get(k, k): v for k, v in d.items()}


@pytest.fixture
async def year(db, city, dispatcher, builtin_versions):  # noqa: F811
    CACHE.clear()
    await publish_standard(db, city, builtin_versions["zhejiang_2022"])
    region = await load_year(db, city, builtin_versions["zhejiang_2022"])
    rows = validate_roster(
        city.a,
        [
            {"id": city.a1, "name": f"Hospital {city.a1}", "level": 2, "type": "general", "coefficient": "0.9"},
            {"id": city.a2, "name": f"Hospital {city.a2}", "level": 2, "type": "general"},
        ],
    )
    async with scoped_session(db, region) as s:
        await upsert_hospitals(s, rows)
        await policies.set_region_policy(
            s, region, city.city, city.a, 2025, "employee", {"provisional_point_value": "12.5"}, "first year"
        )
    yield region
    CACHE.clear()


async def test_a_hospital_checks_its_draft_by_hand(db, city, year):
    a1 = scope_for(Role.hospital_user, (city.a,), city.a1)
    r = await check_draft(db, a1, draft())
    assert (r.group.drg, r.points.type, r.points.points) == ("ES23", "normal", D("90.0000"))
    assert (r.coefficient, r.point_value, r.point_value_source) == (D("0.9"), D("12.5"), "fixed")
    assert r.expected_payment == D("1125.00")
    assert (r.avg_cost, r.cost_ratio, r.high_outlier_threshold) == (D("8000.00"), D("1.0000"), D("24000.00"))
    assert r.warnings == [] and r.last_stay is None


async def test_readmission_from_the_hospitals_cases(db, city, year):
    a1 = scope_for(Role.hospital_user, (city.a,), city.a1)
    # PA-1 was discharged from a1 on 2025-03-06 (A-1, ES23); back on 03-15: 9 days, the same DRG.
    r = await check_draft(db, a1, draft(patient_id="PA-1"))
    assert r.last_stay is not None and (r.last_stay.list_id, r.last_stay.drg) == ("A-1", "ES23")
    (w,) = r.warnings
    assert w.code == "READMISSION" and "9 days" in w.message_en and "0.5" in w.message_en
    # Back on 03-22 (16 days): no warning. Before the discharge: the stay is not a "last" one.
    r = await check_draft(db, a1, draft(patient_id="PA-1", admission_time="2025-03-22 09:00",
                                        discharge_time="2025-03-25 09:00"))  # fmt: skip
    assert r.warnings == [] and r.last_stay is not None
    r = await check_draft(db, a1, draft(patient_id="PA-1", admission_time="2025-02-01 09:00",
                                        discharge_time="2025-02-05 09:00"))  # fmt: skip
    assert r.last_stay is None
    # a2 checking the same patient: a1's stay is not a2's (the rule is per hospital; RLS too).
    a2 = scope_for(Role.hospital_user, (city.a,), city.a2)
    r = await check_draft(db, a2, draft(patient_id="PA-1"))
    assert r.last_stay is None and r.warnings == []


async def test_one_sql_statement_per_check_after_warm_up(db, city, year, monkeypatch):
    a1 = scope_for(Role.hospital_user, (city.a,), city.a1)
    await check_draft(db, a1, draft(patient_id="PA-1"))  # warm-up: the standing is read once
    through_orm: list[str] = []
    reads: list[tuple] = []
    read_one = db.read_one

    def count(conn, cursor, statement, parameters, context, executemany):
        through_orm.append(statement)

    async def counted(scope, sql, *args):
        reads.append((scope, sql))
        return await read_one(scope, sql, *args)

    monkeypatch.setattr(db, "read_one", counted)
    event.listen(db.engine.sync_engine, "before_cursor_execute", count)
    try:
        found = [await check_draft(db, a1, draft(patient_id=p)) for p in ("PA-1", "PA-2", "PX-1")]
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", count)
    # Per check: one read on the driver (BEGIN, the caller's scope, the one indexed look-up of the
    # patient's last discharge, COMMIT: Database.read_one); nothing through the ORM.
    assert through_orm == []
    assert len(reads) == 3 and all(scope == a1.narrowed(city.a) for scope, _ in reads)
    assert all("from case_record c" in sql and "limit 1" in sql for _, sql in reads)
    assert [f.last_stay is not None for f in found] == [True, True, False]


ORM_COUNT = text("select count(*) from case_record where tenant_id = :t")


ORM_COUNT = text("select count(*) from case_record where tenant_id = :t")


async def test_read_one_applies_the_scope_like_a_session(db, city, year):
    """Database.read_one sets the same transaction settings as a session's begin hook, so row-level
    security sees the same caller: hospital a2 reads none of a1's cases, a1 its own, region B none."""
    sql = "select count(*) as n, current_setting('app.role') as role from case_record where tenant_id = $1"
    a1 = scope_for(Role.hospital_user, (city.a,), city.a1)
    a2 = scope_for(Role.hospital_user, (city.a,), city.a2)
    counts = {}
    for name, scope in (("a1", a1), ("a2", a2), ("B", scope_for(Role.region_admin, (city.b,))), ("none", None)):
        row = await db.read_one(scope, sql, city.a)
        async with scoped_session(db, scope) as s:
            orm = (await s.execute(ORM_COUNT, {"t": city.a})).scalar()
        counts[name] = row["n"]
        assert row["n"] == orm, name
    # year_rows: a1 has A-1..A-3, a2 has A-4.
    assert counts == {"a1": 3, "a2": 1, "B": 0, "none": 0}


async def test_the_look_up_uses_the_patient_index(db, city, year):
    from dianshu.scope import Scope

    async with scoped_session(db, Scope.system((city.a,))) as s:
        # A tiny table: without these the planner may as well read the primary key and sort; the
        # question is whether the patient index serves the look-up (its order included).
        await s.execute(text("set local enable_seqscan = off"))
        await s.execute(text("set local enable_sort = off"))
        plan = "\n".join(
            r[0]
            for r in await s.execute(
                text(
                    "explain select 1 from case_record where tenant_id = :t and patient_id = :p "
                    "and discharge_time <= now() order by discharge_time desc limit 1"
                ),
                {"t": city.a, "p": "PA-1"},
            )
        )
    assert "ix_case_record_patient" in plan, plan


async def test_who_may_check_for_which_hospital(db, city, year):
    a1 = scope_for(Role.hospital_user, (city.a,), city.a1)
    with pytest.raises(DraftRefused) as e:
        await check_draft(db, a1, draft(), hospital=city.a2)
    assert (e.value.field, e.value.kind) == ("hospital", "not_found")
    region = scope_for(Role.region_admin, (city.a,))
    with pytest.raises(DraftRefused) as e:
        await check_draft(db, region, draft())
    assert (e.value.field, e.value.kind) == ("hospital", "invalid")
    assert (await check_draft(db, region, draft(), hospital=city.a1)).points.points == D("90.0000")
    # a2's coefficient is 1.0: 100 points, 1,250.00.
    assert (await check_draft(db, region, draft(), hospital=city.a2)).expected_payment == D("1250.00")
    other = scope_for(Role.region_admin, (city.b,))
    with pytest.raises(DraftRefused) as e:
        await check_draft(db, other, draft(), hospital=city.a1)
    assert (e.value.field, e.value.kind) == ("hospital", "not_found")
    city_admin = scope_for(Role.city_admin, city.tenants)
    assert (await check_draft(db, city_admin, draft(), hospital=city.a1)).points.points == D("90.0000")


async def test_no_standard_in_force_is_a_state_conflict(db, city, year):
    region = scope_for(Role.region_admin, (city.a,))
    with pytest.raises(DraftRefused) as e:
        await check_draft(db, region, draft(admission_time="2023-03-15 09:00", discharge_time="2023-03-20 09:00"),
                          hospital=city.a1)  # fmt: skip
    assert (e.value.field, e.value.kind) == ("standard", "state")


async def test_graphql_typed_result_and_errors(settings, db, city, year):
    api = Api(settings, db)
    a1 = api.token(Role.hospital_user, [city.a], city.a1)
    data = await api.gql(a1, QUERY, {"draft": gql_draft(draft(patient_id="PA-1"))})
    c = data["workstationCheck"]
    assert c["__typename"] == "WorkstationCheck"
    assert (c["drg"], c["points"], c["pointValue"], c["expectedPayment"]) == ("ES23", "90.0000", "12.5", "1125.00")
    assert (c["highOutlierK"], c["highOutlierThreshold"], c["costRatio"]) == ("3", "24000.00", "1.0000")
    assert c["grouping"]["trace"] and c["lastStay"] == {"listId": "A-1", "drg": "ES23"}
    assert [w["code"] for w in c["warnings"]] == ["READMISSION"] and c["warnings"][0]["field"] == "draft.admissionTime"

    bad = await api.gql(a1, QUERY, {"draft": gql_draft(draft(vent_hours="-1", total_cost="8000.001"))})
    err = bad["workstationCheck"]
    assert err["__typename"] == "ValidationError"
    assert {e["field"] for e in err["errors"]} == {"draft.ventHours", "draft.totalCost"}

    denied = await api.gql(a1, QUERY, {"draft": gql_draft(draft()), "hospital": city.a2})
    assert denied["workstationCheck"]["__typename"] == "PermissionDenied"

    region = api.token(Role.region_admin, [city.a])
    missing = await api.gql(region, QUERY, {"draft": gql_draft(draft())})
    assert missing["workstationCheck"]["__typename"] == "ValidationError"
    assert missing["workstationCheck"]["errors"][0]["field"] == "hospital"
    ok = await api.gql(region, QUERY, {"draft": gql_draft(draft()), "hospital": city.a1})
    assert ok["workstationCheck"]["hospitalCode"] == city.a1
    other = api.token(Role.region_admin, [city.b])
    nf = await api.gql(other, QUERY, {"draft": gql_draft(draft()), "hospital": city.a1})
    assert nf["workstationCheck"]["__typename"] == "NotFound"
    expert = api.token(Role.expert, [city.a])
    assert (await api.gql(expert, QUERY, {"draft": gql_draft(draft())}))["workstationCheck"][
        "__typename"
    ] == "PermissionDenied"


async def test_rest_endpoint_auth_and_error_shapes(settings, db, city, year):
    api = Api(settings, db)
    a1 = {"Authorization": f"Bearer {api.token(Role.hospital_user, [city.a], city.a1)}"}
    post = api.client.post
    r = await post("/workstation/check", json={"draft": draft()})
    assert r.status_code == 401 and r.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    r = await post("/workstation/check", json={"draft": draft(patient_id="PA-1")}, headers=a1)
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["drg"], body["points"], body["expected_payment"]) == ("ES23", "90.0000", "1125.00")
    assert body["grouping"]["trace"] and [w["code"] for w in body["warnings"]] == ["READMISSION"]
    assert body["warnings"][0]["message_zh"] and body["last_stay"]["list_id"] == "A-1"

    r = await post("/workstation/check", json={"draft": {**draft(), "foo": 1}}, headers=a1)
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "draft.foo"
    r = await post("/workstation/check", json={"draft": draft(vent_hours=1.5)}, headers=a1)
    assert r.status_code == 400 and r.json()["errors"] == [
        {"field": "draft.vent_hours", "reason": "decimals travel as strings, not float (1.5)"}
    ]
    r = await post("/workstation/check", json={"draft": draft(), "extra": 1}, headers=a1)
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "extra"
    r = await post("/workstation/check", content=b"[1, 2", headers=a1)
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "body"
    r = await post("/workstation/check", json={"draft": draft(), "hospital": city.a2}, headers=a1)
    assert r.status_code == 403 and r.json()["errors"][0]["field"] == "hospital"
    region = {"Authorization": f"Bearer {api.token(Role.region_admin, [city.b])}"}
    r = await post("/workstation/check", json={"draft": draft(), "hospital": city.a1}, headers=region)
    assert r.status_code == 404 and r.json()["errors"][0]["field"] == "hospital"
    expert = {"Authorization": f"Bearer {api.token(Role.expert, [city.a])}"}
    r = await post("/workstation/check", json={"draft": draft()}, headers=expert)
    assert r.status_code == 403 and r.json()["errors"][0]["field"] == "role"
    region_a = {"Authorization": f"Bearer {api.token(Role.region_admin, [city.a])}"}
    old = draft(admission_time="2023-03-15 09:00", discharge_time="2023-03-20 09:00")
    r = await post("/workstation/check", json={"draft": old, "hospital": city.a1}, headers=region_a)
    assert r.status_code == 409 and r.json()["errors"][0]["field"] == "standard"


async def test_a_stale_standing_is_answered_while_it_is_read_again(db, city, year):
    """After the TTL the cached standing still answers (no check waits for a reload) while one
    background read brings the change in: here the provisional point value 12.5 -> 20."""
    cache = StandingCache(ttl=0)
    a1 = scope_for(Role.hospital_user, (city.a,), city.a1)
    assert (await check_draft(db, a1, draft(), cache=cache)).expected_payment == D("1125.00")
    async with scoped_session(db, year) as s:
        await policies.set_region_policy(
            s, year, city.city, city.a, 2025, "employee", {"provisional_point_value": "20"}, "revised"
        )
    stale = await check_draft(db, a1, draft(), cache=cache)
    assert stale.expected_payment == D("1125.00")  # the old standing; a read has started
    (task,) = cache._refreshing.values()
    await task
    # 90 points × 20 = 1,800.00
    assert (await check_draft(db, a1, draft(), cache=cache)).expected_payment == D("1800.00")


async def test_isolation_every_role_against_every_hospital(settings, db, city, year):
    """The check is answered for a hospital exactly when the caller may see that hospital's rows:
    a hospital user for its own, a region for its hospitals, the city for all, an expert for none."""
    api = Api(settings, db)
    callers = {
        "city_admin": (api.token(Role.city_admin, [city.city]), {city.a1, city.a2, city.b1}),
        "city_viewer": (api.token(Role.city_viewer, [city.city]), {city.a1, city.a2, city.b1}),
        "region_admin_A": (api.token(Role.region_admin, [city.a]), {city.a1, city.a2}),
        "region_viewer_B": (api.token(Role.region_viewer, [city.b]), {city.b1}),
        "hospital_A1": (api.token(Role.hospital_user, [city.a], city.a1), {city.a1}),
        "hospital_A2": (api.token(Role.hospital_user, [city.a], city.a2), {city.a2}),
        "expert_A": (api.token(Role.expert, [city.a]), set()),
    }
    for name, (token, allowed) in callers.items():
        for hospital in (city.a1, city.a2, city.b1):
            data = await api.gql(token, QUERY, {"draft": gql_draft(draft(patient_id="PA-1")), "hospital": hospital})
            got = data["workstationCheck"]
            if hospital in allowed:
                assert got["__typename"] == "WorkstationCheck", (name, hospital, got)
                assert got["hospitalCode"] == hospital
                # PA-1's stay at a1 shows only in a1's own check (the rule is per hospital).
                assert (got["lastStay"] is not None) == (hospital == city.a1), (name, hospital)
            else:
                assert got["__typename"] in ("PermissionDenied", "NotFound"), (name, hospital, got)
                # The same answer whether the hospital exists elsewhere or not: a region's refusal
                # reads as for a code that is no hospital at all.
                if got["__typename"] == "NotFound":
                    ghost = await api.gql(token, QUERY, {"draft": gql_draft(draft()), "hospital": "H99999999999"})
                    assert ghost["workstationCheck"]["message"].replace("H99999999999", hospital) == got["message"]

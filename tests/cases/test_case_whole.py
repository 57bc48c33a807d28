"""A hospital's own cases, whole, in the API: each case with its grouping per scheme version, its
points, case type and reason from the year's latest points run and its settlement month; one id
(Case.id) taken by caseGroupings and caseTrace; the cases filtered by month, department, DRG, case
type, outlier and doctor (主诊医师, chfpdr_code)."""

from __future__ import annotations

from decimal import Decimal as D

from dianshu.db.session import scoped_session
from dianshu.scope import Role
from dianshu.settlement.runs import budgets, policies
from dianshu.settlement.runs.points import POINTS
from tests.api import Api
from tests.cases.rows import csv_bytes
from tests.cases.test_ingestion import errors, send
from tests.settlement.world import load_year, publish_standard, run_job, stay
from tests.test_standards_db import builtin_versions  # noqa: F401


def rows(city):
    """ES23 (b = 100 points, average cost 8,000): A-1, A-2 and A-3 cost 8,000 (ratio 1: normal,
    100 points); A-4 costs 40,000 (ratio 5 > k = 3 for b ≤ 100: a high outlier, 100 + 100 × (5 − 3)
    = 300 points)."""
    out = [
        stay("A-1", city.a1, 8000, 3) | {"chfpdr_code": "D01"},
        stay("A-2", city.a1, 8000, 3) | {"chfpdr_code": "D02"},
        stay("A-3", city.a1, 8000, 5) | {"chfpdr_code": "D01"},
        stay("A-4", city.a2, 40000, 4) | {"dscg_caty": "心内科"},
    ]
    return out


async def test_cases_whole_one_id_and_filters(settings, db, city, dispatcher, builtin_versions):  # noqa: F811
    zj = builtin_versions["zhejiang_2022"]
    await publish_standard(db, city, zj)
    region = await load_year(db, city, zj, rows(city))
    async with scoped_session(db, region) as s:
        await policies.set_region_policy(
            s, region, city.city, city.a, 2025, "employee", {"provisional_point_value": "100"}, "t"
        )
        await budgets.set_budget(
            s, region, city.city, city.a, 2025, "employee", growth_rate="0", last_year_spending="60000", reason="t"
        )
    await run_job(db, region, city.a, POINTS, {"year": 2025, "month": 12})

    api = Api(settings, db)
    a1 = api.token(Role.hospital_user, [city.a], city.a1)
    reg = api.token(Role.region_admin, [city.a])

    async def cases(token, **args):
        extra = "".join(f", {k}: {v}" for k, v in args.items())
        q = (
            "query($t: String!) { cases(tenant: $t, first: 50" + extra + ") { nodes { id databaseId listId "
            "doctorCode dischargeDept settlementMonth points { drg type points reason caseNodeId } "
            "groupings { drg versionId caseNodeId } "
            "} } }"
        )
        return (await api.gql(token, q, {"t": city.a}))["cases"]["nodes"]

    # Hospital A1 sees its own three, each whole.
    mine = {c["listId"]: c for c in await cases(a1)}
    assert sorted(mine) == ["A-1", "A-2", "A-3"]
    for lid, month, doctor in (("A-1", "2025-03", "D01"), ("A-2", "2025-03", "D02"), ("A-3", "2025-05", "D01")):
        c = mine[lid]
        assert (c["doctorCode"], c["settlementMonth"], c["dischargeDept"]) == (doctor, month, "呼吸内科")
        assert c["groupings"] == [{"drg": "ES23", "versionId": str(zj), "caseNodeId": c["id"]}]
        assert c["points"]["caseNodeId"] == c["id"]  # one id for the case everywhere
        assert (c["points"]["drg"], c["points"]["type"], D(c["points"]["points"])) == ("ES23", "normal", D(100))
        assert c["points"]["reason"]

    # The region's high outlier: 300 points, its reason in words.
    a4 = await cases(reg, department='"心内科"')
    assert [c["listId"] for c in a4] == ["A-4"]
    assert (a4[0]["points"]["type"], D(a4[0]["points"]["points"])) == ("high_outlier", D(300))

    def ids(nodes):
        return sorted(c["listId"] for c in nodes)

    assert ids(await cases(reg, doctor='"D01"')) == ["A-1", "A-3"]
    assert ids(await cases(a1, month='"2025-03"')) == ["A-1", "A-2"]
    assert ids(await cases(reg, caseType="high_outlier")) == ["A-4"]
    assert ids(await cases(reg, outlier="true")) == ["A-4"]
    assert ids(await cases(reg, outlier="false")) == ["A-1", "A-2", "A-3"]
    assert ids(await cases(reg, drg='"ES23"')) == ["A-1", "A-2", "A-3", "A-4"]
    assert ids(await cases(reg, drg='"ES23"', version=f'"{zj}"')) == ["A-1", "A-2", "A-3", "A-4"]
    assert ids(await cases(reg, drg='"XX99"')) == []
    assert ids(await cases(a1, doctor='"D01"', month='"2025-05"')) == ["A-3"]

    # One id everywhere: caseGroupings and caseTrace take the Case's id; the Int caseId still works.
    one = mine["A-1"]
    by_id = await api.gql(
        a1, "query($c: ID!) { caseGroupings(case: $c) { nodes { drg caseId caseNodeId } } }", {"c": one["id"]}
    )
    assert by_id["caseGroupings"]["nodes"] == [{"drg": "ES23", "caseId": one["databaseId"], "caseNodeId": one["id"]}]
    # The id it gives opens the case: node(id:).
    opened = await api.gql(a1, "query($c: ID!) { node(id: $c) { ... on Case { listId } } }", {"c": one["id"]})
    assert opened["node"] == {"listId": "A-1"}
    old = await api.gql(
        a1,
        "query($t: String!, $n: Int!) { caseGroupings(tenant: $t, caseId: $n) { nodes { drg } } }",
        {"t": city.a, "n": one["databaseId"]},
    )
    assert old["caseGroupings"]["nodes"] == [{"drg": "ES23"}]
    trace = await api.gql(
        a1, "query($c: ID!, $v: ID!) { caseTrace(case: $c, version: $v) { drg } }", {"c": one["id"], "v": str(zj)}
    )
    assert trace["caseTrace"]["drg"] == "ES23"
    for q, v in (
        ("query { caseGroupings { nodes { drg } } }", {}),
        (
            "query($c: ID!, $n: Int!) { caseGroupings(case: $c, caseId: $n) { nodes { drg } } }",
            {"c": one["id"], "n": one["databaseId"] + 1},
        ),
    ):
        r = (await api.post(a1, q, v)).json()
        assert r["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "field": "case"}
    # Another hospital's case by its id: nothing (row-level security).
    a4_id = a4[0]["id"]
    hidden = await api.gql(a1, "query($c: ID!) { caseGroupings(case: $c) { nodes { drg } } }", {"c": a4_id})
    assert hidden["caseGroupings"]["nodes"] == []
    # A version without a DRG is refused by field.
    r = (await api.post(reg, f'query {{ cases(tenant: "{city.a}", version: "{zj}") {{ nodes {{ id }} }} }}')).json()
    assert r["errors"][0]["extensions"]["field"] == "version"


async def test_a_doctor_code_is_checked_and_optional(db, city, dispatcher):
    """chfpdr_code: letters, digits, _ . - and at most 30 characters; a row without it is as before."""
    from tests.conftest import scope_for

    region = scope_for(Role.region_admin, (city.a,))
    rows = [
        stay("B-1", city.a1, 8000, 6) | {"chfpdr_code": "D 01"},
        stay("B-2", city.a1, 8000, 6) | {"chfpdr_code": "D" * 31},
        stay("B-3", city.a1, 8000, 6) | {"chfpdr_code": "D-01.a_2"},
        stay("B-4", city.a1, 8000, 6),
    ]
    _, outcome, result, batch = await send(db, region, city.a, csv_bytes(rows), "doctor-codes")
    assert outcome == "succeeded" and (result["accepted"], result["refused"]) == (2, 2)
    refused = [(n, field) for n, field, _ in await errors(db, city.a, batch.id)]
    assert refused == [(1, "chfpdr_code"), (2, "chfpdr_code")]
    # The same file again: nothing changes (the rows without a doctor hash as they always did).
    _, _, again, _ = await send(db, region, city.a, csv_bytes(rows[2:]), "doctor-codes-again")
    assert (again["accepted"], again["unchanged"]) == (0, 2)

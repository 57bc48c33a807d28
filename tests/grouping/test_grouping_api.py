"""Grouping through the API: start jobs, filter cases by DRG, explain a stored case, read and
export a comparison."""

from __future__ import annotations

import uuid

import pytest

from dianshu.jobs import service as jobs
from dianshu.scope import Role
from tests.api import Api
from tests.cases.rows import csv_bytes, row
from tests.cases.test_ingestion import send
from tests.conftest import scope_for
from tests.test_standards_db import builtin_versions  # noqa: F401

RUN = """mutation($i: GroupCasesInput!) { groupCases(input: $i) { __typename ... on JobPayload { job { databaseId } }
          ... on PermissionDenied { message } } }"""
CMP = """mutation($i: CompareSchemesInput!) { compareSchemes(input: $i) { __typename
          ... on JobPayload { job { databaseId } } ... on PermissionDenied { message } } }"""


@pytest.fixture
async def api(settings, db):
    a = Api(settings, db)
    yield a
    await a.client.aclose()


async def test_grouping_through_the_api(api, db, city, dispatcher, builtin_versions):  # noqa: F811
    await send(
        db,
        scope_for(Role.region_admin, (city.a,)),
        city.a,
        csv_bytes([row("G1", city.a1), row("G2", city.a2, diag_codes="I63.900", adm_cond_types="1")]),
        "g",
    )
    token = api.token(Role.region_admin, [city.a])
    zj, chs = str(builtin_versions["zhejiang_2022"]), str(builtin_versions["chs_drg_11"])
    out = await api.gql(token, RUN, {"i": {"tenant": city.a, "fromMonth": "2024-03", "versions": [zj]}})
    assert await jobs.execute(db, city.a, uuid.UUID(out["groupCases"]["job"]["databaseId"])) == "succeeded"
    found = await api.gql(token, 'query($v: ID!) { cases(drg: "BR25", version: $v) { nodes { listId } } }', {"v": zj})
    assert [c["listId"] for c in found["cases"]["nodes"]] == ["G2"]
    cases = await api.gql(token, "{ cases { nodes { databaseId listId } } }")
    case_id = next(c["databaseId"] for c in cases["cases"]["nodes"] if c["listId"] == "G1")
    stored = await api.gql(
        token,
        "query($t: String!, $c: Int!) { caseGroupings(tenant: $t, caseId: $c) { nodes { drg } } }",
        {"t": city.a, "c": case_id},
    )
    assert stored["caseGroupings"]["nodes"] == [{"drg": "ES23"}]
    trace = await api.gql(
        token,
        "query($t: String!, $c: Int!, $v: ID!) { caseTrace(tenant: $t, caseId: $c, version: $v) { drg trace } }",
        {"t": city.a, "c": case_id, "v": zj},
    )
    assert trace["caseTrace"]["drg"] == "ES23" and trace["caseTrace"]["trace"][-1].startswith("  -> ES23")
    # Another hospital's user cannot read this case's trace.
    other = api.token(Role.hospital_user, [city.a], city.a2)
    hidden = await api.gql(
        other,
        "query($t: String!, $c: Int!, $v: ID!) { caseTrace(tenant: $t, caseId: $c, version: $v) { drg } }",
        {"t": city.a, "c": case_id, "v": zj},
    )
    assert hidden["caseTrace"] is None

    out = await api.gql(token, CMP, {"i": {"tenant": city.a, "fromMonth": "2024-03", "base": zj, "other": chs}})
    job_id = out["compareSchemes"]["job"]["databaseId"]
    assert await jobs.execute(db, city.a, uuid.UUID(job_id)) == "succeeded"
    t = await api.gql(
        token,
        'query($j: ID!) { groupingComparison(job: $j, level: drg) { nodes { hospitalCode fromCode toCode cases } } }',
        {"j": job_id},
    )
    assert {(n["hospitalCode"], n["fromCode"], n["toCode"], n["cases"]) for n in t["groupingComparison"]["nodes"]} == {
        (city.a1, "ES23", "ES35", 1),
        (city.a2, "BR25", "BR25", 1),
    }
    r = await api.client.get(
        f"/grouping/{city.a}/comparisons/{job_id}.csv?level=adrg", headers={"Authorization": f"Bearer {token}"}
    )
    assert r.status_code == 200 and r.text.splitlines()[0] == "fixmedins_code,from_adrg,to_adrg,cases"
    assert f"{city.a1},ES2,ES3,1" in r.text.splitlines()
    # Hospital users and viewers cannot start grouping jobs.
    for tok in (api.token(Role.hospital_user, [city.a], city.a1), api.token(Role.region_viewer, [city.a])):
        denied = await api.gql(tok, RUN, {"i": {"tenant": city.a, "fromMonth": "2024-03"}})
        assert denied["groupCases"]["__typename"] == "PermissionDenied"

"""Grouping through the API: start jobs, filter cases by DRG, explain a stored case, read and
export a comparison."""

from __future__ import annotations

import io
import uuid

import pytest
from openpyxl import load_workbook

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
        "query($j: ID!) { groupingComparison(job: $j, level: drg) { nodes { hospitalCode fromCode toCode cases } } }",
        {"j": job_id},
    )
    assert {(n["hospitalCode"], n["fromCode"], n["toCode"], n["cases"]) for n in t["groupingComparison"]["nodes"]} == {
        (city.a1, "ES23", "ES35", 1),
        (city.a2, "BR25", "BR25", 1),
    }
    r = await api.client.get(
        f"/grouping/{city.a}/comparisons/{job_id}.csv?level=adrg", headers={"Authorization": f"Bearer {token}"}
    )
    # UTF-8 with a BOM, CRLF, Chinese headers; a1's one case moved from ES2 to ES3 (ES23 → ES35).
    assert r.status_code == 200 and r.content.startswith(b"\xef\xbb\xbf")
    lines = r.content.decode("utf-8-sig").split("\r\n")
    assert lines[0] == "医院编码,原ADRG组,新ADRG组,病例数"
    assert f"{city.a1},ES2,ES3,1" in lines
    assert f'filename="comparison-{job_id}-adrg.csv"' in r.headers["content-disposition"]
    en = await api.client.get(
        f"/grouping/{city.a}/comparisons/{job_id}.csv?level=drg&lang=en", headers={"Authorization": f"Bearer {token}"}
    )
    assert en.content.decode("utf-8-sig").splitlines()[0] == "Hospital code,From DRG,To DRG,Cases"
    # The same table as XLSX (.xlsx, or format= on the path without one): cases a number; by
    # hospital: a1 (ES23 → ES35, 1 case), a2 (BR25 → BR25, 1 case).
    for path in (f"{job_id}.xlsx?level=drg", f"{job_id}?level=drg&format=xlsx"):
        x = await api.client.get(f"/grouping/{city.a}/comparisons/{path}", headers={"Authorization": f"Bearer {token}"})
        assert x.status_code == 200, x.text
        assert list(load_workbook(io.BytesIO(x.content)).active.iter_rows(values_only=True)) == [
            ("医院编码", "原DRG组", "新DRG组", "病例数"),
            (city.a1, "ES23", "ES35", 1),
            (city.a2, "BR25", "BR25", 1),
        ]
    bad = await api.client.get(
        f"/grouping/{city.a}/comparisons/{job_id}.csv?level=mdc", headers={"Authorization": f"Bearer {token}"}
    )
    assert bad.status_code == 400 and bad.json()["errors"] == [{"field": "level", "reason": "must be drg or adrg"}]
    # Hospital users and viewers cannot start grouping jobs.
    for tok in (api.token(Role.hospital_user, [city.a], city.a1), api.token(Role.region_viewer, [city.a])):
        denied = await api.gql(tok, RUN, {"i": {"tenant": city.a, "fromMonth": "2024-03"}})
        assert denied["groupCases"]["__typename"] == "PermissionDenied"

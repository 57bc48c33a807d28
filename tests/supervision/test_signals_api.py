"""Signals and anomalies through GraphQL, on the hand-built world of test_signals.py (figures worked
out there): the bureau runs the jobs (typed results), a hospital reads its own rows only, the queue
pages by priority, case anomalies carry typed drivers."""

from __future__ import annotations

import uuid

import pytest

from dianshu.jobs import service as jobs
from dianshu.scope import Role
from tests.api import Api
from tests.supervision.test_signals import world  # noqa: F401
from tests.test_standards_db import builtin_versions  # noqa: F401


@pytest.fixture
async def api(settings, db):
    a = Api(settings, db)
    yield a
    await a.client.aclose()


RUN = """mutation($t: String!, $y: Int!) {
  runSignals(tenant: $t, year: $y) { __typename ... on SignalsJobPayload { job { databaseId } }
    ... on PermissionDenied { message } }
  runAnomaly(tenant: $t, year: $y) { __typename ... on AnomalyJobPayload { job { databaseId } }
    ... on PermissionDenied { message } } }"""

RESULT = """query($id: ID!) { job(id: $id) { status result { __typename
  ... on SignalsJobResult { year firstYear peers regions hospitals flagged }
  ... on AnomalyJobResult { year peers cases seed } } } }"""

SIGNALS = """query($t: String!, $h: String, $f: Boolean!, $after: String) {
  hospitalSignals(tenant: $t, year: 2025, hospital: $h, flaggedOnly: $f, first: 3, after: $after) {
    nodes { hospital area value percentile flag peers peerScope trend history { year value percentile } }
    pageInfo { hasNextPage endCursor } } }"""

QUEUE = """query($t: String!, $after: String) { signalQueue(tenant: $t, year: 2025, first: 2, after: $after) {
  nodes { hospital area priority flag } pageInfo { hasNextPage endCursor } } }"""

ANOMALIES = """query($t: String!) {
  caseAnomalies(tenant: $t, year: 2025, first: 2) { nodes { hospital listId rank score caseNodeId
    drivers { feature value peerMedian } } }
  hospitalAnomalies(tenant: $t, year: 2025) { nodes { hospital cases meanScore rank } } }"""


async def run_jobs(api, db, w):
    token = api.token(Role.region_admin, [w.a])
    out = await api.gql(token, RUN, {"t": w.a, "y": 2025})
    results = {}
    for field in ("runSignals", "runAnomaly"):
        job_id = out[field]["job"]["databaseId"]
        assert await jobs.execute(db, w.a, uuid.UUID(job_id)) == "succeeded"
        results[field] = (await api.gql(token, RESULT, {"id": job_id}))["job"]["result"]
    return results


async def test_the_bureau_runs_and_a_hospital_reads_its_own(api, db, dispatcher, world):  # noqa: F811
    w = world
    hospital = api.token(Role.hospital_user, [w.a], w.a1)
    refused = await api.gql(hospital, RUN, {"t": w.a, "y": 2025})
    assert refused["runSignals"]["__typename"] == "PermissionDenied"
    assert refused["runAnomaly"]["__typename"] == "PermissionDenied"

    results = await run_jobs(api, db, w)
    assert results["runSignals"] == {
        "__typename": "SignalsJobResult",
        "year": 2025,
        "firstYear": 2023,
        "peers": "region",
        "regions": 1,
        "hospitals": 6,
        # flagged in 2025: one_day_stay 2, mcc_cc 2, error_prone 4, own_pay 2, readmission_short 5,
        # readmission_long 3 (test_signals.py's table)
        "flagged": 18,
    }
    assert results["runAnomaly"]["__typename"] == "AnomalyJobResult" and results["runAnomaly"]["cases"] == 21

    # a1 sees its own signals only; flagged: error_prone, mcc_cc, own_pay (high), the readmissions
    # and one_day_stay (low).
    mine = (await api.gql(hospital, SIGNALS, {"t": w.a, "h": None, "f": True}))["hospitalSignals"]
    assert {n["hospital"] for n in mine["nodes"]} == {w.a1} and mine["pageInfo"]["hasNextPage"]
    first = mine["nodes"][0]
    assert (first["area"], first["value"], first["percentile"], first["flag"]) == (
        "error_prone",
        "0.5000",
        "100.00",
        "high",
    )
    assert first["peerScope"] == "region" and first["history"] == [
        {"year": 2025, "value": "0.5000", "percentile": "100.00"}
    ]
    rest = await api.gql(hospital, SIGNALS, {"t": w.a, "h": None, "f": True, "after": mine["pageInfo"]["endCursor"]})
    areas = [n["area"] for n in mine["nodes"] + rest["hospitalSignals"]["nodes"]]
    assert areas == ["error_prone", "mcc_cc", "one_day_stay", "own_pay", "readmission_long", "readmission_short"]
    # Asking for another hospital shows nothing.
    other = await api.gql(hospital, SIGNALS, {"t": w.a, "h": w.a5, "f": False})
    assert other["hospitalSignals"]["nodes"] == []

    # a5's trend over 2023-2025 (region admin).
    region = api.token(Role.region_admin, [w.a])
    a5 = (await api.gql(region, SIGNALS, {"t": w.a, "h": w.a5, "f": True}))["hospitalSignals"]["nodes"]
    one_day = next(n for n in a5 if n["area"] == "one_day_stay")
    assert one_day["trend"] == "0.7500" and [h["year"] for h in one_day["history"]] == [2023, 2025]


async def test_the_queue_pages_by_priority(api, db, dispatcher, world):  # noqa: F811
    w = world
    await run_jobs(api, db, w)
    region = api.token(Role.region_admin, [w.a])
    page = (await api.gql(region, QUEUE, {"t": w.a}))["signalQueue"]
    got = [(n["hospital"], n["area"], n["priority"]) for n in page["nodes"]]
    assert got == [(w.a1, "own_pay", "4.0000"), (w.a5, "one_day_stay", "4.0000")]
    page2 = (await api.gql(region, QUEUE, {"t": w.a, "after": page["pageInfo"]["endCursor"]}))["signalQueue"]
    got2 = [(n["hospital"], n["area"], n["priority"]) for n in page2["nodes"]]
    assert got2 == [(w.a5, "own_pay", "4.0000"), (w.a1, "mcc_cc", "3.0000")]
    # A hospital's queue is its own flags.
    a3 = api.token(Role.hospital_user, [w.a], w.a3)
    mine = (await api.gql(a3, QUEUE, {"t": w.a}))["signalQueue"]["nodes"]
    assert mine[0] == {"hospital": w.a3, "area": "readmission_short", "priority": "1.0000", "flag": "high"}
    assert {n["hospital"] for n in mine} == {w.a3}


async def test_case_anomalies_have_typed_drivers_and_stay_in_scope(api, db, dispatcher, world):  # noqa: F811
    w = world
    await run_jobs(api, db, w)
    a1 = api.token(Role.hospital_user, [w.a], w.a1)
    out = await api.gql(a1, ANOMALIES, {"t": w.a})
    nodes = out["caseAnomalies"]["nodes"]
    assert nodes and {n["hospital"] for n in nodes} == {w.a1}
    assert nodes[0]["rank"] < nodes[1]["rank"] and len(nodes[0]["drivers"]) == 3
    opened = await api.gql(
        a1, "query($c: ID!) { node(id: $c) { ... on Case { listId } } }", {"c": nodes[0]["caseNodeId"]}
    )
    assert opened["node"] == {"listId": nodes[0]["listId"]}  # the Case's global id
    assert nodes[0]["drivers"][0]["feature"] in {
        "cost_ratio",
        "los_ratio",
        "mcc_count",
        "cc_count",
        "complication_mix",
        "readmission_gap",
        "drug_share",
        "materials_share",
        "exam_lab_share",
        "own_pay_share",
    }
    assert [n["hospital"] for n in out["hospitalAnomalies"]["nodes"]] == [w.a1]
    # Another region's admin is refused region A.
    other = api.token(Role.region_admin, [w.b])
    r = await api.post(other, ANOMALIES, {"t": w.a})
    assert r.json().get("errors") and "outside your scope" in r.json()["errors"][0]["message"]

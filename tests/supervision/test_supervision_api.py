"""Supervision through the typed API: the rule catalogue, a run as a job with its typed result,
findings as a connection (a hospital sees its own), and the bureau's decisions with typed errors."""

from __future__ import annotations

import uuid

import pytest

from dianshu.jobs import service as jobs
from dianshu.scope import Role
from dianshu.supervision.catalogue import RULES
from tests.api import Api
from tests.supervision.test_findings import split_year  # noqa: F401
from tests.test_standards_db import builtin_versions  # noqa: F401

RUN = """mutation($t: String!) { runSupervision(tenant: $t, year: 2025) { __typename
  ... on SupervisionJobPayload { created job { id databaseId kind status } }
  ... on ValidationError { errors { field reason } } ... on PermissionDenied { message } } }"""
RESULT = """query($id: ID!) { job(id: $id) { status result { __typename ... on SupervisionJobResult {
  tenantCodes year months findings new stale rules { rule found new stale } skipped { rule reason } } } } }"""
FINDINGS = """query($t: String!, $r: String, $s: FindingState) { findings(tenant: $t, year: 2025, rule: $r, state: $s) {
  nodes { id databaseId hospital rule level severity state stale decidedBy reason serious priority
    evidence { figure threshold unit variant figures { name value } }
    cases { listId hospital subject caseNodeId } } } }"""
DECIDED = """__typename ... on FindingPayload { finding { state serious reason decidedBy } }
  ... on ValidationError { errors { field reason } } ... on NotFound { record field }
  ... on StateConflict { field reason } ... on PermissionDenied { message }"""
CONFIRM = "mutation($i: ConfirmFindingInput!) { confirmFinding(input: $i) { " + DECIDED + " } }"
DISMISS = "mutation($i: DecideFindingInput!) { dismissFinding(input: $i) { " + DECIDED + " } }"


@pytest.fixture
async def api(settings, db, split_year):  # noqa: F811
    a = Api(settings, db)
    yield a
    await a.client.aclose()


async def test_supervision_through_the_typed_api(api, db, city):
    region = api.token(Role.region_admin, [city.a])
    a1 = api.token(Role.hospital_user, [city.a], city.a1)
    a2 = api.token(Role.hospital_user, [city.a], city.a2)
    rules = (await api.gql(a1, "{ supervisionRules { code level severity violation parameters } }"))["supervisionRules"]
    assert [r["code"] for r in rules] == [r.code for r in RULES]
    split = next(r for r in rules if r["code"] == "split_admission")
    assert split == {
        "code": "split_admission",
        "level": "case",
        "severity": "high",
        "violation": "split_admission",
        "parameters": ["supervisionSplitDays", "supervisionSplitGapMinDays", "supervisionSplitGapMaxDays"],
    }

    assert (await api.gql(a1, RUN, {"t": city.a}))["runSupervision"]["__typename"] == "PermissionDenied"
    started = (await api.gql(region, RUN, {"t": city.a}))["runSupervision"]
    assert started["job"]["kind"] == "supervision_run" and started["created"] is True
    assert await jobs.execute(db, city.a, uuid.UUID(started["job"]["databaseId"])) == "succeeded"
    done = (await api.gql(region, RESULT, {"id": started["job"]["id"]}))["job"]
    assert done["status"] == "succeeded"
    result = done["result"]
    assert result["__typename"] == "SupervisionJobResult" and result["tenantCodes"] == [city.a]
    assert {"rule": "split_admission", "found": 1, "new": 1, "stale": 0} in result["rules"]

    nodes = (await api.gql(region, FINDINGS, {"t": city.a, "r": "split_admission"}))["findings"]["nodes"]
    (f,) = nodes
    assert (f["hospital"], f["state"], f["severity"], f["priority"]) == (city.a1, "open", "high", None)
    # Admitted 3-12 after a discharge on 3-10: a gap of 2 days, within 15 (same DRG) and 1–2.
    assert f["evidence"]["figure"] == "2.0000" and f["evidence"]["unit"] == "days"
    assert f["evidence"]["variant"] == "same_group_short_gap"
    assert {"name": "readmission", "value": "S-2"} in f["evidence"]["figures"]
    assert [{k: v for k, v in c.items() if k != "caseNodeId"} for c in f["cases"]] == [
        {"listId": "S-1", "hospital": city.a1, "subject": False},
        {"listId": "S-2", "hospital": city.a1, "subject": True},
    ]
    # Each case's id opens it (the Case's global id, as everywhere).
    for c in f["cases"]:
        opened = await api.gql(
            region, "query($c: ID!) { node(id: $c) { ... on Case { listId } } }", {"c": c["caseNodeId"]}
        )
        assert opened["node"] == {"listId": c["listId"]}
    # Hospital a1 sees its own finding; a2 sees none of a1's.
    assert [n["id"] for n in (await api.gql(a1, FINDINGS, {"t": city.a}))["findings"]["nodes"]] == [
        n["id"]
        for n in (await api.gql(region, FINDINGS, {"t": city.a, "r": None}))["findings"]["nodes"]
        if n["hospital"] == city.a1
    ]
    assert (await api.gql(a2, FINDINGS, {"t": city.a, "r": "split_admission"}))["findings"]["nodes"] == []

    # Decisions: the bureau only, a reason required, retry-safe, conflicts typed.
    ask = {"tenant": city.a, "finding": f["id"], "serious": True, "reason": "audit: one stay split in two"}
    assert (await api.gql(a1, CONFIRM, {"i": ask}))["confirmFinding"]["__typename"] == "PermissionDenied"
    blank = (await api.gql(region, CONFIRM, {"i": {**ask, "reason": " "}}))["confirmFinding"]
    assert blank == {
        "__typename": "ValidationError",
        "errors": [{"field": "input.reason", "reason": "required: say why"}],
    }
    missing = (await api.gql(region, CONFIRM, {"i": {**ask, "finding": str(uuid.uuid4())}}))["confirmFinding"]
    assert missing["__typename"] == "NotFound" and missing["field"] == "input.finding"
    ok = (await api.gql(region, CONFIRM, {"i": ask}))["confirmFinding"]
    assert ok["finding"] == {
        "state": "confirmed",
        "serious": True,
        "reason": ask["reason"],
        "decidedBy": "t-region_admin",
    }
    again = (await api.gql(region, CONFIRM, {"i": {**ask, "reason": "retried"}}))["confirmFinding"]
    assert again == ok
    conflict = (await api.gql(region, DISMISS, {"i": {"tenant": city.a, "finding": f["id"], "reason": "no"}}))[
        "dismissFinding"
    ]
    assert conflict["__typename"] == "StateConflict" and conflict["field"] == "input.finding"
    assert "already confirmed (serious)" in conflict["reason"]
    bad = (await api.gql(region, DISMISS, {"i": {"tenant": city.a, "finding": "nope", "reason": "x"}}))[
        "dismissFinding"
    ]
    assert bad["__typename"] == "ValidationError" and bad["errors"][0]["field"] == "input.finding"


ORDER = """query($t: String!, $a: String) { findings(tenant: $t, first: 3, after: $a) {
  pageInfo { hasNextPage endCursor } nodes { databaseId rule severity priority } } }"""


async def test_findings_come_in_the_audit_queue_order_page_by_page(settings, db, city, dispatcher, builtin_versions):  # noqa: F811
    from datetime import date

    from sqlalchemy import text

    from dianshu.db.session import scoped_session
    from dianshu.scope import Scope
    from tests.supervision.test_rules import load, stay

    zj = builtin_versions["zhejiang_2022"]
    may = date(2025, 5, 1)
    rows = [
        stay("LS-1", city.a1, start=may, los=1, bed=300, exam=3000, lab=2000, treatment=400, drugs=300),
        stay("BH-1", city.a1, start=may, los=10, bed=3000, exam=1000, treatment=100, nursing=100, drugs=200),
        stay("V-98", city.a1, start=may, los=6, bed=500, treatment=2000, nursing=500, drugs=5000, vent=98),
        stay("O-1", city.a1, start=may, los=5, bed=500, treatment=2000, nursing=500, drugs=5000, own=3000),
        # A split admission (severity high): readmitted a day after discharge.
        stay("S-1", city.a2, start=date(2025, 3, 1), los=5, patient="PS", bed=500, treatment=2000, drugs=5500),
        stay("S-2", city.a2, start=date(2025, 3, 7), los=5, patient="PS", bed=500, treatment=2000, drugs=5500),
    ]
    region = await load(db, city, zj, rows)
    from tests.supervision.helpers import supervise

    await supervise(db, region, city.a, version=str(zj))
    async with scoped_session(db, Scope.system((city.a,))) as s:
        # The anomaly ranking's priorities on two medium findings: they come first, highest first.
        await s.execute(
            text(
                "update supervision_finding set priority = case rule when 'own_pay_switch' then 0.9 else 0.1 end "
                "where tenant_id = :t and rule in ('own_pay_switch', 'bed_hanging')"
            ),
            {"t": city.a},
        )
    api = Api(settings, db)
    try:
        token = api.token(Role.region_admin, [city.a])
        first = (await api.gql(token, ORDER, {"t": city.a}))["findings"]
        second = (await api.gql(token, ORDER, {"t": city.a, "a": first["pageInfo"]["endCursor"]}))["findings"]
    finally:
        await api.client.aclose()
    got = [(n["rule"], n["severity"], n["priority"]) for n in first["nodes"] + second["nodes"]]
    # Priority 0.9, 0.1, then no priority: high (the split) before medium, then the oldest first.
    assert got[:3] == [
        ("own_pay_switch", "medium", "0.900000"),
        ("bed_hanging", "medium", "0.100000"),
        ("split_admission", "high", None),
    ]
    assert first["pageInfo"]["hasNextPage"] is True and second["pageInfo"]["hasNextPage"] is False
    assert sorted(r for r, _, _ in got[3:]) == ["low_standard_admission", "upcoding_ventilation"]
    assert len({n["databaseId"] for n in first["nodes"] + second["nodes"]}) == 5

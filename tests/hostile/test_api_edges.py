"""Hostile inputs to /graphql, against the production profile, one row each: the exact status, the
error code or typename, the field named and a reason. None may be a 500 or "Unexpected error."."""

from __future__ import annotations

import asyncio
import base64
import json
import uuid

import pytest

from dianshu.config import Settings
from dianshu.db.session import scoped_session
from dianshu.scope import Role, Scope
from dianshu.settlement.models import PointsRun
from tests.api import Api
from tests.conftest import JWT_SECRET
from tests.test_standards_db import builtin_versions  # noqa: F401

MiB = 1 << 20


def cursor(key) -> str:
    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode()


def nested(depth: int) -> str:
    """A request whose variable x is a list nested `depth` deep (built as text: json.dumps recurses)."""
    return '{"query": "{ me { role } }", "variables": {"x": ' + "[" * depth + '"x"' + "]" * depth + "}}"


# ---- the request as a whole: refused before any GraphQL work, as JSON ----------------------------

ME = json.dumps({"query": "{ me { role } }"})
BIG_VARIABLES = json.dumps({"query": "query($x: JSON) { me { role } }", "variables": {"x": "y" * (2 * MiB)}})

# (id, raw body, extra headers, status, code, field, reason)
BODIES = [
    ("json-null", "null", {}, 400, "BAD_REQUEST", "body", "not null"),
    ("json-number", "123", {}, 400, "BAD_REQUEST", "body", "not int"),
    ("json-string", '"x"', {}, 400, "BAD_REQUEST", "body", "not str"),
    ("not-json", "{", {}, 400, "BAD_REQUEST", "body", "not valid JSON"),
    ("nan", '{"query": "{ me { role } }", "variables": {"x": NaN}}', {}, 400, "BAD_REQUEST", "body", "finite"),
    (
        "huge-integer",
        '{"query": "{ me { role } }", "variables": {"x": 1' + "0" * 5000 + "}}",
        {},
        400,
        "BAD_REQUEST",
        "body",
        "not valid JSON",
    ),
    ("variables-5000-deep", nested(5000), {}, 400, "BAD_REQUEST", "variables", "nested too deeply"),
    ("variables-20-deep", nested(20), {}, 400, "BAD_REQUEST", "variables", "nested more than 16 levels deep"),
    (
        "variables-150000-values",  # 300 KB: under the body limit, over the values limit
        json.dumps({"query": "{ me { role } }", "variables": {"x": [0] * 150_000}}, separators=(",", ":")),
        {},
        400,
        "BAD_REQUEST",
        "variables",
        "more than 100000 values",
    ),
    ("variables-2MiB", BIG_VARIABLES, {}, 413, "PAYLOAD_TOO_LARGE", "body", "at most 1048576 bytes"),
    (
        "two-operations-no-name",
        json.dumps({"query": "query A { me { role } } query B { me { subject } }"}),
        {},
        400,
        "BAD_REQUEST",
        "operationName",
        "has 2 operations",
    ),
    (
        # graphql-core parses `{ }`, which the spec forbids; the depth limiter then raised a bare
        # "max() arg is an empty sequence".
        "empty-selection-set",
        json.dumps({"query": "query {\n  me { }\n}"}),
        {},
        400,
        "BAD_REQUEST",
        "query",
        "an empty selection set { } at line 2, column 6",
    ),
    (
        "content-length-lies",
        ME,
        {"content-length": str(50 * MiB)},
        413,
        "PAYLOAD_TOO_LARGE",
        "body",
        "at most 1048576 bytes",
    ),
]


@pytest.mark.parametrize(
    ("body", "headers", "status", "code", "field", "reason"), [r[1:] for r in BODIES], ids=[r[0] for r in BODIES]
)
async def test_request_refused_whole(prod, city, body, headers, status, code, field, reason):
    token = prod.token(Role.region_admin, [city.a])
    h = {"Authorization": f"Bearer {token}", "Content-Type": "application/json", **headers}
    if "content-length" in headers:
        # httpx would send its own length: call the ASGI app with the lying header directly.
        r = await _raw(prod, body.encode(), h)
    else:
        r = await prod.client.post("/graphql", content=body, headers=h)
    assert r.status_code == status, r.text
    error = r.json()["errors"][0]
    assert error["extensions"] == {"code": code, "field": field}
    assert reason in error["message"]


async def test_chunked_body_without_length_is_counted(prod, city):
    token = prod.token(Role.region_admin, [city.a])

    async def chunks():
        yield b'{"query": "{ me { role } }", "variables": {"x": "'
        for _ in range(40):  # 2.5 MiB in 64 KiB chunks, no Content-Length
            yield b"y" * (64 * 1024)
        yield b'"}}'

    r = await prod.client.post(
        "/graphql", content=chunks(), headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    )
    assert r.status_code == 413
    assert r.json()["errors"][0]["extensions"] == {"code": "PAYLOAD_TOO_LARGE", "field": "body"}
    # The same connection serves the next request normally.
    ok = await prod.post(token, "{ me { role } }")
    assert ok.status_code == 200 and ok.json()["data"]["me"]["role"] == "region_admin"


async def test_uploads_keep_their_own_larger_limit(test_database, db, city, dispatcher):
    settings = Settings(
        profile="prod",
        database_url=test_database.owner_url,
        redis_url="redis://127.0.0.1:1/0",
        jwt_secret=JWT_SECRET,
        max_body_bytes=4096,
        max_upload_bytes=64 * 1024,
    )
    api = Api(settings, db)
    token = api.token(Role.region_admin, [city.a])
    auth = {"Authorization": f"Bearer {token}", "Idempotency-Key": "k1"}
    # A 10 KiB upload passes the 4 KiB JSON limit (refused later for its content, not its size) ...
    small = await api.client.post(f"/ingest/{city.a}?filename=x.csv", content=b"a" * 10_240, headers=auth)
    assert small.status_code == 202, small.text
    # ... a 100 KiB one streamed without a length stops at the upload limit.

    async def chunks():
        for _ in range(25):
            yield b"a" * 4096

    big = await api.client.post(
        f"/ingest/{city.a}?filename=x.csv", content=chunks(), headers={**auth, "Idempotency-Key": "k2"}
    )
    assert big.status_code == 413, big.text
    assert "an upload may be at most 65536 bytes" in big.json()["errors"][0]["message"]
    # GraphQL JSON over 4 KiB is refused.
    r = await api.post(token, "query($x: String) { me { role } }", {"x": "y" * 5000})
    assert r.status_code == 413
    await api.client.aclose()


async def _raw(api: Api, body: bytes, headers: dict[str, str]):
    """One request straight to the ASGI app (to send a Content-Length that does not match)."""
    import httpx

    sent: list[dict] = []
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/graphql",
        "raw_path": b"/graphql",
        "query_string": b"",
        "root_path": "",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "client": ("127.0.0.1", 1),
        "server": ("test", 80),
    }

    async def receive():
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message):
        sent.append(message)

    await api.app(scope, receive, send)
    start = next(m for m in sent if m["type"] == "http.response.start")
    content = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return httpx.Response(start["status"], content=content)


# ---- arguments: a typed error naming the field -----------------------------------------------------

HUGE = "x" * 100_000
NUL = "H\x00"

# (id, query, variables (TENANT/CITY/HOSPITAL replaced), typename or None for a query error, field, reason)
ARGUMENTS = [
    (
        "cursor-not-base64",
        '{ hospitals(after: "%%%") { nodes { code } } }',
        {},
        None,
        "after",
        "is not a cursor from this API",
    ),
    (
        "cursor-wrong-shape",
        "query($a: String) { hospitals(after: $a) { nodes { code } } }",
        {"a": cursor(["x"])},
        None,
        "after",
        "is not a cursor from this API",
    ),
    (
        "cursor-bad-time",
        "query($a: String) { jobs(after: $a) { nodes { id } } }",
        {"a": cursor(["yesterday", "x"])},
        None,
        "after",
        "is not a cursor from this API",
    ),
    (
        "cursor-bigint-overflow",
        "query($a: String) { cases(after: $a) { nodes { id } } }",
        {"a": cursor(["TENANT", 10**30])},
        None,
        "after",
        "is not a cursor from this API",
    ),
    (
        "policy-year-int32-max",
        '{ policy(tenant: "TENANT", year: 2147483647) { year } }',
        {},
        None,
        "year",
        "must be a year from 2000 to 2100 (got 2147483647)",
    ),
    (
        "policy-year-negative",
        '{ policy(tenant: "TENANT", year: -1) { year } }',
        {},
        None,
        "year",
        "must be a year from 2000 to 2100 (got -1)",
    ),
    (
        "budgets-year-huge",
        '{ budgets(tenant: "TENANT", year: 99999) { nodes { year } } }',
        {},
        None,
        "year",
        "must be a year from 2000 to 2100",
    ),
    (
        "reviews-year",
        '{ reviews(tenant: "TENANT", year: 1900) { nodes { id } } }',
        {},
        None,
        "year",
        "from 2000 to 2100",
    ),
    (
        "hospitals-level",
        "{ hospitals(level: 7) { nodes { code } } }",
        {},
        None,
        "level",
        "must be a hospital level, one of 1, 2, 3 (got 7)",
    ),
    (
        "cases-month-text",
        '{ cases(month: "0001-01") { nodes { id } } }',
        {},
        None,
        "month",
        "must be a year from 2000 to 2100 (got 1)",
    ),
    (
        "nul-in-variable",
        "query($t: String) { hospitals(tenant: $t) { nodes { code } } }",
        {"t": NUL},
        None,
        "tenant",
        "must not contain control characters (U+0000 at position 1)",
    ),
    (
        "nul-in-literal",
        '{ tenant(tenant: "H\\u0000") { code } }',
        {},
        None,
        "tenant",
        "must not contain control characters (U+0000",
    ),
    ("escape-in-string", '{ tenant(tenant: "H\\u001b[2J") { code } }', {}, None, "tenant", "U+001B"),
    (
        "long-code",
        "query($c: String!) { tenant(tenant: $c) { code } }",
        {"c": "T" * 300},
        None,
        "tenant",
        "must be at most 256 characters (got 300)",
    ),
    (
        "decimal-not-a-number",
        'mutation($s: Decimal!) { setEvaluationScore(tenant: "TENANT", hospital: "HOSPITAL", '
        "year: 2025, score: $s) { __typename } }",
        {"s": "abc"},
        None,
        None,
        "Value cannot represent a Decimal",
    ),
    (
        "score-exponent",
        'mutation { setEvaluationScore(tenant: "TENANT", hospital: "HOSPITAL", year: 2025, '
        'score: "1e30") { __typename ... on ValidationError { errors { field reason } } } }',
        {},
        "ValidationError",
        "score",
        "must be below 1,000,000,000,000 in size",
    ),
    (
        "budget-last-year-1e30",
        'mutation { setBudget(input: {tenant: "TENANT", year: 2025, growthRate: "0.05", '
        'reason: "r", lastYearSpending: "1e30"}) { __typename ... on ValidationError { errors { field reason } } } }',
        {},
        "ValidationError",
        "input.lastYearSpending",
        "must be below 1,000,000,000,000 in size",
    ),
    (
        "budget-money-three-places",
        'mutation { setBudget(input: {tenant: "TENANT", year: 2025, growthRate: "0.05", '
        'reason: "r", lastYearSpending: "100.001"}) '
        "{ __typename ... on ValidationError { errors { field reason } } } }",
        {},
        "ValidationError",
        "input.lastYearSpending",
        "at most 2 decimal places",
    ),
    (
        "budget-year",
        'mutation { setBudget(input: {tenant: "TENANT", year: 20250, growthRate: "0.05", '
        'reason: "r"}) { __typename ... on ValidationError { errors { field reason } } } }',
        {},
        "ValidationError",
        "input.year",
        "must be a year from 2000 to 2100 (got 20250)",
    ),
    (
        "audit-amount-nan",
        'mutation { recordAuditDeduction(input: {tenant: "TENANT", hospital: "HOSPITAL", '
        'year: 2025, month: 3, amount: "NaN", reference: "A1", reason: "r"}) '
        "{ __typename ... on ValidationError { errors { field reason } } } }",
        {},
        "ValidationError",
        "input.amount",
        "must be a finite decimal",
    ),
    (
        "audit-month-13",
        'mutation { recordAuditDeduction(input: {tenant: "TENANT", hospital: "HOSPITAL", '
        'year: 2025, month: 13, amount: "1.00", reference: "A1", reason: "r"}) '
        "{ __typename ... on ValidationError { errors { field reason } } } }",
        {},
        "ValidationError",
        "input.month",
        "must be a month from 1 to 12 (got 13)",
    ),
    (
        "import-level-9",
        'mutation($h: [HospitalInput!]!) { importHospitals(input: {tenant: "TENANT", hospitals: $h})'
        " { __typename ... on ValidationError { errors { field reason } } } }",
        {"h": [{"code": "HX1", "name": "X", "level": 9, "type": "general"}]},
        "ValidationError",
        "input.hospitals[0].level",
        "must be a hospital level",
    ),
    (
        "violation-reason-100k",
        'mutation($r: String!) { confirmViolation(input: {tenant: "TENANT", '
        'hospital: "HOSPITAL", listId: "L1", kind: upcoding, reason: $r}) '
        "{ __typename ... on ValidationError { errors { field reason } } } }",
        {"r": HUGE},
        "ValidationError",
        "input.reason",
        "must be at most 2000 characters (got 100000)",
    ),
    (
        "recall-reason-100k",
        'mutation($r: String!) { recallCase(tenant: "TENANT", hospital: "HOSPITAL", '
        'listId: "L1", reason: $r) { __typename ... on ValidationError { errors { field reason } } } }',
        {"r": HUGE},
        "ValidationError",
        "reason",
        "must be at most 2000 characters (got 100000)",
    ),
    (
        "review-reason-100k",
        'mutation($r: String!) { precheckReview(input: {tenant: "TENANT", '
        'review: "00000000-0000-0000-0000-000000000000", reason: $r}) '
        "{ __typename ... on ValidationError { errors { field reason } } } }",
        {"r": HUGE},
        "ValidationError",
        "input.reason",
        "must be at most 2000 characters (got 100000)",
    ),
    (
        "review-request-nul",
        'mutation($r: String!) { applyForReview(input: {tenant: "TENANT", '
        'hospital: "HOSPITAL", listId: "L1", request: $r}) '
        "{ __typename ... on ValidationError { errors { field reason } } } }",
        {"r": "why\x00"},
        "ValidationError",
        "input.request",
        "must not contain control characters (U+0000 at position 3)",
    ),
    (
        "settlement-kind-weekly",
        'mutation { runSettlement(input: {tenant: "TENANT", kind: weekly, year: 2025}) '
        "{ __typename ... on ValidationError { errors { field reason } } } }",
        {},
        None,
        None,
        "Value 'weekly' does not exist in 'SettlementKind' enum",
    ),
    (
        "settlement-month-13",
        'mutation { runSettlement(input: {tenant: "TENANT", kind: monthly, year: 2025, '
        "month: 13}) { __typename ... on ValidationError { errors { field reason } } } }",
        {},
        "ValidationError",
        "input.month",
        "must be a month from 1 to 12 (got 13)",
    ),
    (
        "settlement-unknown-points-run",
        'mutation { runSettlement(input: {tenant: "TENANT", kind: annual, '
        'year: 2025, pointsRun: "00000000-0000-0000-0000-000000000001"}) '
        "{ __typename ... on ValidationError { errors { field reason } } } }",
        {},
        "ValidationError",
        "input.pointsRun",
        "no points run 00000000-0000-0000-0000-000000000001 in TENANT",
    ),
    (
        "points-month-0",
        'mutation { computePoints(tenant: "TENANT", year: 2025, month: 0) '
        "{ __typename ... on ValidationError { errors { field reason } } } }",
        {},
        "ValidationError",
        "month",
        "must be a month from 1 to 12 (got 0)",
    ),
    (
        "group-cases-month",
        'mutation { groupCases(input: {tenant: "TENANT", fromMonth: "2025-13"}) '
        "{ __typename ... on ValidationError { errors { field reason } } } }",
        {},
        "ValidationError",
        "input.fromMonth",
        "must be a month from 1 to 12 (got 13)",
    ),
    (
        "group-cases-backwards",
        'mutation { groupCases(input: {tenant: "TENANT", fromMonth: "2025-05", '
        'toMonth: "2025-01"}) { __typename ... on ValidationError { errors { field reason } } } }',
        {},
        "ValidationError",
        "to",
        "the period ends before it starts",
    ),
    (
        "date-year-1",
        'mutation { publishPaymentStandard(id: "00000000-0000-0000-0000-000000000000", effectiveFrom: "0001-01-01")'
        " { __typename ... on ValidationError { errors { field reason } } } }",
        {},
        "ValidationError",
        "effectiveFrom",
        "must be a year from 2000 to 2100 (got 1)",
    ),
    (
        "float-infinity",
        '{ groupDraft(case: {ventHours: 1e400, diagnoses: ["J18.900"]}) { drg } }',
        {},
        None,
        "case.ventHours",
        "must be a finite number",
    ),
    (
        "carve-outs-not-a-list",
        'mutation($c: [CarveOutInput!]) { setBudget(input: {tenant: "TENANT", year: 2025, growthRate: "0.05", '
        'reason: "r", lastYearSpending: "100.00", carveOuts: $c}) '
        "{ __typename ... on ValidationError { errors { field reason } } } }",
        {"c": [{"item": " ", "amount": "1.00"}]},
        "ValidationError",
        "input.carveOuts[0].item",
        "required: name what is paid outside the points",
    ),
    (
        "share-hospital-nul",
        'mutation($s: [AllianceShareInput!]!) { setAlliance(input: {tenant: "TENANT", id: "AL", '
        'name: "n", lead: "HOSPITAL", shares: $s}) { __typename ... on ValidationError { errors { field reason } } } }',
        {"s": [{"hospital": "H\x00", "share": "1"}]},
        "ValidationError",
        "input.shares[0].hospital",
        "must not contain control characters",
    ),
]


def _fill(value, city):
    text = json.dumps(value).replace("TENANT", city.a).replace("HOSPITAL", city.a1)
    return json.loads(text)


@pytest.mark.parametrize(
    ("query", "variables", "typename", "field", "reason"), [r[1:] for r in ARGUMENTS], ids=[r[0] for r in ARGUMENTS]
)
async def test_argument_refused_by_name(prod, city, dispatcher, query, variables, typename, field, reason):
    token = prod.token(Role.region_admin, [city.a])
    r = await prod.post(token, _fill(query, city), _fill(variables, city))
    assert r.status_code == 200, r.text
    body = r.json()
    reason = _fill(reason, city)
    if typename is None:
        error = body["errors"][0]
        assert reason in error["message"], error
        if field is not None:
            assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": field}
    else:
        assert not body.get("errors"), body["errors"]
        result = next(iter(body["data"].values()))
        assert result["__typename"] == typename
        assert result["errors"][0]["field"] == field
        assert reason in result["errors"][0]["reason"], result
    assert "Unexpected error." not in r.text
    assert not dispatcher.sent  # nothing was queued for a refused request


# ---- cursors: well-formed (base64 of a JSON list of the right length) but hostile ------------------

ZERO = "00000000-0000-0000-0000-000000000000"
TIME = "2025-01-01T00:00:00+00:00"
# Every connection (a field with an `after` argument): the document and a key of the right shape
# with a part PostgreSQL cannot hold or of the wrong type (TENANT replaced by region A).
CURSORS = {
    "tenants": ("{ tenants(after: $a) { nodes { code } } }", [["T\x00"], ["\ud800"], [7]]),
    "hospitals": (
        "{ hospitals(after: $a) { nodes { code } } }",
        [["TENANT", "x\x00"], ["\ud800", "x"], ["TENANT", 1]],
    ),
    "jobs": ("{ jobs(after: $a) { nodes { id } } }", [[TIME, "x\x00"], [TIME + "\ud800", ZERO], [TIME, 1]]),
    # (at, tenant, entry number): NUL in the tenant, a lone surrogate in the time, the number as text
    # or negative.
    "auditLog": (
        "{ auditLog(after: $a) { nodes { action } } }",
        [[TIME, "x\x00", 1], [TIME + "\ud800", "T", 1], [TIME, "T", "1"], [TIME, "T", -1]],
    ),
    "drgs": (f'{{ drgs(version: "{ZERO}", after: $a) {{ nodes {{ code }} }} }}', [["A\x00"], ["\udfff"], [1]]),
    "basePoints": (
        f'{{ basePoints(standard: "{ZERO}", after: $a) {{ nodes {{ drg }} }} }}',
        [["A\x00"], ["\ud800"], [1]],
    ),
    "cases": (
        "{ cases(after: $a) { nodes { id } } }",
        [["TENANT\x00", 1], ["\ud800", 1], ["TENANT", "1"]],
    ),
    "ingestionBatches": (
        "{ ingestionBatches(after: $a) { nodes { id } } }",
        [[TIME, ZERO + "\x00"], ["\ud800", ZERO], [TIME, 5]],
    ),
    "ingestionErrors": (
        f'{{ ingestionErrors(batch: "{ZERO}", after: $a) {{ nodes {{ rowNo }} }} }}',
        [[1, "\x00"], ["\ud800", 1], [1, "2"]],
    ),
    "groupingComparison": (
        f'{{ groupingComparison(job: "{ZERO}", after: $a) {{ nodes {{ cases }} }} }}',
        [[3, "TENANT", "x\x00", "y"], [3, "\ud800", "x", "y"], [3, "TENANT", 1, "y"], ["3", "H", "x", "y"]],
    ),
    "caseGroupings": (
        '{ caseGroupings(tenant: "TENANT", caseId: 1, after: $a) { nodes { drg } } }',
        [["x\x00"], ["\ud800"], [1], [ZERO, ZERO]],
    ),
    "caseVersions": (
        '{ caseVersions(tenant: "TENANT", hospital: "H", listId: "L", after: $a) { nodes { version } } }',
        [["1"], [-1], [2**63], [1, 2]],
    ),
    "standardVersions": (
        "{ standardVersions(after: $a) { nodes { label } } }",
        [["zj", TIME, "x"], ["zj\x00", TIME, ZERO], ["zj", "yesterday", ZERO], ["zj", TIME, 5]],
    ),
    "paymentStandards": (
        "{ paymentStandards(after: $a) { nodes { label } } }",
        [[TIME, "x"], ["2025-01-01T00:00:00", ZERO], [TIME, ZERO, ZERO]],
    ),
}
# The settlement and review connections (issue 11).
CURSORS |= {
    "settlementRuns": (
        '{ settlementRuns(tenant: "TENANT", year: 2025, after: $a) { nodes { id } } }',
        [["monthly\x00", 1, "employee", 1], ["\ud800", 1, "employee", 1], ["monthly", "1", "employee", 1]],
    ),
    "budgets": (
        '{ budgets(tenant: "TENANT", year: 2025, after: $a) { nodes { version } } }',
        [["employee\x00", 1], ["\ud800", 1], ["employee", "1"]],
    ),
    "pointsRuns": (
        '{ pointsRuns(tenant: "TENANT", year: 2025, after: $a) { nodes { id } } }',
        [[1, "\x00"], ["\ud800", 1], [1, "2"]],
    ),
    "casePoints": (
        f'{{ casePoints(tenant: "TENANT", pointsRun: "{ZERO}", after: $a) {{ nodes {{ caseId }} }} }}',
        [["\x00"], ["\ud800"], ["1"]],
    ),
    "reviews": (
        '{ reviews(tenant: "TENANT", after: $a) { nodes { id } } }',
        [[TIME, "x\x00"], [TIME + "\ud800", ZERO], [TIME, 1]],
    ),
    "findings": (
        '{ findings(tenant: "TENANT", after: $a) { nodes { id } } }',
        [["NaN", 0, TIME, ZERO], ["1\x00", 0, TIME, ZERO], ["1", "0", TIME, ZERO], [1, 0, TIME, ZERO]],
    ),
}
# The evaluation catalogue's connections (issue 12).
CURSORS |= {
    "evaluationCatalogueVersions": (
        "{ evaluationCatalogueVersions(after: $a) { nodes { label } } }",
        [[TIME, "x"], [TIME + "\ud800", ZERO], [TIME, 5], [TIME, ZERO + "\x00"], [TIME]],
    ),
    "evaluationEntries": (
        "{ evaluationEntries(year: 2025, after: $a) { nodes { code } } }",
        [["TENANT\x00", "H", "E01"], ["\ud800", "H", "E01"], ["TENANT", 1, "E01"], ["TENANT", "H"]],
    ),
}
# The evaluation's connections (issue 12).
CURSORS |= {
    "evaluationRuns": (
        '{ evaluationRuns(tenant: "TENANT", after: $a) { nodes { id } } }',
        [["2025", 1], [2025, -1], [2025, 2**63], [2025]],
    ),
    "evaluationResults": (
        '{ evaluationResults(tenant: "TENANT", year: 2025, after: $a) { nodes { hospital } } }',
        [["TENANT\x00", "H"], ["\ud800", "H"], ["TENANT", 1], ["TENANT"]],
    ),
}
# The supervision signals' and anomalies' connections (issue 12).
CURSORS |= {
    "hospitalSignals": (
        '{ hospitalSignals(tenant: "TENANT", year: 2025, after: $a) { nodes { hospital } } }',
        [["H\x00", "x"], ["\ud800", "x"], [1, "x"], ["H"]],
    ),
    "signalQueue": (
        '{ signalQueue(tenant: "TENANT", year: 2025, after: $a) { nodes { hospital } } }',
        [["x", "H", "a"], ["NaN", "H", "a"], [1, "H", "a"], ["1", "H"]],
    ),
    "caseAnomalies": (
        '{ caseAnomalies(tenant: "TENANT", year: 2025, after: $a) { nodes { rank } } }',
        [["1"], [-1], [2**63], [1, 2]],
    ),
    "hospitalAnomalies": (
        '{ hospitalAnomalies(tenant: "TENANT", year: 2025, after: $a) { nodes { rank } } }',
        [["1"], [-1], [2**63], [1, 2]],
    ),
}
# The training records' connections (issue 13).
CURSORS |= {
    name: (query, [["TENANT", "x\x00"], ["\ud800", "x"], ["TENANT", 1], ["TENANT"]])
    for name, query in (
        ("trainingCourses", '{ trainingCourses(tenant: "TENANT", after: $a) { nodes { code } } }'),
        ("trainingSessions", '{ trainingSessions(tenant: "TENANT", after: $a) { nodes { code } } }'),
        ("trainingPeople", '{ trainingPeople(tenant: "TENANT", after: $a) { nodes { personId } } }'),
        ("trainingCoverage", '{ trainingCoverage(tenant: "TENANT", year: 2025, after: $a) { nodes { hospital } } }'),
    )
}
CURSORS |= {
    "trainingAttendance": (
        '{ trainingAttendance(tenant: "TENANT", after: $a) { nodes { personId } } }',
        [["TENANT", "s", "x\x00"], ["\ud800", "s", "x"], ["TENANT", "s", 1], ["TENANT", "s"]],
    ),
}
# The national monthly upload's connections (issue 13).
CURSORS |= {
    "nationalExports": (
        '{ nationalExports(tenant: "TENANT", after: $a) { nodes { id } } }',
        [["2024-13-01", 1], ["2024-03-01\x00", 1], ["2024-03-01", "1"], [1, 1], ["2024-03-01"]],
    ),
    "nationalUploadItems": (
        '{ nationalUploadItems(tenant: "TENANT", month: "2024-03", after: $a) { nodes { listId } } }',
        [[1, "H\x00", "L"], ["1", "H", "L"], [2**63, "H", "L"], [1, "H"], [1, "\ud800", "L"]],
    ),
}
# The analytics views (issue 13): the key of the dimensions grouped by (month a number, the rest text).
CURSORS |= {
    "analytics": (
        '{ analytics(tenant: "TENANT", year: 2025, groupBy: [department, month], after: $a) { nodes { key { drg } } } '
        "}",
        [["x\x00", 1], ["\ud800", 1], ["x", "1"], [1, 1], ["x"]],
    ),
    "analyticsYearOverYear": (
        '{ analyticsYearOverYear(tenant: "TENANT", year: 2025, groupBy: [hospital], after: $a) { nodes { key { drg } } '
        "} }",
        [["H\x00"], ["\ud800"], [1], ["H", "x"]],
    ),
}
# Connections inside a type, reached through a root field.
NESTED_CURSORS = {
    "EffectivePolicy.changes": (
        '{ policy(tenant: "TENANT", year: 2025) { changes(after: $a) { nodes { version } } } }',
        [[TIME, "city\x00", 1], [TIME, "\ud800", 1], [TIME, "city", "1"]],
    ),
}
# SettlementRun.lines needs a run: its hostile cursors are in tests/settlement/test_settlement_types.py.
# EvaluationRun.results needs a run: its hostile cursors are in tests/evaluation/test_evaluation_api.py.
NESTED_ELSEWHERE = {"SettlementRun.lines", "EvaluationRun.results"}
HOSTILE_CURSORS = [(field, query, key) for field, (query, keys) in (CURSORS | NESTED_CURSORS).items() for key in keys]


def test_every_connection_has_hostile_cursors():
    from dianshu_graphql.schema import build_schema

    schema = build_schema(
        Settings(profile="prod", database_url="postgresql://x@y/z", redis_url="redis://y", jwt_secret="s")
    )._schema
    connections = {
        f"{t.name}.{name}"
        for t in schema.type_map.values()
        if hasattr(t, "fields") and not t.name.startswith("__")
        for name, f in t.fields.items()
        if "after" in getattr(f, "args", {})
    }
    expected = {f"Query.{field}" for field in CURSORS} | set(NESTED_CURSORS) | NESTED_ELSEWHERE
    assert connections == expected, "a new connection needs hostile cursor rows"


@pytest.mark.parametrize(
    ("query", "key"), [r[1:] for r in HOSTILE_CURSORS], ids=[f"{r[0]}-{i}" for i, r in enumerate(HOSTILE_CURSORS)]
)
async def test_hostile_cursor_is_refused_as_after(prod, city, query, key):
    key = [k.replace("TENANT", city.a) if isinstance(k, str) else k for k in key]
    r = await prod.post(
        prod.token(Role.region_admin, [city.a]),
        "query($a: String) " + query.replace("TENANT", city.a),
        {"a": cursor(key)},
    )
    assert r.status_code == 200, r.text
    errors = r.json()["errors"]
    assert [e["extensions"] for e in errors] == [{"code": "BAD_USER_INPUT", "field": "after"}], r.text
    assert "is not a cursor from this API for this list" in errors[0]["message"]
    assert "Unexpected error." not in r.text


async def test_report_year_out_of_range_is_refused(prod, city):
    token = prod.token(Role.region_admin, [city.a])
    r = await prod.client.get(
        f"/reports/{city.city}/settlement/99999999999.csv", headers={"Authorization": f"Bearer {token}"}
    )
    assert r.status_code == 400
    assert r.json() == {"errors": [{"field": "year", "reason": "must be a year from 2000 to 2100 (got 99999999999)"}]}


async def test_no_field_suggestions_in_prod(prod, city):
    r = await prod.post(prod.token(Role.region_admin, [city.a]), "{ hospitals { nodes { cod } } }")
    assert r.status_code == 200
    assert [e["message"] for e in r.json()["errors"]] == ["Cannot query field 'cod' on type 'Hospital'."]


async def test_another_regions_points_run_is_refused_at_submission(prod, db, city, dispatcher):
    other = uuid.uuid4()
    async with scoped_session(db, Scope.system((city.b,))) as s:
        s.add(
            PointsRun(
                tenant_id=city.b,
                id=other,
                year=2025,
                through_month=12,
                version=1,
                standard_id=uuid.uuid4(),
                scheme_version_id=uuid.uuid4(),
                inputs={},
                summary={},
                created_by="tests",
            )
        )
    q = (
        "mutation($t: String!, $p: ID) { runSettlement(input: {tenant: $t, kind: annual, year: 2025, "
        "pointsRun: $p}) { __typename ... on ValidationError { errors { field reason } } } }"
    )
    r = await prod.post(prod.token(Role.region_admin, [city.a]), q, {"t": city.a, "p": str(other)})
    result = r.json()["data"]["runSettlement"]
    assert result == {
        "__typename": "ValidationError",
        "errors": [{"field": "input.pointsRun", "reason": f"points_run: no points run {other} in {city.a}"}],
    }
    assert not dispatcher.sent


APPLY = (
    'mutation($t: String!, $h: String!) { applyForReview(input: {tenant: $t, hospital: $h, listId: "A-4", '
    'request: "ECMO"}) { __typename ... on ReviewPayload { review { id } } '
    "... on ValidationError { errors { field reason } } } }"
)


async def test_review_with_no_standard_in_force_is_a_typed_refusal(prod, db, city, dispatcher, builtin_versions):  # noqa: F811
    from tests.settlement.world import load_year

    await load_year(db, city, builtin_versions["zhejiang_2022"])  # cases grouped, no standard published
    token = prod.token(Role.hospital_user, [city.a], city.a2)
    r = await prod.post(token, APPLY, {"t": city.a, "h": city.a2})
    result = r.json()["data"]["applyForReview"]
    assert result["__typename"] == "ValidationError"
    assert result["errors"][0]["field"] == "standard"
    assert f"no published payment standard of {city.city} is in force on 2025-04-01" in result["errors"][0]["reason"]


async def test_ten_concurrent_applications_get_one_review(prod, db, city, dispatcher, builtin_versions):  # noqa: F811
    from tests.settlement.world import budgeted_year

    await budgeted_year(db, city, builtin_versions["zhejiang_2022"], {"review_quota_ratio": "1"}, "test")
    token = prod.token(Role.hospital_user, [city.a], city.a2)
    results = await asyncio.gather(*(prod.post(token, APPLY, {"t": city.a, "h": city.a2}) for _ in range(10)))
    assert [r.status_code for r in results] == [200] * 10
    payloads = [r.json()["data"]["applyForReview"] for r in results]
    assert {p["__typename"] for p in payloads} == {"ReviewPayload"}, payloads
    assert len({p["review"]["id"] for p in payloads}) == 1


def test_cursors_this_api_writes_still_decode():
    import datetime

    from dianshu_graphql import pagination as p

    when = datetime.datetime(2025, 3, 1, 9, 30, tzinfo=datetime.UTC)
    job = uuid.uuid4()
    for key, shape in [
        (["330100"], (str,)),
        (["330102", "H33010200001"], (str, str)),
        ([when.isoformat(), str(job)], (p.iso_datetime, uuid.UUID)),
        (["330102", 12], (str, p.key_int)),
        ([3, 7], (p.key_int, p.key_int)),
        ([5, "H33010200001", "ES23", "ES31"], (p.key_int, str, str, str)),
        (["医保-é\t"], (str,)),  # any text PostgreSQL holds, tab included
    ]:
        decoded = p.decode_cursor(p.encode_cursor(key), *shape)
        assert [str(v) if isinstance(v, uuid.UUID) else v for v in decoded] == [
            v if not isinstance(v, str) or shape[i] is not p.iso_datetime else when for i, v in enumerate(key)
        ]

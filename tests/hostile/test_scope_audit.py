"""Hostile inputs at the edges of the scope and the audit log (issue 9, items 1 and 9), one row each.

Scope: a hospital code is data. `*`, a comma list, another region's code or a code of the wrong
shape is refused where it enters (the roster: a typed ValidationError naming the record and field;
a token: a 401 saying why), and never widens what a request sees.

Audit: an entry records an effect. A repeat that changes nothing (sequential or ten at once) leaves
one effect and one audit entry."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select, text

from dianshu.audit.models import AuditEntry
from dianshu.cases.ingest import BatchRequest
from dianshu.cases.service import submit_batch
from dianshu.db.session import scoped_session
from dianshu.jobs import service as jobs
from dianshu.scope import Role, Scope
from dianshu.settlement.models import AuditDeduction, CaseViolation, EvaluationScore
from dianshu.tenancy.jobs import IMPORT_HOSPITALS
from dianshu.tenancy.models import Hospital
from dianshu_tenants.provisioning import ensure_service_account
from tests.api import Api
from tests.cases.rows import csv_bytes, row
from tests.conftest import scope_for

SHAPE = r"^H(?P<division>\d{6})\d{5}$"  # the default hospital_code_pattern


@pytest.fixture
async def api(settings, db):
    a = Api(settings, db)
    yield a
    await a.client.aclose()


# ---- item 1: hospital codes in a roster --------------------------------------------------------

IMPORT = """mutation($input: ImportHospitalsInput!) { importHospitals(input: $input) {
  __typename ... on ValidationError { message errors { record field reason } } } }"""

ROSTER_CODES = {
    # name: (code in region A's roster, reason)  -- {a}/{b} are the regions' codes
    "wildcard": ("*", "'*' does not have the hospital code shape " + SHAPE),
    "comma list": ("H{a}00001,99", "'H{a}00001,99' does not have the hospital code shape " + SHAPE),
    "pilot comma": ("H330702,99", "'H330702,99' does not have the hospital code shape " + SHAPE),
    "another region's code": ("H{b}00005", "'H{b}00005' is a code of division {b}, not of region {a}"),
    "lowercase": ("h{a}00005", "'h{a}00005' does not have the hospital code shape " + SHAPE),
    "too short": ("H{a}005", "'H{a}005' does not have the hospital code shape " + SHAPE),
    "a space inside": ("H{a} 00005", "'H{a} 00005' does not have the hospital code shape " + SHAPE),
}


def _fill(template: str, **codes: str) -> str:
    # Not str.format: the pattern's own braces ({6}) must stay as they are.
    for k, v in codes.items():
        template = template.replace("{" + k + "}", v)
    return template


@pytest.mark.parametrize("name", ROSTER_CODES)
async def test_roster_code_is_refused_with_its_field_and_reason(api, db, city, dispatcher, name):
    raw, reason = (_fill(x, a=city.a, b=city.b) for x in ROSTER_CODES[name])
    token = api.token(Role.region_admin, [city.a])
    roster = [{"code": raw, "name": "Hostile", "level": 1, "type": "general"}]
    out = (await api.gql(token, IMPORT, {"input": {"tenant": city.a, "hospitals": roster}}))["importHospitals"]
    assert out == {
        "__typename": "ValidationError",
        "message": "1 invalid hospitals; nothing was imported",
        "errors": [{"record": f"hospital #1 ({raw})", "field": "code", "reason": reason}],
    }
    assert dispatcher.sent == []  # no job


async def test_the_job_refuses_a_hostile_roster_too(db, city, dispatcher):
    # The job validates again (a job row written by other means, or an old client): nothing is imported.
    scope = scope_for(Role.region_admin, (city.a,))
    async with scoped_session(db, scope) as s:
        job, _ = await jobs.submit(
            s,
            db,
            scope,
            city.a,
            IMPORT_HOSPITALS,
            {"hospitals": [{"id": "*", "name": "x", "level": 1, "type": "general"}]},
        )
    assert await jobs.execute(db, city.a, job.id) == "failed"
    async with scoped_session(db, Scope.system((city.a,))) as s:
        assert (await s.execute(select(func.count()).select_from(Hospital).where(Hospital.id == "*"))).scalar() == 0


# ---- item 1: hospital claims in tokens ------------------------------------------------------------

TOKENS = {
    # name: (role, hospital claim, service-account hospital, 401 message)
    "wildcard": (
        Role.hospital_user,
        "*",
        None,
        "token claim hospital: '*' does not have the hospital code shape " + SHAPE,
    ),
    "comma list": (
        Role.hospital_user,
        "{a1},{a2}",
        None,
        "token claim hospital: '{a1},{a2}' does not have the hospital code shape " + SHAPE,
    ),
    "another tenant's hospital": (
        Role.hospital_user,
        "{b1}",
        None,
        "token claim hospital: '{b1}' is a code of division {b}, not of region {a}",
    ),
    "not a hospital of the tenant": (
        Role.hospital_user,
        "H{a}00077",
        None,
        "token names hospital H{a}00077, not a hospital of tenant {a}",
    ),
    "integrator wildcard": (
        Role.integrator,
        "*",
        None,
        "token claim hospital: '*' does not have the hospital code shape " + SHAPE,
    ),
    "integrator, not a hospital of its tenants": (
        Role.integrator,
        "H{a}00077",
        None,
        "service account svc-{a} names hospital H{a}00077, not a hospital of {a}",
    ),
}


@pytest.mark.parametrize("name", TOKENS)
async def test_hostile_hospital_claim_is_a_401_with_the_reason(api, owner_db, city, name):
    role, claim, _, message = TOKENS[name]
    fmt = dict(a=city.a, b=city.b, a1=city.a1, a2=city.a2, b1=city.b1)
    sa = None
    if role is Role.integrator:
        sa = f"svc-{city.a}"
        await ensure_service_account(owner_db, sa, "team", [city.a])
    token = api.token(role, [city.a], hospital=_fill(claim, **fmt), sa=sa)
    expected = {"errors": [{"message": _fill(message, **fmt), "extensions": {"code": "UNAUTHENTICATED"}}]}
    r = await api.post(token, "{ me { hospitalCode } }")
    assert (r.status_code, r.json()) == (401, expected)
    # The REST endpoints resolve the same scope: the same 401.
    r = await api.client.get(
        f"/statements/{city.a}/00000000-0000-0000-0000-000000000000/{city.a1}.json",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert (r.status_code, r.json()) == (401, expected)


async def test_a_service_account_cannot_be_limited_to_a_foreign_or_missing_hospital(owner_db, city):
    for hospital, reason in (
        ("*", f"hospital: '*' does not have the hospital code shape {SHAPE}"),
        (city.b1, f"hospital: '{city.b1}' is a code of division {city.b}, not of region {city.a}"),
        (f"H{city.a}00077", f"hospital: H{city.a}00077 is not a hospital of {city.a}"),
    ):
        with pytest.raises(ValueError) as e:
            await ensure_service_account(owner_db, f"svc-h-{city.a}", "team", [city.a], hospital)
        assert str(e.value) == reason
    account = await ensure_service_account(owner_db, f"svc-h-{city.a}", "team", [city.a], city.a1)
    assert account.hospital_id == city.a1


async def test_a_hospital_named_star_in_the_data_is_just_a_hospital(db, owner_db, city):
    # Should a `*` ever be stored (legacy data), its users see that row only, never the region.
    async with scoped_session(db, Scope.system((city.a,))) as s:
        await s.execute(
            text(
                "insert into hospital (tenant_id, id, name, level, type, coefficient)"
                " values (:t, '*', 'x', 1, 'general', 1)"
            ),
            {"t": city.a},
        )
    async with db.session(None) as s, s.begin():
        await s.execute(
            text("select set_config('app.tenant_ids', :t, true), set_config('app.hospital_id', '*', true)"),
            {"t": city.a},
        )
        assert list((await s.execute(text("select id from hospital"))).scalars()) == ["*"]
    with pytest.raises(ValueError, match="invalid hospital id"):
        Scope(Role.hospital_user, (city.a,), "*")


# ---- item 9: a repeat that changes nothing writes no audit entry -----------------------------------


async def _audit_count(db, tenant: str, action: str) -> int:
    async with scoped_session(db, Scope.system((tenant,))) as s:
        q = (
            select(func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.tenant_id == tenant, AuditEntry.action == action)
        )
        return (await s.execute(q)).scalar_one()


async def _count(db, tenant: str, model, *where) -> int:
    async with scoped_session(db, Scope.system((tenant,))) as s:
        return (
            await s.execute(select(func.count()).select_from(model).where(model.tenant_id == tenant, *where))
        ).scalar_one()


async def _one_case(db, city, list_id: str) -> None:
    region = scope_for(Role.region_admin, (city.a,))
    data = csv_bytes([row(list_id, city.a1)])
    sub = await submit_batch(db, region, BatchRequest(city.a, "cases.csv", f"case-{list_id}"), [data])
    assert await jobs.execute(db, city.a, sub.job.id) == "succeeded"


DEDUCT = """mutation($t: String!, $h: String!) { recordAuditDeduction(input: {tenant: $t, hospital: $h,
  year: 2025, month: 9, amount: "120.50", reference: "AUD-2025-17", reason: "duplicate billing"}) {
  __typename ... on ValidationError { message } } }"""
SCORE = """mutation($t: String!, $h: String!) {
  setEvaluationScore(tenant: $t, hospital: $h, year: 2025, score: "87.5") {
  __typename ... on ValidationError { message } } }"""
BUDGET = """mutation($t: String!) { setBudget(input: {tenant: $t, year: 2026, growthRate: "0.03",
  lastYearSpending: "1000000", reason: "negotiated"}) { __typename ... on ValidationError { message } } }"""
POLICY = """mutation($t: String!) { setPolicy(input: {tenant: $t, year: 2026, ledger: employee,
  parameters: {provisionalPointValue: "95"}, reason: "first year"}) {
  __typename ... on ValidationError { message } } }"""
VIOLATION = """mutation($t: String!, $h: String!) { confirmViolation(input: {tenant: $t, hospital: $h,
  listId: "V1", kind: upcoding, serious: true, reason: "coded a higher DRG"}) {
  __typename ... on ValidationError { message } } }"""
ALLIANCE = """mutation($t: String!, $h1: String!, $s: [AllianceShareInput!]!) {
  setAlliance(input: {tenant: $t, id: "M1", name: "Alliance", lead: $h1, shares: $s}) {
  __typename ... on ValidationError { message } } }"""

# name: (mutation, its typename when done, the audit action, how to count its effect)
MUTATIONS = {
    "recordAuditDeduction": (DEDUCT, "AuditDeductionPayload", "audit_deduction.recorded", lambda c: (AuditDeduction,)),
    "setEvaluationScore": (SCORE, "EvaluationScorePayload", "evaluation.score", lambda c: (EvaluationScore,)),
    "setBudget": (BUDGET, "BudgetPayload", "budget.set", None),
    "setPolicy": (POLICY, "PolicyPayload", "policy.changed", None),
    "setAlliance": (ALLIANCE, "AlliancePayload", "alliance.set", None),
    "confirmViolation": (VIOLATION, "ViolationPayload", "violation.confirmed", lambda c: (CaseViolation,)),
}


def _variables(name: str, city) -> tuple[str, dict]:
    query = MUTATIONS[name][0]
    if name == "setAlliance":
        return query, {
            "t": city.a,
            "h1": city.a1,
            "s": [{"hospital": city.a1, "share": "0.6"}, {"hospital": city.a2, "share": "0.4"}],
        }
    if name in ("recordAuditDeduction", "setEvaluationScore", "confirmViolation"):
        return query, {"t": city.a, "h": city.a1}
    return query, {"t": city.a}


@pytest.mark.parametrize("concurrent", [False, True], ids=["three in a row", "ten at once"])
@pytest.mark.parametrize("name", MUTATIONS)
async def test_repeated_mutation_has_one_effect_and_one_audit_entry(api, db, city, name, concurrent):
    _, typename, action, effect = MUTATIONS[name]
    query, variables = _variables(name, city)
    token = api.token(Role.region_admin, [city.a])
    if name == "confirmViolation":  # a violation is confirmed on an accepted case
        await _one_case(db, city, "V1")
    if concurrent:
        outs = await asyncio.gather(*(api.gql(token, query, variables) for _ in range(10)))
    else:
        outs = [await api.gql(token, query, variables) for _ in range(3)]
    field = name
    assert [o[field]["__typename"] for o in outs] == [typename] * len(outs), outs
    assert await _audit_count(db, city.a, action) == 1
    if effect is not None:
        assert await _count(db, city.a, *effect(city)) == 1


@pytest.mark.parametrize("concurrent", [False, True], ids=["three in a row", "four at once"])
async def test_reimporting_a_roster_audits_once(db, city, dispatcher, concurrent):
    roster = [{"id": f"H{city.a}00031", "name": "Thirty-one", "level": 2, "type": "general"}]
    scope = scope_for(Role.region_admin, (city.a,))
    ids = []
    for i in range(4 if concurrent else 3):  # four: each running job holds two of the pool's ten connections
        async with scoped_session(db, scope) as s:
            job, _ = await jobs.submit(
                s, db, scope, city.a, IMPORT_HOSPITALS, {"hospitals": roster}, idempotency_key=f"r{i}"
            )
        ids.append(job.id)
    if concurrent:
        results = await asyncio.gather(*(jobs.execute(db, city.a, j) for j in ids))
    else:
        results = [await jobs.execute(db, city.a, j) for j in ids]
    assert results == ["succeeded"] * len(ids)
    assert await _count(db, city.a, Hospital, Hospital.id == f"H{city.a}00031") == 1
    assert await _audit_count(db, city.a, "hospitals.imported") == 1


async def test_control_a_well_formed_claim_of_the_tenant_is_accepted(api, owner_db, city):
    # The same requests with the tenant's own hospital pass: the rows above fail for their input only.
    me = "{ me { role tenantCodes hospitalCode } }"
    out = await api.gql(api.token(Role.hospital_user, [city.a], city.a1), me)
    assert out["me"] == {"role": "hospital_user", "tenantCodes": [city.a], "hospitalCode": city.a1}
    # An integrator naming a hospital acts for that hospital in its own region only.
    await ensure_service_account(owner_db, f"svc-{city.a}", "team", [city.a, city.b])
    out = await api.gql(api.token(Role.integrator, [city.a, city.b], city.b1, sa=f"svc-{city.a}"), me)
    assert out["me"] == {"role": "integrator", "tenantCodes": [city.b], "hospitalCode": city.b1}


# ---- item 1: a city configures its own hospital-code shape ---------------------------------------


def test_a_city_or_region_sets_its_own_hospital_code_shape():
    from dianshu.config import ConfigError, Settings
    from dianshu.tenancy.codes import hospital_code_problem
    from dianshu.tenancy.service import ValidationFailed, validate_roster
    from dianshu_tenants.identity import AuthError, principal_from_claims

    # 330700's regions number hospitals with a letter Y and four digits; 330702 (a region of it) keeps its own.
    city_shape = r"^Y(?P<division>\d{6})\d{4}$"
    s = Settings(hospital_code_patterns={"330700": city_shape, "330702": SHAPE})
    assert s.hospital_code_pattern_for("330703") == city_shape  # from its city (first four digits + 00)
    assert s.hospital_code_pattern_for("330702") == SHAPE  # the region's own entry wins
    assert s.hospital_code_pattern_for("330100") == SHAPE  # another city: the default
    assert hospital_code_problem("Y3307030001", "330703", s.hospital_code_pattern_for("330703")) is None
    roster = [{"code": "H33070300001", "name": "x", "level": 2, "type": "general"}]
    with pytest.raises(ValidationFailed) as e:
        validate_roster("330703", roster, code_pattern=s.hospital_code_pattern_for("330703"))
    assert e.value.errors[0].reason == f"'H33070300001' does not have the hospital code shape {city_shape}"
    claims = {"role": "hospital_user", "tenants": ["330703"], "hospital": "H33070300001", "sub": "u"}
    with pytest.raises(AuthError, match="does not have the hospital code shape"):
        principal_from_claims(claims, settings=s)
    assert principal_from_claims({**claims, "hospital": "Y3307030001"}, settings=s).hospital_id == "Y3307030001"
    # A bad override is refused at start-up, naming it.
    with pytest.raises(ConfigError, match="not a 6-digit division code"):
        Settings(hospital_code_patterns={"3307": SHAPE})
    with pytest.raises(ConfigError, match="needs a named group"):
        Settings(hospital_code_patterns={"330700": r"^H\d{11}$"})

"""Who may call each settlement and special-review field, through the API: every role of the
isolation matrix against every root field of these domains, for the city, region A and region B.
A refusal is the field's PermissionDenied (or, for a field whose result has none, a top-level
FORBIDDEN error) naming the role or the tenant; anything else got past the permission check."""

from __future__ import annotations

import uuid

import pytest

from dianshu.jobs import service as jobs
from dianshu.scope import Role
from dianshu_tenants.provisioning import ensure_service_account
from tests.api import Api
from tests.settlement.scenario_input import graphql_scenario
from tests.settlement.test_simulate import SCENARIO
from tests.test_isolation_api import principals

ZERO = "00000000-0000-0000-0000-000000000000"
ANYONE = frozenset(Role) - {Role.system}
BUREAU = frozenset({Role.city_admin, Role.city_viewer, Role.region_admin, Role.region_viewer})
ADMINS = frozenset({Role.city_admin, Role.region_admin})
REGION = frozenset({Role.region_admin})
HOSPITAL = frozenset({Role.hospital_user, Role.integrator})

# field -> (its call, with T for the tenant; the roles that may call it; whether the tenant it names
# must be the caller's). setPolicy's roles depend on the tenant (POLICY_ROLES).
FIELDS: dict[str, tuple[str, frozenset[Role], bool]] = {
    # queries
    "settlementRuns": ("settlementRuns(tenant: T, year: 2025) { __typename }", ANYONE, True),
    "settlementRun": (f'settlementRun(tenant: T, id: "{ZERO}") {{ __typename }}', ANYONE, True),
    "statement": (f'statement(tenant: T, run: "{ZERO}", hospital: "H") {{ __typename }}', ANYONE, True),
    "settlementOverview": ("settlementOverview(tenant: T, year: 2025) { __typename }", BUREAU, False),
    "pointsRuns": ("pointsRuns(tenant: T, year: 2025) { __typename }", ANYONE, True),
    "casePoints": (f'casePoints(tenant: T, pointsRun: "{ZERO}") {{ __typename }}', ANYONE, True),
    "budgets": ("budgets(tenant: T, year: 2025) { __typename }", ANYONE, True),
    "policy": ("policy(tenant: T, year: 2025) { __typename }", ANYONE, True),
    "simulate": ("simulate(scenario: $s) { __typename ... on PermissionDenied { message } }", BUREAU, False),
    "simulateAgainstRun": (
        f'simulateAgainstRun(tenant: T, run: "{ZERO}") {{ __typename ... on PermissionDenied {{ message }} }}',
        BUREAU,
        True,
    ),
    "reviews": ("reviews(tenant: T) { __typename }", ANYONE, True),
    # mutations
    "setPolicy": (
        'setPolicy(input: {tenant: T, year: 2025, ledger: employee, parameters: {}, reason: "r"})',
        ADMINS,
        True,
    ),
    "setBudget": ('setBudget(input: {tenant: T, year: 2025, growthRate: "0", reason: "r"})', REGION, True),
    "computePoints": ("computePoints(tenant: T, year: 2025)", ADMINS, True),
    "runSettlement": ("runSettlement(input: {tenant: T, kind: annual, year: 2025})", ADMINS, True),
    "publishSettlementRun": (f'publishSettlementRun(tenant: T, id: "{ZERO}")', REGION, True),
    "setAlliance": ('setAlliance(input: {tenant: T, id: "M", name: "M", lead: "H", shares: []})', REGION, True),
    "setEvaluationScore": ('setEvaluationScore(tenant: T, hospital: "H", year: 2025, score: "90")', REGION, True),
    "recordAuditDeduction": (
        'recordAuditDeduction(input: {tenant: T, hospital: "H", year: 2025, month: 1, amount: "1.00", '
        'reference: "R", reason: "r"})',
        REGION,
        True,
    ),
    "confirmViolation": (
        'confirmViolation(input: {tenant: T, hospital: "H", listId: "L", kind: fraud, reason: "r"})',
        REGION,
        True,
    ),
    "startSimulation": ("startSimulation(tenant: T)", BUREAU, True),
    "applyForReview": ('applyForReview(input: {tenant: T, hospital: "H", listId: "L", request: "r"})', HOSPITAL, True),
    "precheckReview": ('precheckReview(input: {tenant: T, review: "R", reason: "r"})', REGION, True),
    "assignReviewExperts": ('assignReviewExperts(input: {tenant: T, review: "R", reason: "r"})', REGION, True),
    "giveReviewOpinion": (
        'giveReviewOpinion(input: {tenant: T, review: "R", outcome: keep, reason: "r"})',
        frozenset({Role.expert}),
        True,
    ),
    "decideReview": ('decideReview(input: {tenant: T, review: "R", outcome: keep, reason: "r"})', REGION, True),
    "appealReview": ('appealReview(input: {tenant: T, review: "R", reason: "r"})', HOSPITAL, True),
    "acceptReview": ('acceptReview(input: {tenant: T, review: "R", reason: "r"})', HOSPITAL, True),
    "addReviewExpert": ('addReviewExpert(tenant: T, expert: "e", name: "n")', REGION, True),
}
QUERIES = {
    "settlementRuns", "settlementRun", "statement", "settlementOverview", "pointsRuns", "casePoints", "budgets",
    "policy", "simulate", "simulateAgainstRun", "reviews",
}  # fmt: skip
# setPolicy: a city admin sets its city's defaults, a region admin its region's own.
POLICY_ROLES = {"city": frozenset({Role.city_admin}), "region": REGION}


ROLE_OF = {
    "city_admin": Role.city_admin,
    "city_viewer": Role.city_viewer,
    "region_admin_A": Role.region_admin,
    "region_viewer_B": Role.region_viewer,
    "hospital_A1": Role.hospital_user,
    "hospital_A2": Role.hospital_user,
    "integrator_A": Role.integrator,
    "expert_A": Role.expert,
}


def test_every_settlement_and_review_root_field_has_a_row():
    from strawberry.utils.str_converters import to_camel_case

    from dianshu_graphql.domains import budgets, points, policies, reviews, settlement, simulation

    names = set()
    for module in (settlement, points, budgets, policies, simulation, reviews):
        for cls in vars(module).values():
            definition = getattr(cls, "__strawberry_definition__", None)
            if (
                definition is not None
                and cls.__module__ == module.__name__
                and cls.__name__.endswith(("Query", "Mutation"))
            ):
                names |= {to_camel_case(f.python_name) for f in definition.fields}
    assert names == set(FIELDS)


@pytest.fixture
async def api(settings, db):
    a = Api(settings, db)
    yield a
    await a.client.aclose()


async def test_every_role_against_every_settlement_and_review_field(api, db, owner_db, city, dispatcher):
    await ensure_service_account(owner_db, f"svc-{city.a}", "team", [city.a])
    scopes = {
        "city_admin": set(city.tenants),
        "city_viewer": set(city.tenants),
        "region_admin_A": {city.a},
        "region_viewer_B": {city.b},
        "hospital_A1": {city.a},
        "hospital_A2": {city.a},
        "integrator_A": {city.a},
        "expert_A": {city.a},
    }
    kinds = {city.city: "city", city.a: "region", city.b: "region"}
    scenario = graphql_scenario(SCENARIO)
    wrong = []
    for who, (token, _) in principals(api, city).items():
        role = ROLE_OF[who]
        for field, (call, roles, checks_tenant) in FIELDS.items():
            for tenant in (city.city, city.a, city.b):
                if field == "setPolicy":
                    roles = POLICY_ROLES[kinds[tenant]]
                op = "mutation" if field not in QUERIES else "query"
                head = f"{op}($s: ScenarioInput!)" if field == "simulate" else op
                text = call.replace("tenant: T", f'tenant: "{tenant}"')
                if "{" not in text.split(")", 1)[-1]:
                    text += " { __typename ... on PermissionDenied { message } }"
                r = await api.post(token, f"{head} {{ {text} }}", {"s": scenario} if field == "simulate" else None)
                assert r.status_code == 200, r.text
                body = r.json()
                answer = (body.get("data") or {}).get(field)
                forbidden = [e for e in body.get("errors") or [] if e["extensions"]["code"] == "FORBIDDEN"]
                refused = (isinstance(answer, dict) and answer.get("__typename") == "PermissionDenied") or bool(
                    forbidden
                )
                expected = role not in roles or (checks_tenant and tenant not in scopes[who])
                if refused != expected:
                    wrong.append((field, who, tenant, "refused" if refused else "let through", body))
                if refused:
                    message = answer["message"] if not forbidden else forbidden[0]["message"]
                    if role not in roles:
                        assert message.startswith(f"role {role.value} may not do this (allowed: "), message
                    else:
                        assert message == f"tenant {tenant} is outside your scope", message
    # What the allowed calls queued runs to the end (nothing left queued for a sweeper).
    for tenant, _kind, job_id in dispatcher.sent:
        await jobs.execute(db, tenant, uuid.UUID(str(job_id)))
    assert wrong == []

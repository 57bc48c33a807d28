"""The API contract of issue 11: page bounds and PageInfo, typed unions for every mutation, a code
on every top-level error, typed job results by kind, no JSON anywhere, and permissions
declared once (the SDL's @allowedRoles is the job registry's roles)."""

from __future__ import annotations

import uuid

import pytest

from dianshu.config import Settings
from dianshu.jobs import service as jobs
from dianshu.jobs.registry import all_kinds
from dianshu.scope import Role
from dianshu_graphql.schema import build_schema, sdl
from dianshu_graphql.types import job_results
from graphql import GraphQLNonNull, GraphQLScalarType, GraphQLUnionType
from graphql import build_schema as parse_sdl
from tests.api import Api
from tests.cases.rows import csv_bytes, row
from tests.conftest import scope_for
from tests.hostile.test_api_edges import CURSORS, NESTED_CURSORS
from tests.test_standards_db import builtin_versions  # noqa: F401

# The scalars the API uses: GraphQL's own, decimals, UUIDs, dates and uploads (never JSON).
STANDARD_SCALARS = {"String", "Int", "Float", "Boolean", "ID", "Decimal", "UUID", "Date", "DateTime", "Upload"}
SCHEMA = build_schema(
    Settings(profile="prod", database_url="postgresql://x@y/z", redis_url="redis://y", jwt_secret="s")
)._schema
# Every mutation (settlement and special review adopted the contract after the core domains).
MUTATIONS = set(SCHEMA.mutation_type.fields)


@pytest.fixture
async def api(settings, db):
    a = Api(settings, db)
    yield a
    await a.client.aclose()


# ---- pages -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("first", [0, -5, 101, 5000])
@pytest.mark.parametrize("field", sorted(CURSORS | NESTED_CURSORS))
async def test_first_outside_1_to_100_is_refused_naming_first(prod, city, field, first):
    # SettlementRun.lines (NESTED_ELSEWHERE) needs a run: its bounds are in tests/settlement/test_settlement_types.py.
    query = (CURSORS | NESTED_CURSORS)[field][0].replace("TENANT", city.a).replace("after: $a", "after: $a, first: $f")
    r = await prod.post(prod.token(Role.region_admin, [city.a]), "query($a: String, $f: Int) " + query, {"f": first})
    errors = r.json()["errors"]
    assert [e["extensions"] for e in errors] == [{"code": "BAD_USER_INPUT", "field": "first"}], r.text
    assert f"first: must be between 1 and 100 (got {first})" in errors[0]["message"]


# Lists a query may still return whole: bounded by something other than the data's growth.
BOUNDED_LISTS = {
    "nodes": "nodes(ids:) answers at most 100 ids, one per id asked for",
    "settlementOverview": "one row per region of the city",
    "supervisionRules": "the rule catalogue: the rules the code defines",
    "nationalUploadPending": "one row per exported month of the year asked for (at most 12)",
}


def test_every_list_that_can_grow_is_a_connection():
    lists = [
        f"{name}: {f.type}"
        for name, f in SCHEMA.query_type.fields.items()
        if "List" in type(getattr(f.type, "of_type", f.type)).__name__ and name not in BOUNDED_LISTS
    ]
    assert lists == []


PAGE = """query($a: String) { hospitals(first: 1, after: $a) {
  edges { cursor node { code } } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }"""


async def test_page_info_forwards_and_backwards_fields(api, city):
    token = api.token(Role.region_admin, [city.a])  # two hospitals: A1, A2
    first = (await api.gql(token, PAGE))["hospitals"]
    cursor = first["edges"][0]["cursor"]
    assert first["pageInfo"] == {
        "hasNextPage": True,
        "hasPreviousPage": False,
        "startCursor": cursor,
        "endCursor": cursor,
    }
    second = (await api.gql(token, PAGE, {"a": cursor}))["hospitals"]
    assert [e["node"]["code"] for e in first["edges"] + second["edges"]] == [city.a1, city.a2]
    assert second["pageInfo"]["hasPreviousPage"] is True and second["pageInfo"]["hasNextPage"] is False
    assert second["pageInfo"]["startCursor"] == second["edges"][0]["cursor"] == second["pageInfo"]["endCursor"]
    past = (await api.gql(token, PAGE, {"a": second["pageInfo"]["endCursor"]}))["hospitals"]
    assert past["edges"] == [] and past["pageInfo"] == {
        "hasNextPage": False,
        "hasPreviousPage": True,
        "startCursor": None,
        "endCursor": None,
    }


# ---- mutations' unions and errors' codes ----------------------------------------------------------


def test_every_mutation_returns_a_union_of_its_result_and_its_errors():
    for name in MUTATIONS:
        t = SCHEMA.mutation_type.fields[name].type
        assert isinstance(t, GraphQLNonNull) and isinstance(t.of_type, GraphQLUnionType), name
        members = {m.name for m in t.of_type.types}
        assert {"PermissionDenied", "ValidationError"} <= members, (name, members)


def test_no_json_anywhere_in_the_api():
    # No field, argument or input of any domain is untyped JSON: the scalar is not in the schema at all.
    assert "JSON" not in SCHEMA.type_map
    assert all(not isinstance(t, GraphQLScalarType) or t.name in STANDARD_SCALARS for t in SCHEMA.type_map.values())


async def test_calibrate_and_publish_answer_with_their_unions(api, db, city, dispatcher, builtin_versions):  # noqa: F811
    zj = str(builtin_versions["zhejiang_2022"])
    admin, region = api.token(Role.city_admin, [city.city]), api.token(Role.region_admin, [city.a])
    calibrate = """mutation($i: CalibrateInput!) { calibrateStandard(input: $i) { __typename
      ... on JobPayload { created job { kind status } } ... on ValidationError { errors { field reason } }
      ... on PermissionDenied { message } ... on IdempotencyConflict { idempotencyKey } } }"""
    ok = await api.gql(
        admin, calibrate, {"i": {"tenant": city.city, "version": zj, "years": [2024], "idempotencyKey": "c"}}
    )
    assert ok["calibrateStandard"] == {
        "__typename": "JobPayload",
        "created": True,
        "job": {"kind": "standards_calibrate", "status": "queued"},
    }
    other = await api.gql(
        admin, calibrate, {"i": {"tenant": city.city, "version": zj, "years": [2023], "idempotencyKey": "c"}}
    )
    assert other["calibrateStandard"] == {"__typename": "IdempotencyConflict", "idempotencyKey": "c"}
    denied = await api.gql(region, calibrate, {"i": {"tenant": city.city, "version": zj, "years": [2024]}})
    assert denied["calibrateStandard"]["__typename"] == "PermissionDenied"
    outside = await api.gql(admin, calibrate, {"i": {"tenant": "999999", "version": zj, "years": [2024]}})
    assert outside["calibrateStandard"] == {
        "__typename": "PermissionDenied",
        "message": "tenant 999999 is outside your scope",
    }
    bad = await api.gql(admin, calibrate, {"i": {"tenant": city.city, "version": "nope", "years": [2024]}})
    assert bad["calibrateStandard"]["__typename"] == "ValidationError"

    publish = """mutation($i: ID!) { publishPaymentStandard(id: $i, effectiveFrom: "2025-01-01") { __typename
      ... on PaymentStandardPayload { standard { status } } ... on NotFound { message id }
      ... on PermissionDenied { message } ... on ValidationError { errors { field reason } } } }"""
    nowhere = str(uuid.uuid4())
    assert (await api.gql(admin, publish, {"i": nowhere}))["publishPaymentStandard"] == {
        "__typename": "NotFound",
        "message": f"id: no payment standard {nowhere} of your city",
        "id": nowhere,
    }
    # Not an id at all: the input is wrong (ValidationError on id), as for every mutation taking an id.
    garbage = (await api.gql(admin, publish, {"i": "garbage"}))["publishPaymentStandard"]
    assert garbage["__typename"] == "ValidationError" and garbage["errors"][0]["field"] == "id", garbage
    assert (await api.gql(region, publish, {"i": nowhere}))["publishPaymentStandard"][
        "__typename"
    ] == "PermissionDenied"


async def test_every_top_level_error_carries_a_code(prod, city, monkeypatch):
    token = prod.token(Role.city_admin, [city.city])

    async def codes(query: str, variables: dict | None = None) -> list[dict]:
        r = await prod.post(token, query, variables)
        return [e.get("extensions") for e in r.json()["errors"]]

    assert await codes("{ nope }") == [{"code": "GRAPHQL_VALIDATION_FAILED"}]
    assert await codes("{ me { role ") == [{"code": "GRAPHQL_VALIDATION_FAILED"}]
    # A variable of the wrong type is the client's mistake: shown, not masked.
    r = await prod.post(token, "query($f: Int) { hospitals(first: $f) { nodes { code } } }", {"f": "x"})
    assert r.json()["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT"}
    assert "Int cannot represent non-integer value" in r.json()["errors"][0]["message"]
    assert await codes('{ cases(month: "2025-3x") { nodes { id } } }') == [{"code": "BAD_USER_INPUT", "field": "month"}]
    expert = prod.token(Role.expert, [city.a])
    r = await prod.post(expert, '{ groupDraft(case: {diagnoses: ["J18.900"]}) { drg } }')
    assert [e["extensions"] for e in r.json()["errors"]] == [{"code": "FORBIDDEN"}]
    # An unexpected failure is masked, with its code.
    from dianshu_graphql.domains import tenancy

    async def boom(*_a, **_k):
        raise RuntimeError("db password is hunter2")

    monkeypatch.setattr(tenancy.service, "list_tenants", boom)
    r = await prod.post(token, "{ tenants { nodes { code } } }")
    assert r.json()["errors"] == [
        {"message": "Unexpected error.", "locations": [{"line": 1, "column": 3}], "path": ["tenants"],
         "extensions": {"code": "INTERNAL_SERVER_ERROR"}}
    ]  # fmt: skip


# ---- jobs: kinds and typed results ----------------------------------------------------------------


def test_every_registered_job_kind_is_a_job_kind_value():
    values = set(SCHEMA.type_map["JobKind"].values)
    assert values == {k.replace(".", "_") for k in all_kinds()}
    # Every kind has a result type of its own (OtherJobResult only answers for a row its type cannot read).
    assert set(job_results.registered()) == set(all_kinds())


JOB = """query($id: ID!) { job(id: $id) { kind status error { message }
  result { __typename
    ... on IngestJobResult { status rows accepted refused batchId }
    ... on ImportHospitalsJobResult { rows inserted updated unchanged }
    ... on OtherJobResult { figures { path value } } } } }"""


async def test_job_results_are_typed_by_kind(api, db, city, dispatcher):
    from tests.cases.test_ingestion import send

    region = scope_for(Role.region_admin, (city.a,))
    sub, *_ = await send(db, region, city.a, csv_bytes([row("J1", city.a1), row("J2", city.a1, gend="9")]), "typed")
    token = api.token(Role.region_admin, [city.a])
    job_id = str(sub.job.id)
    out = (await api.gql(token, JOB, {"id": job_id}))["job"]
    assert out["kind"] == "cases_ingest" and out["status"] == "succeeded"
    assert {k: v for k, v in out["result"].items() if k != "batchId"} == {
        "__typename": "IngestJobResult",
        "status": "done",
        "rows": 2,
        "accepted": 1,
        "refused": 1,
    }
    roster = """mutation($i: ImportHospitalsInput!) { importHospitals(input: $i) {
      ... on JobPayload { job { databaseId } } } }"""
    hospitals = [{"code": f"H{city.a}00009", "name": "New", "level": 1, "type": "general"}]
    jid = (await api.gql(token, roster, {"i": {"tenant": city.a, "hospitals": hospitals}}))["importHospitals"]["job"]
    assert await jobs.execute(db, city.a, uuid.UUID(jid["databaseId"])) == "succeeded"
    out = (await api.gql(token, JOB, {"id": jid["databaseId"]}))["job"]
    assert out["result"] == {
        "__typename": "ImportHospitalsJobResult",
        "rows": 1,
        "inserted": 1,
        "updated": 0,
        "unchanged": 0,
    }


def test_a_result_without_its_type_is_still_typed_by_path():
    other = job_results.to_result("no.such_kind", {"a": {"b": [1, "2.50", None, True]}})
    assert [(f.path, f.value) for f in other.figures] == [
        ("a.b[0]", "1"),
        ("a.b[1]", "2.50"),
        ("a.b[2]", None),
        ("a.b[3]", "true"),
    ]
    # A row of a typed kind that lacks a field falls back to the figures instead of failing.
    assert type(job_results.to_result("tenancy.import_hospitals", {"rows": 1})).__name__ == "OtherJobResult"


# ---- permissions declared once ---------------------------------------------------------------------


def declared_roles(text: str) -> dict[str, list[str]]:
    """Root field ("Query.x", "Mutation.y") -> the roles its @allowedRoles lists, read from an SDL."""
    out = {}
    schema = parse_sdl(text)
    for t in (schema.query_type, schema.mutation_type):
        for name, f in t.fields.items():
            for d in f.ast_node.directives or ():
                if d.name.value == "allowedRoles":
                    out[f"{t.name}.{name}"] = [v.value for v in d.arguments[0].value.values]
    return out


# Each job mutation and the kind it submits.
JOB_MUTATIONS = {
    "importHospitals": "tenancy.import_hospitals",
    "uploadCases": "cases.ingest",
    "groupCases": "grouping.group_cases",
    "compareSchemes": "grouping.compare",
    "calibrateStandard": "standards.calibrate",
    "computePoints": "settlement.points",
    "runSettlement": "settlement.settle",
    "startSimulation": "settlement.simulate",
    "runEvaluation": "evaluation.run",
    "runSupervision": "supervision.run",
    "runSignals": "signals.run",
    "runAnomaly": "anomaly.run",
    "exportNationalUpload": "national.export",
    "refreshAnalytics": "analytics.refresh",
}


def test_the_sdl_shows_each_job_mutation_s_roles_as_the_registry_has_them():
    declared = declared_roles(sdl())
    kinds = all_kinds()
    order = [r.value for r in Role]
    assert set(JOB_MUTATIONS.values()) == set(kinds)  # every kind is submitted by a mutation
    for field, kind in JOB_MUTATIONS.items():
        assert declared[f"Mutation.{field}"] == sorted(kinds[kind].roles, key=order.index), field


def test_every_mutation_declares_its_roles():
    declared = declared_roles(sdl())
    assert [f for f in SCHEMA.mutation_type.fields if f"Mutation.{f}" not in declared] == []


async def test_rest_paths_use_the_same_declarations(api, city):
    data = csv_bytes([row("R1", city.a1)])
    viewer = api.token(Role.region_viewer, [city.a])
    r = await api.client.post(
        f"/ingest/{city.a}?filename=cases.csv", content=data, headers={"Authorization": f"Bearer {viewer}"}
    )
    assert r.status_code == 403
    assert r.json()["errors"][0]["field"] == "role"
    assert r.json()["errors"][0]["reason"].startswith("role region_viewer may not do this (allowed: ")
    other = api.token(Role.region_admin, [city.b])
    r = await api.client.post(
        f"/ingest/{city.a}?filename=cases.csv", content=data, headers={"Authorization": f"Bearer {other}"}
    )
    assert r.status_code == 403 and r.json()["errors"] == [
        {"field": "tenant", "reason": f"tenant {city.a} is outside your scope"}
    ]
    hospital = api.token(Role.hospital_user, [city.a], city.a1)
    r = await api.client.get(
        f"/reports/{city.city}/settlement/2025.csv", headers={"Authorization": f"Bearer {hospital}"}
    )
    assert r.status_code == 403 and r.json()["errors"][0]["field"] == "role"


def test_a_tenant_is_named_one_way_on_every_output_type():
    """Arguments name a tenant `tenant` (its code); an object gives its tenant's code as `tenantCode`
    (and may link the `Tenant` itself as `tenant`); a `tenant: String` left from before is
    deprecated in favour of `tenantCode`."""
    from graphql import GraphQLObjectType, get_named_type

    plain = []
    for name, t in SCHEMA.type_map.items():
        if name.startswith("__") or not isinstance(t, GraphQLObjectType) or "tenant" not in t.fields:
            continue
        f = t.fields["tenant"]
        if get_named_type(f.type).name == "String":
            if not f.deprecation_reason or "tenantCode" not in t.fields:
                plain.append(name)
    assert plain == []

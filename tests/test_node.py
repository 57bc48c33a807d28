"""Relay's object identification: every node type's global id round-trips through node(id:), which
sees exactly what the type's own query sees (tenants, hospitals, roles), and refuses an id that is
not one of this API's as a typed client error."""

from __future__ import annotations

import base64

import pytest

from dianshu.db.session import scoped_session
from dianshu.grouping.service import GROUP_CASES
from dianshu.scope import Role, Scope
from dianshu_graphql import node
from tests.api import Api
from tests.cases.rows import csv_bytes, row
from tests.cases.test_ingestion import send
from tests.conftest import provision_city, scope_for
from tests.evaluation.world import builtin_catalogue_version  # noqa: F401
from tests.settlement.world import publish_standard, run_job, settle, stay
from tests.test_isolation_api import principals
from tests.test_standards_db import builtin_versions  # noqa: F401


@pytest.fixture
async def api(settings, db):
    a = Api(settings, db)
    yield a
    await a.client.aclose()


# Each node type's own list, read as the caller: the ids it shows. A list that names a tenant ($t) is
# read for each tenant of the caller's scope.
LISTS = {
    "Tenant": ["{ tenants(first: 100) { nodes { id } } }"],
    "Hospital": ["{ hospitals(first: 100) { nodes { id } } }"],
    "Job": ["{ jobs(first: 100) { nodes { id } } }"],
    "Case": ["{ cases(first: 100) { nodes { id } } }"],
    "IngestionBatch": ["{ ingestionBatches(first: 100) { nodes { id } } }"],
    "StandardVersion": ["{ standardVersions(first: 100) { nodes { id } } }"],
    "PaymentStandard": ["{ paymentStandards(first: 100) { nodes { id } } }"],
    "SettlementRun": ["query($t: String!) { settlementRuns(tenant: $t, year: 2025, first: 100) { nodes { id } } }"],
    "PointsRun": ["query($t: String!) { pointsRuns(tenant: $t, year: 2025, first: 100) { nodes { id } } }"],
    "BudgetVersion": ["query($t: String!) { budgets(tenant: $t, year: 2025, first: 100) { nodes { id } } }"],
    "Review": ["query($t: String!) { reviews(tenant: $t, first: 100) { nodes { id } } }"],
    "EvaluationCatalogueVersion": ["{ evaluationCatalogueVersions(first: 100) { nodes { id } } }"],
    "EvaluationRun": ["query($t: String!) { evaluationRuns(tenant: $t, first: 100) { nodes { id } } }"],
    "SupervisionFinding": ["query($t: String!) { findings(tenant: $t, first: 100) { nodes { id } } }"],
    "NationalExport": ["query($t: String!) { nationalExports(tenant: $t, first: 100) { nodes { id } } }"],
}


async def ids_seen(api: Api, token: str, world: dict) -> dict[str, set[str]]:
    """type name -> the global ids the caller's own queries show."""

    async def ids(query: str, variables: dict | None = None) -> set[str]:
        data = await api.gql(token, query, variables)
        return {n["id"] for n in next(iter(data.values()))["nodes"]}

    tenants = (await api.gql(token, "{ me { tenantCodes } }"))["me"]["tenantCodes"]
    seen = {}
    for name, queries in LISTS.items():
        seen[name] = set()
        for q in queries:
            for variables in [{"t": t} for t in tenants] if "$t" in q else [None]:
                seen[name] |= await ids(q, variables)
    seen["CaseGroupingResult"] = set()
    for tenant, case_id in world["cases"]:
        seen["CaseGroupingResult"] |= await ids(
            "query($t: String!, $c: Int!) { caseGroupings(tenant: $t, caseId: $c) { nodes { id } } }",
            {"t": tenant, "c": case_id},
        )
    seen["DrgParameters"] = set()
    for std in world["standards"]:
        seen["DrgParameters"] |= await ids("query($s: ID!) { basePoints(standard: $s) { nodes { id } } }", {"s": std})
    seen["Drg"] = await ids("query($v: ID!) { drgs(version: $v, first: 3) { nodes { id } } }", {"v": world["zj"]})
    return seen


async def settled_region(db, city_code: str, tenant: str, hospital: str, zj) -> None:
    """A 2025 of two stays in `hospital`, grouped, a budget, a special review of the costly stay, and
    April pre-settled (a points run and a settlement run)."""
    from dianshu.reviews import service as reviews
    from dianshu.settlement.runs import budgets
    from dianshu.settlement.runs.policies import set_region_policy

    region = scope_for(Role.region_admin, (tenant,))
    rows = [stay(f"{tenant}-1", hospital, 8000, 3), stay(f"{tenant}-4", hospital, 40000, 4)]
    await send(db, region, tenant, csv_bytes(rows), f"node-year-{tenant}")
    await run_job(db, region, tenant, GROUP_CASES, {"from": "2025-01", "to": "2025-12", "versions": [str(zj)]})
    async with scoped_session(db, region) as s:
        policy = {"provisional_point_value": "100", "review_quota_ratio": "1"}
        await set_region_policy(s, region, city_code, tenant, 2025, "employee", policy, "node")
        await budgets.set_budget(
            s, region, city_code, tenant, 2025, "employee", growth_rate="0", last_year_spending="60000", reason="node"
        )
    own = scope_for(Role.hospital_user, (tenant,), hospital)
    async with scoped_session(db, own) as s:
        await reviews.submit(s, own, tenant, hospital, f"{tenant}-4", "costly")
    await settle(db, region, tenant, "monthly", month=4)
    # The region's national upload of March (a file of every hospital of the region).
    from dianshu.national.service import NATIONAL_EXPORT

    await run_job(db, region, tenant, NATIONAL_EXPORT, {"month": "2025-03"})
    # A draft evaluation run of the region (as the job writes one; its scoring has its own tests).
    import uuid

    from dianshu.evaluation.run_models import EvaluationRun

    async with scoped_session(db, Scope.system((tenant,))) as s:
        s.add(
            EvaluationRun(
                tenant_id=tenant,
                id=uuid.uuid4(),
                group_id=uuid.uuid4(),
                year=2025,
                version=1,
                status="draft",
                catalogue_label="node",
                peer_scope="region",
                inputs={},
                summary={},
                created_by="tests",
            )
        )
        # A supervision finding of the hospital (as the rules write one; the rules have their own tests).
        from dianshu.supervision.models import SupervisionFinding

        s.add(
            SupervisionFinding(
                tenant_id=tenant,
                id=uuid.uuid4(),
                hospital_id=hospital,
                rule="high_cost",
                level="hospital",
                year=2025,
                fingerprint=f"node-{tenant}",
                severity="medium",
                state="open",
                stale=False,
                unit="yuan",
                evidence={},
                last_seen_run=uuid.uuid4(),
            )
        )


NODE = "query($id: ID!) { node(id: $id) { __typename id } }"


@pytest.mark.usefixtures("builtin_catalogue_version")
async def test_node_sees_what_each_type_s_own_query_sees(api, db, owner_db, city, dispatcher, builtin_versions):  # noqa: F811
    from dianshu_tenants.provisioning import ensure_service_account

    await ensure_service_account(owner_db, f"svc-{city.a}", "team", [city.a])
    other = await provision_city(owner_db, db)
    zj = builtin_versions["zhejiang_2022"]
    # Jobs of every scope (real kinds, run to the end: no row is left for a sweeper): a hospital's own
    # upload, and each region's upload and grouping.
    hospital_a1 = scope_for(Role.hospital_user, (city.a,), city.a1)
    await send(db, hospital_a1, city.a, csv_bytes([row("N0", city.a1)]), "node-a1")
    for tenant, rows in ((city.a, [row("N1", city.a1), row("N2", city.a2)]), (city.b, [row("N3", city.b1)])):
        region = scope_for(Role.region_admin, (tenant,))
        await send(db, region, tenant, csv_bytes(rows), f"node-{tenant}")
        await run_job(db, region, tenant, GROUP_CASES, {"from": "2024-03", "to": "2024-03", "versions": [str(zj)]})
    standards = [await publish_standard(db, city, zj), await publish_standard(db, other, zj)]
    # A settled month, a budget and a special review in a region of each city and in the city's other region.
    for c, tenant, hospital in ((city, city.a, city.a1), (city, city.b, city.b1), (other, other.a, other.a1)):
        await settled_region(db, c.city, tenant, hospital, zj)

    # Everything there is, as the two cities' admins see it.
    admins = [api.token(Role.city_admin, [city.city]), api.token(Role.city_admin, [other.city])]
    case_keys = []
    for t in admins:
        for c in (await api.gql(t, "{ cases(first: 100) { nodes { tenantCode databaseId } } }"))["cases"]["nodes"]:
            case_keys.append((c["tenantCode"], c["databaseId"]))
    world = {
        "cases": case_keys,
        "standards": [str(s) for s in standards],
        "zj": str(zj),
    }
    everything: dict[str, set[str]] = {}
    for t in admins:
        for name, found in (await ids_seen(api, t, world)).items():
            everything.setdefault(name, set()).update(found)
    assert set(everything) == {nt.name for nt in node._TYPES.values()}, "a node type without a visibility check here"
    for name, found in everything.items():
        assert found, f"no {name} to probe"

    callers = {name: token for name, (token, _) in principals(api, city).items()}
    callers["other_city_admin"] = admins[1]
    hidden_somewhere = set()
    for who, token in callers.items():
        seen = await ids_seen(api, token, world)
        for name, ids in everything.items():
            for gid in ids:
                got = (await api.gql(token, NODE, {"id": gid}))["node"]
                if gid in seen[name]:
                    assert got == {"__typename": name, "id": gid}, (who, name)
                else:
                    assert got is None, (who, name, gid)
                    hidden_somewhere.add(name)
    # The check is not vacuous: every tenant-scoped type hides something from someone.
    assert hidden_somewhere >= {
        "SettlementRun",
        "PointsRun",
        "BudgetVersion",
        "Review",
        "Tenant",
        "Hospital",
        "Job",
        "Case",
        "IngestionBatch",
        "CaseGroupingResult",
        "PaymentStandard",
        "DrgParameters",
        "EvaluationRun",
        "NationalExport",
    }
    # nodes(ids:) answers in order, null where node(id:) is null.
    region_a = callers["region_admin_A"]
    some = sorted(everything["Hospital"])
    many = (await api.gql(region_a, "query($i: [ID!]!) { nodes(ids: $i) { id } }", {"i": some}))["nodes"]
    singles = [(await api.gql(region_a, NODE, {"id": i}))["node"] for i in some]
    assert [m and m["id"] for m in many] == [s and s["id"] for s in singles]


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


@pytest.mark.parametrize(
    "bad",
    [
        "nope",
        "",
        _b64("Job"),
        _b64("Job:not-a-uuid"),
        _b64("Unknown:1"),
        _b64("Hospital:only-one-part"),
        _b64("Hospital:A:B:C"),
        _b64("Case:330702:x"),
        _b64("Tenant:33\x000702"),
        base64.b64encode(b"\xff\xfe").decode(),
        "x" * 1000,
    ],
)
async def test_an_id_that_is_not_one_of_this_api_s_is_a_typed_client_error(prod, city, bad):
    r = await prod.post(prod.token(Role.city_admin, [city.city]), NODE, {"id": bad})
    assert r.status_code == 200
    errors = r.json()["errors"]
    assert [e["extensions"] for e in errors] == [{"code": "BAD_USER_INPUT", "field": "id"}], r.text
    assert errors[0]["message"].startswith("id: ")  # "... is not an id from this API" (or too long to read)


async def test_an_id_of_another_type_is_refused_by_the_argument_that_takes_one(api, city):
    token = api.token(Role.city_admin, [city.city])
    tenant_id = (await api.gql(token, "{ tenants(first: 1) { nodes { id } } }"))["tenants"]["nodes"][0]["id"]
    r = await api.post(token, "query($id: ID!) { job(id: $id) { id } }", {"id": tenant_id})
    error = r.json()["errors"][0]
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "id"}
    assert "is the id of a Tenant, not of a Job" in error["message"]
    # An id that is nothing at all keeps its older wording.
    r = await api.post(token, 'query { job(id: "nope") { id } }')
    assert "id: 'nope' is not a job id" in r.json()["errors"][0]["message"]


async def test_arguments_take_global_ids_and_database_ids_alike(api, city, builtin_versions):  # noqa: F811
    token = api.token(Role.region_viewer, [city.a])
    versions = (await api.gql(token, "{ standardVersions { nodes { id databaseId scheme } } }"))["standardVersions"]
    zj = next(v for v in versions["nodes"] if v["scheme"] == "zhejiang_2022")
    q = 'query($v: ID!) { drgs(version: $v, adrg: "BR2") { nodes { code } } }'
    by_global = await api.gql(token, q, {"v": zj["id"]})
    by_database = await api.gql(token, q, {"v": zj["databaseId"]})
    assert by_global == by_database and len(by_global["drgs"]["nodes"]) == 4
    assert (await api.gql(token, NODE, {"id": zj["id"]}))["node"] == {"__typename": "StandardVersion", "id": zj["id"]}


def test_global_ids_are_base64_of_type_and_key():
    gid = node.global_id("Hospital", "330702", "H33070200001")
    assert base64.b64decode(gid).decode() == "Hospital:330702:H33070200001"
    nt, key = node.decode(gid)
    assert (nt.name, key) == ("Hospital", ["330702", "H33070200001"])

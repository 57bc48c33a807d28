"""The isolation matrix through the API: every role against every tenant-scoped query and the
roster mutation, for two regions and two hospitals of one region."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from dianshu.db.session import scoped_session
from dianshu.scope import Role, Scope
from dianshu_tenants.provisioning import deactivate_service_account, ensure_service_account
from tests.api import Api


@pytest.fixture
async def api(settings, db):
    a = Api(settings, db)
    yield a
    await a.client.aclose()


async def seed_jobs(db, city) -> dict[str, tuple[str, str | None]]:
    """One job per hospital and one per region; returns job id -> (tenant, hospital). They are
    finished ('succeeded'), so no sweeper (a drill's worker on the same database) tries to send
    their kind, which has no actor."""
    out = {}
    for tenant, hospitals in ((city.a, (city.a1, city.a2)), (city.b, (city.b1,))):
        async with scoped_session(db, Scope.system((tenant,))) as s:
            for h in (*hospitals, None):
                jid = (
                    await s.execute(
                        text("""
                    insert into job (tenant_id, id, kind, params, params_hash, hospital_id, created_by,
                                     created_role, status, progress_done, attempts)
                    values (:t, gen_random_uuid(), 'test', '{}', 'x', :h, 'seed', 'system', 'succeeded', 0, 0)
                    returning id"""),
                        {"t": tenant, "h": h},
                    )
                ).scalar()
                out[str(jid)] = (tenant, h)
    return out


def principals(api: Api, city) -> dict[str, tuple[str | None, callable]]:
    """name -> (token, predicate(tenant, hospital) for hospital-scoped rows)."""
    return {
        "city_admin": (api.token(Role.city_admin, [city.city]), lambda t, h: True),
        "city_viewer": (api.token(Role.city_viewer, [city.city]), lambda t, h: True),
        "region_admin_A": (api.token(Role.region_admin, [city.a]), lambda t, h: t == city.a),
        "region_viewer_B": (api.token(Role.region_viewer, [city.b]), lambda t, h: t == city.b),
        "hospital_A1": (api.token(Role.hospital_user, [city.a], city.a1), lambda t, h: (t, h) == (city.a, city.a1)),
        "hospital_A2": (api.token(Role.hospital_user, [city.a], city.a2), lambda t, h: (t, h) == (city.a, city.a2)),
        "integrator_A": (api.token(Role.integrator, [city.a], sa=f"svc-{city.a}"), lambda t, h: t == city.a),
        "expert_A": (api.token(Role.expert, [city.a]), lambda t, h: False),
    }


TENANT_SCOPE = {
    "city_admin": "city+all",
    "city_viewer": "city+all",
    "region_admin_A": "a",
    "region_viewer_B": "b",
    "hospital_A1": "a",
    "hospital_A2": "a",
    "integrator_A": "a",
    "expert_A": "a",
}

QUERY = """
{
  me { role tenantCodes hospitalCode }
  tenants(first: 100) { nodes { code } }
  hospitals(first: 100) { nodes { tenantCode code } }
  jobs(first: 100) { nodes { databaseId } }
}"""


async def test_isolation_matrix(api, db, owner_db, city):
    await ensure_service_account(owner_db, f"svc-{city.a}", "team", [city.a])
    jobs = await seed_jobs(db, city)
    hospitals = {(city.a, city.a1), (city.a, city.a2), (city.b, city.b1)}
    for name, (token, sees) in principals(api, city).items():
        data = await api.gql(token, QUERY)
        expected_tenants = {"city+all": set(city.tenants), "a": {city.a}, "b": {city.b}}[TENANT_SCOPE[name]]
        assert {t["code"] for t in data["tenants"]["nodes"]} == expected_tenants, name
        assert set(data["me"]["tenantCodes"]) == expected_tenants, name
        got_h = {(h["tenantCode"], h["code"]) for h in data["hospitals"]["nodes"]}
        assert got_h == {k for k in hospitals if sees(*k)}, name
        got_j = {j["databaseId"] for j in data["jobs"]["nodes"]}
        assert got_j == {j for j, (t, h) in jobs.items() if _job_visible(name, city, t, h)}, name
        # Point lookups agree with the lists: nothing outside the scope resolves.
        for tenant, code in hospitals:
            d = await api.gql(
                token, "query($t:String!,$c:String!){ hospital(tenant:$t, code:$c){ code } }", {"t": tenant, "c": code}
            )
            assert (d["hospital"] is not None) == sees(tenant, code), (name, tenant, code)
        for jid, (t, h) in jobs.items():
            d = await api.gql(token, "query($id:ID!){ job(id:$id){ databaseId } }", {"id": jid})
            assert (d["job"] is not None) == _job_visible(name, city, t, h), (name, jid)
        for code in city.tenants:
            d = await api.gql(token, "query($c:String!){ tenant(tenant:$c){ code } }", {"c": code})
            assert (d["tenant"] is not None) == (code in expected_tenants), (name, code)


def _job_visible(name: str, city, tenant: str, hospital: str | None) -> bool:
    """Region-wide jobs (no hospital) are hidden from hospital users; experts see no jobs."""
    if name.startswith("hospital_"):
        own = city.a1 if name == "hospital_A1" else city.a2
        return tenant == city.a and hospital == own
    if name == "expert_A":
        return False
    if name in ("city_admin", "city_viewer"):
        return True
    return tenant == (city.a if name.endswith("_A") else city.b)


async def test_anonymous_and_bad_tokens_get_nothing_but_health(api, owner_db, city):
    for token in (None, "not-a-jwt"):
        r = await api.post(token, "{ me { role } }")
        assert r.status_code == 401
        assert "UNAUTHENTICATED" in r.text
    assert (await api.client.get("/healthz")).status_code == 200
    assert (await api.client.get("/metrics")).status_code == 401
    # Tokens that name something that does not exist, or not theirs, are refused.
    bad = [
        api.token(Role.region_admin, ["NOPE99"]),
        api.token(Role.region_admin, [city.city]),  # a city is not a region
        api.token(Role.city_admin, [city.a]),  # a region is not a city
        api.token(Role.hospital_user, [city.a], city.b1),  # hospital of another region
        api.token(Role.integrator, [city.a], sa="svc-unknown"),
    ]
    for token in bad:
        r = await api.post(token, "{ me { role } }")
        assert r.status_code == 401, r.text
    await ensure_service_account(owner_db, f"svc-x-{city.a}", "team", [city.a])
    token = api.token(Role.integrator, [city.a], sa=f"svc-x-{city.a}")
    assert (await api.post(token, "{ me { role } }")).status_code == 200
    # An integrator naming a tenant its account does not cover is refused.
    assert (
        await api.post(api.token(Role.integrator, [city.b], sa=f"svc-x-{city.a}"), "{ me { role } }")
    ).status_code == 401
    await deactivate_service_account(owner_db, f"svc-x-{city.a}")
    assert (await api.post(token, "{ me { role } }")).status_code == 401


MUTATION = """
mutation($input: ImportHospitalsInput!) {
  importHospitals(input: $input) {
    __typename
    ... on JobPayload { created job { id status kind tenantCode } }
    ... on PermissionDenied { message }
    ... on ValidationError { message errors { record field reason } }
    ... on IdempotencyConflict { message idempotencyKey }
  }
}"""


async def test_roster_mutation_by_every_role_into_each_region(api, owner_db, city, dispatcher):
    await ensure_service_account(owner_db, f"svc-{city.a}", "team", [city.a])
    allowed = {("city_admin", city.a), ("city_admin", city.b), ("region_admin_A", city.a), ("integrator_A", city.a)}
    for name, (token, _) in principals(api, city).items():
        for tenant in (city.a, city.b):
            hospitals = [{"code": f"H{tenant}00099", "name": "New", "level": 1, "type": "general"}]
            data = await api.gql(token, MUTATION, {"input": {"tenant": tenant, "hospitals": hospitals}})
            typename = data["importHospitals"]["__typename"]
            if (name, tenant) in allowed:
                assert typename == "JobPayload", (name, tenant, data)
                assert data["importHospitals"]["job"]["tenantCode"] == tenant
            else:
                assert typename == "PermissionDenied", (name, tenant, data)
    assert len(dispatcher.sent) == len(allowed)

"""The evaluation catalogue through the API: the catalogue in force with typed indicators, its
versions, loading and publishing (the city admin only, retry-safe), and entered values with typed
refusals, visible by row-level security."""

from __future__ import annotations

import dataclasses
import uuid

import pytest

from dianshu.db.session import scoped_session
from dianshu.evaluation.catalogue import builtin_catalogue
from dianshu.evaluation.versions import builtin_label, load_catalogue
from dianshu.scope import Role
from tests.api import Api
from tests.conftest import scope_for
from tests.evaluation.world import builtin_catalogue_version  # noqa: F401

pytestmark = pytest.mark.usefixtures("builtin_catalogue_version")


@pytest.fixture
async def api(settings, db):
    a = Api(settings, db)
    yield a
    await a.client.aclose()


CATALOGUE = """
query($year: Int, $version: ID) {
  evaluationCatalogue(year: $year, version: $version) {
    version { id databaseId label status effectiveFrom effectiveTo indicatorCount }
    dimensions { code nameZh nameEn weight }
    indicators { code dimension nameZh nameEn computation direction source unit weight status formulaZh formulaEn
                 entered }
  }
}"""

INVALID = """
  ... on ValidationError { message errors { record field reason } }
  ... on PermissionDenied { message }
"""
ERRORS = (
    INVALID
    + """
  ... on NotFound { message record field }
  ... on StateConflict { message record field reason }
"""
)

ENTER = (
    """
mutation($input: EnterEvaluationIndicatorInput!) {
  enterEvaluationIndicator(input: $input) {
    __typename
    ... on EvaluationEntryPayload { changed entry { tenantCode hospital year code value note enteredBy } }
"""
    + INVALID
    + "... on NotFound { message record field }"
    + "} }"
)

PUBLISH = (
    """
mutation($id: ID!, $from: Int!, $to: Int) {
  publishEvaluationCatalogue(id: $id, effectiveFrom: $from, effectiveTo: $to) {
    __typename
    ... on EvaluationCatalogueVersionPayload { created version { label status effectiveFrom effectiveTo } }
"""
    + ERRORS
    + "} }"
)

LOAD = (
    """
mutation { loadEvaluationCatalogue {
    __typename
    ... on EvaluationCatalogueVersionPayload { created version { id label status } }
"""
    + INVALID
    + "} }"
)


async def test_the_catalogue_in_force_has_typed_indicators_exactly_as_the_file(api, city, builtin_catalogue_version):  # noqa: F811
    token = api.token(Role.hospital_user, [city.a], city.a1)  # reference data: every role reads it
    data = (await api.gql(token, CATALOGUE, {"year": 2025}))["evaluationCatalogue"]
    assert data["version"]["databaseId"] == str(builtin_catalogue_version)
    assert (data["version"]["label"], data["version"]["status"], data["version"]["effectiveFrom"]) == (
        builtin_label(),
        "published",
        2000,
    )
    builtin = builtin_catalogue()
    assert data["dimensions"] == [
        {"code": d.code, "nameZh": d.name_zh, "nameEn": d.name_en, "weight": str(d.weight)} for d in builtin.dimensions
    ]
    assert len(data["indicators"]) == 50
    for got, i in zip(data["indicators"], builtin.indicators, strict=True):
        assert got == {
            "code": i.code,
            "dimension": i.dimension,
            "nameZh": i.name_zh,
            "nameEn": i.name_en,
            "computation": i.computation,
            "direction": i.direction,
            "source": i.source,
            "unit": i.unit,
            "weight": str(i.weight),
            "status": i.status,
            "formulaZh": i.formula_zh,
            "formulaEn": i.formula_en,
            "entered": i.source in ("entered", "training"),
        }
    # The same by version id; none in force before 2000.
    by_id = await api.gql(token, CATALOGUE, {"version": data["version"]["id"]})
    assert by_id["evaluationCatalogue"] == data
    assert (await api.gql(token, CATALOGUE, {"version": str(uuid.uuid4())}))["evaluationCatalogue"] is None
    r = (await api.post(token, CATALOGUE, {"year": 1999})).json()
    assert r["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "field": "year"}
    r = (await api.post(token, CATALOGUE, {})).json()
    assert r["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_versions_load_and_publish_as_the_city_admin_only(api, db, city, builtin_catalogue_version):  # noqa: F811
    admin = api.token(Role.city_admin, [city.city])
    # The built-in again: the stored version, nothing created.
    loaded = (await api.gql(admin, LOAD))["loadEvaluationCatalogue"]
    assert loaded["created"] is False and loaded["version"]["label"] == builtin_label()
    for role, tenants in ((Role.region_admin, [city.a]), (Role.city_viewer, [city.city])):
        denied = (await api.gql(api.token(role, tenants), LOAD))["loadEvaluationCatalogue"]
        assert denied["__typename"] == "PermissionDenied"
    hospital = api.token(Role.hospital_user, [city.a], city.a1)
    denied = await api.gql(hospital, PUBLISH, {"id": str(builtin_catalogue_version), "from": 2000})
    assert denied["publishEvaluationCatalogue"]["__typename"] == "PermissionDenied"

    # A draft (another catalogue, stored by the service) published once; again: a no-op.
    scope = scope_for(Role.city_admin, city.tenants)
    c = builtin_catalogue()
    other = dataclasses.replace(
        c, indicators=(dataclasses.replace(c.indicators[0], name_en="CMI (t)"), *c.indicators[1:])
    )
    tag = uuid.uuid4().hex[:8]
    async with scoped_session(db, scope) as s:
        draft = (
            await load_catalogue(s, scope, dataclasses.replace(other, dimensions=c.dimensions), f"api-{tag}")
        ).version
    listed = await api.gql(hospital, "{ evaluationCatalogueVersions(status: draft, first: 100) { nodes { label } } }")
    assert f"api-{tag}" in [v["label"] for v in listed["evaluationCatalogueVersions"]["nodes"]]
    bad = (await api.gql(admin, PUBLISH, {"id": str(draft.id), "from": 2081, "to": 2080}))["publishEvaluationCatalogue"]
    assert bad["__typename"] == "ValidationError" and bad["errors"][0]["field"] == "effectiveTo"
    first = (await api.gql(admin, PUBLISH, {"id": str(draft.id), "from": 2080, "to": 2081}))[
        "publishEvaluationCatalogue"
    ]
    assert first["created"] is True
    assert first["version"] == {
        "label": f"api-{tag}",
        "status": "published",
        "effectiveFrom": 2080,
        "effectiveTo": 2081,
    }
    again = (await api.gql(admin, PUBLISH, {"id": str(draft.id), "from": 2080, "to": 2081}))[
        "publishEvaluationCatalogue"
    ]
    assert again["created"] is False
    other_years = await api.gql(admin, PUBLISH, {"id": str(draft.id), "from": 2082})
    assert other_years["publishEvaluationCatalogue"]["__typename"] == "StateConflict"
    missing = await api.gql(admin, PUBLISH, {"id": str(uuid.uuid4()), "from": 2082})
    assert missing["publishEvaluationCatalogue"]["__typename"] == "NotFound"
    not_an_id = await api.gql(admin, PUBLISH, {"id": "nonsense", "from": 2082})
    assert not_an_id["publishEvaluationCatalogue"]["__typename"] == "ValidationError"
    # In force for 2080 only: the built-in before and after.
    in_force = await api.gql(hospital, "{ a: evaluationCatalogue(year: 2080) { version { label } } "
                             "b: evaluationCatalogue(year: 2081) { version { label } } }")  # fmt: skip
    assert (in_force["a"]["version"]["label"], in_force["b"]["version"]["label"]) == (f"api-{tag}", builtin_label())


def entry(city, **kw):
    return {"tenant": city.a, "hospital": city.a1, "year": 2025, "code": "E01", "value": "86.5", "note": "", **kw}


async def test_entering_through_the_api_is_typed_and_retry_safe(api, city):
    region = api.token(Role.region_admin, [city.a])
    first = (await api.gql(region, ENTER, {"input": entry(city, note="survey")}))["enterEvaluationIndicator"]
    assert first["changed"] is True
    assert first["entry"] == {
        "tenantCode": city.a,
        "hospital": city.a1,
        "year": 2025,
        "code": "E01",
        "value": "86.5000",
        "note": "survey",
        "enteredBy": "t-region_admin",
    }
    again = (await api.gql(region, ENTER, {"input": entry(city, note="survey")}))["enterEvaluationIndicator"]
    assert again["changed"] is False
    cases = [
        (entry(city, code="A01"), "ValidationError", "input.code"),
        (entry(city, code="ZZ1"), "ValidationError", "input.code"),
        (entry(city, value="101"), "ValidationError", "input.value"),
        (entry(city, code="E02", value="1.5"), "ValidationError", "input.value"),
        (entry(city, hospital=city.b1), "ValidationError", "input.hospital"),
    ]
    for given, typename, field in cases:
        got = (await api.gql(region, ENTER, {"input": given}))["enterEvaluationIndicator"]
        assert got["__typename"] == typename, (given, got)
        assert got["errors"][0]["field"] == field, got
        assert got["errors"][0]["record"] == f"entry {given['hospital']}/{given['year']}/{given['code']}"
    # A year out of range: the API's argument guard refuses it before the resolver.
    got = (await api.gql(region, ENTER, {"input": entry(city, year=1999)}))["enterEvaluationIndicator"]
    assert (got["__typename"], got["errors"][0]["field"]) == ("ValidationError", "input.year")
    # A JSON number is no decimal: the Decimal scalar refuses it before the resolver.
    r = (await api.post(region, ENTER, {"input": entry(city, value=86.5)})).json()
    assert r["errors"][0]["extensions"]["code"] in ("BAD_USER_INPUT", "GRAPHQL_VALIDATION_FAILED"), r
    for token in (api.token(Role.hospital_user, [city.a], city.a1), api.token(Role.region_admin, [city.b])):
        denied = (await api.gql(token, ENTER, {"input": entry(city)}))["enterEvaluationIndicator"]
        assert denied["__typename"] == "PermissionDenied"


async def test_entries_are_visible_by_row_level_security(api, city):
    region = api.token(Role.region_admin, [city.a])
    for h, v in ((city.a1, "70"), (city.a2, "80")):
        await api.gql(region, ENTER, {"input": entry(city, hospital=h, code="E04", year=2021, value=v)})
    in_b = entry(city, tenant=city.b, hospital=city.b1, code="E04", year=2021)
    await api.gql(api.token(Role.city_admin, [city.city]), ENTER, {"input": in_b})
    q = (
        "query($h: String, $a: String) { evaluationEntries(year: 2021, hospital: $h, first: 1, after: $a) "
        "{ nodes { hospital code value } pageInfo { hasNextPage endCursor } } }"
    )

    async def seen(token, hospital=None):
        out, after = [], None
        while True:
            page = (await api.gql(token, q, {"h": hospital, "a": after}))["evaluationEntries"]
            out += [(n["hospital"], n["value"]) for n in page["nodes"]]
            if not page["pageInfo"]["hasNextPage"]:
                return out
            after = page["pageInfo"]["endCursor"]

    assert await seen(region) == [(city.a1, "70.0000"), (city.a2, "80.0000")]
    assert await seen(api.token(Role.city_admin, [city.city])) == [
        (city.a1, "70.0000"),
        (city.a2, "80.0000"),
        (city.b1, "86.5000"),
    ]
    assert await seen(api.token(Role.hospital_user, [city.a], city.a1)) == [(city.a1, "70.0000")]
    assert await seen(api.token(Role.hospital_user, [city.a], city.a1), city.a2) == []
    assert await seen(api.token(Role.region_admin, [city.b]), city.a1) == []
    assert await seen(api.token(Role.hospital_user, [city.b], city.b1)) == [(city.b1, "86.5000")]

"""A bounded fuzz of /graphql: queries and mutations generated from the schema (hypothesis-graphql),
sent with a region admin's token against the production profile (errors masked except expected
ones), with data in two regions. No response may be a 500, an "Unexpected error." (for a document
the schema accepts, any refusal is the client's and must say so), or carry the other region's codes."""

from __future__ import annotations

import base64
import dataclasses
import datetime
import json
import re
import uuid
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_graphql import nodes
from hypothesis_graphql import strategies as gql

from dianshu.config import Settings
from dianshu.scope import Role
from dianshu_graphql.schema import build_schema
from tests.api import Api
from tests.conftest import City
from tests.test_standards_db import builtin_versions  # noqa: F401

PROD = Settings(profile="prod", database_url="postgresql://x@y/z", redis_url="redis://y", jwt_secret="s")
SCHEMA = build_schema(PROD)._schema

# Literals for the custom scalars: plausible values and hostile ones (exponents, NaN, extra places).
DECIMALS = st.one_of(
    st.decimals(min_value=-(10**6), max_value=10**6, places=2, allow_nan=False).map(str),
    st.sampled_from(["1e30", "-1E+999999", "NaN", "Infinity", "0.1234567", "abc", ""]),
)
# Strings and ints lean on the values that reach real rows: the test city's codes (placeholders,
# replaced per test: @A region A, @B region B, @C the city, @A1/@B1 hospitals), months, kinds, edges.
CODES = ["@A", "@B", "@C", "@A1", "@A2", "@B1"]
WORDS = ["@A\x00", "2025-03", "2025-13", "monthly", "annual", "weekly", "employee", "resident", "all", "drg", "adrg"]
# Ids of real rows (placeholders @id:<region>.<kind>.<n>, replaced by the n-th such row of the
# world below, modulo their number): queries by id probe region B's rows and region A's own.
ID_KINDS = (
    "job",
    "compare",
    "settlement_run",
    "points_run",
    "special_review",
    "ingestion_batch",
    "standard",
    "version",
)
IDS = st.builds(lambda r, k, n: f"@id:{r}.{k}.{n}", st.sampled_from("ba"), st.sampled_from(ID_KINDS), st.integers(0, 5))
CASE_IDS = st.builds(lambda r, n: f"@int:{r}.case.{n}", st.sampled_from("ba"), st.integers(0, 5))
HOSTILE = ["x\x00", "\ud800", "\udfff", "", "é" * 101, "2025-01-01T00:00:00+00:00", "2999-12-31T23:59:59+08:00"]
# Well-formed cursors: base64 of a JSON list of B's (and A's) codes, real ids, numbers and hostile
# strings; the placeholders inside are replaced before encoding (@@CUR<base64 of the template>@@).
TEXT_PART = st.one_of(st.sampled_from(CODES + HOSTILE), IDS)
INT_PART = st.one_of(st.sampled_from([0, 1, 3, -1, 2**63, 10**30]), CASE_IDS)
# The key shapes of the connections (text, number, time, id), so a cursor often reaches the query.
SLOTS = {"s": TEXT_PART, "i": INT_PART, "t": st.sampled_from(HOSTILE), "u": st.one_of(IDS, st.sampled_from(HOSTILE))}
SHAPES = ["s", "ss", "tu", "si", "ii", "isss"]
KEYS = st.one_of(
    st.sampled_from(SHAPES).flatmap(lambda shape: st.tuples(*(SLOTS[c] for c in shape)).map(list)),
    st.lists(st.one_of(TEXT_PART, INT_PART), min_size=1, max_size=4),
)
CURSORS = KEYS.map(lambda key: "@@CUR" + base64.urlsafe_b64encode(json.dumps(key).encode()).decode() + "@@")
STRINGS = st.one_of(st.sampled_from(CODES + WORDS), st.text(max_size=12), CURSORS)
INTS = st.one_of(
    st.sampled_from([2025, 2024, 1, 3, 12, 13, 0, -1, 100, 101, 2147483647, -2147483648]),
    st.integers(-(2**31), 2**31 - 1),
)
SCALARS = {
    "String": STRINGS.map(nodes.String),
    "ID": st.one_of(IDS, IDS, st.uuids().map(str), STRINGS).map(nodes.String),
    "Int": st.one_of(INTS.map(nodes.Int), CASE_IDS.map(lambda p: nodes.Int(p))),
    "Decimal": DECIMALS.map(nodes.String),
    "Date": st.dates(datetime.date(1900, 1, 1), datetime.date(2200, 1, 1)).map(lambda d: nodes.String(d.isoformat())),
    "DateTime": st.datetimes().map(lambda d: nodes.String(d.isoformat())),
    "JSON": st.one_of(
        STRINGS.map(nodes.String),
        st.dictionaries(STRINGS, DECIMALS, max_size=3).map(
            lambda d: nodes.Object([graphql_field(k, nodes.String(v)) for k, v in d.items()])
        ),
    ),
}


def graphql_field(name: str, value):
    import graphql

    return graphql.ObjectFieldNode(name=graphql.NameNode(value=name or "k"), value=value)


# uploadCases and importTrainingAttendance need a multipart file: the fuzz sends JSON only.
UNFUZZED = {"uploadCases", "importTrainingAttendance"}
MUTATIONS = sorted(n for n in SCHEMA.mutation_type.fields if n not in UNFUZZED)
FUZZ = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
    derandomize=True,  # the same documents every run: a failure reproduces
    database=None,
)


def leaked(text: str, city) -> list[str]:
    """Region B's tenant code appears in its own code and in every one of its hospital codes."""
    return [code for code in (city.b, city.b1, f"H{city.b}00002") if code in text]


# ---- the world: both regions with a year of real rows, built once for the module ------------------


@dataclasses.dataclass
class World:
    city: City
    ids: dict[str, dict[str, list[str]]]  # region a/b -> kind -> ids (case ids as text)


async def _fill_region(db, view: City, zj, chs) -> None:
    """Region view.a's year through the real paths: ingestion with a refused row, grouping, a scheme
    comparison, policy, budget, score, alliance, violation, audit deduction, experts, a review in
    review, a monthly and the annual settlement (points runs, runs, lines, audit entries, jobs), and
    training records (tests/training/world.py)."""
    from dianshu.grouping.service import COMPARE, GROUP_CASES
    from tests.cases.rows import csv_bytes, row
    from tests.cases.test_ingestion import send
    from tests.conftest import scope_for
    from tests.settlement.world import fill_region_inputs, run_job, settle, year_rows

    region = scope_for(Role.region_admin, (view.a,))
    rows = [*year_rows(view), row("BAD", view.a1, gend="9")]
    await send(db, region, view.a, csv_bytes(rows), f"fuzz-{view.a}")
    await run_job(db, region, view.a, GROUP_CASES, {"from": "2025-01", "to": "2025-12", "versions": [str(zj)]})
    await run_job(db, region, view.a, COMPARE, {"from": "2025-01", "to": "2025-12", "base": str(zj), "other": str(chs)})
    await fill_region_inputs(db, region, view, "fuzz")
    await settle(db, region, view.a, "annual")
    from tests.training import world as training

    await training.build(db, view)  # courses, sessions, people and attendance (培训)


async def _ids(db, tenant: str, standard: uuid.UUID, versions: list[uuid.UUID]) -> dict[str, list[str]]:
    from sqlalchemy import text

    from dianshu.db.session import scoped_session
    from dianshu.scope import Scope

    out: dict[str, list[str]] = {"standard": [str(standard)], "version": [str(v) for v in versions]}
    async with scoped_session(db, Scope.system((tenant,))) as s:
        for kind in ("job", "settlement_run", "points_run", "special_review", "ingestion_batch", "case_record"):
            rows = await s.execute(text(f"select id from {kind} where tenant_id = :t order by id"), {"t": tenant})
            out["case" if kind == "case_record" else kind] = [str(r[0]) for r in rows]
        rows = await s.execute(
            text("select id from job where tenant_id = :t and kind = 'grouping.compare'"), {"t": tenant}
        )
        out["compare"] = [str(r[0]) for r in rows]
    return out


@pytest.fixture(scope="module")
async def world(owner_db, db, builtin_versions) -> World:  # noqa: F811
    from dianshu.db.session import scoped_session
    from dianshu.jobs import service as jobs
    from dianshu.scope import Scope
    from dianshu.tenancy.service import upsert_hospitals, validate_roster
    from tests.conftest import RecordingDispatcher, provision_city
    from tests.settlement.world import publish_standard

    city = await provision_city(owner_db, db)
    b2 = f"H{city.b}00002"
    roster = validate_roster(city.b, [{"id": b2, "name": f"Hospital {b2}", "level": 2, "type": "general"}])
    async with scoped_session(db, Scope.system((city.b,))) as s:
        await upsert_hospitals(s, roster)
    zj, chs = builtin_versions["zhejiang_2022"], builtin_versions["chs_drg_11"]
    jobs.set_dispatcher(RecordingDispatcher())
    try:
        standard = await publish_standard(db, city, zj)
        await _fill_region(db, city, zj, chs)
        await _fill_region(db, City(city.city, city.b, city.a, city.b1, b2, city.a1), zj, chs)
    finally:
        jobs.set_dispatcher(None)
    ids = {r: await _ids(db, t, standard, [zj, chs]) for r, t in (("a", city.a), ("b", city.b))}
    for kind, values in ids["b"].items():
        assert values, f"region B has no {kind}: the leak check would not probe it"
    from sqlalchemy import text

    filled = ("case_grouping", "grouping_comparison", "ingestion_error", "case_point", "settlement_line", "budget")
    async with scoped_session(db, Scope.system((city.b,))) as s:
        more = ("policy_version", "alliance", "case_violation", "audit_deduction", "audit_log")
        training = ("training_course", "training_session", "training_person", "training_attendance")
        for table in (*filled, *more, *training):
            n = (await s.execute(text(f"select count(*) from {table} where tenant_id = :t"), {"t": city.b})).scalar()
            assert n, f"region B has no {table} rows: the leak check would not probe them"
    return World(city, ids)


ERROR_KEYS = ("message", "errors", "reason", "record", "field")


def split_refusals(node, refusals: list[str]):
    """The data without the typed refusals' texts (collected into `refusals`): a refusal may echo
    what the caller sent; the data proper may not hold another region's codes at all."""
    if isinstance(node, dict):
        # A typed error (ValidationError, JobError), also when the document left its message out.
        is_refusal = "message" in node or isinstance(node.get("errors"), list)
        out = {}
        for k, v in node.items():
            if is_refusal and k in ERROR_KEYS:
                refusals.append(json.dumps(v, ensure_ascii=False))
            else:
                out[k] = split_refusals(v, refusals)
        return out
    if isinstance(node, list):
        return [split_refusals(v, refusals) for v in node]
    return node


def with_ids(document: str, world: World) -> str:
    """Placeholders of real rows replaced (in cursors too, which are then encoded)."""

    def real(m: re.Match) -> str:
        region, kind, n = m.group(2).split(".")
        values = world.ids[region][kind]
        return values[int(n) % len(values)]

    def ids(text: str) -> str:
        text = re.sub(r'"@(int):([ab]\.case\.\d+)"', real, text)  # a number inside a cursor
        return re.sub(r"@(id|int):([ab]\.\w+\.\d+)", real, text)

    def cursor(m: re.Match) -> str:
        key = with_codes(ids(base64.urlsafe_b64decode(m.group(1)).decode()), world.city)
        return base64.urlsafe_b64encode(key.encode()).decode()

    return ids(re.sub(r"@@CUR([A-Za-z0-9_=-]*)@@", cursor, document))


def with_codes(document: str, city) -> str:
    for placeholder, code in (
        ("@A1", city.a1),
        ("@A2", city.a2),
        ("@B1", city.b1),
        ("@A", city.a),
        ("@B", city.b),
        ("@C", city.city),
    ):
        document = document.replace(placeholder, code)
    return document


async def check(api: Api, world: World, document: str) -> None:
    city = world.city
    token = api.token(Role.region_admin, [city.a])
    document = with_codes(with_ids(document, world), city)
    r = await api.post(token, document)
    assert r.status_code != 500, (document, r.text)
    assert r.status_code == 200, (document, r.text)  # a document the schema accepts is never refused whole
    messages = [e.get("message", "") for e in r.json().get("errors") or []]
    assert "Unexpected error." not in messages, (document, r.text)
    body = r.json()
    # Data never holds region B's codes; an error (top-level or a typed refusal in the data) may echo
    # a code only the document itself named.
    refusals: list[str] = []
    data = split_refusals(body.get("data"), refusals)
    assert not leaked(json.dumps(data, ensure_ascii=False), city), (document, r.text)
    assert set(leaked(" ".join(messages + refusals), city)) <= set(leaked(document, city)), (document, r.text)


@FUZZ
@given(document=gql.queries(SCHEMA, custom_scalars=SCALARS))
async def test_fuzz_queries(prod, world, document):
    await check(prod, world, document)


@settings(FUZZ, max_examples=40)
@given(document=gql.mutations(SCHEMA, fields=MUTATIONS, custom_scalars=SCALARS))
async def test_fuzz_mutations(prod, world, dispatcher, document):
    await check(prod, world, document)


def test_the_fuzz_can_see_a_leak(city):
    # The leak check is not vacuous: B's hospital code contains B's code.
    assert leaked(f'{{"code": "{city.b1}"}}', city) == [city.b, city.b1]
    refusals: list[str] = []
    data = split_refusals({"x": {"message": city.b, "hospital": city.b1}}, refusals)
    assert leaked(json.dumps(data), city) == [city.b, city.b1] and city.b in refusals[0]
    assert Decimal("1e30")  # the hostile decimal literal is a real decimal, refused by the bounds


SEEN_BY_B = """query($t: String!, $run: ID!, $job: ID!) {
  cases(tenant: $t) { nodes { hospitalCode } }
  settlementRuns(tenant: $t, year: 2025) { nodes { lines { nodes { hospital } } } }
  settlementRun(tenant: $t, id: $run) { tenant }
  pointsRuns(tenant: $t, year: 2025) { nodes { tenant } }
  budgets(tenant: $t, year: 2025) { nodes { tenant } }
  reviews(tenant: $t) { nodes { tenant hospital } }
  job(id: $job) { tenantCode }
  jobs(tenant: $t) { nodes { tenantCode } }
  ingestionBatches(tenant: $t) { nodes { tenantCode } }
  groupingComparison(job: $job) { nodes { hospitalCode } }
}"""


async def test_region_b_has_the_rows_the_leak_check_looks_for(prod, world):
    # Region B's own token sees its year in every list the fuzz probes: the leak check is not vacuous.
    city, ids = world.city, world.ids["b"]
    compare = ids["compare"][0]
    r = await prod.post(
        prod.token(Role.region_admin, [city.b]),
        SEEN_BY_B,
        {"t": city.b, "run": ids["settlement_run"][0], "job": compare},
    )
    body = r.json()
    assert not body.get("errors"), body
    data = body["data"]
    for field in ("cases", "jobs", "ingestionBatches", "groupingComparison"):
        assert data[field]["nodes"] and leaked(json.dumps(data[field]), city), field
    for field in ("settlementRuns", "settlementRun", "pointsRuns", "budgets", "reviews", "job"):
        assert data[field] and leaked(json.dumps(data[field]), city), field

"""A bounded fuzz of /graphql: queries and mutations generated from the schema (hypothesis-graphql),
sent with a region admin's token against the production profile (errors masked except expected
ones), with data in two regions. No response may be a 500, an "Unexpected error." (for a document
the schema accepts, any refusal is the client's and must say so), or carry the other region's codes."""

from __future__ import annotations

import datetime
import json
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_graphql import nodes
from hypothesis_graphql import strategies as gql

from dianshu.config import Settings
from dianshu.scope import Role
from dianshu_graphql.schema import build_schema
from tests.api import Api

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
STRINGS = st.one_of(st.sampled_from(CODES + WORDS), st.text(max_size=12))
INTS = st.one_of(
    st.sampled_from([2025, 2024, 1, 3, 12, 13, 0, -1, 100, 101, 2147483647, -2147483648]),
    st.integers(-(2**31), 2**31 - 1),
)
SCALARS = {
    "String": STRINGS.map(nodes.String),
    "ID": st.one_of(st.uuids().map(str), STRINGS).map(nodes.String),
    "Int": INTS.map(nodes.Int),
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


# uploadCases needs a multipart file: the fuzz sends JSON only.
UNFUZZED = {"uploadCases"}
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
    return [code for code in (city.b, city.b1) if code in text]


ERROR_KEYS = ("message", "errors", "reason", "record", "field")


def split_refusals(node, refusals: list[str]):
    """The data without the typed refusals' texts (collected into `refusals`): a refusal may echo
    what the caller sent; the data proper may not hold another region's codes at all."""
    if isinstance(node, dict):
        is_refusal = "message" in node
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


async def check(api: Api, city, document: str) -> None:
    token = api.token(Role.region_admin, [city.a])
    document = with_codes(document, city)
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
async def test_fuzz_queries(prod, city, document):
    await check(prod, city, document)


@settings(FUZZ, max_examples=40)
@given(document=gql.mutations(SCHEMA, fields=MUTATIONS, custom_scalars=SCALARS))
async def test_fuzz_mutations(prod, city, dispatcher, document):
    await check(prod, city, document)


def test_the_fuzz_can_see_a_leak(city):
    # The leak check is not vacuous: B's hospital code contains B's code.
    assert leaked(f'{{"code": "{city.b1}"}}', city) == [city.b, city.b1]
    refusals: list[str] = []
    data = split_refusals({"x": {"message": city.b, "hospital": city.b1}}, refusals)
    assert leaked(json.dumps(data), city) == [city.b, city.b1] and city.b in refusals[0]
    assert Decimal("1e30")  # the hostile decimal literal is a real decimal, refused by the bounds

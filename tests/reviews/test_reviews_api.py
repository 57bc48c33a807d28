"""Special review through the typed API (issue 11): the case as experts see it, states and outcomes
as enums, reviews as a connection, steps and opinions loaded once per request for every review,
and each mutation's typed errors."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from dianshu.db.session import scoped_session
from dianshu.reviews.models import ReviewAssignment, ReviewEvent, SpecialReview
from dianshu.scope import Role, Scope
from dianshu_graphql.context import Context
from tests.api import Api
from tests.settlement.world import budgeted_year
from tests.test_standards_db import builtin_versions  # noqa: F401

RESULT = """__typename ... on ReviewPayload { review { id state round outcome } }
  ... on ValidationError { errors { record field reason } } ... on NotFound { record field }
  ... on StateConflict { record field reason } ... on PermissionDenied { message }"""
APPLY = (
    """mutation($t: String!, $h: String!, $l: String!) { applyForReview(input: {tenant: $t, hospital: $h,
  listId: $l, request: "ECMO"}) { """
    + RESULT
    + " } }"
)
STEP = """mutation($i: ReviewStepInput!) { %s(input: $i) { """ + RESULT + " } }"
DECIDE = """mutation($i: ReviewDecisionInput!) { %s(input: $i) { """ + RESULT + " } }"
EXPERT = """mutation($t: String!, $e: String!) { addReviewExpert(tenant: $t, expert: $e, name: "Dr E",
  specialty: "ICU") { __typename ... on ReviewExpertPayload { expert { expert name specialty } }
  ... on PermissionDenied { message } } }"""
REVIEWS = """query($t: String!, $s: ReviewState, $a: String) { reviews(tenant: $t, state: $s, first: 2, after: $a) {
  pageInfo { hasNextPage endCursor }
  nodes { id hospital listId state round grounds localizedGrounds
    case { drg points type losDays totalCost diagnoses charges }
    steps { seq action fromState toState reason } opinions { round expert opinion } } } }"""


@pytest.fixture
async def api(settings, db, city, dispatcher, builtin_versions):  # noqa: F811
    await budgeted_year(db, city, builtin_versions["zhejiang_2022"], {"review_quota_ratio": "1"}, "test")
    a = Api(settings, db)
    yield a
    await a.client.aclose()


async def test_a_review_through_the_typed_api(api, city):
    region = api.token(Role.region_admin, [city.a])
    a2 = api.token(Role.hospital_user, [city.a], city.a2)
    out = (await api.gql(region, EXPERT, {"t": city.a, "e": "t-expert"}))["addReviewExpert"]
    assert out == {
        "__typename": "ReviewExpertPayload",
        "expert": {"expert": "t-expert", "name": "Dr E", "specialty": "ICU"},
    }
    assert (await api.gql(a2, EXPERT, {"t": city.a, "e": "x"}))["addReviewExpert"]["__typename"] == ("PermissionDenied")
    one = await api.gql(
        region,
        """mutation($t: String!) { setPolicy(input: {tenant: $t, year: 2025, ledger: employee,
          parameters: {reviewMinExperts: 1, reviewQuotaRatio: "1"}, reason: "one expert"}) { __typename } }""",
        {"t": city.a},
    )
    assert one["setPolicy"]["__typename"] == "PolicyPayload"
    applied = (await api.gql(a2, APPLY, {"t": city.a, "h": city.a2, "l": "A-4"}))["applyForReview"]
    assert applied["__typename"] == "ReviewPayload"
    assert applied["review"]["state"] == "submitted" and applied["review"]["outcome"] is None
    rid = applied["review"]["id"]
    i = {"tenant": city.a, "review": rid, "reason": "ok"}

    # Typed errors: the wrong state, an unknown review, not an id, the wrong role, an ineligible case.
    d = {**i, "outcome": "add_points", "points": "350"}
    early = (await api.gql(region, DECIDE % "decideReview", {"i": d}))["decideReview"]
    assert early["__typename"] == "StateConflict" and early["field"] == "input.review"  # the argument naming it
    assert early["reason"] == "cannot decide a review that is submitted (only in_review)"
    nobody = str(uuid.uuid4())
    missing = (await api.gql(region, STEP % "precheckReview", {"i": {**i, "review": nobody}}))["precheckReview"]
    assert missing == {"__typename": "NotFound", "record": f"review {nobody}", "field": "input.review"}
    bad = (await api.gql(region, STEP % "precheckReview", {"i": {**i, "review": "R-1"}}))["precheckReview"]
    assert bad["__typename"] == "ValidationError" and bad["errors"][0]["field"] == "input.review"
    mine = (await api.gql(a2, STEP % "precheckReview", {"i": i}))["precheckReview"]
    assert mine["__typename"] == "PermissionDenied"
    a1 = api.token(Role.hospital_user, [city.a], city.a1)
    normal = (await api.gql(a1, APPLY, {"t": city.a, "h": city.a1, "l": "A-1"}))["applyForReview"]
    assert normal["__typename"] == "ValidationError"
    assert normal["errors"][0]["reason"].startswith("not eligible: normal case of DRG ES23")

    assert (await api.gql(region, STEP % "precheckReview", {"i": i}))["precheckReview"]["review"]["state"] == (
        "prechecked"
    )
    assigned = (await api.gql(region, STEP % "assignReviewExperts", {"i": i}))["assignReviewExperts"]["review"]
    assert (assigned["state"], assigned["round"]) == ("in_review", 1)
    expert = api.token(Role.expert, [city.a])
    opinion = (await api.gql(expert, DECIDE % "giveReviewOpinion", {"i": d}))["giveReviewOpinion"]
    assert opinion["__typename"] == "ReviewPayload"
    # The same opinion again is a no-op; another one is refused: opinions are not edited.
    again = (await api.gql(expert, DECIDE % "giveReviewOpinion", {"i": d}))["giveReviewOpinion"]
    assert again["__typename"] == "ReviewPayload"
    other = {**d, "outcome": "keep", "points": None}
    edited = (await api.gql(expert, DECIDE % "giveReviewOpinion", {"i": other}))["giveReviewOpinion"]
    assert edited["__typename"] == "StateConflict" and edited["field"] == "input.review"
    decided = (await api.gql(region, DECIDE % "decideReview", {"i": d}))["decideReview"]["review"]
    assert (decided["state"], decided["outcome"]) == ("decided", "add_points")

    # What the expert sees: the case, blind, typed.
    seen = (await api.gql(expert, REVIEWS, {"t": city.a}))["reviews"]["nodes"]
    (r,) = seen
    assert (r["hospital"], r["listId"], r["state"], r["grounds"]) == (None, None, "decided", ["high outlier"])
    assert r["localizedGrounds"] == ["高倍率病例"]  # the request names no language: zh
    # ES23, a high outlier: 100 + 100 × (5 − 3) = 300 points; 40,000 yuan over 5 days.
    assert {k: r["case"][k] for k in ("drg", "points", "type", "losDays", "totalCost")} == {
        "drg": "ES23",
        "points": "300.0000",
        "type": "high_outlier",
        "losDays": 5,
        "totalCost": "40000.00",
    }
    assert len(r["case"]["charges"]) == 14
    # Row-level security: an expert reads no trail, only its own opinion.
    assert r["steps"] == [] and r["opinions"] == [{"round": 1, "expert": "t-expert", "opinion": "add_points"}]
    (r,) = (await api.gql(region, REVIEWS, {"t": city.a}))["reviews"]["nodes"]
    assert r["hospital"] == city.a2 and r["listId"] == "A-4"
    assert [(s["action"], s["fromState"], s["toState"]) for s in r["steps"]] == [
        ("submit", None, "submitted"),
        ("precheck", "submitted", "prechecked"),
        ("assign", "prechecked", "in_review"),
        ("decide", "in_review", "decided"),
    ]
    assert r["opinions"] == [{"round": 1, "expert": "t-expert", "opinion": "add_points"}]
    # The hospital sees its review and its steps, never who reviewed.
    (h,) = (await api.gql(a2, REVIEWS, {"t": city.a}))["reviews"]["nodes"]
    assert h["hospital"] == city.a2 and h["opinions"] == [] and len(h["steps"]) == 4
    assert (await api.gql(region, REVIEWS, {"t": city.a, "s": "final"}))["reviews"]["nodes"] == []


async def _copies(db, city, n: int) -> None:
    """n more reviews like the first (same steps and opinions), written directly."""
    async with scoped_session(db, Scope.system((city.a,))) as s:
        first = (await s.execute(select(SpecialReview))).scalars().one()
        events = (await s.execute(select(ReviewEvent).where(ReviewEvent.review_id == first.id))).scalars().all()
        opinions = (
            (await s.execute(select(ReviewAssignment).where(ReviewAssignment.review_id == first.id))).scalars().all()
        )

        def clone(row, **changes):
            cols = {c.key: getattr(row, c.key) for c in row.__table__.columns}
            return type(row)(**{**cols, **changes})

        for k in range(n):
            rid = uuid.uuid4()
            s.add(clone(first, id=rid, list_id=f"COPY-{k}"))
            await s.flush()
            s.add_all(clone(e, review_id=rid) for e in events)
            s.add_all(clone(a, review_id=rid) for a in opinions)
        await s.flush()


async def test_steps_and_opinions_load_once_for_every_review(api, db, city, monkeypatch):
    region = api.token(Role.region_admin, [city.a])
    a2 = api.token(Role.hospital_user, [city.a], city.a2)
    await api.gql(region, EXPERT, {"t": city.a, "e": "t-expert"})
    rid = (await api.gql(a2, APPLY, {"t": city.a, "h": city.a2, "l": "A-4"}))["applyForReview"]["review"]["id"]
    await api.gql(region, STEP % "precheckReview", {"i": {"tenant": city.a, "review": rid, "reason": "ok"}})
    await _copies(db, city, 4)
    opened: list[int] = []
    real = Context.session

    def counting(self):
        opened.append(1)
        return real(self)

    monkeypatch.setattr(Context, "session", counting)
    q = """query($t: String!) { reviews(tenant: $t) { nodes { id steps { seq } opinions { expert } } } }"""
    nodes = (await api.gql(region, q, {"t": city.a}))["reviews"]["nodes"]
    assert len(nodes) == 5 and all(len(n["steps"]) == 2 for n in nodes)
    # The reviews, then every review's steps, then every review's opinions: 3, not 1 + 2 × 5.
    assert len(opened) == 3
    # A page of two, then the rest by the cursor.
    monkeypatch.setattr(Context, "session", real)
    page = (await api.gql(region, REVIEWS, {"t": city.a}))["reviews"]
    assert len(page["nodes"]) == 2 and page["pageInfo"]["hasNextPage"] is True
    rest = (await api.gql(region, REVIEWS, {"t": city.a, "a": page["pageInfo"]["endCursor"]}))["reviews"]
    ids = [n["id"] for n in page["nodes"]] + [n["id"] for n in rest["nodes"]]
    assert len(ids) == 4 and len(set(ids)) == 4 and rest["pageInfo"]["hasNextPage"] is True


async def test_a_review_is_a_node_named_by_its_global_id_or_its_database_id(api, city):
    region = api.token(Role.region_admin, [city.a])
    a2 = api.token(Role.hospital_user, [city.a], city.a2)
    applied = (await api.gql(a2, APPLY, {"t": city.a, "h": city.a2, "l": "A-4"}))["applyForReview"]["review"]
    node = "query($i: ID!) { node(id: $i) { __typename ... on Review { id databaseId hospital state } } }"
    seen = (await api.gql(region, node, {"i": applied["id"]}))["node"]
    assert seen["__typename"] == "Review" and seen["id"] == applied["id"] and seen["hospital"] == city.a2
    # A step takes the review's databaseId as well as its id.
    i = {"tenant": city.a, "review": seen["databaseId"], "reason": "ok"}
    out = (await api.gql(region, STEP % "precheckReview", {"i": i}))["precheckReview"]
    assert out["review"] == {"id": applied["id"], "state": "prechecked", "round": 0, "outcome": None}
    # Another region's admin, and an expert it is not assigned to, see nothing.
    assert (await api.gql(api.token(Role.region_admin, [city.b]), node, {"i": applied["id"]}))["node"] is None
    assert (await api.gql(api.token(Role.expert, [city.a]), node, {"i": applied["id"]}))["node"] is None


async def test_reviews_page_info_both_ways(api, db, city):
    a2 = api.token(Role.hospital_user, [city.a], city.a2)
    await api.gql(a2, APPLY, {"t": city.a, "h": city.a2, "l": "A-4"})
    await _copies(db, city, 1)
    q = """query($t: String!, $a: String) { reviews(tenant: $t, first: 1, after: $a) {
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor } edges { cursor } } }"""
    region = api.token(Role.region_admin, [city.a])
    first = (await api.gql(region, q, {"t": city.a}))["reviews"]
    cursor = first["edges"][0]["cursor"]
    assert first["pageInfo"] == {
        "hasNextPage": True,
        "hasPreviousPage": False,
        "startCursor": cursor,
        "endCursor": cursor,
    }
    second = (await api.gql(region, q, {"t": city.a, "a": cursor}))["reviews"]
    assert second["pageInfo"]["hasPreviousPage"] is True and second["pageInfo"]["hasNextPage"] is False

"""The evaluation API end to end, every role against its own and other tenants and hospitals, on
the hand-built inputs of tests/evaluation/test_runs.py (region A: a1 total 100, a2 60; peers' cmi
P25 0.9, P75 1.1; complaints per 1000 P25 2.25, P75 2.75)."""

from __future__ import annotations

import base64
import json
import uuid

from dianshu.jobs import service as jobs
from dianshu.scope import Role
from tests.api import Api
from tests.evaluation.test_runs import evaluation_inputs  # noqa: F401

RUN = """mutation($t: String!) { runEvaluation(input: {tenant: $t, year: 2025}) { __typename
  ... on EvaluationJobPayload { job { id databaseId } } ... on PermissionDenied { message } } }"""
JOB = """query($id: ID!) { job(id: $id) { status result { __typename
  ... on EvaluationJobResult { year groupId runs { runId tenantCode version peerScope hospitals capped } } } } }"""
PUBLISH = """mutation($t: String!, $id: ID!) { publishEvaluationRun(tenant: $t, id: $id) { __typename
  ... on EvaluationRunPayload { run { status version publishedBy } }
  ... on NotFound { field } ... on StateConflict { reason } ... on PermissionDenied { message } } }"""
MINE = """query($t: String!, $h: String!) { hospitalEvaluation(tenant: $t, hospital: $h, year: 2025) {
  hospital total capped rankBand peers coefficient runStatus
  dimensions { dimension weight score }
  indicators { code status value numerator denominator score peers { peers p25 p75 } } } }"""
SIDE_BY_SIDE = (
    """query($t: String!) { evaluationResults(tenant: $t, year: 2025) { nodes { hospital total rankBand } } }"""
)
RUNS = """query($t: String!) { evaluationRuns(tenant: $t, year: 2025) { nodes { id status version peerScope
  hospitals inputs { peerTenants policy { peerScope coefficientFloors } }
  results { nodes { hospital total } } peerStats { code level peers p25 p75 } } } }"""
OVERRIDE = """mutation($i: OverrideEvaluationScoreInput!) { overrideEvaluationScore(input: $i) { __typename
  ... on EvaluationScorePayload { score { hospital score source reason } }
  ... on ValidationError { errors { field reason } } ... on PermissionDenied { message } } }"""


async def test_the_evaluation_through_the_api(settings, db, city, dispatcher, evaluation_inputs):  # noqa: F811
    api = Api(settings, db)
    try:
        region = api.token(Role.region_admin, [city.a])
        other_region = api.token(Role.region_admin, [city.b])
        a1 = api.token(Role.hospital_user, [city.a], city.a1)
        a2 = api.token(Role.hospital_user, [city.a], city.a2)
        admin = api.token(Role.city_admin, [city.city])

        # Only the bureaus' administrators run it.
        assert (await api.gql(a1, RUN, {"t": city.a}))["runEvaluation"]["__typename"] == "PermissionDenied"
        assert (await api.gql(other_region, RUN, {"t": city.a}))["runEvaluation"]["__typename"] == "PermissionDenied"
        job = (await api.gql(region, RUN, {"t": city.a}))["runEvaluation"]["job"]
        assert await jobs.execute(db, city.a, uuid.UUID(job["databaseId"])) == "succeeded"
        done = (await api.gql(region, JOB, {"id": job["id"]}))["job"]
        assert done["result"]["__typename"] == "EvaluationJobResult"
        (written,) = done["result"]["runs"]
        assert (written["tenantCode"], written["version"], written["peerScope"], written["hospitals"]) == (
            city.a,
            1,
            "region",
            2,
        )

        runs = (await api.gql(region, RUNS, {"t": city.a}))["evaluationRuns"]["nodes"]
        (run,) = runs
        assert (run["status"], run["inputs"]["peerTenants"], run["inputs"]["policy"]["peerScope"]) == (
            "draft",
            [city.a],
            "region",
        )
        assert run["results"]["nodes"] == [
            {"hospital": city.a1, "total": "100.00"},
            {"hospital": city.a2, "total": "60.00"},
        ]
        assert {s["code"]: (s["peers"], s["p25"], s["p75"]) for s in run["peerStats"]} == {
            "x1": (2, "0.9000", "1.1000"),
            "y1": (2, "2.2500", "2.7500"),
        }
        # Nothing published yet: no hospital evaluation in force.
        assert (await api.gql(a1, MINE, {"t": city.a, "h": city.a1}))["hospitalEvaluation"] is None

        # Publishing: a hospital may not; the region may, and again is a no-op; another region's id is not found.
        assert (await api.gql(a1, PUBLISH, {"t": city.a, "id": run["id"]}))["publishEvaluationRun"][
            "__typename"
        ] == "PermissionDenied"
        out = (await api.gql(region, PUBLISH, {"t": city.a, "id": run["id"]}))["publishEvaluationRun"]
        assert out["run"]["status"] == "published"
        again = (await api.gql(region, PUBLISH, {"t": city.a, "id": run["id"]}))["publishEvaluationRun"]
        assert again["run"] == out["run"]
        missing = (await api.gql(region, PUBLISH, {"t": city.a, "id": str(uuid.uuid4())}))["publishEvaluationRun"]
        assert missing == {"__typename": "NotFound", "field": "id"}
        bad = (await api.gql(region, PUBLISH, {"t": city.a, "id": "nope"}))["publishEvaluationRun"]
        assert bad["__typename"] == "ValidationError"

        # A hospital sees its own evaluation with its peers' percentiles, never another hospital's.
        mine = (await api.gql(a1, MINE, {"t": city.a, "h": city.a1}))["hospitalEvaluation"]
        assert (mine["total"], mine["rankBand"], mine["peers"], mine["runStatus"]) == ("100.00", "Q1", 2, "published")
        assert mine["dimensions"] == [
            {"dimension": "X", "weight": "60.00", "score": "100.00"},
            {"dimension": "Y", "weight": "40.00", "score": "100.00"},
        ]
        y1 = next(i for i in mine["indicators"] if i["code"] == "y1")
        # a1: 2 complaints × 1000 / 1000 cases = 2 ≤ P25 2.25 → 100.
        assert y1 == {
            "code": "y1",
            "status": "value",
            "value": "2.0000",
            "numerator": "2.0000",
            "denominator": "1000.0000",
            "score": "100.00",
            # Two peers: to a1 the percentiles would give away a2's own figure (P25 2.25 of 2 and x
            # makes x = 3), so a hospital sees them only of 4 peers or more; the region sees them.
            "peers": {"peers": 2, "p25": None, "p75": None},
        }
        assert (await api.gql(a1, MINE, {"t": city.a, "h": city.a2}))["hospitalEvaluation"] is None
        assert (await api.gql(a2, MINE, {"t": city.a, "h": city.a2}))["hospitalEvaluation"]["total"] == "60.00"
        # Side by side: the hospital gets its own line, the region both, the city every region's.
        assert (await api.gql(a1, SIDE_BY_SIDE, {"t": city.a}))["evaluationResults"]["nodes"] == [
            {"hospital": city.a1, "total": "100.00", "rankBand": "Q1"}
        ]
        both = [
            {"hospital": city.a1, "total": "100.00", "rankBand": "Q1"},
            {"hospital": city.a2, "total": "60.00", "rankBand": "Q3"},
        ]
        assert (await api.gql(region, SIDE_BY_SIDE, {"t": city.a}))["evaluationResults"]["nodes"] == both
        assert (await api.gql(admin, SIDE_BY_SIDE, {"t": city.city}))["evaluationResults"]["nodes"] == both
        # Paged by hospital: one a page.
        page = await api.gql(
            region,
            """query($t: String!, $a: String) { evaluationResults(tenant: $t, year: 2025, first: 1, after: $a) {
                 nodes { hospital } pageInfo { hasNextPage endCursor } } }""",
            {"t": city.a},
        )
        assert page["evaluationResults"]["nodes"] == [{"hospital": city.a1}]
        assert page["evaluationResults"]["pageInfo"]["hasNextPage"] is True
        nxt = await api.gql(
            region,
            """query($t: String!, $a: String) { evaluationResults(tenant: $t, year: 2025, first: 1, after: $a) {
                 nodes { hospital } } }""",
            {"t": city.a, "a": page["evaluationResults"]["pageInfo"]["endCursor"]},
        )
        assert nxt["evaluationResults"]["nodes"] == [{"hospital": city.a2}]
        # A cursor not made for this list is refused naming `after` (EvaluationRun.results too).
        for key in (["\x00", "x"], [1, "x"], ["x"]):
            bad_cursor = base64.urlsafe_b64encode(json.dumps(key).encode()).decode()
            r = await api.post(
                region,
                """query($t: String!, $a: String) { evaluationRuns(tenant: $t) { nodes {
                     results(after: $a) { nodes { hospital } } } } }""",
                {"t": city.a, "a": bad_cursor},
            )
            assert [e["extensions"] for e in r.json()["errors"]] == [{"code": "BAD_USER_INPUT", "field": "after"}]
        # The run's hospitals through the run itself: the hospital still only its own.
        (seen,) = (await api.gql(a1, RUNS, {"t": city.a}))["evaluationRuns"]["nodes"]
        assert seen["results"]["nodes"] == [{"hospital": city.a1, "total": "100.00"}]
        assert len(seen["peerStats"]) == 2  # the peers' percentiles: no hospital's figure
        # Another region: refused by tenant; a node id of region A's run answers null there.
        r = await api.post(other_region, SIDE_BY_SIDE, {"t": city.a})
        assert r.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
        node = await api.gql(other_region, "query($id: ID!) { node(id: $id) { id } }", {"id": run["id"]})
        assert node["node"] is None

        # Overrides: the region's, with a reason; a hospital may not; no reason is refused by field.
        inp = {"tenant": city.a, "hospital": city.a2, "year": 2025, "score": "90", "reason": "appeal upheld"}
        out = (await api.gql(region, OVERRIDE, {"i": inp}))["overrideEvaluationScore"]
        assert out["score"] == {"hospital": city.a2, "score": "90.00", "source": "override", "reason": "appeal upheld"}
        assert (await api.gql(a2, OVERRIDE, {"i": inp}))["overrideEvaluationScore"]["__typename"] == "PermissionDenied"
        refused = (await api.gql(region, OVERRIDE, {"i": {**inp, "reason": " "}}))["overrideEvaluationScore"]
        assert refused["errors"][0]["field"] == "input.reason"
        refused = (await api.gql(region, OVERRIDE, {"i": {**inp, "score": "100.5"}}))["overrideEvaluationScore"]
        assert refused["errors"][0]["field"] == "input.score"
        # The deprecated setEvaluationScore still works: an override with its fixed reason.
        legacy = await api.gql(
            region,
            """mutation($t: String!, $h: String!) { setEvaluationScore(tenant: $t, hospital: $h, year: 2025,
                 score: "88") { ... on EvaluationScorePayload { score { score source reason } } } }""",
            {"t": city.a, "h": city.a1},
        )
        assert legacy["setEvaluationScore"]["score"] == {
            "score": "88.00",
            "source": "override",
            "reason": "entered (setEvaluationScore)",
        }
        # The viewers read side by side but neither run nor publish; an expert sees no hospital's scores.
        region_viewer = api.token(Role.region_viewer, [city.a])
        city_viewer = api.token(Role.city_viewer, [city.city])
        expert = api.token(Role.expert, [city.a])
        for viewer, tenant in ((region_viewer, city.a), (city_viewer, city.city)):
            assert (await api.gql(viewer, SIDE_BY_SIDE, {"t": tenant}))["evaluationResults"]["nodes"] == both
            assert (await api.gql(viewer, RUN, {"t": city.a}))["runEvaluation"]["__typename"] == "PermissionDenied"
            published = (await api.gql(viewer, PUBLISH, {"t": city.a, "id": run["id"]}))["publishEvaluationRun"]
            assert published["__typename"] == "PermissionDenied"
        assert (await api.gql(expert, SIDE_BY_SIDE, {"t": city.a}))["evaluationResults"]["nodes"] == []
        assert (await api.gql(expert, MINE, {"t": city.a, "h": city.a1}))["hospitalEvaluation"] is None
    finally:
        await api.client.aclose()

"""The simulation's limits and its job: a synchronous `simulate` takes at most
DIANSHU_SIMULATE_MAX_CASES cases and computes off the event loop; larger scenarios run as the job
settlement.simulate (`startSimulation`), whose result is the same simulated year, typed."""

from __future__ import annotations

import asyncio
import copy
import json
import threading
import uuid
from pathlib import Path

import pytest

from dianshu.db.session import scoped_session
from dianshu.jobs import service as jobs
from dianshu.scope import Role
from dianshu.settlement.arithmetic.scenario import json_schema
from dianshu.settlement.runs.simulations import SIMULATE
from dianshu_graphql.domains import simulation as simulation_api
from tests.api import Api
from tests.conftest import scope_for
from tests.settlement.scenario_input import graphql_scenario
from tests.settlement.test_simulate import SCENARIO

SIM = """query($s: ScenarioInput!) { simulate(scenario: $s) { __typename
  ... on SimulationPayload { result { ledgers { ledger hospitals { hospital due } } } }
  ... on ValidationError { message errors { record field reason } } } }"""
START = """mutation($t: String!, $s: ScenarioInput!, $k: String) {
  startSimulation(tenant: $t, scenario: $s, idempotencyKey: $k) { __typename
  ... on SimulationJobPayload { created job { id databaseId kind status } }
  ... on ValidationError { errors { record field reason } } ... on PermissionDenied { message } } }"""
JOB = """query($id: ID!) { job(id: $id) { kind status
  result { __typename ... on SimulationResult { ledgers { ledger hospitals { hospital due balance } } } }
  error { message issues { path reason } issueCount } } }"""


def hospital(job: dict, ledger: str, code: str) -> dict:
    """A hospital's simulated clearing in a simulation job's typed result."""
    assert job["result"]["__typename"] == "SimulationResult"
    (led,) = [x for x in job["result"]["ledgers"] if x["ledger"] == ledger]
    (h,) = [x for x in led["hospitals"] if x["hospital"] == code]
    return h


@pytest.fixture
async def small_api(settings, db):
    # The five-case scenario is over a synchronous limit of 3 and under a job limit of 6.
    a = Api(settings.model_copy(update={"simulate_max_cases": 3, "simulate_job_max_cases": 6}), db)
    yield a
    await a.client.aclose()


async def test_a_scenario_over_the_limit_is_refused_and_runs_as_a_job(small_api, db, city, dispatcher):
    api, token = small_api, small_api.token(Role.region_admin, [city.a])
    out = (await api.gql(token, SIM, {"s": graphql_scenario(SCENARIO)}))["simulate"]
    assert out["errors"] == [
        {
            "record": "scenario",
            "field": "scenario.cases",
            "reason": "5 cases: more than the 3 allowed synchronously: use startSimulation (a job)",
        }
    ]
    started = (await api.gql(token, START, {"t": city.a, "s": graphql_scenario(SCENARIO), "k": "sim-1"}))[
        "startSimulation"
    ]
    assert SIMULATE == "settlement.simulate"
    assert started["created"] is True and started["job"]["kind"] == "settlement_simulate"
    job_id = started["job"]["databaseId"]
    assert dispatcher.sent == [(city.a, SIMULATE, uuid.UUID(job_id))]
    again = (await api.gql(token, START, {"t": city.a, "s": graphql_scenario(SCENARIO), "k": "sim-1"}))[
        "startSimulation"
    ]
    assert again["created"] is False and again["job"]["databaseId"] == job_id  # a retry starts nothing new
    assert await jobs.execute(db, city.a, uuid.UUID(job_id)) == "succeeded"
    job = (await api.gql(token, JOB, {"id": job_id}))["job"]
    assert job["status"] == "succeeded"
    # The hand-computed figures of test_simulate.py: D_H1 71937.50, balance 1218.13.
    assert hospital(job, "employee", "H1")["due"] == "71937.50"
    assert hospital(job, "employee", "H1")["balance"] == "1218.13"


def _bad_scenario() -> dict:
    bad = copy.deepcopy(SCENARIO)
    bad["cases"][1]["los_days"] = -1
    bad["groups"][0]["stable"] = "false"
    return bad


BAD_ISSUES = [
    {"path": "groups[0].stable", "reason": 'must be a JSON boolean, true or false (got "false")'},
    {"path": "cases[1].los_days", "reason": "must be ≥ 0 (got -1)"},
]
# What GraphQL cannot refuse itself (a boolean is a boolean there): the reader's, at the input's paths.
BAD_TYPED = [
    {"path": "scenario.groups[0].basePoints", "reason": 'must be > 0 (got "0")'},
    {"path": "scenario.cases[1].losDays", "reason": "must be ≥ 0 (got -1)"},
]


def _bad_typed() -> dict:
    bad = graphql_scenario(SCENARIO)
    bad["cases"][1]["losDays"] = -1
    bad["groups"][0]["basePoints"] = "0"
    return bad


async def test_a_refused_scenario_is_refused_at_submission_with_every_path(small_api, city, dispatcher):
    api, token = small_api, small_api.token(Role.region_admin, [city.a])
    out = (await api.gql(token, START, {"t": city.a, "s": _bad_typed()}))["startSimulation"]
    # The same refusal as simulate's: every path, nothing queued or sent.
    assert out == {
        "__typename": "ValidationError",
        "errors": [{"record": "scenario", "field": i["path"], "reason": i["reason"]} for i in BAD_TYPED],
    }
    assert dispatcher.sent == []


async def test_a_refused_scenario_fails_its_job_with_the_paths(small_api, db, city, dispatcher):
    # The job checks the scenario again: a job row with a bad scenario (written directly, past the
    # API's check) fails with every path.
    api, token = small_api, small_api.token(Role.region_admin, [city.a])
    region = scope_for(Role.region_admin, (city.a,))
    async with scoped_session(db, region) as s:
        job, _ = await jobs.submit(s, db, region, city.a, SIMULATE, {"scenario": _bad_scenario()})
    assert await jobs.execute(db, city.a, job.id) == "failed"
    out = (await api.gql(token, JOB, {"id": str(job.id)}))["job"]
    assert out["error"]["issues"] == BAD_ISSUES
    assert out["error"]["issueCount"] == 2


async def test_start_simulation_refusals(small_api, city, dispatcher):
    api, token = small_api, small_api.token(Role.region_admin, [city.a])
    big = {**SCENARIO, "cases": [dict(SCENARIO["cases"][0], id=f"C{i}") for i in range(7)]}
    out = (await api.gql(token, START, {"t": city.a, "s": graphql_scenario(big)}))["startSimulation"]
    assert out["errors"] == [
        {"record": "scenario", "field": "scenario.cases", "reason": "7 cases: more than the 6 allowed"}
    ]
    # Not an object: refused by GraphQL itself now (ScenarioInput is typed).
    r = await api.post(token, START, {"t": city.a, "s": [graphql_scenario(SCENARIO)]})
    body = r.json()
    assert body["data"] is None and [e["extensions"]["code"] for e in body["errors"]] == ["BAD_USER_INPUT"], body
    assert "Variable '$s'" in body["errors"][0]["message"], body
    hospital = api.token(Role.hospital_user, [city.a], city.a1)
    out = (await api.gql(hospital, START, {"t": city.a, "s": graphql_scenario(SCENARIO)}))["startSimulation"]
    assert out["__typename"] == "PermissionDenied"
    out = await api.gql(api.token(Role.region_admin, [city.b]), START, {"t": city.a, "s": graphql_scenario(SCENARIO)})
    assert out["startSimulation"]["__typename"] == "PermissionDenied"
    assert dispatcher.sent == []


async def test_a_simulation_does_not_hold_other_requests(settings, db, city, monkeypatch):
    # The simulation blocks (in its thread) until `{ me }` has been answered: were it computed on the
    # event loop, `me` could not be answered and the simulation would give up after 10 s.
    entered, release = threading.Event(), threading.Event()

    def blocking(scenario):
        entered.set()
        if not release.wait(10):
            raise AssertionError("{ me } was not answered while the simulation ran")
        return real(scenario)

    real = simulation_api.run_simulation
    monkeypatch.setattr(simulation_api, "run_simulation", blocking)
    api = Api(settings, db)
    try:
        token = api.token(Role.region_admin, [city.a])
        sim = asyncio.create_task(api.gql(token, SIM, {"s": graphql_scenario(SCENARIO)}))
        assert await asyncio.to_thread(entered.wait, 10)
        me = await asyncio.wait_for(api.gql(token, "{ me { role } }"), 5)
        assert me == {"me": {"role": "region_admin"}} and not sim.done()
        release.set()
        assert (await sim)["simulate"]["__typename"] == "SimulationPayload"
    finally:
        release.set()
        await api.client.aclose()


def test_the_committed_json_schema_is_the_models():
    committed = Path(__file__).parents[2] / "docs" / "scenario.schema.json"
    assert json.loads(committed.read_text(encoding="utf-8")) == json_schema(), (
        "docs/scenario.schema.json is stale: run `dianshu simulate --schema --output docs/scenario.schema.json`"
    )


START_FILE = """mutation($t: String!, $f: Upload!) {
  startSimulation(tenant: $t, file: $f) { __typename
  ... on SimulationJobPayload { created job { id databaseId kind status } }
  ... on ValidationError { errors { record field reason } } } }"""


async def _start_with_file(api: Api, token: str, tenant: str, content: bytes) -> dict:
    r = await api.client.post(
        "/graphql",
        headers={"Authorization": f"Bearer {token}"},
        data={
            "operations": json.dumps({"query": START_FILE, "variables": {"t": tenant, "f": None}}),
            "map": json.dumps({"0": ["variables.f"]}),
        },
        files={"0": ("scenario.json", content, "application/json")},
    )
    assert r.status_code == 200, r.text
    return r.json()["data"]["startSimulation"]


async def test_a_scenario_file_too_large_for_a_request_body_runs_as_a_job(small_api, db, city, dispatcher):
    # A scenario file goes through the upload path (multipart), so it is not bound by the request body limit.
    api, token = small_api, small_api.token(Role.region_admin, [city.a])
    content = "\ufeff".encode() + json.dumps(SCENARIO, ensure_ascii=False).encode()
    out = await _start_with_file(api, token, city.a, content)
    assert out["__typename"] == "SimulationJobPayload", out
    assert await jobs.execute(db, city.a, uuid.UUID(out["job"]["databaseId"])) == "succeeded"
    job = (await api.gql(token, JOB, {"id": out["job"]["id"]}))["job"]
    assert hospital(job, "employee", "H1")["due"] == "71937.50"
    # A broken file, NaN, or both a scenario and a file: refused by field, nothing sent.
    sent = len(dispatcher.sent)
    assert (await _start_with_file(api, token, city.a, b'{"cases": ['))["errors"][0]["field"] == "file"
    nan = await _start_with_file(api, token, city.a, b'{"cases": NaN}')
    assert nan["errors"] == [
        {"record": "scenario", "field": "file", "reason": "NaN is not JSON (numbers must be finite)"}
    ]
    both = await api.post(
        token,
        """mutation($t: String!, $s: ScenarioInput!) { startSimulation(tenant: $t, scenario: $s, file: null) {
        __typename ... on ValidationError { errors { field reason } } } }""",
        {"t": city.a, "s": graphql_scenario(SCENARIO)},
    )
    assert both.json()["data"]["startSimulation"]["__typename"] == "SimulationJobPayload"  # file: null is no file
    neither = await api.gql(
        token,
        "mutation($t: String!) { startSimulation(tenant: $t) { __typename"
        " ... on ValidationError { errors { field reason } } } }",
        {"t": city.a},
    )
    assert neither["startSimulation"]["errors"] == [{"field": "scenario", "reason": "give either scenario or file"}]
    assert len(dispatcher.sent) == sent + 1
    small = api.settings.model_copy(update={"simulate_file_max_bytes": 1024})
    tiny = Api(small, db)
    try:
        big = json.dumps({**SCENARIO, "pad": "x" * 2000}).encode()
        out = await _start_with_file(tiny, token, city.a, big)
        assert out["errors"][0]["reason"] == "larger than 1024 bytes (DIANSHU_SIMULATE_FILE_MAX_BYTES)"
    finally:
        await tiny.client.aclose()

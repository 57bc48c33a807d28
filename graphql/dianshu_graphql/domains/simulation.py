"""Simulation in GraphQL: a scenario simulated synchronously (small) or as a job (any size, also as
an uploaded JSON file), and a region's real year simulated on changed parameters beside an annual
clearing run. The typed scenario is turned into the scenario JSON and read by the platform's
strict parser, which refuses with every path (reported at the client's GraphQL paths)."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

import anyio
import strawberry
from strawberry.file_uploads import Upload
from strawberry.types import Info

from dianshu.settlement.arithmetic.simulate import ScenarioError, parse_scenario
from dianshu.settlement.arithmetic.simulate import simulate as run_simulation
from dianshu.settlement.runs.compare import CompareRefused, simulate_against_run
from dianshu.settlement.runs.simulations import (
    SIMULATE,
    ScenarioFileError,
    decode_scenario,
    listed_issues,
    too_many_cases,
)
from dianshu_graphql.domains import grouping
from dianshu_graphql.domains.points import parse_id
from dianshu_graphql.errors import (
    FieldError,
    IdempotencyConflict,
    InvalidId,
    PermissionDenied,
    ValidationError,
    invalid,
)
from dianshu_graphql.errors import refused as as_union
from dianshu_graphql.permissions import BUREAU, Allow
from dianshu_graphql.types.policies import PolicyParametersInput, policy_json
from dianshu_graphql.types.settlement import (
    SimulationJobPayload,
    duplicates,
    graphql_path,
    job_payload,
    listed_field,
)
from dianshu_graphql.types.simulation import (
    HospitalCoefficientInput,
    RunComparison,
    RunComparisonPayload,
    ScenarioInput,
    SimulationPayload,
    SimulationResult,
    scenario_json,
    scenario_path,
)

SimulateResult = Annotated[SimulationPayload | ValidationError | PermissionDenied, strawberry.union("SimulateResult")]
SimulateAgainstRunResult = Annotated[
    RunComparisonPayload | ValidationError | PermissionDenied, strawberry.union("SimulateAgainstRunResult")
]
StartSimulationResult = Annotated[
    SimulationJobPayload | ValidationError | PermissionDenied | IdempotencyConflict,
    strawberry.union("StartSimulationResult"),
]


def scenario_refused(e: ScenarioError, scenario: ScenarioInput | None = None) -> ValidationError:
    """Every path of a refused scenario as a field error (the first MAX_LISTED_ISSUES): the typed
    input's GraphQL paths, or the JSON paths of an uploaded file."""
    return ValidationError(
        message=f"scenario refused: {len(e.issues)} issue(s), first {e.issues[0]}",
        errors=[
            FieldError(
                record="scenario",
                field=i["path"] if scenario is None else scenario_path(i["path"], i["reason"], scenario),
                reason=i["reason"],
            )
            for i in listed_issues(e)
        ],
    )


def _typed_scenario(scenario: ScenarioInput, limit: int) -> dict[str, Any] | ValidationError:
    data, issues = scenario_json(scenario)
    if issues:
        return ValidationError(
            message="; ".join(f"{p}: {r}" for p, r in issues),
            errors=[FieldError(record="scenario", field=p, reason=r) for p, r in issues],
        )
    if (why := too_many_cases(data, limit)) is not None:
        return invalid("scenario", "scenario.cases", why, f"scenario.cases: {why}")
    return data


async def read_scenario_file(file: Upload, limit: int) -> Any:
    """An uploaded scenario file, read up to `limit` bytes and decoded off the event loop."""
    data = bytearray()
    while chunk := await file.read(1 << 20):
        data += chunk
        if len(data) > limit:
            raise ScenarioFileError(f"larger than {limit} bytes (DIANSHU_SIMULATE_FILE_MAX_BYTES)")
    return await anyio.to_thread.run_sync(decode_scenario, bytes(data))


@strawberry.type
class SimulationQuery:
    @strawberry.field(
        description="Simulate a scenario: case points and annual clearing, nothing stored. At most "
        "DIANSHU_SIMULATE_MAX_CASES cases; larger scenarios run as a job (startSimulation).",
        extensions=[Allow(*BUREAU)],
    )
    async def simulate(self, info: Info, scenario: ScenarioInput) -> SimulateResult:
        limit = info.context.settings.simulate_max_cases
        data = _typed_scenario(scenario, limit)
        if isinstance(data, ValidationError):
            for e in data.errors:
                if e.field == "scenario.cases":
                    e.reason += " synchronously: use startSimulation (a job)"
            return data
        try:
            # Off the event loop: other requests go on while it computes (the size limit bounds the
            # time the thread holds the GIL).
            result = await anyio.to_thread.run_sync(run_simulation, data)
        except ScenarioError as e:
            return scenario_refused(e, scenario)
        return SimulationPayload(result=SimulationResult.of(result))

    @strawberry.field(
        description="Simulate the region's real year on changed parameters and compare it, hospital by hospital, "
        "with an annual clearing run. Nothing is stored.",
        extensions=[Allow(*BUREAU)],
    )
    async def simulate_against_run(
        self,
        info: Info,
        tenant: str,
        run: strawberry.ID,
        parameters: PolicyParametersInput | None = None,
        coefficients: list[HospitalCoefficientInput] | None = None,
        growth_rate: Decimal | None = None,
    ) -> SimulateAgainstRunResult:
        record = f"run {run}"
        try:
            run_id = parse_id(run, "run", "SettlementRun")
        except InvalidId as e:
            return invalid(record, "run", "not an id", str(e))
        hospitals = [c.hospital for c in coefficients or []]
        if twice := duplicates(hospitals, "coefficients", "hospital"):
            return invalid(record, *twice[0])
        try:
            async with info.context.session() as s:
                result = await simulate_against_run(
                    s,
                    tenant,
                    run_id,
                    parameters=policy_json(parameters) if parameters is not None else None,
                    coefficients=None
                    if coefficients is None
                    else {c.hospital: str(c.coefficient) for c in coefficients},
                    growth_rate=growth_rate,
                )
        except CompareRefused as e:
            reason = e.reason

            def path(f: str) -> str:
                return graphql_path(listed_field(f, "coefficients", hospitals, reason, "coefficient", "hospital"))

            return as_union(e, path=path, record=record)  # type: ignore[return-value]
        return RunComparisonPayload(comparison=RunComparison.of(result))


@strawberry.type
class SimulationMutation:
    @strawberry.mutation(
        description="Simulate a scenario of any size up to DIANSHU_SIMULATE_JOB_MAX_CASES cases as a job "
        "(settlement.simulate): poll job(id) for its status; its result is a SimulationResult (as simulate "
        "answers), a refused scenario's paths are in its error.",
        extensions=[Allow(job=SIMULATE)],
    )
    async def start_simulation(
        self,
        info: Info,
        tenant: str,
        scenario: ScenarioInput | None = None,
        file: Annotated[
            Upload | None,
            strawberry.argument(
                description="The scenario as a JSON file in the layout of docs/scenario.schema.json (GraphQL "
                "multipart; up to DIANSHU_SIMULATE_FILE_MAX_BYTES), for scenarios larger than a request body may "
                "be. Give this or scenario, not both."
            ),
        ] = None,
        idempotency_key: str | None = None,
    ) -> StartSimulationResult:
        if (scenario is None) == (file is None):
            return invalid(
                "scenario", "scenario", "give either scenario or file", "scenario: give one of scenario, file"
            )
        limit = info.context.settings.simulate_job_max_cases
        if scenario is not None:
            data = _typed_scenario(scenario, limit)
            if isinstance(data, ValidationError):
                return data
        else:
            try:
                data = await read_scenario_file(file, info.context.settings.simulate_file_max_bytes)
            except ScenarioFileError as e:
                return invalid("scenario", "file", str(e), f"file: {e}")
            if not isinstance(data, dict):
                return invalid("scenario", "file", "must be a JSON object", "file: must be a JSON object")
            if (why := too_many_cases(data, limit)) is not None:
                return invalid("scenario", "cases", why, f"cases: {why}")
        try:
            # The strict reader at submission (off the event loop): a malformed scenario is refused
            # now with every path, as simulate refuses it, not queued; the job checks it again.
            await anyio.to_thread.run_sync(parse_scenario, data)
        except ScenarioError as e:
            return scenario_refused(e, scenario)
        result = await grouping.submit(info, tenant, SIMULATE, {"scenario": data}, idempotency_key)
        return job_payload(result, SimulationJobPayload)

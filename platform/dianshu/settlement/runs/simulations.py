"""The simulation as a job (settlement.simulate): a scenario too large for a synchronous `simulate`
is computed by a worker and its result kept on the job row (read it with `job(id) { result }`).
The scenario travels in the job's parameters; it is read and refused by the same strict schema."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from dianshu.config import get_settings
from dianshu.jobs.context import JobContext
from dianshu.jobs.errors import JobRejected
from dianshu.jobs.kinds import job_kind
from dianshu.settlement.arithmetic.scenario import case_count
from dianshu.settlement.arithmetic.simulate import ScenarioError, simulate

SIMULATE = "settlement.simulate"
MAX_LISTED_ISSUES = 100  # a refusal lists this many paths (and says how many more)


class ScenarioFileError(ValueError):
    """A scenario file that is not one JSON document (the reason names what is wrong)."""


def _refuse_constant(name: str) -> Any:
    raise ScenarioFileError(f"{name} is not JSON (numbers must be finite)")


def decode_scenario(data: bytes) -> Any:
    """A scenario file's bytes as JSON: UTF-8 (a BOM allowed), finite numbers only; what it holds is
    left to the strict schema."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise ScenarioFileError(f"not UTF-8 (byte {e.start})") from None
    try:
        return json.loads(text, parse_constant=_refuse_constant)
    except RecursionError:
        raise ScenarioFileError("JSON nested too deeply") from None
    except ScenarioFileError:
        raise
    except ValueError as e:
        raise ScenarioFileError(f"not valid JSON: {e}") from None


def too_many_cases(scenario: Any, limit: int) -> str | None:
    """Why a scenario is over a size limit, or None."""
    n = case_count(scenario)
    return f"{n} cases: more than the {limit} allowed" if n > limit else None


def listed_issues(e: ScenarioError) -> list[dict[str, str]]:
    return [{"path": i.path, "reason": i.reason} for i in e.issues[:MAX_LISTED_ISSUES]]


@job_kind(SIMULATE, roles={"city_admin", "city_viewer", "region_admin", "region_viewer"})
async def simulate_job(ctx: JobContext) -> dict[str, Any]:
    scenario = ctx.params.get("scenario")
    if (why := too_many_cases(scenario, get_settings().simulate_job_max_cases)) is not None:
        raise JobRejected(f"cases: {why}", field="cases")
    await ctx.progress(0, case_count(scenario), "simulating")
    try:
        # A thread, so the worker's event loop keeps its heartbeat while the arithmetic runs.
        return await asyncio.to_thread(simulate, scenario)
    except ScenarioError as e:
        raise JobRejected(
            f"scenario refused: {len(e.issues)} issue(s), first {e.issues[0]}",
            issues=listed_issues(e),
            issue_count=len(e.issues),
        ) from None

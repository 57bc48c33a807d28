"""Job: import (or update) a region's hospital roster."""

from __future__ import annotations

from typing import Any

from dianshu.audit import service as audit
from dianshu.jobs.context import JobContext
from dianshu.jobs.errors import JobRejected
from dianshu.jobs.kinds import job_kind
from dianshu.tenancy.service import ValidationFailed, upsert_hospitals, validate_roster

IMPORT_HOSPITALS = "tenancy.import_hospitals"
CHUNK = 200


@job_kind(IMPORT_HOSPITALS, roles={"city_admin", "region_admin", "integrator"})
async def import_hospitals(ctx: JobContext) -> dict[str, Any]:
    rows = ctx.params.get("hospitals") or []
    try:
        clean = validate_roster(ctx.tenant_id, rows)
    except ValidationFailed as e:
        raise JobRejected(
            f"{len(e.errors)} invalid roster rows",
            errors=[{"record": x.record, "field": x.field, "reason": x.reason} for x in e.errors],
        ) from e
    inserted = updated = 0
    await ctx.progress(0, len(clean), "importing hospitals")
    for start in range(0, len(clean), CHUNK):
        i, u = await upsert_hospitals(ctx.session, clean[start : start + CHUNK])
        inserted, updated = inserted + i, updated + u
        await ctx.progress(min(start + CHUNK, len(clean)), len(clean))
    if inserted or updated:  # re-importing the same roster changes nothing and adds no entry
        await audit.record(
            ctx.session,
            ctx.scope,
            ctx.tenant_id,
            "hospitals.imported",
            f"job:{ctx.job_id}",
            rows=len(clean),
            inserted=inserted,
            updated=updated,
        )
    return {"rows": len(clean), "inserted": inserted, "updated": updated, "unchanged": len(clean) - inserted - updated}

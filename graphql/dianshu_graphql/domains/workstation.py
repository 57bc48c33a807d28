"""The doctor-workstation check (事前提示 / 诊间审核) in GraphQL: `workstationCheck(draft, hospital)`.

A caller bound to a hospital (hospital_user, a hospital-bound integrator) checks for its own
hospital; the bureau (and unbound integrators) name the hospital. Answers from memory
(dianshu.workstation.service) with one indexed query per call."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Annotated, Any

import strawberry
from strawberry.types import Info
from strawberry.types.base import StrawberryObjectDefinition
from strawberry.utils.str_converters import to_camel_case

from dianshu.scope import Role
from dianshu.workstation.draft import DraftRefused
from dianshu.workstation.service import check_draft
from dianshu_graphql.errors import NotFound, PermissionDenied, StateConflict, ValidationError
from dianshu_graphql.errors import refused as as_union
from dianshu_graphql.permissions import BUREAU, Allow
from dianshu_graphql.types.workstation import WorkstationCheck, WorkstationDraftInput

# Who may check a draft: a hospital and its integrator, and the bureau (for a hospital it names).
CHECKERS = (Role.hospital_user, Role.integrator, *BUREAU)

WorkstationCheckResult = Annotated[
    WorkstationCheck | ValidationError | PermissionDenied | NotFound | StateConflict,
    strawberry.union("WorkstationCheckResult", description="The check of a draft, or why not."),
]

_HEAD = re.compile(r"[a-z_]+")


def draft_path(field: str) -> str:
    """A draft field (vent_hours, diagnoses[0]) as the argument path (draft.ventHours, draft.diagnoses[0]);
    the hospital argument and the standard stay as they are."""
    if field in ("hospital", "draft"):
        return field
    if field == "standard":
        return "draft.admissionTime"  # the year the draft falls in has no standard in force
    m = _HEAD.match(field)
    head = m.group(0) if m else field
    return f"draft.{to_camel_case(head)}{field[len(head) :]}"


def draft_dict(draft: WorkstationDraftInput) -> dict[str, Any]:
    """The input as the domain's JSON draft (snake_case keys, decimals as strings; null = absent)."""
    definition: StrawberryObjectDefinition = draft.__strawberry_definition__  # type: ignore[attr-defined]
    out: dict[str, Any] = {}
    for f in definition.fields:
        value = getattr(draft, f.python_name)
        if value is None:
            continue
        if isinstance(value, Decimal):
            value = format(value, "f")
        elif isinstance(value, list):
            value = [format(v, "f") if isinstance(v, Decimal) else v for v in value]
        out[f.python_name] = value
    return out


@strawberry.type
class WorkstationQuery:
    @strawberry.field(
        description=(
            "Check a draft case before discharge (事前提示) or during the stay (诊间审核): the likely DRG with its "
            "trace, points, expected payment at the provisional point value, cost against the DRG's average and "
            "high-outlier threshold, and warnings. A hospital checks for itself; the bureau names `hospital`."
        ),
        extensions=[Allow(*CHECKERS)],
    )
    async def workstation_check(
        self, info: Info, draft: WorkstationDraftInput, hospital: str | None = None
    ) -> WorkstationCheckResult:
        ctx = info.context
        try:
            result = await check_draft(ctx.db, ctx.scope, draft_dict(draft), hospital)
        except DraftRefused as e:
            if e.kind == "not_found" and e.field == "hospital" and ctx.scope.hospital_id is not None:
                return PermissionDenied(message=str(e))
            return as_union(e, path=draft_path)
        return WorkstationCheck.of(result, draft_path)

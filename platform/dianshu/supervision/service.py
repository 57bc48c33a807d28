"""Deciding a finding: open → confirmed or dismissed, with who, when and why (a reason is required).
Retry-safe: the same decision again writes and audits nothing; another decision on a decided finding
is refused as a state conflict. Confirming a case-level finding of a rule with a violation kind
writes the case violation settlement reads (settlement.runs.regional.confirm_violation, the one
home of that write) on its subject cases: the next points run withdraws the case's points and, when
`serious`, deducts multiple × b (SPEC section 5)."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from dianshu.audit import service as audit
from dianshu.errors import Refused
from dianshu.scope import Scope
from dianshu.settlement.runs.regional import RegionalRefused, confirm_violation
from dianshu.supervision.catalogue import BY_CODE
from dianshu.supervision.models import SupervisionFinding, SupervisionFindingCase

MAX_REASON = 2000


class FindingRefused(Refused):
    """A decision on a finding refused."""


async def get_finding(
    session: AsyncSession, finding_id: uuid.UUID, tenant: str | None = None, lock: bool = False
) -> SupervisionFinding:
    q = select(SupervisionFinding).where(SupervisionFinding.id == finding_id)
    if tenant is not None:
        q = q.where(SupervisionFinding.tenant_id == tenant)
    if lock:
        q = q.with_for_update()
    f = (await session.execute(q)).scalar_one_or_none()
    if f is None:
        raise FindingRefused(f"finding {finding_id}", "id", "no such finding (or not yours)", kind="not_found")
    return f


async def finding_cases(session: AsyncSession, f: SupervisionFinding) -> list[SupervisionFindingCase]:
    return list(
        (
            await session.execute(
                select(SupervisionFindingCase)
                .where(SupervisionFindingCase.tenant_id == f.tenant_id, SupervisionFindingCase.finding_id == f.id)
                .order_by(SupervisionFindingCase.list_id)
            )
        ).scalars()
    )


def _reason(reason: str, record: str) -> str:
    if not isinstance(reason, str) or not reason.strip():
        raise FindingRefused(record, "reason", "required: say why")
    if len(reason) > MAX_REASON:
        raise FindingRefused(record, "reason", f"at most {MAX_REASON} characters (got {len(reason)})")
    return reason.strip()


async def decide(
    session: AsyncSession,
    scope: Scope,
    finding_id: uuid.UUID,
    state: str,
    reason: str,
    serious: bool = False,
    tenant: str | None = None,
) -> SupervisionFinding:
    """Confirm (state 'confirmed', `serious` for the deduction) or dismiss ('dismissed') a finding."""
    record = f"finding {finding_id}"
    if state not in ("confirmed", "dismissed"):
        raise FindingRefused(record, "state", "confirmed or dismissed")
    why = _reason(reason, record)
    f = await get_finding(session, finding_id, tenant, lock=True)
    wanted_serious = serious if state == "confirmed" else None
    if f.state == state and f.serious == wanted_serious:
        return f  # a retry: nothing written, nothing audited
    if f.state != "open":
        was = f"{f.state}{' (serious)' if f.serious else ''}"
        raise FindingRefused(
            record, "state", f"already {was} by {f.decided_by} on {f.decided_at:%Y-%m-%d}", kind="state"
        )
    rule = BY_CODE.get(f.rule)
    if state == "confirmed" and serious and (rule is None or rule.violation is None):
        # Serious means a deduction of multiple × b on the cases' violation; this rule writes none.
        raise FindingRefused(record, "serious", f"rule {f.rule} confirms no case violation: nothing to deduct")
    violations: list[str] = []
    if state == "confirmed" and rule is not None and rule.violation is not None:
        for c in await finding_cases(session, f):
            if not c.subject:
                continue
            try:
                await confirm_violation(
                    session,
                    scope,
                    f.tenant_id,
                    c.hospital_id,
                    c.list_id,
                    rule.violation,
                    serious,
                    f"supervision {f.rule} finding {f.id}: {why}",
                )
            except RegionalRefused as e:
                raise FindingRefused(record, "cases", f"case {c.list_id}: {e.reason}", kind="state") from None
            violations.append(c.list_id)
    await session.execute(
        update(SupervisionFinding)
        .where(SupervisionFinding.tenant_id == f.tenant_id, SupervisionFinding.id == f.id)
        .values(state=state, serious=wanted_serious, decided_by=scope.actor, decided_at=func.now(), reason=why)
    )
    await audit.record(
        session,
        scope,
        f.tenant_id,
        f"supervision.{'confirm' if state == 'confirmed' else 'dismiss'}",
        f"finding:{f.id}",
        rule=f.rule,
        hospital=f.hospital_id,
        serious=wanted_serious,
        violations=violations,
        reason=why[:500],
    )
    await session.refresh(f)
    return f

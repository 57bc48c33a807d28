"""Deciding a finding: open → confirmed or dismissed, with who, when and why (a reason is required).
Retry-safe: the same decision again writes and audits nothing; another decision on a decided finding
is refused as a state conflict. Confirming a case-level finding of a rule with a violation kind
writes the case violation settlement reads (settlement.runs.regional.confirm_violation, the one
home of that write) on its subject cases: the next points run withdraws the case's points and, when
`serious`, deducts multiple × b (SPEC section 5).

A hospital-level signal with a violation kind (upcoding by MCC/CC share or CMI) has no subject of
its own: its cases are the evidence that drove the figure. The auditor confirming it names, in
`cases`, the evidence cases the audit found upcoded; each becomes a subject and gets the violation,
exactly as a case-level one. Naming none confirms the signal only (no violation, said so in the
audit entry). Naming cases anywhere else is refused on `cases`; the named set is part of the
decision (a retry names the same cases, another set is a state conflict)."""

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


def _named(cases: object, record: str) -> list[str] | None:
    """The list ids named on confirming a hospital-level signal, sorted; None when not given."""
    if cases is None:
        return None
    if not isinstance(cases, (list, tuple)) or not all(isinstance(c, str) and c.strip() for c in cases):
        raise FindingRefused(record, "cases", "a list of the finding's list ids")
    named = sorted({c.strip() for c in cases})
    if len(named) != len(cases):
        raise FindingRefused(record, "cases", "each case once")
    return named


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
    cases: list[str] | None = None,
) -> SupervisionFinding:
    """Confirm (state 'confirmed', `serious` for the deduction) or dismiss ('dismissed') a finding;
    `cases`: on confirming a hospital-level signal with a violation kind, the evidence cases (list
    ids) the audit found to be violations."""
    record = f"finding {finding_id}"
    if state not in ("confirmed", "dismissed"):
        raise FindingRefused(record, "state", "confirmed or dismissed")
    why = _reason(reason, record)
    named = _named(cases, record)
    f = await get_finding(session, finding_id, tenant, lock=True)
    rule = BY_CODE.get(f.rule)
    names_cases = rule is not None and rule.level == "hospital" and rule.violation is not None
    evidence = await finding_cases(session, f)
    if named is not None:
        if state != "confirmed":
            raise FindingRefused(record, "cases", "cases are named on confirming only")
        if not names_cases:
            what = "a case-level rule: its cases are its own" if f.level == "case" else "it writes no violation"
            raise FindingRefused(record, "cases", f"rule {f.rule} takes no named cases ({what})")
        known = {c.list_id for c in evidence}
        for lid in named:
            if lid not in known:
                raise FindingRefused(record, "cases", f"case {lid}: not one of the finding's cases")
    wanted_serious = serious if state == "confirmed" else None
    marked = sorted(c.list_id for c in evidence if c.subject)
    same_cases = not names_cases or state != "confirmed" or (named or []) == marked
    if f.state == state and f.serious == wanted_serious and same_cases:
        return f  # a retry: nothing written, nothing audited
    if f.state != "open":
        was = f"{f.state}{' (serious)' if f.serious else ''}"
        if f.state == "confirmed" and names_cases:
            was += f" on cases {', '.join(marked) or '(none)'}"
        raise FindingRefused(
            record, "state", f"already {was} by {f.decided_by} on {f.decided_at:%Y-%m-%d}", kind="state"
        )
    if state == "confirmed" and serious and (rule is None or rule.violation is None):
        # Serious means a deduction of multiple × b on the cases' violation; this rule writes none.
        raise FindingRefused(record, "serious", f"rule {f.rule} confirms no case violation: nothing to deduct")
    if state == "confirmed" and serious and names_cases and not named:
        raise FindingRefused(record, "serious", "no case named: a signal alone has nothing to deduct")
    violations: list[str] = []
    if state == "confirmed" and names_cases and named:
        # The named evidence cases become the finding's subjects (kept: a decided finding keeps its cases).
        await session.execute(
            update(SupervisionFindingCase)
            .where(
                SupervisionFindingCase.tenant_id == f.tenant_id,
                SupervisionFindingCase.finding_id == f.id,
                SupervisionFindingCase.list_id.in_(named),
            )
            .values(subject=True)
            .execution_options(synchronize_session=False)
        )
    if state == "confirmed" and rule is not None and rule.violation is not None:
        subjects = set(named or []) if names_cases else {c.list_id for c in evidence if c.subject}
        for c in evidence:
            if c.list_id not in subjects:
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
                # On the named cases; a case-level finding's own cases are the finding's.
                field = "cases" if names_cases else "id"
                raise FindingRefused(record, field, f"case {c.list_id}: {e.reason}", kind="state") from None
            violations.append(c.list_id)
    named_in_audit: dict[str, object] = {}
    if state == "confirmed" and names_cases:
        named_in_audit["cases"] = named or []
        if not named:
            named_in_audit["note"] = "signal only: no case named, no violation written"
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
        **named_in_audit,
    )
    await session.refresh(f)
    return f

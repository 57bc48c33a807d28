"""What a region enters for its settlement besides budgets: medical alliances and their sharing
ratios, overrides of hospitals' evaluation scores (with a reason; without one the published
evaluation run counts) and confirmed violations. Each change is checked, audited and safe to retry."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from dianshu.audit import service as audit
from dianshu.errors import Refused
from dianshu.scope import Scope
from dianshu.settlement.arithmetic.policy import VIOLATION_MULTIPLES
from dianshu.settlement.arithmetic.values import parse_decimal
from dianshu.settlement.models import Alliance, AuditDeduction, CaseViolation, EvaluationScore


class RegionalRefused(Refused):
    """A region's entry refused (message: "record.field: reason")."""

    def __init__(self, record: str, field: str, reason: str) -> None:
        super().__init__(record, field, reason, message=f"{record}.{field}: {reason}")


def _dec(value: Any, record: str, field: str) -> Decimal:
    try:
        return parse_decimal(value)
    except ValueError as e:
        raise RegionalRefused(record, field, str(e)) from None


SHARE_PLACES = 6  # a member's share of an alliance: at most 6 places (0.000001 of the money)
_PLAIN = re.compile(r"-?\d+(\.\d+)?")


def _share(value: Any, record: str, field: str) -> Decimal:
    """A member's share: plain decimal notation, at most SHARE_PLACES places, above 0 and at most 1."""
    if isinstance(value, str) and not _PLAIN.fullmatch(value):
        raise RegionalRefused(record, field, f'must be a plain decimal such as "0.6" (got {value!r})')
    r = _dec(value, record, field)
    exponent = r.as_tuple().exponent
    if isinstance(exponent, int) and -exponent > SHARE_PLACES:
        raise RegionalRefused(record, field, f"at most {SHARE_PLACES} decimal places (got {value})")
    if not Decimal(0) < r <= Decimal(1):
        raise RegionalRefused(record, field, f"must be above 0 and at most 1 (got {r})")
    return r


def _millionths(r: Decimal) -> int:
    """A share as a whole number of 10^-SHARE_PLACES: exact, whatever the context's precision."""
    return int(r.scaleb(SHARE_PLACES))


async def _hospitals(session: AsyncSession, tenant: str) -> set[str]:
    return set((await session.execute(text("select id from hospital where tenant_id = :t"), {"t": tenant})).scalars())


async def set_alliance(
    session: AsyncSession,
    scope: Scope,
    tenant: str,
    alliance_id: str,
    name: str,
    lead: str,
    shares: dict[str, Any],
    settle_as_one: bool = True,
) -> Alliance:
    record = f"alliance {alliance_id}"
    if not alliance_id.strip() or len(alliance_id) > 20:
        raise RegionalRefused(record, "id", "required, at most 20 characters")
    if not isinstance(shares, dict):
        raise RegionalRefused(record, "shares", 'must be a JSON object of hospital -> ratio: {"H1": "0.6", ...}')
    known = await _hospitals(session, tenant)
    ratios = {}
    for h, v in shares.items():
        if h not in known:
            raise RegionalRefused(record, f"shares.{h}", f"not a hospital of {tenant}")
        ratios[h] = _share(v, record, f"shares.{h}")
    if len(ratios) < 2:
        raise RegionalRefused(record, "shares", "an alliance has at least two member hospitals")
    total = sum(map(_millionths, ratios.values()))
    if total != 10**SHARE_PLACES:
        got = Decimal(total).scaleb(-SHARE_PLACES)
        raise RegionalRefused(record, "shares", f"the ratios must sum to exactly 1 (got {got})")
    if lead not in ratios:
        raise RegionalRefused(record, "lead", f"{lead} is not a member")
    others = (
        await session.execute(select(Alliance).where(Alliance.tenant_id == tenant, Alliance.id != alliance_id))
    ).scalars()
    for a in others:
        taken = set(a.shares) & set(ratios)
        if taken:
            raise RegionalRefused(record, "shares", f"{', '.join(sorted(taken))} already in alliance {a.id}")
    values = {
        "name": name.strip() or alliance_id,
        "lead_hospital": lead,
        "settle_as_one": settle_as_one,
        "shares": {h: str(r) for h, r in sorted(ratios.items())},
        "updated_by": scope.actor,
    }
    stmt = insert(Alliance).values(tenant_id=tenant, id=alliance_id, **values)
    ex = stmt.excluded
    changed = await session.execute(
        stmt.on_conflict_do_update(
            index_elements=["tenant_id", "id"],
            set_={**values, "updated_at": text("now()")},
            # Only a real change writes (and is audited); the row lock serializes concurrent repeats.
            where=(Alliance.name != ex.name)
            | (Alliance.lead_hospital != ex.lead_hospital)
            | (Alliance.settle_as_one != ex.settle_as_one)
            | (Alliance.shares != ex.shares),
        ).returning(Alliance.id)
    )
    members = await session.execute(
        text(
            "update hospital set alliance_id = case when id = any(:m) then :a else null end "
            "where tenant_id = :t and (id = any(:m) or alliance_id = :a) "
            "and alliance_id is distinct from (case when id = any(:m) then :a else null end)"
        ),
        {"t": tenant, "a": alliance_id, "m": list(ratios)},
    )
    if changed.first() is not None or members.rowcount:
        await audit.record(session, scope, tenant, "alliance.set", f"alliance:{alliance_id}", **values)
    return (
        await session.execute(select(Alliance).where(Alliance.tenant_id == tenant, Alliance.id == alliance_id))
    ).scalar_one()


SET_SCORE_REASON = "entered (setEvaluationScore)"


async def set_evaluation_score(
    session: AsyncSession, scope: Scope, tenant: str, hospital: str, year: int, score: Any
) -> EvaluationScore:
    """The score entered the old way (setEvaluationScore, deprecated): an override with a fixed reason."""
    return await override_evaluation_score(session, scope, tenant, hospital, year, score, SET_SCORE_REASON)


async def override_evaluation_score(
    session: AsyncSession, scope: Scope, tenant: str, hospital: str, year: int, score: Any, reason: str
) -> EvaluationScore:
    """The region's explicit score of a hospital's year, beating the published evaluation run's total at
    the clearing (settlement/runs/inputs.evaluation_scores). The reason is required; the same score and
    reason again change nothing and are not audited."""
    record = f"score {hospital}/{year}"
    if hospital not in await _hospitals(session, tenant):
        raise RegionalRefused(record, "hospital", f"not a hospital of {tenant}")
    if not 2000 <= year <= 2100:
        raise RegionalRefused(record, "year", f"must be a year from 2000 to 2100 (got {year})")
    s = _dec(score, record, "score")
    if not Decimal(0) <= s <= Decimal(100):
        raise RegionalRefused(record, "score", f"must be between 0 and 100 (got {s})")
    if s != s.quantize(Decimal("0.01")):
        raise RegionalRefused(record, "score", f"at most 2 decimal places (got {s})")
    why = reason.strip() if isinstance(reason, str) else ""
    if not why:
        raise RegionalRefused(record, "reason", "required: say why the score overrides the evaluation")
    if len(why) > 1000:
        raise RegionalRefused(record, "reason", "at most 1000 characters")
    values = {"score": s, "source": "override", "reason": why, "updated_by": scope.actor}
    changed = await session.execute(
        insert(EvaluationScore)
        .values(tenant_id=tenant, hospital_id=hospital, year=year, **values)
        .on_conflict_do_update(
            index_elements=["tenant_id", "hospital_id", "year"],
            set_={**values, "updated_at": text("now()")},
            # The same score and reason again change nothing and are not audited (also when sent
            # concurrently: the conflicting insert waits for the row and re-checks this on the committed value).
            where=(EvaluationScore.score != s)
            | (EvaluationScore.source != "override")
            | (EvaluationScore.reason.is_distinct_from(why)),
        )
        .returning(EvaluationScore.hospital_id)
    )
    if changed.first() is not None:
        await audit.record(
            session, scope, tenant, "evaluation.score", f"hospital:{hospital}", year=year, score=str(s), reason=why
        )
    return (
        await session.execute(
            select(EvaluationScore).where(
                EvaluationScore.tenant_id == tenant,
                EvaluationScore.hospital_id == hospital,
                EvaluationScore.year == year,
            )
        )
    ).scalar_one()


async def confirm_violation(
    session: AsyncSession, scope: Scope, tenant: str, hospital: str, list_id: str, kind: str, serious: bool, reason: str
) -> CaseViolation:
    record = f"case {hospital}/{list_id}"
    if kind not in VIOLATION_MULTIPLES:
        raise RegionalRefused(record, "kind", f"must be one of {', '.join(VIOLATION_MULTIPLES)}")
    if not reason.strip():
        raise RegionalRefused(record, "reason", "required: say what was found")
    exists = (
        await session.execute(
            text("select 1 from case_record where tenant_id = :t and hospital_id = :h and list_id = :l limit 1"),
            {"t": tenant, "h": hospital, "l": list_id},
        )
    ).first()
    if exists is None:
        raise RegionalRefused(record, "list_id", f"no such case in {tenant}")
    inserted = await session.execute(
        insert(CaseViolation)
        .values(
            tenant_id=tenant,
            hospital_id=hospital,
            list_id=list_id,
            kind=kind,
            serious=serious,
            reason=reason.strip()[:1000],
            confirmed_by=scope.actor,
        )
        .on_conflict_do_nothing(index_elements=["tenant_id", "hospital_id", "list_id"])
        .returning(CaseViolation.list_id)
    )
    created = inserted.first() is not None
    row = (
        await session.execute(
            select(CaseViolation).where(
                CaseViolation.tenant_id == tenant,
                CaseViolation.hospital_id == hospital,
                CaseViolation.list_id == list_id,
            )
        )
    ).scalar_one()
    if (row.kind, row.serious) != (kind, serious):
        raise RegionalRefused(record, "kind", f"a {row.kind} violation is already confirmed on this case")
    if created:  # a repeat (even a concurrent one) inserted nothing: nothing to audit
        await audit.record(
            session, scope, tenant, "violation.confirmed", f"case:{hospital}/{list_id}", kind=kind, serious=serious
        )
    return row


async def record_audit_deduction(
    session: AsyncSession,
    scope: Scope,
    tenant: str,
    hospital: str,
    year: int,
    month: int,
    ledger: str,
    amount: Any,
    reference: str,
    reason: str,
) -> AuditDeduction:
    """Money an audit takes off a hospital's due. The audit's `reference` makes a retry a no-op; the
    same reference with other figures is refused."""
    record = f"audit deduction {reference}"
    if not reference.strip() or len(reference) > 100:
        raise RegionalRefused(record, "reference", "required (the audit's own number), at most 100 characters")
    if hospital not in await _hospitals(session, tenant):
        raise RegionalRefused(record, "hospital", f"not a hospital of {tenant}")
    if ledger not in ("employee", "resident", "all"):
        raise RegionalRefused(record, "ledger", f"employee, resident or all (got {ledger!r})")
    if not 2000 <= year <= 2100 or not 1 <= month <= 12:
        raise RegionalRefused(record, "month", f"{year}-{month} is not a settlement month")
    value = _dec(amount, record, "amount")
    if value <= 0 or value != value.quantize(Decimal("0.01")):
        raise RegionalRefused(record, "amount", f"a positive amount in fen (got {value})")
    if not reason.strip():
        raise RegionalRefused(record, "reason", "required: say what the audit found")
    inserted = await session.execute(
        insert(AuditDeduction)
        .values(
            tenant_id=tenant,
            hospital_id=hospital,
            year=year,
            month=month,
            ledger=ledger,
            amount=value,
            reference=reference.strip(),
            reason=reason.strip()[:2000],
            created_by=scope.actor,
        )
        .on_conflict_do_nothing(index_elements=["tenant_id", "reference"])
        .returning(AuditDeduction.reference)
    )
    created = inserted.first() is not None
    row = (
        await session.execute(
            select(AuditDeduction).where(
                AuditDeduction.tenant_id == tenant, AuditDeduction.reference == reference.strip()
            )
        )
    ).scalar_one()
    if (row.hospital_id, row.year, row.month, row.ledger, row.amount) != (hospital, year, month, ledger, value):
        raise RegionalRefused(record, "reference", "already recorded with other figures")
    if created:  # only the call that inserted the deduction records it; retries (even concurrent) add none
        await audit.record(
            session,
            scope,
            tenant,
            "audit_deduction.recorded",
            f"hospital:{hospital}",
            reference=reference.strip(),
            amount=str(value),
            month=f"{year}-{month:02d}",
            ledger=ledger,
        )
    return row

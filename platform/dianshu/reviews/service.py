"""Special case review (特病单议): a hospital applies for an eligible case within its quota; the region
prechecks it and draws at least three experts at random from its pool; each expert records a blind
opinion; the region decides (keep, add points, pay by item, refuse) and the decision lands in that
month's settlement; the hospital may appeal once (a new round, new experts where the pool allows),
after which the decision is final. Every step is kept with who, when and why."""

from __future__ import annotations

import datetime
import secrets
import uuid
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from sqlalchemy import func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from dianshu.audit import service as audit
from dianshu.cases.current import current_cases
from dianshu.cases.models import CaseRecord
from dianshu.jobs.errors import JobRejected
from dianshu.reviews.models import OUTCOMES, ExpertPool, ReviewAssignment, ReviewEvent, SpecialReview
from dianshu.reviews.workflow import ReviewRefused, grounds, next_state, quota
from dianshu.scope import Scope
from dianshu.settlement.arithmetic.year import CaseIn, HospitalIn, score_case
from dianshu.settlement.runs.inputs import drg_params, policy_set, require_standard_in_force
from dianshu.standards.models import NewTechnology
from dianshu.tenancy.service import parent_city

_random = secrets.SystemRandom()


async def _event(
    session: AsyncSession, scope: Scope, review: SpecialReview, action: str, before: str | None, after: str, why: str
) -> None:
    seq = (
        await session.execute(
            select(func.coalesce(func.max(ReviewEvent.seq), 0)).where(
                ReviewEvent.tenant_id == review.tenant_id, ReviewEvent.review_id == review.id
            )
        )
    ).scalar_one()
    session.add(
        ReviewEvent(
            tenant_id=review.tenant_id,
            review_id=review.id,
            seq=seq + 1,
            hospital_id=review.hospital_id,
            actor=scope.actor,
            role=scope.role.value,
            action=action,
            from_state=before,
            to_state=after,
            reason=why[:2000],
        )
    )
    await session.flush()
    await audit.record(
        session, scope, review.tenant_id, f"review.{action}", f"review:{review.id}", to=after, reason=why[:500]
    )


async def get_review(session: AsyncSession, tenant: str, review_id: uuid.UUID, lock: bool = False) -> SpecialReview:
    q = select(SpecialReview).where(SpecialReview.tenant_id == tenant, SpecialReview.id == review_id)
    if lock:
        q = q.with_for_update()
    review = (await session.execute(q)).scalar_one_or_none()
    if review is None:
        raise ReviewRefused(f"review {review_id}", "id", f"no such review in {tenant} (or not yours)")
    return review


async def _city(session: AsyncSession, tenant: str) -> str:
    city = await parent_city(session, tenant)
    if city is None:
        raise ReviewRefused(f"tenant {tenant}", "tenant", "special review happens in a region, not a city")
    return city


async def submit(
    session: AsyncSession, scope: Scope, tenant: str, hospital: str, list_id: str, request: str
) -> SpecialReview:
    """A hospital applies for a case. Applying again for the same case returns the application."""
    record = f"case {hospital}/{list_id}"
    if not request.strip():
        raise ReviewRefused(record, "request", "required: say why the case needs review")
    # One application at a time per hospital: concurrent applications for one case wait here and then
    # find the first one's (the same answer as a retry), and the quota cannot be overrun.
    await session.execute(select(func.pg_advisory_xact_lock(func.hashtextextended(f"review:{tenant}:{hospital}", 0))))
    existing = (
        await session.execute(
            select(SpecialReview).where(
                SpecialReview.tenant_id == tenant,
                SpecialReview.hospital_id == hospital,
                SpecialReview.list_id == list_id,
            )
        )
    ).scalar_one_or_none()
    if existing is not None:
        return existing
    case = (
        await session.execute(
            select(CaseRecord).where(
                CaseRecord.tenant_id == tenant,
                CaseRecord.hospital_id == hospital,
                CaseRecord.list_id == list_id,
                text(current_cases(CaseRecord.__tablename__)),
            )
        )
    ).scalar_one_or_none()
    if case is None:
        raise ReviewRefused(record, "list_id", f"no current, active case in {tenant} (or not yours)")
    city = await _city(session, tenant)
    year = case.discharge_month.year
    try:
        std = await require_standard_in_force(session, city, case.discharge_month)
    except JobRejected as e:
        raise ReviewRefused(record, "standard", str(e)) from None
    grouping = (
        await session.execute(
            text("select drg, adrg, mdc from case_grouping where tenant_id = :t and case_id = :c and version_id = :v"),
            {"t": tenant, "c": case.id, "v": std.scheme_version_id},
        )
    ).first()
    if grouping is None:
        raise ReviewRefused(record, "drg", "the case is not grouped under the payment standard yet")
    policies = await policy_set(session, city, tenant, year)
    policy = policies.policy(policies.ledger_of(case.fund_type))
    groups = await drg_params(session, std.id)
    coefficient, htype = (
        await session.execute(
            text("select coefficient, type from hospital where tenant_id = :t and id = :h"),
            {"t": tenant, "h": hospital},
        )
    ).one()
    cp = score_case(
        CaseIn(
            str(case.id),
            hospital,
            grouping.drg,
            case.total_cost,
            case.los_days,
            case.discharge_way,
            case.total_cost - case.fund_pay,
            case.fund_type,
        ),
        groups.get(grouping.drg),
        std.avg_cost_all,
        HospitalIn(hospital, coefficient, htype),
        policy,
    )
    # "Fewer than 5 cases": the DRG's cases in the city's standard (a hospital sees only its own cases).
    drg_cases = groups[grouping.drg].cases if grouping.drg in groups else 0
    techs = set(
        (
            await session.execute(
                select(NewTechnology.procedure_code).where(
                    NewTechnology.city_code == city, NewTechnology.first_year <= year
                )
            )
        ).scalars()
    )
    why = grounds(
        drg=grouping.drg,
        case_type=cp.type,
        los_days=case.los_days,
        drg_cases_in_year=drg_cases,
        has_new_technology=bool(techs & set(case.procedures)),
        small_group_cases=policy.review_small_group_cases,
        long_stay_days=policy.review_long_stay_days,
    )
    if not why:
        raise ReviewRefused(
            record,
            "grounds",
            f"not eligible: {cp.type} case of DRG {grouping.drg} ({drg_cases} cases in the standard), "
            f"{case.los_days} days, "
            "no new technology",
        )
    discharges = (
        await session.execute(
            text(
                "select count(*) from case_record where tenant_id = :t and hospital_id = :h "
                f"and {current_cases()} and discharge_month between :a and :b"
            ),
            {"t": tenant, "h": hospital, "a": datetime.date(year, 1, 1), "b": datetime.date(year, 12, 1)},
        )
    ).scalar_one()
    used = (
        await session.execute(
            select(func.count()).where(
                SpecialReview.tenant_id == tenant,
                SpecialReview.hospital_id == hospital,
                SpecialReview.year == year,
                SpecialReview.state != "rejected",
            )
        )
    ).scalar_one()
    # The year's discharges are known at its end; until then the basis is the larger of this year's
    # so far and last year's, so early applications are not refused for a small count.
    last_year = (
        await session.execute(
            text(
                "select count(*) from case_record where tenant_id = :t and hospital_id = :h "
                f"and {current_cases()} and discharge_month between :a and :b"
            ),
            {"t": tenant, "h": hospital, "a": datetime.date(year - 1, 1, 1), "b": datetime.date(year - 1, 12, 1)},
        )
    ).scalar_one()
    discharges = max(discharges, last_year)
    allowed = quota(discharges, policy.review_quota_ratio)
    if used >= allowed:
        raise ReviewRefused(
            record,
            "quota",
            f"the hospital has used {used} of {allowed} applications for {year} "
            f"({policy.review_quota_ratio} of {discharges} discharges)",
        )
    review = SpecialReview(
        tenant_id=tenant,
        id=uuid.uuid4(),
        hospital_id=hospital,
        list_id=list_id,
        case_id=case.id,
        year=year,
        grounds=why,
        request=request.strip()[:4000],
        case_summary={
            "drg": grouping.drg,
            "adrg": grouping.adrg,
            "mdc": grouping.mdc,
            "points": str(cp.points),
            "type": cp.type,
            "reason": cp.reason,
            "sex": case.sex,
            "age_years": case.age_years,
            "los_days": case.los_days,
            "discharge_way": case.discharge_way,
            "diagnoses": case.diagnoses,
            "procedures": case.procedures,
            "total_cost": str(case.total_cost),
            "charges": [str(c) for c in case.charges],
        },
        state="submitted",
        round=0,
        created_by=scope.actor,
    )
    session.add(review)
    await session.flush()
    await _event(session, scope, review, "submit", None, "submitted", f"{'; '.join(why)}. {request.strip()[:1000]}")
    return review


async def _move(
    session: AsyncSession, scope: Scope, review: SpecialReview, action: str, why: str, **values: Any
) -> SpecialReview:
    before = review.state
    after = next_state(action, before, scope.role.value, f"review {review.id}", appealed=review.appealed)
    await session.execute(
        update(SpecialReview)
        .where(SpecialReview.tenant_id == review.tenant_id, SpecialReview.id == review.id)
        .values(state=after, updated_at=func.now(), **values)
    )
    await _event(session, scope, review, action, before, after, why)
    await session.refresh(review)
    return review


def _reason(why: str, record: str) -> str:
    if not why.strip():
        raise ReviewRefused(record, "reason", "required: every step says why")
    return why.strip()


async def precheck(
    session: AsyncSession, scope: Scope, tenant: str, review_id: uuid.UUID, accept: bool, why: str
) -> SpecialReview:
    review = await get_review(session, tenant, review_id, lock=True)
    why = _reason(why, f"review {review_id}")
    target = "prechecked" if accept else "rejected"
    if review.state == target:
        return review  # retried
    return await _move(session, scope, review, "precheck" if accept else "reject", why)


async def add_expert(
    session: AsyncSession, scope: Scope, tenant: str, expert: str, name: str, specialty: str | None = None
) -> None:
    await session.execute(
        text(
            "insert into expert_pool (tenant_id, expert, name, specialty, added_by) values (:t, :e, :n, :s, :b) "
            "on conflict do nothing"
        ),
        {"t": tenant, "e": expert, "n": name, "s": specialty, "b": scope.actor},
    )


async def assign(session: AsyncSession, scope: Scope, tenant: str, review_id: uuid.UUID, why: str) -> SpecialReview:
    """Draw the round's experts at random from the pool (experts of an earlier round are drawn only
    when the pool has too few others)."""
    review = await get_review(session, tenant, review_id, lock=True)
    why = _reason(why, f"review {review_id}")
    if review.state == "in_review":
        return review  # retried
    city = await _city(session, tenant)
    policies = await policy_set(session, city, tenant, review.year)
    fund_type = (
        await session.execute(
            select(CaseRecord.fund_type).where(CaseRecord.tenant_id == tenant, CaseRecord.id == review.case_id)
        )
    ).scalar_one()
    need = policies.policy(policies.ledger_of(fund_type)).review_min_experts
    pool = list(
        (
            await session.execute(
                select(ExpertPool.expert).where(ExpertPool.tenant_id == tenant).order_by(ExpertPool.expert)
            )
        )
        .scalars()
        .all()
    )
    if len(pool) < need:
        raise ReviewRefused(f"review {review_id}", "experts", f"the pool has {len(pool)} experts; {need} are needed")
    earlier = set(
        (
            await session.execute(
                select(ReviewAssignment.expert).where(
                    ReviewAssignment.tenant_id == tenant, ReviewAssignment.review_id == review.id
                )
            )
        ).scalars()
    )
    fresh = [e for e in pool if e not in earlier]
    chosen = (
        _random.sample(fresh, need)
        if len(fresh) >= need
        else fresh + _random.sample([e for e in pool if e in earlier], need - len(fresh))
    )
    rnd = review.round + 1
    session.add_all(
        ReviewAssignment(tenant_id=tenant, review_id=review.id, round=rnd, expert=e, hospital_id=review.hospital_id)
        for e in chosen
    )
    await session.flush()
    return await _move(session, scope, review, "assign", f"{why} ({need} experts drawn at random)", round=rnd)


async def give_opinion(
    session: AsyncSession,
    scope: Scope,
    tenant: str,
    review_id: uuid.UUID,
    opinion: str,
    points: Any,
    comment: str,
) -> ReviewAssignment:
    """An expert's blind opinion on its assignment in the current round; the same opinion again is a
    no-op, a different one is refused (opinions are not edited)."""
    record = f"review {review_id}"
    review = await get_review(session, tenant, review_id)
    if review.state != "in_review":
        raise ReviewRefused(record, "state", f"the review is {review.state}, not in review")
    a = (
        await session.execute(
            select(ReviewAssignment)
            .where(
                ReviewAssignment.tenant_id == tenant,
                ReviewAssignment.review_id == review_id,
                ReviewAssignment.round == review.round,
                ReviewAssignment.expert == scope.actor,
            )
            .with_for_update()
        )
    ).scalar_one_or_none()
    if a is None:
        raise ReviewRefused(record, "expert", "you are not assigned to this round of the review")
    pts = _points(opinion, points, record)
    if a.opinion is not None:
        if (a.opinion, a.points) == (opinion, pts):
            return a
        raise ReviewRefused(record, "opinion", f"already given ({a.opinion}); opinions are not edited")
    await session.execute(
        update(ReviewAssignment)
        .where(
            ReviewAssignment.tenant_id == tenant,
            ReviewAssignment.review_id == review_id,
            ReviewAssignment.round == review.round,
            ReviewAssignment.expert == scope.actor,
        )
        .values(opinion=opinion, points=pts, comment=comment.strip()[:4000] or None, decided_at=func.now())
    )
    await session.refresh(a)
    return a


def _points(outcome: str, points: Any, record: str) -> Decimal | None:
    if outcome not in OUTCOMES:
        raise ReviewRefused(record, "outcome", f"must be one of {', '.join(OUTCOMES)} (got {outcome!r})")
    if outcome != "add_points":
        return None
    try:
        d = Decimal(str(points))
    except (InvalidOperation, TypeError):
        raise ReviewRefused(record, "points", f"add_points needs the points the review sets (got {points!r})") from None
    if not d.is_finite() or d < 0:
        raise ReviewRefused(record, "points", f"must not be negative (got {points})")
    return d.quantize(Decimal("0.0001"), ROUND_HALF_UP)


async def decide(
    session: AsyncSession,
    scope: Scope,
    tenant: str,
    review_id: uuid.UUID,
    outcome: str,
    points: Any,
    why: str,
    on: datetime.date | None = None,
) -> SpecialReview:
    """The region's decision once every expert of the round has given an opinion. It lands in the
    month decided and flows into that month's settlement (and every later one)."""
    record = f"review {review_id}"
    review = await get_review(session, tenant, review_id, lock=True)
    why = _reason(why, record)
    pts = _points(outcome, points, record)
    if review.state in ("decided", "final") and (review.outcome, review.decided_points) == (outcome, pts):
        return review  # retried
    opinions = (
        (
            await session.execute(
                select(ReviewAssignment.opinion).where(
                    ReviewAssignment.tenant_id == tenant,
                    ReviewAssignment.review_id == review_id,
                    ReviewAssignment.round == review.round,
                )
            )
        )
        .scalars()
        .all()
    )
    if review.state == "in_review" and (not opinions or any(o is None for o in opinions)):
        missing = sum(1 for o in opinions if o is None)
        raise ReviewRefused(record, "opinions", f"{missing} of {len(opinions)} experts have not given an opinion yet")
    day = on or datetime.date.today()
    return await _move(
        session,
        scope,
        review,
        "decide",
        f"{outcome}{f' {pts} points' if pts is not None else ''}: {why} "
        f"(opinions: {', '.join(sorted(map(str, opinions)))})",
        outcome=outcome,
        decided_points=pts,
        decided_month=day.replace(day=1),
    )


async def appeal(session: AsyncSession, scope: Scope, tenant: str, review_id: uuid.UUID, why: str) -> SpecialReview:
    review = await get_review(session, tenant, review_id, lock=True)
    why = _reason(why, f"review {review_id}")
    if review.state == "appealed":
        return review  # retried
    return await _move(session, scope, review, "appeal", why, appealed=True)


async def accept(session: AsyncSession, scope: Scope, tenant: str, review_id: uuid.UUID, why: str) -> SpecialReview:
    review = await get_review(session, tenant, review_id, lock=True)
    if review.state == "final":
        return review
    return await _move(session, scope, review, "accept", _reason(why, f"review {review_id}"))

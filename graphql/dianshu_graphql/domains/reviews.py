"""Special case review in GraphQL: a hospital applies and appeals, the region prechecks, draws
experts and decides, an expert gives a blind opinion on what is assigned to it."""

from __future__ import annotations

import datetime
import uuid
from decimal import Decimal
from typing import Annotated

import strawberry
from sqlalchemy import select
from strawberry.scalars import JSON
from strawberry.types import Info

from dianshu.reviews import service as reviews
from dianshu.reviews.models import ReviewAssignment, ReviewEvent, SpecialReview
from dianshu.reviews.workflow import ReviewRefused
from dianshu.scope import Role
from dianshu_graphql.errors import ExpectedError, FieldError, PermissionDenied, ValidationError
from dianshu_graphql.permissions import denied, require_tenant


@strawberry.type(description="A step of a review: who, when, from which state to which, and why.")
class ReviewStep:
    seq: int
    actor: str
    role: str
    action: str
    from_state: str | None
    to_state: str
    reason: str
    at: datetime.datetime


@strawberry.type(description="An expert's opinion (the region sees all; an expert only its own; hospitals none).")
class ReviewOpinion:
    round: int
    expert: str
    opinion: str | None
    points: Decimal | None
    comment: str | None
    decided_at: datetime.datetime | None


@strawberry.type(description="A special-review application (特病单议).")
class Review:
    id: strawberry.ID
    tenant: str
    hospital: str | None = strawberry.field(description="Hidden from experts (blind review).")
    list_id: str | None
    year: int
    grounds: list[str]
    request: str
    case: JSON = strawberry.field(description="The case as the experts see it.")
    state: str
    round: int
    outcome: str | None
    decided_points: Decimal | None
    decided_month: datetime.date | None
    appealed: bool

    @strawberry.field
    async def steps(self, info: Info) -> list[ReviewStep]:
        async with info.context.session() as s:
            rows = (
                await s.execute(
                    select(ReviewEvent)
                    .where(ReviewEvent.tenant_id == self.tenant, ReviewEvent.review_id == uuid.UUID(str(self.id)))
                    .order_by(ReviewEvent.seq)
                )
            ).scalars()
            return [
                ReviewStep(
                    seq=e.seq,
                    actor=e.actor,
                    role=e.role,
                    action=e.action,
                    from_state=e.from_state,
                    to_state=e.to_state,
                    reason=e.reason,
                    at=e.at,
                )
                for e in rows
            ]

    @strawberry.field
    async def opinions(self, info: Info) -> list[ReviewOpinion]:
        async with info.context.session() as s:
            rows = (
                await s.execute(
                    select(ReviewAssignment)
                    .where(
                        ReviewAssignment.tenant_id == self.tenant,
                        ReviewAssignment.review_id == uuid.UUID(str(self.id)),
                    )
                    .order_by(ReviewAssignment.round, ReviewAssignment.expert)
                )
            ).scalars()
            return [
                ReviewOpinion(
                    round=a.round,
                    expert=a.expert,
                    opinion=a.opinion,
                    points=a.points,
                    comment=a.comment,
                    decided_at=a.decided_at,
                )
                for a in rows
            ]


def review_of(r: SpecialReview, expert: bool) -> Review:
    return Review(
        id=strawberry.ID(str(r.id)),
        tenant=r.tenant_id,
        hospital=None if expert else r.hospital_id,
        list_id=None if expert else r.list_id,
        year=r.year,
        grounds=list(r.grounds),
        request=r.request,
        case=r.case_summary,
        state=r.state,
        round=r.round,
        outcome=r.outcome,
        decided_points=r.decided_points,
        decided_month=r.decided_month,
        appealed=r.appealed,
    )


@strawberry.input
class ApplyForReviewInput:
    tenant: str
    hospital: str
    list_id: str
    request: str


@strawberry.input
class ReviewStepInput:
    tenant: str
    review: strawberry.ID
    reason: str


@strawberry.input
class ReviewDecisionInput:
    tenant: str
    review: strawberry.ID
    outcome: str = strawberry.field(description="keep, add_points, pay_by_item or refuse")
    points: Decimal | None = strawberry.field(default=None, description="The points set, for add_points")
    reason: str


@strawberry.type
class ReviewPayload:
    review: Review


ReviewResult = Annotated[ReviewPayload | ValidationError | PermissionDenied, strawberry.union("ReviewResult")]


def _refused(e: ReviewRefused) -> ValidationError:
    return ValidationError(message=str(e), errors=[FieldError(record=e.record, field=e.field, reason=e.reason)])


def _id(value: strawberry.ID) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise ExpectedError(f"review: {value!r} is not an id") from None


async def _step(info: Info, tenant: str, roles: set[Role], fn, *args) -> ReviewResult:  # type: ignore[no-untyped-def]
    if (refused := denied(info, roles, tenant)) is not None:
        return refused
    try:
        async with info.context.session() as s:
            r = await fn(s, info.context.scope, tenant, *args)
            if isinstance(r, ReviewAssignment):
                r = await reviews.get_review(s, tenant, r.review_id)
            return ReviewPayload(review=review_of(r, info.context.scope.role is Role.expert))
    except ReviewRefused as e:
        return _refused(e)


@strawberry.type
class ReviewsQuery:
    @strawberry.field(description="Special reviews visible to the caller (an expert: those assigned to it).")
    async def reviews(self, info: Info, tenant: str, state: str | None = None, year: int | None = None) -> list[Review]:
        require_tenant(info, tenant)
        async with info.context.session() as s:
            q = select(SpecialReview).where(SpecialReview.tenant_id == tenant)
            if state:
                q = q.where(SpecialReview.state == state)
            if year:
                q = q.where(SpecialReview.year == year)
            rows = (await s.execute(q.order_by(SpecialReview.created_at))).scalars()
            return [review_of(r, info.context.scope.role is Role.expert) for r in rows]


HOSPITAL = {Role.hospital_user, Role.integrator}
REGION = {Role.region_admin}


@strawberry.type
class ReviewsMutation:
    @strawberry.mutation(description="A hospital applies for special review of an eligible case, within its quota.")
    async def apply_for_review(self, info: Info, input: ApplyForReviewInput) -> ReviewResult:
        # Row-level security keeps a hospital user to its own cases and applications.
        return await _step(info, input.tenant, HOSPITAL, reviews.submit, input.hospital, input.list_id, input.request)

    @strawberry.mutation(description="The region prechecks an application (accept: false rejects it).")
    async def precheck_review(self, info: Info, input: ReviewStepInput, accept: bool = True) -> ReviewResult:
        return await _step(info, input.tenant, REGION, reviews.precheck, _id(input.review), accept, input.reason)

    @strawberry.mutation(description="Draw the round's experts at random from the region's pool.")
    async def assign_review_experts(self, info: Info, input: ReviewStepInput) -> ReviewResult:
        return await _step(info, input.tenant, REGION, reviews.assign, _id(input.review), input.reason)

    @strawberry.mutation(description="An assigned expert's blind opinion.")
    async def give_review_opinion(self, info: Info, input: ReviewDecisionInput) -> ReviewResult:
        return await _step(
            info,
            input.tenant,
            {Role.expert},
            reviews.give_opinion,
            _id(input.review),
            input.outcome,
            input.points,
            input.reason,
        )

    @strawberry.mutation(description="The region's decision; it lands in this month's settlement.")
    async def decide_review(self, info: Info, input: ReviewDecisionInput) -> ReviewResult:
        return await _step(
            info, input.tenant, REGION, reviews.decide, _id(input.review), input.outcome, input.points, input.reason
        )

    @strawberry.mutation(description="The hospital appeals a decision (once).")
    async def appeal_review(self, info: Info, input: ReviewStepInput) -> ReviewResult:
        return await _step(info, input.tenant, HOSPITAL, reviews.appeal, _id(input.review), input.reason)

    @strawberry.mutation(description="The hospital accepts a decision: it becomes final.")
    async def accept_review(self, info: Info, input: ReviewStepInput) -> ReviewResult:
        return await _step(info, input.tenant, HOSPITAL, reviews.accept, _id(input.review), input.reason)

    @strawberry.mutation(description="Add an expert (account subject) to the region's review pool.")
    async def add_review_expert(
        self, info: Info, tenant: str, expert: str, name: str, specialty: str | None = None
    ) -> bool:
        if denied(info, REGION, tenant) is not None:
            raise ExpectedError("you may not do this")
        async with info.context.session() as s:
            await reviews.add_expert(s, info.context.scope, tenant, expert, name, specialty)
        return True

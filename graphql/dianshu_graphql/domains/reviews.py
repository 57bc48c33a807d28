"""Special case review in GraphQL: a hospital applies and appeals, the region prechecks, draws
experts and decides, an expert gives a blind opinion on what is assigned to it."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

import strawberry
from sqlalchemy import select, tuple_
from strawberry.types import Info

from dianshu.reviews import service as reviews
from dianshu.reviews.models import ExpertPool, ReviewAssignment, SpecialReview
from dianshu.reviews.workflow import ReviewRefused
from dianshu.scope import Role
from dianshu_graphql import node, pagination
from dianshu_graphql.errors import InvalidId, NotFound, PermissionDenied, StateConflict, ValidationError, invalid
from dianshu_graphql.errors import refused as as_union
from dianshu_graphql.permissions import ANYONE, Allow
from dianshu_graphql.types.reviews import (
    ApplyForReviewInput,
    Review,
    ReviewDecisionInput,
    ReviewExpert,
    ReviewExpertPayload,
    ReviewPayload,
    ReviewState,
    ReviewStepInput,
)

ReviewResult = Annotated[
    ReviewPayload | ValidationError | PermissionDenied | NotFound | StateConflict, strawberry.union("ReviewResult")
]
AddReviewExpertResult = Annotated[
    ReviewExpertPayload | ValidationError | PermissionDenied, strawberry.union("AddReviewExpertResult")
]

# Who takes each step: the hospital (and its integrator) applies, appeals and accepts; the region
# prechecks, draws experts and decides; an expert gives its opinion.
HOSPITAL = (Role.hospital_user, Role.integrator)
REGION = (Role.region_admin,)

# ReviewRefused's fields that are the input's own, by their GraphQL path.
INPUT_FIELDS = {
    "id": "input.review",
    "tenant": "input.tenant",
    "request": "input.request",
    "list_id": "input.listId",
    "reason": "input.reason",
    "outcome": "input.outcome",
    "points": "input.points",
}


def _refused(e: ReviewRefused) -> ValidationError | NotFound | StateConflict:
    # A conflict with the review's state names the argument that named the review, not the
    # domain's own field ("state", "opinion").
    if e.kind == "state":
        return as_union(e, path=lambda _: "input.review", message=str(e))
    return as_union(e, path=lambda f: INPUT_FIELDS.get(f, f), message=str(e))


def _id(value: strawberry.ID) -> uuid.UUID | ValidationError:
    """input.review: the review's global id or its databaseId."""
    try:
        return node.key_of(value, "Review", field="input.review", raw=node.uuid_part, what="an id")[-1]
    except InvalidId as e:
        return invalid(f"review {str(value)[:100]}", "input.review", "not an id", str(e))


async def fetch_review(info: Info, tenant: str, review_id: uuid.UUID) -> Review | None:
    """One review, as `reviews` shows it (row-level security: an expert those assigned to it, blind)."""
    R = SpecialReview
    async with info.context.session() as s:
        r = (await s.execute(select(R).where(R.tenant_id == tenant, R.id == review_id))).scalar_one_or_none()
    return Review.of(r, info.context.scope.role is Role.expert) if r else None


# Who may read reviews (any role, in its own tenants): reviews' declaration and node(id:)'s.
READ_REVIEWS = Allow(*ANYONE)
node.register(Review, node.code_part, node.uuid_part, fetch=fetch_review, allow=READ_REVIEWS)


async def _step(info: Info, tenant: str, fn: Any, *args: Any) -> ReviewResult:
    """A step of the workflow by a role its mutation allows (Allow)."""
    if args and isinstance(args[0], ValidationError):
        return args[0]
    try:
        async with info.context.session() as s:
            r = await fn(s, info.context.scope, tenant, *args)
            if isinstance(r, ReviewAssignment):
                r = await reviews.get_review(s, tenant, r.review_id)
            return ReviewPayload(review=Review.of(r, info.context.scope.role is Role.expert))
    except ReviewRefused as e:
        return _refused(e)


@strawberry.type
class ReviewsQuery:
    @strawberry.field(
        description="Special reviews visible to the caller (an expert: those assigned to it), oldest first.",
        extensions=[READ_REVIEWS],
    )
    async def reviews(
        self,
        info: Info,
        tenant: str,
        state: ReviewState | None = None,
        year: int | None = None,
        hospital: str | None = None,
        first: int | None = 50,
        after: str | None = None,
    ) -> pagination.Connection[Review]:
        limit = pagination.page_size(first)
        cursor = pagination.decode_cursor(after, pagination.iso_datetime, uuid.UUID)
        R = SpecialReview
        q = select(R).where(R.tenant_id == tenant).order_by(R.created_at, R.id).limit(limit + 1)
        if state is not None:
            q = q.where(R.state == state.value)
        if year:
            q = q.where(R.year == year)
        if hospital:
            q = q.where(R.hospital_id == hospital)
        if cursor:
            q = q.where(tuple_(R.created_at, R.id) > tuple_(cursor[0], cursor[1]))
        async with info.context.session() as s:
            rows = list((await s.execute(q)).scalars())
        expert = info.context.scope.role is Role.expert
        return pagination.build(
            rows, limit, lambda r: [r.created_at.isoformat(), str(r.id)], lambda r: Review.of(r, expert), after=after
        )


@strawberry.type
class ReviewsMutation:
    @strawberry.mutation(
        description="A hospital applies for special review of an eligible case, within its quota.",
        extensions=[Allow(*HOSPITAL)],
    )
    async def apply_for_review(self, info: Info, input: ApplyForReviewInput) -> ReviewResult:
        # Row-level security keeps a hospital user to its own cases and applications.
        return await _step(info, input.tenant, reviews.submit, input.hospital, input.list_id, input.request)

    @strawberry.mutation(
        description="The region prechecks an application (accept: false rejects it).", extensions=[Allow(*REGION)]
    )
    async def precheck_review(self, info: Info, input: ReviewStepInput, accept: bool = True) -> ReviewResult:
        return await _step(info, input.tenant, reviews.precheck, _id(input.review), accept, input.reason)

    @strawberry.mutation(
        description="Draw the round's experts at random from the region's pool.", extensions=[Allow(*REGION)]
    )
    async def assign_review_experts(self, info: Info, input: ReviewStepInput) -> ReviewResult:
        return await _step(info, input.tenant, reviews.assign, _id(input.review), input.reason)

    @strawberry.mutation(description="An assigned expert's blind opinion.", extensions=[Allow(Role.expert)])
    async def give_review_opinion(self, info: Info, input: ReviewDecisionInput) -> ReviewResult:
        return await _step(
            info,
            input.tenant,
            reviews.give_opinion,
            _id(input.review),
            input.outcome.value,
            input.points,
            input.reason,
        )

    @strawberry.mutation(
        description="The region's decision; it lands in this month's settlement.", extensions=[Allow(*REGION)]
    )
    async def decide_review(self, info: Info, input: ReviewDecisionInput) -> ReviewResult:
        return await _step(
            info,
            input.tenant,
            reviews.decide,
            _id(input.review),
            input.outcome.value,
            input.points,
            input.reason,
        )

    @strawberry.mutation(description="The hospital appeals a decision (once).", extensions=[Allow(*HOSPITAL)])
    async def appeal_review(self, info: Info, input: ReviewStepInput) -> ReviewResult:
        return await _step(info, input.tenant, reviews.appeal, _id(input.review), input.reason)

    @strawberry.mutation(
        description="The hospital accepts a decision: it becomes final.", extensions=[Allow(*HOSPITAL)]
    )
    async def accept_review(self, info: Info, input: ReviewStepInput) -> ReviewResult:
        return await _step(info, input.tenant, reviews.accept, _id(input.review), input.reason)

    @strawberry.mutation(
        description="Add an expert (account subject) to the region's review pool (again: a no-op).",
        extensions=[Allow(*REGION)],
    )
    async def add_review_expert(
        self, info: Info, tenant: str, expert: str, name: str, specialty: str | None = None
    ) -> AddReviewExpertResult:
        async with info.context.session() as s:
            await reviews.add_expert(s, info.context.scope, tenant, expert, name, specialty)
            row = (
                await s.execute(select(ExpertPool).where(ExpertPool.tenant_id == tenant, ExpertPool.expert == expert))
            ).scalar_one()
        return ReviewExpertPayload(expert=ReviewExpert(expert=row.expert, name=row.name, specialty=row.specialty))

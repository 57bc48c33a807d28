"""Special case review (特病单议) as GraphQL types: the review, the case as the experts see it, its
steps and the experts' blind opinions."""

from __future__ import annotations

import datetime
import uuid
from decimal import Decimal
from enum import Enum
from typing import Any

import strawberry
from strawberry.types import Info

from dianshu_graphql import language, node
from dianshu_graphql.loaders import review_opinions_loader, review_steps_loader
from dianshu_graphql.types.settlement import CaseType


@strawberry.enum(description="A special review's outcome (评审结论).")
class ReviewOutcome(Enum):
    keep = strawberry.enum_value("keep", description="维持: the case's points stand.")
    add_points = strawberry.enum_value("add_points", description="调整点数: the review sets the case's points.")
    pay_by_item = strawberry.enum_value("pay_by_item", description="按项目付费: the case is paid by item.")
    refuse = strawberry.enum_value("refuse", description="不予调整: the application is refused.")


@strawberry.enum(description="Where a special review stands.")
class ReviewState(Enum):
    submitted = strawberry.enum_value("submitted", description="申请: applied for by the hospital.")
    prechecked = strawberry.enum_value("prechecked", description="初审通过: accepted by the region's precheck.")
    in_review = strawberry.enum_value("in_review", description="专家评审中: experts drawn, opinions awaited.")
    decided = strawberry.enum_value("decided", description="已决定: decided; the hospital may appeal once.")
    appealed = strawberry.enum_value("appealed", description="申诉: appealed, awaiting a second round.")
    final = strawberry.enum_value("final", description="终结: final.")
    rejected = strawberry.enum_value("rejected", description="初审不通过: rejected at precheck.")


@strawberry.enum(description="A step of the review workflow.")
class ReviewAction(Enum):
    submit = strawberry.enum_value("submit", description="The hospital applies.")
    precheck = strawberry.enum_value("precheck", description="The region accepts the application.")
    reject = strawberry.enum_value("reject", description="The region rejects the application.")
    assign = strawberry.enum_value("assign", description="The region draws the round's experts.")
    decide = strawberry.enum_value("decide", description="The region decides.")
    appeal = strawberry.enum_value("appeal", description="The hospital appeals.")
    accept = strawberry.enum_value("accept", description="The hospital accepts the decision.")


@strawberry.type(description="A step of a review: who, when, from which state to which, and why.")
class ReviewStep:
    seq: int
    actor: str = strawberry.field(description="Who took it (an account subject).")
    role: str = strawberry.field(description="The actor's role.")
    action: ReviewAction
    from_state: ReviewState | None
    to_state: ReviewState
    reason: str
    at: datetime.datetime

    @classmethod
    def of(cls, e: Any) -> ReviewStep:
        return cls(
            seq=e.seq,
            actor=e.actor,
            role=e.role,
            action=ReviewAction(e.action),
            from_state=ReviewState(e.from_state) if e.from_state else None,
            to_state=ReviewState(e.to_state),
            reason=e.reason,
            at=e.at,
        )


@strawberry.type(description="An expert's opinion (the region sees all; an expert only its own; hospitals none).")
class ReviewOpinion:
    round: int = strawberry.field(description="1 = the first review, 2 = the appeal.")
    expert: str
    opinion: ReviewOutcome | None = strawberry.field(description="Null until the expert has given it.")
    points: Decimal | None = strawberry.field(description="The points proposed, with add_points.")
    comment: str | None
    decided_at: datetime.datetime | None

    @classmethod
    def of(cls, a: Any) -> ReviewOpinion:
        return cls(
            round=a.round,
            expert=a.expert,
            opinion=ReviewOutcome(a.opinion) if a.opinion else None,
            points=a.points,
            comment=a.comment,
            decided_at=a.decided_at,
        )


@strawberry.type(description="The case as the experts see it: no hospital, no patient (blind review).")
class ReviewCase:
    drg: str
    adrg: str | None
    mdc: str | None
    points: Decimal = strawberry.field(description="Its points before the review.")
    type: CaseType = strawberry.field(description="How its points were set.")
    reason: str = strawberry.field(description="How its points were set, in words.")
    sex: int = strawberry.field(description="性别: 1 male, 2 female (as the settlement list codes it).")
    age_years: int
    los_days: int = strawberry.field(description="Length of stay in days (住院天数).")
    discharge_way: int = strawberry.field(
        description="离院方式: 1 ordered, 2/3 transfer, 4 against advice, 5 death, 9."
    )
    diagnoses: list[str] = strawberry.field(description="Diagnosis codes, the principal first (ICD-10).")
    procedures: list[str] = strawberry.field(description="Procedure codes (ICD-9-CM-3).")
    total_cost: Decimal = strawberry.field(description="The stay's total cost (yuan).")
    charges: list[Decimal] = strawberry.field(description="The 14 national charge categories, in order.")

    @classmethod
    def of(cls, c: dict[str, Any]) -> ReviewCase:
        return cls(
            drg=c["drg"],
            adrg=c.get("adrg"),
            mdc=c.get("mdc"),
            points=Decimal(c["points"]),
            type=CaseType(c["type"]),
            reason=c.get("reason") or "",
            sex=int(c["sex"]),
            age_years=int(c["age_years"]),
            los_days=int(c["los_days"]),
            discharge_way=int(c["discharge_way"]),
            diagnoses=list(c.get("diagnoses") or []),
            procedures=list(c.get("procedures") or []),
            total_cost=Decimal(c["total_cost"]),
            charges=[Decimal(x) for x in c.get("charges") or []],
        )


@strawberry.type(description="A special-review application (特病单议).")
class Review(node.Node):
    id: strawberry.ID
    database_id: uuid.UUID = strawberry.field(description="The review's own id (older calls use it).")
    tenant: str = strawberry.field(
        deprecation_reason="Use tenantCode: one name for a tenant's code on every type (issue 11)."
    )
    hospital: str | None = strawberry.field(description="Hidden from experts (blind review).")
    list_id: str | None = strawberry.field(description="Hidden from experts (blind review).")
    year: int
    grounds: list[str] = strawberry.field(description="Why the case is eligible (English, as stored).")
    request: str = strawberry.field(description="The hospital's reasons.")
    case: ReviewCase = strawberry.field(description="The case as the experts see it.")
    state: ReviewState
    round: int
    outcome: ReviewOutcome | None
    decided_points: Decimal | None
    decided_month: datetime.date | None = strawberry.field(description="The month the decision lands in.")
    appealed: bool

    @strawberry.field(
        description="The grounds in the request's language (`lang`, the cookie, Accept-Language; zh by default)."
    )
    def localized_grounds(self) -> list[str]:
        return [language.message(g) for g in self.grounds]

    @strawberry.field(description="Every step, in order (one query per request for all reviews asked).")
    async def steps(self, info: Info) -> list[ReviewStep]:
        rows = await info.context.loader("review_steps", review_steps_loader).load((self.tenant, str(self.database_id)))
        return [ReviewStep.of(e) for e in rows]

    @strawberry.field(description="The experts' opinions, by round and expert (one query per request).")
    async def opinions(self, info: Info) -> list[ReviewOpinion]:
        rows = await info.context.loader("review_opinions", review_opinions_loader).load(
            (self.tenant, str(self.database_id))
        )
        return [ReviewOpinion.of(a) for a in rows]

    @classmethod
    def of(cls, r: Any, expert: bool) -> Review:
        return cls(
            id=node.global_id("Review", r.tenant_id, r.id),
            database_id=r.id,
            tenant=r.tenant_id,
            hospital=None if expert else r.hospital_id,
            list_id=None if expert else r.list_id,
            year=r.year,
            grounds=list(r.grounds),
            request=r.request,
            case=ReviewCase.of(r.case_summary),
            state=ReviewState(r.state),
            round=r.round,
            outcome=ReviewOutcome(r.outcome) if r.outcome else None,
            decided_points=r.decided_points,
            decided_month=r.decided_month,
            appealed=r.appealed,
        )

    @strawberry.field(description="The tenant's code (the city or region it belongs to).")
    def tenant_code(self) -> str:
        return self.tenant


@strawberry.type(description="An expert of the region's review pool (专家库).")
class ReviewExpert:
    expert: str = strawberry.field(description="The expert's account subject.")
    name: str
    specialty: str | None


@strawberry.input
class ApplyForReviewInput:
    tenant: str
    hospital: str
    list_id: str
    request: str = strawberry.field(description="Why the case needs review.")


@strawberry.input
class ReviewStepInput:
    tenant: str
    review: strawberry.ID = strawberry.field(description="The review (its id or databaseId).")
    reason: str


@strawberry.input
class ReviewDecisionInput:
    tenant: str
    review: strawberry.ID = strawberry.field(description="The review (its id or databaseId).")
    outcome: ReviewOutcome
    points: Decimal | None = strawberry.field(default=None, description="The points set, for add_points only.")
    reason: str


@strawberry.type
class ReviewPayload:
    review: Review


@strawberry.type
class ReviewExpertPayload:
    expert: ReviewExpert

"""Supervision (智能监管) as GraphQL types: the rule catalogue, findings with their evidence and cases,
and the supervision run's job result."""

from __future__ import annotations

import datetime
import uuid
from collections import defaultdict
from decimal import Decimal
from enum import Enum
from typing import Any

import strawberry
from sqlalchemy import select, tuple_
from strawberry.dataloader import DataLoader
from strawberry.types import Info

from dianshu.supervision.catalogue import Rule
from dianshu.supervision.models import SupervisionFindingCase
from dianshu.supervision.run import SUPERVISION_RUN
from dianshu_graphql import node
from dianshu_graphql.types import job_results
from dianshu_graphql.types.jobs import Job


@strawberry.enum(description="Where a finding stands.")
class FindingState(Enum):
    open = strawberry.enum_value("open", description="待审核: found, not decided yet.")
    confirmed = strawberry.enum_value("confirmed", description="已确认: a violation (its cases' points withdrawn).")
    dismissed = strawberry.enum_value("dismissed", description="已排除: not a violation.")


@strawberry.enum(description="How serious a rule's findings are by default.")
class FindingSeverity(Enum):
    high = strawberry.enum_value("high", description="高")
    medium = strawberry.enum_value("medium", description="中")
    low = strawberry.enum_value("low", description="低")


@strawberry.enum(description="What a rule judges: one case (or a patient's cases), or a hospital's year.")
class SupervisionLevel(Enum):
    case = strawberry.enum_value("case", description="Case-level: its findings name cases.")
    hospital = strawberry.enum_value(
        "hospital",
        description="Hospital-level signal: a figure; an upcoding signal also lists the cases that drove it, "
        "as evidence (not subjects until a confirmation names them).",
    )


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(p.capitalize() for p in rest)


@strawberry.type(description="A supervision rule of the catalogue (dianshu supervision rules).")
class SupervisionRule:
    code: str = strawberry.field(description="The rule's stable code (findings name it).")
    name_zh: str
    name_en: str
    level: SupervisionLevel
    severity: FindingSeverity = strawberry.field(description="Its findings' severity.")
    violation: str | None = strawberry.field(
        description="The violation kind (ViolationMultiples) a confirmation writes on the finding's cases (a "
        "hospital-level upcoding signal: on the cases named on confirming it); null: a hospital-level signal "
        "with no case to mark or a pattern that is no violation of its own (nothing is written)."
    )
    parameters: list[str] = strawberry.field(description="Its policy parameters (PolicyParameters' names).")
    description: str

    @classmethod
    def of(cls, r: Rule) -> SupervisionRule:
        return cls(
            code=r.code,
            name_zh=r.name_zh,
            name_en=r.name_en,
            level=SupervisionLevel(r.level),
            severity=FindingSeverity(r.severity),
            violation=r.violation,
            parameters=[camel(p) for p in r.parameters],
            description=r.description,
        )


@strawberry.type(description="One more figure of a finding's evidence: its name and its value as text.")
class EvidenceFigure:
    name: str
    value: str | None = strawberry.field(description="Numbers as written (decimal strings), null when null.")


@strawberry.type(description="What a finding rests on: the figure found, the threshold it crossed, the peers.")
class FindingEvidence:
    figure: Decimal | None = strawberry.field(description="The figure found (a gap in days, a share, yuan ...).")
    threshold: Decimal | None = strawberry.field(description="The threshold it crossed.")
    peer_value: Decimal | None = strawberry.field(description="The peers' value compared with (hospital-level).")
    unit: str = strawberry.field(description="days, share, yuan, yuan_per_day, hours or cmi.")
    variant: str | None = strawberry.field(description="Which of the rule's tests it met, when it has several.")
    figures: list[EvidenceFigure] = strawberry.field(description="Every other figure, by name.")


@strawberry.type(description="A case behind a finding.")
class FindingCase:
    list_id: str = strawberry.field(description="The settlement list's id (结算清单号).")
    hospital: str
    case_id: int = strawberry.field(
        description="The case version's id when last found.",
        deprecation_reason="the case version's databaseId: use caseNodeId, the Case's global id (Case.id)",
    )
    case_node_id: strawberry.ID = strawberry.field(
        description="The Case's global id (Case.id), as `node(id:)` and `cases(case:)` take it."
    )
    subject: bool = strawberry.field(
        description="Whether a confirmation marks this case (a split's readmission; for a hospital-level upcoding "
        "signal, the cases named on confirming it)."
    )


def finding_cases_loader(ctx: Any) -> DataLoader[tuple[str, str], list[Any]]:
    """The cases of every finding asked for, in one query: key (tenant, finding id)."""

    async def load(keys: list[tuple[str, str]]) -> list[list[Any]]:
        C = SupervisionFindingCase
        wanted = [(t, uuid.UUID(f)) for t, f in keys]
        async with ctx.session() as s:
            rows = (
                await s.execute(select(C).where(tuple_(C.tenant_id, C.finding_id).in_(wanted)).order_by(C.list_id))
            ).scalars()
            found: dict[tuple[str, str], list[Any]] = defaultdict(list)
            for c in rows:
                found[(c.tenant_id, str(c.finding_id))].append(c)
        return [found.get(k, []) for k in keys]

    return DataLoader(load_fn=load)


def redacted(e: FindingEvidence, level: SupervisionLevel, hospital_bound: bool) -> FindingEvidence:
    """The evidence as a hospital-bound caller may see it: no figure derived from its peers."""
    if not hospital_bound:
        return e
    hospital_level = level == SupervisionLevel.hospital
    return FindingEvidence(
        figure=e.figure,
        threshold=None if hospital_level else e.threshold,
        peer_value=None,
        unit=e.unit,
        variant=e.variant,
        figures=[x for x in e.figures if not x.name.startswith("peer")],
    )


def _text(v: Any) -> str | None:
    if v is None:
        return None
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


@strawberry.type(description="A supervision finding (监管疑点): a rule's hit, its evidence, its state.")
class SupervisionFinding(node.Node):
    id: strawberry.ID
    database_id: uuid.UUID
    tenant_code: str
    hospital: str
    rule: str = strawberry.field(description="The rule's code (supervisionRules).")
    level: SupervisionLevel
    year: int
    month: int | None = strawberry.field(description="A case-level finding's (latest) discharge month.")
    patient_id: str | None = strawberry.field(description="The patient (pseudonymised), for patient rules.")
    severity: FindingSeverity
    state: FindingState
    stale: bool = strawberry.field(
        description="The last run that judged it did not find it again (its cases corrected or recalled, or a "
        "parameter changed): kept with its state, never closed silently."
    )
    full_evidence: strawberry.Private[FindingEvidence]

    @strawberry.field(
        description="What it rests on. A hospital's own user does not see its peers' figures (peerValue, a "
        "hospital-level finding's threshold and the peers' figures are null or left out): with few peers of a "
        "level they would be another hospital's own figure."
    )
    def evidence(self, info: Info) -> FindingEvidence:
        return redacted(self.full_evidence, self.level, info.context.scope.hospital_id is not None)

    priority: Decimal | None = strawberry.field(description="The audit queue's order (the anomaly score), if set.")
    detected_at: datetime.datetime
    last_seen_at: datetime.datetime
    last_seen_run: uuid.UUID = strawberry.field(description="The supervision.run job that last found it.")
    decided_by: str | None
    decided_at: datetime.datetime | None
    reason: str | None = strawberry.field(description="Why it was confirmed or dismissed.")
    serious: bool | None = strawberry.field(description="A confirmation's seriousness (the deduction).")

    @strawberry.field(description="Its cases, by list id (one query per request for all findings asked).")
    async def cases(self, info: Info) -> list[FindingCase]:
        rows = await info.context.loader("finding_cases", finding_cases_loader).load(
            (self.tenant_code, str(self.database_id))
        )
        return [
            FindingCase(
                list_id=c.list_id,
                hospital=c.hospital_id,
                case_id=c.case_id,
                case_node_id=node.global_id("Case", c.tenant_id, c.case_id),
                subject=c.subject,
            )
            for c in rows
        ]

    @classmethod
    def of(cls, f: Any) -> SupervisionFinding:
        extra = dict(f.evidence or {})
        variant = extra.pop("variant", None)
        return cls(
            id=node.global_id("SupervisionFinding", f.tenant_id, f.id),
            database_id=f.id,
            tenant_code=f.tenant_id,
            hospital=f.hospital_id,
            rule=f.rule,
            level=SupervisionLevel(f.level),
            year=f.year,
            month=f.month,
            patient_id=f.patient_id,
            severity=FindingSeverity(f.severity),
            state=FindingState(f.state),
            stale=f.stale,
            full_evidence=FindingEvidence(
                figure=f.figure,
                threshold=f.threshold,
                peer_value=f.peer_value,
                unit=f.unit,
                variant=variant,
                figures=[EvidenceFigure(name=k, value=_text(v)) for k, v in sorted(extra.items())],
            ),
            priority=f.priority,
            detected_at=f.detected_at,
            last_seen_at=f.last_seen_at,
            last_seen_run=f.last_seen_run,
            decided_by=f.decided_by,
            decided_at=f.decided_at,
            reason=f.reason,
            serious=f.serious,
        )


@strawberry.type(description="A finding decided.")
class FindingPayload:
    finding: SupervisionFinding


@strawberry.input
class DecideFindingInput:
    tenant: str = strawberry.field(description="The finding's region.")
    finding: strawberry.ID = strawberry.field(description="The finding (its id or databaseId).")
    reason: str = strawberry.field(description="Why (required).")


@strawberry.input
class ConfirmFindingInput:
    tenant: str = strawberry.field(description="The finding's region.")
    finding: strawberry.ID = strawberry.field(description="The finding (its id or databaseId).")
    serious: bool = strawberry.field(description="Serious: multiple × b is deducted too (SPEC section 5).")
    reason: str = strawberry.field(description="Why (required).")
    cases: list[str] | None = strawberry.field(
        default=None,
        description="A hospital-level upcoding signal (a rule of level hospital with a violation kind): the "
        "list ids, among the finding's cases, that the audit found upcoded; each gets the rule's violation "
        "(its points withdrawn, and, serious, multiple × b deducted). None or empty: the signal is confirmed "
        "and no violation is written (serious then refused). Refused on any other rule. Part of the decision: "
        "a retry names the same cases.",
    )


@strawberry.type(description="The supervision run (supervision.run) started: poll job(id) for its status.")
class SupervisionJobPayload:
    job: Job
    created: bool = strawberry.field(description="False when an identical earlier request returned its job.")


@strawberry.type(description="What one rule found in a run.")
class SupervisionRuleRun:
    rule: str
    found: int = strawberry.field(description="Findings found (new or again).")
    new: int = strawberry.field(description="Findings found for the first time.")
    stale: int = strawberry.field(description="Earlier findings not found again (flagged stale).")


@strawberry.type(description="A rule a run left out, and why.")
class SupervisionRuleSkipped:
    rule: str
    reason: str


@strawberry.type(description="What a supervision run (supervision.run) found.")
class SupervisionJobResult:
    tenant_codes: list[str] = strawberry.field(description="The regions judged (a city run: all its regions).")
    year: int
    months: list[int] = strawberry.field(description="The discharge months case-level rules judged.")
    version: uuid.UUID = strawberry.field(description="The DRG scheme version's databaseId.")
    standard: uuid.UUID | None = strawberry.field(description="The payment standard whose weights were used.")
    rules: list[SupervisionRuleRun]
    skipped: list[SupervisionRuleSkipped]
    findings: int
    new: int
    stale: int

    @classmethod
    def of(cls, r: dict[str, Any]) -> SupervisionJobResult:
        return cls(
            tenant_codes=list(r["tenants"]),
            year=int(r["year"]),
            months=[int(m) for m in r["months"]],
            version=uuid.UUID(r["version"]),
            standard=uuid.UUID(r["standard"]) if r.get("standard") else None,
            rules=[
                SupervisionRuleRun(rule=k, found=int(v["found"]), new=int(v["new"]), stale=int(v["stale"]))
                for k, v in r["rules"].items()
            ],
            skipped=[SupervisionRuleSkipped(rule=k, reason=v) for k, v in r.get("skipped", {}).items()],
            findings=int(r["findings"]),
            new=int(r["new"]),
            stale=int(r["stale"]),
        )


job_results.register(SUPERVISION_RUN, SupervisionJobResult, SupervisionJobResult.of)

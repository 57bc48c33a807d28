"""The doctor-workstation check (事前提示 / 诊间审核), pure: a draft case, what the platform knows of
its hospital's year (the compiled grouper, the payment standard, the policy, the provisional point
value: `Standing`) and the patient's last discharge in, the likely DRG with its trace, points,
expected payment, cost against the DRG and warnings out. No database here (service.py reads).

Every rule is the settlement's own, called, not copied: points are settlement/arithmetic/points.py
`case_points` (SPEC section 5), the high-outlier multiplier `Policy.k`, the readmission rule
`find_readmissions`, the principal-diagnosis rule cases/validation.py `principal_refusal`.

Figures:
- cost so far = the draft's total (or the sum of its 14 charges); when both the days so far and an
  expected discharge are given, projected cost = cost so far × expected LOS / days so far (fen).
  Points and the high-outlier test use the projected cost when there is one, else the cost so far.
- cost ratio = cost / the DRG's average cost (4 places); threshold = k(b) × average cost (fen),
  the cost above which the stay is a high outlier (ratio > k).
- expected payment = points × the provisional point value, half-up to the fen (SPEC section 6).
  The readmission halving falls on the *earlier* stay, so it is a warning, not this stay's points;
  add-ons (new technology) and penalties (violations) are not known before discharge.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from dianshu.cases.validation import principal_refusal
from dianshu.grouping.engine import Grouper
from dianshu.grouping.records import GroupInput, GroupResult
from dianshu.settlement.arithmetic.points import CasePoints, DrgParams, PointsCase, case_points, itemized_reason
from dianshu.settlement.arithmetic.policy import Policy
from dianshu.settlement.arithmetic.rounding import money, q4, rounding
from dianshu.settlement.arithmetic.year import Stay, find_readmissions
from dianshu.workstation.draft import DraftCase

NEWBORN_DAYS = 28
# Birth weights tried when a newborn's is missing (grams): the MDCP bands of both shipped schemes
# (< 1000, 1000-1499, 1500-1999, 2000-2499, ≥ 2500) and then some.
TRIAL_WEIGHTS = (700, 1200, 1700, 2200, 2700, 3500)
VENTILATION_PREFIXES = ("96.71", "96.72")


class WarningCode(StrEnum):
    HIGH_OUTLIER = "HIGH_OUTLIER"  # cost so far above the high-outlier threshold
    PROJECTED_HIGH_OUTLIER = "PROJECTED_HIGH_OUTLIER"  # the projected cost will be
    READMISSION = "READMISSION"  # admitted within the readmission window of the last discharge
    GREY_CODE = "GREY_CODE"  # a grey code (invalid on a settlement list)
    INVALID_CODE = "INVALID_CODE"  # a code in no code set of the record's coding
    INVALID_PRINCIPAL = "INVALID_PRINCIPAL"  # a code that may not be the principal diagnosis
    UNGROUPABLE = "UNGROUPABLE"  # the principal diagnosis groups poorly: 0000 or an xQY group
    ITEMIZED = "ITEMIZED"  # the DRG is paid by item (unstable, or without parameters)
    MISSING_BIRTH_WEIGHT = "MISSING_BIRTH_WEIGHT"  # a newborn without birth weight, and it matters
    MISSING_AGE_DAYS = "MISSING_AGE_DAYS"  # an infant without age in days, and it matters
    MISSING_VENT_HOURS = "MISSING_VENT_HOURS"  # ventilation coded (or a ventilation DRG), no hours
    VENT_HOURS_MISMATCH = "VENT_HOURS_MISMATCH"  # hours that contradict the coded ventilation
    MISSING_PROCEDURE = "MISSING_PROCEDURE"  # no procedure where a surgical ADRG would apply
    NO_POINT_VALUE = "NO_POINT_VALUE"  # no provisional point value: no expected payment


class Severity(StrEnum):
    warning = "warning"  # money or the group changes: look before discharge
    info = "info"


@dataclass(frozen=True)
class Warning:
    code: WarningCode
    severity: Severity
    field: str | None  # the draft's field concerned, as sent (diagnoses[0], vent_hours)
    message_zh: str
    message_en: str


@dataclass(frozen=True)
class Standing:
    """What the check knows of a hospital's year, from memory (service.py caches it)."""

    tenant: str
    hospital: str
    year: int
    ledger: str
    grouper: Grouper
    standard_id: str
    standard_label: str
    avg_cost_all: Decimal
    params: dict[str, DrgParams]
    coefficient: Decimal
    policy: Policy
    point_value: Decimal | None  # None: none (neither last year's final value nor the parameter)
    point_value_source: str
    surgical: dict[str, frozenset[str]] = field(default_factory=dict)  # pdx -> surgical ADRGs naming it
    scheme_label: str = ""  # the scheme version's label (the grouping's)


@dataclass(frozen=True)
class LastStay:
    """The patient's last discharge before the draft's admission (the one indexed look-up)."""

    list_id: str
    hospital: str
    admitted: datetime
    discharged: datetime
    drg: str | None  # under the standard's scheme version, when grouped
    adrg: str | None


@dataclass(frozen=True)
class CheckResult:
    group: GroupResult  # with its trace
    base_points: Decimal | None
    coefficient: Decimal
    points: CasePoints
    point_value: Decimal | None
    point_value_source: str
    expected_payment: Decimal | None
    cost_so_far: Decimal
    projected_cost: Decimal | None
    avg_cost: Decimal | None
    cost_ratio: Decimal | None  # cost so far / average cost
    projected_ratio: Decimal | None
    k: Decimal | None
    high_outlier_threshold: Decimal | None  # k × average cost
    los_days: int
    last_stay: LastStay | None
    warnings: list[Warning]
    standing: Standing

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON values (decimals as strings, as the API sends them) for the REST endpoint."""
        g, p, last, st = self.group, self.points, self.last_stay, self.standing

        def s(x: Decimal | None) -> str | None:
            return None if x is None else str(x)

        return {
            "hospital": st.hospital,
            "tenant": st.tenant,
            "year": st.year,
            "ledger": st.ledger,
            "standard": st.standard_label,
            "grouping": {**g.to_dict(with_trace=True), "scheme": st.grouper.tables.code, "version": st.scheme_label},
            "drg": g.drg,
            "drg_name": g.drg_name,
            "base_points": s(self.base_points),
            "coefficient": str(self.coefficient),
            "points": str(p.points),
            "points_type": p.type,
            "points_reason": p.reason,
            "point_value": s(self.point_value),
            "point_value_source": self.point_value_source,
            "expected_payment": s(self.expected_payment),
            "cost_so_far": str(self.cost_so_far),
            "projected_cost": s(self.projected_cost),
            "avg_cost": s(self.avg_cost),
            "cost_ratio": s(self.cost_ratio),
            "projected_ratio": s(self.projected_ratio),
            "high_outlier_k": s(self.k),
            "high_outlier_threshold": s(self.high_outlier_threshold),
            "los_days": self.los_days,
            "last_stay": None
            if last is None
            else {
                "list_id": last.list_id,
                "hospital": last.hospital,
                "admitted": last.admitted.isoformat(sep=" "),
                "discharged": last.discharged.isoformat(sep=" "),
                "drg": last.drg,
            },
            "warnings": [
                {
                    "code": w.code.value,
                    "severity": w.severity.value,
                    "field": w.field,
                    "message_zh": w.message_zh,
                    "message_en": w.message_en,
                }
                for w in self.warnings
            ],
        }


def group_input(case: DraftCase, **changes: object) -> GroupInput:
    d = case.draft
    rec = GroupInput(
        id=d.list_id or d.patient_id,
        sex=d.sex,
        age_years=d.age_years,
        age_days=d.age_days,
        birth_weight_g=d.birth_weight_g,
        los_days=case.los_days,
        discharge_way=d.discharge_way,
        diagnoses=tuple(d.diagnoses),
        procedures=tuple(d.procedures),
        vent_hours=float(d.vent_hours) if d.vent_hours is not None else None,
        icu_hours=float(d.icu_hours) if d.icu_hours is not None else None,
        dept=d.discharge_dept or d.admit_dept,
        coding=d.coding,
    )
    return replace(rec, **changes) if changes else rec  # type: ignore[arg-type]


def surgical_adrgs(grouper: Grouper, coding: str = "yibao") -> dict[str, frozenset[str]]:
    """Principal diagnosis -> the surgical ADRGs whose entry names it and needs a procedure
    (`PDX IN adrg_zd AND MAIN_PROC IN adrg_ss`): without a procedure such a case cannot reach them."""
    from dianshu.grouping.conditions import required_memberships

    out: dict[str, set[str]] = {}
    for m in grouper.compiled(coding).mdcs:
        for a in m.items:
            if a.node is None:
                continue
            needs = required_memberships(a.node)
            if not any(x.field in ("MAIN_PROC", "ANY_PROC") for x in needs):
                continue
            for x in needs:
                if x.field == "PDX":
                    for code in a.env.resolve(x):
                        out.setdefault(code, set()).add(a.code)
    return {k: frozenset(v) for k, v in out.items()}


def _w(code: WarningCode, field: str | None, zh: str, en: str, severity: Severity = Severity.warning) -> Warning:
    return Warning(code, severity, field, zh, en)


def _code_warnings(case: DraftCase, grouper: Grouper) -> Iterable[Warning]:
    d = case.draft
    book = grouper.codebook
    edition = "医保版 v2.0" if d.coding == "yibao" else "国临版"
    for name, system, codes, zh_kind in (
        ("diagnoses", book.diagnoses, d.diagnoses, "诊断"),
        ("procedures", book.procedures, d.procedures, "手术操作"),
    ):
        for i, code in enumerate(codes):
            st = system.check(code, d.coding)
            where = f"{name}[{i}]"
            principal = i == 0 and name == "diagnoses"
            role_en = "principal diagnosis" if principal else f"{name[:-1] if name == 'procedures' else 'diagnosis'}"
            role_zh = "主要诊断" if principal else zh_kind
            if not st.known:
                yield _w(
                    WarningCode.INVALID_CODE,
                    where,
                    f"{role_zh} {code} 不是{edition}编码" + ("，病例将无法入组（0000）" if principal else ""),
                    f"{role_en} {code} is not a {edition} code"
                    + (": the case is ungroupable (0000)" if principal else ""),
                )
            elif st.grey:
                yield _w(
                    WarningCode.GREY_CODE,
                    where,
                    f"{role_zh} {code} 是灰码（结算清单不可使用）" + ("，病例将无法入组（0000）" if principal else ""),
                    f"{role_en} {code} is a grey code (not valid on a settlement list)"
                    + (": the case is ungroupable (0000)" if principal else ""),
                )
            elif principal and (why := principal_refusal(st.code)) is not None:
                yield _w(
                    WarningCode.INVALID_PRINCIPAL,
                    where,
                    f"{code} 不能作为主要诊断（外因、星号或形态学编码）",
                    f"{code}: {why}",
                )


def _regroup_drgs(grouper: Grouper, case: DraftCase, trials: Iterable[dict[str, object]]) -> list[str]:
    return sorted({grouper.group(group_input(case, **t)).drg for t in trials})


def _missing_data(case: DraftCase, st: Standing, result: GroupResult) -> Iterable[Warning]:
    d, grouper = case.draft, st.grouper
    if d.age_years == 0 and d.age_days is None:
        others = [x for x in _regroup_drgs(grouper, case, [{"age_days": n} for n in (0, 10, 29)]) if x != result.drg]
        if others:
            yield _w(
                WarningCode.MISSING_AGE_DAYS,
                "age_days",
                f"未满1岁的患儿缺少年龄（天），入组可能变为 {'、'.join(others)}",
                f"age in days is missing for an infant: with it the case may group to {', '.join(others)}",
            )
    newborn = d.age_years == 0 and d.age_days is not None and d.age_days <= NEWBORN_DAYS
    if newborn and d.birth_weight_g is None:
        others = [
            x for x in _regroup_drgs(grouper, case, [{"birth_weight_g": w} for w in TRIAL_WEIGHTS]) if x != result.drg
        ]
        if others:
            yield _w(
                WarningCode.MISSING_BIRTH_WEIGHT,
                "birth_weight_g",
                f"新生儿缺少出生体重，入组可能变为 {'、'.join(others)}",
                f"a newborn without birth weight: with it the case may group to {', '.join(others)}",
            )
    ventilated = any(p.startswith(VENTILATION_PREFIXES) for p in d.procedures)
    vent_group = "呼吸机" in (result.drg_name or "")
    if d.vent_hours is None and (ventilated or vent_group):
        yield _w(
            WarningCode.MISSING_VENT_HOURS,
            "vent_hours",
            "已编码有创呼吸机治疗（或入呼吸机病组），缺少呼吸机使用时长",
            "invasive ventilation is coded (or the DRG is a ventilation group) but the ventilation hours are missing",
        )
    for m in result.messages:
        if m.field == "vent_hours" and m.level == "warning":
            yield _w(WarningCode.VENT_HOURS_MISMATCH, "vent_hours", "呼吸机使用时长与编码不符：" + m.text, m.text)
    if not d.procedures and result.adrg is not None:
        surgical_dept = any("外科" in (x or "") or "手术" in (x or "") for x in (d.admit_dept, d.discharge_dept))
        reachable = st.surgical.get(result.diagnoses[0] if result.diagnoses else "", frozenset())
        if reachable or surgical_dept:
            names = ", ".join(sorted(reachable)) if reachable else "a surgical ADRG of " + (result.mdc or "the MDC")
            names_zh = "、".join(sorted(reachable)) or (result.mdc or "")
            yield _w(
                WarningCode.MISSING_PROCEDURE,
                "procedures",
                f"未填写手术操作：若已手术，病例将进入外科组（{names_zh}）而非 {result.drg}",
                f"no procedure is coded: if the patient was operated on, the case groups to {names}, not {result.drg}",
            )


def _readmission(case: DraftCase, st: Standing, result: GroupResult, last: LastStay | None) -> Iterable[Warning]:
    if last is None:
        return
    d = case.draft
    gap = (d.admission_time.date() - last.discharged.date()).days
    if not 0 <= gap <= st.policy.readmission_days:
        return
    earlier = Stay(
        "earlier", last.hospital, d.patient_id, last.admitted, last.discharged, last.drg or "", last.adrg, False
    )
    this = Stay(
        "draft", st.hospital, d.patient_id, d.admission_time, d.discharge_time or d.admission_time,
        result.drg, result.adrg, d.readmit_planned,
    )  # fmt: skip
    halved = "draft" in find_readmissions([earlier, this], st.policy)
    factor = st.policy.readmission_factor
    if halved:
        zh = f"，且同一病组 {result.drg}、非计划再入院：前次住院点数将按 {factor} 计"
        en = f"; the same DRG {result.drg}, not planned: the earlier stay's points are multiplied by {factor}"
    elif d.readmit_planned:
        zh, en = "（已标记计划再入院）", " (marked as a planned readmission)"
    else:
        zh, en = "", ""
    yield _w(
        WarningCode.READMISSION,
        "admission_time",
        f"患者于 {gap} 天前（{last.discharged.date()}）出院（清单 {last.list_id}，{last.drg or '未分组'}），"
        f"{st.policy.readmission_days} 天内再入院{zh}",
        f"readmitted {gap} days after the last discharge on {last.discharged.date()} (list {last.list_id}, "
        f"{last.drg or 'not grouped'}), within {st.policy.readmission_days} days{en}",
    )


def check(case: DraftCase, st: Standing, last: LastStay | None) -> CheckResult:
    """The whole answer for one draft (pure: `st` and `last` are what the service read)."""
    result = st.grouper.group(group_input(case), trace=True)
    params = st.params.get(result.drg)
    policy = st.policy
    cost = case.cost_so_far
    projected = None
    if case.days_so_far and case.expected_los and case.expected_los > case.days_so_far:
        projected = money(cost * case.expected_los / case.days_so_far, policy)
    basis = projected if projected is not None else cost
    with rounding(policy):
        pts = case_points(
            PointsCase(result.id, result.drg, basis, case.los_days, case.discharge_way or 1),
            params,
            st.avg_cost_all,
            st.coefficient,
            policy,
        )
        avg = params.avg_cost if params is not None else None
        itemized = itemized_reason(result.drg, params)
        k = policy.k(params.base_points) if params is not None and itemized is None else None
        threshold = money(k * avg, policy) if k is not None and avg is not None else None
        ratio = q4(cost / avg) if avg else None
        projected_ratio = q4(projected / avg) if avg and projected is not None else None
    payment = money(pts.points * st.point_value, policy) if st.point_value is not None else None

    warnings: list[Warning] = list(_code_warnings(case, st.grouper))
    if result.status != "grouped":
        why = "无法入组（0000）" if result.status == "ungroupable" else f"进入歧义组 {result.drg}"
        why_en = (
            "is ungroupable (0000)" if result.status == "ungroupable" else f"falls in the ambiguous group {result.drg}"
        )
        warnings.append(
            _w(
                WarningCode.UNGROUPABLE,
                "diagnoses[0]",
                f"按主要诊断 {case.draft.diagnoses[0]} 及手术操作，病例{why}，将按项目付费：请核对主要诊断",
                f"with principal diagnosis {case.draft.diagnoses[0]} and these procedures the case {why_en} and is "
                "paid by item: check the principal diagnosis",
            )
        )
    elif itemized is not None:
        warnings.append(
            _w(
                WarningCode.ITEMIZED,
                None,
                f"病组 {result.drg} 按项目付费（不稳定病组或无支付标准）",
                f"{itemized}: paid by item",
                Severity.info,
            )
        )
    if threshold is not None:
        if cost > threshold:
            warnings.append(
                _w(
                    WarningCode.HIGH_OUTLIER,
                    "total_cost",
                    f"目前费用 {cost} 元已超过 {result.drg} 高倍率界值 {threshold} 元（{k} 倍均次费用 {avg}）",
                    f"the cost so far {cost} is above {result.drg}'s high-outlier threshold {threshold} "
                    f"({k} × the average cost {avg})",
                )
            )
        elif projected is not None and projected > threshold:
            warnings.append(
                _w(
                    WarningCode.PROJECTED_HIGH_OUTLIER,
                    "total_cost",
                    f"按目前日均费用，预计总费用 {projected} 元将超过 {result.drg} 高倍率界值 {threshold} 元",
                    f"at this daily rate the projected cost {projected} will exceed {result.drg}'s high-outlier "
                    f"threshold {threshold}",
                )
            )
    warnings.extend(_readmission(case, st, result, last))
    warnings.extend(_missing_data(case, st, result))
    if st.point_value is None:
        warnings.append(
            _w(
                WarningCode.NO_POINT_VALUE,
                None,
                f"{st.year} 年暂无预结算点值（上年清算点值未发布且未设定参数）：无法估算支付",
                f"no provisional point value for {st.year} (last year's clearing is not published and no value is "
                "set): no expected payment",
                Severity.info,
            )
        )
    return CheckResult(
        group=result,
        base_points=params.base_points if params is not None else None,
        coefficient=Decimal(1) if params is not None and params.base_group else st.coefficient,
        points=pts,
        point_value=st.point_value,
        point_value_source=st.point_value_source,
        expected_payment=payment,
        cost_so_far=cost,
        projected_cost=projected,
        avg_cost=avg,
        cost_ratio=ratio,
        projected_ratio=projected_ratio,
        k=k,
        high_outlier_threshold=threshold,
        los_days=case.los_days,
        last_stay=last,
        warnings=warnings,
        standing=st,
    )

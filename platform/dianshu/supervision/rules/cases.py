"""Case-level rules. Charges are the settlement list's 14 categories (cases/layout.py), in order:
charges[3] examination, [4] laboratory, [5] treatment, [6] surgery, [7] nursing, [9] western drugs,
[10] TCM herbal pieces, [11] TCM patent drugs."""

from __future__ import annotations

from dianshu.cases.current import current_cases
from dianshu.grouping.drg_codes import no_group_sql

INSERT = """insert into sup_hits (tenant_id, hospital_id, rule, level, severity, key, patient_id, month,
  list_ids, case_ids, subjects, figure, threshold, peer_value, unit, evidence)"""


def period_cases(since: str = ":from", lookahead: bool = False) -> str:
    """The current, active cases of the run's tenants discharged from `since` to the year's end, with
    their grouping under the run's scheme version (none when not grouped). `lookahead`: also the
    stays admitted before :lookahead (1 February of the next year: a readmission within 31 days of a
    December discharge), for the caller to look at and leave out of the year's figures."""
    until = "(r.discharge_month <= :to or r.admit_time < :lookahead)" if lookahead else "r.discharge_month <= :to"
    return f"""
    select r.tenant_id, r.id as case_id, r.hospital_id, r.list_id, r.patient_id, r.admit_time,
           r.discharge_time, r.los_days, r.readmit_planned, r.procedures, r.charges, r.total_cost,
           r.own_pay, r.vent_hours, r.discharge_month,
           extract(month from r.discharge_month)::int as month, g.drg, g.adrg
    from case_record r
    left join case_grouping g on g.tenant_id = r.tenant_id and g.case_id = r.id and g.version_id = :version
    where r.tenant_id = any(:tenants) and {current_cases("r")}
      and r.discharge_month >= {since} and {until}"""


def _charge(i: int) -> str:
    return f"coalesce(c.charges[{i}], 0)"


ANCHOR = "c.discharge_month >= :from and c.month = any(:months)"


def split_admission() -> str:
    """A readmission (the same patient, the same hospital, the next stay by admission time) within
    supervision_split_days of the previous discharge to the same DRG or ADRG, not planned and not in
    an exempt ADRG (the readmission rule's chemotherapy, radiotherapy and dialysis groups); or after a
    gap of gap_min to gap_max days whatever the group. The gap is in calendar days (admission date −
    previous discharge date). Anchored on the readmission's discharge month; its first stay may be
    from the December before."""
    same = f"""(c.drg is not null and c.p_drg is not null and not {no_group_sql("c.drg")}
        and not {no_group_sql("c.p_drg")} and (c.drg = c.p_drg or c.adrg = c.p_adrg)
        and not c.readmit_planned and not (coalesce(c.adrg, '') = any(:exempt)))"""
    return f"""{INSERT}
    with c0 as ({period_cases(":split_from")}),
    p as (
      select c0.*, lag(case_id) over w as p_case, lag(list_id) over w as p_list,
             lag(discharge_time) over w as p_dis, lag(drg) over w as p_drg, lag(adrg) over w as p_adrg
      from c0 window w as (partition by tenant_id, hospital_id, patient_id order by admit_time, case_id)
    ),
    q as (
      select c.*, (c.admit_time::date - c.p_dis::date) as gap, {same} as same_group
      from p c where c.p_case is not null and {ANCHOR}
    ),
    hit as (
      select q.*, (q.same_group and q.gap between 0 and :split_days) as by_group,
             (q.gap between :gap_min and :gap_max) as by_gap
      from q
    )
    select tenant_id, hospital_id, 'split_admission', 'case', :severity,
           least(list_id, p_list) || ',' || greatest(list_id, p_list), patient_id, month,
           array[least(list_id, p_list), greatest(list_id, p_list)],
           case when list_id < p_list then array[case_id, p_case] else array[p_case, case_id] end,
           array[list_id], gap, case when by_group then :split_days else :gap_max end, null, 'days',
           jsonb_build_object('variant', case when by_group and by_gap then 'same_group_short_gap'
                                              when by_group then 'same_group' else 'short_gap' end,
                              'first_stay', p_list, 'readmission', list_id, 'gap_days', gap,
                              'drg', drg, 'first_drg', p_drg, 'planned', readmit_planned)
    from hit where by_group or by_gap"""


def frequent_admission() -> str:
    """A patient with more than supervision_frequent_days inpatient days (sum of LOS) in the year at
    one hospital, or over all the run's hospitals (the region; the city for a city run): one finding
    per hospital the patient stayed in, keyed by the patient (its cases grow over the year)."""
    return f"""{INSERT}
    with c as ({period_cases()}),
    per as (
      select tenant_id, hospital_id, patient_id, sum(los_days) as days, max(month) as month,
             array_agg(list_id order by list_id) as lists, array_agg(case_id order by list_id) as ids
      from c group by tenant_id, hospital_id, patient_id
    ),
    tot as (select patient_id, sum(days) as all_days, count(*) as hospitals from per group by patient_id)
    select per.tenant_id, per.hospital_id, 'frequent_admission', 'case', :severity, per.patient_id,
           per.patient_id, per.month, per.lists, per.ids, array[]::text[],
           case when per.days > :frequent_days then per.days else tot.all_days end, :frequent_days, null, 'days',
           jsonb_build_object('variant', case when per.days > :frequent_days then 'hospital' else 'all_hospitals' end,
                              'hospital_days', per.days, 'all_days', tot.all_days, 'hospitals', tot.hospitals,
                              'stays', cardinality(per.lists))
    from per join tot using (patient_id)
    where per.days > :frequent_days or tot.all_days > :frequent_days"""


def _single(rule: str, where: str, figure: str, threshold: str, unit: str, evidence: str) -> str:
    return f"""{INSERT}
    with c as ({period_cases()})
    select c.tenant_id, c.hospital_id, '{rule}', 'case', :severity, c.list_id, c.patient_id, c.month,
           array[c.list_id], array[c.case_id], array[c.list_id], {figure}, {threshold}, null, '{unit}',
           jsonb_build_object({evidence})
    from c where {ANCHOR} and {where}"""


def low_standard_admission() -> str:
    exam = f"({_charge(3)} + {_charge(4)})"
    return _single(
        "low_standard_admission",
        f"""c.total_cost > 0 and c.los_days <= :ls_max_los and cardinality(c.procedures) = 0
            and {_charge(6)} = 0 and {_charge(5)} <= :ls_treatment_share * c.total_cost
            and {exam} >= :ls_exam_share * c.total_cost""",
        f"round({exam} / c.total_cost, 4)",
        ":ls_exam_share",
        "share",
        f"""'los_days', c.los_days, 'examination_laboratory', {exam}, 'treatment', {_charge(5)},
            'total_cost', c.total_cost, 'drg', c.drg""",
    )


def bed_hanging() -> str:
    care = " + ".join(_charge(i) for i in (5, 7, 9, 10, 11))
    return _single(
        "bed_hanging",
        f"c.los_days >= :bh_min_los and ({care}) < :bh_daily * c.los_days",
        f"round(({care}) / c.los_days, 4)",
        ":bh_daily",
        "yuan_per_day",
        f"'los_days', c.los_days, 'treatment_nursing_drugs', {care}, 'total_cost', c.total_cost, 'drg', c.drg",
    )


def upcoding_ventilation() -> str:
    return _single(
        "upcoding_ventilation",
        "c.vent_hours > :vent_min and c.vent_hours <= :vent_max",
        "c.vent_hours",
        ":vent_min",
        "hours",
        "'ventilation_hours', c.vent_hours, 'upper', cast(:vent_max as numeric), 'drg', c.drg",
    )


def own_pay_switch() -> str:
    return _single(
        "own_pay_switch",
        "c.total_cost > 0 and c.own_pay > :switch_share * c.total_cost",
        "round(c.own_pay / c.total_cost, 4)",
        ":switch_share",
        "share",
        "'own_pay', c.own_pay, 'total_cost', c.total_cost, 'drg', c.drg",
    )

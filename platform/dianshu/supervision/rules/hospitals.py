"""Hospital-level signals, over the per-hospital figures of the year and the year before, staged once
per run in `sup_hstats` (STATS). Peers are the hospitals of the same level among the run's tenants
(the region; the city for a city run) with at least supervision_hospital_min_cases cases, the hospital
itself left out; a peer percentile is percentile_disc (a value the peers have, exact in NUMERIC).

A stay is readmitted when the same patient's next stay at the hospital, unplanned, is admitted 0 to
31 days after its discharge; that next stay is looked for into January of the next year (as the
evaluation's D03 does), so the year's December counts as fully as last year's.

The upcoding signals (MCC/CC share, CMI) carry the cases that drove their figure as evidence, not
subjects: the year's cases grouped with MCC (or with MCC or CC, for the MCC/CC share's variant), or
those whose RW is above the peers' CMI; at most EVIDENCE_CASES of them, the costliest (the highest
RW) first. An auditor confirming the signal names among them the cases the audit found upcoded
(supervision.service.decide), and only those become violations."""

from __future__ import annotations

from dianshu.grouping.drg_codes import split_adrg_sql, with_complication_sql, with_mcc_sql
from dianshu.supervision.rules.cases import INSERT, period_cases

# The most cases an upcoding signal attaches as evidence (bind :evidence_cases): a large hospital's
# year has thousands of MCC cases; the finding's case list stays readable in one answer.
EVIDENCE_CASES = 1000

STATS = f"""
create temporary table sup_hstats on commit drop as
with c0 as ({period_cases(":prev_from", lookahead=True)}),
c1 as (
  select c0.*, lead(admit_time) over w as n_admit, lead(readmit_planned) over w as n_planned
  from c0 window w as (partition by tenant_id, hospital_id, patient_id order by admit_time, case_id)
),
c as (
  select c1.*, d.base_points / 100 as rw,
         (c1.n_admit is not null and not c1.n_planned
          and c1.n_admit::date - c1.discharge_time::date between 0 and 31) as readmitted
  from c1 left join payment_standard_drg d on d.standard_id = :standard and d.drg = c1.drg
  where c1.discharge_month <= :to  -- the next year's stays only as the readmissions they are
)
select c.tenant_id, c.hospital_id, h.level, extract(year from c.discharge_month)::int as year,
       count(*) as cases, sum(c.total_cost) as cost, sum(c.own_pay) as own_pay,
       count(*) filter (where {split_adrg_sql("c.drg")}) as split_cases,
       count(*) filter (where {with_complication_sql("c.drg")}) as cc_cases,
       count(*) filter (where {with_mcc_sql("c.drg")}) as mcc_cases,
       count(c.rw) as rw_cases, round(avg(c.rw), 4) as cmi,
       count(*) filter (where c.rw >= :high_rw) as high_rw_cases,
       count(*) filter (where c.readmitted) as readmitted
from c join hospital h on h.tenant_id = c.tenant_id and h.id = c.hospital_id
group by c.tenant_id, c.hospital_id, h.level, extract(year from c.discharge_month)"""


def _with(share: str, figure: str = "share") -> str:
    """The year's hospitals with `share` (an expression on sup_hstats s), last year's value and the
    peers' percentile of it."""
    return f"""
    with cur as (
      select s.*, {share} as share from sup_hstats s where s.year = :year and s.cases >= :min_cases
    ),
    prev as (select s.tenant_id, s.hospital_id, {share} as share from sup_hstats s
             where s.year = :year - 1 and s.cases >= :min_cases),
    x as (
      select cur.*, prev.share as prev_share,
             (select percentile_disc(:pct) within group (order by p.share) from cur p
              where p.level = cur.level and (p.tenant_id, p.hospital_id) <> (cur.tenant_id, cur.hospital_id)
                and p.share is not null) as peer,
             (select count(*) from cur p where p.level = cur.level
              and (p.tenant_id, p.hospital_id) <> (cur.tenant_id, cur.hospital_id) and p.share is not null) as peers
      from cur left join prev using (tenant_id, hospital_id)
      where cur.{figure} is not null
    )"""


def evidence_cases(where: str, order: str, join: str = "") -> str:
    """A lateral join on the hits `y` (hospitals of the year): the list ids and case ids (ev_lists,
    ev_ids) of at most :evidence_cases of the hospital's cases of the year meeting `where` (on the
    period case `c`, and `join`'s tables), in `order`."""
    return f"""cross join lateral (
      select coalesce(array_agg(e.list_id order by e.n), array[]::text[]) as ev_lists,
             coalesce(array_agg(e.case_id order by e.n), array[]::bigint[]) as ev_ids
      from (select c.list_id, c.case_id, row_number() over (order by {order}) as n
            from ({period_cases()}) c {join}
            where c.tenant_id = y.tenant_id and c.hospital_id = y.hospital_id and {where}
            order by {order} limit :evidence_cases) e
    ) ev"""


def _select(
    rule: str, figure: str, threshold: str, peer: str, unit: str, evidence: str, where: str, cases: str = ""
) -> str:
    """A hit for each hospital of `x` meeting `where`; `cases`: an evidence_cases() join (none: no cases)."""
    lists, ids = ("ev_lists", "ev_ids") if cases else ("array[]::text[]", "array[]::bigint[]")
    count = ", 'evidence_cases', cardinality(ev_lists)" if cases else ""
    return f"""{INSERT}
    {_with_for[rule]}
    select tenant_id, hospital_id, '{rule}', 'hospital', :severity, cast(:year as text), null, null,
           {lists}, {ids}, array[]::text[], {figure}, {threshold}, {peer}, '{unit}',
           jsonb_build_object('cases', cases, 'level', level, 'peers', peers, {evidence}{count})
    from (select * from x where {where}) y {cases}"""


_CMI = "s.cmi"
_OWN = "round(s.own_pay / nullif(s.cost, 0), 4)"
_HIGH = "round(s.high_rw_cases::numeric / nullif(s.rw_cases, 0), 4)"
_COST = "round(s.cost / s.cases, 2)"
_with_for = {
    "upcoding_cmi": _with(_CMI),
    "own_pay_rise": _with(_OWN),
    "own_pay_over": _with(_OWN),
    "high_cost": _with(_COST),
}


def upcoding_mcc_share() -> str:
    """Two shares of a hospital's cases in split ADRGs: grouped with MCC (DRG ending 1) and with MCC
    or CC (ending 1 or 3). Flagged when either is above the level peers' percentile plus the margin,
    or up the jump on last year. Adding MCCs shows in the first far more than in the second, whose
    base is high (common comorbidities are CCs)."""
    m = "round(s.mcc_cases::numeric / s.split_cases, 4)"
    c = "round(s.cc_cases::numeric / s.split_cases, 4)"
    base = "from sup_hstats s where s.split_cases > 0 and s.cases >= :min_cases"

    def peer(col: str) -> str:
        return f"""(select percentile_disc(:pct) within group (order by p.{col}) from cur p where p.level = cur.level
                    and (p.tenant_id, p.hospital_id) <> (cur.tenant_id, cur.hospital_id))"""

    def beyond_chance(count: str, p: str) -> str:
        # count − n·p at least z binomial standard errors sqrt(n·p·(1 − p)) (NUMERIC sqrt: exact enough).
        return f"({count} - split_cases * {p} >= :z * sqrt(split_cases * {p} * (1 - {p})))"

    hits = {
        "mcc_peers": f"(peer_m is not null and m > peer_m + :cc_margin and {beyond_chance('mcc_cases', 'peer_m')})",
        "mcc_cc_peers": f"(peer_c is not null and c > peer_c + :cc_margin and {beyond_chance('cc_cases', 'peer_c')})",
        "mcc_jump": f"(prev_m is not null and m - prev_m >= :cc_jump and {beyond_chance('mcc_cases', 'prev_m')})",
        "mcc_cc_jump": f"(prev_c is not null and c - prev_c >= :cc_jump and {beyond_chance('cc_cases', 'prev_c')})",
    }
    variants = ", ".join(f"case when {cond} then '{name}' end" for name, cond in hits.items())
    mcc_hit = f"({hits['mcc_peers']} or {hits['mcc_jump']})"
    # The evidence: the MCC cases when the MCC share was hit, else the MCC or CC cases.
    cases = evidence_cases(
        f"(case when y.by_mcc then {with_mcc_sql('c.drg')} else {with_complication_sql('c.drg')} end)",
        "c.total_cost desc, c.list_id",
    )
    return f"""{INSERT}
    with cur as (select s.*, {m} as m, {c} as c {base} and s.year = :year),
    prev as (select s.tenant_id, s.hospital_id, {m} as m, {c} as c {base} and s.year = :year - 1),
    x as (
      select cur.*, prev.m as prev_m, prev.c as prev_c, {peer("m")} as peer_m, {peer("c")} as peer_c,
             (select count(*) from cur p where p.level = cur.level
              and (p.tenant_id, p.hospital_id) <> (cur.tenant_id, cur.hospital_id)) as peers
      from cur left join prev using (tenant_id, hospital_id)
    )
    select tenant_id, hospital_id, 'upcoding_mcc_share', 'hospital', :severity, cast(:year as text), null, null,
           ev_lists, ev_ids, array[]::text[],
           case when {mcc_hit} then m else c end,
           case when {hits["mcc_peers"]} then peer_m + :cc_margin when {hits["mcc_jump"]} then prev_m + :cc_jump
                when {hits["mcc_cc_peers"]} then peer_c + :cc_margin else prev_c + :cc_jump end,
           case when {mcc_hit} then peer_m else peer_c end, 'share',
           jsonb_build_object('cases', cases, 'level', level, 'peers', peers, 'split_cases', split_cases,
                              'mcc_cases', mcc_cases, 'mcc_cc_cases', cc_cases, 'mcc_share', m, 'mcc_cc_share', c,
                              'peers_mcc_share', peer_m, 'peers_mcc_cc_share', peer_c,
                              'last_year_mcc_share', prev_m, 'last_year_mcc_cc_share', prev_c,
                              'percentile', cast(:pct as numeric), 'evidence_cases', cardinality(ev_lists),
                              'variant', array_to_string(array_remove(array[{variants}], null), ','))
    from (select x.*, {mcc_hit} as by_mcc from x where {" or ".join(hits.values())}) y {cases}"""


def upcoding_cmi() -> str:
    """The evidence: the year's cases whose RW is above the peers' CMI (they pull the mean up), the
    highest RW first."""
    return _select(
        "upcoding_cmi",
        "share",
        "round(peer * (1 + :cmi_margin), 4)",
        "peer",
        "cmi",
        "'rw_cases', rw_cases, 'last_year', prev_share, 'percentile', cast(:pct as numeric)",
        "peer is not null and share > peer * (1 + :cmi_margin)",
        evidence_cases(
            "d.base_points / 100 > y.peer",
            "d.base_points desc, c.total_cost desc, c.list_id",
            "join payment_standard_drg d on d.standard_id = :standard and d.drg = c.drg",
        ),
    )


def own_pay_rise() -> str:
    return _select(
        "own_pay_rise",
        "share",
        "prev_share + :own_rise",
        "null",
        "share",
        "'last_year', prev_share, 'own_pay', own_pay, 'cost', cost",
        "prev_share is not null and share - prev_share >= :own_rise",
    )


def own_pay_over() -> str:
    return _select(
        "own_pay_over",
        "share",
        ":own_max",
        "null",
        "share",
        "'own_pay', own_pay, 'cost', cost",
        "share > :own_max",
    )


def high_cost() -> str:
    return f"""{INSERT}
    with cur as (select s.*, {_COST} as share from sup_hstats s
                 where s.year = :year and s.cases >= :min_cases),
    lvl as (select level, round(sum(cost) / sum(cases), 2) as avg_cost, count(*) as peers from cur group by level)
    select cur.tenant_id, cur.hospital_id, 'high_cost', 'hospital', :severity, cast(:year as text), null, null,
           array[]::text[], array[]::bigint[], array[]::text[], cur.share,
           round(lvl.avg_cost * (1 + :cost_ratio), 2), lvl.avg_cost, 'yuan',
           jsonb_build_object('cases', cur.cases, 'level', cur.level, 'peers', lvl.peers, 'cost', cur.cost)
    from cur join lvl using (level)
    where cur.share > lvl.avg_cost * (1 + :cost_ratio)"""


def service_shortfall() -> str:
    return f"""{INSERT}
    with cur as (select s.*, {_HIGH} as high, round(s.readmitted::numeric / s.cases, 4) as readm
                 from sup_hstats s where s.year = :year and s.cases >= :min_cases),
    prev as (select s.tenant_id, s.hospital_id, {_HIGH} as high, round(s.readmitted::numeric / s.cases, 4) as readm
             from sup_hstats s where s.year = :year - 1 and s.cases >= :min_cases)
    select cur.tenant_id, cur.hospital_id, 'service_shortfall', 'hospital', :severity, cast(:year as text),
           null, null, array[]::text[], array[]::bigint[], array[]::text[], cur.high,
           prev.high - :sf_drop, prev.high, 'share',
           jsonb_build_object('cases', cur.cases, 'level', cur.level, 'high_rw_share', cur.high,
                              'high_rw_share_last_year', prev.high, 'readmission_rate', cur.readm,
                              'readmission_rate_last_year', prev.readm)
    from cur join prev using (tenant_id, hospital_id)
    where cur.high is not null and prev.high is not null and prev.high - cur.high >= :sf_drop
      and cur.readm - prev.readm >= :sf_readm_rise"""

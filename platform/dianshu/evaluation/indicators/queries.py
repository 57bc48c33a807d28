"""The set-wise statements behind the computed indicators: one statement over the year's cases (read
and joined once, then grouped per hospital, per patient sequence and per hospital × DRG for the
peers), then one GROUP BY per other source (points runs, last year's cases, audit deductions,
ingestion batches). Every statement runs under the caller's scope.

Parameters: :tenants text[]; :start, :end the year's first and last discharge months; :lookahead
the first instant after the 31-day readmission window of the year's last discharge; :map_tenants,
:map_versions, :map_standards the scheme version and payment standard in force per tenant."""

from __future__ import annotations

from dianshu.cases.current import current_cases
from dianshu.cases.validation import MAX_ITEMS
from dianshu.grouping.drg_codes import ambiguous_sql, no_group_sql, with_complication_sql
from dianshu.settlement.latest import latest_points_runs

# China time (UTC+8) for "created in the year" and "arrived within 30 days".
LOCAL = "interval '+08:00'"

WORK_MEM = "256MB"

# The earliest procedure date without a subquery (a correlated subquery would keep the pass out of
# parallel workers): least() of every element a valid stay can have (NULL beyond the array's end).
FIRST_PROCEDURE = "least(" + ", ".join(f"c.proc_dates[{i}]" for i in range(1, MAX_ITEMS + 1)) + ")"


def rw_sql(drg_params: str) -> str:
    """RW: the standard's base points of the DRG / 100 (`drg_params` aliases payment_standard_drg).
    One home: the indicators and the analytics summaries (dianshu.analytics) read it from here."""
    return f"cast({drg_params}.base_points / 100 as numeric(14, 6))"


def drugs_sql(case: str) -> str:
    """Drug charges: western (9th) + herbal (10th) + patent drugs (11th) of cases/layout.py's charges."""
    return f"{case}.charges[9] + {case}.charges[10] + {case}.charges[11]"


def materials_sql(case: str) -> str:
    """Medical materials (consumables): the 8th charge."""
    return f"{case}.charges[8]"


def arrived_in_time(created_at: str, discharged: str) -> str:
    """C05's rule: created within 30 calendar days (China time) after the discharge date."""
    return f"cast({created_at} at time zone {LOCAL} as date) - cast({discharged} as date) <= 30"


# One row per stay of the year (and the stays admitted by the end of the readmission window after
# it): the figures every case indicator sums, its group under the standard in force and its
# confirmed violation. Parallel-safe throughout (no correlated subquery, no table whose policy is
# not parallel-safe), so the scan and joins run in parallel workers.
BASE = f"""
select c.tenant_id, c.hospital_id, c.id as case_id, c.patient_id, c.admit_time, c.discharge_time,
       c.readmit_planned, c.discharge_month <= :end as in_year,
       g.drg,
       (g.drg is not null and not {no_group_sql("g.drg")}) as grouped,
       coalesce({ambiguous_sql("g.drg")}, false) as qy,
       {rw_sql("d")} as rw, d.avg_cost,
       c.los_days as los, c.total_cost as cost, c.discharge_way as dw,
       c.own_pay, c.self_pay, c.fund_pay,
       {drugs_sql("c")} as drugs,
       {materials_sql("c")} as materials,
       c.charges[3] + c.charges[4] as exam,
       coalesce(cardinality(c.procedures), 0) > 0 as has_proc,
       coalesce(c.proc_levels && cast(array[3, 4] as smallint[]), false) as major,
       case when c.proc_dates is not null then {FIRST_PROCEDURE} - cast(c.admit_time as date) end as preop,
       c.version = 1 and {arrived_in_time("c.created_at", "c.discharge_time")} as timely,
       v.kind as violation, coalesce(v.serious, false) as serious
from case_record c
left join m on m.tenant = c.tenant_id
left join case_grouping g on g.tenant_id = c.tenant_id and g.case_id = c.id and g.version_id = m.version
left join payment_standard_drg d on d.standard_id = m.standard and d.drg = g.drg
left join case_violation v on v.tenant_id = c.tenant_id and v.hospital_id = c.hospital_id and v.list_id = c.list_id
where c.tenant_id = any(cast(:tenants as text[])) and {current_cases("c")}
  and c.discharge_month >= :start and (c.discharge_month <= :end or c.admit_time < :lookahead)
"""

# Per hospital: the sums and counts of its own stays.
SIMPLE = f"""
select tenant_id, hospital_id,
       count(*) as cases,
       sum(cost) as cost, sum(los) as days,
       sum(own_pay) as own_pay, sum(self_pay) as self_pay, sum(fund_pay) as fund_pay,
       sum(drugs) as drugs, sum(materials) as materials, sum(exam) as exam,
       count(*) filter (where los <= 2) as short_stays,
       count(*) filter (where has_proc) as proc_cases,
       count(*) filter (where has_proc and major) as major_cases,
       sum(preop) as preop_days, count(preop) as preop_cases,
       count(*) filter (where timely) as timely_first,
       count(*) filter (where grouped) as grouped,
       count(*) filter (where qy) as qy,
       count(*) filter (where grouped and rw is not null) as weighed,
       sum(rw) filter (where grouped) as rw_sum,
       count(*) filter (where grouped and rw >= 2) as high_rw,
       sum(cost) filter (where grouped and rw is not null) as weighed_cost,
       sum(avg_cost) filter (where grouped and rw is not null) as expected_cost,
       count(*) filter (where grouped and {with_complication_sql("drg")}) as cc_mcc,
       count(*) filter (where violation is not null) as violations,
       count(*) filter (where violation = 'no_indication') as no_indication,
       count(*) filter (where violation = 'split_admission') as split_admission,
       count(*) filter (where violation = 'upcoding') as upcoding,
       count(*) filter (where violation is not null and serious) as serious
from base where in_year
group by tenant_id, hospital_id
"""

# Per hospital, each stay with the same patient's next stay at the same hospital (by admission):
# readmissions, and distinct patients (a patient's first stay of the year) in the same sort. Only
# the columns the window needs are sorted; byte order ("C") is the fastest consistent order.
# The indicators' own windows (D02 and D03 as the catalogue defines them), not the policy's: the
# settlement readmission window (readmission_days) and the supervision and signal windows are
# parameters a bureau may change; an indicator's definition is fixed by its catalogue version.
READMIT_SAME_DRG_DAYS = 15
READMIT_ANY_DAYS = 31

SEQUENCE = f"""
select tenant_id, hospital_id,
       count(*) filter (where first_stay) as patients,
       count(*) filter (where next_admit is not null and not next_planned and grouped and next_drg = drg
                          and cast(next_admit as date) - cast(discharge_time as date)
                              between 0 and {READMIT_SAME_DRG_DAYS})
         as readmit_15,
       count(*) filter (where next_admit is not null and not next_planned
                          and cast(next_admit as date) - cast(discharge_time as date) between 0 and {READMIT_ANY_DAYS})
         as readmit_31
from (select tenant_id, hospital_id, in_year, grouped, drg, discharge_time,
             lead(admit_time) over w as next_admit, lead(drg) over w as next_drg,
             lead(readmit_planned) over w as next_planned,
             in_year and count(*) filter (where in_year) over (w rows unbounded preceding) = 1 as first_stay
      from base
      window w as (partition by tenant_id collate "C", hospital_id collate "C", patient_id collate "C"
                   order by admit_time, case_id)) s
where in_year
group by tenant_id, hospital_id
"""


def peer_pool(peer_scope: str, region: str) -> str:
    """A region's peer pool (the policy's evaluation_peer_scope, ledger "all"): "city" (every region
    of the city, one pool) or the region itself. One home: the evaluation run's pools and the
    analytics' time index peers (analytics/refresh.py)."""
    return "city" if peer_scope == "city" else region


# A6 time_index's peer average LOS of a level's DRG: Σ LOS ÷ cases over the pool's grouped cases of
# the level and DRG (`source` has level, drg, n and los; one row per case when n = 1).
def peer_avg_los_sql(source: str) -> str:
    return f"select level, drg, sum(los) / cast(sum(n) as numeric) as avg_los from {source} group by level, drg"


# Per hospital through its DRGs: peers are the hospitals of the same level among the tenants.
PEERS = """
select hd.tenant_id, hd.hospital_id,
       count(*) as drgs,
       sum(hd.los) as peer_days,
       sum(hd.n * r.avg_los) as expected_days,
       sum(hd.n * hd.sd / hd.mean) filter (where hd.n >= 5 and hd.mean > 0) as cv_sum,
       sum(hd.n) filter (where hd.n >= 5 and hd.mean > 0) as cv_cases,
       sum(hd.deaths) filter (where r.ln_mortality < r.mean_ln - r.sd_ln) as low_deaths,
       sum(hd.n) filter (where r.ln_mortality < r.mean_ln - r.sd_ln) as low_cases,
       sum(hd.deaths) filter (where r.ln_mortality > r.mean_ln + r.sd_ln) as high_deaths,
       sum(hd.n) filter (where r.ln_mortality > r.mean_ln + r.sd_ln) as high_cases
from hdl hd join risk r on r.level = hd.level and r.drg = hd.drg
group by hd.tenant_id, hd.hospital_id
"""

# Everything from the year's stays in one statement: the stays are read (and joined) once.
CASE_FIGURES = f"""
with m as (
    select * from unnest(cast(:map_tenants as text[]), cast(:map_versions as uuid[]),
                         cast(:map_standards as uuid[])) as m(tenant, version, standard)
), base as materialized ({BASE}
), simple as ({SIMPLE}
), seq as ({SEQUENCE}
), hd as (
    select tenant_id, hospital_id, drg, count(*) as n, sum(los) as los,
           stddev_samp(cost) as sd, avg(cost) as mean, count(*) filter (where dw = 5) as deaths
    from base where in_year and grouped
    group by tenant_id, hospital_id, drg
), hdl as (
    select hd.*, h.level from hd join hospital h on h.tenant_id = hd.tenant_id and h.id = hd.hospital_id
), peer as (
    select level, drg, sum(los) / cast(sum(n) as numeric) as avg_los,
           sum(deaths) / cast(sum(n) as numeric) as mortality
    from hdl group by level, drg
), risk as (
    select level, drg, avg_los, mortality,
           -- The national method (国家三级公立医院绩效考核): over the DRGs with deaths, the mean and
           -- SD of ln(mortality); DRGs without a death are risk level 0, in neither band.
           ln(nullif(mortality, 0)) as ln_mortality,
           avg(ln(nullif(mortality, 0))) over (partition by level) as mean_ln,
           stddev_pop(ln(nullif(mortality, 0))) over (partition by level) as sd_ln
    from peer
), peers as ({PEERS}
)
select s.*, q.patients, q.readmit_15, q.readmit_31,
       p.drgs, p.peer_days, p.expected_days, p.cv_sum, p.cv_cases,
       p.low_deaths, p.low_cases, p.high_deaths, p.high_cases
from simple s
left join seq q on q.tenant_id = s.tenant_id and q.hospital_id = s.hospital_id
left join peers p on p.tenant_id = s.tenant_id and p.hospital_id = s.hospital_id
"""

# C05 for corrected stays (version > 1): when their version 1 arrived. Few; probed by index.
CORRECTED_TIMELY = f"""
select c.tenant_id, c.hospital_id, count(*) as timely_corrected
from case_record c
join case_record f on f.tenant_id = c.tenant_id and f.hospital_id = c.hospital_id and f.list_id = c.list_id
                  and f.version = 1
where c.tenant_id = any(cast(:tenants as text[])) and {current_cases("c")} and c.version > 1
  and c.discharge_month between :start and :end and {arrived_in_time("f.created_at", "c.discharge_time")}
group by c.tenant_id, c.hospital_id
"""

# Reviews of the year's cases (by list id, the current version). Apart from the stays' pass: the
# review table's policy is not parallel-safe, and a handful of index probes is all it needs.
REVIEW_FIGURES = f"""
select c.tenant_id, c.hospital_id,
       count(*) as reviews,
       count(*) filter (where r.outcome is not null and r.state <> 'rejected') as reviews_decided,
       count(*) filter (where r.outcome in ('add_points', 'pay_by_item') and r.state <> 'rejected')
         as reviews_accepted
from special_review r
join case_record c on c.tenant_id = r.tenant_id and c.hospital_id = r.hospital_id and c.list_id = r.list_id
                  and {current_cases("c")} and c.discharge_month between :start and :end
where r.tenant_id = any(cast(:tenants as text[]))
group by c.tenant_id, c.hospital_id
"""

# The tenant's latest points run of the year and of last year (highest through_month, then version).
POINT_FIGURES = f"""
with run as (
    {latest_points_runs("tenant_id = any(cast(:tenants as text[])) and year in (:year, :year - 1)")}
)
select p.tenant_id, p.hospital_id, run.year,
       count(*) as run_cases,
       count(*) filter (where p.type = 'high_outlier') as high_outliers,
       count(*) filter (where p.type = 'low_outlier') as low_outliers,
       count(*) filter (where p.type = 'itemized') as itemized,
       sum(p.points) as points, sum(p.original) as original, sum(p.deduction) as deducted,
       coalesce(sum(p.original) filter (where p.points = 0 and v.id is not null), 0) as withdrawn
from case_point p
join run on run.tenant_id = p.tenant_id and run.id = p.run_id
left join case_violation v on v.tenant_id = p.tenant_id and v.hospital_id = p.hospital_id and v.list_id = p.list_id
group by p.tenant_id, p.hospital_id, run.year
"""

LAST_YEAR_FIGURES = f"""
select c.tenant_id, c.hospital_id, count(*) as last_cases, sum(c.total_cost) as last_cost
from case_record c
where c.tenant_id = any(cast(:tenants as text[])) and {current_cases("c")}
  and c.discharge_month between :last_start and :last_end
group by c.tenant_id, c.hospital_id
"""

AUDIT_FIGURES = """
select tenant_id, hospital_id, sum(amount) as audit_deductions
from audit_deduction
where tenant_id = any(cast(:tenants as text[])) and year = :year
group by tenant_id, hospital_id
"""

# Batches finished (done or refused) in the year, China time. A hospital's own batch counts whole;
# a region's batch (hospital_id null) counts per row hospital what was recorded per hospital: the
# versions it created (accepted + corrected) as passed and sent, its refused rows as sent.
BATCH_FIGURES = f"""
with b as (
    select tenant_id, id, hospital_id, rows_accepted + rows_corrected + rows_unchanged as passed, rows_total
    from ingestion_batch
    where tenant_id = any(cast(:tenants as text[])) and status in ('done', 'refused')
      and created_at >= cast(:start as timestamp) at time zone {LOCAL}
      and created_at < cast(:next_start as timestamp) at time zone {LOCAL}
), parts as (
    select tenant_id, hospital_id, sum(passed) as passed, sum(rows_total) as sent
    from b where hospital_id is not null group by tenant_id, hospital_id
    union all
    -- One pass over the versions (any year) for every region batch at once: a hashed list of ids.
    select c.tenant_id, c.hospital_id, count(*), count(*)
    from case_record c
    where c.tenant_id = any(cast(:tenants as text[]))
      and c.batch_id = any(array(select id from b where hospital_id is null))
    group by c.tenant_id, c.hospital_id
    union all
    select e.tenant_id, e.row_hospital, 0, count(distinct (e.batch_id, e.row_no))
    from ingestion_error e join b on b.tenant_id = e.tenant_id and b.id = e.batch_id
    where b.hospital_id is null and e.row_hospital is not null
    group by e.tenant_id, e.row_hospital
)
select tenant_id, hospital_id, sum(passed) as rows_passed, sum(sent) as rows_total
from parts group by tenant_id, hospital_id
"""

HOSPITALS = """
select tenant_id, id, level from hospital where tenant_id = any(cast(:tenants as text[])) order by tenant_id, id
"""

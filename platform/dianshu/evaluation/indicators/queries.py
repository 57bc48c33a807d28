"""The set-wise statements behind the computed indicators: one pass over the year's cases into a
temporary table, then one GROUP BY per source (cases, hospital × DRG peers, points runs, last
year's cases, audit deductions, ingestion batches). Every statement runs under the caller's scope.

Parameters: :tenants text[]; :start, :end the year's first and last discharge months; :lookahead
the first instant after the 31-day readmission window of the year's last discharge; :map_tenants,
:map_versions, :map_standards the scheme version and payment standard in force per tenant."""

from __future__ import annotations

from dianshu.cases.current import current_cases
from dianshu.grouping.drg_codes import ambiguous_sql, no_group_sql

# China time (UTC+8) for "created in the year" and "arrived within 30 days".
LOCAL = "interval '+08:00'"

TEMP = "indicator_case"
WORK_MEM = "256MB"

CREATE_CASES = f"""
create temporary table {TEMP} on commit drop as
with m as (
    select * from unnest(cast(:map_tenants as text[]), cast(:map_versions as uuid[]),
                         cast(:map_standards as uuid[])) as m(tenant, version, standard)
)
select c.tenant_id, c.hospital_id, c.id as case_id, c.patient_id, c.admit_time, c.discharge_time,
       c.readmit_planned, c.discharge_month <= :end as in_year,
       g.drg,
       (g.drg is not null and not {no_group_sql("g.drg")}) as grouped,
       coalesce({ambiguous_sql("g.drg")}, false) as qy,
       cast(d.base_points / 100 as numeric(14, 6)) as rw, d.avg_cost,
       c.los_days as los, c.total_cost as cost, c.discharge_way as dw,
       c.own_pay, c.self_pay, c.fund_pay,
       c.charges[9] + c.charges[10] + c.charges[11] as drugs,
       c.charges[8] as materials,
       c.charges[3] + c.charges[4] as exam,
       coalesce(cardinality(c.procedures), 0) > 0 as has_proc,
       coalesce(c.proc_levels && cast(array[3, 4] as smallint[]), false) as major,
       case when c.proc_dates is not null
            then (select min(x) from unnest(c.proc_dates) x) - cast(c.admit_time as date) end as preop,
       cast((case when c.version = 1 then c.created_at
                  else (select v1.created_at from case_record v1
                        where v1.tenant_id = c.tenant_id and v1.hospital_id = c.hospital_id
                          and v1.list_id = c.list_id and v1.version = 1) end) at time zone {LOCAL} as date)
         - cast(c.discharge_time as date) <= 30 as timely,
       v.kind as violation, coalesce(v.serious, false) as serious,
       r.id is not null as reviewed,
       r.outcome is not null and r.state <> 'rejected' as review_decided,
       r.outcome in ('add_points', 'pay_by_item') and r.state <> 'rejected' as review_accepted
from case_record c
left join m on m.tenant = c.tenant_id
left join case_grouping g on g.tenant_id = c.tenant_id and g.case_id = c.id and g.version_id = m.version
left join payment_standard_drg d on d.standard_id = m.standard and d.drg = g.drg
left join case_violation v on v.tenant_id = c.tenant_id and v.hospital_id = c.hospital_id and v.list_id = c.list_id
left join special_review r on r.tenant_id = c.tenant_id and r.hospital_id = c.hospital_id and r.list_id = c.list_id
where c.tenant_id = any(cast(:tenants as text[])) and {current_cases("c")}
  and c.discharge_month >= :start and (c.discharge_month <= :end or c.admit_time < :lookahead)
"""

# Per hospital: everything that needs only the hospital's own cases, with each stay's next stay of
# the same patient at the same hospital (by admission) for the readmission indicators.
CASE_FIGURES = f"""
select tenant_id, hospital_id,
       count(*) as cases,
       count(*) filter (where first_stay) as patients,
       sum(cost) as cost, sum(los) as days,
       sum(own_pay) as own_pay, sum(self_pay) as self_pay, sum(fund_pay) as fund_pay,
       sum(drugs) as drugs, sum(materials) as materials, sum(exam) as exam,
       count(*) filter (where los <= 2) as short_stays,
       count(*) filter (where has_proc) as proc_cases,
       count(*) filter (where has_proc and major) as major_cases,
       sum(preop) as preop_days, count(preop) as preop_cases,
       count(*) filter (where timely) as timely,
       count(*) filter (where grouped) as grouped,
       count(*) filter (where qy) as qy,
       count(*) filter (where grouped and rw is not null) as weighed,
       sum(rw) filter (where grouped) as rw_sum,
       count(*) filter (where grouped and rw >= 2) as high_rw,
       sum(cost) filter (where grouped and rw is not null) as weighed_cost,
       sum(avg_cost) filter (where grouped and rw is not null) as expected_cost,
       count(*) filter (where grouped and right(drg, 1) in ('1', '3')) as cc_mcc,
       count(*) filter (where reviewed) as reviews,
       count(*) filter (where review_decided) as reviews_decided,
       count(*) filter (where review_accepted) as reviews_accepted,
       count(*) filter (where violation is not null) as violations,
       count(*) filter (where violation = 'no_indication') as no_indication,
       count(*) filter (where violation = 'split_admission') as split_admission,
       count(*) filter (where violation = 'upcoding') as upcoding,
       count(*) filter (where violation is not null and serious) as serious,
       count(*) filter (where next_admit is not null and not next_planned and grouped and next_drg = drg
                          and cast(next_admit as date) - cast(discharge_time as date) between 0 and 15)
         as readmit_15,
       count(*) filter (where next_admit is not null and not next_planned
                          and cast(next_admit as date) - cast(discharge_time as date) between 0 and 31)
         as readmit_31
from (select x.*, lead(admit_time) over w as next_admit, lead(drg) over w as next_drg,
             lead(readmit_planned) over w as next_planned,
             -- the patient's first stay of the year at the hospital (for distinct patients, in the same sort)
             in_year and count(*) filter (where in_year) over (w rows unbounded preceding) = 1 as first_stay
      from {TEMP} x
      -- Byte order ("C") for the sort: any consistent order of the keys will do, and it is the fastest.
      window w as (partition by tenant_id collate "C", hospital_id collate "C", patient_id collate "C"
                   order by admit_time, case_id)) s
where in_year
group by tenant_id, hospital_id
"""

# Per hospital, through its DRGs: peers are the hospitals of the same level among the tenants.
PEER_FIGURES = f"""
with hd as (
    select x.tenant_id, x.hospital_id, x.drg, count(*) as n, sum(x.los) as los,
           stddev_samp(x.cost) as sd, avg(x.cost) as mean,
           count(*) filter (where x.dw = 5) as deaths
    from {TEMP} x
    where x.in_year and x.grouped
    group by x.tenant_id, x.hospital_id, x.drg
), hdl as (
    select hd.*, h.level from hd join hospital h on h.tenant_id = hd.tenant_id and h.id = hd.hospital_id
), peer as (
    select level, drg, sum(los) / cast(sum(n) as numeric) as avg_los,
           sum(deaths) / cast(sum(n) as numeric) as mortality
    from hdl group by level, drg
), risk as (
    select level, drg, avg_los, mortality,
           avg(mortality) over (partition by level) as mean_mortality,
           stddev_pop(mortality) over (partition by level) as sd_mortality
    from peer
)
select hd.tenant_id, hd.hospital_id,
       count(*) as drgs,
       sum(hd.los) as peer_days,
       sum(hd.n * r.avg_los) as expected_days,
       sum(hd.n * hd.sd / hd.mean) filter (where hd.n >= 5 and hd.mean > 0) as cv_sum,
       sum(hd.n) filter (where hd.n >= 5 and hd.mean > 0) as cv_cases,
       sum(hd.deaths) filter (where r.mortality < r.mean_mortality - r.sd_mortality) as low_deaths,
       sum(hd.n) filter (where r.mortality < r.mean_mortality - r.sd_mortality) as low_cases,
       sum(hd.deaths) filter (where r.mortality > r.mean_mortality + r.sd_mortality) as high_deaths,
       sum(hd.n) filter (where r.mortality > r.mean_mortality + r.sd_mortality) as high_cases
from hdl hd join risk r on r.level = hd.level and r.drg = hd.drg
group by hd.tenant_id, hd.hospital_id
"""

# The tenant's latest points run of the year and of last year (highest through_month, then version).
POINT_FIGURES = """
with run as (
    select distinct on (tenant_id, year) tenant_id, id, year
    from points_run
    where tenant_id = any(cast(:tenants as text[])) and year in (:year, :year - 1)
    order by tenant_id, year, through_month desc, version desc
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
    select c.tenant_id, c.hospital_id, count(*), count(*)
    from case_record c join b on b.tenant_id = c.tenant_id and b.id = c.batch_id
    where b.hospital_id is null
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

"""Case features of the anomaly model, read in one SQL query straight into numpy arrays (COPY of the
query in PostgreSQL's binary format, every column fixed-width and never null, read with one
np.frombuffer: no per-row Python objects).

Per current, active case discharged in the year and grouped under the scheme version:
  cost_ratio        total cost / the DRG's average cost in the payment standard (its avg_cost_all when
                    the standard has no such DRG: ungroupable, QY, a DRG it does not price)
  los_ratio         LOS / the mean LOS of the DRG over the run's cases of the scheme version
  mcc_count         MCCs the grouper counted (case_grouping.mcc)
  cc_count          CCs the grouper counted (case_grouping.cc)
  complication_mix  mcc_count / (mcc_count + cc_count), 0 without either
  readmission_gap   days from the patient's previous discharge (same region, any hospital) to this
                    admission, at least 0, at most the cap; the cap when there is none
  drug_share        western + TCM herbal + TCM patent drugs (charges 9-11) / total cost
  materials_share   medical materials (charge 8) / total cost
  exam_lab_share    examination + laboratory (charges 3-4) / total cost
  own_pay_share     own-pay (自费) / total cost"""

from __future__ import annotations

import datetime
import io
import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np

from dianshu.cases.current import current_cases

FEATURES = (
    "cost_ratio",
    "los_ratio",
    "mcc_count",
    "cc_count",
    "complication_mix",
    "readmission_gap",
    "drug_share",
    "materials_share",
    "exam_lab_share",
    "own_pay_share",
)


def _share(expr: str) -> str:
    return f"coalesce(({expr}) / nullif(y.total_cost, 0), 0)::float8"


def _charge(i: int) -> str:
    return f"coalesce(y.charges[{i}], 0)"


# $1 tenants (text[]), $2 scheme version, $3 standard, $4 avg_cost_all, $5 first day of the year's
# discharge months, $6 its last discharge month, $7 the look-back start (for the previous discharge),
# $8 the gap cap in days.
FEATURES_SQL = f"""
with stays as (
  select c.tenant_id, c.id, c.admit_time, c.discharge_month, c.los_days, c.total_cost, c.own_pay, c.charges,
         lag(c.discharge_time) over (partition by c.tenant_id, c.patient_id order by c.admit_time, c.id)
           as previous_discharge
  from case_record c
  where c.tenant_id = any($1::text[]) and {current_cases("c")} and c.discharge_month between $7::date and $6::date
),
y as (
  select s.*, g.drg, cardinality(g.mcc) as n_mcc, cardinality(g.cc) as n_cc,
         avg(s.los_days) over (partition by g.drg) as drg_los,
         dense_rank() over (order by g.drg) as drg_key  -- the same sort as the line above
  from stays s join case_grouping g on g.tenant_id = s.tenant_id and g.case_id = s.id and g.version_id = $2::uuid
  where s.discharge_month >= $5::date
)
select y.id::int8,
       array_position($1::text[], y.tenant_id::text)::int4,
       y.drg_key::int8,
       (y.total_cost / coalesce(d.avg_cost, $4::numeric))::float8,
       coalesce(y.los_days / nullif(y.drg_los, 0), 1)::float8,
       y.n_mcc::float8,
       y.n_cc::float8,
       case when y.n_mcc + y.n_cc > 0 then y.n_mcc::float8 / (y.n_mcc + y.n_cc) else 0 end::float8,
       least(greatest(coalesce(y.admit_time::date - y.previous_discharge::date, $8::int), 0), $8::int)::float8,
       {_share(f"{_charge(9)} + {_charge(10)} + {_charge(11)}")},
       {_share(_charge(8))},
       {_share(f"{_charge(3)} + {_charge(4)}")},
       {_share("y.own_pay")}
from y
left join payment_standard_drg d on d.standard_id = $3::uuid and d.drg = y.drg
"""

# COPY binary: an 11-byte signature, 4 bytes of flags, a 4-byte header extension length (and the
# extension); each row an int16 field count, then per field an int32 length and the value
# (big-endian); an int16 -1 at the end.
SIGNATURE = b"PGCOPY\n\xff\r\n\x00"
ROW = np.dtype(
    [("n", ">i2"), ("l_id", ">i4"), ("id", ">i8"), ("l_t", ">i4"), ("tenant", ">i4"), ("l_g", ">i4"), ("group", ">i8")]
    + [x for f in FEATURES for x in ((f"l_{f}", ">i4"), (f, ">f8"))]
)


@dataclass
class Features:
    ids: np.ndarray  # case ids (int64), by tenant then id
    tenants: np.ndarray  # 1-based index into the run's tenants (int32)
    groups: np.ndarray  # the DRG, as 0..G-1 in code order (int64)
    X: np.ndarray  # n × len(FEATURES), float64

    def __len__(self) -> int:
        return len(self.ids)


def parse_binary(data: bytes) -> Features:
    if not data.startswith(SIGNATURE):
        raise ValueError("not a PostgreSQL binary COPY")
    ext = int.from_bytes(data[15:19], "big")
    start = 19 + ext
    body = len(data) - start - 2
    if body % ROW.itemsize:
        raise ValueError("binary COPY rows are not of the expected fixed width (a null or another type)")
    rec = np.frombuffer(data, dtype=ROW, offset=start, count=body // ROW.itemsize)
    if len(rec) and (np.any(rec["n"] != 3 + len(FEATURES)) or np.any(rec["l_id"] != 8)):
        raise ValueError("binary COPY rows are not of the expected shape")
    # By case id (ids are unique within a tenant; tenant then id): the same cases always reach the
    # model in the same order, whatever order the query returned them in.
    order = np.lexsort((rec["id"], rec["tenant"]))
    rec = rec[order]
    X = np.empty((len(rec), len(FEATURES)), dtype=np.float64)
    for j, f in enumerate(FEATURES):
        X[:, j] = rec[f]
    return Features(
        ids=rec["id"].astype(np.int64),
        tenants=rec["tenant"].astype(np.int32),
        groups=rec["group"].astype(np.int64) - 1,
        X=X,
    )


async def load_features(
    pg: Any,
    tenants: list[str],
    version: uuid.UUID,
    standard: uuid.UUID,
    avg_cost_all: Decimal,
    year: int,
    gap_cap_days: int,
) -> Features:
    """The year's features of `tenants` through the asyncpg connection `pg` (the job's transaction:
    its scope applies)."""
    first = datetime.date(year, 1, 1)
    lookback = first - datetime.timedelta(days=gap_cap_days + 31)
    buf = io.BytesIO()
    await pg.copy_from_query(
        FEATURES_SQL,
        tenants,
        version,
        standard,
        avg_cost_all,
        first,
        datetime.date(year, 12, 1),
        lookback,
        gap_cap_days,
        output=buf,
        format="binary",
    )
    return parse_binary(buf.getvalue())

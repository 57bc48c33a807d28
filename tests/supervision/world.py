"""A small supervision world, built through the real paths (roster, ingestion, grouping under ZJ-DRG,
the published standard of tests/settlement/world.py: ES23 avg cost 8,000).

Region A: hospitals a1..a5 of level 2 and a6 of level 3; region B: b1 of level 2. All stays are
pneumonia (J18.900, 8,000 yuan, self-pay 1,500); a secondary I10.x00x002 is a CC (ZJ-DRG ES23), a
secondary A49.100x005 an MCC (ES21), none: ES25. ES2 is a split ADRG; ES21 is on the policy's
error-prone list, so the error-prone share is ES21's share of the ES2 cases."""

from __future__ import annotations

import datetime
import itertools
import uuid
from dataclasses import dataclass
from decimal import Decimal

from dianshu.cases.layout import CHARGE_COLUMNS
from dianshu.db.session import Database, scoped_session
from dianshu.grouping.service import GROUP_CASES
from dianshu.scope import Role, Scope
from tests.cases.rows import csv_bytes, row
from tests.cases.test_ingestion import send
from tests.conftest import _code, scope_for
from tests.settlement.world import publish_standard, run_job

DX = {"none": "J18.900", "cc": "J18.900|I10.x00x002", "mcc": "J18.900|A49.100x005"}


@dataclass
class World:
    city: str
    a: str
    b: str
    hospitals: dict[str, str]  # name (a1 ... a6, b1) -> code

    def __getattr__(self, name: str) -> str:
        try:
            return self.__dict__["hospitals"][name]
        except KeyError:
            raise AttributeError(name) from None

    @property
    def tenants(self) -> tuple[str, ...]:
        return (self.city, self.a, self.b)


async def provision(owner_db: Database, db: Database, levels_a=(2, 2, 2, 2, 2, 3), levels_b=(2,)) -> World:
    from dianshu.tenancy.service import upsert_hospitals, validate_roster
    from dianshu_tenants.provisioning import ensure_tenants

    city, a, b = _code(), _code(), _code()
    await ensure_tenants(owner_db, (city, f"City {city}"), [(a, f"Region {a}"), (b, f"Region {b}")])
    hospitals = {}
    for tenant, prefix, levels in ((a, "a", levels_a), (b, "b", levels_b)):
        roster = []
        for i, level in enumerate(levels, start=1):
            code = f"H{tenant}{i:05d}"
            hospitals[f"{prefix}{i}"] = code
            roster.append({"id": code, "name": f"Hospital {prefix}{i}", "level": level, "type": "general"})
        async with scoped_session(db, Scope.system((tenant,))) as s:
            await upsert_hospitals(s, validate_roster(tenant, roster))
    return World(city, a, b, hospitals)


_LIST = itertools.count(1)


def stay(
    hospital: str,
    discharged: datetime.date,
    *,
    los: int = 5,
    dx: str = "none",
    own: int = 500,
    patient: str | None = None,
    total: int = 8000,
    list_id: str | None = None,
    scale: Decimal | int = 1,
    **over,
) -> dict[str, str]:
    """A pneumonia stay discharged on `discharged` at 10:00 after `los` days; own-pay `own` yuan."""
    lid = list_id or f"S{next(_LIST)}"
    admitted = discharged - datetime.timedelta(days=los)
    n = len(DX[dx].split("|"))
    r = row(
        lid,
        hospital,
        psn_no=patient or f"P{lid}",
        adm_time=f"{admitted} 09:00",
        dscg_time=f"{discharged} 10:00",
        act_ipt_days=str(los),
        diag_codes=DX[dx],
        adm_cond_types="|".join(["1"] * n),
        psn_ownpay=f"{own}.00",
        fund_pay_sumamt=f"{total - 1500 - own}.00",
        psn_selfpay="1500.00",
        **over,
    )
    if total != 8000:  # the extra cost goes to western drugs (med_chrgitm_09, 3,800.00 in the base row)
        r["med_chrgitm_09"] = f"{total - 4200}.00"
        r["medfee_sumamt"] = f"{total}.00"
    if scale != 1:  # every charge and payment × scale: the same shares, total 8,000 × scale
        for k in (*CHARGE_COLUMNS, "medfee_sumamt", "fund_pay_sumamt", "psn_selfpay", "psn_ownpay"):
            r[k] = str((Decimal(r[k]) * scale).quantize(Decimal("0.01")))
    return r


async def load(db: Database, tenant: str, rows: list[dict[str, str]], zj: uuid.UUID, months=("2023-01", "2025-12")):
    """Ingest `rows` into `tenant` and group its cases of `months` under ZJ-DRG; returns the region admin."""
    region = scope_for(Role.region_admin, (tenant,))
    _, outcome, result, batch = await send(db, region, tenant, csv_bytes(rows), f"w-{uuid.uuid4()}")
    assert outcome == "succeeded" and batch.rows_refused == 0, result
    await run_job(db, region, tenant, GROUP_CASES, {"from": months[0], "to": months[1], "versions": [str(zj)]})
    return region


async def standard(db: Database, w: World, zj: uuid.UUID) -> uuid.UUID:
    return await publish_standard(db, w, zj)  # only .city and .tenants are read


# Base points of the world's three DRGs for the rules that read relative weights (RW = base points /
# 100): ES21 (MCC) 2, ES23 (CC) 1, ES25 (none) 0.5; each at 8,000 yuan, so a world stay is a normal case.
WEIGHTS = {"ES21": 200, "ES23": 100, "ES25": 50}


async def weighted_standard(db: Database, w: World, zj: uuid.UUID, weights: dict[str, int] = WEIGHTS) -> uuid.UUID:
    """The city's payment standard under `zj`, in force from 2025-01-01, with `weights` (base points)."""
    from dianshu.standards.models import PaymentStandard, PaymentStandardDrg
    from dianshu.standards.service import publish_payment_standard

    async with scoped_session(db, scope_for(Role.city_admin, w.tenants)) as s:
        std = PaymentStandard(
            city_code=w.city,
            scheme_version_id=zj,
            label=f"weighted {w.city}",
            avg_cost_all=Decimal("8000.00"),
            source="import",
            parameters={},
            created_by="tests",
        )
        s.add(std)
        await s.flush()
        for drg, points in weights.items():
            s.add(
                PaymentStandardDrg(standard_id=std.id, drg=drg, cases=100, avg_cost=Decimal(8000), base_points=points)
            )
        await s.flush()
        await publish_payment_standard(s, std.id, datetime.date(2025, 1, 1))
        return std.id

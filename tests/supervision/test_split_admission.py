"""The split-admission rule (分解住院, SPEC section 9; supervision/rules/cases.py) on hand-made pairs of
stays sent through ingestion and grouped under ZJ-DRG: where its window ends, and each condition that
keeps a readmission out (planned, exempt ADRG, another DRG and ADRG, another hospital, another
patient), with the policy's parameter moving the window.

The rule pairs a stay with the same patient's previous stay at the same hospital (by admission) and
finds the pair when gap = the readmission's admission date − the first stay's discharge date is
0 ≤ gap ≤ supervision_split_days (15) with the same DRG or ADRG, not planned, not an exempt ADRG; or
supervision_split_gap_min_days ≤ gap ≤ supervision_split_gap_max_days (1–2) whatever the group.

Every first stay below is admitted 2025-03-01 09:00 for 5 days: discharged 2025-03-06 10:00, so a
readmission admitted 2025-03-06 + g days is g days after. As grouped (checked below): J18.900 with
the CC I10.x00x002 → ES23 (ADRG ES2), J18.900 alone → ES25 (ES2 too), K29.700 → GW15 (GW1),
Z51.101 (chemotherapy) → RU15 (RU1, on the policy's exempt list)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal as D

from sqlalchemy import text

from dianshu.db.session import scoped_session
from dianshu.scope import Scope
from dianshu.settlement.runs import policies
from tests.cases.rows import row
from tests.supervision.helpers import findings, supervise
from tests.supervision.test_rules import load
from tests.test_standards_db import builtin_versions  # noqa: F401

PNEUMONIA_CC = "J18.900|I10.x00x002"  # ES23
PNEUMONIA = "J18.900"  # ES25: the same ADRG (ES2), another DRG
GASTRITIS = "K29.700"  # GW15: another ADRG and DRG
CHEMO = "Z51.101"  # RU15: chemotherapy, exempt
FIRST = date(2025, 3, 1)
DISCHARGED = FIRST + timedelta(days=5)  # 2025-03-06


def stay(list_id, hospital, patient, start, *, los=5, dx=PNEUMONIA_CC, planned=False):
    """A stay admitted `start` 09:00 for `los` days (discharged 10:00), its diagnoses, the planned-
    readmission flag (days_rinp_flag_31)."""
    return row(
        list_id,
        hospital,
        psn_no=patient,
        adm_time=f"{start.isoformat()} 09:00",
        dscg_time=f"{(start + timedelta(days=los)).isoformat()} 10:00",
        act_ipt_days=str(los),
        diag_codes=dx,
        adm_cond_types="|".join("1" for _ in dx.split("|")),
        days_rinp_flag_31="1" if planned else "0",
    )


def pair(tag, hospital, gap, *, dx=PNEUMONIA_CC, dx2=None, planned=False, hospital2=None, patient2=None):
    """A first stay `tag`-1 and a readmission `tag`-2 admitted `gap` days after its discharge."""
    return [
        stay(f"{tag}-1", hospital, f"P{tag}", FIRST, dx=dx),
        stay(
            f"{tag}-2",
            hospital2 or hospital,
            patient2 or f"P{tag}",
            DISCHARGED + timedelta(days=gap),
            dx=dx2 or dx,
            planned=planned,
        ),
    ]


async def _split(db, city):
    """{(hospital, (first, readmission)): finding} of the split-admission rule."""
    return {(f.hospital_id, tuple(c)): f for f, c in await findings(db, (city.a,), "split_admission")}


async def _drgs(db, city, zj):
    async with scoped_session(db, Scope.system((city.a,))) as s:
        rows = await s.execute(
            text("""select r.list_id, g.drg, g.adrg from case_record r join case_grouping g
                    on g.tenant_id = r.tenant_id and g.case_id = r.id and g.version_id = :v
                    where r.tenant_id = :t"""),
            {"v": zj, "t": city.a},
        )
        return {lid: (drg, adrg) for lid, drg, adrg in rows}


async def test_the_split_window_and_what_keeps_a_readmission_out(db, city, dispatcher, builtin_versions):  # noqa: F811
    zj = builtin_versions["zhejiang_2022"]
    rows = [
        # Same DRG (ES23 → ES23), not planned, at a1: gap 14 and gap 15 are within 0 ≤ gap ≤ 15 (the
        # window includes its last day): found, figure the gap, threshold 15; gap 16 is past it and
        # not 1–2: not found.
        *pair("D14", city.a1, 14),
        *pair("D15", city.a1, 15),
        *pair("D16", city.a1, 16),
        # Planned (flag 1), gap 10: the 15-day variant needs "not planned"; 10 is not 1–2: not found.
        *pair("PL", city.a1, 10, planned=True),
        # Planned but 2 days after: the 1–2-day variant takes any readmission: found, figure 2,
        # threshold 2 (gap_max), variant short_gap only (planned, so not same_group).
        *pair("PL2", city.a1, 2, planned=True),
        # Chemotherapy twice (RU15 → RU15), gap 10, not planned: RU1 is exempt: not found.
        *pair("EX", city.a1, 10, dx=CHEMO),
        # ES23 → GW15, gap 10: neither the same DRG nor the same ADRG: not found.
        *pair("DG", city.a1, 10, dx2=GASTRITIS),
        # ES23 → ES25, gap 10: another DRG but the same ADRG (ES2), which is enough: found.
        *pair("SA", city.a1, 10, dx2=PNEUMONIA),
        # Same DRG, gap 10, but readmitted to a2: the rule keeps to one hospital: not found.
        *pair("XH", city.a1, 10, hospital2=city.a2),
        # Same DRG, gap 10, same hospital but another patient: not found.
        *pair("XP", city.a1, 10, patient2="PXP-other"),
    ]
    region = await load(db, city, zj, rows)
    groups = await _drgs(db, city, zj)
    assert {k: groups[k][0] for k in ("D14-1", "D14-2", "EX-2", "DG-2", "SA-2")} == {
        "D14-1": "ES23",
        "D14-2": "ES23",
        "EX-2": "RU15",
        "DG-2": "GW15",
        "SA-2": "ES25",
    }
    await supervise(db, region, city.a, version=str(zj))
    got = await _split(db, city)
    assert set(got) == {
        (city.a1, ("D14-1", "D14-2")),
        (city.a1, ("D15-1", "D15-2")),
        (city.a1, ("PL2-1", "PL2-2")),
        (city.a1, ("SA-1", "SA-2")),
    }

    def ev(tag):
        f = got[(city.a1, (f"{tag}-1", f"{tag}-2"))]
        return f.figure, f.threshold, f.unit, f.evidence["variant"], f.evidence["readmission"]

    assert ev("D14") == (D(14), D(15), "days", "same_group", "D14-2")
    assert ev("D15") == (D(15), D(15), "days", "same_group", "D15-2")
    assert ev("PL2") == (D(2), D(2), "days", "short_gap", "PL2-2")
    assert got[(city.a1, ("PL2-1", "PL2-2"))].evidence["planned"] is True
    assert ev("SA") == (D(10), D(15), "days", "same_group", "SA-2")
    assert got[(city.a1, ("SA-1", "SA-2"))].evidence["first_drg"] == "ES23"


async def test_the_policy_moves_the_window(db, city, dispatcher, builtin_versions):  # noqa: F811
    zj = builtin_versions["zhejiang_2022"]
    # Same DRG, not planned, at a1, gaps 7, 8 and 14. With supervision_split_days = 7 only gap 7 is in
    # 0 ≤ gap ≤ 7 (none is 1–2): one finding, threshold 7. With the default 15 all three would be.
    rows = [*pair("W7", city.a1, 7), *pair("W8", city.a1, 8), *pair("W14", city.a1, 14)]
    region = await load(db, city, zj, rows)
    async with scoped_session(db, region) as s:
        await policies.set_region_policy(
            s, region, city.city, city.a, 2025, "all", {"supervision_split_days": 7}, "a one-week window"
        )
    await supervise(db, region, city.a, version=str(zj))
    got = await _split(db, city)
    assert set(got) == {(city.a1, ("W7-1", "W7-2"))}
    f = got[(city.a1, ("W7-1", "W7-2"))]
    assert (f.figure, f.threshold, f.evidence["variant"]) == (D(7), D(7), "same_group")

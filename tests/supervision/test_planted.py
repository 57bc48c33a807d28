"""On a generated city year with planted patterns (synthetic/city.py: split admissions readmitted 1–2
days after discharge, readmissions 3–14 days after, a fifth of them planned, two upcoding hospitals
adding MCCs, short low-standard stays) and confounders (GenerateOptions.confounders: readmissions the
split rule must leave alone), the rules find at least 90% of what was planted with under 10% of their
findings false. The generator's truth file (GenerateOptions.truth) names what it planted; the test
prints the figures it measured.

Split admission. A finding is true only when it pairs two stays of one planted chain (a first stay,
its splits and readmissions: one patient at one hospital) that SPEC section 9 calls a split
(split_truth: 1–2 days apart, or within 15 days to the same DRG or ADRG, not planned, not exempt);
any other finding is false: a chain pair whose later stay is planned, exempt or ungroupable, or a
confounder: a planned readmission to the same DRG 3–15 days after, an unplanned one to another ADRG
of the same MDC, one to an exempt ADRG (chemotherapy, radiotherapy, dialysis), one 16 or more days
after, one to another hospital. Each of those kinds is checked on its own to be flagged never, so
the test fails when any one condition leaves the rule (tried: without `not readmit_planned`, without
the same DRG or ADRG, without the exempt list, a window of 16 days, a partition without the
hospital: each fails here; test_split_admission.py has the hand-made cases).

For low-standard admission, a planted low-standard stay (or a readmission copied from one, which
keeps its profile) is true; for the MCC/CC upcoding signal, a planted upcoding hospital.

Measured (seed 11, 2023, 12,000 stays and 5 × 27 confounder pairs):
  split admission: 342 pairs to find, 61 of them planted 1–2-day splits; 342 findings; recall
    100.0% (the splits 100.0%), precision 100.0% (0 false); the 1–2-day variant 64 findings, all
    true, 61 planted splits (95.3%; the other 3 are two readmissions of one stay 1–2 days apart);
    left alone and not flagged: in the chains 86 planned, 7 exempt, 5 ungroupable pairs; 27
    confounders of each kind;
  low-standard: 50 planted, 50 found, recall 100.0%, precision 100.0%;
  upcoding (MCC/CC share): 2 hospitals planted, the same 2 flagged: recall 100.0%, precision 100.0%."""

from __future__ import annotations

import json
import time
from datetime import date
from itertools import pairwise

from sqlalchemy import text

from dianshu.db.session import scoped_session
from dianshu.grouping.drg_codes import ungroupable_or_ambiguous
from dianshu.grouping.service import GROUP_CASES
from dianshu.jobs import service as jobs
from dianshu.scope import Role, Scope
from dianshu.settlement.arithmetic.policy import Policy
from dianshu.synthetic.city import CONFOUNDERS, GenerateOptions, generate_city
from dianshu.tenancy import pilot
from dianshu.tenancy.jobs import IMPORT_HOSPITALS
from dianshu_tenants.provisioning import ensure_tenants
from tests.cases.test_ingestion import send
from tests.settlement.world import run_job
from tests.supervision.helpers import findings, supervise
from tests.test_standards_db import builtin_versions  # noqa: F401

YEAR = 2023  # list ids start with the year: apart from the demo's 2025 when both share a database
STAYS = 12_000
CONFOUNDERS_PER_KIND = 3  # per region: 27 pairs of each kind in the city
CITY = pilot.CITY[0]
REGIONS = [c for c, _, _ in pilot.REGIONS]


async def _provision(db, owner_db):
    await ensure_tenants(owner_db, pilot.CITY, [(c, n) for c, n, _ in pilot.REGIONS])
    by_region: dict[str, list[dict]] = {}
    for h in pilot.hospitals(150):
        by_region.setdefault(h.tenant_id, []).append(
            {
                "id": h.id,
                "name": h.name,
                "level": h.level,
                "type": h.type,
                "coefficient": "1.0",
                "alliance_id": h.alliance_id,
            }
        )
    for code, rows in by_region.items():
        # The demo's own key and parameters: one roster job per region whichever runs first.
        key = f"demo-roster-{code}-{jobs.params_hash({'hospitals': rows})[:16]}"
        scope = Scope(Role.region_admin, (code,), all_hospitals=True, actor=f"demo@{code}")
        async with scoped_session(db, scope) as s:
            job, _ = await jobs.submit(s, db, scope, code, IMPORT_HOSPITALS, {"hospitals": rows}, idempotency_key=key)
        await jobs.execute(db, code, job.id)


def _pct(part: int, whole: int) -> float:
    return 100.0 * part / whole if whole else 100.0


def _day(t: str) -> date:
    return date.fromisoformat(t[:10])


def split_truth(truth: dict, group: dict, exempt: set[str]) -> tuple[set, set, dict[str, set]]:
    """From the generator's chains (a first stay, its planted splits and readmissions: one patient at
    one hospital) the pairs the split rule must find, and the chain pairs it must leave alone.

    The rule pairs each stay with the patient's previous one at the hospital by admission time, so a
    chain's stays are taken in that order (a readmission that would fall in the next year was put
    before its first stay; a stay readmitted twice gives a pair of its two readmissions). A pair
    (x, y) must be found when y is admitted gap = y's admission date − x's discharge date days after
    with 1 ≤ gap ≤ 2 (the 1–2-day variant, whatever else), or with 0 ≤ gap ≤ 15 when y is not flagged
    planned and, as grouped (`group`: (DRG, ADRG) by stay), both are in a real DRG (not 0000 or QY),
    the same DRG or ADRG (a readmission copies its first stay's codes, so nearly always), and y's
    ADRG is not exempt. Returned: (must find, of which planted 1–2-day splits, the pairs 3–15 days
    apart to leave alone by why: planned, exempt, no_group, other_group)."""
    times, planned = truth["times"], truth["planned"]
    chains: dict[tuple[str, str], list[str]] = {}
    for h, a, b in truth["split_admission"] + truth["readmission"]:
        chains.setdefault((h, a), [a]).append(b)
    must: set = set()
    alone: dict[str, set] = {"planned": set(), "exempt": set(), "no_group": set(), "other_group": set()}
    for (h, _), chain in chains.items():
        order = sorted(chain, key=lambda x: times[h][x][0])
        # Two stays of one chain admitted at the same hour would be ordered by case id: none are here.
        assert len({times[h][x][0] for x in order}) == len(order), (h, order)
        for x, y in pairwise(order):
            gap = (_day(times[h][y][0]) - _day(times[h][x][1])).days
            pair = (h, *sorted((x, y)))
            (drg_x, adrg_x), (drg_y, adrg_y) = group[(h, x)], group[(h, y)]
            if 1 <= gap <= 2:
                must.add(pair)
            elif not 0 <= gap <= 15:
                continue
            elif (h, y) in planned:
                alone["planned"].add(pair)
            elif ungroupable_or_ambiguous(drg_x) or ungroupable_or_ambiguous(drg_y):
                alone["no_group"].add(pair)
            elif drg_x != drg_y and adrg_x != adrg_y:
                alone["other_group"].add(pair)
            elif adrg_y in exempt:
                alone["exempt"].add(pair)
            else:
                must.add(pair)
    splits = {(h, *sorted((a, b))) for h, a, b in truth["split_admission"]}
    return must, splits, alone


async def _groups(db, tenants, version, stays) -> dict[tuple[str, str], tuple[str, str]]:
    """(DRG, ADRG) of each (hospital, list id) as the grouping job put it."""
    async with scoped_session(db, Scope.system(tuple(tenants))) as s:
        rows = await s.execute(
            text("""select r.hospital_id, r.list_id, g.drg, g.adrg from case_record r
                    join case_grouping g on g.tenant_id = r.tenant_id and g.case_id = r.id and g.version_id = :v
                    where r.list_id = any(:lists)"""),
            {"v": version, "lists": sorted({lid for _, lid in stays})},
        )
        return {(h, lid): (drg, adrg) for h, lid, drg, adrg in rows if (h, lid) in stays}


async def test_the_rules_find_the_planted_patterns(db, owner_db, tmp_path, dispatcher, builtin_versions):  # noqa: F811
    zj = str(builtin_versions["zhejiang_2022"])
    out = tmp_path / "city"
    opts = GenerateOptions(
        years=(YEAR,), stays_per_year=STAYS, seed=11, processes=2, truth=True, confounders=CONFOUNDERS_PER_KIND
    )
    generate_city(out, opts)
    await _provision(db, owner_db)
    truth: dict = {"split_admission": [], "readmission": [], "planned": set(), "times": {}}
    truth |= {"low_standard": [], "ls_copy": [], "confounders": {k: [] for k in CONFOUNDERS}}
    upcoders: set[str] = set()
    for code in REGIONS:
        scope = Scope(Role.region_admin, (code,), all_hospitals=True, actor=f"test@{code}")
        data = (out / str(YEAR) / f"{code}.csv.gz").read_bytes()
        _, outcome, _, batch = await send(db, scope, code, data, f"planted-{YEAR}-{code}", filename=f"{code}.csv.gz")
        assert outcome == "succeeded" and batch.rows_refused == 0
        await run_job(db, scope, code, GROUP_CASES, {"from": f"{YEAR}-01", "to": f"{YEAR}-12", "versions": [zj]})
        t = json.loads((out / str(YEAR) / f"{code}.truth.json").read_text())
        truth["split_admission"] += [tuple(x) for x in t["split_admission"]]
        truth["readmission"] += [(h, a, b) for h, a, b, _ in t["readmission"]]
        truth["planned"] |= {(h, b) for h, _, b, planned in t["readmission"] if planned}
        truth["times"] |= t["times"]  # hospital codes are unique city-wide
        truth["low_standard"] += [tuple(x) for x in t["low_standard"]]
        truth["ls_copy"] += [tuple(x) for x in t["low_standard_readmission"]]
        for kind, pairs in t["confounders"].items():
            truth["confounders"][kind] += [tuple(x) for x in pairs]
        upcoders = set(t["upcoding_hospitals"])

    # The confounders are what they say as grouped: one real DRG for both stays, an exempt ADRG for
    # the exempt ones, two ADRGs for other_group (else a check below could pass for the wrong reason).
    conf = truth["confounders"]
    assert {k: len(v) for k, v in conf.items()} == {k: CONFOUNDERS_PER_KIND * len(REGIONS) for k in CONFOUNDERS}
    stays = {(h, lid) for pairs in conf.values() for h1, a, h2, b, _ in pairs for h, lid in ((h1, a), (h2, b))}
    group = await _groups(db, REGIONS, zj, stays)
    assert len(group) == len(stays)
    exempt = set(Policy().readmission_exempt_adrgs)
    for kind, pairs in conf.items():
        for h1, a, h2, b, gap in pairs:
            (drg1, adrg1), (drg2, adrg2) = group[(h1, a)], group[(h2, b)]
            assert not ungroupable_or_ambiguous(drg1) and not ungroupable_or_ambiguous(drg2), (kind, a, b)
            assert (adrg1 != adrg2) if kind == "other_group" else (drg1 == drg2), (kind, a, b, drg1, drg2)
            assert (adrg2 in exempt) == (kind == "exempt"), (kind, a, b, adrg2)
            assert (3 <= gap <= 15) if kind != "long_gap" else (gap >= 16), (kind, gap)
            assert (h1 != h2) == (kind == "other_hospital"), (kind, h1, h2)
    assert 16 in {gap for *_, gap in conf["long_gap"]}  # the first day past the window is among them

    city = Scope(Role.city_admin, (CITY, *REGIONS), all_hospitals=True, actor="test@city")
    started = time.monotonic()
    result = await supervise(db, city, CITY, year=YEAR, version=zj)
    seconds = time.monotonic() - started
    got = await findings(db, REGIONS)
    by_rule: dict[str, list] = {}
    for f, cases in got:
        by_rule.setdefault(f.rule, []).append((f, cases))

    # Split admission. Pairs (hospital, list id, list id); a list id is unique per hospital only.
    chain_stays = {(h, x) for h, a, b in truth["split_admission"] + truth["readmission"] for x in (a, b)}
    must, planted_split, alone = split_truth(truth, await _groups(db, REGIONS, zj, chain_stays), exempt)
    split_findings = by_rule.get("split_admission", [])
    found_split = {(f.hospital_id, *cases) for f, cases in split_findings}
    in_split = {(f.hospital_id, lid) for f, cases in split_findings for lid in cases}
    split_recall = _pct(len(planted_split & found_split), len(planted_split))
    must_recall = _pct(len(must & found_split), len(must))
    false_pairs = sorted(found_split - must)
    split_precision = _pct(len(found_split) - len(false_pairs), len(found_split))
    short_gap = {(f.hospital_id, *c) for f, c in split_findings if "short_gap" in f.evidence["variant"]}
    short_gap_precision = _pct(len(short_gap & must), len(short_gap))
    short_gap_planted = _pct(len(short_gap & planted_split), len(short_gap))
    # Every confounder stay a split finding names, by kind; and the chains' planned readmissions found.
    flagged = {
        kind: [p for p in pairs if (p[0], p[1]) in in_split or (p[2], p[3]) in in_split] for kind, pairs in conf.items()
    }
    flagged |= {f"{kind}_in_chains": sorted(pairs & found_split) for kind, pairs in alone.items()}

    planted_ls = set(truth["low_standard"])
    found_ls = {(f.hospital_id, cases[0]) for f, cases in by_rule.get("low_standard_admission", [])}
    ls_recall = _pct(len(planted_ls & found_ls), len(planted_ls))
    ls_false = len(found_ls - planted_ls - set(truth["ls_copy"]))
    ls_precision = _pct(len(found_ls) - ls_false, len(found_ls))

    found_up = {f.hospital_id for f, _ in by_rule.get("upcoding_mcc_share", [])}
    up_recall = _pct(len(upcoders & found_up), len(upcoders))
    up_precision = _pct(len(found_up & upcoders), len(found_up))

    figures = (
        f"split admission: to find {len(must)} (planted 1–2-day splits {len(planted_split)}), found "
        f"{len(found_split)} findings: recall {must_recall:.1f}% (of the splits {split_recall:.1f}%; missed "
        f"{sorted(must - found_split)[:5]}), precision "
        f"{split_precision:.1f}% ({len(false_pairs)} false: {false_pairs[:5]}); the 1–2-day variant alone "
        f"{len(short_gap)} findings, {short_gap_precision:.1f}% true ({short_gap_planted:.1f}% planted splits); "
        f"to leave alone: in the chains { {k: len(v) for k, v in alone.items()} }, confounders "
        f"{ {k: len(v) for k, v in conf.items()} }, flagged { {k: len(v) for k, v in flagged.items() if v} }; "
        f"low-standard: planted {len(planted_ls)}, found {len(found_ls)}, recall {ls_recall:.1f}%, precision "
        f"{ls_precision:.1f}%; upcoding hospitals: planted {sorted(upcoders)}, flagged {sorted(found_up)}, recall "
        f"{up_recall:.1f}%, precision {up_precision:.1f}%; run: {result['findings']} findings "
        f"{ {k: v['found'] for k, v in result['rules'].items()} } in {seconds:.1f} s"
    )
    print(figures)
    # No confounder is flagged, kind by kind: each fails alone when its condition leaves the rule
    # (planned: `not readmit_planned`; other_group: the same DRG or ADRG; exempt: the exempt ADRGs;
    # long_gap: the 15-day window; other_hospital: the hospital in the partition).
    for kind, pairs in flagged.items():
        assert pairs == [], f"{kind} readmissions flagged as split admissions: {pairs[:5]}; {figures}"
    # At least 90% found, under 10% of findings false (precision above 90%).
    assert split_recall >= 90 and must_recall >= 90 and split_precision > 90, figures
    assert short_gap_precision > 90, figures
    assert ls_recall >= 90 and ls_precision > 90, figures
    assert up_recall >= 90 and up_precision > 90, figures

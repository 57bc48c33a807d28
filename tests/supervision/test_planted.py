"""On a generated city year with planted patterns (synthetic/city.py: split admissions readmitted 1–2
days after discharge, two upcoding hospitals adding MCCs, short low-standard stays), the rules find
at least 90% of what was planted with under 10% of their findings false. The generator's truth file
(GenerateOptions.truth) names what it planted; the test prints the figures it measured.

A finding counts as true when it is what its rule describes and the generator planted: for split
admission, two stays of one planted chain (a first stay and its planted split or readmission, or two
readmissions of one first stay): the split (gap 1–2 days), or a readmission within 15 days to the
same group, not planned as the data reads (the rule's first variant, SPEC section 9); the figures
also give the 1–2-day variant alone against the planted splits. For low-standard admission, a planted
low-standard stay (or a readmission copied from one, which keeps its profile); for the MCC/CC
upcoding signal, a planted upcoding hospital."""

from __future__ import annotations

import json
import time

from dianshu.db.session import scoped_session
from dianshu.grouping.service import GROUP_CASES
from dianshu.jobs import service as jobs
from dianshu.scope import Role, Scope
from dianshu.synthetic.city import GenerateOptions, generate_city
from dianshu.tenancy import pilot
from dianshu.tenancy.jobs import IMPORT_HOSPITALS
from dianshu_tenants.provisioning import ensure_tenants
from tests.cases.test_ingestion import send
from tests.settlement.world import run_job
from tests.supervision.helpers import findings, supervise
from tests.test_standards_db import builtin_versions  # noqa: F401

YEAR = 2023  # list ids start with the year: apart from the demo's 2025 when both share a database
STAYS = 12_000
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


async def test_the_rules_find_the_planted_patterns(db, owner_db, tmp_path, dispatcher, builtin_versions):  # noqa: F811
    zj = str(builtin_versions["zhejiang_2022"])
    out = tmp_path / "city"
    generate_city(out, GenerateOptions(years=(YEAR,), stays_per_year=STAYS, seed=11, processes=2, truth=True))
    await _provision(db, owner_db)
    truth: dict[str, list] = {"split_admission": [], "readmission": [], "low_standard": [], "ls_copy": []}
    upcoders: set[str] = set()
    for code in REGIONS:
        scope = Scope(Role.region_admin, (code,), all_hospitals=True, actor=f"test@{code}")
        data = (out / str(YEAR) / f"{code}.csv.gz").read_bytes()
        _, outcome, _, batch = await send(db, scope, code, data, f"planted-{YEAR}-{code}", filename=f"{code}.csv.gz")
        assert outcome == "succeeded" and batch.rows_refused == 0
        await run_job(db, scope, code, GROUP_CASES, {"from": f"{YEAR}-01", "to": f"{YEAR}-12", "versions": [zj]})
        t = json.loads((out / str(YEAR) / f"{code}.truth.json").read_text())
        truth["split_admission"] += [(h, *sorted(p)) for h, *p in t["split_admission"]]
        # Planned ones too: a readmission that would fall in the next year is moved before its first stay,
        # so the flag sits on the earlier stay and the later one reads as an unplanned readmission.
        truth["readmission"] += [(h, *sorted((a, b))) for h, a, b, _planned in t["readmission"]]
        truth["low_standard"] += [tuple(x) for x in t["low_standard"]]
        truth["ls_copy"] += [tuple(x) for x in t["low_standard_readmission"]]
        upcoders = set(t["upcoding_hospitals"])

    city = Scope(Role.city_admin, (CITY, *REGIONS), all_hospitals=True, actor="test@city")
    started = time.monotonic()
    result = await supervise(db, city, CITY, year=YEAR, version=zj)
    seconds = time.monotonic() - started
    got = await findings(db, REGIONS)
    by_rule: dict[str, list] = {}
    for f, cases in got:
        by_rule.setdefault(f.rule, []).append((f, cases))

    # Cases by hospital and list id (a list id is unique per hospital only).
    planted_split = set(truth["split_admission"])
    # A readmission's root is its first stay: a pair of two stays of one planted chain (a first stay
    # readmitted twice gives the pair of its two readmissions too) is what the generator planted.
    root = {(h, b): (h, a) for h, a, b in truth["split_admission"] + truth["readmission"]}
    root |= {(h, a): (h, a) for h, a, _ in truth["split_admission"] + truth["readmission"]}

    def planted_pair(h, a, b):
        return (h, a) in root and root[(h, a)] == root.get((h, b))

    found_split = {(f.hospital_id, *cases) for f, cases in by_rule.get("split_admission", [])}
    split_recall = _pct(len(planted_split & found_split), len(planted_split))
    false_pairs = sorted(p for p in found_split if not planted_pair(*p))
    split_false = len(false_pairs)
    split_precision = _pct(len(found_split) - split_false, len(found_split))
    short_gap = {
        (f.hospital_id, *c) for f, c in by_rule.get("split_admission", []) if "short_gap" in f.evidence["variant"]
    }
    short_gap_precision = _pct(len(short_gap & planted_split), len(short_gap))

    planted_ls = set(truth["low_standard"])
    found_ls = {(f.hospital_id, cases[0]) for f, cases in by_rule.get("low_standard_admission", [])}
    ls_recall = _pct(len(planted_ls & found_ls), len(planted_ls))
    ls_false = len(found_ls - planted_ls - set(truth["ls_copy"]))
    ls_precision = _pct(len(found_ls) - ls_false, len(found_ls))

    found_up = {f.hospital_id for f, _ in by_rule.get("upcoding_mcc_share", [])}
    up_recall = _pct(len(upcoders & found_up), len(upcoders))
    up_precision = _pct(len(found_up & upcoders), len(found_up))

    figures = (
        f"split admission: planted {len(planted_split)}, found {len(found_split)} findings, recall "
        f"{split_recall:.1f}%, precision {split_precision:.1f}% ({split_false} false; the 1–2-day variant alone: "
        f"{len(short_gap)} findings, {short_gap_precision:.1f}% planted splits); "
        f"low-standard: planted {len(planted_ls)}, found {len(found_ls)}, recall {ls_recall:.1f}%, precision "
        f"{ls_precision:.1f}%; upcoding hospitals: planted {sorted(upcoders)}, flagged {sorted(found_up)}, recall "
        f"{up_recall:.1f}%, precision {up_precision:.1f}%; run: {result['findings']} findings "
        f"{ {k: v['found'] for k, v in result['rules'].items()} } in {seconds:.1f} s"
    )
    print(figures)
    # At least 90% found, under 10% of findings false (precision above 90%).
    assert split_recall >= 90 and split_precision > 90, figures
    assert ls_recall >= 90 and ls_precision > 90, figures
    assert up_recall >= 90 and up_precision > 90, figures

"""Synthetic grouper input, for tests and benchmarks.

- `sample_records`: records aimed at a scheme's ADRGs: each takes a principal diagnosis (and, for
  procedure-driven ADRGs, a principal procedure) from one ADRG's own lists, keeping only plain
  医保版 codes, plus random secondary codes, so a sample spreads over most groups.
- `diverse_records`: harder, real-shaped records drawn evenly across every ADRG of the scheme. Each
  ADRG's entry condition says what its record needs: the principal diagnosis from the ADRG's list
  (or its MDC's), the principal procedure from its procedure list (a second one from `adrg_ss1`,
  one per procedure tag where the condition asks for tags), birth weights and ages in the bands it
  names. Codes are taken as the tables write them, 国临版 ones included (ZJ-DRG lists some), so the
  grouper meets translations and unknown codes as it does in real files. Secondary diagnoses are
  0 to 15 (skewed: most lists have a few, some many), drawn from common comorbidities and the
  scheme's CC and MCC lists; age, sex and the newborn fields agree with the MDC.
- `city_records`: the stays of the synthetic pilot city (`dianshu.synthetic.city`), as records.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from dataclasses import dataclass

from dianshu.grouping.conditions import And, Compare, InList, Node, Not, Or, ProcTag
from dianshu.grouping.engine import Grouper
from dianshu.grouping.records import GroupInput


def sample_records(g: Grouper, n: int, seed: int = 1) -> Iterator[GroupInput]:
    rng = random.Random(seed)  # noqa: S311  (reproducible synthetic data)
    plain_dx, plain_px = g.codebook.diagnoses.plain, g.codebook.procedures.plain
    secondary = sorted(plain_dx)
    complications = sorted((set(g.tables.mcc) | set(g.tables.cc)) & plain_dx)
    targets = []
    for code, rule in g.tables.adrgs.items():
        lists = g.tables.adrg_lists.get(code, {})
        zd = sorted(lists.get("adrg_zd", frozenset()) & plain_dx) or sorted(
            g.tables.mdc_dx.get(rule.mdc, frozenset()) & plain_dx
        )
        ss = sorted(lists.get("adrg_ss", frozenset()) & plain_px)
        if zd:
            targets.append((rule.mdc, zd, ss))
    for i in range(n):
        mdc, zd, ss = targets[rng.randrange(len(targets))]
        newborn = mdc == "MDCP"
        age = 0 if newborn else rng.randint(1, 90)
        dxs = [rng.choice(zd)]
        for _ in range(rng.choice((0, 1, 1, 2, 2, 3, 4, 6))):
            dxs.append(rng.choice(complications) if rng.random() < 0.3 else rng.choice(secondary))
        procs = [rng.choice(ss)] if ss else []
        if rng.random() < 0.3:
            procs.append(rng.choice(ss) if ss else "89.0300")
        yield GroupInput(
            id=str(i),
            sex=2 if mdc == "MDCN" else 1 if mdc == "MDCM" else rng.choice((1, 2)),
            age_years=age,
            age_days=rng.randint(0, 28) if newborn else None,
            birth_weight_g=rng.choice((1200, 1800, 2300, 3200)) if newborn else None,
            los_days=rng.randint(1, 30),
            discharge_way=1,
            diagnoses=tuple(dxs),
            procedures=tuple(procs),
            dept="ICU" if rng.random() < 0.03 else None,
        )


# ---- the diverse set --------------------------------------------------------------------------

# Common comorbidities on Chinese settlement lists (医保版 v2.0, valid and not grey; a test checks):
# hypertension, diabetes, lipids, coronary disease, arrhythmias, heart failure, COPD, kidney disease,
# liver, thyroid, anaemia, electrolytes, stroke sequelae, dementia, infections, and the like.
COMORBIDITIES = (
    "I10.x00x002",
    "E11.900",
    "E78.500",
    "E78.000",
    "I25.103",
    "I20.000",
    "I48.000",
    "I48.100",
    "I49.100x001",
    "I50.900",
    "I11.901",
    "I67.200",
    "I69.300",
    "I70.200x002",
    "J44.900",
    "J18.900",
    "J98.414",
    "N18.900",
    "N18.300",
    "N39.000",
    "N20.000",
    "N28.101",
    "K76.000",
    "K74.100",
    "K29.700",
    "K59.000",
    "B18.100",
    "E03.900",
    "E04.100",
    "E66.900",
    "E77.801",
    "E86.x01",
    "E87.102",
    "E87.201",
    "E87.600",
    "D50.000",
    "D64.900",
    "M10.900",
    "M81.900",
    "G20.x00",
    "G47.000",
    "F03.x00",
    "F32.900",
    "Z95.001",
)
# Procedures most stays carry besides (or instead of) an operation: imaging, ECG, transfusion,
# catheters, endoscopy, oxygen, monitoring, ventilation (医保版, checked by a test).
COMMON_PROCEDURES = (
    "87.0300x001",
    "87.4401",
    "88.0100x001",
    "88.3800x002",
    "88.7201",
    "89.5200",
    "89.5400",
    "99.0401",
    "99.2100",
    "99.1501",
    "38.9300",
    "44.1300x001",
    "45.2302",
    "57.9400",
    "93.9601",
    "96.7101",
)
# Secondary diagnoses per record, 0 to 15: weights skewed to a few (mean about 4.6).
SECONDARY_COUNTS = tuple(range(16))
SECONDARY_WEIGHTS = (8, 12, 14, 13, 11, 9, 7, 6, 5, 4, 3, 2.5, 2, 1.5, 1, 1)


@dataclass
class Target:
    """What records aimed at one ADRG are made of (code lists sorted, as the tables write them)."""

    adrg: str
    mdc: str
    principal_dx: list[str]
    principal_px: list[str]  # empty: no procedure needed to enter (a medical ADRG)
    extra_px: list[list[str]]  # one code from each (adrg_ss1, procedure tags)
    no_or_procedure: bool  # the condition says NOT(MAIN_PROC IN SS_VALID)
    weight_band: tuple[int, int] | None  # birth weight [lo, hi) in grams
    newborn_days: bool  # AGE_DAYS <= 28


def _needs(node: Node, negated: bool, out: dict[str, object]) -> None:
    """Collect what a condition asks of a record: positive list memberships, tags, bands."""
    if isinstance(node, And | Or):
        for item in node.items:
            _needs(item, negated, out)
    elif isinstance(node, Not):
        _needs(node.item, not negated, out)
    elif isinstance(node, InList):
        neg = negated != node.negate
        key = f"{'-' if neg else '+'}{node.field}:{node.list_name}"
        out.setdefault("lists", []).append(key)  # type: ignore[union-attr]
    elif isinstance(node, ProcTag) and not negated:
        out.setdefault("tags", []).extend(node.tags)  # type: ignore[union-attr]
    elif isinstance(node, Compare) and not negated:
        if node.field == "BIRTH_WEIGHT":
            out.setdefault("weight", []).append((node.op, float(node.value)))  # type: ignore[union-attr]
        elif node.field == "AGE_DAYS":
            out["newborn_days"] = True


def _band(bounds: list[tuple[str, float]]) -> tuple[int, int]:
    lo, hi = 500, 4500
    for op, v in bounds:
        if op in (">=", ">"):
            lo = max(lo, int(v) + (op == ">"))
        elif op in ("<", "<="):
            hi = min(hi, int(v) + (op == "<="))
    return lo, hi


def diverse_targets(g: Grouper) -> list[Target]:
    t = g.tables
    every_dx = sorted(set().union(*t.mdc_dx.values()))
    ss_valid = sorted(t.ss_valid)
    targets = []
    for code, rule in t.adrgs.items():
        lists = t.adrg_lists.get(code, {})
        needs: dict[str, object] = {}
        _needs(rule.entry, False, needs)
        wanted = set(needs.get("lists", []))  # type: ignore[arg-type]
        mdc_list = sorted(t.mdc_dx.get(rule.mdc, frozenset()))
        if wanted & {"+PDX:adrg_zd", "+ANY_DX:adrg_zd"} and lists.get("adrg_zd"):
            principal_dx = sorted(lists["adrg_zd"])
        elif "-PDX:adrg_zd" in wanted:  # ZJ-DRG RE1: a principal of the MDC that is not in the list
            principal_dx = sorted(set(mdc_list) - lists.get("adrg_zd", frozenset())) or mdc_list
        else:
            principal_dx = mdc_list or every_dx  # MDCA: entered by the procedure, any diagnosis
        if wanted & {"+PDX:adrg_zd1", "+ANY_DX:adrg_zd1"} and lists.get("adrg_zd1"):
            principal_dx = sorted(lists["adrg_zd1"])
        principal_px: list[str] = []
        extra: list[list[str]] = []
        for key, name in (("MAIN_PROC", "adrg_ss"), ("ANY_PROC", "adrg_ss"), ("MAIN_PROC", "adrg_ss1")):
            if f"+{key}:{name}" in wanted and lists.get(name) and not principal_px:
                principal_px = sorted(lists[name])
        if "+ANY_PROC:adrg_ss1" in wanted and lists.get("adrg_ss1"):
            extra.append(sorted(lists["adrg_ss1"]))
        if not principal_px and ("+MAIN_PROC:SS_VALID" in wanted or "+ANY_PROC:SS_VALID" in wanted):
            principal_px = ss_valid
        tags = t.adrg_tags.get(code, {})
        for tag in dict.fromkeys(needs.get("tags", [])):  # type: ignore[call-overload]
            if tags.get(tag):
                extra.append(sorted(tags[tag]))
        if not principal_px and extra:
            principal_px = extra.pop(0)
        weight = needs.get("weight")
        targets.append(
            Target(
                code,
                rule.mdc,
                principal_dx,
                principal_px,
                extra,
                "-MAIN_PROC:SS_VALID" in wanted or "-ANY_PROC:SS_VALID" in wanted,
                _band(weight) if weight else None,  # type: ignore[arg-type]
                bool(needs.get("newborn_days")),
            )
        )
    return targets


def diverse_records(g: Grouper, n: int, seed: int = 1) -> Iterator[GroupInput]:
    """`n` records, the i-th aimed at ADRG i modulo the scheme's ADRGs (every ADRG equally often),
    the rest drawn at random (reproducibly for a seed)."""
    rng = random.Random(seed)  # noqa: S311  (reproducible synthetic data)
    t = g.tables
    targets = diverse_targets(g)
    mcc, cc = sorted(t.mcc), sorted(t.cc)
    ss_valid = t.ss_valid
    non_or = [p for p in COMMON_PROCEDURES if p not in ss_valid and p not in ("96.0400", "96.7201")]
    trauma = sorted(t.trauma_region)
    for i in range(n):
        tg = targets[i % len(targets)]
        mdc = tg.mdc
        newborn = mdc == "MDCP"
        if newborn:
            sex, age = rng.choice((1, 2)), 0
        elif mdc == "MDCO":
            sex, age = 2, rng.randint(18, 44)
        elif mdc == "MDCN":
            sex, age = 2, min(95, max(14, int(rng.gauss(48, 16))))
        elif mdc == "MDCM":
            sex, age = 1, min(99, max(1, int(rng.gauss(62, 15))))
        else:
            sex = rng.choice((1, 2))
            age = rng.randint(1, 17) if rng.random() < 0.08 else min(99, max(18, int(rng.gauss(60, 17))))
        dxs = [rng.choice(tg.principal_dx)]
        if mdc == "MDCZ":  # multiple trauma: a second injury in another body region
            regions = t.trauma_region.get(dxs[0], frozenset())
            others = [c for c in rng.sample(trauma, min(40, len(trauma))) if not t.trauma_region[c] & regions]
            if others:
                dxs.append(others[0])
        for _ in range(rng.choices(SECONDARY_COUNTS, SECONDARY_WEIGHTS)[0]):
            roll = rng.random()
            code = rng.choice(COMORBIDITIES if roll < 0.55 else cc if roll < 0.85 else mcc)
            if code not in dxs:
                dxs.append(code)
        procs: list[str] = []
        if tg.principal_px:
            procs.append(rng.choice(tg.principal_px))
            procs.extend(rng.choice(codes) for codes in tg.extra_px)
            for _ in range(rng.choice((0, 0, 1, 1, 2, 3))):
                procs.append(rng.choice(tg.principal_px) if rng.random() < 0.3 else rng.choice(COMMON_PROCEDURES))
        elif rng.random() < 0.6:
            procs.append(rng.choice(non_or if tg.no_or_procedure else COMMON_PROCEDURES))
            procs.extend(rng.choice(non_or) for _ in range(rng.choice((0, 1, 1, 2, 3))))
        procs = list(dict.fromkeys(procs))
        vent = None
        if "96.7101" in procs:
            vent = float(rng.randint(4, 95))
        elif "96.7201" in procs:
            vent = float(rng.randint(96, 400))
        icu = rng.random() < 0.04
        los = max(1, round(rng.lognormvariate(math.log(7), 0.6)))
        yield GroupInput(
            id=f"d{i}",
            sex=sex,
            age_years=age,
            age_days=(rng.randint(0, 28) if tg.newborn_days or rng.random() < 0.9 else rng.randint(29, 365))
            if newborn
            else None,
            birth_weight_g=rng.randrange(*tg.weight_band)
            if newborn and tg.weight_band
            else rng.choice((1300, 1800, 2300, 2800, 3200, 3600))
            if newborn
            else None,
            los_days=los,
            discharge_way=rng.choices((1, 2, 3, 4, 5, 9), (91, 2, 1.5, 2.5, 2, 1))[0],
            diagnoses=tuple(dxs),
            procedures=tuple(procs),
            vent_hours=vent,
            icu_hours=float(rng.randint(6, 200)) if icu else None,
            dept="ICU" if icu and rng.random() < 0.5 else None,
        )


# ---- the synthetic city ------------------------------------------------------------------------


def city_records(n: int, seed: int = 1, scheme: str = "zhejiang_2022") -> Iterator[GroupInput]:
    """`n` stays as the pilot city's generator makes them (one region's case mix over all its
    hospitals, readmissions and planted anomalies included), as grouper records."""
    from dianshu.synthetic.city import GenerateOptions, StayMaker
    from dianshu.tenancy import pilot

    opts = GenerateOptions(scheme=scheme, seed=seed)
    hospitals = pilot.hospitals(opts.hospitals)
    rng = random.Random(seed)  # noqa: S311  (reproducible synthetic data)
    maker = StayMaker(opts, hospitals[0].tenant_id, 2025, seed)
    for i in range(n):
        s = maker.stay(rng.choice(hospitals), upcoder=False, patient_no=i)
        yield GroupInput(
            id=f"c{i}",
            sex=s["sex"],
            age_years=s["age"],
            age_days=s["age_days"],
            birth_weight_g=s["bw"],
            los_days=max(0, (s["discharge"].date() - s["admit"].date()).days),
            discharge_way=s["way"],
            diagnoses=tuple(s["dxs"]),
            procedures=tuple(s["procs"]),
            dept=s["dept"],
        )

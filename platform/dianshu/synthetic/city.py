"""Generate a pilot city's inpatient years as ingestion files (one gzipped CSV per region and year).

Realistic by construction (issue 4): principal diagnoses and procedures drawn from one ADRG's own
lists so cases spread over most DRGs with plausible MDC shares and a level-dependent case mix; each
stay is grouped and its cost drawn log-normally around its DRG's published relative weight (a few
percent planted outliers); LOS, deaths, transfers, readmissions, fund types and out-of-area patients
at plausible rates; and a small planted share of what supervision must find: split admissions
(readmitted 1-2 days after discharge), upcoding (a hospital adding MCCs), short low-standard stays;
on request (GenerateOptions.confounders) readmissions the split-admission rule must leave alone.
The same seed gives the same files."""

from __future__ import annotations

import csv
import gzip
import io
import json
import math
import multiprocessing as mp
import random
import zlib
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from dianshu.cases.layout import CHARGE_COLUMNS, NAMES
from dianshu.codes.codebook import load_codebook
from dianshu.grouping.drg_codes import ungroupable_or_ambiguous
from dianshu.grouping.engine import Grouper
from dianshu.grouping.records import GroupInput
from dianshu.settlement.arithmetic.policy import Policy
from dianshu.standards.tables import builtin_dir, load_scheme
from dianshu.synthetic.weights import rw_for
from dianshu.tenancy import pilot

# The columns written: the layout's, less the optional ones added since the generator's files were
# first fixed (the same seed still gives byte-identical files).
WRITTEN = tuple(c for c in NAMES if c != "chfpdr_code")

# Rough MDC shares of a Chinese city's inpatient stays (per cent).
MDC_SHARE = {
    "MDCF": 14,
    "MDCE": 12,
    "MDCG": 11,
    "MDCI": 9,
    "MDCB": 8,
    "MDCO": 7,
    "MDCL": 4,
    "MDCH": 4,
    "MDCR": 4,
    "MDCJ": 3,
    "MDCK": 3,
    "MDCD": 3,
    "MDCN": 3,
    "MDCC": 2,
    "MDCV": 2,
    "MDCM": 1.5,
    "MDCP": 1.5,
    "MDCT": 1,
    "MDCU": 1,
    "MDCX": 1,
    "MDCQ": 1,
    "MDCS": 1,
    "MDCW": 0.5,
    "MDCA": 0.3,
    "MDCZ": 0.3,
    "MDCY": 0.05,
}
LEVEL_COST = {1: 0.72, 2: 0.9, 3: 1.12}
LEVEL_VOLUME = {1: 1.0, 2: 6.0, 3: 22.0}
SURGICAL_AT_LEVEL = {1: 0.12, 2: 0.35, 3: 0.5}
# Charge profiles (per cent of the total over the 14 national categories).
PROFILE_MEDICAL = (12, 2, 10, 12, 12, 0, 6, 6, 32, 1, 4, 1, 0.2, 1.8)
PROFILE_SURGICAL = (6, 1, 8, 8, 8, 14, 5, 24, 20, 0.5, 2, 1, 0.2, 2.3)
PROFILE_LOW_STANDARD = (6, 4, 45, 30, 4, 0, 3, 2, 4, 0, 0, 1, 0.5, 0.5)
# Readmissions that are not split admissions (SPEC section 9: within 15 days, the same DRG or ADRG,
# not planned, not exempt), each unplanned and 3 or more days after discharge (so never the 1-2-day
# variant) unless its kind says otherwise:
#   planned         the same DRG 3-15 days after, flagged as a planned readmission (31-day flag)
#   other_group     3-15 days after, to another ADRG (so another DRG) of the same MDC
#   exempt          the same exempt DRG 3-15 days after (chemotherapy, radiotherapy, dialysis)
#   long_gap        the same DRG 16 days after (every other pair; the first one past 15), or 17-45
#   other_hospital  the same DRG 3-15 days after, at another hospital of the region
CONFOUNDERS = ("planned", "other_group", "exempt", "long_gap", "other_hospital")
# MDCs a confounder is drawn from: neither newborns nor sex-specific groups.
CONFOUNDER_MDCS = ("MDCB", "MDCD", "MDCE", "MDCF", "MDCG", "MDCH", "MDCI", "MDCJ", "MDCK", "MDCL", "MDCR")


@dataclass
class GenerateOptions:
    years: tuple[int, ...] = (2025,)
    stays_per_year: int = 20_000
    hospitals: int = 150
    seed: int = 2026
    scheme: str = "zhejiang_2022"
    base_cost: float = 9_800.0  # average cost of a stay of RW 1 (yuan)
    processes: int = 2
    # Also write <out>/<year>/<region>.truth.json: what was planted (list ids), for tests and the demo
    # to measure supervision against. The CSV files are the same with or without it.
    truth: bool = False
    # Per region and kind, this many pairs of stays of one new patient that the split-admission rule
    # must leave alone (truth["confounders"], kinds in CONFOUNDERS): written after the year's other rows
    # from a stream of their own, so every row before them is the same with or without. 0 (the
    # default): none, the files as they always were.
    confounders: int = 0
    planted: dict[str, float] = field(
        default_factory=lambda: {
            "high_outlier": 0.02,
            "low_outlier": 0.008,
            "readmission": 0.03,
            "split_admission": 0.005,
            "low_standard": 0.01,
            "upcoding_hospitals": 2,
        }
    )


@dataclass
class FileInfo:
    path: str
    tenant: str
    year: int
    rows: int
    total_cost: str


_targets_cache: dict[str, Any] = {}


def _targets(g: Grouper) -> dict[str, Any]:
    """Per MDC, the ADRGs a stay can be aimed at: (adrg, principal dx list, procedure list, surgical?)."""
    plain_dx, plain_px = g.codebook.diagnoses.plain, g.codebook.procedures.plain
    by_mdc: dict[str, list[tuple[str, list[str], list[str], bool]]] = {}
    for code, rule in g.tables.adrgs.items():
        lists = g.tables.adrg_lists.get(code, {})
        zd = sorted(lists.get("adrg_zd", frozenset()) & plain_dx)
        if not zd:
            zd = sorted(g.tables.mdc_dx.get(rule.mdc, frozenset()) & plain_dx)
        ss = sorted(lists.get("adrg_ss", frozenset()) & plain_px)
        if not zd or ("adrg_ss" in rule.entry_text and not ss) or "PROC_TAG" in rule.entry_text:
            continue
        by_mdc.setdefault(rule.mdc, []).append((code, zd, ss, bool(ss)))
    return by_mdc


def _split_cents(total_cents: int, profile: tuple[float, ...], rng: random.Random) -> list[int]:
    weights = [p * rng.uniform(0.7, 1.3) if p else 0.0 for p in profile]
    s = sum(weights)
    cents = [int(total_cents * w / s) for w in weights]
    cents[8] += total_cents - sum(cents)  # western drugs take the rounding remainder
    return cents


def _fmt(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


class StayMaker:
    def __init__(self, opts: GenerateOptions, region: str, year: int, seed: int) -> None:
        self.opts = opts
        self.region = region
        self.year = year
        self.rng = random.Random(seed)  # noqa: S311  (reproducible synthetic data)
        g = _targets_cache.get(opts.scheme)
        if g is None:
            g = Grouper(load_scheme(builtin_dir(opts.scheme)), load_codebook())
            _targets_cache[opts.scheme] = g
            _targets_cache[opts.scheme + ":targets"] = _targets(g)
            _targets_cache[opts.scheme + ":rw"] = rw_for(list(g.tables.drg_names))
        self.g: Grouper = g
        self.targets: dict[str, Any] = _targets_cache[opts.scheme + ":targets"]
        self.rw: dict[str, float] = _targets_cache[opts.scheme + ":rw"]
        self.mdcs = [m for m in MDC_SHARE if m in self.targets]
        self.mdc_weights = [MDC_SHARE[m] for m in self.mdcs]
        plain = sorted(self.g.codebook.diagnoses.plain)
        self.comorbid = [c for c in plain if c[:3] in ("I10", "E11", "E78", "I25", "J44", "N18", "K76", "I48", "E03")]
        comp = set(self.g.tables.mcc) | set(self.g.tables.cc)
        self.complications = sorted(comp & self.g.codebook.diagnoses.plain)
        self.mccs = sorted(set(self.g.tables.mcc) & self.g.codebook.diagnoses.plain)
        self.recent: dict[str, list[dict[str, Any]]] = {}
        self.seq: dict[str, int] = {}

    def next_id(self, hospital: str) -> str:
        self.seq[hospital] = self.seq.get(hospital, 0) + 1
        return f"{self.year}{self.seq[hospital]:07d}"

    def stay(self, h: pilot.HospitalSpec, upcoder: bool, patient_no: int) -> dict[str, Any]:
        rng, p = self.rng, self.opts.planted
        r = rng.random()
        previous = self.recent.get(h.id)
        if previous and r < p["readmission"] + p["split_admission"]:
            return self._readmission(h, rng.choice(previous), split=r < p["split_admission"])
        low_standard = h.level <= 2 and rng.random() < p["low_standard"] * 3 / (1 + h.level)
        surgical = rng.random() < SURGICAL_AT_LEVEL[h.level]
        mdc = rng.choices(self.mdcs, self.mdc_weights)[0]
        options = [t for t in self.targets[mdc] if t[3] == surgical] or self.targets[mdc]
        _adrg, zd, ss, is_surgical = options[rng.randrange(len(options))]
        newborn = mdc == "MDCP"
        sex = 2 if mdc in ("MDCN", "MDCO") else 1 if mdc == "MDCM" else rng.choice((1, 2))
        age = 0 if newborn else rng.randint(18, 42) if mdc == "MDCO" else min(99, max(1, int(rng.gauss(58, 19))))
        dxs = [rng.choice(zd)]
        n_secondary = rng.choice((0, 1, 1, 2, 2, 3, 4, 5)) if not low_standard else rng.choice((0, 1))
        for _ in range(n_secondary):
            roll = rng.random()
            pool = self.complications if roll < 0.3 else self.comorbid
            code = rng.choice(pool)
            if code not in dxs:
                dxs.append(code)
        if upcoder and rng.random() < 0.45:
            dxs.append(rng.choice(self.mccs))
        procs = [rng.choice(ss)] if (is_surgical and ss and not low_standard) else []
        rec = GroupInput(
            id="x",
            sex=sex,
            age_years=age,
            age_days=rng.randint(0, 28) if newborn else None,
            birth_weight_g=rng.choice((1200, 1700, 2200, 3100, 3400)) if newborn else None,
            diagnoses=tuple(dxs),
            procedures=tuple(procs),
            dept="ICU" if rng.random() < 0.02 else None,
        )
        res = self.g.group(rec)
        rw = self.rw.get(res.drg, 1.0)
        los_mean = 2 + 4.5 * rw**0.7
        if mdc == "MDCU":  # psychiatric stays: long, some bed-day cases over 60 days
            los_mean = 38
        los = max(1, round(rng.lognormvariate(math.log(los_mean), 0.45)))
        factor = LEVEL_COST[h.level] * rng.lognormvariate(-0.045, 0.3)
        if low_standard:
            los, factor = rng.randint(1, 2), factor * 0.25
        else:
            o = rng.random()
            if o < p["high_outlier"]:
                factor *= rng.uniform(3.3, 5.5)
                los = los * 2
            elif o < p["high_outlier"] + p["low_outlier"]:
                factor *= rng.uniform(0.12, 0.35)
                los = max(1, los // 3)
        cost_cents = max(30_000, int(self.opts.base_cost * rw * factor * 100))
        way = rng.choices((1, 2, 3, 4, 5, 9), (91, 2, 1.5, 2.5, 1 + 3 * bool(res.mcc), 1))[0]
        discharge = datetime(self.year, 1, 1, 8) + timedelta(days=rng.randint(los, 364), hours=rng.randint(0, 9))
        admit = discharge - timedelta(days=los, hours=rng.randint(0, 6))
        stay = {
            "h": h,
            "patient": f"P{self.region}{patient_no:08d}",
            "sex": sex,
            "age": age,
            "newborn": newborn,
            "bw": rec.birth_weight_g,
            "age_days": rec.age_days,
            "dxs": dxs,
            "procs": procs,
            "admit": admit,
            "discharge": discharge,
            "way": way,
            "cost_cents": cost_cents,
            "surgical": bool(procs),
            "low_standard": low_standard,
            "dept": rec.dept,
            "planned": False,
        }
        bucket = self.recent.setdefault(h.id, [])
        bucket.append(stay)
        if len(bucket) > 300:
            bucket.pop(0)
        return stay

    def _readmission(self, h: pilot.HospitalSpec, first: dict[str, Any], split: bool) -> dict[str, Any]:
        rng = self.rng
        gap = rng.randint(1, 2) if split else rng.randint(3, 14)
        los = max(1, (first["discharge"] - first["admit"]).days // 2 + rng.randint(0, 3))
        admit = first["discharge"] + timedelta(days=gap, hours=rng.randint(0, 5))
        discharge = admit + timedelta(days=los, hours=rng.randint(1, 8))
        if discharge.year != self.year:
            admit, discharge = first["admit"] - timedelta(days=los + gap + 2), first["admit"] - timedelta(days=gap)
        return {
            **first,
            "readmit_of": first.get("list_id"),
            "first_times": (first["admit"], first["discharge"]),
            "split": split,
            "admit": admit,
            "discharge": discharge,
            "way": 1,
            "planned": (not split) and rng.random() < 0.2,
            "cost_cents": int(first["cost_cents"] * rng.uniform(0.6, 1.1)),
        }

    def _aimed(
        self, rng: random.Random, targets: list[Any], sex: int, age: int, los: tuple[int, ...], exempt: bool
    ) -> tuple[list[str], list[str], str, str]:
        """A principal diagnosis (and procedure, for a surgical group) aimed at one of `targets` and the
        DRG and ADRG it groups to as ingestion will group it (with each of `los` and a routine
        discharge), drawn until every LOS gives one real DRG (not 0000, not QY) in an exempt ADRG
        (the readmission rule's) or not as `exempt` says."""
        exempt_adrgs = set(Policy().readmission_exempt_adrgs)
        for _ in range(500):
            _adrg, zd, ss, surgical = targets[rng.randrange(len(targets))]
            dxs, procs = [rng.choice(zd)], [rng.choice(ss)] if surgical and ss else []
            got = {
                (res.drg, res.adrg)
                for res in (
                    self.g.group(
                        GroupInput(
                            id="x",
                            sex=sex,
                            age_years=age,
                            los_days=n,
                            discharge_way=1,
                            diagnoses=tuple(dxs),
                            procedures=tuple(procs),
                        )
                    )
                    for n in los
                )
            }
            if len(got) == 1:
                ((drg, adrg),) = got
                if adrg and not ungroupable_or_ambiguous(drg) and (adrg in exempt_adrgs) == exempt:
                    return dxs, procs, drg, adrg
        raise RuntimeError("no target groups to one DRG")

    def confounder(
        self, kind: str, j: int, h: pilot.HospitalSpec, other: pilot.HospitalSpec, patient_no: int, rng: random.Random
    ) -> tuple[dict[str, Any], dict[str, Any], int]:
        """The `j`th pair of `kind` (CONFOUNDERS): a first stay and a readmission of one new patient,
        with the calendar gap between them (admission date − discharge date)."""
        exempt = set(Policy().readmission_exempt_adrgs)
        plain = [t for m in CONFOUNDER_MDCS for t in self.targets.get(m, []) if t[0] not in exempt]
        sex, age = rng.choice((1, 2)), rng.randint(30, 80)
        los1, los2 = rng.randint(3, 9), rng.randint(2, 8)
        gap = rng.randint(3, 15)
        if kind == "long_gap":
            gap = 16 if j % 2 == 0 else rng.randint(17, 45)
        pool = [t for ts in self.targets.values() for t in ts if t[0] in exempt] if kind == "exempt" else plain
        dxs, procs, drg, adrg = self._aimed(rng, pool, sex, age, (los1, los2), kind == "exempt")
        dxs2, procs2 = dxs, procs
        if kind == "other_group":  # another ADRG of the same MDC (the rule's "same": DRG or ADRG)
            mdc = self.g.tables.adrgs[adrg].mdc
            others = [t for t in self.targets[mdc] if t[0] != adrg and t[0] not in exempt]
            while True:
                dxs2, procs2, _drg2, adrg2 = self._aimed(rng, others, sex, age, (los2,), False)
                if adrg2 != adrg:
                    break
        # Discharged 10:00-16:00 by day 300, admitted 07:00-09:00: the readmission (day ≤ 300 + 45 + 8)
        # stays in the year, and the calendar gap is `gap` exactly.
        discharge = datetime(self.year, 1, 1, 10) + timedelta(days=rng.randint(los1 + 1, 300), hours=rng.randint(0, 6))
        admit = (discharge - timedelta(days=los1)).replace(hour=rng.randint(7, 9))
        admit2 = (discharge + timedelta(days=gap)).replace(hour=rng.randint(7, 9))
        discharge2 = admit2 + timedelta(days=los2, hours=rng.randint(1, 5))
        factor = LEVEL_COST[h.level] * rng.lognormvariate(-0.045, 0.3)
        common = {
            "patient": f"P{self.region}{patient_no:08d}",
            "sex": sex,
            "age": age,
            "newborn": False,
            "bw": None,
            "age_days": None,
            "way": 1,
            "low_standard": False,
            "dept": None,
        }
        cost = max(30_000, int(self.opts.base_cost * self.rw.get(drg, 1.0) * factor * 100))
        first = {**common, "h": h, "dxs": dxs, "procs": procs, "surgical": bool(procs), "planned": False}
        first |= {"admit": admit, "discharge": discharge, "cost_cents": cost}
        second = {**common, "h": other if kind == "other_hospital" else h, "dxs": dxs2, "procs": procs2}
        second |= {"surgical": bool(procs2), "planned": kind == "planned", "admit": admit2, "discharge": discharge2}
        second["cost_cents"] = int(cost * rng.uniform(0.6, 1.1))
        return first, second, gap

    def row(self, stay: dict[str, Any]) -> list[str]:
        rng = self.rng
        h: pilot.HospitalSpec = stay["h"]
        cents = stay["cost_cents"]
        profile = (
            PROFILE_LOW_STANDARD if stay["low_standard"] else PROFILE_SURGICAL if stay["surgical"] else PROFILE_MEDICAL
        )
        charges = _split_cents(cents, profile, rng)
        employee = rng.random() < 0.45
        own = int(cents * rng.uniform(0.01, 0.09))
        fund = int((cents - own) * (0.86 if employee else 0.68))
        self_pay = cents - own - fund
        los = max(1, (stay["discharge"].date() - stay["admit"].date()).days)
        birth = (
            stay["admit"].date() - timedelta(days=stay["age"] * 365 + rng.randint(0, 364))
            if not stay["newborn"]
            else stay["admit"].date() - timedelta(days=stay["age_days"] or 0)
        )
        place = rng.choices(("1", "2", "3"), (90, 8, 2))[0]
        proc_dates = "|".join(stay["admit"].date().isoformat() for _ in stay["procs"])
        values = {
            "setl_id": self.next_id(h.id),
            "fixmedins_code": h.id,
            "medcasno": f"MR{rng.randrange(10**9):09d}",
            "psn_no": stay["patient"],
            "gend": str(stay["sex"]),
            "brdy": birth.isoformat(),
            "age": str(stay["age"]),
            "nwb_age": "" if not stay["newborn"] else str(stay["age_days"]),
            "nwb_bir_wt": "" if not stay["newborn"] else str(stay["bw"]),
            "nwb_adm_wt": "",
            "insutype": "310" if employee else "390",
            "insu_place": place,
            "adm_way": rng.choice(("1", "2", "2", "2")),
            "adm_time": stay["admit"].strftime("%Y-%m-%d %H:%M"),
            "adm_caty": "",
            "dscg_time": stay["discharge"].strftime("%Y-%m-%d %H:%M"),
            "dscg_caty": stay["dept"] or "",
            "act_ipt_days": str(los),
            "dscg_way": str(stay["way"]),
            "days_rinp_flag_31": "1" if stay["planned"] else "0",
            "code_ver": "yibao",
            "diag_codes": "|".join(stay["dxs"]),
            "adm_cond_types": "|".join(rng.choice("1112") for _ in stay["dxs"]),
            "oprn_oprt_codes": "|".join(stay["procs"]),
            "oprn_oprt_dates": proc_dates,
            "oprn_oprt_lvs": "|".join(rng.choice("234") for _ in stay["procs"]),
            "vent_used_dura": "",
            # ICU hours: two days, or the whole stay when shorter (hours never exceed the stay).
            "scs_cutd_sum_dura": str(min(48, int((stay["discharge"] - stay["admit"]).total_seconds()) // 3600))
            if stay["dept"] == "ICU"
            else "",
            "medfee_sumamt": _fmt(cents),
            "fund_pay_sumamt": _fmt(fund),
            "psn_selfpay": _fmt(self_pay),
            "psn_ownpay": _fmt(own),
            "correction": "",
        }
        values.update(dict(zip(CHARGE_COLUMNS, map(_fmt, charges), strict=True)))
        stay["list_id"] = values["setl_id"]  # for the truth file (draws nothing: the rows stay the same)
        return [values[c] for c in WRITTEN]


def _region_share(code: str) -> float:
    return next(s for c, _, s in pilot.REGIONS if c == code)


def _generate_one(args: tuple[GenerateOptions, str, int, str]) -> FileInfo:
    opts, region, year, out = args
    roster = [h for h in pilot.hospitals(opts.hospitals, seed=opts.seed) if h.tenant_id == region]
    # A stable seed per file (hash() of a str is salted per process).
    maker = StayMaker(opts, region, year, seed=zlib.crc32(f"{opts.seed}-{region}-{year}".encode()))
    total_rows = round(opts.stays_per_year * _region_share(region) / sum(s for _, _, s in pilot.REGIONS))
    weights = [LEVEL_VOLUME[h.level] for h in roster]
    rng = random.Random(opts.seed + year)  # noqa: S311
    all_ids = sorted(h.id for h in pilot.hospitals(opts.hospitals, seed=opts.seed) if h.level >= 2)
    upcoders = set(rng.sample(all_ids, k=min(int(opts.planted["upcoding_hospitals"]), len(all_ids))))
    path = Path(out) / str(year) / f"{region}.csv.gz"
    path.parent.mkdir(parents=True, exist_ok=True)
    total = 0
    truth: dict[str, Any] = {
        "hospitals": sorted(h.id for h in roster),
        "upcoding_hospitals": sorted(upcoders),
        # [hospital, first stay, readmission]: readmitted 1-2 days after discharge
        "split_admission": [],
        # [hospital, first stay, readmission, planned]: 3-14 days after (before the first stay when after
        # would fall in the next year: "times" gives the order)
        "readmission": [],
        "low_standard": [],  # [hospital, list id]: short low-standard stays
        "low_standard_readmission": [],  # [hospital, list id]: a readmission copied from one
        # {hospital: {list id: [admitted, discharged]}} of every stay above a split or readmission
        # (first stays too), the order the rows give them ("YYYY-MM-DD HH:MM")
        "times": {},
        # {kind: [[hospital, first stay, hospital, readmission, gap days]]} (GenerateOptions.confounders)
        "confounders": {k: [] for k in CONFOUNDERS} if opts.confounders else {},
    }

    def at(t: datetime) -> str:
        return t.strftime("%Y-%m-%d %H:%M")

    # mtime=0: the same seed gives byte-identical files (so a re-sent batch is recognised as such).
    with gzip.GzipFile(path, "wb", compresslevel=1, mtime=0) as raw, io.TextIOWrapper(raw, "utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(WRITTEN)
        for i in range(total_rows):
            h = maker.rng.choices(roster, weights)[0]
            stay = maker.stay(h, h.id in upcoders, patient_no=i)
            row = maker.row(stay)
            total += stay["cost_cents"]
            w.writerow(row)
            if "readmit_of" in stay:
                times = truth["times"].setdefault(stay["h"].id, {})
                times[stay["readmit_of"]] = [at(t) for t in stay["first_times"]]
                times[stay["list_id"]] = [at(stay["admit"]), at(stay["discharge"])]
                pair = [stay["h"].id, stay["readmit_of"], stay["list_id"]]
                if stay["split"]:
                    truth["split_admission"].append(pair)
                else:
                    truth["readmission"].append([*pair, stay["planned"]])
            if stay["low_standard"]:
                kind = "low_standard_readmission" if "readmit_of" in stay else "low_standard"
                truth[kind].append([stay["h"].id, stay["list_id"]])
        if opts.confounders:
            crng = random.Random(zlib.crc32(f"{opts.seed}-{region}-{year}-confounders".encode()))  # noqa: S311
            patient_no = total_rows
            for kind in CONFOUNDERS:
                for j in range(opts.confounders):
                    h = crng.choices(roster, weights)[0]
                    other = crng.choice([x for x in roster if x.id != h.id])
                    pair = maker.confounder(kind, j, h, other, patient_no, crng)
                    patient_no += 1
                    for stay in pair[:2]:
                        w.writerow(maker.row(stay))
                        total += stay["cost_cents"]
                    first, second, gap = pair
                    truth["confounders"][kind].append(
                        [first["h"].id, first["list_id"], second["h"].id, second["list_id"], gap]
                    )
    if opts.truth:
        (Path(out) / str(year) / f"{region}.truth.json").write_text(json.dumps(truth, indent=1))
    rows = total_rows + 2 * len(CONFOUNDERS) * opts.confounders
    return FileInfo(str(path.relative_to(out)), region, year, rows, _fmt(total))


def generate_city(
    out: Path, opts: GenerateOptions, on_file: Callable[[FileInfo], None] | None = None
) -> list[FileInfo]:
    """Write <out>/<year>/<region>.csv.gz for every year and region, and <out>/manifest.json."""
    out.mkdir(parents=True, exist_ok=True)
    jobs = [(opts, code, year, str(out)) for year in opts.years for code, _, _ in pilot.REGIONS]
    files: list[FileInfo] = []
    if opts.processes > 1:
        with mp.get_context("fork").Pool(opts.processes) as pool:
            for info in pool.imap_unordered(_generate_one, jobs):
                files.append(info)
                if on_file:
                    on_file(info)
    else:
        for j in jobs:
            info = _generate_one(j)
            files.append(info)
            if on_file:
                on_file(info)
    files.sort(key=lambda f: (f.year, f.tenant))
    manifest = {
        "city": pilot.CITY[0],
        "scheme": opts.scheme,
        "seed": opts.seed,
        "years": list(opts.years),
        "stays_per_year": opts.stays_per_year,
        "files": [asdict(f) for f in files],
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False))
    return files

"""Compile a scheme's tables into indexes once; then group a record with a handful of lookups.

Evaluation (standards/data/PROVENANCE.md): MDCs in order; a record enters an MDC when its entry
condition (and `special`) holds; the MDC's ADRGs are tried in order; the first ADRG whose condition
holds picks its DRG by the first true split condition. An MDC entered without an ADRG match passes
the record on to the next MDC. No MDC yielding an ADRG: ungroupable (0000).

Speed: every condition's necessary code memberships (e.g. `PDX IN adrg_zd`) index it by code, so
only the ADRGs (and MDCs) a record's own codes can reach are evaluated. The traced path evaluates
every step without the indexes, explaining each; tests check both paths agree.

Documented decisions (options of a standard version, see GrouperOptions):
- ICU (ZJ-DRG): the "伴重症监护" DRGs (`DEPT == 'ICU'`) stand after a TRUE fallback in the tables; with
  `icu_first` they are tried first in their ADRG. A stay is an ICU stay when its discharge department
  is ICU or its ICU hours reach `icu_min_hours` (default 24).
- HIV (CHS-DRG 1.1): MDCY is entered on a principal *or secondary* HIV diagnosis, as the CHS-DRG text
  says (`mdc_entry_overrides`: MDCY -> `ANY_DX IN mdc_zd`; ZJ-DRG's table already says so).
- Ambiguous groups (xQY) are off as published; `qy_enabled` turns them on, in MDCs entered on a
  diagnosis only (an AQY in MDCA, which any OR procedure enters, would capture every surgical case).
- Ventilation is grouped on the coded procedure (96.7201 ≥ 96 h); `vent_hours` that contradict the
  code are reported, never used to change it.
- Multiple trauma (MDCZ special): at least two trauma diagnoses covering at least two body regions;
  ZJ-DRG lists S12.910 under two regions, which alone is one injury, not multiple trauma.
- A grey or unknown principal diagnosis makes the record ungroupable (0000) with the reason; grey or
  unknown secondary codes and procedures are reported and kept as sent. Valid, grey and unknown
  follow the record's declared coding (the settlement-list rule).
- Code editions (grouping/editions.py): each table is read in the edition(s) it is declared in, a
  code translated only where that table does not know it as written; one compiled scheme per record
  coding holds every list rewritten in the codes such a record sends.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from dianshu.codes.codebook import YIBAO, CodeBook
from dianshu.grouping.conditions import (
    Compare,
    Env,
    Node,
    Predicate,
    compile_node,
    explain,
    parse,
    required_memberships,
    walk,
)
from dianshu.grouping.drg_codes import UNGROUPABLE, is_ambiguous
from dianshu.grouping.editions import EditionView
from dianshu.grouping.records import GroupInput, GroupResult, Message
from dianshu.standards.tables import ADRG_LISTS, Family, SchemeTables


@dataclass(frozen=True)
class GrouperOptions:
    icu_first: bool = True
    icu_min_hours: float = 24.0
    qy_enabled: bool = False
    mdc_entry_overrides: tuple[tuple[str, str], ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {
            "icu_first": self.icu_first,
            "icu_min_hours": self.icu_min_hours,
            "qy_enabled": self.qy_enabled,
            "mdc_entry_overrides": dict(self.mdc_entry_overrides),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> GrouperOptions:
        return cls(
            icu_first=bool(d.get("icu_first", True)),
            icu_min_hours=float(d.get("icu_min_hours", 24.0)),
            qy_enabled=bool(d.get("qy_enabled", False)),
            mdc_entry_overrides=tuple(sorted((d.get("mdc_entry_overrides") or {}).items())),
        )


DEFAULT_OPTIONS: dict[str, GrouperOptions] = {
    # The CHS-DRG 1.1 text: MDCY when the principal or a secondary diagnosis is HIV.
    "chs_drg_11": GrouperOptions(mdc_entry_overrides=(("MDCY", "ANY_DX IN mdc_zd"),)),
    "zhejiang_2022": GrouperOptions(),
}


class RecordFacts:
    """What conditions read from one record, with CC/MCC computed on first use."""

    __slots__ = (
        "_cc",
        "_mcc",
        "_scheme",
        "age_days",
        "age_years",
        "birth_weight",
        "dept",
        "dx_set",
        "dxs",
        "is_icu",
        "los",
        "main_proc",
        "pdx",
        "proc_set",
        "secondary",
        "sex",
    )

    def __init__(
        self,
        scheme: CompiledScheme,
        rec: GroupInput,
        dxs: tuple[str, ...],
        procs: tuple[str, ...],
        icu_min_hours: float,
    ) -> None:
        self._scheme = scheme
        self.dxs = dxs
        self.pdx = dxs[0] if dxs else None
        self.dx_set = frozenset(dxs)
        rest = dxs[1:]
        self.secondary = tuple(d for d in rest if d != self.pdx) if self.pdx in rest else rest
        self.main_proc = procs[0] if procs else None
        self.proc_set = frozenset(procs)
        self.age_days = rec.age_days
        self.age_years = rec.age_years
        self.birth_weight = rec.birth_weight_g
        self.sex = rec.sex
        self.los = rec.los_days
        self.dept = rec.dept
        self.is_icu = (rec.dept or "").upper() == "ICU" or (
            rec.icu_hours is not None and rec.icu_hours >= icu_min_hours
        )
        self._mcc: tuple[str, ...] | None = None
        self._cc: tuple[str, ...] | None = None

    def _complications(self) -> None:
        t = self._scheme
        excluded = t.exclusion.get(self.pdx or "")
        mcc, cc = [], []
        complications = t.complications
        for d in self.secondary:
            found = complications.get(d)
            if found is not None and found[1] != excluded:
                (mcc if found[0] else cc).append(d)
        self._mcc = tuple(mcc)
        self._cc = tuple(mcc + cc)

    def has_mcc(self) -> bool:
        if self._mcc is None:
            self._complications()
        return bool(self._mcc)

    def has_mcc_or_cc(self) -> bool:
        if self._cc is None:
            self._complications()
        return bool(self._cc)

    def mcc_codes(self) -> tuple[str, ...]:
        self.has_mcc()
        return self._mcc or ()

    def cc_codes(self) -> tuple[str, ...]:
        """MCCs and CCs (not excluded by the principal diagnosis)."""
        self.has_mcc_or_cc()
        return self._cc or ()

    def trauma_regions(self) -> int:
        """Distinct body regions of the trauma diagnoses, counted only when there are at least two
        such diagnoses (one code listed under two regions is still one injury)."""
        regions = self._scheme.trauma_region
        hit = [regions[d] for d in self.dx_set if d in regions]
        if len(hit) < 2:
            return len(hit)
        return len(frozenset().union(*hit))


class Guard:
    """Indexes rules by a necessary code membership so a record only meets rules it can satisfy."""

    def __init__(self, rules: Sequence[tuple[Node, Env]]) -> None:
        self.always: list[int] = []
        self.by: dict[str, dict[str, list[int]]] = {"PDX": {}, "MAIN_PROC": {}, "ANY_DX": {}, "ANY_PROC": {}}
        rank = {"PDX": 0, "MAIN_PROC": 0, "ANY_DX": 1, "ANY_PROC": 1}
        for i, (node, env) in enumerate(rules):
            options = [(rank[m.field], len(env.resolve(m)), m) for m in required_memberships(node)]
            if not options:
                self.always.append(i)
                continue
            _, _, best = min(options, key=lambda o: (o[0], o[1]))
            index = self.by[best.field]
            for code in env.resolve(best):
                index.setdefault(code, []).append(i)

        self._pdx = self.by["PDX"]
        self._main = self.by["MAIN_PROC"]
        self._any_dx = self.by["ANY_DX"]
        self._any_dx_keys = frozenset(self._any_dx)
        self._any_proc = self.by["ANY_PROC"]
        self._any_proc_keys = frozenset(self._any_proc)

    def candidates(self, f: RecordFacts) -> list[int]:
        found = set(self.always)
        pdx_hits = self._pdx.get(f.pdx or "")
        if pdx_hits:
            found.update(pdx_hits)
        main_hits = self._main.get(f.main_proc or "")
        if main_hits:
            found.update(main_hits)
        # Intersect first (in C): most of a record's codes index nothing here.
        for d in self._any_dx_keys.intersection(f.dx_set):
            found.update(self._any_dx[d])
        for p in self._any_proc_keys.intersection(f.proc_set):
            found.update(self._any_proc[p])
        return sorted(found)


@dataclass
class CompiledDrg:
    code: str
    node: Node
    text: str
    env: Env
    pred: Predicate


@dataclass
class CompiledAdrg:
    code: str
    node: Node | None  # None: an xQY marker
    text: str
    env: Env
    pred: Predicate
    drgs: list[CompiledDrg] = field(default_factory=list)

    @property
    def is_qy(self) -> bool:
        return self.node is None


@dataclass
class CompiledMdc:
    code: str
    node: Node
    text: str
    special: Node | None
    special_text: str
    env: Env
    entry: Predicate
    special_pred: Predicate | None
    items: list[CompiledAdrg]
    guard: Guard
    overridden: bool = False


@dataclass
class CompiledScheme:
    """One scheme compiled for the records of one coding: every list and table read in the codes
    such a record sends (grouping/editions.py)."""

    view: EditionView
    mdcs: list[CompiledMdc]
    mdc_guard: Guard
    mcc: dict[str, str]
    cc: dict[str, str]
    exclusion: dict[str, str]
    trauma_region: dict[str, frozenset[str]]
    # Codes grouping reads as they are sent: valid, not grey, and read as written in every table.
    plain_dx: frozenset[str] = frozenset()
    plain_px: frozenset[str] = frozenset()
    # secondary code -> (is an MCC, its exclusion table): an MCC entry wins over a CC one
    complications: dict[str, tuple[bool, str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.complications = {d: (False, table) for d, table in self.cc.items()} | {
            d: (True, table) for d, table in self.mcc.items()
        }


MDC_DX: Family = ("mdc_pdx_table.csv", "diagnoses")
ADRG_DX: Family = ("adrg_code_lists.csv", "diagnoses")
ADRG_PROC: Family = ("adrg_code_lists.csv", "procedures")
OR_PROC: Family = ("or_procedures_ss_valid.csv", "procedures")
_LIST_FAMILY: dict[str, Family] = {
    "mdc_zd": MDC_DX,
    "adrg_zd": ADRG_DX,
    "adrg_zd1": ADRG_DX,
    "adrg_ss": ADRG_PROC,
    "adrg_ss1": ADRG_PROC,
    "SS_VALID": OR_PROC,
}
_LITERAL_FAMILY: dict[str, Family] = {
    "PDX": ("conditions", "diagnoses"),
    "ANY_DX": ("conditions", "diagnoses"),
    "MAIN_PROC": ("conditions", "procedures"),
    "ANY_PROC": ("conditions", "procedures"),
}


class Grouper:
    """One scheme version compiled for grouping. Thread-safe and reusable: compile once. The
    医保版 reading is compiled at once; the 国临版 one on the first 国临版 record."""

    def __init__(self, tables: SchemeTables, codebook: CodeBook, options: GrouperOptions | None = None) -> None:
        self.tables = tables
        self.codebook = codebook
        self.options = options if options is not None else DEFAULT_OPTIONS.get(tables.code, GrouperOptions())
        self._compiled: dict[str, CompiledScheme] = {}
        self.compiled(YIBAO)

    def compiled(self, coding: str) -> CompiledScheme:
        found = self._compiled.get(coding)
        if found is None:
            found = self._compiled[coding] = self._compile(EditionView(self.tables, self.codebook, coding))
        return found

    @property
    def mdcs(self) -> list[CompiledMdc]:
        return self._compiled[YIBAO].mdcs

    def _compile(self, view: EditionView) -> CompiledScheme:
        tables = self.tables
        ss_valid = view.codes(OR_PROC, frozenset(tables.ss_valid))

        def literal_codes(field: str, codes: frozenset[str]) -> frozenset[str]:
            return view.codes(_LITERAL_FAMILY[field], codes)

        overrides = dict(self.options.mdc_entry_overrides)
        mdcs: list[CompiledMdc] = []
        for m in tables.mdcs:
            mdc_zd = view.codes(MDC_DX, tables.mdc_dx.get(m.mdc, frozenset()))
            env = Env({"mdc_zd": mdc_zd, "SS_VALID": ss_valid}, {}, literal_codes)
            node, text = m.entry, m.entry_text
            if m.mdc in overrides:
                text = overrides[m.mdc]
                node = parse(text)
            items: list[CompiledAdrg] = []
            # xQY only where the MDC was entered on a diagnosis: MDCA is entered by any OR procedure,
            # so an AQY there would swallow every surgical case before its organ MDC is tried.
            diagnosis_entry = any(x.field in ("PDX", "ANY_DX") for x in required_memberships(node))
            for code in m.adrg_order:
                if is_ambiguous(code):
                    if self.options.qy_enabled and diagnosis_entry:
                        qy_env = Env({"SS_VALID": ss_valid}, {}, literal_codes)
                        qy_node = parse("MAIN_PROC IN SS_VALID")
                        items.append(
                            CompiledAdrg(
                                f"{m.mdc[-1]}QY",
                                None,
                                "MAIN_PROC IN SS_VALID (ambiguous group)",
                                qy_env,
                                compile_node(qy_node, qy_env),
                            )
                        )
                    continue
                items.append(self._compile_adrg(code, mdc_zd, ss_valid, view, literal_codes))
            guard_rules = [(it.node if it.node is not None else parse("MAIN_PROC IN SS_VALID"), it.env) for it in items]
            mdcs.append(
                CompiledMdc(
                    m.mdc,
                    node,
                    text,
                    m.special,
                    m.special_text,
                    env,
                    compile_node(node, env),
                    compile_node(m.special, env) if m.special is not None else None,
                    items,
                    Guard(guard_rules),
                    overridden=m.mdc in overrides,
                )
            )
        return CompiledScheme(
            view=view,
            mdcs=mdcs,
            mdc_guard=Guard([(m.node, m.env) for m in mdcs]),
            mcc=view.table(("mcc_list.csv", "diagnoses"), tables.mcc),
            cc=view.table(("cc_list.csv", "diagnoses"), tables.cc),
            exclusion=view.table(("cc_exclusion_by_pdx.csv", "diagnoses"), tables.exclusion),
            trauma_region=view.table(MDC_DX, tables.trauma_region),
            plain_dx=self._plain(self.codebook.diagnoses, view, "diagnoses"),
            plain_px=self._plain(self.codebook.procedures, view, "procedures"),
        )

    @staticmethod
    def _plain(system: Any, view: EditionView, kind: str) -> frozenset[str]:
        """Codes a record of this coding sends that need no message and no translation: valid,
        not grey, and the settlement list's 医保版 code is the code itself."""
        notes = view.notes[kind]
        if view.coding == YIBAO:
            return frozenset(c for c in system.plain if c not in notes)
        return frozenset(g for g, y in system.crosswalk.items() if g == y and y in system.plain and g not in notes)

    def _compile_adrg(
        self,
        code: str,
        mdc_zd: frozenset[str],
        ss_valid: frozenset[str],
        view: EditionView,
        literal_codes: Callable[[str, frozenset[str]], frozenset[str]],
    ) -> CompiledAdrg:
        t = self.tables
        rule = t.adrgs[code]
        # A list the tables leave empty (ZJ-DRG DA1/RB1) resolves to no codes: the condition never holds.
        written = {name: frozenset() for name in ADRG_LISTS} | dict(t.adrg_lists.get(code, {}))
        lists = {name: view.codes(_LIST_FAMILY[name], codes) for name, codes in written.items()}
        tags = {tag: view.codes(ADRG_PROC, codes) for tag, codes in t.adrg_tags.get(code, {}).items()}
        env = Env({**lists, "mdc_zd": mdc_zd, "SS_VALID": ss_valid}, tags, literal_codes)
        rules = {r.drg: r for r in t.drg_rules.get(code, [])}
        drgs = [
            CompiledDrg(d, rules[d].condition, rules[d].condition_text, env, compile_node(rules[d].condition, env))
            for d in rule.drg_order
        ]
        if self.options.icu_first:
            icu = [d for d in drgs if _is_icu_condition(d.node)]
            drgs = icu + [d for d in drgs if not _is_icu_condition(d.node)]
        return CompiledAdrg(code, rule.entry, rule.entry_text, env, compile_node(rule.entry, env), drgs)

    # ---- grouping --------------------------------------------------------------------------------

    def group(self, rec: GroupInput, *, trace: bool = False) -> GroupResult:
        scheme = self._compiled.get(rec.coding) or self.compiled(rec.coding)
        messages: list[Message] = []
        raw_dx, raw_px = rec.diagnoses, rec.procedures
        if raw_dx and scheme.plain_dx.issuperset(raw_dx) and scheme.plain_px.issuperset(raw_px):
            # The common case, in two C-level checks: every code plain, so sent as grouped on.
            dx_sent = dxs = tuple(raw_dx)
            px_sent = procs = tuple(raw_px)
            dx_ok = True
        else:
            notes = scheme.view.notes
            dx_sent, dxs, dx_ok = self._codes(
                rec, raw_dx, "diagnoses", self.codebook.diagnoses, scheme.plain_dx, notes["diagnoses"], messages
            )
            px_sent, procs, _ = self._codes(
                rec, raw_px, "procedures", self.codebook.procedures, scheme.plain_px, notes["procedures"], messages
            )
        if rec.vent_hours is not None or rec.age_years == 0:  # what _cross_checks reads
            self._cross_checks(rec, procs, messages)
        result = GroupResult(rec.id, None, None, UNGROUPABLE, "ungroupable", None, dxs, procs)
        result.messages = messages
        if not dx_ok:
            if trace:
                result.trace = ["principal diagnosis missing, unknown or grey: ungroupable (0000)"]
            return result
        f = RecordFacts(scheme, rec, dx_sent, px_sent, self.options.icu_min_hours)
        steps: list[str] | None = [] if trace else None
        found = self._evaluate_traced(scheme, f, steps) if steps is not None else self._evaluate(scheme, f)
        if found is not None:
            mdc, adrg, drg, status = found
            result.mdc, result.adrg, result.drg, result.status = mdc, adrg, drg, status
            result.drg_name = self.tables.drg_names.get(drg)
        else:
            messages.append(Message("error", "diagnoses", "no MDC yields an ADRG for this record: ungroupable (0000)"))
        mcc = f.mcc_codes()
        cc = f.cc_codes()[len(mcc) :]  # cc_codes() lists the MCCs first
        if dx_sent is not dxs:  # report them as the settlement list's 医保版 codes, like `diagnoses`
            settled = dict(zip(dx_sent, dxs, strict=True))
            mcc, cc = tuple(settled[c] for c in mcc), tuple(settled[c] for c in cc)
        result.mcc, result.cc = mcc, cc
        result.trace = steps
        return result

    def group_many(self, recs: Sequence[GroupInput]) -> list[GroupResult]:
        return [self.group(r) for r in recs]

    @staticmethod
    def _evaluate(scheme: CompiledScheme, f: RecordFacts) -> tuple[str, str | None, str, str] | None:
        mdcs = scheme.mdcs
        for mi in scheme.mdc_guard.candidates(f):
            m = mdcs[mi]
            if not m.entry(f) or (m.special_pred is not None and not m.special_pred(f)):
                continue
            items = m.items
            for ai in m.guard.candidates(f):
                a = items[ai]
                if not a.pred(f):
                    continue
                if a.is_qy:
                    return m.code, None, a.code, "ambiguous"
                for d in a.drgs:
                    if d.pred(f):
                        return m.code, a.code, d.code, "grouped"
        return None

    def _evaluate_traced(
        self, scheme: CompiledScheme, f: RecordFacts, steps: list[str]
    ) -> tuple[str, str | None, str, str] | None:
        for m in scheme.mdcs:
            ok, why = explain(m.node, m.env, f)
            note = " [standard option overrides the table's entry]" if m.overridden else ""
            if ok and m.special is not None:
                sok, swhy = explain(m.special, m.env, f)
                why += f"; special {swhy}"
                ok = sok
            steps.append(f"{m.code}: {'entered' if ok else 'not entered'}: {why}{note}")
            if not ok:
                continue
            for a in m.items:
                ok_a, why_a = explain(a.node if a.node is not None else parse("MAIN_PROC IN SS_VALID"), a.env, f)
                steps.append(f"  {a.code}: {'matches' if ok_a else 'no'}: {why_a}")
                if not ok_a:
                    continue
                if a.is_qy:
                    steps.append(f"  -> ambiguous group {a.code}")
                    return m.code, None, a.code, "ambiguous"
                for d in a.drgs:
                    ok_d, why_d = explain(d.node, d.env, f)
                    steps.append(f"    {d.code}: {'yes' if ok_d else 'no'}: {why_d}")
                    if ok_d:
                        steps.append(f"  -> {d.code} {self.tables.drg_names.get(d.code, '')}".rstrip())
                        return m.code, a.code, d.code, "grouped"
                steps.append(f"  {a.code}: no DRG condition holds; trying the next ADRG")
            steps.append(f"{m.code}: no ADRG matched; trying the next MDC")
        steps.append("no MDC yields an ADRG: ungroupable (0000)")
        return None

    # ---- input checks ----------------------------------------------------------------------------

    @staticmethod
    def _codes(
        rec: GroupInput,
        raw: Sequence[str],
        name: str,
        system: Any,
        plain: frozenset[str],
        notes: dict[str, str],
        messages: list[Message],
    ) -> tuple[tuple[str, ...], tuple[str, ...], bool]:
        """The codes as sent (grouped on, each table reading them in its own edition), the 医保版
        codes they stand for on the settlement list, and whether the principal diagnosis is valid."""
        sent: list[str] = []
        out: list[str] = []
        principal_ok = True
        what = "diagnosis" if name == "diagnoses" else "procedure"
        if name == "diagnoses" and not raw:
            messages.append(Message("error", "diagnoses", "no principal diagnosis: ungroupable (0000)"))
            return (), (), False
        if plain.issuperset(raw):  # the common case: every code plain, one C-level check
            codes = tuple(raw)
            return codes, codes, True
        for i, code in enumerate(raw, start=1):
            if code in plain:
                sent.append(code)
                out.append(code)
                continue
            st = system.check(code, rec.coding)
            code = code.strip()
            label = f"{name}[{i}]"
            role = f"principal {what}" if i == 1 else f"{what} #{i}"
            note = notes.get(code)
            shown = f"{code} (医保版 {st.code})" if st.translated else code
            if st.translated and rec.coding == "yibao":
                head = f"{role} {code} is a 国临版 code (医保版 {st.code}) in a 医保版 record"
                messages.append(Message("info", label, f"{head}; {note}" if note else head))
            elif st.translated:
                head = f"{role} 国临版 {code} is 医保版 {st.code} on the settlement list"
                messages.append(Message("info", label, f"{head}; {note}" if note else head))
            elif note:
                messages.append(Message("info", label, f"{role} {code}: {note}"))
            if not st.known:
                level = "error" if (i == 1 and name == "diagnoses") else "warning"
                edition = "医保版 v2.0" if rec.coding == "yibao" else "国临版"
                messages.append(Message(level, label, f"{role} {st.original} is not a {edition} code"))
                if level == "error":
                    principal_ok = False
            elif st.grey:
                level = "error" if (i == 1 and name == "diagnoses") else "warning"
                messages.append(
                    Message(level, label, f"{role} {shown} is a grey code (not valid on a settlement list)")
                )
                if level == "error":
                    principal_ok = False
            sent.append(code)
            out.append(st.code)
        return tuple(sent), tuple(out), principal_ok

    @staticmethod
    def _cross_checks(rec: GroupInput, procs: Sequence[str], messages: list[Message]) -> None:
        if rec.vent_hours is not None:
            long_vent = any(p.startswith("96.72") for p in procs)
            short_vent = any(p.startswith("96.71") for p in procs)
            if long_vent and rec.vent_hours < 96:
                messages.append(
                    Message(
                        "warning", "vent_hours", f"ventilation coded ≥ 96 h (96.72) but vent_hours={rec.vent_hours:g}"
                    )
                )
            if short_vent and rec.vent_hours >= 96:
                messages.append(
                    Message(
                        "warning", "vent_hours", f"ventilation coded < 96 h (96.71) but vent_hours={rec.vent_hours:g}"
                    )
                )
            if rec.vent_hours > 0 and not (long_vent or short_vent):
                messages.append(
                    Message(
                        "warning",
                        "vent_hours",
                        f"vent_hours={rec.vent_hours:g} but no invasive ventilation (96.71/96.72) coded",
                    )
                )
        if rec.age_years == 0 and rec.age_days is None:
            messages.append(
                Message("warning", "age_days", "age in days is missing for an infant: newborn (MDCP) rules cannot hold")
            )


def _is_icu_condition(node: Node) -> bool:
    return any(isinstance(n, Compare) and n.field == "DEPT" and str(n.value).upper() == "ICU" for n in walk(node))


def with_options(grouper: Grouper, **changes: Any) -> Grouper:
    return Grouper(grouper.tables, grouper.codebook, replace(grouper.options, **changes))

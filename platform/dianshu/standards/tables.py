"""Read and validate a grouping scheme in the table layout of standards/data/PROVENANCE.md.

A broken table is refused with file, line and reason; nothing is half-loaded.

Besides the tables, a scheme declares the code edition(s) each table is written in
(`code_editions.csv`: table, codes, edition; one row per edition, two rows for a table that mixes
医保版 and 国临版 codes). The grouper reads a record's codes in each table's own edition
(grouping/editions.py). The declaration is not part of the tables' content hash: the same tables
declared otherwise are another version."""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from dianshu.grouping.conditions import ConditionError, InList, Node, parse, walk
from dianshu.grouping.drg_codes import is_ambiguous

DATA_DIR = Path(__file__).resolve().parent / "data"
BUILTIN_SCHEMES = ("chs_drg_11", "zhejiang_2022")

FILES: dict[str, tuple[str, ...]] = {
    "mdc_rules.csv": ("eval_order", "mdc", "entry_condition", "special", "adrg_eval_order"),
    "mdc_pdx_table.csv": ("mdc", "dx_code", "trauma_body_region"),
    "adrg_rules.csv": ("mdc", "eval_order_in_mdc", "adrg", "entry_condition", "drg_eval_order"),
    "adrg_code_lists.csv": ("adrg", "list", "code", "proc_tag"),
    "drg_split_rules.csv": ("adrg", "drg_code", "rule_function", "condition"),
    "drg_groups.csv": ("drg_code", "drg_name"),
    "mcc_list.csv": ("dx_code", "exclusion_table"),
    "cc_list.csv": ("dx_code", "exclusion_table"),
    "cc_exclusion_by_pdx.csv": ("pdx_code", "exclusion_table"),
    "or_procedures_ss_valid.csv": ("proc_code", "proc_name"),
}
ADRG_LISTS = ("adrg_zd", "adrg_zd1", "adrg_ss", "adrg_ss1")

EDITIONS_FILE = "code_editions.csv"
EDITION_COLUMNS = ("table", "codes", "edition")
CODE_EDITIONS = ("yibao", "guolin")
# Every place a scheme writes codes, by the kind of code: the ADRG lists hold both kinds; literal
# codes in conditions (`ANY_PROC == '96.7201'`) are "conditions".
CODE_FAMILIES: tuple[tuple[str, str], ...] = (
    ("mdc_pdx_table.csv", "diagnoses"),
    ("adrg_code_lists.csv", "diagnoses"),
    ("adrg_code_lists.csv", "procedures"),
    ("mcc_list.csv", "diagnoses"),
    ("cc_list.csv", "diagnoses"),
    ("cc_exclusion_by_pdx.csv", "diagnoses"),
    ("or_procedures_ss_valid.csv", "procedures"),
    ("conditions", "diagnoses"),
    ("conditions", "procedures"),
)
Family = tuple[str, str]
LAYOUT: dict[str, tuple[str, ...]] = {**FILES, EDITIONS_FILE: EDITION_COLUMNS}


@dataclass(frozen=True)
class TableProblem:
    file: str
    line: int
    reason: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.reason}"


class SchemeTableError(ValueError):
    def __init__(self, problems: list[TableProblem]) -> None:
        self.problems = problems
        more = f" (+{len(problems) - 20} more)" if len(problems) > 20 else ""
        super().__init__("; ".join(str(p) for p in problems[:20]) + more)


@dataclass(frozen=True)
class MdcRule:
    order: int
    mdc: str
    entry: Node
    entry_text: str
    special: Node | None
    special_text: str
    adrg_order: tuple[str, ...]  # ADRG codes, or "xQY" markers where an ambiguous group may go


@dataclass(frozen=True)
class AdrgRule:
    mdc: str
    order: int
    adrg: str
    entry: Node
    entry_text: str
    drg_order: tuple[str, ...]


@dataclass(frozen=True)
class DrgRule:
    adrg: str
    drg: str
    rule_function: str
    condition: Node
    condition_text: str


@dataclass
class SchemeTables:
    code: str
    content_hash: str
    mdcs: list[MdcRule]
    mdc_dx: dict[str, frozenset[str]]
    trauma_region: dict[str, frozenset[str]]  # a code may sit in two regions (ZJ-DRG S12.910)
    adrgs: dict[str, AdrgRule]
    adrg_lists: dict[str, dict[str, frozenset[str]]]
    adrg_tags: dict[str, dict[str, frozenset[str]]]
    drg_rules: dict[str, list[DrgRule]]
    drg_names: dict[str, str]
    mcc: dict[str, str]
    cc: dict[str, str]
    exclusion: dict[str, str]
    ss_valid: dict[str, str]
    # (table, codes) -> the editions it is written in, as declared (code_editions.csv)
    editions: dict[Family, tuple[str, ...]]
    warnings: list[TableProblem] = field(default_factory=list)

    @property
    def drg_count(self) -> int:
        return len(self.drg_names)

    def family_codes(self, family: Family) -> frozenset[str]:
        """Every code one table (or the conditions) writes, for one kind of code."""
        table, kind = family
        if table == "mdc_pdx_table.csv":
            return frozenset().union(*self.mdc_dx.values())
        if table == "adrg_code_lists.csv":
            names = ("adrg_zd", "adrg_zd1") if kind == "diagnoses" else ("adrg_ss", "adrg_ss1")
            return frozenset(c for ls in self.adrg_lists.values() for n in names for c in ls.get(n, ()))
        if table == "mcc_list.csv":
            return frozenset(self.mcc)
        if table == "cc_list.csv":
            return frozenset(self.cc)
        if table == "cc_exclusion_by_pdx.csv":
            return frozenset(self.exclusion)
        if table == "or_procedures_ss_valid.csv":
            return frozenset(self.ss_valid)
        fields = ("PDX", "ANY_DX") if kind == "diagnoses" else ("MAIN_PROC", "ANY_PROC")
        return frozenset(
            c
            for node in self.conditions()
            for n in walk(node)
            if isinstance(n, InList) and n.literal is not None and n.field in fields
            for c in n.literal
        )

    def conditions(self) -> list[Node]:
        out: list[Node] = []
        for m in self.mdcs:
            out.append(m.entry)
            if m.special is not None:
                out.append(m.special)
        out += [a.entry for a in self.adrgs.values()]
        out += [r.condition for rules in self.drg_rules.values() for r in rules]
        return out

    def editions_rows(self) -> list[tuple[str, str, str]]:
        """The declaration as code_editions.csv rows (table, codes, edition)."""
        return [(t, k, e) for (t, k), eds in self.editions.items() for e in eds]

    @property
    def editions_hash(self) -> str:
        return editions_digest(self.editions_rows())


def editions_digest(rows: Iterable[tuple[str, str, str]]) -> str:
    """The declaration's identity: sha256 of its rows, sorted, one `table,codes,edition` per line."""
    return hashlib.sha256("".join(f"{t},{k},{e}\n" for t, k, e in sorted(rows)).encode()).hexdigest()


def content_hash(directory: Path) -> str:
    h = hashlib.sha256()
    for name in sorted(FILES):
        h.update(name.encode())
        h.update((directory / name).read_bytes())
    return h.hexdigest()


RowSource = Callable[[str, list[TableProblem]], Iterable[tuple[int, dict[str, str]]]]


def folder_rows(directory: Path) -> RowSource:
    """Rows of the CSV files in a folder, with their line numbers."""

    def rows(name: str, problems: list[TableProblem]) -> Iterable[tuple[int, dict[str, str]]]:
        return _rows(directory, name, problems)

    return rows


def _rows(directory: Path, name: str, problems: list[TableProblem]):
    path = directory / name
    if not path.is_file():
        why = "file is missing"
        if name == EDITIONS_FILE:
            why += (
                ": declare the code edition(s) each table is written in "
                "(`dianshu standards editions --dir DIR` measures them from the tables)"
            )
        problems.append(TableProblem(name, 0, why))
        return
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh)
        header = next(reader, None)
        want = LAYOUT[name]
        if header is None or tuple(h.strip().lstrip("\ufeff") for h in header) != want:
            problems.append(TableProblem(name, 1, f"header must be {','.join(want)} (found {header})"))
            return
        for line, row in enumerate(reader, start=2):
            if not row or all(not c.strip() for c in row):
                continue
            if len(row) != len(want):
                problems.append(TableProblem(name, line, f"expected {len(want)} columns, found {len(row)}"))
                continue
            yield line, dict(zip(want, (c.strip() for c in row), strict=True))


def _cond(text: str, name: str, line: int, problems: list[TableProblem]) -> Node | None:
    try:
        return parse(text)
    except ConditionError as e:
        problems.append(TableProblem(name, line, f"condition {text!r}: {e}"))
        return None


def load_scheme(directory: Path | str, code: str | None = None) -> SchemeTables:
    """Read every table of a scheme folder; raises SchemeTableError listing every problem."""
    directory = Path(directory)
    if not directory.is_dir():
        raise SchemeTableError([TableProblem(str(directory), 0, "no such folder")])
    return build_scheme(code or directory.name, content_hash_or_none(directory), folder_rows(directory))


def load_scheme_tables_only(directory: Path | str, code: str | None = None) -> SchemeTables:
    """The tables of a folder whatever its code_editions.csv says (or without one), to measure
    their editions: the declaration read is every table as 医保版."""
    directory = Path(directory)
    if not directory.is_dir():
        raise SchemeTableError([TableProblem(str(directory), 0, "no such folder")])
    files = folder_rows(directory)

    def rows(name: str, problems: list[TableProblem]) -> Iterable[tuple[int, dict[str, str]]]:
        if name == EDITIONS_FILE:
            return ((0, {"table": t, "codes": k, "edition": "yibao"}) for t, k in CODE_FAMILIES)
        return files(name, problems)

    return build_scheme(code or directory.name, content_hash_or_none(directory), rows)


def content_hash_or_none(directory: Path) -> str:
    try:
        return content_hash(directory)
    except FileNotFoundError:
        return ""


def build_scheme(code: str, digest: str, source: RowSource) -> SchemeTables:
    """Validate and assemble a scheme from a row source (a folder, or a version in the database)."""
    problems: list[TableProblem] = []

    warnings: list[TableProblem] = []
    lines: dict[tuple[str, str], int] = {}  # where each MDC / ADRG row is, for cross-reference errors
    mdcs: list[MdcRule] = []
    for line, r in source("mdc_rules.csv", problems):
        entry = _cond(r["entry_condition"], "mdc_rules.csv", line, problems)
        special = _cond(r["special"], "mdc_rules.csv", line, problems) if r["special"] else None
        try:
            order = int(r["eval_order"])
        except ValueError:
            problems.append(TableProblem("mdc_rules.csv", line, f"eval_order {r['eval_order']!r} is not a number"))
            continue
        # "AQY(disabled)": where an ambiguous group may be emitted (an option of the standard).
        items = tuple(i.strip().removesuffix("(disabled)") for i in r["adrg_eval_order"].split(">") if i.strip())
        lines[("mdc", r["mdc"])] = line
        if entry is not None:
            mdcs.append(MdcRule(order, r["mdc"], entry, r["entry_condition"], special, r["special"], items))
    mdcs.sort(key=lambda m: m.order)
    if len({m.order for m in mdcs}) != len(mdcs):
        problems.append(TableProblem("mdc_rules.csv", 0, "eval_order values repeat"))

    mdc_dx: dict[str, set[str]] = {}
    trauma: dict[str, set[str]] = {}
    for _line, r in source("mdc_pdx_table.csv", problems):
        mdc_dx.setdefault(r["mdc"], set()).add(r["dx_code"])
        if r["trauma_body_region"]:
            trauma.setdefault(r["dx_code"], set()).add(r["trauma_body_region"])

    adrgs: dict[str, AdrgRule] = {}
    for line, r in source("adrg_rules.csv", problems):
        entry = _cond(r["entry_condition"], "adrg_rules.csv", line, problems)
        if r["adrg"] in adrgs:
            problems.append(TableProblem("adrg_rules.csv", line, f"ADRG {r['adrg']} appears twice"))
        lines[("adrg", r["adrg"])] = line
        if entry is not None:
            adrgs[r["adrg"]] = AdrgRule(
                r["mdc"],
                int(r["eval_order_in_mdc"] or 0),
                r["adrg"],
                entry,
                r["entry_condition"],
                tuple(d.strip() for d in r["drg_eval_order"].split(">") if d.strip()),
            )

    lists: dict[str, dict[str, set[str]]] = {}
    tags: dict[str, dict[str, set[str]]] = {}
    for line, r in source("adrg_code_lists.csv", problems):
        if r["list"] not in ADRG_LISTS:
            problems.append(TableProblem("adrg_code_lists.csv", line, f"unknown list {r['list']!r}"))
            continue
        if r["adrg"] not in adrgs:
            problems.append(TableProblem("adrg_code_lists.csv", line, f"ADRG {r['adrg']} is not in adrg_rules.csv"))
            continue
        if not r["code"]:
            problems.append(TableProblem("adrg_code_lists.csv", line, "code is empty"))
            continue
        lists.setdefault(r["adrg"], {}).setdefault(r["list"], set()).add(r["code"])
        if r["proc_tag"]:
            tags.setdefault(r["adrg"], {}).setdefault(r["proc_tag"], set()).add(r["code"])

    drg_names: dict[str, str] = {}
    for line, r in source("drg_groups.csv", problems):
        if r["drg_code"] in drg_names:
            problems.append(TableProblem("drg_groups.csv", line, f"DRG {r['drg_code']} appears twice"))
        drg_names[r["drg_code"]] = r["drg_name"]

    drg_rules: dict[str, list[DrgRule]] = {}
    for line, r in source("drg_split_rules.csv", problems):
        cond = _cond(r["condition"], "drg_split_rules.csv", line, problems)
        if r["adrg"] not in adrgs:
            problems.append(TableProblem("drg_split_rules.csv", line, f"ADRG {r['adrg']} is not in adrg_rules.csv"))
        if r["drg_code"] not in drg_names:
            problems.append(TableProblem("drg_split_rules.csv", line, f"DRG {r['drg_code']} is not in drg_groups.csv"))
        if cond is not None:
            drg_rules.setdefault(r["adrg"], []).append(
                DrgRule(r["adrg"], r["drg_code"], r["rule_function"], cond, r["condition"])
            )

    def exclusion_table(name: str, key: str) -> dict[str, str]:
        out: dict[str, str] = {}
        for line, r in source(name, problems):
            if not r["exclusion_table"]:
                problems.append(TableProblem(name, line, f"{r[key]}: exclusion_table is empty"))
            if r[key] in out and out[r[key]] != r["exclusion_table"]:
                problems.append(TableProblem(name, line, f"{r[key]} appears twice with different tables"))
            out[r[key]] = r["exclusion_table"]
        return out

    mcc = exclusion_table("mcc_list.csv", "dx_code")
    cc = exclusion_table("cc_list.csv", "dx_code")
    exclusion = exclusion_table("cc_exclusion_by_pdx.csv", "pdx_code")
    ss_valid = {r["proc_code"]: r["proc_name"] for _, r in source("or_procedures_ss_valid.csv", problems)}
    editions = read_editions(source(EDITIONS_FILE, problems), problems)

    # Cross-references: every ADRG an MDC lists exists there, every DRG an ADRG lists has a rule,
    # every list a condition names exists for its ADRG or MDC.
    for m in mdcs:
        if m.mdc not in mdc_dx and any(isinstance(n, InList) and n.list_name == "mdc_zd" for n in walk(m.entry)):
            problems.append(
                TableProblem("mdc_rules.csv", lines[("mdc", m.mdc)], f"{m.mdc}: mdc_pdx_table.csv has no list for it")
            )
        for item in m.adrg_order:
            if is_ambiguous(item):
                continue
            where = lines[("mdc", m.mdc)]
            if item not in adrgs:
                problems.append(TableProblem("mdc_rules.csv", where, f"{m.mdc} lists unknown ADRG {item}"))
            elif adrgs[item].mdc != m.mdc:
                problems.append(
                    TableProblem("mdc_rules.csv", where, f"{m.mdc} lists {item}, an ADRG of {adrgs[item].mdc}")
                )
    for a in adrgs.values():
        rules = {d.drg for d in drg_rules.get(a.adrg, [])}
        for d in a.drg_order:
            if d not in rules:
                problems.append(
                    TableProblem("adrg_rules.csv", lines[("adrg", a.adrg)], f"{a.adrg} lists DRG {d} with no rule")
                )
        for n in walk(a.entry):
            if isinstance(n, InList) and n.list_name in ADRG_LISTS and n.list_name not in lists.get(a.adrg, {}):
                # Legal (the condition never matches) but worth saying: ZJ-DRG 2022 ships DA1 and RB1
                # without a procedure list.
                warnings.append(
                    TableProblem(
                        "adrg_rules.csv", lines[("adrg", a.adrg)], f"{a.adrg} uses {n.list_name}, which is empty"
                    )
                )
    if problems:
        raise SchemeTableError(problems)
    return SchemeTables(
        code=code,
        content_hash=digest,
        mdcs=mdcs,
        mdc_dx={k: frozenset(v) for k, v in mdc_dx.items()},
        trauma_region={k: frozenset(v) for k, v in trauma.items()},
        adrgs=adrgs,
        adrg_lists={a: {k: frozenset(v) for k, v in ls.items()} for a, ls in lists.items()},
        adrg_tags={a: {k: frozenset(v) for k, v in ts.items()} for a, ts in tags.items()},
        drg_rules=drg_rules,
        drg_names=drg_names,
        mcc=mcc,
        cc=cc,
        exclusion=exclusion,
        ss_valid=ss_valid,
        editions=editions,
        warnings=warnings,
    )


def read_editions(
    rows: Iterable[tuple[int, dict[str, str]]], problems: list[TableProblem]
) -> dict[Family, tuple[str, ...]]:
    """code_editions.csv: every table and kind of code named once per edition, each at least once."""
    declared: dict[Family, list[str]] = {}
    known = set(CODE_FAMILIES)
    for line, r in rows:
        family = (r["table"], r["codes"])
        if family not in known:
            problems.append(
                TableProblem(
                    EDITIONS_FILE,
                    line,
                    f"{r['table']} / {r['codes']} is not a table and kind of code of the layout "
                    f"(known: {', '.join(f'{t} / {k}' for t, k in CODE_FAMILIES)})",
                )
            )
            continue
        if r["edition"] not in CODE_EDITIONS:
            problems.append(
                TableProblem(EDITIONS_FILE, line, f"edition {r['edition']!r} must be one of {', '.join(CODE_EDITIONS)}")
            )
            continue
        if r["edition"] in declared.get(family, []):
            problems.append(TableProblem(EDITIONS_FILE, line, f"{r['table']} / {r['codes']}: {r['edition']} twice"))
            continue
        declared.setdefault(family, []).append(r["edition"])
    for family in CODE_FAMILIES:
        if family not in declared:
            problems.append(
                TableProblem(
                    EDITIONS_FILE, 0, f"{family[0]} / {family[1]}: no edition declared (yibao, guolin or both)"
                )
            )
    # The editions of a table are a set: kept in one fixed order.
    return {f: tuple(e for e in CODE_EDITIONS if e in declared.get(f, ())) for f in CODE_FAMILIES}


def builtin_dir(code: str) -> Path:
    if code not in BUILTIN_SCHEMES:
        raise KeyError(f"unknown standard {code!r} (built in: {', '.join(BUILTIN_SCHEMES)})")
    return DATA_DIR / code

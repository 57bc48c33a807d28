"""Reading a record's codes in the code edition of each table that looks them up.

A scheme declares the edition(s) each of its tables is written in (standards/tables.py,
`code_editions.csv`); a record's code is read in its own edition (`CodeSystem.edition_of`: the
record's declared coding, or 国临版 for a 国临版 code sent in a 医保版 record). In one table:

- a code of an edition the table is written in, listed there as written: read as written;
- any other code: read as its translations into the table's edition(s) that the table lists
  (国临版 → 医保版 through the crosswalk; 医保版 → 国临版 through its inverse, which may give several
  codes: a list holds the code when it holds any of them, a table giving one value per code takes
  the first in code order);
- a code the table knows neither way is in none of its lists: kept as sent, never dropped, and
  reported by the settlement-list checks when it is in neither code set.

So a code is translated only where the scheme does not know it, and only in the direction the
table needs. The settlement-list checks (valid, grey) still follow the record's declared coding.

`EditionView` applies this once per record coding: it rewrites every list and table of the scheme
into the codes a record of that coding sends, so grouping itself stays plain set lookups.
`measure_editions` derives a declaration from the tables and the vendored code sets, for built-in
schemes (recorded in their `code_editions.csv`, checked by a test) and for a city's new scheme.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeVar

from dianshu.codes.codebook import EDITION_NAMES, GUOLIN, YIBAO, CodeBook, CodeSystem
from dianshu.standards.tables import CODE_FAMILIES, Family, SchemeTables

V = TypeVar("V")


def system_for(codebook: CodeBook, family: Family) -> CodeSystem:
    return codebook.diagnoses if family[1] == "diagnoses" else codebook.procedures


def edition_counts(tables: SchemeTables, codebook: CodeBook, family: Family) -> tuple[int, int, int]:
    """(codes in the table, codes only 医保版 has, codes only 国临版 has): a code in both sets says
    nothing about the table's edition."""
    system = system_for(codebook, family)
    codes = tables.family_codes(family)
    yibao_only = sum(1 for c in codes if c in system.names and c not in system.crosswalk)
    guolin_only = sum(1 for c in codes if c in system.crosswalk and c not in system.names)
    return len(codes), yibao_only, guolin_only


def measure_editions(tables: SchemeTables, codebook: CodeBook) -> dict[Family, tuple[str, ...]]:
    """The editions each table's codes come from: an edition counts when the table holds codes that
    only it has; a table with no such code is taken as 医保版, the settlement list's edition."""
    out: dict[Family, tuple[str, ...]] = {}
    for family in CODE_FAMILIES:
        _, yibao_only, guolin_only = edition_counts(tables, codebook, family)
        found = tuple(e for e, seen in ((YIBAO, yibao_only), (GUOLIN, guolin_only)) if seen)
        out[family] = found or (YIBAO,)
    return out


class EditionView:
    """How a record of one coding reads every table of one scheme."""

    def __init__(self, tables: SchemeTables, codebook: CodeBook, coding: str) -> None:
        self.coding = coding
        # family -> {code as sent: the codes it is read as there}, only where that is not "as written"
        self.readings: dict[Family, dict[str, tuple[str, ...]]] = {}
        self._targets: dict[Family, dict[str, tuple[str, ...]]] = {}
        self._moved: dict[Family, frozenset[str]] = {}
        self._target_keys: dict[Family, frozenset[str]] = {}
        known: dict[Family, frozenset[str]] = {}
        for family in CODE_FAMILIES:
            system = system_for(codebook, family)
            universe = tables.family_codes(family)
            known[family] = universe
            readings = _readings(system, coding, universe, tables.editions[family])
            self.readings[family] = readings
            inverse: dict[str, list[str]] = {}
            for raw, targets in readings.items():
                for t in targets:
                    inverse.setdefault(t, []).append(raw)
            self._targets[family] = {t: tuple(raws) for t, raws in inverse.items()}
            self._moved[family] = frozenset(readings)
            self._target_keys[family] = frozenset(inverse)
        self.notes = {
            kind: _notes(codebook, coding, kind, self.readings, known, tables.editions)
            for kind in ("diagnoses", "procedures")
        }

    def codes(self, family: Family, listed: frozenset[str]) -> frozenset[str]:
        """The codes as sent that a list of `family` holds for this coding."""
        moved, targets = self._moved[family], self._target_keys[family]
        if not moved or (listed.isdisjoint(moved) and listed.isdisjoint(targets)):
            return listed
        out = set(listed) - moved
        back = self._targets[family]
        for t in listed & targets:
            out.update(back[t])
        return frozenset(out)

    def table(self, family: Family, values: Mapping[str, V]) -> dict[str, V]:
        """A code -> value table of `family` keyed by the codes as sent (first translation that the
        table holds, in code order)."""
        readings = self.readings[family]
        if not readings:
            return dict(values)
        out = {c: v for c, v in values.items() if c not in readings}
        for raw, targets in readings.items():
            for t in targets:
                if t in values:
                    out[raw] = values[t]
                    break
        return out


def _readings(
    system: CodeSystem, coding: str, universe: frozenset[str], editions: tuple[str, ...]
) -> dict[str, tuple[str, ...]]:
    """Codes as sent (of either code set) that one table reads otherwise than as written."""
    out: dict[str, tuple[str, ...]] = {}
    populations = (
        ((YIBAO, system.names.keys()), (GUOLIN, system.crosswalk.keys() - system.names.keys()))
        if coding == YIBAO
        else ((GUOLIN, system.crosswalk.keys()),)
    )
    for edition, codes in populations:
        if edition in editions:
            others = [e for e in editions if e != edition]
            if not others:
                continue  # written in this code's edition only: as written, or not at all
            candidates = (c for c in codes if c not in universe)
        else:
            others = list(editions)
            candidates = iter(codes)
        siblings = edition == GUOLIN and GUOLIN in editions and YIBAO in others
        for c in candidates:
            targets = tuple(t for e in others for t in system.translate(c, edition, e) if t in universe)
            if not targets and siblings:
                # A 国临版 code a mixed table knows neither way: its 医保版 code's other 国临版 codes.
                y = system.crosswalk.get(c)
                targets = tuple(g for g in system.reverse.get(y or "", ()) if g != c and g in universe)
            if targets != (c,):
                out[c] = targets
    # Codes in neither set are read as written everywhere (a table may list such a code).
    return {c: t for c, t in out.items() if t or c in universe}


def _notes(
    codebook: CodeBook,
    coding: str,
    kind: str,
    readings: dict[Family, dict[str, tuple[str, ...]]],
    known: dict[Family, frozenset[str]],
    editions: dict[Family, tuple[str, ...]],
) -> dict[str, str]:
    """For each code as sent that some table reads as a translation: where it is read how (the
    grouping result's message)."""
    families = [f for f in CODE_FAMILIES if f[1] == kind]
    system = codebook.diagnoses if kind == "diagnoses" else codebook.procedures
    raws = {raw for f in families for raw, targets in readings[f].items() if targets}
    out: dict[str, str] = {}
    for raw in sorted(raws):
        edition = system.edition_of(raw, coding)
        translated: dict[tuple[str, ...], list[str]] = {}
        as_written: list[str] = []
        for f in families:
            targets = readings[f].get(raw)
            if targets:
                translated.setdefault(targets, []).append(_table_label(f))
            elif targets is None and raw in known[f] and edition in editions[f]:
                as_written.append(_table_label(f))
        yibao = system.crosswalk.get(raw) if edition == GUOLIN else None
        parts = [
            f"read as {_named(targets, edition, yibao)} in {', '.join(tables)}"
            for targets, tables in translated.items()
        ]
        if as_written:
            parts.append(f"as written in {', '.join(as_written)}")
        out[raw] = "; ".join(parts)
    return out


def _named(targets: tuple[str, ...], edition: str | None, yibao: str | None) -> str:
    """Targets with their edition: a 国临版 code's 医保版 code, or (for a 医保版 code, or a 国临版
    code read through its 医保版 code's siblings) 国临版 codes."""
    if edition == GUOLIN and targets == (yibao,):
        return f"{EDITION_NAMES[YIBAO]} {yibao}"
    return f"{EDITION_NAMES[GUOLIN]} {', '.join(targets)}"


def _table_label(family: Family) -> str:
    return "the conditions" if family[0] == "conditions" else family[0].removesuffix(".csv")

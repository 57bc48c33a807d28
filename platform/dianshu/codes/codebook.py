"""The code book: which codes are valid on a settlement list, and how codes translate between
the two code editions.

Editions: `yibao` (医保版: ICD-10 v2.0, ICD-9-CM-3 v2.0) and `guolin` (国临版: ICD-10 v2.0,
ICD-9-CM-3 v3.0). The 国临版 set is the crosswalk's source side; the crosswalk maps each 国临版
code to one 医保版 code (several 国临版 codes may share one), so 医保版 → 国临版 is its inverse and
may give several codes.

A record declares its coding (`code_ver`): `yibao` (the default) or `guolin`. For the settlement
list, 国临版 codes are always validated through the crosswalk. In a 医保版 record a code that is not
医保版 but is a 国临版 code is read as 国临版 (and said so); 249 diagnosis codes exist in both sets
with different meanings, so a 国临版 record must say it is one. Which edition a code is *grouped*
in is the scheme's business (grouping/editions.py)."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent / "data"

YIBAO, GUOLIN = "yibao", "guolin"
EDITIONS = (YIBAO, GUOLIN)
EDITION_NAMES = {YIBAO: "医保版", GUOLIN: "国临版"}


@dataclass(frozen=True)
class CodeStatus:
    original: str
    code: str  # the 医保版 code used for grouping (= original when no translation)
    translated: bool
    known: bool  # a 医保版 code (after translation)
    grey: bool


@dataclass(frozen=True)
class CodeSystem:
    names: dict[str, str]  # 医保版 code -> name
    grey: frozenset[str]
    crosswalk: dict[str, str]  # 国临版 code -> 医保版 code

    @cached_property
    def reverse(self) -> dict[str, tuple[str, ...]]:
        """医保版 code -> the 国临版 codes that map to it, in code order."""
        out: dict[str, list[str]] = {}
        for g, y in self.crosswalk.items():
            out.setdefault(y, []).append(g)
        return {y: tuple(sorted(gs)) for y, gs in out.items()}

    def edition_of(self, code: str, coding: str) -> str | None:
        """The edition a record's code is read in: its declared coding, except that a 医保版 record
        may carry a 国临版 code (read as one); None when the code is in neither set."""
        if coding == GUOLIN:
            return GUOLIN if code in self.crosswalk else None
        if code in self.names:
            return YIBAO
        return GUOLIN if code in self.crosswalk else None

    def translate(self, code: str, source: str, target: str) -> tuple[str, ...]:
        """The codes of edition `target` that `code` (of edition `source`) corresponds to."""
        if source == target:
            return (code,)
        if source == GUOLIN:
            y = self.crosswalk.get(code)
            return (y,) if y is not None else ()
        return self.reverse.get(code, ())

    @property
    def plain(self) -> frozenset[str]:
        """医保版 codes that are valid and not grey: the common case, checked with one lookup."""
        cached = self.__dict__.get("_plain")
        if cached is None:
            cached = frozenset(c for c in self.names if c not in self.grey)
            object.__setattr__(self, "_plain", cached)
        return cached

    def check(self, raw: str, coding: str = "yibao") -> CodeStatus:
        code = raw.strip()
        if coding == "guolin":
            target = self.crosswalk.get(code)
            if target is not None:
                return CodeStatus(raw, target, target != code, target in self.names, target in self.grey)
            return CodeStatus(raw, code, False, False, False)
        if code in self.names:
            return CodeStatus(raw, code, False, True, code in self.grey)
        target = self.crosswalk.get(code)
        if target is not None:
            return CodeStatus(raw, target, True, target in self.names, target in self.grey)
        return CodeStatus(raw, code, False, False, False)


@dataclass(frozen=True)
class CodeBook:
    diagnoses: CodeSystem
    procedures: CodeSystem


def _read(path: Path, *columns: str) -> list[tuple[str, ...]]:
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        return [tuple(r[c].strip() for c in columns) for r in reader]


@lru_cache(maxsize=4)
def load_codebook(directory: Path = DATA_DIR) -> CodeBook:
    dx = CodeSystem(
        names=dict(_read(directory / "icd10_yibao_v2.0.csv", "code", "name")),  # type: ignore[arg-type]
        grey=frozenset(c for (c,) in _read(directory / "icd10_yibao_v2.0_grey_codes.csv", "code")),
        crosswalk=dict(_read(directory / "map_icd10_guolin_v2.0_to_yibao_v2.0.csv", "from_code", "to_code")),  # type: ignore[arg-type]
    )
    px = CodeSystem(
        names=dict(_read(directory / "icd9cm3_yibao_v2.0.csv", "code", "name")),  # type: ignore[arg-type]
        grey=frozenset(c for (c,) in _read(directory / "icd9cm3_yibao_v2.0_grey_codes.csv", "code")),
        crosswalk=dict(_read(directory / "map_icd9cm3_guolin_v3.0_to_yibao_v2.0.csv", "from_code", "to_code")),  # type: ignore[arg-type]
    )
    return CodeBook(dx, px)

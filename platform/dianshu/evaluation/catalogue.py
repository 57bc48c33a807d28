"""The evaluation catalogue (考核指标目录): indicators in dimensions, as data.

The built-in catalogue is data/catalogue.csv and data/dimensions.csv (50 indicators in the 6
dimensions of SPEC section 8). A catalogue is read strictly: every column present and nothing
else, codes unique, known dimensions, directions, sources, units and statuses, weights non-negative
decimals, a monitor-only indicator weighs 0 and every dimension's active weights sum to 100. A
refusal names the file, the row's code and the field."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import cache
from pathlib import Path

from dianshu.errors import Refused

DATA = Path(__file__).parent / "data"

DIRECTIONS = ("higher", "lower")
SOURCES = ("cases", "grouping", "points", "findings", "reviews", "training", "entered")
# Sources whose values are entered per hospital and period. training: F07 is read from the training
# records (training/coverage.py) for a (hospital, year) with a declared roster that year; entered otherwise.
ENTERED_SOURCES = ("entered", "training")
UNITS = ("index", "count", "percent", "ratio", "points", "days", "score", "per_mille")
STATUSES = ("active", "monitor")
INDICATOR_COLUMNS = (
    "code",
    "dimension",
    "name_zh",
    "name_en",
    "computation",
    "direction",
    "source",
    "unit",
    "weight",
    "status",
    "formula_zh",
    "formula_en",
)
DIMENSION_COLUMNS = ("code", "name_zh", "name_en", "weight")
HUNDRED = Decimal(100)


class CatalogueRefused(Refused):
    """A catalogue file refused: record is "<file> <code>" (or the file), field the column."""


@dataclass(frozen=True)
class Dimension:
    code: str
    name_zh: str
    name_en: str
    weight: Decimal  # of the total score; the dimensions' weights sum to 100


@dataclass(frozen=True)
class Indicator:
    code: str
    dimension: str
    name_zh: str
    name_en: str
    computation: str  # the name of its computation (evaluation/indicators) or entered value
    direction: str  # higher | lower: which way is favourable
    source: str
    unit: str
    weight: Decimal  # within its dimension; 0 for monitor-only
    status: str  # active | monitor
    formula_zh: str
    formula_en: str

    @property
    def active(self) -> bool:
        return self.status == "active"

    @property
    def entered(self) -> bool:
        return self.source in ENTERED_SOURCES


@dataclass(frozen=True)
class Catalogue:
    dimensions: tuple[Dimension, ...]
    indicators: tuple[Indicator, ...]

    def by_code(self) -> dict[str, Indicator]:
        return {i.code: i for i in self.indicators}

    def active(self) -> tuple[Indicator, ...]:
        return tuple(i for i in self.indicators if i.active)

    def in_dimension(self, dimension: str) -> tuple[Indicator, ...]:
        return tuple(i for i in self.indicators if i.dimension == dimension)


def _rows(text: str, name: str, columns: tuple[str, ...]) -> list[dict[str, str]]:
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = tuple(reader.fieldnames or ())
    if header != columns:
        missing = [c for c in columns if c not in header]
        extra = [c for c in header if c not in columns]
        raise CatalogueRefused(
            name,
            "header",
            f"columns must be {', '.join(columns)} (missing {missing or 'none'}, unknown {extra or 'none'})",
        )
    rows = []
    for n, r in enumerate(reader, start=2):
        if None in r or any(v is None for v in r.values()):
            raise CatalogueRefused(f"{name} line {n}", "columns", f"must have exactly {len(columns)} cells")
        rows.append({k: v.strip() for k, v in r.items()})
    return rows


def _weight(value: str, record: str) -> Decimal:
    try:
        w = Decimal(value)
    except InvalidOperation:
        raise CatalogueRefused(record, "weight", f"must be a decimal (got {value!r})") from None
    if not w.is_finite() or w < 0 or w > HUNDRED:
        raise CatalogueRefused(record, "weight", f"must be between 0 and 100 (got {value})")
    return w


def _one_of(value: str, allowed: tuple[str, ...], record: str, field: str) -> str:
    if value not in allowed:
        raise CatalogueRefused(record, field, f"must be one of {', '.join(allowed)} (got {value!r})")
    return value


def parse_catalogue(indicators_csv: str, dimensions_csv: str) -> Catalogue:
    """Both files' text, checked whole (see the module's docstring)."""
    dims: list[Dimension] = []
    for r in _rows(dimensions_csv, "dimensions.csv", DIMENSION_COLUMNS):
        record = f"dimensions.csv {r['code']}"
        if not r["code"] or not r["name_zh"] or not r["name_en"]:
            raise CatalogueRefused(record, "code", "code and both names are required")
        dims.append(Dimension(r["code"], r["name_zh"], r["name_en"], _weight(r["weight"], record)))
    codes = [d.code for d in dims]
    if len(set(codes)) != len(codes):
        raise CatalogueRefused("dimensions.csv", "code", "each dimension once")
    if sum(d.weight for d in dims) != HUNDRED:
        raise CatalogueRefused("dimensions.csv", "weight", f"must sum to 100 (got {sum(d.weight for d in dims)})")

    indicators: list[Indicator] = []
    seen: set[str] = set()
    computations: set[str] = set()
    for r in _rows(indicators_csv, "catalogue.csv", INDICATOR_COLUMNS):
        record = f"catalogue.csv {r['code'] or '(no code)'}"
        for f in ("code", "name_zh", "name_en", "computation", "formula_zh", "formula_en"):
            if not r[f]:
                raise CatalogueRefused(record, f, "required")
        if r["code"] in seen:
            raise CatalogueRefused(record, "code", "appears twice")
        if r["computation"] in computations:
            raise CatalogueRefused(record, "computation", f"{r['computation']} is already another indicator's")
        seen.add(r["code"])
        computations.add(r["computation"])
        ind = Indicator(
            code=r["code"],
            dimension=_one_of(r["dimension"], tuple(codes), record, "dimension"),
            name_zh=r["name_zh"],
            name_en=r["name_en"],
            computation=r["computation"],
            direction=_one_of(r["direction"], DIRECTIONS, record, "direction"),
            source=_one_of(r["source"], SOURCES, record, "source"),
            unit=_one_of(r["unit"], UNITS, record, "unit"),
            weight=_weight(r["weight"], record),
            status=_one_of(r["status"], STATUSES, record, "status"),
            formula_zh=r["formula_zh"],
            formula_en=r["formula_en"],
        )
        if ind.status == "monitor" and ind.weight != 0:
            raise CatalogueRefused(record, "weight", f"a monitor-only indicator weighs 0 (got {ind.weight})")
        if ind.status == "active" and ind.weight == 0:
            raise CatalogueRefused(record, "weight", "an active indicator weighs more than 0")
        indicators.append(ind)
    for d in dims:
        total = sum((i.weight for i in indicators if i.dimension == d.code and i.active), Decimal(0))
        if total != HUNDRED:
            raise CatalogueRefused(
                f"catalogue.csv dimension {d.code}", "weight", f"active weights must sum to 100 (got {total})"
            )
    return Catalogue(tuple(dims), tuple(indicators))


@cache
def builtin_catalogue() -> Catalogue:
    """The catalogue shipped with Dianshu (data/): the default of every city's first version."""
    return parse_catalogue(
        (DATA / "catalogue.csv").read_text(encoding="utf-8"), (DATA / "dimensions.csv").read_text(encoding="utf-8")
    )

"""The catalogue's versions in the database: load a catalogue as a draft (idempotent by content),
publish it for a period of years (then immutable: database triggers), rebuild a stored version as
the exact Catalogue it was loaded from, and find the version in force for a year.

The catalogue is city-wide reference data, like the DRG standards: one catalogue for every region
(and every city of the deployment). A city administrator loads and publishes through the API, the
platform's operator through the CLI (as the owner role); nobody else changes it, everybody reads it.

A version is in force for year Y when it is published (or since retired) and
effective_from <= Y < effective_to (no effective_to: open-ended); of several, the one that took
effect last."""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import or_, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from dianshu.audit import service as audit
from dianshu.errors import Refused
from dianshu.evaluation.catalogue import Catalogue, Dimension, Indicator, builtin_catalogue
from dianshu.evaluation.models import EvaluationCatalogueVersion, EvaluationDimension, EvaluationIndicator
from dianshu.scope import Role, Scope

MIN_YEAR, MAX_YEAR = 2000, 2100
# Who may load and publish a catalogue: the city's bureau administrator; `system` is the platform's
# operator (the CLI, the demo).
MAINTAINERS = (Role.city_admin, Role.system)


class CatalogueVersionRefused(Refused):
    """A catalogue version refused: record is "catalogue version <label or id>"."""


@dataclass(frozen=True)
class LoadedCatalogue:
    version: EvaluationCatalogueVersion
    created: bool  # False: the same content was already stored (nothing written)


def plain(d: Decimal) -> Decimal:
    """A weight as the catalogue file writes it: no trailing zeros, no exponent (25.0000 -> 25)."""
    n = d.normalize()
    return n.quantize(Decimal(1)) if n == n.to_integral_value() else n


def catalogue_hash(catalogue: Catalogue) -> str:
    """sha256 of the catalogue's content in file order (weights as plain decimals)."""
    content = {
        "dimensions": [[d.code, d.name_zh, d.name_en, str(plain(d.weight))] for d in catalogue.dimensions],
        "indicators": [
            [
                i.code,
                i.dimension,
                i.name_zh,
                i.name_en,
                i.computation,
                i.direction,
                i.source,
                i.unit,
                str(plain(i.weight)),
                i.status,
                i.formula_zh,
                i.formula_en,
            ]
            for i in catalogue.indicators
        ],
    }
    return hashlib.sha256(json.dumps(content, ensure_ascii=False, separators=(",", ":")).encode()).hexdigest()


def builtin_label() -> str:
    """The label the built-in catalogue is loaded under: its content hash's first 8 digits."""
    return f"builtin-{catalogue_hash(builtin_catalogue())[:8]}"


def _check_maintainer(scope: Scope) -> None:
    if scope.role not in MAINTAINERS:
        raise PermissionError(f"role {scope.role.value} may not change the evaluation catalogue (city_admin only)")


async def _audit(session: AsyncSession, scope: Scope, action: str, v: EvaluationCatalogueVersion, **details) -> None:
    """City-wide data, audited in the caller's first tenant (a city admin's city comes first)."""
    if scope.tenant_ids:
        await audit.record(
            session, scope, scope.tenant_ids[0], action, f"evaluation_catalogue:{v.label}", id=str(v.id), **details
        )


async def load_catalogue(
    session: AsyncSession, scope: Scope, catalogue: Catalogue | None = None, label: str | None = None
) -> LoadedCatalogue:
    """Store a catalogue (default: the built-in one) as a draft version. The same content again
    writes nothing and returns the stored version (whatever its status and label); a label already
    used for other content is refused."""
    _check_maintainer(scope)
    catalogue = catalogue or builtin_catalogue()
    content_hash = catalogue_hash(catalogue)
    label = (label or (builtin_label() if catalogue == builtin_catalogue() else "")).strip()
    record = f"catalogue version {label or '(no label)'}"
    if not label or len(label) > 60:
        raise CatalogueVersionRefused(record, "label", "required, at most 60 characters")
    V = EvaluationCatalogueVersion

    async def stored() -> EvaluationCatalogueVersion | None:
        return (await session.execute(select(V).where(V.content_hash == content_hash))).scalar_one_or_none()

    if (existing := await stored()) is not None:
        return LoadedCatalogue(existing, False)
    version_id = uuid.uuid4()
    inserted = await session.execute(
        insert(V)
        .values(
            id=version_id,
            label=label,
            content_hash=content_hash,
            status="draft",
            indicator_count=len(catalogue.indicators),
            loaded_by=scope.actor,
        )
        # A concurrent load of the same content (or the same label) waits, then inserts nothing.
        .on_conflict_do_nothing()
        .returning(V.id)
    )
    if inserted.first() is None:
        if (existing := await stored()) is not None:
            return LoadedCatalogue(existing, False)
        raise CatalogueVersionRefused(record, "label", f"{label!r} is already the label of another catalogue")
    await session.execute(
        insert(EvaluationDimension),
        [
            {"version_id": version_id, "position": n, **_fields(d, ("code", "name_zh", "name_en", "weight"))}
            for n, d in enumerate(catalogue.dimensions)
        ],
    )
    await session.execute(
        insert(EvaluationIndicator),
        [
            {"version_id": version_id, "position": n, **_fields(i, _INDICATOR)}
            for n, i in enumerate(catalogue.indicators)
        ],
    )
    v = (await session.execute(select(V).where(V.id == version_id))).scalar_one()
    await _audit(session, scope, "evaluation_catalogue.loaded", v, content_hash=content_hash)
    return LoadedCatalogue(v, True)


_INDICATOR = (
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


def _fields(obj: object, names: tuple[str, ...]) -> dict[str, object]:
    return {n: getattr(obj, n) for n in names}


def _year(value: object, record: str, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise CatalogueVersionRefused(record, field, f"a year as a whole number (got {value!r})")
    if not MIN_YEAR <= value <= MAX_YEAR:
        raise CatalogueVersionRefused(record, field, f"must be between {MIN_YEAR} and {MAX_YEAR} (got {value})")
    return value


async def publish_catalogue(
    session: AsyncSession, scope: Scope, version_id: uuid.UUID, effective_from: int, effective_to: int | None = None
) -> EvaluationCatalogueVersion:
    """draft -> published for the years [effective_from, effective_to): immutable from then on.
    Publishing again with the same period writes nothing (and audits nothing)."""
    _check_maintainer(scope)
    V = EvaluationCatalogueVersion
    v = (await session.execute(select(V).where(V.id == version_id).with_for_update())).scalar_one_or_none()
    if v is None:
        raise CatalogueVersionRefused(
            f"catalogue version {version_id}", "id", "no such catalogue version", kind="not_found"
        )
    record = f"catalogue version {v.label}"
    start = _year(effective_from, record, "effective_from")
    end = None if effective_to is None else _year(effective_to, record, "effective_to")
    if end is not None and end <= start:
        raise CatalogueVersionRefused(
            record, "effective_to", f"must be after effective_from ({start}): it is the first year no longer in force"
        )
    if v.status == "published" and (v.effective_from, v.effective_to) == (start, end):
        return v  # retried: nothing to do
    if v.status != "draft":
        raise CatalogueVersionRefused(
            record,
            "id",
            f"is {v.status} (in force {v.effective_from}–{v.effective_to or ''}): only a draft can be published",
            kind="state",
        )
    await session.execute(
        text(
            "update evaluation_catalogue_version set status = 'published', effective_from = :f, effective_to = :t,"
            " published_at = now() where id = :id"
        ),
        {"f": start, "t": end, "id": version_id},
    )
    await session.refresh(v)
    await _audit(session, scope, "evaluation_catalogue.published", v, effective_from=start, effective_to=end)
    return v


_CACHE: dict[uuid.UUID, Catalogue] = {}


async def catalogue_of(session: AsyncSession, version_id: uuid.UUID) -> Catalogue:
    """A stored version rebuilt exactly as the Catalogue it was loaded from (its rows never change
    once stored: the runtime role may only add them, and only to a draft; cached per process)."""
    if version_id in _CACHE:
        return _CACHE[version_id]
    dims = (
        (
            await session.execute(
                select(EvaluationDimension)
                .where(EvaluationDimension.version_id == version_id)
                .order_by(EvaluationDimension.position)
            )
        )
        .scalars()
        .all()
    )
    if not dims:
        raise CatalogueVersionRefused(
            f"catalogue version {version_id}", "id", "no such catalogue version", kind="not_found"
        )
    inds = (
        (
            await session.execute(
                select(EvaluationIndicator)
                .where(EvaluationIndicator.version_id == version_id)
                .order_by(EvaluationIndicator.position)
            )
        )
        .scalars()
        .all()
    )
    catalogue = Catalogue(
        tuple(Dimension(d.code, d.name_zh, d.name_en, plain(d.weight)) for d in dims),
        tuple(
            Indicator(**{n: (plain(getattr(i, n)) if n == "weight" else getattr(i, n)) for n in _INDICATOR})
            for i in inds
        ),
    )
    _CACHE[version_id] = catalogue
    return catalogue


def in_force_query(year: int):
    V = EvaluationCatalogueVersion
    return (
        select(V)
        .where(
            V.status.in_(("published", "retired")),
            V.effective_from <= year,
            or_(V.effective_to.is_(None), V.effective_to > year),
        )
        .order_by(V.effective_from.desc(), V.published_at.desc())
        .limit(1)
    )


async def version_in_force(session: AsyncSession, year: int) -> EvaluationCatalogueVersion | None:
    return (await session.execute(in_force_query(year))).scalar_one_or_none()


async def catalogue_in_force(session: AsyncSession, year: int) -> tuple[uuid.UUID, str, Catalogue]:
    """The published catalogue in force for `year`: (version id, label, catalogue); refused
    (not_found) when none is."""
    v = await version_in_force(session, year)
    if v is None:
        raise CatalogueVersionRefused(
            f"evaluation catalogue {year}", "year", f"no evaluation catalogue is published for {year}", kind="not_found"
        )
    return v.id, v.label, await catalogue_of(session, v.id)


BUILTIN_FROM = 2000  # the built-in catalogue, published by ensure_builtin_catalogue, is in force from


async def ensure_builtin_catalogue(session: AsyncSession, scope: Scope) -> EvaluationCatalogueVersion:
    """Load the built-in catalogue and, while it is a draft, publish it open-ended from BUILTIN_FROM
    (idempotent: the demo and tests call it every time)."""
    loaded = await load_catalogue(session, scope)
    if loaded.version.status == "draft":
        return await publish_catalogue(session, scope, loaded.version.id, BUILTIN_FROM)
    return loaded.version

"""The evaluation catalogue in GraphQL: the catalogue in force for a year or of a version, its
versions, loading the built-in catalogue and publishing a version (the city administrator), and the
indicator values the bureau enters per hospital and year (row-level security: a hospital sees its
own)."""

from __future__ import annotations

import uuid
from typing import Annotated

import strawberry
from sqlalchemy import select, tuple_
from strawberry.types import Info

from dianshu.errors import Refused
from dianshu.evaluation import entries, versions
from dianshu.evaluation.models import EvaluationCatalogueVersion as VersionRow
from dianshu.evaluation.models import EvaluationEntry as EntryRow
from dianshu.scope import Role
from dianshu_graphql import node, pagination
from dianshu_graphql.errors import ExpectedError, NotFound, PermissionDenied, StateConflict, ValidationError, invalid
from dianshu_graphql.errors import refused as as_union
from dianshu_graphql.permissions import ANYONE, Allow
from dianshu_graphql.types.evaluation_catalogue import (
    EnterEvaluationIndicatorInput,
    EvaluationCatalogue,
    EvaluationCatalogueVersion,
    EvaluationCatalogueVersionPayload,
    EvaluationEntry,
    EvaluationEntryPayload,
)
from dianshu_graphql.types.standards import VersionStatus

LoadEvaluationCatalogueResult = Annotated[
    EvaluationCatalogueVersionPayload | ValidationError | PermissionDenied,
    strawberry.union("LoadEvaluationCatalogueResult"),
]
PublishEvaluationCatalogueResult = Annotated[
    EvaluationCatalogueVersionPayload | ValidationError | PermissionDenied | NotFound | StateConflict,
    strawberry.union("PublishEvaluationCatalogueResult"),
]
EnterEvaluationIndicatorResult = Annotated[
    EvaluationEntryPayload | ValidationError | PermissionDenied | NotFound,
    strawberry.union("EnterEvaluationIndicatorResult"),
]

TYPE = "EvaluationCatalogueVersion"
# The client's names of the domain's fields.
_PATHS = {"effective_from": "effectiveFrom", "effective_to": "effectiveTo"}


def _version_id(value: str, field: str) -> uuid.UUID:
    """An id argument: the version's global id or its databaseId."""
    return node.key_of(value, TYPE, field=field, raw=node.uuid_part, what="an id")[0]


async def fetch_version(info: Info, version_id: uuid.UUID) -> EvaluationCatalogueVersion | None:
    """A catalogue version (city-wide reference data: everyone sees every version)."""
    async with info.context.session() as s:
        v = await s.get(VersionRow, version_id)
    return EvaluationCatalogueVersion.of(v) if v else None


node.register(EvaluationCatalogueVersion, node.uuid_part, fetch=fetch_version)


@strawberry.type
class EvaluationCatalogueQuery:
    @strawberry.field(
        description="The evaluation catalogue (考核指标目录): the version in force for `year` (published, "
        "year in [effectiveFrom, effectiveTo), the one that took effect last), or the version `version` "
        "(any status). Null when none is in force."
    )
    async def evaluation_catalogue(
        self, info: Info, year: int | None = None, version: strawberry.ID | None = None
    ) -> EvaluationCatalogue | None:
        if (year is None) == (version is None):
            raise ExpectedError("year: give a year or a version (one of them)")
        async with info.context.session() as s:
            if version is not None:
                v = await s.get(VersionRow, _version_id(version, "version"))
            else:
                v = await versions.version_in_force(s, year)  # type: ignore[arg-type]
            if v is None:
                return None
            return EvaluationCatalogue.of(v, await versions.catalogue_of(s, v.id))

    @strawberry.field(description="The catalogue's versions, oldest first.")
    async def evaluation_catalogue_versions(
        self, info: Info, status: VersionStatus | None = None, first: int | None = 50, after: str | None = None
    ) -> pagination.Connection[EvaluationCatalogueVersion]:
        limit = pagination.page_size(first)
        cursor = pagination.decode_cursor(after, pagination.iso_datetime, uuid.UUID)
        V = VersionRow
        q = select(V).order_by(V.loaded_at, V.id).limit(limit + 1)
        if status is not None:
            q = q.where(V.status == status.value)
        if cursor:
            q = q.where(tuple_(V.loaded_at, V.id) > tuple_(cursor[0], cursor[1]))
        async with info.context.session() as s:
            rows = list((await s.execute(q)).scalars())
        return pagination.build(
            rows, limit, lambda v: [v.loaded_at.isoformat(), str(v.id)], EvaluationCatalogueVersion.of, after=after
        )

    @strawberry.field(
        description="Entered indicator values of a year (a hospital sees its own, a region its hospitals', the "
        "city all), by region, hospital and code.",
        extensions=[Allow(*ANYONE)],
    )
    async def evaluation_entries(
        self,
        info: Info,
        year: int,
        tenant: str | None = None,
        hospital: str | None = None,
        code: str | None = None,
        first: int | None = 50,
        after: str | None = None,
    ) -> pagination.Connection[EvaluationEntry]:
        limit = pagination.page_size(first)
        cursor = pagination.decode_cursor(after, str, str, str)
        E = EntryRow
        q = entries.entries_query(year, tenant, hospital, code).limit(limit + 1)
        if cursor:
            q = q.where(tuple_(E.tenant_id, E.hospital_id, E.code) > tuple_(*cursor))
        async with info.context.session() as s:
            rows = list((await s.execute(q)).scalars())
        return pagination.build(
            rows, limit, lambda e: [e.tenant_id, e.hospital_id, e.code], EvaluationEntry.of, after=after
        )


@strawberry.type
class EvaluationCatalogueMutation:
    @strawberry.mutation(
        description="Store the built-in evaluation catalogue as a draft version (the same content again: the "
        "stored version, nothing written).",
        extensions=[Allow(Role.city_admin)],
    )
    async def load_evaluation_catalogue(self, info: Info) -> LoadEvaluationCatalogueResult:
        try:
            async with info.context.session() as s:
                loaded = await versions.load_catalogue(s, info.context.scope)
        except Refused as e:
            return as_union(e)  # type: ignore[return-value]
        return EvaluationCatalogueVersionPayload(
            version=EvaluationCatalogueVersion.of(loaded.version), created=loaded.created
        )

    @strawberry.mutation(
        description="Publish a draft catalogue version for the years [effectiveFrom, effectiveTo): immutable "
        "from then on (publishing again with the same years is a no-op).",
        extensions=[Allow(Role.city_admin)],
    )
    async def publish_evaluation_catalogue(
        self, info: Info, id: strawberry.ID, effective_from: int, effective_to: int | None = None
    ) -> PublishEvaluationCatalogueResult:
        try:
            vid = _version_id(id, "id")
        except ExpectedError as e:
            return invalid(f"catalogue version {str(id)[:100]}", "id", "not an id", str(e))
        try:
            async with info.context.session() as s:
                before = await s.get(VersionRow, vid)
                was = None if before is None else (before.status, before.effective_from, before.effective_to)
                v = await versions.publish_catalogue(s, info.context.scope, vid, effective_from, effective_to)
                created = was != (v.status, v.effective_from, v.effective_to)
        except Refused as e:
            return as_union(e, path=lambda f: _PATHS.get(f, f))
        return EvaluationCatalogueVersionPayload(version=EvaluationCatalogueVersion.of(v), created=created)

    @strawberry.mutation(
        description="Enter (or correct) a hospital's value of an entered indicator for a year (the same value "
        "again writes nothing; a change is audited old -> new).",
        extensions=[Allow(Role.city_admin, Role.region_admin)],
    )
    async def enter_evaluation_indicator(
        self, info: Info, input: EnterEvaluationIndicatorInput
    ) -> EnterEvaluationIndicatorResult:
        try:
            async with info.context.session() as s:
                done = await entries.enter_indicator(
                    s, info.context.scope, input.tenant, input.hospital, input.year, input.code, input.value, input.note
                )
        except Refused as e:
            return as_union(e, path=lambda f: f"input.{f}")  # type: ignore[return-value]
        return EvaluationEntryPayload(entry=EvaluationEntry.of(done.entry), changed=done.changed)

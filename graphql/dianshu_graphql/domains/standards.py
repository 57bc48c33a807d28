from __future__ import annotations

import dataclasses
import datetime
import uuid

import strawberry
from sqlalchemy import and_, or_, select
from strawberry.types import Info

from dianshu.grouping.records import RecordError, parse_input
from dianshu.scope import Role
from dianshu.standards import service
from dianshu.standards.models import DrgAdrg, DrgGroup, DrgSchemeVersion, PaymentStandard, PaymentStandardDrg
from dianshu_graphql import pagination
from dianshu_graphql.errors import ExpectedError
from dianshu_graphql.permissions import require_roles
from dianshu_graphql.types.standards import (
    DraftCaseInput,
    Drg,
    DrgParameters,
    Grouping,
    StandardVersion,
    VersionStatus,
)
from dianshu_graphql.types.standards import PaymentStandard as PaymentStandardType


def _uuid(value: str, field: str) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError as e:
        raise ExpectedError(f"{field}: {value!r} is not an id") from e


async def resolve_version(info: Info, version: str | None, scheme: str | None) -> DrgSchemeVersion:
    """An explicit version; else the caller's city's current payment standard's version; else the
    newest published version of `scheme` in force today."""
    today = datetime.date.today()
    async with info.context.session() as s:
        if version:
            v = await s.get(DrgSchemeVersion, _uuid(version, "version"))
            if v is None:
                raise ExpectedError(f"version: no standard version {version}")
            return v
        if scheme is None:
            cities = [c for c in info.context.scope.tenant_ids]
            ps = (
                await s.execute(
                    select(PaymentStandard)
                    .where(
                        PaymentStandard.status == "published",
                        PaymentStandard.city_code.in_(await _cities_of(info, cities)),
                        PaymentStandard.effective_from <= today,
                        or_(PaymentStandard.effective_to.is_(None), PaymentStandard.effective_to > today),
                    )
                    .order_by(PaymentStandard.effective_from.desc())
                    .limit(1)
                )
            ).scalar_one_or_none()
            if ps is None:
                raise ExpectedError("scheme: no payment standard is in force for your city; name a scheme or version")
            return await s.get(DrgSchemeVersion, ps.scheme_version_id)  # type: ignore[return-value]
        v = (
            await s.execute(
                select(DrgSchemeVersion)
                .where(
                    DrgSchemeVersion.scheme_code == scheme,
                    DrgSchemeVersion.status == "published",
                    DrgSchemeVersion.effective_from <= today,
                    or_(DrgSchemeVersion.effective_to.is_(None), DrgSchemeVersion.effective_to > today),
                )
                .order_by(DrgSchemeVersion.effective_from.desc())
                .limit(1)
            )
        ).scalar_one_or_none()
        if v is None:
            raise ExpectedError(f"scheme: no published version of {scheme} is in force today")
        return v


async def _cities_of(info: Info, tenant_ids: list[str]) -> list[str]:
    tenants = await info.context.registry.all()
    return sorted({c if tenants[c].kind == "city" else tenants[c].parent_code for c in tenant_ids if c in tenants})


@strawberry.type
class StandardsQuery:
    @strawberry.field(description="Grouping scheme versions (city-wide reference data).")
    async def standard_versions(
        self, info: Info, scheme: str | None = None, status: VersionStatus | None = None
    ) -> list[StandardVersion]:
        q = select(DrgSchemeVersion).order_by(DrgSchemeVersion.scheme_code, DrgSchemeVersion.loaded_at)
        if scheme:
            q = q.where(DrgSchemeVersion.scheme_code == scheme)
        if status:
            q = q.where(DrgSchemeVersion.status == status.value)
        async with info.context.session() as s:
            return [StandardVersion.of(v) for v in (await s.execute(q)).scalars()]

    @strawberry.field(description="The DRGs of a version, by code.")
    async def drgs(
        self,
        info: Info,
        version: strawberry.ID,
        mdc: str | None = None,
        adrg: str | None = None,
        first: int | None = 100,
        after: str | None = None,
    ) -> pagination.Connection[Drg]:
        limit = pagination.page_size(first)
        cursor = pagination.decode_cursor(after, str)
        vid = _uuid(version, "version")
        q = (
            select(DrgGroup, DrgAdrg.mdc)
            .outerjoin(DrgAdrg, and_(DrgAdrg.version_id == DrgGroup.version_id, DrgAdrg.adrg == DrgGroup.adrg))
            .where(DrgGroup.version_id == vid)
            .order_by(DrgGroup.drg)
            .limit(limit + 1)
        )
        if mdc:
            q = q.where(DrgAdrg.mdc == mdc)
        if adrg:
            q = q.where(DrgGroup.adrg == adrg)
        if cursor:
            q = q.where(DrgGroup.drg > cursor[0])
        async with info.context.session() as s:
            rows = (await s.execute(q)).all()
        return pagination.build(
            rows,
            limit,
            lambda r: [r[0].drg],
            lambda r: Drg(
                code=strawberry.ID(r[0].drg), name=r[0].name, adrg=r[0].adrg, mdc=r[1], condition=r[0].condition
            ),
        )

    @strawberry.field(description="Payment standards of your city (or cities).")
    async def payment_standards(self, info: Info) -> list[PaymentStandardType]:
        cities = await _cities_of(info, list(info.context.scope.tenant_ids))
        async with info.context.session() as s:
            rows = (
                await s.execute(
                    select(PaymentStandard)
                    .where(PaymentStandard.city_code.in_(cities))
                    .order_by(PaymentStandard.created_at)
                )
            ).scalars()
            return [PaymentStandardType.of(p) for p in rows]

    @strawberry.field(description="Base points and parameters per DRG of a payment standard.")
    async def base_points(
        self,
        info: Info,
        standard: strawberry.ID,
        drg: str | None = None,
        first: int | None = 100,
        after: str | None = None,
    ) -> pagination.Connection[DrgParameters]:
        limit = pagination.page_size(first)
        cursor = pagination.decode_cursor(after, str)
        sid = _uuid(standard, "standard")
        cities = await _cities_of(info, list(info.context.scope.tenant_ids))
        q = (
            select(PaymentStandardDrg)
            .join(PaymentStandard, PaymentStandard.id == PaymentStandardDrg.standard_id)
            .where(PaymentStandardDrg.standard_id == sid, PaymentStandard.city_code.in_(cities))
            .order_by(PaymentStandardDrg.drg)
            .limit(limit + 1)
        )
        if drg:
            q = q.where(PaymentStandardDrg.drg == drg)
        if cursor:
            q = q.where(PaymentStandardDrg.drg > cursor[0])
        async with info.context.session() as s:
            rows = list((await s.execute(q)).scalars())
        return pagination.build(rows, limit, lambda p: [p.drg], DrgParameters.of)

    @strawberry.field(description="Group one draft case and explain the result (the pre-event check's grouper).")
    async def group_draft(
        self,
        info: Info,
        case: DraftCaseInput,
        version: strawberry.ID | None = None,
        scheme: str | None = None,
        trace: bool = True,
    ) -> Grouping:
        require_roles(
            info,
            {
                Role.city_admin,
                Role.city_viewer,
                Role.region_admin,
                Role.region_viewer,
                Role.hospital_user,
                Role.integrator,
            },
        )
        try:
            record = parse_input(dataclasses.asdict(case))
        except RecordError as e:
            raise ExpectedError(f"case.{e.field}: {e.reason}") from e
        v = await resolve_version(info, version, scheme)
        async with info.context.session() as s:
            try:
                grouper = await service.grouper_for(s, v.id)
            except service.StandardsError as e:
                raise ExpectedError(f"version: {e}") from e
        return Grouping.of(grouper.group(record, trace=trace), v.scheme_code, v.label)


@strawberry.input
class CalibrateInput:
    city: str
    version: strawberry.ID = strawberry.field(description="The scheme version to group the history with.")
    years: list[int] = strawberry.field(description="One to three history years.")
    year_weights: list[str] | None = strawberry.field(default=None, description="Default 1:2:7, newest last.")
    label: str | None = None
    idempotency_key: str | None = None


@strawberry.type
class PaymentStandardPayload:
    standard: PaymentStandardType


@strawberry.type
class StandardsMutation:
    @strawberry.mutation(description="Calibrate a draft payment standard from history years (a job).")
    async def calibrate_standard(self, info: Info, input: CalibrateInput) -> strawberry.scalars.JSON:
        from dianshu.jobs import service as jobs
        from dianshu.jobs.errors import JobRejected
        from dianshu.standards.jobs import CALIBRATE
        from dianshu_graphql.permissions import require_tenant

        require_roles(info, {Role.city_admin})
        require_tenant(info, input.city)
        params = {
            "version": str(input.version),
            "years": input.years,
            "label": input.label,
            "year_weights": input.year_weights,
        }
        ctx = info.context
        try:
            async with ctx.session() as s:
                job, created = await jobs.submit(
                    s, ctx.db, ctx.scope, input.city, CALIBRATE, params, idempotency_key=input.idempotency_key
                )
        except JobRejected as e:
            raise ExpectedError(str(e), "input") from e
        return {"job": str(job.id), "created": created}

    @strawberry.mutation(description="Publish a draft payment standard; it becomes immutable.")
    async def publish_payment_standard(
        self, info: Info, id: strawberry.ID, effective_from: datetime.date, effective_to: datetime.date | None = None
    ) -> PaymentStandardType:
        require_roles(info, {Role.city_admin})
        sid = _uuid(id, "id")
        async with info.context.session() as s:
            ps = await s.get(PaymentStandard, sid)
            if ps is None or ps.city_code not in await _cities_of(info, list(info.context.scope.tenant_ids)):
                raise ExpectedError(f"id: no payment standard {id} of your city")
            try:
                ps = await service.publish_payment_standard(s, sid, effective_from, effective_to)
            except service.StandardsError as e:
                raise ExpectedError(str(e)) from e
            return PaymentStandardType.of(ps)

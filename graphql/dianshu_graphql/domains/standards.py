from __future__ import annotations

import dataclasses
import datetime
import uuid
from typing import Annotated

import strawberry
from sqlalchemy import and_, select, tuple_
from strawberry.types import Info

from dianshu.grouping.records import RecordError, parse_input
from dianshu.scope import Role
from dianshu.standards import service
from dianshu.standards.in_force import in_force, version_in_force
from dianshu.standards.jobs import CALIBRATE
from dianshu.standards.models import DrgAdrg, DrgGroup, DrgSchemeVersion, PaymentStandard, PaymentStandardDrg
from dianshu_graphql import node, pagination
from dianshu_graphql.domains.grouping import JobSubmissionResult, submit
from dianshu_graphql.errors import (
    ExpectedError,
    FieldError,
    NotFound,
    PermissionDenied,
    StateConflict,
    ValidationError,
    invalid,
)
from dianshu_graphql.permissions import Allow
from dianshu_graphql.types.standards import (
    DraftCaseInput,
    Drg,
    DrgParameters,
    Grouping,
    StandardVersion,
    VersionStatus,
)
from dianshu_graphql.types.standards import PaymentStandard as PaymentStandardType

# Who may group a draft case: every person's role but an expert's.
GROUP_DRAFT = Allow(
    Role.city_admin, Role.city_viewer, Role.region_admin, Role.region_viewer, Role.hospital_user, Role.integrator
)


def _uuid(value: str, field: str, type_name: str = "StandardVersion") -> uuid.UUID:
    """An id argument: the object's global id or its databaseId."""
    return node.key_of(value, type_name, field=field, raw=node.uuid_part, what="an id")[0]


async def fetch_version(info: Info, version_id: uuid.UUID) -> StandardVersion | None:
    """A scheme version (city-wide reference data: everyone sees every version)."""
    async with info.context.session() as s:
        v = await s.get(DrgSchemeVersion, version_id)
    return StandardVersion.of(v) if v else None


async def fetch_drg(info: Info, version_id: uuid.UUID, code: str) -> Drg | None:
    async with info.context.session() as s:
        row = (
            await s.execute(
                select(DrgGroup, DrgAdrg.mdc)
                .outerjoin(DrgAdrg, and_(DrgAdrg.version_id == DrgGroup.version_id, DrgAdrg.adrg == DrgGroup.adrg))
                .where(DrgGroup.version_id == version_id, DrgGroup.drg == code)
            )
        ).first()
    return Drg.of(row[0], row[1]) if row else None


async def fetch_standard(info: Info, standard_id: uuid.UUID) -> PaymentStandardType | None:
    """A payment standard of the caller's city (or cities), as `paymentStandards` lists them."""
    cities = await _cities_of(info, list(info.context.scope.tenant_ids))
    async with info.context.session() as s:
        ps = await s.get(PaymentStandard, standard_id)
    return PaymentStandardType.of(ps) if ps is not None and ps.city_code in cities else None


async def fetch_drg_parameters(info: Info, standard_id: uuid.UUID, drg: str) -> DrgParameters | None:
    """A DRG's parameters in a standard of the caller's city, as `basePoints` lists them."""
    cities = await _cities_of(info, list(info.context.scope.tenant_ids))
    async with info.context.session() as s:
        row = (
            await s.execute(
                select(PaymentStandardDrg)
                .join(PaymentStandard, PaymentStandard.id == PaymentStandardDrg.standard_id)
                .where(
                    PaymentStandardDrg.standard_id == standard_id,
                    PaymentStandardDrg.drg == drg,
                    PaymentStandard.city_code.in_(cities),
                )
            )
        ).scalar_one_or_none()
    return DrgParameters.of(row) if row else None


node.register(StandardVersion, node.uuid_part, fetch=fetch_version)
node.register(Drg, node.uuid_part, node.text_part, fetch=fetch_drg)
node.register(PaymentStandardType, node.uuid_part, fetch=fetch_standard)
node.register(DrgParameters, node.uuid_part, node.text_part, fetch=fetch_drg_parameters)


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
            ps = (await s.execute(in_force(await _cities_of(info, cities), today))).scalar_one_or_none()
            if ps is None:
                raise ExpectedError("scheme: no payment standard is in force for your city; name a scheme or version")
            return await s.get(DrgSchemeVersion, ps.scheme_version_id)  # type: ignore[return-value]
        v = (await s.execute(version_in_force(scheme, today))).scalar_one_or_none()
        if v is None:
            raise ExpectedError(f"scheme: no published version of {scheme} is in force today")
        return v


async def _cities_of(info: Info, tenant_ids: list[str]) -> list[str]:
    tenants = await info.context.registry.all()
    return sorted({c if tenants[c].kind == "city" else tenants[c].parent_code for c in tenant_ids if c in tenants})


@strawberry.type
class StandardsQuery:
    @strawberry.field(description="Grouping scheme versions (city-wide reference data), by scheme, oldest first.")
    async def standard_versions(
        self,
        info: Info,
        scheme: str | None = None,
        status: VersionStatus | None = None,
        first: int | None = 50,
        after: str | None = None,
    ) -> pagination.Connection[StandardVersion]:
        limit = pagination.page_size(first)
        cursor = pagination.decode_cursor(after, str, pagination.iso_datetime, uuid.UUID)
        V = DrgSchemeVersion
        q = select(V).order_by(V.scheme_code, V.loaded_at, V.id).limit(limit + 1)
        if scheme:
            q = q.where(V.scheme_code == scheme)
        if status:
            q = q.where(V.status == status.value)
        if cursor:
            q = q.where(tuple_(V.scheme_code, V.loaded_at, V.id) > tuple_(cursor[0], cursor[1], cursor[2]))
        async with info.context.session() as s:
            rows = list((await s.execute(q)).scalars())
        return pagination.build(
            rows, limit, lambda v: [v.scheme_code, v.loaded_at.isoformat(), str(v.id)], StandardVersion.of, after=after
        )

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
        return pagination.build(rows, limit, lambda r: [r[0].drg], lambda r: Drg.of(r[0], r[1]), after=after)

    @strawberry.field(description="Payment standards of your city (or cities), oldest first.")
    async def payment_standards(
        self, info: Info, first: int | None = 50, after: str | None = None
    ) -> pagination.Connection[PaymentStandardType]:
        limit = pagination.page_size(first)
        cursor = pagination.decode_cursor(after, pagination.iso_datetime, uuid.UUID)
        cities = await _cities_of(info, list(info.context.scope.tenant_ids))
        P = PaymentStandard
        q = select(P).where(P.city_code.in_(cities)).order_by(P.created_at, P.id).limit(limit + 1)
        if cursor:
            q = q.where(tuple_(P.created_at, P.id) > tuple_(cursor[0], cursor[1]))
        async with info.context.session() as s:
            rows = list((await s.execute(q)).scalars())
        return pagination.build(
            rows, limit, lambda p: [p.created_at.isoformat(), str(p.id)], PaymentStandardType.of, after=after
        )

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
        sid = _uuid(standard, "standard", "PaymentStandard")
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
        return pagination.build(rows, limit, lambda p: [p.drg], DrgParameters.of, after=after)

    @strawberry.field(
        description="Group one draft case and explain the result (the pre-event check's grouper).",
        extensions=[GROUP_DRAFT],
    )
    async def group_draft(
        self,
        info: Info,
        case: DraftCaseInput,
        version: strawberry.ID | None = None,
        scheme: str | None = None,
        trace: bool = True,
    ) -> Grouping:
        try:
            record = parse_input({**dataclasses.asdict(case), "coding": case.coding.value})
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
    tenant: str = strawberry.field(description="The city (a calibration runs for a city with its regions).")
    version: strawberry.ID = strawberry.field(description="The scheme version to group the history with.")
    years: list[int] = strawberry.field(description="One to three history years.")
    year_weights: list[str] | None = strawberry.field(default=None, description="Default 1:2:7, newest last.")
    label: str | None = None
    idempotency_key: str | None = None


@strawberry.type(description="The payment standard as it is now.")
class PaymentStandardPayload:
    standard: PaymentStandardType


PublishPaymentStandardResult = Annotated[
    PaymentStandardPayload | ValidationError | PermissionDenied | NotFound | StateConflict,
    strawberry.union("PublishPaymentStandardResult"),
]


@strawberry.type
class StandardsMutation:
    @strawberry.mutation(
        description="Calibrate a draft payment standard from history years (a job; its result is a "
        "CalibrationJobResult).",
        extensions=[Allow(job=CALIBRATE)],
    )
    async def calibrate_standard(self, info: Info, input: CalibrateInput) -> JobSubmissionResult:
        try:
            version = str(_uuid(input.version, "input.version"))
        except ExpectedError:
            version = str(input.version)  # the job kind's check refuses it by field
        params = {"version": version, "years": input.years, "label": input.label, "year_weights": input.year_weights}
        return await submit(info, input.tenant, CALIBRATE, params, input.idempotency_key)

    @strawberry.mutation(
        description="Publish a draft payment standard; it becomes immutable (publishing again is a no-op).",
        extensions=[Allow(Role.city_admin)],
    )
    async def publish_payment_standard(
        self, info: Info, id: strawberry.ID, effective_from: datetime.date, effective_to: datetime.date | None = None
    ) -> PublishPaymentStandardResult:
        not_found = NotFound(
            message=f"id: no payment standard {str(id)[:100]} of your city",
            record=f"payment standard {str(id)[:100]}",
            field="id",
            id=id,
        )
        try:
            sid = _uuid(id, "id", "PaymentStandard")
        except ExpectedError as e:  # not an id at all: the input is wrong (as every mutation answers it)
            return invalid(f"payment standard {str(id)[:100]}", "id", "not an id", str(e))
        async with info.context.session() as s:
            ps = await s.get(PaymentStandard, sid)
            if ps is None or ps.city_code not in await _cities_of(info, list(info.context.scope.tenant_ids)):
                return not_found
            record = f"payment standard {sid}"
            try:
                ps = await service.publish_payment_standard(s, sid, effective_from, effective_to)
            except service.StandardStateError as e:
                return StateConflict(message=str(e), record=record, field="id", reason=str(e))
            except service.StandardPeriodError as e:
                refused = FieldError(record=record, field="effectiveTo", reason=str(e))
                return ValidationError(message=str(e), errors=[refused])
            except service.StandardsError as e:
                return ValidationError(message=str(e), errors=[FieldError(record=record, field="id", reason=str(e))])
            return PaymentStandardPayload(standard=PaymentStandardType.of(ps))

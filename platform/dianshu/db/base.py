"""The declarative base. Every tenant table carries `tenant_id` in its primary key and in every
unique and foreign key (what row-level security and Citus distribution both need)."""

from __future__ import annotations

from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


# Tables shared by every tenant (Citus reference tables). Anything else must carry tenant_id. The one
# list: the catalogue test, the Citus readiness check and `dianshu db citus-plan` (db/citus.py) read it.
CITY_WIDE_TABLES = frozenset(
    {
        "tenant",
        "service_account",
        "alembic_version",
        # DRG standards and payment standards (SPEC section 1: city-wide, shared by all tenants).
        "drg_scheme",
        "drg_scheme_version",
        "drg_mdc",
        "drg_mdc_dx",
        "drg_adrg",
        "drg_adrg_code",
        "drg_group",
        "new_technology",
        "drg_complication",
        "drg_or_procedure",
        "drg_code_edition",
        "payment_standard",
        "payment_standard_drg",
        # A city's default policy parameters, read by all its regions.
        "policy_default",
        # The evaluation catalogue (SPEC section 1: the indicator catalogue is city-wide).
        "evaluation_catalogue_version",
        "evaluation_dimension",
        "evaluation_indicator",
    }
)


def tenant_tables() -> list[str]:
    """Names of mapped tables that are tenant-scoped (have a tenant_id column)."""
    return sorted(t.name for t in Base.metadata.sorted_tables if "tenant_id" in t.c)

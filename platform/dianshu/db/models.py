"""Imports every mapped model so Base.metadata is complete (alembic and the catalogue test)."""

from dianshu.accounts.models import ServiceAccount
from dianshu.audit.models import AuditEntry
from dianshu.cases.models import CaseRecord, IngestionBatch, IngestionError, Upload, UploadChunk
from dianshu.grouping.models import CaseGrouping, GroupingComparison
from dianshu.jobs.models import Job
from dianshu.settlement.models import PolicyDefault, PolicyVersion
from dianshu.standards.models import (
    DrgAdrg,
    DrgAdrgCode,
    DrgComplication,
    DrgGroup,
    DrgMdc,
    DrgMdcDx,
    DrgOrProcedure,
    DrgScheme,
    DrgSchemeVersion,
    PaymentStandard,
    PaymentStandardDrg,
)
from dianshu.tenancy.models import Hospital, Tenant

__all__ = [
    "AuditEntry",
    "CaseGrouping",
    "CaseRecord",
    "DrgAdrg",
    "DrgAdrgCode",
    "DrgComplication",
    "DrgGroup",
    "DrgMdc",
    "DrgMdcDx",
    "DrgOrProcedure",
    "DrgScheme",
    "DrgSchemeVersion",
    "GroupingComparison",
    "Hospital",
    "IngestionBatch",
    "IngestionError",
    "Job",
    "PaymentStandard",
    "PaymentStandardDrg",
    "PolicyDefault",
    "PolicyVersion",
    "ServiceAccount",
    "Tenant",
    "Upload",
    "UploadChunk",
]

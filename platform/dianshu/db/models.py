"""Imports every mapped model so Base.metadata is complete (alembic and the catalogue test)."""

from dianshu.accounts.models import ServiceAccount
from dianshu.audit.models import AuditEntry
from dianshu.jobs.models import Job
from dianshu.tenancy.models import Hospital, Tenant

__all__ = ["AuditEntry", "Hospital", "Job", "ServiceAccount", "Tenant"]

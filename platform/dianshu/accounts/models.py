from __future__ import annotations

from datetime import datetime

from sqlalchemy import ARRAY, Boolean, DateTime, String, func
from sqlalchemy.orm import Mapped, mapped_column

from dianshu.db.base import Base


class ServiceAccount(Base):
    """An integrator's credential: the tenants (and optionally one hospital) it may act for.

    City-wide registry (an account may name several tenants). Tokens of role integrator name an
    account; a deactivated account's tokens stop working at once."""

    __tablename__ = "service_account"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    tenant_ids: Mapped[list[str]] = mapped_column(ARRAY(String(12)))
    hospital_id: Mapped[str | None] = mapped_column(String(20))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

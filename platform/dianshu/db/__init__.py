"""Storage plumbing: the declarative base, engines, and scoped sessions."""

from dianshu.db.base import Base
from dianshu.db.session import Database, scoped_session

__all__ = ["Base", "Database", "scoped_session"]

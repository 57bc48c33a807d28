"""The analytics tests' world (test_analytics.py builds it) for every module here."""

from tests.analytics.test_analytics import api, year  # noqa: F401
from tests.test_standards_db import builtin_versions  # noqa: F401

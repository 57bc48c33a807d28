"""Imports every mapped model so Base.metadata is complete (alembic and the catalogue test)."""

from dianshu.accounts.models import ServiceAccount
from dianshu.analytics.models import AnalyticsCell, AnalyticsMonth, AnalyticsRefresh
from dianshu.audit.models import AuditEntry
from dianshu.cases.models import CaseRecord, IngestionBatch, IngestionError, Upload, UploadChunk
from dianshu.evaluation.models import (
    EvaluationCatalogueVersion,
    EvaluationDimension,
    EvaluationEntry,
    EvaluationIndicator,
)
from dianshu.evaluation.run_models import (
    EvaluationDimensionScore,
    EvaluationIndicatorScore,
    EvaluationPeerStat,
    EvaluationResult,
    EvaluationRun,
)
from dianshu.grouping.models import CaseGrouping, GroupingComparison
from dianshu.jobs.models import Job
from dianshu.national.models import NationalExport, NationalExportItem
from dianshu.reviews.models import ExpertPool, ReviewAssignment, ReviewEvent, SpecialReview
from dianshu.settlement.models import (
    Alliance,
    AuditDeduction,
    Budget,
    CasePoint,
    CaseViolation,
    EvaluationScore,
    PointsMonth,
    PointsRun,
    PolicyDefault,
    PolicyVersion,
    SettlementLine,
    SettlementRun,
)
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
    NewTechnology,
    PaymentStandard,
    PaymentStandardDrg,
)
from dianshu.supervision.anomaly.models import AnomalyRun, CaseAnomaly, HospitalAnomaly
from dianshu.supervision.models import SupervisionFinding, SupervisionFindingCase
from dianshu.supervision.signals.models import HospitalSignal, SignalRun
from dianshu.tenancy.models import Hospital, Tenant
from dianshu.training.models import TrainingAttendance, TrainingCourse, TrainingPerson, TrainingSession

__all__ = [
    "Alliance",
    "AnalyticsCell",
    "AnalyticsMonth",
    "AnalyticsRefresh",
    "AnomalyRun",
    "AuditDeduction",
    "AuditEntry",
    "Budget",
    "CaseAnomaly",
    "CaseGrouping",
    "CasePoint",
    "CaseRecord",
    "CaseViolation",
    "DrgAdrg",
    "DrgAdrgCode",
    "DrgComplication",
    "DrgGroup",
    "DrgMdc",
    "DrgMdcDx",
    "DrgOrProcedure",
    "DrgScheme",
    "DrgSchemeVersion",
    "EvaluationCatalogueVersion",
    "EvaluationDimension",
    "EvaluationDimensionScore",
    "EvaluationEntry",
    "EvaluationIndicator",
    "EvaluationIndicatorScore",
    "EvaluationPeerStat",
    "EvaluationResult",
    "EvaluationRun",
    "EvaluationScore",
    "ExpertPool",
    "GroupingComparison",
    "Hospital",
    "HospitalAnomaly",
    "HospitalSignal",
    "IngestionBatch",
    "IngestionError",
    "Job",
    "NationalExport",
    "NationalExportItem",
    "NewTechnology",
    "PaymentStandard",
    "PaymentStandardDrg",
    "PointsMonth",
    "PointsRun",
    "PolicyDefault",
    "PolicyVersion",
    "ReviewAssignment",
    "ReviewEvent",
    "ServiceAccount",
    "SettlementLine",
    "SettlementRun",
    "SignalRun",
    "SpecialReview",
    "SupervisionFinding",
    "SupervisionFindingCase",
    "Tenant",
    "TrainingAttendance",
    "TrainingCourse",
    "TrainingPerson",
    "TrainingSession",
    "Upload",
    "UploadChunk",
]

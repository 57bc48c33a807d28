"""The schema: one Query and one Mutation merged from the domain modules, with the hardening
extensions. Extensions are passed as factories so no state is shared between requests."""

from __future__ import annotations

from pathlib import Path

import strawberry
from strawberry.extensions import (
    AddValidationRules,
    DisableIntrospection,
    MaskErrors,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    ValidationCache,
)
from strawberry.schema.config import StrawberryConfig
from strawberry.tools import merge_types

from dianshu.config import Profile, Settings
from dianshu_graphql.domains.analytics import AnalyticsMutation, AnalyticsQuery
from dianshu_graphql.domains.audit import AuditQuery
from dianshu_graphql.domains.budgets import BudgetsMutation, BudgetsQuery
from dianshu_graphql.domains.cases import CasesMutation, CasesQuery
from dianshu_graphql.domains.evaluation import EvaluationMutation, EvaluationQuery
from dianshu_graphql.domains.evaluation_catalogue import EvaluationCatalogueMutation, EvaluationCatalogueQuery
from dianshu_graphql.domains.grouping import GroupingMutation, GroupingQuery
from dianshu_graphql.domains.identity import IdentityQuery
from dianshu_graphql.domains.jobs import JobsQuery
from dianshu_graphql.domains.national import NationalMutation, NationalQuery
from dianshu_graphql.domains.points import PointsMutation, PointsQuery
from dianshu_graphql.domains.policies import PoliciesMutation, PoliciesQuery
from dianshu_graphql.domains.reviews import ReviewsMutation, ReviewsQuery
from dianshu_graphql.domains.settlement import SettlementMutation, SettlementQuery
from dianshu_graphql.domains.signals import SignalsMutation, SignalsQuery
from dianshu_graphql.domains.simulation import SimulationMutation, SimulationQuery
from dianshu_graphql.domains.standards import StandardsMutation, StandardsQuery
from dianshu_graphql.domains.supervision import SupervisionMutation, SupervisionQuery
from dianshu_graphql.domains.tenancy import TenancyMutation, TenancyQuery
from dianshu_graphql.domains.training import TrainingMutation, TrainingQuery
from dianshu_graphql.domains.workstation import WorkstationQuery
from dianshu_graphql.errors import EXPECTED, INTERNAL_SERVER_ERROR, error_code
from dianshu_graphql.guards import ArgumentGuard
from dianshu_graphql.language import asked
from dianshu_graphql.language import message as localized_message
from dianshu_graphql.node import NodeQuery, node_types
from dianshu_graphql.observe import OperationMetrics
from dianshu_graphql.scalars import SCALAR_MAP
from dianshu_graphql.types import job_results
from graphql import GraphQLError

Query = merge_types(
    "Query",
    (
        NodeQuery,
        IdentityQuery,
        TenancyQuery,
        JobsQuery,
        AuditQuery,
        StandardsQuery,
        CasesQuery,
        GroupingQuery,
        PoliciesQuery,
        SimulationQuery,
        BudgetsQuery,
        SettlementQuery,
        PointsQuery,
        ReviewsQuery,
        EvaluationCatalogueQuery,
        EvaluationQuery,
        SupervisionQuery,
        SignalsQuery,
        WorkstationQuery,
        TrainingQuery,
        NationalQuery,
        AnalyticsQuery,
    ),
)
Mutation = merge_types(
    "Mutation",
    (
        TenancyMutation,
        CasesMutation,
        GroupingMutation,
        StandardsMutation,
        PoliciesMutation,
        BudgetsMutation,
        PointsMutation,
        SettlementMutation,
        SimulationMutation,
        ReviewsMutation,
        EvaluationCatalogueMutation,
        EvaluationMutation,
        SupervisionMutation,
        SignalsMutation,
        TrainingMutation,
        NationalMutation,
        AnalyticsMutation,
    ),
)

SDL_PATH = Path(__file__).resolve().parents[2] / "schema.graphql"
# The released contracts, one immutable file per release (contract/<release>.graphql, in name order):
# each keeps the one before (a removal only of what it had deprecated), and the served schema keeps
# the latest (tests/test_schema_sdl.py; `dianshu schema --release NAME` adds one).
CONTRACT_DIR = Path(__file__).resolve().parents[2] / "contract"


def releases(directory: Path | None = None) -> list[Path]:
    """The released contracts, oldest first."""
    return sorted((directory or CONTRACT_DIR).glob("*.graphql"))


def should_mask(error: GraphQLError) -> bool:
    """Show validation/syntax errors and expected domain errors; hide everything unexpected."""
    original = error.original_error
    if original is None:
        return False
    return not isinstance(original, EXPECTED)


class ErrorCodes(MaskErrors):
    """MaskErrors with a code on every error a client gets: an expected error keeps its own
    (`extensions.code`, and `extensions.field` when it names one) or gets its kind's; a document the
    schema refuses (syntax, validation, a variable of the wrong type) is GRAPHQL_VALIDATION_FAILED;
    anything unexpected is masked as `Unexpected error.` with INTERNAL_SERVER_ERROR."""

    def __init__(self) -> None:
        super().__init__(should_mask_error=should_mask, error_message="Unexpected error.")

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        masked = super().anonymise_error(error)
        masked.extensions = {"code": INTERNAL_SERVER_ERROR}
        return masked

    def _process_errors(self, errors: list[GraphQLError]) -> list[GraphQLError]:
        out = super()._process_errors(errors)
        for error in out:
            extensions = dict(error.extensions or {})
            if "code" not in extensions:
                extensions["code"] = error_code(error)
            if asked() and extensions["code"] != INTERNAL_SERVER_ERROR:  # a language asked for: say it in it
                extensions["localizedMessage"] = localized_message(error.message)
            error.extensions = extensions
        return out


def build_schema(settings: Settings) -> strawberry.Schema:
    # The depth and alias limits are validation rules: built once here, so every request validates
    # with the same rule classes and ValidationCache (keyed by document and rules) hits. A
    # QueryDepthLimiter built per request makes a new rule class each time, and every request was
    # validated again (about a third of a workstationCheck's time). The rules hold no request
    # state (graphql-core makes an instance per validation); the extension is still one per request.
    limits = (
        *QueryDepthLimiter(max_depth=settings.max_query_depth).validation_rules,
        *MaxAliasesLimiter(max_alias_count=settings.max_aliases).validation_rules,
    )
    extensions: list = [
        lambda: MaxTokensLimiter(max_token_count=settings.max_tokens),
        lambda: AddValidationRules(list(limits)),
        lambda: ParserCache(maxsize=256),
        lambda: ValidationCache(maxsize=256),
        ArgumentGuard,
        ErrorCodes,
        OperationMetrics,
    ]
    if settings.profile is Profile.prod:
        extensions.append(DisableIntrospection)
    job_results.union()  # every domain has registered its job results by now (the imports above)
    return strawberry.Schema(
        query=Query,
        mutation=Mutation,
        types=node_types(),
        extensions=extensions,
        config=StrawberryConfig(scalar_map=SCALAR_MAP),
    )


def sdl() -> str:
    """The schema's SDL (as committed in schema.graphql)."""
    from dianshu.config import Settings

    return build_schema(Settings()).as_str() + "\n"

"""The schema: one Query and one Mutation merged from the domain modules, with the hardening
extensions. Extensions are passed as factories so no state is shared between requests."""

from __future__ import annotations

from pathlib import Path

import strawberry
from strawberry.extensions import (
    DisableIntrospection,
    MaskErrors,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    ValidationCache,
)
from strawberry.tools import merge_types

from dianshu.config import Profile, Settings
from dianshu_graphql.domains.budgets import BudgetsMutation, BudgetsQuery
from dianshu_graphql.domains.cases import CasesMutation, CasesQuery
from dianshu_graphql.domains.grouping import GroupingMutation, GroupingQuery
from dianshu_graphql.domains.identity import IdentityQuery
from dianshu_graphql.domains.jobs import JobsQuery
from dianshu_graphql.domains.points import PointsMutation, PointsQuery
from dianshu_graphql.domains.policies import PoliciesMutation, PoliciesQuery
from dianshu_graphql.domains.reviews import ReviewsMutation, ReviewsQuery
from dianshu_graphql.domains.settlement import SettlementMutation, SettlementQuery
from dianshu_graphql.domains.simulation import SimulationMutation, SimulationQuery
from dianshu_graphql.domains.standards import StandardsMutation, StandardsQuery
from dianshu_graphql.domains.tenancy import TenancyMutation, TenancyQuery
from dianshu_graphql.errors import EXPECTED
from dianshu_graphql.guards import ArgumentGuard
from graphql import GraphQLError

Query = merge_types(
    "Query",
    (
        IdentityQuery,
        TenancyQuery,
        JobsQuery,
        StandardsQuery,
        CasesQuery,
        GroupingQuery,
        PoliciesQuery,
        SimulationQuery,
        BudgetsQuery,
        SettlementQuery,
        PointsQuery,
        ReviewsQuery,
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
    ),
)

SDL_PATH = Path(__file__).resolve().parents[2] / "schema.graphql"


def should_mask(error: GraphQLError) -> bool:
    """Show validation/syntax errors and expected domain errors; hide everything unexpected."""
    original = error.original_error
    if original is None:
        return False
    return not isinstance(original, EXPECTED)


def build_schema(settings: Settings) -> strawberry.Schema:
    extensions: list = [
        lambda: MaxTokensLimiter(max_token_count=settings.max_tokens),
        lambda: QueryDepthLimiter(max_depth=settings.max_query_depth),
        lambda: MaxAliasesLimiter(max_alias_count=settings.max_aliases),
        lambda: ParserCache(maxsize=256),
        lambda: ValidationCache(maxsize=256),
        ArgumentGuard,
        lambda: MaskErrors(should_mask_error=should_mask, error_message="Unexpected error."),
    ]
    if settings.profile is Profile.prod:
        extensions.append(DisableIntrospection)
    return strawberry.Schema(query=Query, mutation=Mutation, extensions=extensions)


def sdl() -> str:
    """The schema's SDL (as committed in schema.graphql)."""
    from dianshu.config import Settings

    return build_schema(Settings()).as_str() + "\n"

"""GraphQL operation metrics: latency by operation name and type, and errors by operation name,
source and kind (the names are dianshu.observability.metrics'). A typed error returned by a root
field (a member of its result union: ValidationError, PermissionDenied, ...) is a client error
counted with source="result" and its type name; a top-level error with source="exception" and its
extensions.code (BAD_USER_INPUT, FORBIDDEN, INTERNAL_SERVER_ERROR, ...)."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Iterator
from inspect import isawaitable
from typing import Any

from strawberry.extensions import SchemaExtension

from dianshu.observability import metrics
from dianshu_graphql.errors import TYPED_ERRORS, error_code
from graphql import GraphQLError, GraphQLResolveInfo


class OperationMetrics(SchemaExtension):
    def __init__(self, *, execution_context: Any = None) -> None:
        super().__init__(execution_context=execution_context)
        self.typed: list[str] = []

    def on_operation(self) -> Iterator[None]:
        started = time.perf_counter()
        raised: list[GraphQLError] = []
        try:
            yield
        except Exception as e:
            # A refusal raised through the extensions (the token limiter's syntax error): strawberry
            # answers it as the one top-level error, coded as ErrorCodes codes it.
            raised.append(e if isinstance(e, GraphQLError) else GraphQLError(str(e), original_error=e))
            raise
        finally:
            self._record(time.perf_counter() - started, raised)

    def _record(self, seconds: float, raised: list[GraphQLError]) -> None:
        context = self.execution_context
        try:
            name = context.operation_name
        except Exception:  # a document that did not parse has no operation to name
            name = None
        operation = metrics.operation_label(name)
        try:
            kind = context.operation_type.value
        except Exception:
            kind = "unknown"
        metrics.GRAPHQL_SECONDS.labels(operation, kind).observe(seconds)
        for typename in self.typed:
            metrics.GRAPHQL_ERRORS.labels(operation, "result", typename).inc()
        result = context.result
        errors = raised or (result.errors if result is not None else None) or context.pre_execution_errors or []
        for error in errors:
            metrics.GRAPHQL_ERRORS.labels(operation, "exception", error_code(error)).inc()

    def resolve(self, _next: Callable, root: Any, info: GraphQLResolveInfo, *args: Any, **kwargs: Any) -> Any:
        result = _next(root, info, *args, **kwargs)
        if info.path.prev is not None:  # only root fields return result unions
            return result
        if isawaitable(result):
            return self._after(result)
        self._note(result)
        return result

    async def _after(self, pending: Awaitable[Any]) -> Any:
        value = await pending
        self._note(value)
        return value

    def _note(self, value: Any) -> None:
        if isinstance(value, TYPED_ERRORS):
            self.typed.append(type(value).__name__)

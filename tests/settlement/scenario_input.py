"""A JSON scenario (docs/scenario.schema.json, as `dianshu simulate` reads it) as the GraphQL
ScenarioInput variables: camelCase names, alliance shares as a list, a technology's `year` as
`useYear`. Values are left as they are, so a hostile value reaches GraphQL unchanged."""

from __future__ import annotations

from typing import Any

from strawberry.utils.str_converters import to_camel_case


def graphql_name(key: str) -> str:
    return "useYear" if key == "year" else to_camel_case(key)


def graphql_scenario(value: Any, parent: str | None = None) -> Any:
    if isinstance(value, list):
        return [graphql_scenario(v, parent) for v in value]
    if not isinstance(value, dict):
        return value
    out = {}
    for k, v in value.items():
        if k == "shares" and isinstance(v, dict):
            out["shares"] = [{"hospital": h, "share": r} for h, r in v.items()]
        elif k == "year" and parent != "new_technologies":
            out[k] = v
        else:
            out[graphql_name(k)] = graphql_scenario(v, k)
    return out


def graphql_policy(parameters: dict[str, Any]) -> dict[str, Any]:
    """Policy parameters (setPolicy's JSON names) as PolicyParametersInput."""
    return {
        to_camel_case(k): ({to_camel_case(a): b for a, b in v.items()} if isinstance(v, dict) else v)
        for k, v in parameters.items()
    }

"""The layout of ARCHITECTURE.md: dependencies point one way, and no folder shadows a stdlib or
graphql-core module."""

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

FORBIDDEN = {
    "platform/dianshu": {
        "dianshu_graphql",
        "dianshu_workers",
        "dianshu_tenants",
        "dianshu_cli",
        "dramatiq",
        "strawberry",
        "starlette",
    },
    "tenants/dianshu_tenants": {"dianshu_graphql", "dianshu_workers", "dianshu_cli", "dramatiq", "strawberry"},
    "graphql/dianshu_graphql": {"dianshu_workers", "dianshu_cli", "dramatiq"},
    "workers/dianshu_workers": {"dianshu_graphql", "dianshu_cli", "strawberry"},
}


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_dependencies_point_one_way():
    problems = []
    for folder, forbidden in FORBIDDEN.items():
        for f in (ROOT / folder).rglob("*.py"):
            bad = imported_modules(f) & forbidden
            if bad:
                problems.append(f"{f.relative_to(ROOT)} imports {sorted(bad)}")
    assert problems == []


def test_source_roots_are_not_packages():
    for folder in ("platform", "graphql", "tenants", "workers", "cli"):
        assert not (ROOT / folder / "__init__.py").exists(), f"{folder}/__init__.py would shadow a module"


MONEY_FLOAT = re.compile(r"float\(\s*[\w.]*(amount|money|points|pv|fee|cost|price|fund|pay|budget|total)", re.I)


def test_no_float_for_money_in_the_domain():
    """Hours and parsed literals may be floats; money and points never are."""
    for f in (ROOT / "platform").rglob("*.py"):
        for n, line in enumerate(f.read_text().splitlines(), start=1):
            assert not MONEY_FLOAT.search(line), f"{f.relative_to(ROOT)}:{n} converts money to float: use Decimal"

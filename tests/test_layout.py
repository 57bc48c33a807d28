"""The layout of ARCHITECTURE.md: dependencies point one way (between the source roots, and between
the layers inside a domain folder), no import cycle among the domain's modules, and no folder
shadows a stdlib or graphql-core module."""

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


PACKAGE = ROOT / "platform" / "dianshu"
# Every package of the source roots: a cycle through the API, the workers or the CLI is a cycle too.
PACKAGES = (
    PACKAGE,
    ROOT / "graphql" / "dianshu_graphql",
    ROOT / "tenants" / "dianshu_tenants",
    ROOT / "workers" / "dianshu_workers",
    ROOT / "cli" / "dianshu_cli",
)


def module_name(path: Path) -> str:
    root = next(p for p in PACKAGES if path.is_relative_to(p))
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph(packages: tuple[Path, ...] = (PACKAGE,)) -> dict[str, set[str]]:
    """module -> what it imports, for every module of `packages` (platform/dianshu by default):
    every import statement (at the top, inside functions, anywhere), third-party modules by their
    full dotted name, a `from a.b import c` as a.b.c when that is a module of the package, else as a.b."""
    files = {module_name(f): f for package in packages for f in package.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, f in files.items():
        out = set()
        for node in ast.walk(ast.parse(f.read_text())):
            if isinstance(node, ast.Import):
                out |= {a.name for a in node.names}
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    package = name if f.name == "__init__.py" else name.rpartition(".")[0]
                    for _ in range(node.level - 1):
                        package = package.rpartition(".")[0]
                    base = f"{package}.{base}" if base else package
                for a in node.names:
                    out.add(f"{base}.{a.name}" if f"{base}.{a.name}" in files else base)
        out.discard(name)
        graph[name] = out
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle among the graph's own modules (a -> b -> ... -> a), or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(m: str) -> list[str] | None:
        state[m] = 1
        path.append(m)
        for n in sorted(graph[m]):
            if n not in graph:
                continue
            if state.get(n) == 1:
                return [*path[path.index(n) :], n]
            if n not in state and (cycle := visit(n)) is not None:
                return cycle
        path.pop()
        state[m] = 2
        return None

    for m in sorted(graph):
        if m not in state and (cycle := visit(m)) is not None:
            return cycle
    return None


def test_no_import_cycle_in_the_domain():
    cycle = find_cycle(import_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_no_import_cycle_in_any_source_root():
    cycle = find_cycle(import_graph(PACKAGES))
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_the_cycle_finder_finds_a_cycle():
    graph = {"a": {"b"}, "b": {"c", "sqlalchemy"}, "c": {"a"}, "d": {"a"}}
    assert find_cycle(graph) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


# Layers inside a domain folder: what each may not import, directly or through any module of the
# package it imports (prefixes of dotted module names).
DATABASE = ("sqlalchemy", "asyncpg", "dianshu.db")
LAYERS = {
    # Pure arithmetic: plain values in, figures out; no database, no jobs, no other layer.
    "dianshu.settlement.arithmetic": (
        *DATABASE,
        "dianshu.jobs",
        "dianshu.settlement.models",
        "dianshu.settlement.runs",
        "dianshu.settlement.reports",
    ),
    # Presentation formats figures the runs read: it neither reads the database nor computes.
    "dianshu.settlement.reports": (*DATABASE, "dianshu.settlement.runs", "dianshu.settlement.arithmetic"),
    # The runs never build HTML, CSV or SVG.
    "dianshu.settlement.runs": ("dianshu.settlement.reports",),
}


def _under(module: str, prefix: str) -> bool:
    return module == prefix or module.startswith(prefix + ".")


def reaches(graph: dict[str, set[str]], start: str) -> dict[str, list[str]]:
    """Every module `start` imports, directly or not, with the chain of imports that reaches it."""
    seen: dict[str, list[str]] = {}
    todo = [[start]]
    while todo:
        chain = todo.pop()
        for n in sorted(graph.get(chain[-1], ())):
            if n not in seen and n != start:
                seen[n] = [*chain, n]
                if n in graph:
                    todo.append(seen[n])
    return seen


def test_layers_inside_a_domain_folder():
    graph = import_graph()
    assert all(any(_under(m, layer) for m in graph) for layer in LAYERS), "a layer folder is missing"
    problems = []
    for module in sorted(graph):
        for layer, forbidden in LAYERS.items():
            if not _under(module, layer):
                continue
            for target, chain in reaches(graph, module).items():
                if any(_under(target, f) for f in forbidden) and not _under(target, layer):
                    problems.append(" -> ".join(chain))
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

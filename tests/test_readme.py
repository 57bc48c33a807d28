"""The README stays true: its ingestion layout table is the code's, it names the two commands, and the
metrics it and docs/sizing.md name are the code's."""

from pathlib import Path

from dianshu.cases.layout import COLUMNS

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()


def test_layout_table_matches_the_code():
    for column, zh, required, meaning in COLUMNS:
        line = f"| `{column}` | {zh} | {'yes' if required else ''} | {meaning} |"
        assert line in README, f"README layout row missing or stale: {line}"


def test_readme_names_the_two_commands():
    assert "make demo" in README and "make test" in README


def test_readme_publishes_the_scenario_schema_as_committed():
    import json

    committed = json.loads((Path(__file__).resolve().parents[1] / "docs" / "scenario.schema.json").read_text())
    block = README.split("<details><summary>scenario JSON Schema</summary>", 1)[1].split("```json\n", 1)[1]
    assert json.loads(block.split("\n```", 1)[0]) == committed


def test_the_layout_section_names_the_domain_tree():
    """Every folder and top-level module of platform/dianshu, and every settlement module, is named
    in the README's Layout section."""
    root = Path(__file__).resolve().parents[1] / "platform" / "dianshu"
    layout = README.split("## Layout", 1)[1].split("```", 2)[1]
    named = [f"{d.name}/" for d in root.iterdir() if (d / "__init__.py").exists()]
    named += [f.name for f in root.glob("*.py") if f.name != "__init__.py"]
    named += [f"{d.name}/" for d in (root / "settlement").iterdir() if (d / "__init__.py").exists()]
    named += [f.name for f in (root / "settlement").rglob("*.py") if f.name != "__init__.py"]
    missing = sorted({n for n in named if n not in layout})
    assert missing == [], f"README Layout does not name {missing}"


def test_the_api_examples_are_valid_against_the_schema():
    """Every example document in the README's API section is valid against the served schema."""
    from graphql.validation import LoneAnonymousOperationRule

    from dianshu.config import Settings
    from dianshu_graphql.schema import build_schema
    from graphql import parse, specified_rules, validate

    section = README.split("## The API\n", 1)[1].split("\n## ", 1)[0]
    blocks = [b.split("\n```", 1)[0] for b in section.split("```graphql\n")[1:]]
    assert blocks, "no GraphQL examples in the API section"
    schema = build_schema(Settings(profile="dev"))._schema
    rules = [r for r in specified_rules if r is not LoneAnonymousOperationRule]
    for block in blocks:
        errors = validate(schema, parse(block), rules)
        assert not errors, [e.message for e in errors]


def test_the_metrics_the_docs_name_are_the_codes():
    """Every `dianshu_*` metric the README's table and docs/sizing.md (as a selector) name is defined in
    dianshu.observability.metrics, and every one defined there is in the README's table."""
    import re

    root = Path(__file__).resolve().parents[1]
    source = (root / "platform" / "dianshu" / "observability" / "metrics.py").read_text()
    defined = set(re.findall(r'"(dianshu_[a-z_]+)"', source))
    sizing = (root / "docs" / "sizing.md").read_text()
    named = set(re.findall(r"\b(dianshu_[a-z_]+)\{", sizing))  # a selector: a metric, not a SQL function
    assert named, "docs/sizing.md names the queue-depth metric to scale on"
    table = README.split("**Metrics.**", 1)[1].split("**Tracing.**", 1)[0]
    named |= set(re.findall(r"`(dianshu_[a-z_]+)`", table))
    assert named <= defined, sorted(named - defined)
    assert defined <= set(re.findall(r"`(dianshu_[a-z_]+)`", table)), sorted(defined - named)

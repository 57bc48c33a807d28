import itertools
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dianshu_graphql.schema import SDL_PATH, releases, sdl

ROOT = SDL_PATH.parent


def test_committed_sdl_matches_the_schema():
    assert SDL_PATH == Path(__file__).resolve().parents[1] / "schema.graphql"
    committed = SDL_PATH.read_text() if SDL_PATH.exists() else ""
    assert committed == sdl(), "schema.graphql drifted: run `dianshu schema --output schema.graphql` and commit"


def test_money_and_points_never_travel_as_float():
    text = sdl()
    allowed = ("progress", "ventHours", "icuHours")  # a fraction and durations, never money or points
    for line in text.splitlines():
        if ": Float" in line:
            assert line.strip().startswith(allowed), f"a Float field that is not a fraction or hours: {line.strip()}"


# ---- the contract: deprecation, not breakage ----------------------------------------------------

from dianshu_graphql.contract import violations  # noqa: E402

SDL = """
type Query {
  job(id: ID!, verbose: Boolean): Job
  jobs(kind: JobKind, old: String @deprecated(reason: "use kind")): [Job!]!
  legacy: Legacy @deprecated(reason: "use job")
}

type Job {
  id: ID!
  kind: JobKind!
  result: String
  oldResult: String @deprecated(reason: "use result")
}

type Legacy {
  x: Int
}

input JobFilter {
  kind: JobKind
  before: String @deprecated(reason: "gone next")
}

enum JobKind {
  cases_ingest
  grouping_compare @deprecated(reason: "merged into grouping_group_cases")
  grouping_group_cases
}
"""


def _without(sdl: str, *lines: str) -> str:
    out = sdl
    for line in lines:
        assert line in out, line
        out = out.replace(line, "")
    return out


def test_the_served_schema_keeps_the_latest_released_contract():
    released = releases()
    assert released, "no released contract in contract/"
    assert violations(released[-1].read_text(), sdl()) == []


def test_each_released_contract_keeps_the_one_before():
    """A release may add, and drop only what the release before had deprecated."""
    released = releases()
    broken = [
        f"{a.name} -> {b.name}: {v}"
        for a, b in itertools.pairwise(released)
        for v in violations(a.read_text(), b.read_text())
    ]
    assert broken == []


def test_a_released_contract_is_never_edited():
    """Once committed, a release file keeps its first committed text and stays (git history, when
    there is one): editing or deleting an old release to let a removal through fails here."""
    changed = []
    for path in releases():
        try:
            log = subprocess.run(
                ["git", "log", "--format=%H", "--", path.relative_to(ROOT).as_posix()],
                cwd=ROOT,
                capture_output=True,
                text=True,
                timeout=60,
                check=True,
            ).stdout.split()
        except (OSError, subprocess.SubprocessError):
            pytest.skip("not a git checkout")
        if len(log) > 1:
            changed.append(f"{path.name}: changed in {len(log)} commits")
        elif log:
            first = subprocess.run(
                ["git", "show", f"{log[0]}:{path.relative_to(ROOT).as_posix()}"],
                cwd=ROOT,
                capture_output=True,
                text=True,
                timeout=60,
                check=True,
            ).stdout
            if first != path.read_text():
                changed.append(f"{path.name}: differs from its committed text")
    deleted = subprocess.run(
        ["git", "log", "--diff-filter=D", "--name-only", "--format=", "--", "contract/"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    ).stdout.split()
    assert changed == [] and deleted == [], (changed, deleted)  # a release is never edited nor deleted


def test_removing_what_the_committed_sdl_did_not_deprecate_is_refused():
    assert violations(SDL, SDL) == []
    assert violations(SDL, _without(SDL, "  result: String\n")) == ["FIELD_REMOVED: Field Job.result was removed."]
    assert violations(SDL, _without(SDL, ", verbose: Boolean")) == [
        "ARG_REMOVED: Argument Query.job(verbose:) was removed."
    ]
    assert violations(SDL, _without(SDL, "  cases_ingest\n")) == [
        "VALUE_REMOVED_FROM_ENUM: Enum value JobKind.cases_ingest was removed."
    ]
    assert violations(SDL, SDL.replace("  kind: JobKind\n  before", "  before")) == [
        "FIELD_REMOVED: Field JobFilter.kind was removed."
    ]
    # A type whose fields were not all deprecated cannot go (here with the field that returned it).
    no_job = SDL.replace("  job(id: ID!, verbose: Boolean): Job\n", "")
    assert violations(SDL, no_job) == ["FIELD_REMOVED: Field Query.job was removed."]


def test_removing_what_the_committed_sdl_deprecated_is_allowed():
    served = _without(
        SDL,
        '  oldResult: String @deprecated(reason: "use result")\n',
        ', old: String @deprecated(reason: "use kind")',
        '  grouping_compare @deprecated(reason: "merged into grouping_group_cases")\n',
        '  before: String @deprecated(reason: "gone next")\n',
        '  legacy: Legacy @deprecated(reason: "use job")\n',
        "type Legacy {\n  x: Int\n}\n",
    )
    assert violations(SDL, served) == []


def test_other_breaking_changes_and_changed_defaults_are_refused():
    assert violations(SDL, SDL.replace("result: String", "result: Int")) == [
        "FIELD_CHANGED_KIND: Field Job.result changed type from String to Int."
    ]
    assert violations(SDL, SDL.replace("verbose: Boolean", "verbose: Boolean!"))[0].startswith("ARG_CHANGED_KIND")
    with_default = SDL.replace("verbose: Boolean", "verbose: Boolean = true")
    assert [v.split(":")[0] for v in violations(with_default, with_default.replace("= true", "= false"))] == [
        "ARG_DEFAULT_VALUE_CHANGE"
    ]
    # Adding is fine.
    assert violations(SDL, SDL.replace("  x: Int\n", "  x: Int\n  y: Int\n")) == []


def test_the_committed_sdl_as_the_contract_catches_a_removal_from_it():
    committed = SDL_PATH.read_text()
    # The served schema without a field the committed SDL has (and did not deprecate): refused.
    line = '  """Rows come before this page (it was asked for after a cursor)."""\n  hasPreviousPage: Boolean!\n'
    assert line in committed
    assert violations(committed, committed.replace(line, "")) == [
        "FIELD_REMOVED: Field PageInfo.hasPreviousPage was removed."
    ]
    # The same field deprecated in the committed SDL first: its removal is allowed.
    deprecated = committed.replace(
        "hasPreviousPage: Boolean!\n", 'hasPreviousPage: Boolean! @deprecated(reason: "always false")\n'
    )
    assert violations(deprecated, committed.replace(line, "")) == []


def test_dianshu_schema_refuses_to_break_the_released_contract(tmp_path, monkeypatch):
    from dianshu_cli.main import app
    from dianshu_graphql import schema as schema_module

    # A released contract with a field the schema no longer has (and never deprecated).
    contracts = tmp_path / "contract"
    contracts.mkdir()
    first = contracts / "2026-12-01.graphql"
    first.write_text(
        SDL_PATH.read_text().replace("  hasNextPage: Boolean!\n", "  hasNextPage: Boolean!\n  gone: Int\n", 1)
    )
    released = first.read_text()
    monkeypatch.setattr(schema_module, "CONTRACT_DIR", contracts)
    out = tmp_path / "schema.graphql"
    for args in (["--output", str(out)], ["--output", str(out), "--release", "2027-01"], ["--release", "2027-01"]):
        r = CliRunner().invoke(app, ["schema", *args])
        assert r.exit_code == 2 and "FIELD_REMOVED: Field PageInfo.gone was removed." in r.output, args
        assert [p.name for p in schema_module.releases()] == ["2026-12-01.graphql"] and not out.exists()
    # --allow-breaking writes the SDL, never a release.
    r = CliRunner().invoke(app, ["schema", "--output", str(out), "--allow-breaking", "--release", "2027-01"])
    assert r.exit_code == 2 and not out.exists()
    r = CliRunner().invoke(app, ["schema", "--output", str(out), "--allow-breaking"])
    assert r.exit_code == 0 and out.read_text() == sdl() and first.read_text() == released
    # With the field deprecated in the release first, the next release drops it; releases are immutable.
    first.write_text(released.replace("  gone: Int\n", '  gone: Int @deprecated(reason: "never used")\n'))
    r = CliRunner().invoke(app, ["schema", "--output", str(out), "--release", "2027-01"])
    assert r.exit_code == 0 and (contracts / "2027-01.graphql").read_text() == sdl() == out.read_text()
    for name in ("2027-01", "2026-06", "../x"):
        r = CliRunner().invoke(app, ["schema", "--release", name])
        assert r.exit_code == 2, name
    assert [p.name for p in schema_module.releases()] == ["2026-12-01.graphql", "2027-01.graphql"]

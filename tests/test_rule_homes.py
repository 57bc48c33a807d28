"""One home per rule: the current, active case, the DRG codes that are no group, the itemized
formula and the standard in force are each written once and called everywhere else."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

from dianshu.cases.current import current_cases
from dianshu.grouping.drg_codes import is_ambiguous, is_ungroupable, ungroupable_or_ambiguous
from dianshu.settlement.arithmetic.points import DrgParams, itemized_points, itemized_reason
from dianshu.settlement.arithmetic.policy import Policy

ROOT = Path(__file__).resolve().parents[1]
# Every folder of code: a copy in the API, the CLI or a benchmark is a copy too.
CODE = (
    "platform/dianshu",
    "graphql/dianshu_graphql",
    "tenants/dianshu_tenants",
    "workers/dianshu_workers",
    "cli/dianshu_cli",
    "benchmarks",
)


def copies(pattern: str, home: str) -> dict[str, int]:
    """Files (from the repository root) other than `home` (from platform/dianshu) matching `pattern`."""
    found = {}
    for folder in CODE:
        for f in (ROOT / folder).rglob("*.py"):
            name = f.relative_to(ROOT).as_posix()
            if name != f"platform/dianshu/{home}" and (n := len(re.findall(pattern, f.read_text()))):
                found[name] = n
    return found


def test_the_current_active_case_is_one_rule():
    assert current_cases() == "is_current and status = 'active'"
    assert current_cases("c") == "c.is_current and c.status = 'active'"
    # Also across adjacent string literals ("... is_current " "and status = 'active' ...").
    rule = r"is_current[\s\"]+and[\s\"]+(\w+\.)?status\s*=\s*'active'|CaseRecord\.status\s*==\s*\"active\""
    assert copies(rule, "cases/current.py") == {}


def test_drg_codes_that_are_no_group():
    assert is_ungroupable("0000") and not is_ungroupable("ES25")
    assert is_ambiguous("EQY") and not is_ambiguous("ES25")
    assert [ungroupable_or_ambiguous(d) for d in ("0000", "AQY", "ES25")] == [True, True, False]
    assert copies(r"[!=]=\s*\"0000\"|\.endswith\(\"QY\"\)", "grouping/drg_codes.py") == {}


def test_itemized_is_one_formula_and_one_reason():
    policy = Policy()
    assert itemized_points(Decimal(5000), Decimal(10000), policy) == Decimal(50) * policy.itemized_factor
    stable, unstable = DrgParams("ES25", Decimal(1), Decimal(1)), DrgParams("ES25", Decimal(1), Decimal(1), False)
    assert itemized_reason("0000", None) == "ungroupable (0000)"
    assert itemized_reason("EQY", None) == "ambiguous group EQY"
    assert itemized_reason("ES25", None) == "DRG ES25 has no parameters in the standard"
    assert itemized_reason("ES25", unstable) == "DRG ES25 is unstable"
    assert itemized_reason("ES25", stable) is None
    # The formula is a product with the factor: written nowhere else (the API only names the parameter).
    assert copies(r"\*\s*[\w.]*itemized_factor|itemized_factor\s*\*", "settlement/arithmetic/points.py") == {}


def test_the_standard_in_force_is_one_query():
    rule = r"(PaymentStandard|DrgSchemeVersion)\.effective_to\s*>"
    assert copies(rule, "standards/in_force.py") == {}


def test_the_year_s_latest_points_run_is_one_rule():
    from dianshu.settlement.latest import latest_points_runs

    assert "through_month desc, version desc" in latest_points_runs("true")
    assert copies(r"through_month(\s+desc|\.desc\(\))", "settlement/latest.py") == {}


def test_the_encoding_of_an_upload_is_one_rule():
    """Text from an uploaded file is decoded by dianshu.tabular.encoding (UTF-8 or GB18030, declared
    or detected) on every path; only the scenario JSON decodes itself, UTF-8 as RFC 8259 says."""
    found = copies(r"getincrementaldecoder|\.decode\(\s*[\"'](?:utf-?8-sig|gb18030|gbk|gb2312)", "tabular/encoding.py")
    assert found == {"platform/dianshu/settlement/runs/simulations.py": 1}

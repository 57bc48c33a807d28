"""The refusal reasons' catalogue (dianshu.reports.reasons): complete in both languages, every
reason the source writes has an entry (extracted as xgettext would), and reasons, messages and
Accept-Language headers come out as hand-written here."""

from __future__ import annotations

import ast
import pathlib
import re
import string
from collections.abc import Iterator

import pytest

from dianshu.reports.reasons import REASONS, SHAPES, code, lang_of, localize, localize_message, negotiate, parse
from dianshu.tabular.write import Lang

ROOT = pathlib.Path(__file__).resolve().parents[1]
SOURCES = (
    "platform/dianshu",
    "tenants/dianshu_tenants",
    "graphql/dianshu_graphql",
    "workers/dianshu_workers",
    "cli/dianshu_cli",
)
# A refusal's class (dianshu.errors.Refused and its subclasses, the readers' row and file errors).
REFUSAL = re.compile(r"(Refused|SettlementInputError|_RowError|LayoutError)$")
# What a refusal names as its kind, not its reason (Refused(..., kind="state") spelled positionally).
NOT_REASONS = {"", "not_found", "state", "invalid"}
# The other exceptions whose message a user reads (a job's failure, an API error, a permission
# refused, a sheet or upload refused, a token refused): class -> the message argument's position.
MESSAGE_ARG = {
    "JobRejected": 0,  # a job's failure (JobError.message)
    "ExpectedError": 0,  # the API's safe errors (and its subclasses)
    "InvalidId": 0,
    "Forbidden": 0,
    "BadRequest": 0,  # a request refused whole (limits.py, app.py)
    "AuthError": 0,  # a token refused (401)
    "PermissionError": 0,  # becomes PermissionDenied / FORBIDDEN
    "TrainingForbidden": 0,
    "PermissionDenied": 0,
    "IngestRefused": 1,  # (field, reason)
    "RecallRefused": 1,  # (list_id, reason)
    "SheetRefused": 1,  # (field, reason)
    "Issue": 1,  # strict.py's (path, reason): a scenario's or a strict argument's issues
    "ConfigError": 0,  # a setting that cannot work (the CLI, `dianshu serve`, doctor)
    "ScenarioFileError": 0,  # a scenario file that cannot be read (`dianshu simulate`)
    "StandardsError": 0,  # a standard that cannot be loaded or published
    "LayoutViolation": 0,  # a national upload row that breaks the layout
    "BadParameter": 0,  # a CLI option's value refused (Click says "Invalid value for …: {reason}")
}
# A template that is only a prefix before a reason made elsewhere ("year: {}", "{}: {}").
PREFIX_ONLY = re.compile(r"(?:[\w.\[\]]|, |\{\})*: \{\}")


def _name(fn: ast.expr) -> str:
    return fn.id if isinstance(fn, ast.Name) else fn.attr if isinstance(fn, ast.Attribute) else ""


def _reason_args(call: ast.Call) -> list[ast.expr]:
    """The reason argument(s) of a refusal, a FieldError (field, reason) or (record, field, reason),
    the API's `invalid(record, field, reason)`, a reader's error (reason first)."""
    name, args = _name(call.func), call.args
    out: list[ast.expr] = []
    if name in MESSAGE_ARG:
        at = MESSAGE_ARG[name]
        out += args[at : at + 1]
        out += [kw.value for kw in call.keywords if kw.arg in ("message", "reason")]
        return out
    if name == "FieldError" and len(args) >= 2:
        out.append(args[2] if len(args) >= 3 else args[1])
    elif name == "invalid" and len(args) >= 3:
        out.append(args[2])
    elif name in ("_RowError", "LayoutError") and args:
        out.append(args[0])
    elif name in ("EncodingRefused", "DownloadRefused") and len(args) >= 2:
        out.append(args[1])
    elif name == "_problem" and len(args) >= 3:
        out.append(args[2])
    elif REFUSAL.search(name) and len(args) >= 3:
        out.append(args[2])
    elif not (REFUSAL.search(name) or name in ("FieldError", "invalid", "_problem")):
        return []
    for kw in call.keywords:
        if kw.arg == "reason":
            out.append(kw.value)
        if kw.arg == "more" and isinstance(kw.value, ast.List | ast.Tuple):
            out += [e.elts[1] for e in kw.value.elts if isinstance(e, ast.Tuple) and len(e.elts) == 2]
    return out


def _template(node: ast.Constant | ast.JoinedStr) -> str:
    """A string or f-string as a catalogue template with every placeholder written `{}`."""
    if isinstance(node, ast.Constant):
        return str(node.value).replace("{", "{{").replace("}", "}}")
    return "".join(
        str(v.value).replace("{", "{{").replace("}", "}}") if isinstance(v, ast.Constant) else "{}" for v in node.values
    )


class _Extractor:
    def __init__(self, tree: ast.Module) -> None:
        # Names assigned in each function, for a reason passed as a variable (`why = f"..."`).
        self.assigned: dict[int, dict[str, list[ast.expr]]] = {}
        for f in ast.walk(tree):
            if isinstance(f, ast.FunctionDef | ast.AsyncFunctionDef):
                names: dict[str, list[ast.expr]] = {}
                for n in ast.walk(f):
                    if isinstance(n, ast.Assign) and len(n.targets) == 1 and isinstance(n.targets[0], ast.Name):
                        names.setdefault(n.targets[0].id, []).append(n.value)
                    elif isinstance(n, ast.NamedExpr):
                        names.setdefault(n.target.id, []).append(n.value)
                for n in ast.walk(f):
                    self.assigned.setdefault(id(n), names)

    def templates(self, node: ast.expr, seen: frozenset[str] = frozenset()) -> list[str]:
        if isinstance(node, ast.IfExp):
            return self.templates(node.body, seen) + self.templates(node.orelse, seen)
        if isinstance(node, ast.BoolOp):
            return [t for v in node.values for t in self.templates(v, seen)]
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            left, right = self.templates(node.left, seen), self.templates(node.right, seen)
            return [a + b for a in left for b in right] if left and right else left + right
        if (isinstance(node, ast.Constant) and isinstance(node.value, str)) or isinstance(node, ast.JoinedStr):
            return [_template(node)]
        if isinstance(node, ast.Name) and node.id not in seen:
            values = self.assigned.get(id(node), {}).get(node.id, [])
            return [t for v in values for t in self.templates(v, seen | {node.id})]
        return []


def reasons_in(source: str) -> Iterator[tuple[int, str]]:
    """(line, template) of every reason written in a module's source."""
    tree = ast.parse(source)
    ex = _Extractor(tree)
    nodes: list[ast.expr] = []
    for n in ast.walk(tree):
        if isinstance(n, ast.Call):
            nodes += _reason_args(n)
        if isinstance(n, ast.FunctionDef) and n.name.endswith(("_reason", "refusal")):
            nodes += [r.value for r in ast.walk(n) if isinstance(r, ast.Return) and r.value is not None]
    for node in nodes:
        for template in ex.templates(node):
            if template not in NOT_REASONS and not PREFIX_ONLY.fullmatch(template) and template != "{}":
                yield node.lineno, template


def source_reasons() -> Iterator[tuple[str, int, str]]:
    """(file, line, template) of every reason written in the source."""
    for root in SOURCES:
        for path in sorted((ROOT / root).rglob("*.py")):
            for line, template in reasons_in(path.read_text(encoding="utf-8")):
                yield str(path.relative_to(ROOT)), line, template


def test_the_extractor_reads_every_kind_of_refusal():
    """The message argument of each exception class a user reads (xgettext's keywords), and not
    a prefix before a reason made elsewhere."""
    source = """
def f(x, why):
    raise JobRejected(f"no budget for {x}: set the region's budget first", field="year")
    raise JobRejected(f"year: {why}")
    raise IngestRefused("file", "is empty")
    raise RecallRefused(x, f"no accepted case {x} (or not yours)", "not_found")
    raise ExpectedError(f"after: {x} is not a cursor from this API for this list", "after")
    raise SheetRefused("header", f"missing column(s): {x}")
    raise PermissionError(f"role {x} may not change the evaluation catalogue")
    raise AuthError("authentication required: send 'Authorization: Bearer <token>'")
    raise BadRequest("body: JSON nested too deeply", "body")
    raise InvalidId(f"{x}: {x!r} is not an id from this API", x)
    raise ValueError("an operator's mistake, not a refusal")
"""
    assert [t for _, t in reasons_in(source)] == [
        "no budget for {}: set the region's budget first",
        "is empty",
        "no accepted case {} (or not yours)",
        "after: {} is not a cursor from this API for this list",
        "missing column(s): {}",
        "role {} may not change the evaluation catalogue",
        "authentication required: send 'Authorization: Bearer <token>'",
        "body: JSON nested too deeply",
        "{}: {} is not an id from this API",
    ]


def _normal(template: str) -> str:
    return "".join(
        lit.replace("{", "{{").replace("}", "}}") + ("{}" if name is not None else "")
        for lit, name, _, _ in string.Formatter().parse(template)
    )


def test_every_entry_has_both_languages_with_the_same_placeholders() -> None:
    assert len(REASONS) > 200
    for key, (zh, en) in REASONS.items():
        assert re.fullmatch(r"[a-z0-9_]+", key), key
        assert zh.strip() and en.strip(), key
        assert re.search(r"[\u4e00-\u9fff]", zh), f"{key}: the Chinese is not Chinese: {zh!r}"

        def fields(s: str) -> list[str]:
            return sorted(n for _, n, _, _ in string.Formatter().parse(s) if n is not None)

        assert fields(zh) == fields(en), key
        # No English phrase in the Chinese (single words the caller types, such as true or csv, stay).
        said = re.sub(r"\{[^}]*\}|'[^']*'", " ", zh)
        assert not re.search(r"\b[A-Za-z]{2,}[ ,]+[a-z]{2,}\b", said), f"{key}: English left in {zh!r}"
    ens = [_normal(en) for _, en in REASONS.values()]
    # A code says what it means: not a bare word of its wording ("must", "one") unless that is the
    # whole reason, nor another code with a number added to tell them apart ("must_3").
    assert not [k for k in REASONS if "_" not in k and REASONS[k][1] != k], "a code of one word"
    assert not [k for k in REASONS if (m := re.fullmatch(r"(.+)_\d", k)) and m.group(1) in REASONS]
    assert len(ens) == len(set(ens)), "two codes for one English template"


def english_left(zh: str) -> list[str]:
    """English words left in a Chinese rendering, after its "field: " prefixes (a field's raw name
    stays), its values and its codes (lower-case words of three letters or more)."""
    said = re.sub(r"^(?:[\w.\[\]]+(?:\([^)]*\))?[:：] ?)+", "", zh)
    said = re.sub(r"'[^']*'|\b\w*[_\d]\w*\b|X9", "", said)
    return re.findall(r"\b[a-z]{3,}\b", said)


def test_every_reason_in_the_source_has_an_entry() -> None:
    """A reason added in English only fails here: add its code with zh and en to REASONS."""
    known = {_normal(en) for _, en in REASONS.values()}
    found = list(source_reasons())
    assert len(found) > 400  # the extractor still sees the refusals (JobRejected, ExpectedError … too)

    def covered(t: str) -> bool:
        # As `localize` reads it: the whole, else after up to MAX_PREFIXES "field: " prefixes; or a
        # template that fills in one of the catalogue's and comes out whole Chinese.
        parts = t.split(": ")
        if any(_normal(": ".join(parts[i:])) in known for i in range(min(len(parts), 5))):
            return True
        filled = t.replace("{}", "X9").replace("{{", "{").replace("}}", "}")
        return code(filled) is not None and not english_left(localize(filled, Lang.zh))

    missing = sorted({f"{file}:{line}: {t!r}" for file, line, t in found if not covered(t)})
    assert not missing, "reasons without a catalogue entry:\n" + "\n".join(missing)


# Sample parameters: a word, words with spaces, numbers, a quoted string, a list, a date, a
# "field: reason"-like text; a placeholder of a known shape takes values of that shape.
SAMPLES = ("x", "an amount in yuan", "42", "'abc'", "12.5", "1, 2", "2025-01-01", "-3", "a: b", "V01.000")
SHAPE_SAMPLES = {
    "sign": ("≥", "<", ">", "≤"),
    "diagnosis": ("principal diagnosis", "diagnosis 2", "diagnosis 31"),
    "path_kind": ("file", "dir", "path"),
    "given": ("'x'", "'two words'", '"it\'s"', "''"),
    "id_kind": ("a batch id", "a job id"),
    "subject": ("principal diagnosis", "diagnosis 2", "column drg"),
    "tally": ("7", "12,345"),
    "period": ("2025-03",),
    "year_from": ("2023",),
    "year_to": ("2025",),
    "run_year": ("2025",),
    "rule_code": ("split_admission",),
    "folder": ("/tmp/x", "data"),
    "json_msg": ("Expecting value", "Extra data"),
    "names": ("year", "a, b_c"),
    "pg_role": ("postgres", "dianshu_app"),
    "compiled_standard": ("zhejiang_2022", "/srv/schemes/x"),
    "drgs": ("7", "1,024"),
    "seconds": ("0.52",),
    "setl_where": ("H1/S1", "H33070200001/2025-000123"),
    "layout_section": ("setlinfo",),
    "layout_field": ("psn_no", "dscg_way"),
    "standard_id": ("0b9e6f3c-1d2a-4e5f-8a7b-6c5d4e3f2a1b",),
}


def test_every_template_filled_in_is_read_back_as_itself():
    """No template shadows another: each, filled in with sample values (rotated, so that the
    placeholders of one template differ), parses back to its own code."""
    assert set(SHAPE_SAMPLES) == set(SHAPES)
    wrong = []
    for key, (_, en) in REASONS.items():
        names = list(dict.fromkeys(n for _, n, _, _ in string.Formatter().parse(en) if n))
        for k in range(len(SAMPLES)):
            values = {
                n: SHAPE_SAMPLES[n][k % len(SHAPE_SAMPLES[n])] if n in SHAPES else SAMPLES[(k + i) % len(SAMPLES)]
                for i, n in enumerate(names)
            }
            reason = en.format(**values)
            found = parse(reason)
            if found is None or found.code != key:
                wrong.append(f"{key}: {reason!r} -> {found and found.code}")
    assert not wrong, "\n".join(wrong)


def test_a_phrase_with_spaces_is_not_read_as_a_bound():
    # cases/validation.py's yuan amount and strict.py's bound (≥ 0) are two templates.
    assert code("must be an amount in yuan (got 'abc')") == "not_the_expected_kind"
    assert localize("must be an amount in yuan (got 'abc')", Lang.zh).endswith("（实际为 'abc'）")
    assert code("must be ≥ 0 (got -1)") == "out_of_bound"
    assert localize("must be ≥ 0 (got -1)", Lang.zh) == "应 ≥ 0（实际为 -1）"


def _raised(step) -> str:
    from dianshu.errors import Refused

    with pytest.raises(Refused) as e:
        step()
    return e.value.reason


def test_label_like_parameters_are_said_in_chinese():
    """The settlement list's amounts, hours and diagnoses, the review workflow's roles, steps and
    states, the training ranges: Chinese through and through (only codes and values stay)."""
    from decimal import Decimal

    from dianshu.reviews.workflow import next_state
    from dianshu.training.service import decimal_of

    cases = {
        # cases/validation.py (the reasons as it writes them)
        "must be an amount in yuan (got 'abc')": "应为以元计的金额（实际为 'abc'）",
        "must be a number of hours (got 'x1')": "应为小时数（实际为 'x1'）",
        "must be a non-negative amount (got -5)": "应为非负金额（实际为 -5）",
        "must be a non-negative number of hours (got -1.5)": "应为非负小时数（实际为 -1.5）",
        "must be less than 100,000,000 yuan (got 123456789012)": "应小于 100,000,000 元（实际为 123456789012）",
        "must be less than 10,000 hours (got 99999)": "应小于 10,000 小时（实际为 99999）",
        "principal diagnosis is empty": "主要诊断为空",
        "diagnosis 3 is empty": "第 3 个诊断为空",
        "diagnosis 12 X99.999 is not a 医保版 ICD-10 v2.0 code": "第 12 个诊断 X99.999 不是医保版 ICD-10 v2.0 编码",
        # reviews/workflow.py, raised by the rules themselves
        _raised(lambda: next_state("decide", "in_review", "hospital_user", "r")): "医院用户不能裁定特病单议申请",
        _raised(lambda: next_state("appeal", "submitted", "hospital_user", "r")): (
            "不能申诉状态为已提交的申请（仅限已裁定）"
        ),
        _raised(lambda: next_state("assign", "decided", "region_admin", "r")): (
            "不能分配状态为已裁定的申请（仅限已预审、已申诉）"
        ),
        "the review is in_review, not in review": "该申请状态为评审中，不在评审中",
        # training/service.py
        _raised(lambda: decimal_of("6", "r", "s", 1, Decimal(0), Decimal(5), zero=True)): (
            "应在 0（含）至 5 之间（实际为 6）"
        ),
        _raised(lambda: decimal_of("0", "r", "h", 1, Decimal(0), Decimal(24), zero=False)): (
            "应在 0（不含）至 24 之间（实际为 0）"
        ),
    }  # fmt: skip
    for en, zh in cases.items():
        assert localize(en, Lang.zh) == zh, en
        assert localize(en, Lang.en) == en
        # No English word is left: only the values, the codes and the coding's name.
        rest = re.sub(r"'[^']*'|[A-Z]\d\d\.\d+|ICD-10 v2\.0", "", zh)
        assert not re.search(r"[A-Za-z]", rest), zh
    # A value the vocabulary does not list stays as written, and only where its placeholder is a label.
    assert localize("a robot cannot decide a review", Lang.zh) == "robot不能裁定特病单议申请"
    assert localize("must be one of submitted, final (got x)", Lang.zh) == "应为 submitted、final 之一（实际为 x）"
    # Validators' wordings of "must be … (got …)" have their own entries (strict.py, workstation/draft.py).
    assert localize("must be 1 (male) or 2 (female) (got 5)", Lang.zh) == "应为 1（男）或 2（女）（实际为 5）"
    assert localize("must be below 1,000,000,000,000 in size (got 1E+20)", Lang.zh) == (
        "绝对值应小于 1,000,000,000,000（实际为 1E+20）"
    )


@pytest.mark.parametrize(
    ("header", "lang"),
    [
        ("en-US,en;q=0.9", Lang.en),
        ("fr", Lang.zh),
        ("zh-CN", Lang.zh),
        ("fr-FR, en;q=0.5", Lang.en),
        ("zh-CN;q=0.4, en-GB;q=0.8", Lang.en),
        ("en;q=0, zh;q=0.1", Lang.zh),
        ("zh-Hans-CN,zh;q=0.9,en;q=0.8", Lang.zh),
        ("", Lang.zh),
        (None, Lang.zh),
    ],
)
def test_accept_language_negotiation(header, lang):
    assert negotiate(header) is lang


def test_settings_name_a_language_by_its_language_part():
    assert [lang_of(v) for v in ("zh_CN.UTF-8", "en_US.UTF-8", "en", "C.UTF-8", None)] == [
        Lang.zh, Lang.en, Lang.en, Lang.zh, Lang.zh,
    ]  # fmt: skip


def test_an_ingest_row_refusal_in_both_languages():
    # cases.validation: the gend of a row (an allowed-values check) and a nested principal-diagnosis reason.
    assert code("must be one of 1, 2 (got 9)") == "must_one"
    assert localize("must be one of 1, 2 (got 9)", Lang.zh) == "应为 1、2 之一（实际为 9）"
    assert localize("must be one of 1, 2 (got 9)", Lang.en) == "must be one of 1, 2 (got 9)"
    nested = "principal diagnosis V01.000: an external cause (V01-Y98) cannot be the principal diagnosis"
    assert localize(nested, Lang.zh) == "主要诊断 V01.000：损伤中毒的外部原因（V01-Y98）不能作为主要诊断"
    concatenated = "has more than 2 decimal places (got 12.345): amounts are in fen"
    assert localize(concatenated, Lang.zh) == "有超过 2 位小数（实际为 12.345）：金额以分为单位"


def test_a_refused_message_of_several_fields_is_said_part_by_part():
    msg = (
        "input.year: must be a year from 2000 to 2100 (got 1900); "
        "input.reason: must be at most 2000 characters (got 2001)"
    )
    assert localize_message(msg, Lang.zh) == (
        "年度(input.year): 应为 2000 至 2100 之间的年份（实际为 1900）；"
        "理由(input.reason): 最多 2000 个字符（实际为 2001 个）"
    )
    assert localize_message(msg, Lang.en) == msg
    # A reason the catalogue does not make stays as it is, with no code.
    assert localize_message("something else entirely", Lang.zh) == "something else entirely"
    assert parse("something else entirely") is None


def test_a_field_prefixed_reason_is_said_after_its_prefix():
    """A job's refusal ("year: reason", "tenant: X is unknown") travels whole as a FieldError's or
    a REST problem's reason: its code and Chinese are the reason's after the field."""
    from dianshu_graphql.errors import FieldError, StateConflict
    from dianshu_graphql.language import ASKED, LANG, problem

    job = "year: must be a year from 2000 to 2100 (got 1900)"
    assert code(job) == "must_year_from_2000_2100"
    assert localize(job, Lang.zh) == "年度(year): 应为 2000 至 2100 之间的年份（实际为 1900）"
    assert localize("tenant: t9 is unknown", Lang.zh) == "tenant: t9 不存在"
    assert localize(job, Lang.en) == job
    tokens = LANG.set(Lang.zh), ASKED.set(True)
    try:
        error = FieldError(record="evaluation.run", field="year", reason=job)
        assert (error.code(), error.localized_reason()) == (
            "must_year_from_2000_2100",
            "年度(year): 应为 2000 至 2100 之间的年份（实际为 1900）",
        )
        state = StateConflict(message=f"run 1.year: {job}", record="run 1", field="year", reason=job)
        assert state.localized_reason() == "年度(year): 应为 2000 至 2100 之间的年份（实际为 1900）"
        assert problem("tenant", "tenant: t9 is unknown") == {
            "field": "tenant",
            "reason": "tenant: t9 is unknown",
            "code": "is_unknown",
            "message": "tenant: t9 不存在",
        }
    finally:
        LANG.reset(tokens[0])
        ASKED.reset(tokens[1])
    # A prefix before a reason the catalogue does not make: as given, no code.
    assert localize("tenant: something else", Lang.zh) == "tenant: something else"
    assert code("tenant: something else") is None


SET_POLICY = """mutation($i: SetPolicyInput!) { setPolicy(input: $i) { __typename
  ... on ValidationError { message localizedMessage errors { field reason code localizedReason } } } }"""


async def test_a_graphql_argument_refusal_follows_accept_language(settings, db, city):
    from dianshu.scope import Role
    from tests.api import Api

    api = Api(settings, db)
    try:
        token = api.token(Role.city_admin, [city.city])
        variables = {"i": {"tenant": city.a, "year": 1900, "ledger": "employee", "parameters": {}, "reason": "x"}}
        body = {"query": SET_POLICY, "variables": variables}
        answers = {}
        for header in (None, "en-US,en;q=0.9", "fr", "zh-CN"):
            headers = {"Authorization": f"Bearer {token}", **({"Accept-Language": header} if header else {})}
            r = await api.client.post("/graphql", json=body, headers=headers)
            assert r.json().get("data"), r.text
            answers[header] = r.json()["data"]["setPolicy"]
        en = answers["en-US,en;q=0.9"]
        assert en == {
            "__typename": "ValidationError",
            "message": "input.year: must be a year from 2000 to 2100 (got 1900)",
            "localizedMessage": "input.year: must be a year from 2000 to 2100 (got 1900)",
            "errors": [
                {
                    "field": "input.year",
                    "reason": "must be a year from 2000 to 2100 (got 1900)",
                    "code": "must_year_from_2000_2100",
                    "localizedReason": "must be a year from 2000 to 2100 (got 1900)",
                }
            ],
        }
        zh = {**en, "localizedMessage": "年度(input.year): 应为 2000 至 2100 之间的年份（实际为 1900）"}
        zh["errors"] = [{**en["errors"][0], "localizedReason": "应为 2000 至 2100 之间的年份（实际为 1900）"}]
        assert answers[None] == answers["fr"] == answers["zh-CN"] == zh  # zh by default; message/reason unchanged
        # A top-level error: extensions.localizedMessage when a language is asked for.
        q = "query { tenants(first: 0) { nodes { id } } }"
        r = await api.client.post(
            "/graphql", json={"query": q}, headers={"Authorization": f"Bearer {token}", "Accept-Language": "zh-CN"}
        )
        (error,) = r.json()["errors"]
        assert error["extensions"]["localizedMessage"] == "每页条数(first): 应在 1 与 100 之间（实际为 0）"
        assert error["message"] == "first: must be between 1 and 100 (got 0)"
    finally:
        await api.client.aclose()


def test_the_cli_says_a_bad_line_in_its_language(tmp_path):
    import subprocess
    import sys

    line = '{"id":"1","sex":1,"age_years":999}\n'
    env = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "HOME": str(tmp_path)}
    exe = [sys.executable, "-m", "dianshu_cli.main"]

    def stderr(*args: str, **extra: str) -> str:
        r = subprocess.run(
            [*exe, *args, "group", "--standard", "chs_drg_11", "--input", "-"],
            input=line, capture_output=True, text=True, env={**env, **extra}, check=False,
        )  # fmt: skip
        return next(x for x in r.stderr.splitlines() if x.startswith(("line 1", "第 1 行")))

    # zh by default: the line and the field named in Chinese too (the raw field name kept).
    assert stderr() == "第 1 行: 年龄（岁）(age_years): 应在 0 与 150 之间（实际为 999）"
    assert stderr("--lang", "en") == "line 1: age_years: must be between 0 and 150 (got 999)"
    assert stderr(LANG="en_US.UTF-8") == "line 1: age_years: must be between 0 and 150 (got 999)"
    assert stderr("--lang", "zh", DIANSHU_LANG="en") == stderr()
    # `dianshu group`'s summary lines too.
    said = subprocess.run(
        [*exe, "group", "--standard", "chs_drg_11", "--input", "-"],
        input=line, capture_output=True, text=True, env=env, check=False,
    ).stderr.splitlines()  # fmt: skip
    assert said[0].startswith("chs_drg_11：已编译 ") and said[0].endswith(" 秒"), said
    assert said[-1] == "共 1 条记录：已入组 0 条，无法入组 0 条，歧义 0 条，无效行 1 条", said
    # A refused option value: one line, exit 2, in the asked language.
    bad = subprocess.run(
        [*exe, "--lang", "en", "group", "--standard", "chs_drg_11", "--input", "/nonexistent.jsonl"],
        capture_output=True, text=True, env=env, check=False,
    )  # fmt: skip
    assert bad.returncode == 2 and bad.stderr.strip().count("\n") == 0


def test_the_cli_says_its_bad_input_and_clicks_usage_errors_in_its_language(tmp_path):
    import subprocess
    import sys

    env = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "HOME": str(tmp_path)}

    def said(*args: str) -> str:
        r = subprocess.run(
            [sys.executable, "-m", "dianshu_cli.main", *args], input="", capture_output=True, text=True, env=env,
            check=False,
        )  # fmt: skip
        assert r.returncode == 2, r.stderr
        (line,) = r.stderr.splitlines()
        return line

    missing = str(tmp_path / "nope.csv")
    zh = {
        ("group", "--standard", "nope", "--input", "-"): (
            "dianshu group: 未知的分组方案 'nope'：既不是 chs_drg_11, zhejiang_2022 之一，也不是文件夹"
        ),
        ("group", "--standard", "chs_drg_11", "--input", missing): f"dianshu group: {missing}: 文件或目录不存在",
        ("group", "--input", "-"): "dianshu group: 缺少选项 '--standard'。（-h 查看帮助）",
        ("ingest", "--tenant", "t", "--file", missing): (
            f"dianshu ingest: '--file' 的值无效：文件 '{missing}' 不存在。（-h 查看帮助）"
        ),
        ("--lang", "fr", "group"): "dianshu: '--lang' 的值无效：取值有误：'fr' 不是 'zh', 'en' 之一。（-h 查看帮助）",
        (
            "group",
            "--standard",
            "chs_drg_11",
            "--input",
            "-",
            "extra",
        ): "dianshu group: 多余的参数（extra）（-h 查看帮助）",
    }
    for args, line in zh.items():
        assert said(*args) == line  # zh by default
    assert said("--lang", "en", "group", "--input", "-") == "dianshu group: Missing option '--standard'. (-h for help)"
    assert said("--lang", "en", "group", "--standard", "nope", "--input", "-") == (
        "dianshu group: unknown standard 'nope': not one of chs_drg_11, zhejiang_2022 nor a folder"
    )


def test_a_long_message_is_localized_in_bounded_time():
    """The matcher's work is bounded (reasons.MAX_REASON, MAX_PREFIXES): 52 kB messages of many
    parts, of a few long parts, of one part with many prefixes, each said in well under a second."""
    import time

    from dianshu.reports.reasons import MAX_REASON

    parts = [f"input.hospitals[{i}].code: no hospital H{i:05d} of 330702 that you may see" for i in range(700)]
    many = "; ".join(parts)
    part = ("a: no hospital H of t: that " * 100)[: MAX_REASON - 10]
    messages = {
        "many": many,
        "long parts": "; ".join(f"{i}{part}" for i in range(26)),
        "prefixes": "".join(f"field{i}: no hospital H{i} of t that " for i in range(1400)),
    }
    for name, message in messages.items():
        assert len(message) > 50_000, name
        parse.cache_clear()
        started = time.perf_counter()
        said = localize_message(message, Lang.zh)
        assert time.perf_counter() - started < 0.5, name
    assert (
        localize_message(many, Lang.zh).split("；")[699]
        == "input.hospitals[699].code: 没有您可查看的 330702 医院 H00699"
    )
    assert said == messages["prefixes"]  # longer than any reason: as given
    # A reason within the bound is still read, a long list and all.
    allowed = ", ".join(f"parameter_{i}" for i in range(100))
    assert code(f"unknown parameter (allowed: {allowed})") == "unknown_parameter_allowed"


def test_a_prefixed_empty_reason_is_said_after_its_prefix():
    # "{subject} is empty" never takes the "field: " prefix into its subject.
    assert localize_message("diag_codes: principal diagnosis is empty", Lang.zh) == "诊断代码(diag_codes): 主要诊断为空"
    assert code("diag_codes: principal diagnosis is empty") == "subject_empty"
    assert localize("file: is empty", Lang.zh) == "文件(file): 为空"


def test_a_message_nothing_translates_keeps_its_punctuation():
    message = "something else; and another thing"
    assert localize_message(message, Lang.zh) == message
    # One part said: the parts are joined as Chinese joins them.
    assert localize_message("token expired; something else", Lang.zh) == "令牌已过期；something else"


def test_a_reason_around_another_is_whole_chinese():
    """A generic template ("case {list_id}: {reason}", "must be {expected} (got {x})", a case type)
    never swallows a reason of its own: each comes out whole Chinese."""
    cases = {
        "case L001 of hospital H1 was discharged in 2025-04, already settled by the published monthly run "
        "r1 (version 1): it cannot be recalled": (
            "医院 H1 的病例 L001 于 2025-04 出院，已由已发布的月度结算批次 r1（第 1 版）结算：不能撤回"
        ),
        "must be partial or all_or_nothing (got 'x')": (
            "应为 partial（部分接收）或 all_or_nothing（全部接收或全部拒收）（实际为 'x'）"
        ),
        "not eligible: high_outlier case of DRG GB29 (3 cases in the standard), 4 days, no new technology": (
            "不符合条件：DRG GB29 的高倍率病例（标准中 3 例），住院 4 天，无新技术"
        ),
        "no budget for employee 2025: set the region's budget first": "2025 年职工医保没有预算：请先设置统筹区预算",
        "role hospital_user may not change the evaluation catalogue (city_admin only)": (
            "医院用户无权修改考核指标目录（仅限市级管理员）"
        ),
        "authentication required: send 'Authorization: Bearer <token>'": (
            "需要身份认证：请发送 'Authorization: Bearer <token>'"
        ),
        "after: 'zz' is not a cursor from this API for this list": "游标(after): 'zz' 不是本接口为此列表给出的游标",
        "tenant: unknown tenant t9": "单位(tenant): 单位 t9 不存在",
        "JSON Lines must be UTF-8 (RFC 8259), and this file is declared GB18030": (
            "JSON Lines 文件应为 UTF-8 编码（RFC 8259），而此文件声明为 GB18030"
        ),
    }  # fmt: skip
    for en, zh in cases.items():
        assert localize_message(en, Lang.zh) == zh, en
        assert not set(english_left(zh)) - {"partial"}, zh  # a value the caller types stays


def test_a_jobs_error_is_said_in_the_asked_language():
    from dianshu_graphql.language import ASKED, LANG
    from dianshu_graphql.types.job_results import JobError

    error = JobError.of(
        {
            "message": "no budget for employee 2025: set the region's budget first",
            "issues": [{"path": "cases[1].los_days", "reason": "must be a whole number"}],
        }
    )
    assert error is not None
    tokens = LANG.set(Lang.zh), ASKED.set(True)
    try:
        assert error.localized_message() == "2025 年职工医保没有预算：请先设置统筹区预算"
        assert error.issues[0].localized_reason() == "应为整数"
        LANG.set(Lang.en)
        assert error.localized_message() == error.message
    finally:
        LANG.reset(tokens[0])
        ASKED.reset(tokens[1])


def test_an_upload_columns_field_is_named_in_chinese_with_its_code():
    import uuid

    from dianshu.cases import refused
    from dianshu.cases.models import IngestionError
    from dianshu.reports.reasons import field_name

    assert field_name("gend", Lang.zh) == "性别(gend)"
    assert field_name("diag_codes[2]", Lang.zh) == "诊断代码(diag_codes)[2]"
    assert field_name("gend", Lang.en) == "gend"
    assert field_name("not_a_field", Lang.zh) == "not_a_field"  # neither a column nor an argument: as given
    assert localize("gend: must be one of 1, 2 (got 9)", Lang.zh) == "性别(gend): 应为 1、2 之一（实际为 9）"
    assert localize("line 3: diag_codes: principal diagnosis is empty", Lang.zh) == (
        "第 3 行: 诊断代码(diag_codes): 主要诊断为空"
    )
    assert localize("gend: must be one of 1, 2 (got 9)", Lang.en) == "gend: must be one of 1, 2 (got 9)"
    row = IngestionError(row_no=2, list_id="L1", row_hospital="H1", field="gend", reason="must be one of 1, 2 (got 9)")
    (zh,) = refused.table(uuid.uuid4(), [row], Lang.zh).rows
    assert (zh["field"], zh["reason"]) == ("性别(gend)", "应为 1、2 之一（实际为 9）")
    (en,) = refused.table(uuid.uuid4(), [row], Lang.en).rows
    assert (en["field"], en["reason"]) == ("gend", "must be one of 1, 2 (got 9)")
    # A role list is said role by role.
    assert localize("role hospital_user may not do this (allowed: city_admin, region_admin)", Lang.zh) == (
        "医院用户无权执行此操作（允许：市级管理员、统筹区管理员）"
    )


def test_every_reason_in_the_source_comes_out_whole_chinese():
    """Each reason the source writes, filled in, is said in Chinese with no English phrase left (a
    generic template such as "case {list_id}: {reason}" never swallows a reason it does not say).
    A template whose placeholder has a shape (SHAPES) is filled by its own test, not here."""
    from dianshu.reports.reasons import _find

    left = []
    for file, line, t in source_reasons():
        filled = t.replace("{}", "X9").replace("{{", "{").replace("}}", "}")
        if (found := _find(filled)) is None:
            continue  # a shaped placeholder: test_every_reason_in_the_source_has_an_entry covers it
        said = re.sub(r"'[^']*'|X9", " ", found[1].text(Lang.zh))
        if re.search(r"\b[A-Za-z]{2,}[ ,]+[a-z]{2,}\b", said):
            left.append(f"{file}:{line}: {t!r} -> {said!r}")
    assert not left, "\n".join(left)


def test_an_arguments_prefix_is_named_in_chinese_with_its_raw_name():
    """The API's and the CLI's "field: reason" prefixes that are not upload columns are named in
    Chinese too, the raw name (a dotted path whole) kept for integrators; English as given."""
    from dianshu.reports.reasons import field_name, localize_message

    assert field_name("input.year", Lang.zh) == "年度(input.year)"
    assert field_name("tenant", Lang.zh) == "单位(tenant)"
    assert field_name("ids[2]", Lang.zh) == "编号(ids)[2]"
    assert field_name("line 3", Lang.zh) == "第 3 行"
    assert field_name("input.year", Lang.en) == "input.year"
    assert localize("year: must be a year from 2000 to 2100 (got 1)", Lang.zh) == (
        "年度(year): 应为 2000 至 2100 之间的年份（实际为 1）"
    )
    assert localize("input.year: must be a whole number", Lang.zh) == "年度(input.year): 应为整数"
    assert localize("first: must be a whole number", Lang.zh) == "每页条数(first): 应为整数"
    assert localize("line 3: sex: must be a whole number", Lang.zh) == "第 3 行: 性别(sex): 应为整数"
    assert localize_message("month: must be text; file: must be text", Lang.zh) == (
        "月份(month): 应为文本；文件(file): 应为文本"
    )
    assert localize("input.year: must be a whole number", Lang.en) == "input.year: must be a whole number"


_FIELD_ARG = re.compile(r"""\bfield=f?["']([A-Za-z_][A-Za-z_.]*)""")
_RECORD_FIELD = re.compile(r"""RecordError\(\s*["']([A-Za-z_][A-Za-z_.]*)["']""")
_PREFIXED = re.compile(r"""(?:Refused|JobRejected|ExpectedError|ValueError|Issue)\(\s*f?["']([A-Za-z_][A-Za-z_.]*): """)


def test_every_field_the_source_refuses_by_has_a_chinese_name():
    """Each `field=` of a refusal, each field a grouping record is refused by, and each "name: "
    prefix a refusal's reason starts with names an upload column or a FIELDS entry (else a Chinese
    user would read the raw name alone)."""
    from dianshu.reports.reasons import FIELDS, field_name

    left = []
    for folder in ("platform", "graphql", "cli"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            text = path.read_text(encoding="utf-8")
            for m in [*_FIELD_ARG.finditer(text), *_RECORD_FIELD.finditer(text), *_PREFIXED.finditer(text)]:
                name = m.group(1).rstrip(".")
                if field_name(name, Lang.zh) != name or (m.re is _PREFIXED and _whole(m)):
                    continue  # named, or a reason whose "name: " is its own ("header: …", "duplicate: …")
                left.append(f"{path.relative_to(ROOT)}: {name}")
    assert not left, "\n".join(sorted(set(left)))
    for name, (zh, en) in FIELDS.items():
        assert zh and en == name and not re.search(r"[A-Za-z]", zh), name


def _whole(m: re.Match[str]) -> bool:
    """Whether the prefixed reason at `m` is a catalogue entry whole (its prefix is its own)."""
    return any(en.startswith(m.group(1) + ": ") for _, en in REASONS.values())


def test_a_reviews_grounds_are_said_in_chinese():
    """Review.grounds stay English (stored, read by clients); localizedGrounds says each in the
    request's language, whole."""
    from dianshu.reviews.workflow import grounds

    said = grounds(drg="QY19", case_type="high_outlier", los_days=75, drg_cases_in_year=3, has_new_technology=True)
    assert [localize(g, Lang.zh) for g in said] == [
        "高倍率病例",
        "DRG 组病例数少于 5 例（3 例）",
        "住院超过 60 天（75 天）",
        "新技术",
    ]
    assert [localize(g, Lang.en) for g in said] == said
    assert localize("ungroupable", Lang.zh) == "无法入组"
    assert all(code(g) is not None for g in said)


def test_the_schema_has_localized_grounds():
    sdl = (ROOT / "schema.graphql").read_text(encoding="utf-8")
    review = sdl[sdl.index("type Review implements Node") :]
    assert "localizedGrounds: [String!]!" in review[: review.index("\n}")]


def test_a_jobs_progress_messages_are_said_in_chinese():
    """Job.message (ctx.progress: English, as the domain writes it) is said whole at the edge."""
    cases = {
        "validating rows": "正在校验数据行",
        "12,345 rows read": "已读取 12,345 行",
        "checking hospitals, repeats and corrections": "正在核对医院、重复记录和更正记录",
        "merging": "正在合并入库",
        "reading cases": "正在读取病例",
        "1,200 cases": "共 1,200 个病例",
        "800 case points": "已计算 800 个病例的点数",
        "exporting 2025-03": "正在导出 2025-03",
        "signals 2023-2025 of 3 region(s)": "正在计算 2023—2025 年度的监管信号（3 个统筹区）",
        "5,000 cases: fitting and scoring": "5,000 个病例：正在拟合和评分",
        "grouping the history years": "正在对历史年度分组",
        "reading case features": "正在读取病例特征",
    }
    for en, zh in cases.items():
        assert localize_message(en, Lang.zh) == zh, en
        assert localize_message(en, Lang.en) == en
    progress = re.compile(r"""ctx\.progress\([^"]*?f?"([^"]+)"\)""")
    for path in sorted((ROOT / "platform").rglob("*.py")):
        for m in progress.finditer(path.read_text(encoding="utf-8")):
            filled = re.sub(r"\{first\}|\{year\}", "2025", re.sub(r"\{month:[^}]*\}", "2025-03", m.group(1)))
            filled = re.sub(r"\{r\.code\}", "split_admission", filled)
            filled = re.sub(r"\{[^}]*\}", "7", filled)
            assert code(filled) is not None, f"{path.name}: {m.group(1)!r} has no catalogue entry"

"""The condition vocabulary of the standards tables (see standards/data/PROVENANCE.md), parsed into
a small AST, compiled into closures for grouping, and explained step by step for traces.

Grammar (case-sensitive keywords):
  expr    := or
  or      := and ('OR' and)*
  and     := unary ('AND' unary)*
  unary   := 'NOT' '(' expr ')' | '(' expr ')' | atom
  atom    := FIELD ('IN' | 'NOT_IN') (LISTNAME | '[' literals ']')
           | FIELD OP literal                          OP: == != < <= > >=
           | 'PROC_TAG' '(' string (',' string)* ')'
           | 'TRUE' | 'HAS_MCC' | 'HAS_MCC_OR_CC' | 'MULTI_TRAUMA_2PLUS_BODY_REGIONS'
           | 'SS_VALID'                                 (shorthand: MAIN_PROC IN SS_VALID)
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

SET_FIELDS = ("PDX", "ANY_DX", "MAIN_PROC", "ANY_PROC")
NUM_FIELDS = ("AGE_DAYS", "AGE_YEARS", "BIRTH_WEIGHT", "SEX", "LOS")
TEXT_FIELDS = ("DEPT",)
FLAGS = ("TRUE", "HAS_MCC", "HAS_MCC_OR_CC", "MULTI_TRAUMA_2PLUS_BODY_REGIONS")
LIST_NAMES = ("mdc_zd", "adrg_zd", "adrg_zd1", "adrg_ss", "adrg_ss1", "SS_VALID")
OPS = ("==", "!=", "<=", ">=", "<", ">")


class ConditionError(ValueError):
    """A condition that cannot be parsed or refers to something unknown; says where and why."""


# ---- AST ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class And:
    items: tuple[Any, ...]


@dataclass(frozen=True)
class Or:
    items: tuple[Any, ...]


@dataclass(frozen=True)
class Not:
    item: Any


@dataclass(frozen=True)
class InList:
    field: str  # PDX, ANY_DX, MAIN_PROC, ANY_PROC
    list_name: str | None  # a named list, or None for a literal list
    literal: frozenset[str] | None
    negate: bool = False


@dataclass(frozen=True)
class Compare:
    field: str
    op: str
    value: Any


@dataclass(frozen=True)
class ProcTag:
    tags: tuple[str, ...]


@dataclass(frozen=True)
class Flag:
    name: str


Node = And | Or | Not | InList | Compare | ProcTag | Flag

# ---- parsing -----------------------------------------------------------------------------------

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<str>'[^']*'|"[^"]*")
      | (?P<num>-?\d+(?:\.\d+)?)
      | (?P<op>==|!=|<=|>=|<|>)
      | (?P<punct>[()\[\],])
      | (?P<word>[A-Za-z_][A-Za-z0-9_]*)
    )""",
    re.VERBOSE,
)


def _tokenize(text: str) -> list[tuple[str, str]]:
    pos, out = 0, []
    text = text.strip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise ConditionError(f"unexpected character at {pos}: {text[pos : pos + 20]!r}")
        kind = m.lastgroup or ""
        out.append((kind, m.group(kind)))
        pos = m.end()
        while pos < len(text) and text[pos].isspace():
            pos += 1
    return out


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = _tokenize(text)
        self.i = 0

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self, value: str | None = None, kind: str | None = None) -> tuple[str, str]:
        tok = self.peek()
        if tok is None:
            raise ConditionError(f"unexpected end of condition, expected {value or kind}")
        if (value is not None and tok[1] != value) or (kind is not None and tok[0] != kind):
            raise ConditionError(f"expected {value or kind}, found {tok[1]!r}")
        self.i += 1
        return tok

    def parse(self) -> Node:
        if not self.tokens:
            raise ConditionError("empty condition")
        node = self.or_()
        if self.peek() is not None:
            raise ConditionError(f"unexpected {self.peek()[1]!r} after a complete condition")  # type: ignore[index]
        return node

    def or_(self) -> Node:
        items = [self.and_()]
        while self.peek() == ("word", "OR"):
            self.take("OR")
            items.append(self.and_())
        return items[0] if len(items) == 1 else Or(tuple(items))

    def and_(self) -> Node:
        items = [self.unary()]
        while self.peek() == ("word", "AND"):
            self.take("AND")
            items.append(self.unary())
        return items[0] if len(items) == 1 else And(tuple(items))

    def unary(self) -> Node:
        tok = self.peek()
        if tok == ("word", "NOT"):
            self.take("NOT")
            self.take("(")
            inner = self.or_()
            self.take(")")
            return Not(inner)
        if tok == ("punct", "("):
            self.take("(")
            inner = self.or_()
            self.take(")")
            return inner
        return self.atom()

    def literal(self) -> Any:
        kind, value = self.take()
        if kind == "str":
            return value[1:-1]
        if kind == "num":
            return float(value) if "." in value else int(value)
        raise ConditionError(f"expected a literal, found {value!r}")

    def atom(self) -> Node:
        _, word = self.take(kind="word")
        if word in FLAGS:
            return Flag(word)
        if word == "SS_VALID":
            return InList("MAIN_PROC", "SS_VALID", None)
        if word == "PROC_TAG":
            self.take("(")
            tags = [str(self.literal())]
            while self.peek() == ("punct", ","):
                self.take(",")
                tags.append(str(self.literal()))
            self.take(")")
            return ProcTag(tuple(tags))
        if word in SET_FIELDS:
            nxt = self.peek()
            if nxt in (("word", "IN"), ("word", "NOT_IN")):
                negate = self.take()[1] == "NOT_IN"
                if self.peek() == ("punct", "["):
                    self.take("[")
                    values = [str(self.literal())]
                    while self.peek() == ("punct", ","):
                        self.take(",")
                        values.append(str(self.literal()))
                    self.take("]")
                    return InList(word, None, frozenset(values), negate)
                _, name = self.take(kind="word")
                if name not in LIST_NAMES:
                    raise ConditionError(f"unknown list {name!r} (known: {', '.join(LIST_NAMES)})")
                return InList(word, name, None, negate)
            if nxt in (("op", "=="), ("op", "!=")):
                op = self.take()[1]
                value = str(self.literal())
                return InList(word, None, frozenset([value]), negate=(op == "!="))
            raise ConditionError(f"{word} must be followed by IN, NOT_IN, == or !=")
        if word in NUM_FIELDS or word in TEXT_FIELDS:
            _, op = self.take(kind="op")
            value = self.literal()
            if word in NUM_FIELDS:
                try:
                    # SEX is a number (1 male, 2 female) even when the table quotes it ("1").
                    value = float(value) if isinstance(value, str) and "." in value else int(value)
                except (TypeError, ValueError) as e:
                    raise ConditionError(f"{word} compares with a number, not {value!r}") from e
            else:
                value = str(value)
            return Compare(word, op, value)
        raise ConditionError(f"unknown word {word!r}")


def parse(text: str) -> Node:
    return _Parser(text).parse()


def walk(node: Node):
    yield node
    if isinstance(node, And | Or):
        for item in node.items:
            yield from walk(item)
    elif isinstance(node, Not):
        yield from walk(node.item)


def required_memberships(node: Node) -> list[InList]:
    """Memberships that must hold for `node` to be true (top-level conjuncts): usable as index guards."""
    if isinstance(node, InList) and not node.negate:
        return [node]
    if isinstance(node, And):
        out: list[InList] = []
        for item in node.items:
            out += required_memberships(item)
        return out
    return []


# ---- evaluation ---------------------------------------------------------------------------------


class Facts(Protocol):
    """What a condition reads from a record (see engine.RecordFacts)."""

    pdx: str | None
    dx_set: frozenset[str]
    main_proc: str | None
    proc_set: frozenset[str]
    age_days: int | None
    age_years: int | None
    birth_weight: int | None
    sex: int | None
    los: int | None
    dept: str | None
    is_icu: bool

    def has_mcc(self) -> bool: ...
    def has_mcc_or_cc(self) -> bool: ...
    def trauma_regions(self) -> int: ...


@dataclass(frozen=True)
class Env:
    """Resolves list names for the MDC/ADRG a condition belongs to."""

    lists: dict[str, frozenset[str]]
    proc_tags: dict[str, frozenset[str]]  # tag -> codes carrying it (this ADRG)
    # Reads a condition's literal codes (field, codes) in a record's coding (grouping/editions.py).
    literal_codes: Callable[[str, frozenset[str]], frozenset[str]] | None = None

    def resolve(self, node: InList) -> frozenset[str]:
        if node.literal is not None:
            if self.literal_codes is not None:
                return self.literal_codes(node.field, node.literal)
            return node.literal
        try:
            return self.lists[node.list_name or ""]
        except KeyError:
            raise ConditionError(f"list {node.list_name} is not defined here") from None


_CMP: dict[str, Callable[[Any, Any], bool]] = {
    "==": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}
_NUM_ATTR = {
    "AGE_DAYS": "age_days",
    "AGE_YEARS": "age_years",
    "BIRTH_WEIGHT": "birth_weight",
    "SEX": "sex",
    "LOS": "los",
}

Predicate = Callable[[Any], bool]


def compile_node(node: Node, env: Env) -> Predicate:
    """A closure evaluating `node` against a record's facts."""
    if isinstance(node, Flag):
        if node.name == "TRUE":
            return lambda f: True
        if node.name == "HAS_MCC":
            return lambda f: f.has_mcc()
        if node.name == "HAS_MCC_OR_CC":
            return lambda f: f.has_mcc_or_cc()
        return lambda f: f.trauma_regions() >= 2
    if isinstance(node, InList):
        codes = env.resolve(node)
        neg = node.negate
        if node.field == "PDX":
            return (lambda f: f.pdx not in codes) if neg else (lambda f: f.pdx in codes)
        if node.field == "MAIN_PROC":
            return (lambda f: f.main_proc not in codes) if neg else (lambda f: f.main_proc in codes)
        if node.field == "ANY_DX":
            return (lambda f: codes.isdisjoint(f.dx_set)) if neg else (lambda f: not codes.isdisjoint(f.dx_set))
        return (lambda f: codes.isdisjoint(f.proc_set)) if neg else (lambda f: not codes.isdisjoint(f.proc_set))
    if isinstance(node, Compare):
        op, value = _CMP[node.op], node.value
        if node.field == "DEPT":
            if value.upper() == "ICU" and node.op in ("==", "!="):
                want = node.op == "=="
                return lambda f: f.is_icu == want
            return lambda f: f.dept is not None and op(f.dept, value)
        attr = _NUM_ATTR[node.field]

        def cmp(f: Any, attr: str = attr) -> bool:
            v = getattr(f, attr)
            return v is not None and op(v, value)

        return cmp
    if isinstance(node, ProcTag):
        tagged = frozenset().union(*(env.proc_tags.get(t, frozenset()) for t in node.tags))
        return lambda f: not tagged.isdisjoint(f.proc_set)
    if isinstance(node, Not):
        inner = compile_node(node.item, env)
        return lambda f: not inner(f)
    parts = tuple(compile_node(i, env) for i in node.items)
    if isinstance(node, And):
        if len(parts) == 2:
            a, b = parts
            return lambda f: a(f) and b(f)
        return lambda f: all(p(f) for p in parts)
    return lambda f: any(p(f) for p in parts)


def explain(node: Node, env: Env, f: Any) -> tuple[bool, str]:
    """Evaluate `node` and say why, in one line (used by traces; slower than compile_node)."""
    if isinstance(node, Flag):
        if node.name == "TRUE":
            return True, "TRUE"
        if node.name == "HAS_MCC":
            v = f.has_mcc()
            return v, f"HAS_MCC: {'yes (' + ', '.join(f.mcc_codes()) + ')' if v else 'no'}"
        if node.name == "HAS_MCC_OR_CC":
            v = f.has_mcc_or_cc()
            return v, f"HAS_MCC_OR_CC: {'yes (' + ', '.join(f.cc_codes()) + ')' if v else 'no'}"
        n = f.trauma_regions()
        return n >= 2, f"trauma body regions: {n} (need 2)"
    if isinstance(node, InList):
        codes = env.resolve(node)
        label = node.list_name or "[" + ", ".join(sorted(node.literal or ())) + "]"
        word = "NOT_IN" if node.negate else "IN"
        if node.field in ("PDX", "MAIN_PROC"):
            value = f.pdx if node.field == "PDX" else f.main_proc
            hit = value in codes
            return (
                hit != node.negate,
                f"{node.field} {value or '(none)'} {word} {label} ({len(codes)} codes): {'in' if hit else 'not in'}",
            )
        values = f.dx_set if node.field == "ANY_DX" else f.proc_set
        hits = sorted(values & codes)
        ok = bool(hits) != node.negate
        return ok, f"{node.field} {word} {label} ({len(codes)} codes): {', '.join(hits) if hits else 'none'}"
    if isinstance(node, Compare):
        if node.field == "DEPT" and str(node.value).upper() == "ICU":
            v = compile_node(node, env)(f)
            return v, f"ICU stay (dept={f.dept!r}, icu_hours rule): {'yes' if f.is_icu else 'no'}"
        actual = f.dept if node.field == "DEPT" else getattr(f, _NUM_ATTR[node.field])
        v = compile_node(node, env)(f)
        shown = "missing" if actual is None else actual
        return v, f"{node.field} {node.op} {node.value}: {node.field}={shown}"
    if isinstance(node, ProcTag):
        tagged = frozenset().union(*(env.proc_tags.get(t, frozenset()) for t in node.tags))
        hits = sorted(tagged & f.proc_set)
        return bool(hits), f"PROC_TAG({','.join(node.tags)}): {', '.join(hits) if hits else 'none'}"
    if isinstance(node, Not):
        v, why = explain(node.item, env, f)
        return not v, f"NOT({why})"
    results = [explain(i, env, f) for i in node.items]
    joiner = " AND " if isinstance(node, And) else " OR "
    value = all(r[0] for r in results) if isinstance(node, And) else any(r[0] for r in results)
    return value, "(" + joiner.join(r[1] for r in results) + ")"

"""The job registry lists every module that declares a job kind: a kind is known because its module
is on dianshu.jobs.registry.JOB_MODULES, not because something else happened to import it first."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import dianshu
from dianshu.jobs.registry import JOB_MODULES

PACKAGE = Path(dianshu.__file__).resolve().parent


def _is_job_kind(decorator: ast.expr) -> bool:
    f = decorator.func if isinstance(decorator, ast.Call) else decorator
    return (isinstance(f, ast.Name) and f.id == "job_kind") or (isinstance(f, ast.Attribute) and f.attr == "job_kind")


def declared_handlers() -> set[tuple[str, str]]:
    """(module, function) of every handler decorated with @job_kind in the package."""
    out = set()
    for f in PACKAGE.rglob("*.py"):
        parts = list(f.relative_to(PACKAGE.parent).with_suffix("").parts)
        module = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        for node in ast.walk(ast.parse(f.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and any(map(_is_job_kind, node.decorator_list)):
                out.add((module, node.name))
    return out


def test_every_module_declaring_a_job_kind_is_listed():
    declaring = {m for m, _ in declared_handlers()}
    listed = {m.__name__ for m in JOB_MODULES}
    assert declaring - listed == set(), "declare job kinds but are missing from dianshu.jobs.registry.JOB_MODULES"
    assert listed - declaring == set(), "listed in JOB_MODULES but declare no job kind"


def test_the_registry_alone_registers_every_job_kind():
    """In a fresh interpreter, importing the registry and nothing else registers every declared kind."""
    program = (
        "import json\nfrom dianshu.jobs.registry import all_kinds\n"
        "print(json.dumps(sorted([k.handler.__module__, k.handler.__name__] for k in all_kinds().values())))"
    )
    out = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, check=True).stdout
    registered = {tuple(x) for x in json.loads(out)}
    assert registered == declared_handlers()

"""How `dianshu` ends: bad input (a usage error, a missing file, a refused value, a file that cannot
be read) is one line on stderr and exit code 2; anything else one line and exit code 1; never a
traceback (DIANSHU_TRACEBACK=1 prints it, for a bug report). Help is `-h` or `--help` everywhere.
A refusal's reasons are said in the CLI's language (`lang`): `--lang zh|en`, else DIANSHU_LANG,
else the locale (LC_ALL, LC_MESSAGES, LANG: zh_CN.UTF-8 is zh, en_US.UTF-8 is en), else zh."""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Sequence
from typing import Any

import typer

try:  # Typer 0.2x carries its own copy of Click
    from typer._click import exceptions as cx
except ImportError:  # pragma: no cover - a Typer on the public Click
    from click import exceptions as cx

CONTEXT: dict[str, Any] = {"help_option_names": ["-h", "--help"]}

# Exceptions that mean the input was wrong, by module and name: looked up only in modules already
# imported (an exception of a module never imported cannot have been raised), so `dianshu -h`
# imports nothing it does not need.
INPUT_ERRORS = (
    ("dianshu.errors", "Refused"),
    ("dianshu.tabular.encoding", "EncodingRefused"),
    ("dianshu.tabular.read", "SheetRefused"),
    ("dianshu.cases.parsing", "LayoutError"),
    ("dianshu.config", "ConfigError"),
    ("dianshu.standards.tables", "SchemeTableError"),
    ("dianshu.settlement.runs.simulations", "ScenarioFileError"),
    ("json", "JSONDecodeError"),
)


# `--lang` as given on the command line (main's callback), which wins over the environment.
CHOSEN: dict[str, str] = {}


def lang() -> Any:
    """The CLI's language (a dianshu.tabular.write.Lang), imported here only when asked for."""
    from dianshu.reports.reasons import lang_of
    from dianshu.tabular.write import Lang

    if "lang" in CHOSEN:
        return Lang(CHOSEN["lang"])
    if named := os.environ.get("DIANSHU_LANG"):
        return lang_of(named)
    for var in ("LC_ALL", "LC_MESSAGES", "LANG"):
        if value := os.environ.get(var):
            return lang_of(value)
    return Lang.zh


def localized(line: str) -> str:
    from dianshu.reports.reasons import localize_message

    return localize_message(line, lang())


def red_line(e: BaseException | str) -> str:
    """A refusal (an exception's message, or a line) for the console, in the CLI's language, as Rich
    markup (red, escaped)."""
    from rich.markup import escape

    return "[red]" + escape(localized(str(e))) + "[/red]"


def _usage(message: str) -> str:
    """A usage error's message in the CLI's language, with the hint to ask for help."""
    from dianshu.reports.reasons import Reason

    return Reason("cli_help_hint", {"reason": message}).text(lang())


def one_line(text: str) -> str:
    return " ".join(part.strip() for part in str(text).splitlines() if part.strip())


def _is_input_error(e: BaseException) -> bool:
    if isinstance(e, OSError):
        return True
    for module, name in INPUT_ERRORS:
        cls = getattr(sys.modules.get(module), name, None)
        if cls is not None and isinstance(e, cls):
            return True
    return False


def describe(e: BaseException) -> str:
    if isinstance(e, OSError) and e.filename is not None:
        return f"{e.filename}: {e.strerror or e}"
    return one_line(str(e)) or type(e).__name__


def run(app: typer.Typer, args: Sequence[str] | None = None) -> int:
    """Run the CLI and return its exit code (what `dianshu` exits with)."""
    command = typer.main.get_command(app)
    prog = "dianshu"
    try:
        rv = command.main(args=list(sys.argv[1:] if args is None else args), prog_name=prog, standalone_mode=False)
        return rv if isinstance(rv, int) and not isinstance(rv, bool) else 0
    except cx.NoArgsIsHelpError as e:
        sys.stderr.write((e.ctx.get_help() if e.ctx else "") + "\n")
        return 2
    except cx.UsageError as e:
        where = e.ctx.command_path if e.ctx else prog
        # Click's own wording (missing option, no such file, invalid choice) has catalogue entries.
        sys.stderr.write(f"{where}: {_usage(one_line(e.format_message()))}\n")
        return 2
    except cx.ClickException as e:
        sys.stderr.write(f"{prog}: {localized(one_line(e.format_message()))}\n")
        return 2
    except typer.Exit as e:
        return e.exit_code
    except (typer.Abort, KeyboardInterrupt):
        sys.stderr.write(f"{prog}: interrupted\n")
        return 130
    except Exception as e:
        if os.environ.get("DIANSHU_TRACEBACK"):
            traceback.print_exc()
        if _is_input_error(e):
            sys.stderr.write(f"{prog}: {localized(describe(e))}\n")
            return 2
        sys.stderr.write(f"{prog}: failed: {type(e).__name__}: {describe(e)} (DIANSHU_TRACEBACK=1 for details)\n")
        return 1


class Cli(typer.Typer):
    """A Typer app whose call exits through `run`: one line per error, never a traceback."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        sys.exit(run(self))

"""`dianshu group`: group a JSON Lines file with a built-in (or a folder's) scheme, offline.

The file is read in chunks of lines; with more than one worker each chunk is grouped in a process
pool (forked after the scheme is compiled, so no worker compiles it again) and comes back as the
chunk's output bytes, written strictly in input order. Lines are parsed (orjson, then the strict
record schema) and results written (`GroupResult.to_dict`, orjson) inside the workers; this
process only reads, hands out and writes bytes. A bad line is reported with its line number and the
run goes on."""

from __future__ import annotations

import gc
import hashlib
import json
import multiprocessing as mp
import os
import pickle
import re
import sys
import time
from collections import deque
from collections.abc import Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING

import orjson
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from dianshu.grouping.engine import Grouper
from dianshu.grouping.records import RecordError, parse_input, trusted_codes

if TYPE_CHECKING:
    from dianshu.codes.codebook import CodeBook
    from dianshu.standards.tables import SchemeTables

CHUNK_LINES = 2000
READ_BYTES = 1 << 20
STATUSES = ("grouped", "ungroupable", "ambiguous", "invalid")

# The compiled scheme a worker groups with: set before the pool forks (inherited), or by the
# initializer where processes are not forked.
_grouper: Grouper | None = None
_trusted: frozenset[str] = frozenset()  # its code book's codes, taken by one lookup (trusted_codes)


def load_grouper(standard: str) -> Grouper:
    from dianshu.standards.tables import BUILTIN_SCHEMES, builtin_dir

    directory = builtin_dir(standard) if standard in BUILTIN_SCHEMES else Path(standard)
    if not directory.is_dir():
        raise KeyError(f"unknown standard {standard!r}: not one of {', '.join(BUILTIN_SCHEMES)} nor a folder")
    return Grouper(*scheme_inputs(directory))


def cache_dir() -> Path | None:
    """Where read tables are kept between runs: DIANSHU_CACHE_DIR (empty: nowhere), else
    $XDG_CACHE_HOME/dianshu or ~/.cache/dianshu."""
    configured = os.environ.get("DIANSHU_CACHE_DIR")
    if configured is not None:
        return Path(configured) if configured else None
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "dianshu"


def scheme_inputs(directory: Path) -> tuple[SchemeTables, CodeBook]:
    """A scheme folder's tables and the code book, read from their CSV files (0.5 s) or, when
    nothing they are made of has changed, from the copy the last run kept (0.1 s). The key hashes
    every table and code file and the source of the modules that read them, so an edited table, a
    new code edition or a changed reader makes a new copy; an unreadable copy is read again."""
    from dianshu.codes import codebook
    from dianshu.grouping import conditions
    from dianshu.standards import tables

    where = cache_dir()
    path = None
    if where is not None:
        h = hashlib.blake2b(digest_size=16)
        h.update(f"{sys.version}\0{directory.resolve()}\0".encode())
        sources = [Path(conditions.__file__), *sorted(Path(tables.__file__).parent.glob("*.py"))]
        sources += sorted(Path(codebook.__file__).parent.glob("*.py"))
        data = sorted(p for p in directory.iterdir() if p.is_file())
        data += sorted(p for p in codebook.DATA_DIR.rglob("*") if p.is_file())
        for p in sources + data:
            h.update(str(p).encode() + b"\0")
            h.update(p.read_bytes())
        path = where / f"scheme-{directory.name}-{h.hexdigest()}.pickle"
        try:
            # Only the user's own copy, not writable by others: a pickle runs code when read.
            st = path.stat()
            if st.st_uid != os.getuid() or st.st_mode & 0o022:
                raise PermissionError(path)
            kept = pickle.loads(path.read_bytes())  # noqa: S301  (our own cache, in the user's own directory)
            if isinstance(kept, tuple) and isinstance(kept[0], tables.SchemeTables):
                return kept
        except Exception:  # noqa: S110  (absent, partial or from another version: read the tables again)
            pass
    inputs = (tables.load_scheme(directory), codebook.load_codebook())
    if path is not None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_bytes(pickle.dumps(inputs, protocol=pickle.HIGHEST_PROTOCOL))
            tmp.replace(path)
            for old in sorted(path.parent.glob(f"scheme-{directory.name}-*.pickle"), key=os.path.getmtime)[:-3]:
                old.unlink(missing_ok=True)  # keep the three newest copies of this scheme
        except OSError:
            pass
    return inputs


def _init_worker(standard: str) -> None:
    global _grouper, _trusted
    if _grouper is None:
        _grouper = load_grouper(standard)
        _trusted = trusted_codes(_grouper.codebook.diagnoses.names, _grouper.codebook.procedures.names)


def group_lines(
    grouper: Grouper, first_line: int, data: bytes, trace: bool, trusted: frozenset[str] = frozenset()
) -> tuple[bytes, list[int], list[tuple[int, str, str]]]:
    """Group one chunk of input lines (numbered from `first_line`): the output lines (one per
    non-blank input line, each ending in a newline), counts per status (STATUSES order) and the
    refused lines as (line number, field, reason)."""
    lines = data.split(b"\n")
    if lines[-1] == b"":
        lines.pop()  # after the last line end
    loads, dumps, group = orjson.loads, orjson.dumps, grouper.group
    out: list[bytes] = []
    grouped = ungroupable = ambiguous = 0
    problems: list[tuple[int, str, str]] = []
    for line_no, line in enumerate(lines, start=first_line):
        try:
            d = loads(line)
            if type(d) is dict and len(_key_marks(line)) != len(d) and (twice := _repeated_key(line)):
                raise RecordError(twice, "appears twice in the record")
            rec = parse_input(d, trusted)
        except orjson.JSONDecodeError as e:
            if not line.strip():
                continue  # a blank line: skipped, still counted in the line numbers
            problems.append((line_no, "line", f"not valid JSON: {e.msg}"))
            out.append(_invalid(line_no, None, "line", f"not valid JSON: {e.msg}"))
            continue
        except RecordError as e:
            problems.append((line_no, e.field, e.reason))
            out.append(_invalid(line_no, d.get("id") if type(d) is dict else None, e.field, e.reason))
            continue
        r = group(rec, trace=trace)
        status = r.status
        if status == "grouped":
            grouped += 1
        elif status == "ungroupable":
            ungroupable += 1
        else:
            ambiguous += 1
        out.append(dumps(r.to_dict(trace)))
    if out:
        out.append(b"")
    return b"\n".join(out), [grouped, ungroupable, ambiguous, len(problems)], problems


# Every key of a JSON object ends in `"` then optional space then `:`; string values can only add
# such marks (an inner quote is escaped), so as many marks as keys read means no key was repeated
# (orjson keeps the last of repeated keys without a word).
_key_marks = re.compile(rb'"[ \t\r]*:').findall


def _repeated_key(line: bytes) -> str | None:
    """The first key a JSON object line repeats (the exact, slow reading), if any."""
    seen: set[str] = set()
    twice: list[str] = []

    def pairs(items: list[tuple[str, object]]) -> dict[str, object]:
        for k, _ in items:
            if k in seen and not twice:
                twice.append(k)
            seen.add(k)
        return dict(items)

    json.loads(line, object_pairs_hook=pairs)
    return twice[0] if twice else None


def _invalid(line_no: int, rid: object, field: str, reason: str) -> bytes:
    return orjson.dumps(
        {
            "line": line_no,
            "id": rid,
            "status": "invalid",
            "messages": [{"level": "error", "field": field, "text": reason}],
        }
    )


def _work(task: tuple[int, bytes, bool]) -> tuple[bytes, list[int], list[tuple[int, str, str]]]:
    assert _grouper is not None
    return group_lines(_grouper, *task, _trusted)


def chunks(source: IO[bytes], size: int) -> Iterator[tuple[int, bytes, int]]:
    """(first line number, the bytes of up to `size` whole lines, their length) from a binary stream,
    read in big blocks (or what a pipe has ready). This process only finds line ends (C-level
    `find`); the workers split the lines."""
    line_no, buf = 1, b""
    while True:
        block = source.read1(READ_BYTES) if hasattr(source, "read1") else source.read(READ_BYTES)
        if not block:
            break
        buf = buf + block if buf else block
        start, find = 0, buf.find
        while True:
            end = start
            for _ in range(size):
                end = find(b"\n", end) + 1
                if not end:
                    break
            if not end:
                break
            yield line_no, buf[start:end], end - start
            line_no += size
            start = end
        buf = buf[start:]
    if buf:
        yield line_no, buf, len(buf)


def group_file(
    standard: str,
    source: IO[bytes],
    sink: IO[bytes],
    *,
    trace: bool,
    console: Console,
    total_bytes: int | None = None,
    workers: int = 1,
    chunk_lines: int = CHUNK_LINES,
) -> dict[str, int]:
    global _grouper, _trusted
    started = time.perf_counter()
    grouper = load_grouper(standard)
    trusted = trusted_codes(grouper.codebook.diagnoses.names, grouper.codebook.procedures.names)
    from dianshu.reports.reasons import Reason, field_name, localize
    from dianshu_cli.errors import lang
    from dianshu_cli.words import t

    seconds = f"{time.perf_counter() - started:.2f}"
    drgs = f"{grouper.tables.drg_count}"
    compiled = Reason("cli_group_compiled", {"compiled_standard": standard, "drgs": drgs, "seconds": seconds})
    console.print(escape(compiled.text(lang())), highlight=False)
    counts = dict.fromkeys(("records", *STATUSES), 0)
    with Progress(
        TextColumn(t("分组中")),
        BarColumn(),
        TextColumn(t("{task.fields[n]:,} 条记录")),  # Rich formats the task's fields into it
        TimeElapsedColumn(),
        console=console,
        disable=not console.is_terminal and total_bytes is None,
    ) as bar:
        task = bar.add_task("group", total=total_bytes, n=0)
        done = 0

        def write(result: tuple[bytes, list[int], list[tuple[int, str, str]]], size: int) -> None:
            nonlocal done
            data, n, problems = result
            sink.write(data)
            for line_no, field, reason in problems:
                shown = localize(reason, lang())  # stderr in the CLI's language; the output line keeps the English
                where, named = field_name(f"line {line_no}", lang()), field_name(field, lang())
                console.print(f"[yellow]{escape(where)}[/yellow]: {escape(named)}: {escape(shown)}", highlight=False)
            for status, k in zip(STATUSES, n, strict=True):
                counts[status] += k
            counts["records"] += sum(n)
            done += size
            bar.update(task, completed=done, n=counts["records"])

        parts = chunks(source, chunk_lines)
        first = next(parts, None)
        second = next(parts, None) if first is not None else None
        if workers <= 1 or second is None:  # one worker, or a single chunk: no pool to start
            for line_no, lines, size in (p for p in (first, second) if p is not None):
                write(group_lines(grouper, line_no, lines, trace, trusted), size)
            for line_no, lines, size in parts:
                write(group_lines(grouper, line_no, lines, trace, trusted), size)
        else:
            _grouper, _trusted = grouper, trusted
            gc.freeze()  # the compiled scheme is shared copy-on-write: keep the collector off its pages
            try:
                with mp.get_context("fork").Pool(workers, initializer=_init_worker, initargs=(standard,)) as pool:
                    window: deque[tuple[mp.pool.AsyncResult, int]] = deque()
                    limit = workers * 3  # chunks in flight: keeps the workers busy and memory bounded

                    def submit(line_no: int, lines: bytes, size: int) -> None:
                        if len(window) >= limit:
                            pending, pending_size = window.popleft()
                            write(pending.get(), pending_size)
                        window.append((pool.apply_async(_work, ((line_no, lines, trace),)), size))

                    submit(*first)
                    submit(*second)
                    for part in parts:
                        submit(*part)
                    while window:
                        pending, pending_size = window.popleft()
                        write(pending.get(), pending_size)
            finally:
                _grouper, _trusted = None, frozenset()
                gc.unfreeze()
        bar.update(task, completed=total_bytes, n=counts["records"])
    return counts


def keep_heap_pad(pad_bytes: int = 64 << 20) -> None:
    """Ask glibc to keep this much free memory at the top of the heap instead of returning it at
    every chunk: each chunk's few MB were given back and faulted in again, a tenth of the CPU
    time of a run. No effect where the C library has no mallopt."""
    try:
        import ctypes

        ctypes.CDLL(None).mallopt(-2, pad_bytes)  # M_TOP_PAD
    except (OSError, AttributeError):
        pass


def run(
    standard: str,
    input_path: str,
    output_path: str,
    trace: bool,
    workers: int | None = None,
    chunk_lines: int = CHUNK_LINES,
) -> dict[str, int]:
    console = Console(stderr=True, soft_wrap=True)
    workers = workers or os.cpu_count() or 1
    keep_heap_pad()  # before the pool forks: the workers inherit it
    source = sys.stdin.buffer if input_path == "-" else open(input_path, "rb")
    try:
        sink = sys.stdout.buffer if output_path == "-" else open(output_path, "wb")
        try:
            total = None if input_path == "-" else Path(input_path).stat().st_size
            counts = group_file(
                standard,
                source,
                sink,
                trace=trace,
                console=console,
                total_bytes=total,
                workers=workers,
                chunk_lines=chunk_lines,
            )
        finally:
            if sink is sys.stdout.buffer:
                sink.flush()
            else:
                sink.close()
    finally:
        if source is not sys.stdin.buffer:
            source.close()
    from dianshu.reports.reasons import Reason
    from dianshu_cli.errors import lang

    summary = Reason("cli_group_summary", {k: f"{v:,}" for k, v in counts.items()})
    console.print(escape(summary.text(lang())), highlight=False)
    return counts

"""`dianshu group`: group a JSON Lines file with a built-in (or a folder's) scheme, offline."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import IO

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from dianshu.codes.codebook import load_codebook
from dianshu.grouping.engine import Grouper
from dianshu.grouping.records import RecordError, parse_input
from dianshu.standards.tables import BUILTIN_SCHEMES, builtin_dir, load_scheme


def load_grouper(standard: str) -> Grouper:
    directory = builtin_dir(standard) if standard in BUILTIN_SCHEMES else Path(standard)
    if not directory.is_dir():
        raise KeyError(f"unknown standard {standard!r}: not one of {', '.join(BUILTIN_SCHEMES)} nor a folder")
    return Grouper(load_scheme(directory), load_codebook())


def group_file(
    standard: str, source: IO[str], sink: IO[str], *, trace: bool, console: Console, total_bytes: int | None = None
) -> dict[str, int]:
    started = time.perf_counter()
    grouper = load_grouper(standard)
    console.print(f"{standard}: {grouper.tables.drg_count} DRGs compiled in {time.perf_counter() - started:.2f}s")
    counts = {"records": 0, "grouped": 0, "ungroupable": 0, "ambiguous": 0, "invalid": 0}
    with Progress(
        TextColumn("grouping"),
        BarColumn(),
        TextColumn("{task.fields[n]:,} records"),
        TimeElapsedColumn(),
        console=console,
        disable=not console.is_terminal and total_bytes is None,
    ) as bar:
        task = bar.add_task("group", total=total_bytes, n=0)
        read = 0
        for line_no, line in enumerate(source, start=1):
            read += len(line.encode("utf-8"))
            if not line.strip():
                continue
            counts["records"] += 1
            try:
                rec = parse_input(json.loads(line))
            except (json.JSONDecodeError, RecordError) as e:
                counts["invalid"] += 1
                field = e.field if isinstance(e, RecordError) else "line"
                reason = e.reason if isinstance(e, RecordError) else f"not valid JSON: {e.msg}"
                console.print(f"[yellow]line {line_no}[/yellow]: {field}: {reason}")
                try:
                    rid = json.loads(line).get("id")
                except Exception:
                    rid = None
                out = {
                    "line": line_no,
                    "id": rid,
                    "status": "invalid",
                    "messages": [{"level": "error", "field": field, "text": reason}],
                }
            else:
                result = grouper.group(rec, trace=trace)
                counts[result.status] += 1
                out = result.as_dict(with_trace=trace)
            sink.write(json.dumps(out, ensure_ascii=False) + "\n")
            if counts["records"] % 5000 == 0:
                bar.update(task, completed=read, n=counts["records"])
        bar.update(task, completed=total_bytes, n=counts["records"])
    return counts


def run(standard: str, input_path: str, output_path: str, trace: bool) -> dict[str, int]:
    console = Console(stderr=True)
    source = sys.stdin if input_path == "-" else open(input_path, encoding="utf-8")
    sink = sys.stdout if output_path == "-" else open(output_path, "w", encoding="utf-8")
    try:
        total = None if input_path == "-" else Path(input_path).stat().st_size
        counts = group_file(standard, source, sink, trace=trace, console=console, total_bytes=total)
    finally:
        if source is not sys.stdin:
            source.close()
        if sink is not sys.stdout:
            sink.close()
    console.print(
        f"{counts['records']:,} records: {counts['grouped']:,} grouped, {counts['ungroupable']:,} ungroupable, "
        f"{counts['ambiguous']:,} ambiguous, {counts['invalid']:,} invalid lines"
    )
    return counts

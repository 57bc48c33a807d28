"""Micro-benchmark of the per-row Python work of an ingestion job, in one process, no database:
parse (RowParser) and validate (RowValidator) N generated stays, median of R repeats.

    .venv/bin/python -m benchmarks.validate [--stays 50000] [--repeats 5] [--format csv|jsonl] [--copy]

The stays come from the city generator (the ingest benchmark's files), read into memory first.
--copy also builds each good row's COPY line and content hash, as the ingestion job does."""

from __future__ import annotations

import argparse
import gzip
import json
import statistics
import tempfile
import time
from pathlib import Path

from dianshu.cases import ingest
from dianshu.cases.layout import MULTI
from dianshu.cases.parsing import RowParser
from dianshu.cases.validation import RowValidator
from dianshu.codes.codebook import load_codebook
from dianshu.synthetic.city import GenerateOptions, generate_city


def files(stays: int, fmt: str) -> list[bytes]:
    """The generated files' bytes (gzipped, as uploaded), in the given format."""
    out = Path(tempfile.mkdtemp(prefix="dianshu-bench-validate-"))
    infos = generate_city(out, GenerateOptions(years=(2025,), stays_per_year=stays, processes=2))
    blobs = [(out / f.path).read_bytes() for f in infos]
    if fmt == "csv":
        return blobs
    import csv
    import io

    converted = []
    for blob in blobs:
        reader = csv.reader(io.StringIO(gzip.decompress(blob).decode("utf-8")))
        header = next(reader)
        lines = []
        for fields in reader:
            obj = {}
            for name, x in zip(header, fields, strict=True):
                if x == "":
                    continue
                obj[name] = x.split("|") if name in MULTI else x
            lines.append(json.dumps(obj, ensure_ascii=False))
        converted.append(gzip.compress(("\n".join(lines) + "\n").encode("utf-8"), compresslevel=1))
    return converted


def run_once(blobs: list[bytes], fmt: str, validator: RowValidator, copy: bool) -> tuple[int, int, float]:
    n = good = 0
    t0 = time.perf_counter()
    for blob in blobs:
        parser = RowParser(fmt, True)
        for i in range(0, len(blob), 1 << 20):
            for _, item in parser.feed(blob[i : i + (1 << 20)]):
                n += 1
                if isinstance(item, str):
                    continue
                values, errors = validator.validate(item)
                if not errors:
                    good += 1
                    if copy:
                        ingest.copy_line(n, values)
        for _, item in parser.feed(b"", final=True):
            n += 1
            validator.validate(item)  # type: ignore[arg-type]
    return n, good, time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--stays", type=int, default=50_000)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--format", choices=("csv", "jsonl"), default="csv")
    ap.add_argument("--copy", action="store_true", help="also build the COPY line and content hash")
    a = ap.parse_args()
    blobs = files(a.stays, a.format)
    validator = RowValidator(load_codebook())
    times = []
    for _ in range(a.repeats):
        n, good, s = run_once(blobs, a.format, validator, a.copy)
        times.append(s)
    med = statistics.median(times)
    what = "parse + validate" + (" + COPY line" if a.copy else "")
    print(
        f"{what} ({a.format}): {n:,} rows ({good:,} good), median of {a.repeats} {med:.2f}s "
        f"= {n / med:,.0f} rows/s (runs: {', '.join(f'{t:.2f}' for t in times)})"
    )


if __name__ == "__main__":
    main()

"""Grouper benchmark: compile time, records per second per core, peak memory.

    .venv/bin/python benchmarks/grouper.py [--standard chs_drg_11] [--records 1000000] [--processes 2]

Records are generated up front (aimed at the scheme's ADRGs, see dianshu.grouping.samples) and then
grouped; generation is not timed. Each process groups its share with its own compiled grouper."""

from __future__ import annotations

import argparse
import multiprocessing as mp
import resource
import statistics
import time

from dianshu.codes.codebook import load_codebook
from dianshu.grouping.engine import Grouper
from dianshu.grouping.samples import sample_records
from dianshu.standards.tables import builtin_dir, load_scheme


def compile_grouper(standard: str) -> tuple[Grouper, float]:
    started = time.perf_counter()
    g = Grouper(load_scheme(builtin_dir(standard)), load_codebook())
    return g, time.perf_counter() - started


def work(args: tuple[str, int, int]) -> tuple[int, float, dict[str, int]]:
    standard, n, seed = args
    g, _ = compile_grouper(standard)
    records = list(sample_records(g, n, seed=seed))
    started = time.perf_counter()
    statuses: dict[str, int] = {}
    for r in records:
        s = g.group(r).status
        statuses[s] = statuses.get(s, 0) + 1
    return n, time.perf_counter() - started, statuses


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--standard", default="chs_drg_11")
    ap.add_argument("--records", type=int, default=1_000_000)
    ap.add_argument("--processes", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=3, help="compile-time samples")
    a = ap.parse_args()
    compile_times = []
    for _ in range(a.repeat):
        load_codebook.cache_clear()
        compile_times.append(compile_grouper(a.standard)[1])
    print(
        f"standard {a.standard}: compile (tables + code book + indexes) median {statistics.median(compile_times):.2f}s"
    )

    # One core: the per-core figure.
    n1 = max(a.records // a.processes, 1)
    _, secs, statuses = work((a.standard, n1, 1))
    print(f"1 core: {n1:,} records in {secs:.1f}s = {n1 / secs:,.0f} records/s per core; {statuses}")

    # All processes together on the full count.
    share = a.records // a.processes
    started = time.perf_counter()
    with mp.get_context("fork").Pool(a.processes) as pool:
        results = pool.map(work, [(a.standard, share, 100 + i) for i in range(a.processes)])
    wall = time.perf_counter() - started
    total = sum(n for n, _, _ in results)
    busy = max(s for _, s, _ in results)
    print(
        f"{a.processes} processes: {total:,} records grouped in {busy:.1f}s (grouping only) "
        f"= {total / busy:,.0f} records/s; wall incl. generation {wall:.1f}s"
    )
    peak_self = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    peak_child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"peak memory: {peak_self:.0f} MB (this process), {peak_child:.0f} MB (largest worker)")


if __name__ == "__main__":
    main()

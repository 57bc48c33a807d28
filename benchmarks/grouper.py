"""Grouper benchmark, three figures on two record sets, medians of --repeat runs:

    .venv/bin/python -m benchmarks.grouper [--standard zhejiang_2022] [--records 200000] [--repeat 3]
        [--workers N] [--skip-cli] [--skip-regroup] [--cases 1000000] [--regroup-repeat 1]

The record sets (dianshu.grouping.samples): `city`, the synthetic pilot city's stays as its generator
makes them, and `diverse`, records drawn evenly across every ADRG's code lists (codes as the tables
write them, 国临版 ones included) with 0-15 realistic secondary diagnoses.

(a) engine alone: records built up front (not timed), then `Grouper.group` on each in this one
    process: records per second per core. Also the compile time (tables + code book + indexes).
(b) CLI end to end: each set written as a --records JSON Lines file, then
    `dianshu group --standard S --input F --output O` timed as a subprocess (process start, compile,
    reading, parsing, grouping in --workers processes and writing included), the sets alternating.
(c) regroup job: the year of benchmarks/ingest.py's database (`dianshu_bench_ingest`, made with
    --cases stays when it holds another number) regrouped through the grouping jobs on 2 worker
    processes, database included (benchmarks/regroup.py); then the same cases carrying the diverse
    set (`dianshu_bench_diverse`, a copy made once). Each regroup run of 1,000,000 cases takes minutes
    here: --regroup-repeat defaults to 1."""

from __future__ import annotations

import argparse
import dataclasses
import gc
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import orjson

from dianshu.codes.codebook import load_codebook
from dianshu.grouping.engine import Grouper
from dianshu.grouping.records import GroupInput
from dianshu.grouping.samples import city_records, diverse_records
from dianshu.standards.tables import builtin_dir, load_scheme

DIANSHU = str(Path(sys.executable).parent / "dianshu")


def compile_grouper(standard: str) -> tuple[Grouper, float]:
    started = time.perf_counter()
    g = Grouper(load_scheme(builtin_dir(standard)), load_codebook())
    return g, time.perf_counter() - started


def record_sets(g: Grouper, n: int, standard: str) -> dict[str, list[GroupInput]]:
    return {"city": list(city_records(n, seed=11, scheme=standard)), "diverse": list(diverse_records(g, n, seed=11))}


def engine_rate(g: Grouper, records: list[GroupInput]) -> float:
    group = g.group
    started = time.perf_counter()
    for r in records:
        group(r)
    return len(records) / (time.perf_counter() - started)


def write_jsonl(records: list[GroupInput], path: Path) -> None:
    with path.open("wb") as f:
        for r in records:
            d = {k: v for k, v in dataclasses.asdict(r).items() if v is not None and v != ()}
            f.write(orjson.dumps(d) + b"\n")


def cli_seconds(standard: str, src: Path, out: Path, workers: int | None) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the command and its workers: a figure the machine's other load
    disturbs less)"""
    cmd = [DIANSHU, "group", "--standard", standard, "--input", str(src), "--output", str(out)]
    if workers:
        cmd += ["--workers", str(workers)]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    p = subprocess.run(cmd, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if p.returncode != 0:
        raise SystemExit(f"dianshu group failed ({p.returncode}): {p.stderr[-2000:]}")
    return elapsed, cpu


def regroup_figures(cases: int, repeat: int) -> None:
    from benchmarks import regroup as rg

    have = rg.year_cases(rg.CITY_DB)
    if have != cases:
        print(f"(c) {rg.CITY_DB} holds {have} cases of 2025, not {cases:,}: making it (benchmarks.ingest)", flush=True)
        subprocess.run([sys.executable, "-m", "benchmarks.ingest", "--stays", str(cases)], check=True)
        have = rg.year_cases(rg.CITY_DB)
    for name, database in (("city", rg.CITY_DB), ("diverse", rg.DIVERSE_DB)):
        if name == "diverse" and rg.year_cases(rg.DIVERSE_DB) != have:
            started = time.perf_counter()
            n = rg.make_diverse_database()
            took = time.perf_counter() - started
            print(f"(c) {rg.DIVERSE_DB}: {n:,} cases rewritten with the diverse set in {took:.0f}s")
        runs, cpus = [], []
        for _ in range(repeat):
            done, n_cases = rg.regroup(database)
            runs.append(done.seconds)
            cpus.append(done.worker_cpu_s + (done.server_cpu_s or 0))
            print(
                f"    regroup {name}: {n_cases:,} cases in {done.seconds:.1f}s ({rg.cpu_text(done)}; "
                f"peak worker {done.peak_worker_mb:.0f} MB)",
                flush=True,
            )
        m = statistics.median(runs)
        print(
            f"(c) regroup job, {name}: {n_cases:,} cases, one scheme, 9 jobs on 2 worker processes, database "
            f"included: median {m:.1f}s = {n_cases / m:,.0f} cases/s (runs {', '.join(f'{r:.1f}' for r in runs)}); "
            f"CPU of workers and PostgreSQL median {statistics.median(cpus):.1f}s"
        )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--standard", default="zhejiang_2022")
    ap.add_argument("--records", type=int, default=200_000, help="records per set (engine and CLI file)")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--workers", type=int, default=None, help="dianshu group --workers (default: its own)")
    ap.add_argument("--skip-cli", action="store_true")
    ap.add_argument("--skip-regroup", action="store_true")
    ap.add_argument("--cases", type=int, default=1_000_000, help="cases in the regrouped year")
    ap.add_argument("--regroup-repeat", type=int, default=1)
    a = ap.parse_args()

    compile_times = []
    for _ in range(a.repeat):
        load_codebook.cache_clear()
        g, secs = compile_grouper(a.standard)
        compile_times.append(secs)
    compiled = statistics.median(compile_times)
    print(f"standard {a.standard}: compile (tables + code book + indexes) median {compiled:.2f}s")

    started = time.perf_counter()
    sets = record_sets(g, a.records, a.standard)
    took = time.perf_counter() - started
    print(f"record sets: {a.records:,} records each, made in {took:.0f}s (not timed)", flush=True)
    gc.freeze()  # the records and the compiled scheme live through the runs: keep the collector off them
    rates: dict[str, list[float]] = {name: [] for name in sets}
    for _ in range(a.repeat):
        for name, records in sets.items():
            rates[name].append(engine_rate(g, records))
    for name, rs in rates.items():
        statuses: dict[str, int] = {}
        for r in sets[name][:20_000]:
            s = g.group(r).status
            statuses[s] = statuses.get(s, 0) + 1
        print(
            f"(a) engine alone, {name}: median {statistics.median(rs):,.0f} records/s per core "
            f"(runs {', '.join(f'{r:,.0f}' for r in rs)}); statuses of the first 20,000: {statuses}"
        )

    if not a.skip_cli:
        with tempfile.TemporaryDirectory(prefix="dianshu-bench-group-") as tmp:
            files = {}
            for name, records in sets.items():
                files[name] = Path(tmp) / f"{name}.jsonl"
                write_jsonl(records, files[name])
            del sets
            gc.unfreeze()
            gc.collect()
            secs: dict[str, list[float]] = {name: [] for name in files}
            cpus: dict[str, list[float]] = {name: [] for name in files}
            for _ in range(a.repeat):
                for name, src in files.items():
                    wall, cpu = cli_seconds(a.standard, src, Path(tmp) / f"{name}.out.jsonl", a.workers)
                    secs[name].append(wall)
                    cpus[name].append(cpu)
            for name, ss in secs.items():
                m = statistics.median(ss)
                size = files[name].stat().st_size / 2**20
                print(
                    f"(b) CLI end to end, {name}: {a.records:,} records ({size:.0f} MiB) file in, file out, process "
                    f"start included: median {m:.2f}s = {a.records / m:,.0f} records/s "
                    f"(runs {', '.join(f'{s:.2f}' for s in ss)}); CPU of all its processes median "
                    f"{statistics.median(cpus[name]):.2f}s"
                )
    if not a.skip_regroup:
        regroup_figures(a.cases, a.regroup_repeat)


if __name__ == "__main__":
    main()

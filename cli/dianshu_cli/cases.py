"""`dianshu generate` and `dianshu ingest`."""

from __future__ import annotations

import asyncio
import json
import uuid
from decimal import Decimal
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy import select

from dianshu.cases.ingest import BatchRequest
from dianshu.cases.models import IngestionBatch
from dianshu.cases.service import Submitted, submit_batch
from dianshu.db.session import Database, scoped_session
from dianshu.jobs.models import Job, JobStatus
from dianshu.scope import Role, Scope
from dianshu.synthetic.city import GenerateOptions, generate_city


def generate(console: Console, out: Path, opts: GenerateOptions, check: bool) -> None:
    total_files = len(opts.years) * 9
    with Progress(
        TextColumn("generating"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=console
    ) as bar:
        task = bar.add_task("files", total=total_files)
        files = generate_city(out, opts, on_file=lambda f: bar.advance(task))
    table = Table(title=f"Generated pilot city into {out}")
    for col in ("year", "region", "stays", "total cost (yuan)"):
        table.add_column(col, justify="right")
    for f in files:
        table.add_row(str(f.year), f.tenant, f"{f.rows:,}", f"{Decimal(f.total_cost):,.2f}")
    console.print(table)
    if check:
        from dianshu.synthetic.check import profile_files

        with console.status("grouping every stay to check the profile ..."):
            p = profile_files([out / f.path for f in files], opts.scheme)
        console.print(
            f"rows {p.rows:,}, invalid {p.invalid}, grouping rate {p.grouping_rate:.1%}, "
            f"MDCs {len(p.mdcs)}, DRGs {len(p.drgs)}, outlier share {p.outlier_share:.1%}"
        )


async def ingest_files(
    db: Database, console: Console, items: list[tuple[str, Path, int | None, str | None]], actor: str, key_prefix: str
) -> list[IngestionBatch]:
    """Submit each (tenant, file, control rows, control total) as a batch and wait for its job."""
    submitted: list[Submitted] = []
    for tenant, path, control_rows, control_total in items:
        scope = Scope(Role.region_admin, (tenant,), all_hospitals=True, actor=actor)

        def chunks(path: Path = path):
            with path.open("rb") as fh:
                while data := fh.read(1 << 20):
                    yield data

        req = BatchRequest(
            tenant,
            path.name,
            f"{key_prefix}:{path.parent.name}/{path.name}",
            "partial",
            control_rows,
            Decimal(control_total) if control_total else None,
        )
        submitted.append(await submit_batch(db, scope, req, chunks()))
    tenants = tuple(sorted({s.batch.tenant_id for s in submitted}))
    with Progress(
        TextColumn("ingesting (validate, stage, merge)"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    ) as bar:
        task = bar.add_task("batches", total=len(submitted))
        while True:
            async with scoped_session(db, Scope.system(tenants)) as s:
                rows = (
                    await s.execute(select(Job.status, Job.error).where(Job.id.in_([x.job.id for x in submitted])))
                ).all()
            done = sum(JobStatus(r.status).final for r in rows)
            bar.update(task, completed=done)
            failed = [r.error for r in rows if r.status == "failed"]
            if failed:
                raise RuntimeError(f"ingestion job failed: {failed[0]}")
            if done == len(submitted):
                break
            await asyncio.sleep(0.2)
    async with scoped_session(db, Scope.system(tenants)) as s:
        return list(
            (
                await s.execute(
                    select(IngestionBatch)
                    .where(IngestionBatch.id.in_([x.batch.id for x in submitted]))
                    .order_by(IngestionBatch.tenant_id)
                )
            ).scalars()
        )


def print_batches(console: Console, batches: list[IngestionBatch]) -> None:
    table = Table(title="Ingestion batches")
    for col in ("tenant", "status", "rows", "accepted", "corrected", "unchanged", "refused"):
        table.add_column(col, justify="right")
    for b in batches:
        table.add_row(
            b.tenant_id,
            b.status,
            f"{b.rows_total:,}",
            f"{b.rows_accepted:,}",
            f"{b.rows_corrected:,}",
            f"{b.rows_unchanged:,}",
            f"{b.rows_refused:,}",
        )
    console.print(table)


def manifest_items(directory: Path) -> list[tuple[str, Path, int | None, str | None]]:
    manifest = json.loads((directory / "manifest.json").read_text())
    # Largest first: with N workers, the big batches start early and the small ones fill the gaps.
    files = sorted(manifest["files"], key=lambda f: -f["rows"])
    return [(f["tenant"], directory / f["path"], f["rows"], f["total_cost"]) for f in files]


def new_key() -> str:
    return uuid.uuid4().hex

"""`dianshu generate` and `dianshu ingest`."""

from __future__ import annotations

import asyncio
import json
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

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
from dianshu_cli.errors import localized
from dianshu_cli.words import code_word, t


def generate(console: Console, out: Path, opts: GenerateOptions, check: bool) -> None:
    total_files = len(opts.years) * 9
    with Progress(
        TextColumn(t("生成中")), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=console
    ) as bar:
        task = bar.add_task("files", total=total_files)
        files = generate_city(out, opts, on_file=lambda f: bar.advance(task))
    table = Table(title=t("试点城市数据已生成到 {out}", out=out))
    for col in ("年度", "统筹区", "住院人次", "总费用（元）"):
        table.add_column(t(col), justify="right")
    for f in files:
        table.add_row(str(f.year), f.tenant, f"{f.rows:,}", f"{Decimal(f.total_cost):,.2f}")
    Console().print(table)
    if check:
        from dianshu.synthetic.check import profile_files

        with console.status(t("正在逐条分组以检查数据特征 ...")):
            p = profile_files([out / f.path for f in files], opts.scheme)
        console.print(
            t(
                "行数 {rows}，无效 {invalid}，入组率 {rate}，MDC {mdcs} 个，DRG {drgs} 个，高低倍率占比 {outliers}",
                rows=f"{p.rows:,}",
                invalid=p.invalid,
                rate=f"{p.grouping_rate:.1%}",
                mdcs=len(p.mdcs),
                drgs=len(p.drgs),
                outliers=f"{p.outlier_share:.1%}",
            )
        )


async def ingest_files(
    db: Database,
    console: Console,
    items: list[tuple[str, Path, int | None, str | None]],
    actor: str,
    key_prefix: str,
    encoding: str | None = None,
) -> list[IngestionBatch]:
    """Submit each (tenant, file, control rows, control total) as a batch and wait for its job;
    `encoding` as declared for every file (None: each file's is detected)."""
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
            encoding,
        )
        submitted.append(await submit_batch(db, scope, req, chunks()))
    tenants = tuple(sorted({s.batch.tenant_id for s in submitted}))
    with Progress(
        TextColumn(t("导入中（校验、暂存、合并）")),
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


async def batch_encodings(db: Database, batches: list[IngestionBatch]) -> dict[uuid.UUID, str]:
    """Each batch's text encoding (utf-8 or gb18030), as its job was given it."""
    tenants = tuple(sorted({b.tenant_id for b in batches}))
    async with scoped_session(db, Scope.system(tenants)) as s:
        rows = (await s.execute(select(Job.id, Job.params).where(Job.id.in_([b.job_id for b in batches])))).all()
    by_job = {r.id: (r.params or {}).get("encoding", "utf-8") for r in rows}
    return {b.id: by_job.get(b.job_id, "utf-8") for b in batches}


async def refused_rows(db: Database, batches: list[IngestionBatch]) -> dict[uuid.UUID, list[Any]]:
    """The refused rows of each batch that has some, by row number."""
    from dianshu.cases.models import IngestionError

    out: dict[uuid.UUID, list[Any]] = {}
    for b in batches:
        if b.rows_refused:
            async with scoped_session(db, Scope.system((b.tenant_id,))) as s:
                out[b.id] = list(
                    (
                        await s.execute(
                            select(IngestionError)
                            .where(IngestionError.tenant_id == b.tenant_id, IngestionError.batch_id == b.id)
                            .order_by(IngestionError.row_no, IngestionError.seq)
                        )
                    ).scalars()
                )
    return out


def write_refused(rows: dict[uuid.UUID, list[Any]], directory: Path) -> dict[uuid.UUID, Path]:
    """Each batch's refused rows as refused-<batch id>.csv in `directory`, in the layout of the
    errors.csv download (dianshu.cases.refused: UTF-8 with a BOM; headers and reasons in the CLI's
    language, Chinese by default)."""
    from dianshu.cases import refused
    from dianshu.tabular.write import csv_chunks
    from dianshu_cli.errors import lang

    paths: dict[uuid.UUID, Path] = {}
    for batch_id, errors in rows.items():
        directory.mkdir(parents=True, exist_ok=True)
        path = paths[batch_id] = directory / f"refused-{batch_id}.csv"
        with path.open("wb") as fh:
            for piece in csv_chunks(refused.table(batch_id, errors, lang()), lang()):
                fh.write(piece)
    return paths


def print_batches(
    console: Console,
    batches: list[IngestionBatch],
    encodings: dict[uuid.UUID, str] | None = None,
    refused_files: dict[uuid.UUID, Path] | None = None,
) -> None:
    """The batches as a table, then one plain line per batch with its id, its encoding and where
    its refused rows are (whole, for copying: a table may fold a long id)."""
    table = Table(title=t("导入批次"))
    for col in ("统筹区", "状态", "行数", "接收", "更正", "未变", "拒收"):
        table.add_column(t(col), justify="right")
    for b in batches:
        table.add_row(
            b.tenant_id,
            code_word("batch_status", b.status),
            f"{b.rows_total:,}",
            f"{b.rows_accepted:,}",
            f"{b.rows_corrected:,}",
            f"{b.rows_unchanged:,}",
            f"{b.rows_refused:,}",
        )
    console.print(table)
    for b in batches:
        line = t(
            "批次 {id}（{tenant}）：{status}", id=b.id, tenant=b.tenant_id, status=code_word("batch_status", b.status)
        )
        if encodings is not None:
            line += t("，按 {encoding} 读取", encoding=encodings.get(b.id, "utf-8"))
        if refused_files and b.id in refused_files:
            line += t("；拒收行：{path}", path=refused_files[b.id])
        if b.reason:
            line += t("；{reason}", reason=localized(b.reason))
        console.print(line, soft_wrap=True, highlight=False, markup=False)


def manifest_items(directory: Path) -> list[tuple[str, Path, int | None, str | None]]:
    manifest = json.loads((directory / "manifest.json").read_text())
    # Largest first: with N workers, the big batches start early and the small ones fill the gaps.
    files = sorted(manifest["files"], key=lambda f: -f["rows"])
    return [(f["tenant"], directory / f["path"], f["rows"], f["total_cost"]) for f in files]


def new_key() -> str:
    return uuid.uuid4().hex

"""Waiting for submitted jobs with a progress bar (the demo and `dianshu settle`)."""

from __future__ import annotations

import asyncio
import uuid

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy import select

from dianshu.db.session import Database, scoped_session
from dianshu.jobs.models import Job, JobStatus
from dianshu.scope import Scope
from dianshu_cli.words import t


async def wait_for_jobs(
    db: Database, console: Console, submitted: list[tuple[str, uuid.UUID]], what: str | None = None
) -> None:
    """Wait with a progress bar labelled `what` (in the CLI's language; by default the rosters')."""
    what = what or t("正在导入医院名册")
    codes = tuple(c for c, _ in submitted)
    ids = [j for _, j in submitted]
    with Progress(
        TextColumn(what),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    ) as bar:
        task = bar.add_task("jobs", total=len(ids))
        for _ in range(1200):
            async with scoped_session(db, Scope.system(codes)) as s:
                rows = (await s.execute(select(Job.status, Job.error).where(Job.id.in_(ids)))).all()
            done = [r for r in rows if JobStatus(r.status).final]
            bar.update(task, completed=len(done))
            failed = [r for r in rows if r.status == JobStatus.failed.value]
            if failed:
                raise RuntimeError(t("{what}失败：{error}", what=what, error=failed[0].error))
            if len(done) == len(ids):
                return
            await asyncio.sleep(0.1)
    raise TimeoutError(t("{what}：任务未在 120 秒内完成", what=what))

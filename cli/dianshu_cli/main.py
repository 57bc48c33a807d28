"""dianshu: migrate, serve, worker, token, accounts, demo, sweep, schema, embedded."""

from __future__ import annotations

import asyncio
import logging
import re
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console

from dianshu.scope import Role
from dianshu_cli.errors import CHOSEN, CONTEXT, Cli, red_line
from dianshu_cli.words import t

app = Cli(
    help="Dianshu (点数): DRG point-method payment platform. Bad input: one line on stderr, exit code 2.",
    no_args_is_help=True,
    context_settings=CONTEXT,
)
accounts_app = typer.Typer(help="Integrator service accounts.", no_args_is_help=True)
embedded_app = typer.Typer(help="The embedded PostgreSQL and Redis.", no_args_is_help=True)
app.add_typer(accounts_app, name="accounts")
app.add_typer(embedded_app, name="embedded")
standards_app = typer.Typer(help="DRG grouping schemes and their versions.", no_args_is_help=True)
app.add_typer(standards_app, name="standards")

from dianshu_cli.evaluation import app as evaluation_app  # noqa: E402
from dianshu_cli.settlement import app as settlement_app  # noqa: E402

app.add_typer(settlement_app, name="settlement")
app.add_typer(evaluation_app, name="evaluation")
from dianshu_cli.supervision import app as supervision_app  # noqa: E402

app.add_typer(supervision_app, name="supervision")
from dianshu_cli.db import app as db_app  # noqa: E402

app.add_typer(db_app, name="db")
console = Console(stderr=True, soft_wrap=True)  # progress, messages and refusals (logs go to stderr too)
out = Console()  # tables and results: stdout, so log lines never land inside them


class CliLang(StrEnum):
    zh = "zh"
    en = "en"


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import PackageNotFoundError, version

        try:
            number = version("dianshu")
        except PackageNotFoundError:  # pragma: no cover - run from a source tree without installing
            from dianshu import __version__ as number
        sys.stdout.write(f"dianshu {number}\n")
        raise typer.Exit(0)


@app.callback()
def main(
    version: Annotated[
        bool, typer.Option("--version", is_eager=True, callback=_version, help="Print the version and exit.")
    ] = False,
    lang: Annotated[
        CliLang | None,
        typer.Option(
            "--lang",
            help="Language of refusals and refused-rows files: zh (default) or en [env: DIANSHU_LANG, else LANG].",
        ),
    ] = None,
) -> None:
    """Dianshu (点数): DRG point-method payment platform. Bad input: one line on stderr, exit code 2."""
    CHOSEN.clear()  # each invocation's own choice (tests invoke the app many times in one process)
    if lang is not None:
        CHOSEN["lang"] = lang.value


def _settings():
    from dianshu.config import ConfigError, get_settings  # here, not at the top: `dianshu group` needs neither
    from dianshu.logs import configure

    try:
        settings = get_settings()
    except ConfigError as e:
        console.print(red_line(f"configuration error: {e}"), highlight=False)
        raise typer.Exit(2) from e
    configure(settings.profile, logging.INFO)
    return settings


@app.command()
def doctor() -> None:
    """Check this deployment: configuration, the database roles (DATABASE_URL's login able to act as
    the owner; the runtime role NOBYPASSRLS and owning nothing), migrations at head, the broker, the
    identity keys. One line per check (– for one that could not be made from here); exit code 0 when
    none fails, 1 otherwise."""
    from dianshu.config import get_settings
    from dianshu_cli.doctor import run_checks

    checks = run_checks(get_settings)
    for check in checks:
        print(check.line())
    if not all(c.ok for c in checks):
        raise typer.Exit(1)


@app.command()
def migrate() -> None:
    """Apply database migrations (as the owner role)."""
    from dianshu_cli.migrate import upgrade

    settings = _settings()
    upgrade(settings)
    console.print(f"[green]{t('数据库迁移已完成')}[/green]")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Bind address.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.")] = 8000,
    workers: Annotated[
        int,
        typer.Option(
            min=1,
            max=64,
            envvar="DIANSHU_SERVE_WORKERS",
            help="Server processes (uvicorn workers) sharing the port; about one per core.",
        ),
    ] = 1,
) -> None:
    """Serve the API (uvicorn; with --workers N, N processes under uvicorn's supervisor, which
    restarts one that dies)."""
    import uvicorn

    settings = _settings()
    # uvicorn's access log is off: the app logs each request with its id and who asked (RequestContext).
    if workers == 1:
        from dianshu_graphql.app import create_app
        from dianshu_workers.actors import ACTORS  # noqa: F401  (configures the job dispatcher)

        uvicorn.run(create_app(settings), host=host, port=port, log_config=None, access_log=False)
        return
    # Each process builds its own app (its own pool, caches and compiled groupers) from the same
    # settings. An embedded database is started here, once, before the processes share it.
    settings.runtime_url()
    # Metrics of every process, whichever answers the scrape: prometheus_client's multiprocess mode,
    # in a directory emptied now, set before the processes start (and import prometheus_client).
    from dianshu_cli.serving import multiprocess_metrics

    multiprocess_metrics()
    uvicorn.run(
        "dianshu_cli.serving:app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_config=None,
        access_log=False,
    )


@app.command()
def worker(
    processes: Annotated[int | None, typer.Option(help="Worker processes.")] = None,
    threads: Annotated[int | None, typer.Option(help="Threads per process.")] = None,
    queues: Annotated[
        list[str] | None, typer.Option(help="Queue to consume (repeat for several); default every queue.")
    ] = None,
) -> None:
    """Run Dramatiq workers (refuses a database role that bypasses row-level security)."""
    from dianshu.db.guard import UnsafeRoleError
    from dianshu_workers.main import run_worker

    _settings()
    try:
        run_worker(processes, threads, queues=queues)
    except UnsafeRoleError as e:
        console.print(red_line(e), highlight=False)
        raise typer.Exit(3) from e
    except ValueError as e:
        console.print(red_line(e), highlight=False)
        raise typer.Exit(2) from e


@app.command()
def token(
    role: Annotated[Role, typer.Option(help="Role of the token.")],
    tenant: Annotated[list[str], typer.Option(help="Tenant code (repeat for several).")],
    hospital: Annotated[str | None, typer.Option(help="Hospital code (hospital_user).")] = None,
    subject: Annotated[str | None, typer.Option(help="Subject (user id).")] = None,
    service_account: Annotated[str | None, typer.Option(help="Service account id (integrator).")] = None,
    ttl_hours: Annotated[int | None, typer.Option(help="Lifetime in hours.")] = None,
) -> None:
    """Mint a development token and print it."""
    from dianshu_tenants.identity import AuthError, TokenCodec, principal_from_claims

    settings = _settings()
    if role is Role.system:
        console.print(f"[red]{t('system 角色不签发令牌')}[/red]")
        raise typer.Exit(2)
    claims = {"role": role.value, "tenants": tenant, "hospital": hospital, "sa": service_account, "sub": "x"}
    try:
        principal_from_claims({k: v for k, v in claims.items() if v is not None}, settings=settings)
        codec = TokenCodec(settings)
        print(
            codec.encode(
                subject=subject or f"{role.value}@{tenant[0]}" + (f"/{hospital}" if hospital else ""),
                role=role,
                tenant_ids=tenant,
                hospital_id=hospital,
                service_account=service_account,
                ttl_seconds=ttl_hours * 3600 if ttl_hours else None,
            )
        )
    except AuthError as e:
        console.print(red_line(e), highlight=False)
        raise typer.Exit(2) from e


@accounts_app.command("add")
def accounts_add(
    account_id: Annotated[str, typer.Argument(help="Account id, e.g. svc-acme.")],
    name: Annotated[str, typer.Option(help="Team or product name.")],
    tenant: Annotated[list[str], typer.Option(help="Tenant code it may act for (repeat).")],
    hospital: Annotated[str | None, typer.Option(help="Limit to one hospital.")] = None,
) -> None:
    """Create or update an integrator service account."""
    from dianshu.db.session import Database
    from dianshu_tenants.provisioning import ensure_service_account

    settings = _settings()

    async def run() -> None:
        db = Database(settings.owner_url(), pool_size=1)
        try:
            await ensure_service_account(db, account_id, name, tenant, hospital)
        finally:
            await db.dispose()

    try:
        asyncio.run(run())
    except ValueError as e:
        console.print(red_line(e), highlight=False)
        raise typer.Exit(2) from e
    console.print(t("服务账号 {account} 已启用，可代表 {tenants}", account=account_id, tenants=", ".join(tenant)))


@accounts_app.command("deactivate")
def accounts_deactivate(account_id: str) -> None:
    """Deactivate an integrator service account (its tokens stop working)."""
    from dianshu.db.session import Database
    from dianshu_tenants.provisioning import deactivate_service_account

    settings = _settings()

    async def run() -> None:
        db = Database(settings.owner_url(), pool_size=1)
        try:
            await deactivate_service_account(db, account_id)
        finally:
            await db.dispose()

    asyncio.run(run())
    console.print(t("服务账号 {account} 已停用", account=account_id))


@app.command()
def group(
    standard: Annotated[str, typer.Option(help="chs_drg_11, zhejiang_2022, or a folder in the same table layout.")],
    input: Annotated[str, typer.Option("--input", help="JSON Lines file of records ('-' for stdin).")],
    output: Annotated[str, typer.Option("--output", help="JSON Lines results ('-' for stdout).")] = "-",
    trace: Annotated[bool, typer.Option("--trace", help="Include every step tried and why.")] = False,
    workers: Annotated[
        int | None, typer.Option(min=1, help="Processes grouping in parallel (default: the machine's cores).")
    ] = None,
    chunk_lines: Annotated[int, typer.Option(min=1, help="Lines handed to a worker at a time.")] = 2000,
) -> None:
    """Group records offline with a scheme's tables (no database needed)."""
    from dianshu.standards.tables import SchemeTableError
    from dianshu_cli.group import run

    try:
        counts = run(standard, input, output, trace, workers=workers, chunk_lines=chunk_lines)
    except (SchemeTableError, KeyError, FileNotFoundError) as e:
        from dianshu_cli.errors import describe, localized

        sys.stderr.write(f"dianshu group: {localized(e.args[0] if isinstance(e, KeyError) else describe(e))}\n")
        raise typer.Exit(2) from e
    if counts["invalid"]:
        raise typer.Exit(1)


@app.command()
def generate(
    out: Annotated[Path, typer.Option(help="Output folder (one .csv.gz per year and region + manifest.json).")],
    year: Annotated[list[int], typer.Option(help="Year to generate (repeat for up to three).")] = [2025],  # noqa: B006
    stays: Annotated[int, typer.Option(help="Stays per year (city-wide).")] = 20_000,
    hospitals: Annotated[int, typer.Option(help="Hospitals in the city.")] = 150,
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same files).")] = 2026,
    processes: Annotated[int, typer.Option(help="Worker processes.")] = 2,
    check: Annotated[bool, typer.Option(help="Group every stay and print the profile.")] = False,
) -> None:
    """Generate a synthetic pilot city's settlement lists in the ingestion format."""
    from dianshu.synthetic.city import GenerateOptions
    from dianshu_cli.cases import generate as run

    if not 1 <= len(year) <= 3:
        raise typer.BadParameter("give one to three --year", param_hint="--year")
    _settings()
    run(
        console,
        out,
        GenerateOptions(years=tuple(year), stays_per_year=stays, hospitals=hospitals, seed=seed, processes=processes),
        check,
    )


@app.command()
def ingest(
    tenant: Annotated[str | None, typer.Option(help="Tenant (region code) of a single file.")] = None,
    file: Annotated[
        Path | None,
        typer.Option(exists=True, dir_okay=False, readable=True, help="One CSV / JSON Lines file (optionally .gz)."),
    ] = None,
    directory: Annotated[
        Path | None, typer.Option("--dir", exists=True, file_okay=False, help="A folder written by `dianshu generate`.")
    ] = None,
    key: Annotated[str | None, typer.Option(help="Idempotency key prefix (default: derived from the files).")] = None,
    encoding: Annotated[
        str | None,
        typer.Option(help="The files' text encoding: utf-8 or gb18030 (gbk is read as gb18030); default: detected."),
    ] = None,
    refused_dir: Annotated[
        Path,
        typer.Option(
            "--refused-dir", file_okay=False, help="Where each batch's refused rows go (refused-<batch>.csv)."
        ),
    ] = Path("."),
) -> None:
    """Ingest settlement lists through the job path (an in-process worker runs the jobs). Prints
    each batch's id, the encoding its text was read in, and the file of its refused rows."""
    from dianshu.tabular.encoding import EncodingRefused, canonical

    try:
        canonical(encoding)
    except EncodingRefused as e:
        raise typer.BadParameter(e.reason, param_hint="--encoding") from None
    if directory and not (directory / "manifest.json").is_file():
        raise typer.BadParameter(
            f"{directory} has no manifest.json (written by `dianshu generate`)", param_hint="--dir"
        )
    if not directory and not (tenant and file):
        raise typer.BadParameter("give --dir, or --tenant and --file")
    # The database, the jobs and the worker only once the options are known to be good.
    from dianshu.db.session import Database
    from dianshu_cli.cases import (
        batch_encodings,
        ingest_files,
        manifest_items,
        print_batches,
        refused_rows,
        write_refused,
    )
    from dianshu_workers.main import start_in_process

    items = manifest_items(directory) if directory else [(tenant, file, None, None)]
    settings = _settings()
    worker = start_in_process(threads=2)

    async def run():
        db = Database(settings.runtime_url(), pool_size=4)
        try:
            batches = await ingest_files(db, console, items, "cli", key or "cli", encoding)
            return batches, await batch_encodings(db, batches), await refused_rows(db, batches)
        finally:
            await db.dispose()

    try:
        batches, encodings, refused = asyncio.run(run())
    finally:
        worker.stop()
    print_batches(out, batches, encodings, write_refused(refused, refused_dir))


@app.command()
def simulate(
    input: Annotated[
        Path | None, typer.Option("--input", help="Scenario JSON (docs/scenario.schema.json; decimals as strings).")
    ] = None,
    output: Annotated[Path | None, typer.Option("--output", help="Result JSON (default: stdout).")] = None,
    schema: Annotated[
        bool, typer.Option("--schema", help="Write the scenario's JSON Schema instead (docs/scenario.schema.json).")
    ] = False,
) -> None:
    """Compute a scenario's case points and annual clearing (no database needed). A refused scenario:
    one line per JSON path on stderr, exit code 2."""
    import json

    from dianshu.settlement.arithmetic.scenario import json_schema
    from dianshu.settlement.arithmetic.simulate import ScenarioError
    from dianshu.settlement.arithmetic.simulate import simulate as run
    from dianshu.settlement.runs.simulations import ScenarioFileError, decode_scenario

    def refuse(*lines: str) -> NoReturn:
        from dianshu_cli.errors import localized

        sys.stderr.write("".join(f"{localized(line)}\n" for line in lines))
        raise typer.Exit(2)

    if schema:
        result: Any = json_schema()
    else:
        if input is None:
            refuse("--input: required (or --schema)")
        try:
            raw = input.read_bytes()
        except OSError as e:
            refuse(f"{input}: cannot read: {e.strerror or e}")
        try:
            data = decode_scenario(raw)
        except ScenarioFileError as e:
            refuse(f"{input}: {e}")
        try:
            result = run(data)
        except ScenarioError as e:
            refuse(*(f"{input}: {issue}" for issue in e.issues))
    text = json.dumps(result, ensure_ascii=False, indent=2)
    if output:
        output.write_text(text + "\n", encoding="utf-8")
    else:
        sys.stdout.write(text + "\n")


@app.command()
def sweep() -> None:
    """Re-send jobs left unsent or stuck with a dead worker."""
    from dianshu.db.session import Database
    from dianshu.jobs.service import sweep as do_sweep
    from dianshu_workers.actors import ACTORS  # noqa: F401

    settings = _settings()

    async def run() -> int:
        db = Database(settings.runtime_url(), pool_size=1)
        try:
            return await do_sweep(
                db,
                unsent_grace_s=settings.job_unsent_grace_s,
                stale_after_s=settings.job_stale_after_s,
                resend_after_s=settings.job_resend_after_s,
            )
        finally:
            await db.dispose()

    console.print(t("已重新发送 {n} 个任务", n=asyncio.run(run())))


@app.command()
def schema(
    output: Annotated[Path | None, typer.Option(help="Write the SDL here instead of stdout.")] = None,
    release: Annotated[
        str | None,
        typer.Option(help="Also release it as contract/RELEASE.graphql (e.g. 2026-12-01): an immutable contract."),
    ] = None,
    allow_breaking: Annotated[
        bool, typer.Option(help="Write --output even though the schema breaks the latest released contract.")
    ] = False,
) -> None:
    """Print (or write) the GraphQL SDL. The latest released contract (contract/*.graphql) is kept:
    an SDL that lost a field, argument, type or enum value the contract did not deprecate first is
    refused (--allow-breaking writes --output anyway, never a release)."""
    from dianshu_graphql import schema as api_schema
    from dianshu_graphql.contract import violations

    text = api_schema.sdl()
    released = api_schema.releases()
    broken = violations(released[-1].read_text(), text) if released else []
    if broken and (release or not allow_breaking):
        sys.stderr.write("".join(f"{v}\n" for v in broken))
        sys.stderr.write(
            f"{len(broken)} breaking change(s) to the released contract {released[-1].name}: mark them "
            "@deprecated(reason:) and keep them a release first\n"
        )
        raise typer.Exit(2)
    target = None
    if release is not None:
        if not re.fullmatch(r"[0-9A-Za-z._-]{1,60}", release):
            sys.stderr.write(f"--release: {release[:60]!r} is not a release name (letters, digits, . _ -)\n")
            raise typer.Exit(2)
        target = api_schema.CONTRACT_DIR / f"{release}.graphql"
        if target.exists() or (released and target.name <= released[-1].name):
            sys.stderr.write(
                f"--release: {target.name} exists or sorts before {released[-1].name}: releases are immutable\n"
            )
            raise typer.Exit(2)
    if output:
        output.write_text(text)
    else:
        sys.stdout.write(text)
    if target is not None:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)


@standards_app.command("load")
def standards_load(
    scheme: Annotated[str, typer.Option(help="Scheme code, e.g. chs_drg_11 or zhejiang_2022.")],
    label: Annotated[str, typer.Option(help="Version label, e.g. 1.1 or 2022.")],
    directory: Annotated[
        Path | None,
        typer.Option("--dir", help="Folder in the standards table layout (default: the built-in copy of the scheme)."),
    ] = None,
    name: Annotated[str | None, typer.Option(help="Scheme name.")] = None,
    publish: Annotated[str | None, typer.Option(help="Publish at once, effective from this date (YYYY-MM-DD).")] = None,
) -> None:
    """Load a scheme's tables as a new draft version (the same files again: no-op)."""
    from dianshu_cli.standards import load

    settings = _settings()
    load(settings, console, scheme=scheme, label=label, directory=directory, name=name, publish=publish)


@standards_app.command("list")
def standards_list() -> None:
    """List schemes and versions."""
    from dianshu_cli.standards import show

    show(_settings(), console)


@standards_app.command("editions")
def standards_editions(
    directory: Annotated[Path, typer.Option("--dir", help="Folder in the standards table layout.")],
    write: Annotated[
        bool, typer.Option("--write", help="Write the measurement as the folder's code_editions.csv.")
    ] = False,
) -> None:
    """Measure which code edition(s) (医保版 / 国临版) each table of a scheme folder is written in."""
    from dianshu_cli.standards import editions

    editions(console, directory, write)


@standards_app.command("publish")
def standards_publish(
    version: Annotated[str, typer.Argument(help="Version id.")],
    effective_from: Annotated[str, typer.Option(help="YYYY-MM-DD")],
    effective_to: Annotated[str | None, typer.Option(help="YYYY-MM-DD (exclusive)")] = None,
) -> None:
    """Publish a draft version (it becomes immutable)."""
    from dianshu_cli.standards import publish

    publish(_settings(), console, version, effective_from, effective_to)


@embedded_app.command("stop")
def embedded_stop() -> None:
    """Stop the embedded PostgreSQL and Redis, and check that both are gone (exit 1 if not)."""
    from dianshu.embedded import stop_embedded_postgres, stop_embedded_redis

    settings = _settings()
    outcomes = [stop_embedded_postgres(settings.state_dir), stop_embedded_redis(settings.state_dir)]
    # Said only after checking each server's process is gone; non-zero when one is not.
    for outcome in outcomes:
        console.print(outcome.message, soft_wrap=True, highlight=False)
    if not all(o.ok for o in outcomes):
        raise typer.Exit(1)


@app.command()
def demo(
    serve_api: Annotated[bool, typer.Option("--serve/--no-serve", help="Serve the API afterwards.")] = True,
    host: Annotated[str, typer.Option(help="Bind address.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.")] = 8000,
    hospitals: Annotated[int, typer.Option(help="Hospitals in the pilot city.")] = 150,
    stays: Annotated[int, typer.Option(help="Stays in the generated 2025 city year.")] = 5000,
) -> None:
    """Run the pilot: migrate, load the DRG standards, provision Jinhua with its regions and
    hospitals, generate a city year and ingest it through the job path, print tokens and an
    example query, then serve the API."""
    from dianshu_cli.demo import run_demo

    settings = _settings()
    run_demo(settings, console, serve_api=serve_api, host=host, port=port, n_hospitals=hospitals, stays=stays)


if __name__ == "__main__":
    app()

"""dianshu doctor: is this deployment able to run? One line per check, what is wrong and how to fix
it. Checks only: it starts nothing (an embedded database is used when the settings name none)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

import pydantic
from sqlalchemy import create_engine, pool, text
from sqlalchemy.engine import make_url

from dianshu.config import ConfigError, Profile, Settings


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    fix: str = ""
    # Could not be checked from here (e.g. the owner's login inside a pod that has only the runtime
    # role's): neither a pass nor a failure, shown with "–"; it does not change the exit code.
    skipped: bool = False

    def line(self) -> str:
        mark = "–" if self.skipped else ("✓" if self.ok else "✗")
        tail = f" — fix: {self.fix}" if (self.fix and not self.ok) else ""
        return f"{mark} {self.name}: {self.detail}{tail}"


class Failed(Exception):
    def __init__(self, detail: str, fix: str) -> None:
        super().__init__(detail)
        self.detail, self.fix = detail, fix


class Skipped(Exception):
    """The check could not be made from here; `detail` says why and what was seen."""


def _safe(url: str) -> str:
    """A database URL without its password."""
    return make_url(url).render_as_string(hide_password=True)


def _safe_broker(url: str) -> str:
    """A broker URL as written, its password masked."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


def _connect(url: str, what: str, fix: str):
    from dianshu.db.session import sync_url

    engine = create_engine(sync_url(url), poolclass=pool.NullPool, connect_args={"connect_timeout": 5})
    try:
        return engine, engine.connect()
    except Exception as e:
        engine.dispose()
        raise Failed(f"cannot connect as {what} to {_safe(url)}: {str(e).splitlines()[0]}", fix) from e


def check_configuration(settings: Settings) -> str:
    if settings.profile is Profile.prod:
        return "profile prod: database, broker and signing keys configured"
    return "profile dev (embedded PostgreSQL and Redis allowed; set DIANSHU_PROFILE=prod in production)"


def _runtime_role_name(settings: Settings) -> str:
    return make_url(settings.runtime_url()).username or settings.app_role


def check_owner(settings: Settings) -> str:
    """DATABASE_URL is the migrating login: it must be able to act as the owner role (the owner
    itself, a member of it, or a superuser; migrations `set role` to it). Inside the chart's API and
    worker pods DATABASE_URL is the runtime role's: the owner's login is then not checked (said so,
    not passed), and only the catalogue's table ownership, readable by any role, is."""
    fix = "check DATABASE_URL and that PostgreSQL is up"
    engine, conn = _connect(settings.owner_url(), "DATABASE_URL's login", fix)
    try:
        owner = settings.owner_role
        login, superuser = conn.execute(
            text("select rolname, rolsuper from pg_roles where rolname = current_user")
        ).one()
        if conn.execute(text("select 1 from pg_roles where rolname = :r"), {"r": owner}).first() is None:
            raise Failed(
                f"connected as {login}; role {owner} does not exist", "run `dianshu migrate` (it creates the roles)"
            )
        acts_as_owner = conn.execute(text("select pg_has_role(:o, 'MEMBER')"), {"o": owner}).scalar_one()
        foreign = (
            conn.execute(
                text("""
            select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace
            where n.nspname = 'public' and c.relkind in ('r', 'p')
              and pg_get_userbyid(c.relowner) <> :o order by 1"""),
                {"o": owner},
            )
            .scalars()
            .all()
        )
        n = conn.execute(
            text("""select count(*) from pg_class c join pg_namespace n on n.oid = c.relnamespace
                    where n.nspname = 'public' and c.relkind in ('r', 'p')""")
        ).scalar_one()
    finally:
        conn.close()
        engine.dispose()
    runtime = _runtime_role_name(settings)
    if foreign:
        raise Failed(
            f"connected as {login}: {len(foreign)} table(s) not owned by {owner}: {', '.join(foreign[:5])}",
            f"alter table … owner to {owner} (migrations create every table as the owner role)",
        )
    if login == owner:
        how = "the owner role itself"
    elif superuser:
        how = f"a superuser, acts as {owner}"
    elif acts_as_owner:
        how = f"a member of {owner}"
    elif login == runtime:
        raise Skipped(
            f"not checked: DATABASE_URL connects as {login}, the runtime role, not as a login that can act as "
            f"{owner} (a chart pod has only the runtime role's; run doctor with the migration Job's DATABASE_URL "
            f"to check the owner); the catalogue, read as {login}, says {owner} owns the {n} tables"
        )
    else:
        raise Failed(
            f"DATABASE_URL connects as {login}, which can not act as {owner} (neither a member of it nor a superuser)",
            f"grant {owner} to {login}, or set DATABASE_URL to the login migrations run as",
        )
    return f"connected as {login} ({how}); {owner} owns the {n} tables"


def check_runtime_role(settings: Settings) -> str:
    from dianshu.db.roles import CURRENT_ROLE_SQL, OWNED_BY_SQL, runtime_role_problems

    url = settings.runtime_url()
    engine, conn = _connect(
        url, "the runtime role", "check APP_DATABASE_URL (or DIANSHU_APP_ROLE and DIANSHU_APP_DB_PASSWORD)"
    )
    try:
        name, superuser, bypassrls = conn.execute(text(CURRENT_ROLE_SQL)).one()
        owned = conn.execute(text(OWNED_BY_SQL), {"r": name}).scalars().all()
        member_of_owner = not superuser and bool(
            conn.execute(
                text("select pg_has_role(:r, oid, 'MEMBER') from pg_roles where rolname = :o"),
                {"r": name, "o": settings.owner_role},
            ).scalar()
        )
    finally:
        conn.close()
        engine.dispose()
    problems = runtime_role_problems((name, superuser, bypassrls))
    if member_of_owner:
        problems.append(f"role {name} may act as the owner {settings.owner_role} (a member of it)")
    if owned:
        problems.append(f"role {name} owns {len(owned)} object(s): {', '.join(owned[:5])}")
    if problems:
        raise Failed(
            "; ".join(problems) + " (row-level security would not hold)",
            f"alter role {name} nosuperuser nobypassrls, revoke {settings.owner_role} from it and reassign what "
            f"it owns to {settings.owner_role}; or connect as a role that owns nothing",
        )
    return f"{name}: NOSUPERUSER NOBYPASSRLS, owns nothing"


def check_migrations(settings: Settings) -> str:
    from alembic.script import ScriptDirectory

    from dianshu_cli.migrate import migrations_dir

    heads = set(ScriptDirectory(str(migrations_dir())).get_heads())
    engine, conn = _connect(settings.owner_url(), "the owner", "check DATABASE_URL")
    try:
        exists = conn.execute(text("select to_regclass('public.alembic_version') is not null")).scalar_one()
        current = set(conn.execute(text("select version_num from alembic_version")).scalars()) if exists else set()
    finally:
        conn.close()
        engine.dispose()
    if current != heads:
        raise Failed(
            f"database at {', '.join(sorted(current)) or 'no revision'}, code at {', '.join(sorted(heads))}",
            "run `dianshu migrate` (the chart's migration Job does it on install and upgrade)",
        )
    return f"at head {', '.join(sorted(heads))}"


def check_broker(settings: Settings) -> str:
    if settings.amqp_url:
        import pika

        params = pika.URLParameters(settings.amqp_url)
        params.socket_timeout = params.blocked_connection_timeout = 5
        params.connection_attempts = 1
        try:
            pika.BlockingConnection(params).close()
        except Exception as e:
            raise Failed(
                f"RabbitMQ at {_safe_broker(settings.amqp_url)} unreachable: {e!r}",
                "check AMQP_URL and that RabbitMQ is running and reachable from here",
            ) from e
        return f"RabbitMQ at {_safe_broker(settings.amqp_url)} answers"
    if settings.redis_url:
        import redis

        client = redis.Redis.from_url(settings.redis_url, socket_connect_timeout=5, socket_timeout=5)
        try:
            client.ping()
        except Exception as e:
            raise Failed(
                f"Redis at {_safe_broker(settings.redis_url)} unreachable: {e}",
                "check REDIS_URL and that Redis is running and reachable from here",
            ) from e
        finally:
            client.close()
        return f"Redis at {_safe_broker(settings.redis_url)} answers"
    return f"embedded Redis under {settings.state_dir} (dev; started on demand)"


def check_identity(settings: Settings) -> str:
    from dianshu_tenants.identity import AuthError, TokenCodec

    try:
        return TokenCodec(settings).check()
    except (AuthError, OSError, ValueError) as e:
        raise Failed(
            str(e),
            "check DIANSHU_JWT_JWKS_URL (reachable from here) or the key files DIANSHU_JWT_JWKS_FILE / "
            "DIANSHU_JWT_PUBLIC_KEY_FILE (readable)",
        ) from e


def check_psn_key(settings: Settings) -> str:
    """The key patient ids are hashed with (settings refuse a short one, and none at all in prod)."""
    from dianshu.cases.pseudonym import DEV_KEY

    try:
        key = settings.psn_secret()
    except OSError as e:
        raise Failed(f"DIANSHU_PSN_KEY_FILE unreadable: {e}", "mount the secret readable by this user") from e
    if key == DEV_KEY:
        return "the dev key (DIANSHU_PSN_KEY unset; production refuses to start without one)"
    source = "DIANSHU_PSN_KEY_FILE" if settings.psn_key_file else "DIANSHU_PSN_KEY"
    return f"{source}: {len(key)} characters (keep it: another key gives other pseudonyms)"


CHECKS: tuple[tuple[str, Callable[[Settings], str]], ...] = (
    ("configuration", check_configuration),
    ("database owner", check_owner),
    ("runtime role", check_runtime_role),
    ("migrations", check_migrations),
    ("broker", check_broker),
    ("identity", check_identity),
    ("patient-id key", check_psn_key),
)


def run_checks(load: Callable[[], Settings]) -> list[Check]:
    """Every check; a configuration that does not load stops the rest (they would all fail)."""
    try:
        settings = load()
    except pydantic.ValidationError as e:
        from dianshu.strict import reasons_of

        detail = "; ".join(f"{name}: {why}" for name, why in reasons_of(Settings, e))  # as get_settings says it
        return [Check("configuration", False, detail, "correct the setting it names")]
    except (ConfigError, ValueError) as e:
        return [Check("configuration", False, str(e).splitlines()[0], "correct the setting it names")]
    out = []
    for name, check in CHECKS:
        try:
            out.append(Check(name, True, check(settings)))
        except Failed as e:
            out.append(Check(name, False, e.detail, e.fix))
        except Skipped as e:
            out.append(Check(name, True, str(e), skipped=True))
        except Exception as e:  # a check that breaks is a failed check, with what broke
            out.append(Check(name, False, f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"))
    return out

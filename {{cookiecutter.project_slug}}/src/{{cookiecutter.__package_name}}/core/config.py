"""Settings from the environment (and `.env`); `.env.example` lists every one."""

from functools import lru_cache
from typing import Literal, Self

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Marks a value that must be replaced before going to production.
PLACEHOLDER = "change-me"
# A secret shorter than this can be guessed; `openssl rand -hex 32` gives 64 characters.
SECRET_KEY_MIN_LENGTH = 32
{% if cookiecutter.use_cors %}
# Development servers of the common front-end tool chains (React, Vite, Angular).
LOCAL_FRONTEND_ORIGINS = [
    f"http://{host}:{port}" for host in ("localhost", "127.0.0.1") for port in (3000, 5173, 4200)
]


def comma_separated(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]
{% endif %}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    app_name: str = {{ cookiecutter.project_name | py_string }}
    environment: Literal["development", "test", "production"] = "development"

{% if cookiecutter.database == "postgres" %}
    database_url: str = "postgresql+asyncpg://postgres@localhost:5432/{{ cookiecutter.__package_name }}"
    # Connections per worker process, all kept open: no overflow connections opened and
    # closed under every burst. Budget: workers x pool size <= PostgreSQL's max_connections
    # minus what migrations, workers and admins need.
    database_pool_size: int = Field(default=10, ge=1)
    # A request waiting longer than this for a connection gets a 503 instead of queueing forever.
    database_pool_timeout: float = Field(default=5.0, gt=0)
    # A server that drops packets fails requests within these bounds instead of hanging them.
    database_connect_timeout: float = Field(default=3.0, gt=0)
    database_statement_timeout: float = Field(default=10.0, gt=0)
{% else %}
    database_url: str = "sqlite+aiosqlite:///./{{ cookiecutter.__package_name }}.db"
    # Connections per worker process; requests beyond wait for one (SQLite has one writer anyway).
    database_pool_size: int = Field(default=8, ge=1)
    # A request waiting longer than this for a connection gets a 503 instead of queueing forever.
    database_pool_timeout: float = Field(default=5.0, gt=0)
    # How long a writer waits for SQLite's lock before giving up.
    database_busy_timeout_ms: int = Field(default=5000, ge=0)
{% endif %}
    database_echo: bool = False

    # Larger request bodies are refused with 413 before they are read.
    max_request_body_bytes: int = Field(default=1_048_576, ge=1)

    # The key for anything the service signs (tokens, cookies); production refuses a
    # short or repetitive one.
    secret_key: SecretStr = SecretStr(PLACEHOLDER)
    # Tracebacks in error pages; never in production.
    debug: bool = False
    # Interactive docs (/docs, /openapi.json); unset: on everywhere except production.
    docs_enabled: bool | None = None
    # Send Strict-Transport-Security: only when every client reaches the service over TLS.
    hsts_enabled: bool = False

    # Sent with item reads; `no-cache` lets clients keep a copy but revalidate it (ETag, 304).
    http_cache_control: str = "no-cache"
{% if cookiecutter.use_redis %}

    redis_url: str = "redis://localhost:6379/0"
    redis_max_connections: int = Field(default=50, ge=1)
    # Short timeouts: a slow Redis must not slow requests down, they fall back to the database.
    redis_socket_timeout: float = Field(default=0.25, gt=0)
    # After a Redis failure, go straight to the database for this long before trying again.
    redis_retry_after_seconds: float = Field(default=2.0, ge=0)
    # Every key this service writes starts with this, so services can share one Redis.
    redis_key_prefix: str = "{{ cookiecutter.__package_name }}:"
    cache_ttl_seconds: int = Field(default=300, ge=1)

    # Requests each client may make per window; a 429 with Retry-After beyond that.
    rate_limit_enabled: bool = True
    rate_limit_requests: int = Field(default=100, ge=1)
    rate_limit_window_seconds: int = Field(default=60, ge=1)
{% endif %}

{% if cookiecutter.use_celery %}
    # Both Redis; the results are read by the task status route.
    celery_broker_url: str = "redis://localhost:6379/1"
    celery_result_backend: str = "redis://localhost:6379/2"
    # The queue this service's tasks go to (and its workers read).
    celery_queue: str = "{{ cookiecutter.__package_name }}"
    # A task gets SoftTimeLimitExceeded at the soft limit and is killed at the hard one.
    celery_soft_time_limit_seconds: int = Field(default=60, ge=1)
    celery_time_limit_seconds: int = Field(default=90, ge=1)
    celery_result_expires_seconds: int = Field(default=86_400, ge=60)
    # The tasks a vanished worker (SIGKILL, lost host) had taken go back to the queue after
    # this long. It must outlast the longest a worker may hold a task: the hard limit, plus
    # up to 60 s waiting for a retry. Unset: the hard limit + 90 s (180 s by default).
    celery_visibility_timeout_seconds: int | None = Field(default=None, ge=1)

    @model_validator(mode="after")
    def refuse_visibility_below_the_time_limit(self) -> Self:
        if self.celery_visibility_timeout_in_effect <= self.celery_time_limit_seconds:
            raise ValueError(
                "CELERY_VISIBILITY_TIMEOUT_SECONDS must exceed CELERY_TIME_LIMIT_SECONDS: a task "
                "still running would be handed to a second worker."
            )
        return self

    @property
    def celery_visibility_timeout_in_effect(self) -> int:
        if self.celery_visibility_timeout_seconds is not None:
            return self.celery_visibility_timeout_seconds
        return self.celery_time_limit_seconds + 90

{% endif %}
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    # JSON lines for log collectors, or readable lines; unset: JSON in production only.
    log_format: Literal["json", "console"] | None = None
    # One log line per request (also read by gunicorn.conf.py).
    access_log: bool = False
    metrics_enabled: bool = True

    # Read by gunicorn.conf.py: where the production server listens, its worker
    # processes (unset: one per CPU) and the proxies whose X-Forwarded-* it trusts.
    host: str = "0.0.0.0"  # noqa: S104
    port: int = Field(default=8000, ge=1, le=65535)
    web_concurrency: int | None = Field(default=None, ge=1)
    forwarded_allow_ips: str = "127.0.0.1"
{% if cookiecutter.use_gzip %}

    # Bodies smaller than this are sent as they are: compressing them costs more than it saves.
    gzip_minimum_size: int = Field(default=1000, ge=0)
    gzip_level: int = Field(default=5, ge=1, le=9)
{% endif %}
{% if cookiecutter.use_cors %}

    # Comma-separated, e.g. CORS_ORIGINS=https://app.example.com,https://admin.example.com;
    # unset in development: the usual local front-end dev servers.
    cors_origins: str | None = None
    cors_allow_methods: str = "GET,POST,PATCH,DELETE"
    cors_allow_headers: str = "Content-Type,Authorization,X-Request-ID"
    cors_allow_credentials: bool = False

    @model_validator(mode="after")
    def refuse_wildcard_with_credentials(self) -> Self:
        if self.cors_allow_credentials and "*" in self.cors_origin_list:
            raise ValueError(
                "CORS_ORIGINS='*' cannot be combined with CORS_ALLOW_CREDENTIALS=true: browsers "
                "refuse credentials for any origin. List the allowed origins instead."
            )
        return self

    @property
    def cors_origin_list(self) -> list[str]:
        if self.cors_origins is None:
            return LOCAL_FRONTEND_ORIGINS if self.environment == "development" else []
        return comma_separated(self.cors_origins)

    @property
    def cors_method_list(self) -> list[str]:
        return comma_separated(self.cors_allow_methods)

    @property
    def cors_header_list(self) -> list[str]:
        return comma_separated(self.cors_allow_headers)
{% endif %}

    @model_validator(mode="after")
    def refuse_unsafe_production(self) -> Self:
        if self.environment != "production":
            return self
        problems = []
        if self.debug:
            problems.append("DEBUG must be false")
        secret = self.secret_key.get_secret_value()
        if len(secret) < SECRET_KEY_MIN_LENGTH or len(set(secret)) < SECRET_KEY_MIN_LENGTH // 4:
            problems.append(
                f"SECRET_KEY must be at least {SECRET_KEY_MIN_LENGTH} random characters "
                "(openssl rand -hex 32)"
            )
        if PLACEHOLDER in self.database_url:
            problems.append(f"DATABASE_URL still holds the placeholder {PLACEHOLDER!r}")
        if problems:
            raise ValueError("Refusing to start in production: " + "; ".join(problems) + ".")
        return self

    @property
    def docs_in_effect(self) -> bool:
        if self.docs_enabled is not None:
            return self.docs_enabled
        return self.environment != "production"

    @property
    def security_headers(self) -> dict[str, str]:
        headers = {
            "X-Content-Type-Options": "nosniff",
            "X-Frame-Options": "DENY",
            "Referrer-Policy": "no-referrer",
        }
        if self.hsts_enabled:
            headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
        return headers

    @property
    def log_format_in_effect(self) -> Literal["json", "console"]:
        if self.log_format is not None:
            return self.log_format
        return "json" if self.environment == "production" else "console"


@lru_cache
def get_settings() -> Settings:
    return Settings()

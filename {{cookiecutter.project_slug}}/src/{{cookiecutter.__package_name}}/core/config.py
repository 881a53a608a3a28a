"""Settings from the environment (and `.env`); `.env.example` lists every one."""

from functools import lru_cache
from typing import Literal, Self

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Marks a value that must be replaced before going to production.
PLACEHOLDER = "change-me"
# A secret shorter than this can be guessed; `openssl rand -hex 32` gives 64 characters.
SECRET_KEY_MIN_LENGTH = 32
{% if cookiecutter.auth == "oauth2" %}
# A password shorter than this is refused, the first superuser's in production too.
PASSWORD_MIN_LENGTH = 12
# Signatures a provider's tokens may carry: asymmetric ones only (never `none`, and
# never an HMAC, whose key would be the provider's public one).
ASYMMETRIC_ALGORITHMS = frozenset(
    {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}
)
{% endif %}
{% if cookiecutter.use_cors %}
# Development servers of the common front-end tool chains (React, Vite, Angular).
LOCAL_FRONTEND_ORIGINS = [
    f"http://{host}:{port}" for host in ("localhost", "127.0.0.1") for port in (3000, 5173, 4200)
]
{% endif %}
{% if cookiecutter.use_cors or cookiecutter.auth == "oauth2" %}


def comma_separated(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]
{% endif %}


def weak(secret: SecretStr) -> bool:
    """Too short, or too few distinct characters, to be a random key."""
    value = secret.get_secret_value()
    return len(value) < SECRET_KEY_MIN_LENGTH or len(set(value)) < SECRET_KEY_MIN_LENGTH // 4


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    app_name: str = {{ cookiecutter.project_name | py_string }}
    environment: Literal["development", "test", "production"] = "development"

{% if cookiecutter.database == "postgres" %}
    database_url: str = "postgresql+asyncpg://postgres@localhost:5432/{{ cookiecutter.__package_name }}"
    # Connections per worker process (asyncpg's pool), opened as requests need them and
    # kept while they are used. Budget: workers x pool size <= PostgreSQL's
    # max_connections minus what migrations, workers and admins need.
    database_pool_size: int = Field(default=10, ge=1)
    # A request waiting longer than this for a connection gets a 503 instead of queueing forever.
    database_pool_timeout: float = Field(default=5.0, gt=0)
    # A server that drops packets fails requests within these bounds instead of hanging them.
    database_connect_timeout: float = Field(default=3.0, gt=0)
    database_statement_timeout: float = Field(default=10.0, gt=0)
{% if cookiecutter.use_redis %}

    @property
    def longest_write_seconds(self) -> float:
        """The longest a write can take (the cache marks what it touches for that long):
        a connection, then its statement."""
        return (
            self.database_pool_timeout
            + self.database_connect_timeout
            + self.database_statement_timeout
        )
{% endif %}
{% else %}
    database_url: str = "sqlite+aiosqlite:///./{{ cookiecutter.__package_name }}.db"
    # How long a write waits for SQLite's lock (another process writing) before a 503.
    database_busy_timeout_ms: int = Field(default=5000, ge=0)
{% if cookiecutter.use_redis %}

    @property
    def longest_write_seconds(self) -> float:
        """The longest a write can take (the cache marks what it touches for that long):
        the wait for the lock, and a margin for the statement."""
        return self.database_busy_timeout_ms / 1000 + 5.0
{% endif %}
{% endif %}

    # Larger request bodies are refused with 413 before they are read.
    max_request_body_bytes: int = Field(default=1_048_576, ge=1)
    # A body that has not arrived whole this long after the request began is refused with 408.
    request_body_timeout_seconds: float = Field(default=30.0, gt=0)

    # The key for anything the service signs (tokens, cookies); production refuses a
    # short or repetitive one.
    secret_key: SecretStr = SecretStr(PLACEHOLDER)
    # Tracebacks in error pages; never in production.
    debug: bool = False
    # Interactive docs (/docs, /openapi.json); unset: on everywhere except production.
    docs_enabled: bool | None = None
    # Which dependency fails, in `/ready`'s body; unset: everywhere except production,
    # where anyone who reaches `/ready` would learn it.
    readiness_details: bool | None = None
    # Send Strict-Transport-Security: only when every client reaches the service over TLS.
    hsts_enabled: bool = False

    # Sent with reads; `no-cache` lets clients keep a copy but revalidate it (ETag, 304).
    http_cache_control: str = "no-cache"
{% if cookiecutter.use_redis %}

    redis_url: str = "redis://localhost:6379/0"
    # Connections per worker process: about as many as requests a worker serves at once.
    redis_max_connections: int = Field(default=100, ge=1)
    # A server that cannot be connected to within this counts as down.
    redis_connect_timeout: float = Field(default=0.5, gt=0)
    # A call that has not been answered within this (waiting for a free connection
    # included) is given up, that call only: a busy pool or a loaded worker is not an outage.
    redis_socket_timeout: float = Field(default=1.0, gt=0)

    @model_validator(mode="after")
    def refuse_a_connect_timeout_as_long_as_a_call(self) -> Self:
        if self.redis_connect_timeout >= self.redis_socket_timeout:
            raise ValueError(
                "REDIS_CONNECT_TIMEOUT must be shorter than REDIS_SOCKET_TIMEOUT: a call gives "
                "up at the latter, so a server that cannot be reached would pass for a slow one."
            )
        return self

    # After Redis was found down, go straight to the database for this long, then try again.
    redis_retry_after_seconds: float = Field(default=2.0, ge=0)
    # Every key this service writes starts with this, so services can share one Redis.
    redis_key_prefix: str = "{{ cookiecutter.__package_name }}:"
    cache_ttl_seconds: int = Field(default=300, ge=1)
    # Pages of one resource (each `limit` and `offset` is one) kept between two writes to it.
    cache_max_pages: int = Field(default=256, ge=0)

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
    # Every key the broker and the result store hold starts with this, so services (and
    # test runs) can share one Redis.
    celery_key_prefix: str = "{{ cookiecutter.__package_name }}:"
    # A task gets SoftTimeLimitExceeded at the soft limit and is killed at the hard one.
    celery_soft_time_limit_seconds: int = Field(default=60, ge=1)
    celery_time_limit_seconds: int = Field(default=90, ge=1)
    celery_result_expires_seconds: int = Field(default=86_400, ge=60)
    # Enqueueing gives up after this long (a 503): a broker that accepts connections
    # and never answers must not hold requests, threads and connections.
    celery_publish_timeout_seconds: float = Field(default=3.0, gt=0)
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
{% if cookiecutter.auth == "oauth2" %}
    # Signing in (see `auth/`): access tokens signed with SECRET_KEY, short-lived; refresh
    # tokens opaque, stored as hashes only, and replaced at every use.
    access_token_minutes: int = Field(default=15, ge=1, le=1440)
    # The key SECRET_KEY replaced, while tokens it signed may still be valid: they are
    # accepted, new ones are signed with SECRET_KEY. Unset once ACCESS_TOKEN_MINUTES passed.
    previous_secret_key: SecretStr | None = None
    refresh_token_days: int = Field(default=30, ge=1)
    # The first superuser, created at start unless a user has this email. Development
    # signs in with these defaults; production refuses the placeholder or a weak password.
    first_superuser: str = "admin@example.com"
    first_superuser_password: SecretStr = SecretStr(PLACEHOLDER)
    # Reads of these resources need `<plural>:read` (comma-separated plurals, or `*` for
    # all); reads of the others are public. Every write needs `<plural>:write`.
    auth_protected_reads: str = ""
    # Failed sign-ins allowed per account, and per client address, in a window; then 429.
    login_attempts_per_account: int = Field(default=5, ge=1)
    login_attempts_per_address: int = Field(default=20, ge=1)
    login_window_seconds: int = Field(default=900, ge=1)
    # Argon2's cost per password hash (OWASP's minimum by default), run off the event loop.
    password_hash_memory_kib: int = Field(default=19_456, ge=8)
    password_hash_iterations: int = Field(default=2, ge=1)
    # An OpenID Connect provider whose access tokens are accepted beside the service's
    # own: both set, or neither. Its keys are fetched from its discovery document.
    oidc_issuer_url: str | None = None
    oidc_audience: str | None = None
    oidc_algorithms: str = "RS256,PS256,ES256"
    # A token signed with a key the service does not know fetches the provider's keys
    # again, at most this often.
    oidc_refetch_seconds: float = Field(default=30.0, gt=0)

    @model_validator(mode="after")
    def refuse_half_an_identity_provider(self) -> Self:
        if (self.oidc_issuer_url is None) != (self.oidc_audience is None):
            raise ValueError("OIDC_ISSUER_URL and OIDC_AUDIENCE are set together, or neither")
        unsafe = set(self.oidc_algorithm_list) - ASYMMETRIC_ALGORITHMS
        if unsafe:
            allowed = ", ".join(sorted(ASYMMETRIC_ALGORITHMS))
            raise ValueError(
                f"OIDC_ALGORITHMS may only name asymmetric algorithms ({allowed}), not "
                f"{', '.join(sorted(unsafe))}"
            )
        return self

    @property
    def oidc_algorithm_list(self) -> list[str]:
        return comma_separated(self.oidc_algorithms)

    def reads_are_protected(self, plural: str) -> bool:
        protected = comma_separated(self.auth_protected_reads)
        return "*" in protected or plural in protected

{% endif %}
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    # JSON lines for log collectors, or readable lines; unset: JSON in production only.
    log_format: Literal["json", "console"] | None = None
    # One log line per request; unset: on in development only (it costs more than a small request).
    access_log: bool | None = None
    metrics_enabled: bool = True
    # Serve /metrics on this port, from the production server's master process, and not on
    # the application port: scrapers reach it, the public does not. Unset: on the app port.
    metrics_port: int | None = Field(default=None, ge=1, le=65535)

    # Read by gunicorn.conf.py: where the production server listens, its worker
    # processes (unset: one per CPU) and the proxies whose X-Forwarded-* it trusts:
    # comma-separated addresses or networks of what really stands in front (empty: none;
    # the connecting address is the client). A peer trusted here names the client.
    host: str = "0.0.0.0"  # noqa: S104
    port: int = Field(default=8000, ge=1, le=65535)
    web_concurrency: int | None = Field(default=None, ge=1)
    forwarded_allow_ips: str = ""
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

    @field_validator("database_url")
    @classmethod
    def refuse_another_driver(cls, url: str) -> str:
        # The service and its migrations speak to the database through one driver; a URL
        # for another would start and then fail every request.
        default: str = cls.model_fields["database_url"].default
        scheme = default.split("://", 1)[0] + "://"
        if not url.startswith(scheme):
            raise ValueError(f"DATABASE_URL must start with {scheme}, the driver this service uses")
        return url

    @model_validator(mode="after")
    def refuse_unsafe_production(self) -> Self:
        if self.environment != "production":
            return self
        problems = []
        if self.debug:
            problems.append("DEBUG must be false")
        if weak(self.secret_key):
            problems.append(
                f"SECRET_KEY must be at least {SECRET_KEY_MIN_LENGTH} random characters "
                "(openssl rand -hex 32)"
            )
        if PLACEHOLDER in self.database_url:
            problems.append(f"DATABASE_URL still holds the placeholder {PLACEHOLDER!r}")
{% if cookiecutter.auth == "oauth2" %}
        if self.previous_secret_key is not None and weak(self.previous_secret_key):
            problems.append(
                f"PREVIOUS_SECRET_KEY must be at least {SECRET_KEY_MIN_LENGTH} random characters"
            )
        password = self.first_superuser_password.get_secret_value()
        if PLACEHOLDER in password or len(password) < PASSWORD_MIN_LENGTH or len(set(password)) < 6:
            problems.append(
                f"FIRST_SUPERUSER_PASSWORD must be at least {PASSWORD_MIN_LENGTH} characters, "
                "not the placeholder nor a repetition"
            )
{% endif %}
        if problems:
            raise ValueError("Refusing to start in production: " + "; ".join(problems) + ".")
        return self

    @property
    def docs_in_effect(self) -> bool:
        if self.docs_enabled is not None:
            return self.docs_enabled
        return self.environment != "production"

    @property
    def readiness_details_in_effect(self) -> bool:
        if self.readiness_details is not None:
            return self.readiness_details
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
    def access_log_in_effect(self) -> bool:
        if self.access_log is not None:
            return self.access_log
        return self.environment == "development"

    @property
    def log_format_in_effect(self) -> Literal["json", "console"]:
        if self.log_format is not None:
            return self.log_format
        return "json" if self.environment == "production" else "console"


@lru_cache
def get_settings() -> Settings:
    return Settings()

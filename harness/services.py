"""The PostgreSQL and Redis servers the generated projects run against, shared with whoever
else uses them.

Everything a run creates carries the run's token: its databases are `tpl_<token>_...`,
its Redis databases hold a claim key naming the token, and its key prefixes and Celery
queues start with it. Two runs on one server never meet, and `sweep(token)` removes
what a run left, even after one of its workers died. A missing server is a failure,
never a skip.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import socket
import subprocess
from urllib.parse import urlsplit

from harness.process import CommandFailed

POSTGRES_ADMIN_URL = os.environ.get(
    "TEMPLATE_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
REDIS_SERVER_URL = os.environ.get("TEMPLATE_REDIS_URL", "redis://127.0.0.1:6379").rstrip("/")
# Set by the first process of a run and inherited by the processes it starts (test workers).
RUN_TOKEN_VARIABLE = "TEMPLATE_RUN_TOKEN"
DATABASE_PREFIX = "tpl_"
CLAIM_KEY = "template-tests:claimed-by"
# Redis databases a run may claim. 0-2 and 15 are the defaults of generated projects and
# their tests, so a developer's own service on this server keeps them.
CLAIMABLE_REDIS_DATABASES = range(3, 15)


def start_run() -> str:
    """A new token for a run, random so that neither a rerun nor a concurrent run can collide.

    Processes the run starts from now on inherit it; one started by another run
    (a nested pytest) gets a token of its own, so its clean-up never touches ours.
    """
    token = os.environ[RUN_TOKEN_VARIABLE] = secrets.token_hex(4)
    return token


def run_token() -> str:
    """The token of the run this process belongs to (a new one when it is the first)."""
    return os.environ.get(RUN_TOKEN_VARIABLE) or start_run()


def short_name(text: str) -> str:
    """A fixed-length stand-in for a long name: PostgreSQL truncates identifiers at 63 bytes."""
    return hashlib.sha256(text.encode()).hexdigest()[:10]


# PostgreSQL.


def psql(sql: str, url: str = POSTGRES_ADMIN_URL) -> str:
    """Run SQL with psql; returns what it printed (unaligned, tuples only)."""
    try:
        result = subprocess.run(
            ["psql", url, "-v", "ON_ERROR_STOP=1", "-qAtc", sql],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        raise CommandFailed(f"psql could not run `{sql[:200]}` on {url}: {error}") from error
    if result.returncode != 0:
        raise CommandFailed(f"PostgreSQL at {url} refused `{sql[:200]}`: {result.stderr}")
    return result.stdout


def database_name(label: str) -> str:
    return f"{DATABASE_PREFIX}{run_token()}_{short_name(label)}"


def create_database(label: str) -> str:
    """A new, empty database of this run; returns its asyncpg URL."""
    name = database_name(label)
    psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    psql(f'CREATE DATABASE "{name}"')
    psql(f"COMMENT ON DATABASE \"{name}\" IS '{label.replace(chr(39), chr(39) * 2)}'")
    server = POSTGRES_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
    return f"{server}/{name}"


def drop_database(label: str) -> None:
    psql(f'DROP DATABASE IF EXISTS "{database_name(label)}" WITH (FORCE)')


def run_databases(token: str) -> list[str]:
    listed = psql(
        "SELECT datname FROM pg_database WHERE datname LIKE "
        f"'{DATABASE_PREFIX}{token}\\_%' ESCAPE '\\'"
    )
    return listed.split()


# Redis, spoken over a socket so that neither redis-cli nor a client library is needed.


class Redis:
    """A minimal RESP client: enough to claim, inspect and empty databases."""

    def __init__(self, url: str = REDIS_SERVER_URL, database: int = 0) -> None:
        parts = urlsplit(url)
        self.address = (parts.hostname or "127.0.0.1", parts.port or 6379)
        try:
            self.socket = socket.create_connection(self.address, timeout=10)
        except OSError as error:
            raise CommandFailed(f"Redis at {url} is unreachable: {error}") from error
        self.buffer = self.socket.makefile("rb")
        if parts.password:
            self.command("AUTH", *([parts.username] if parts.username else []), parts.password)
        self.command("SELECT", str(database))

    def __enter__(self) -> Redis:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.buffer.close()
        self.socket.close()

    def command(self, *args: str) -> object:
        request = [f"*{len(args)}\r\n".encode()]
        for arg in args:
            data = arg.encode()
            request.append(b"$%d\r\n%s\r\n" % (len(data), data))
        self.socket.sendall(b"".join(request))
        return self.reply()

    def reply(self) -> object:
        line = self.buffer.readline()
        if not line:
            raise CommandFailed(f"Redis at {self.address} closed the connection")
        kind, rest = line[:1], line[1:-2]
        if kind == b"+":
            return rest.decode()
        if kind == b"-":
            raise CommandFailed(f"Redis at {self.address} answered {rest.decode()}")
        if kind == b":":
            return int(rest)
        if kind == b"$":
            size = int(rest)
            return None if size < 0 else self.buffer.read(size + 2)[:-2].decode(errors="replace")
        if kind == b"*":
            size = int(rest)
            return None if size < 0 else [self.reply() for _ in range(size)]
        raise CommandFailed(f"Redis at {self.address} sent {line!r}")

    def scan(self, pattern: str = "*") -> list[str]:
        found: list[str] = []
        cursor = "0"
        while True:
            answer = self.command("SCAN", cursor, "MATCH", pattern, "COUNT", "1000")
            assert isinstance(answer, list)
            cursor, batch = answer
            found += batch
            if cursor == "0":
                return found

    def delete(self, keys: list[str]) -> None:
        for start in range(0, len(keys), 500):
            self.command("UNLINK", *keys[start : start + 500])


def redis_url(database: int) -> str:
    return f"{REDIS_SERVER_URL}/{database}"


def claim_redis_database() -> int:
    """An empty Redis database, claimed for this run.

    Only an empty database is claimed, and the claim is an atomic SET NX, so a
    database someone else uses, or that another run claimed a moment earlier, is
    never taken. Whatever is in a claimed database was written by this run, which
    lets the run remove the Celery queues, bindings and results its projects leave,
    whose names it does not choose.
    """
    token = run_token()
    for database in CLAIMABLE_REDIS_DATABASES:
        with Redis(database=database) as redis:
            if redis.command("DBSIZE") != 0:
                continue
            if redis.command("SET", CLAIM_KEY, token, "NX") == "OK":
                return database
    raise CommandFailed(
        f"Redis at {REDIS_SERVER_URL} has no empty database among "
        f"{CLAIMABLE_REDIS_DATABASES.start}-{CLAIMABLE_REDIS_DATABASES.stop - 1} to claim"
    )


def release_redis_database(database: int, token: str | None = None) -> None:
    """Empty a database the run claimed, the claim last, so no other run takes it meanwhile."""
    with Redis(database=database) as redis:
        if redis.command("GET", CLAIM_KEY) != (token or run_token()):
            return
        redis.delete([key for key in redis.scan() if key != CLAIM_KEY])
        redis.command("DEL", CLAIM_KEY)


def sweep(token: str) -> list[str]:
    """Remove everything run `token` created and still holds; returns what it removed."""
    removed = []
    for name in run_databases(token):
        psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        removed.append(f"PostgreSQL database {name}")
    for database in CLAIMABLE_REDIS_DATABASES:
        with Redis(database=database) as redis:
            claimed = redis.command("GET", CLAIM_KEY) == token
        if claimed:
            release_redis_database(database, token)
            removed.append(f"Redis database {database}")
    return removed

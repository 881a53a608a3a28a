"""Every combination of feature options: generated once, then checked like a user would.

The `project` fixture (tests/conftest.py) is parametrized with every combination
from cookiecutter.json; nothing here names an option, except the table of words a
project without that option must not mention.

Every combination gets every check here but its own suite, which runs where its
outcome can differ (harness.options.suite_tier): its `heavy` tests (fuzzing, fault
injection, concurrency, shutdown, worker kills) in a pairwise covering of the service
shapes, its fast tests in every shape's representative (the combination with the most
other features on), and the middleware tests in a pairwise covering of the layer options.
"""

from __future__ import annotations

import json
import secrets
import signal
import socket
import time
import urllib.parse
import urllib.request
from typing import Any
from urllib.parse import urlsplit

import pytest

from harness.options import needs_redis, runs_own_suite, suite_tier
from harness.project import (
    LEFTOVER,
    PLACEHOLDER,
    Project,
    Verdicts,
    booted,
    http_get,
    mypy,
    own_suite,
    record_boot,
)
from harness.readme import Code, cited, missing

# Words whose presence betrays an unchosen option leaking into the project. The key is an
# option, or a fact derived from the answers (`needs_redis`: the cache or Celery).
FOREIGN_WORDS: dict[tuple[str, object], list[str]] = {
    ("needs_redis", False): ["redis"],
    ("database", "sqlite"): ["asyncpg", "postgres"],
    ("database", "postgres"): ["aiosqlite", "sqlite"],
    ("use_gzip", False): ["gzip"],
    ("use_cors", False): ["cors"],
    ("use_celery", False): ["celery"],
    ("use_docker", False): ["docker"],
    ("auth", "none"): ["oauth2", "jwt", "pwdlib", "argon2", "superuser", "oidc", "refresh_token"],
}


def test_no_template_leftovers_or_stray_whitespace(project: Project) -> None:
    problems = []
    for path in project.text_files():
        relative = path.relative_to(project.root)
        text = path.read_text()
        if match := LEFTOVER.search(text):
            problems.append(f"{relative}: template leftover {match.group()!r}")
        if "\n\n\n\n" in text or (path.suffix not in {".py", ".mako"} and "\n\n\n" in text):
            problems.append(f"{relative}: a run of blank lines (a Jinja block left them)")
        if (text and not text.endswith("\n")) or text.endswith("\n\n"):
            problems.append(f"{relative}: does not end with exactly one newline")
        if any(line != line.rstrip() for line in text.splitlines()):
            problems.append(f"{relative}: trailing whitespace")
    assert not problems, "\n".join(problems)


def facts(answers: dict[str, Any]) -> dict[str, Any]:
    return {**answers, "needs_redis": needs_redis(answers)}


def test_unchosen_options_leave_no_trace(project: Project) -> None:
    mentions = []
    for (option, value), words in FOREIGN_WORDS.items():
        if facts(project.answers).get(option) != value:
            continue
        for path in project.text_files():
            text = path.read_text().lower()
            mentions += [
                f"{path.relative_to(project.root)}: {word!r}" for word in words if word in text
            ]
    assert not mentions, "files mention options this project did not choose:\n" + "\n".join(
        mentions
    )


def test_secrets_stay_out_of_git_and_the_example_holds_none(project: Project) -> None:
    ignored = (project.root / ".gitignore").read_text().splitlines()
    example = project.env_example()
    assert ".env" in ignored
    assert example["SECRET_KEY"] == PLACEHOLDER
    for name, value in example.items():
        if "URL" in name:
            # Local development services, never a real password.
            assert "@" not in value or value.split("://", 1)[1].split("@")[0].count(":") == 0, name


# Names the generated README cites from libraries, to compare or as what a user meets;
# and what a command the README gives creates.
CITED_ELSEWHERE = {"AsyncSession", "BaseHTTPMiddleware", "SoftTimeLimitExceeded", "uv.lock", ".env"}


def test_the_readme_cites_only_names_the_project_has(project: Project) -> None:
    """Its example resource (`make resource name=order ...`) aside, which the reader creates."""
    files = [path for path in project.text_files() if path.name != "README.md"]
    code = Code(
        roots=[project.root, project.root / "src" / project.package],
        sources=[path for path in files if path.suffix == ".py"],
        configuration=[path for path in files if path.suffix != ".py"],
    )
    names = {
        name
        for name in cited((project.root / "README.md").read_text())
        if "order" not in name.lower()
    }

    absent = missing(names, code, allowed=CITED_ELSEWHERE)

    assert not absent, f"README.md cites what the project does not have: {absent}"


def test_ruff_check_and_format_pass(project: Project) -> None:
    project.tool("ruff", "check", ".")
    project.tool("ruff", "format", "--check", ".")


def test_mypy_strict_passes(project: Project, verdicts: Verdicts) -> None:
    mypy(project, verdicts)


@pytest.mark.only_where(predicate=runs_own_suite)
def test_own_test_suite_passes(project: Project, verdicts: Verdicts) -> None:
    """As much of it as can differ from the other combinations' (harness.options.suite_tier):
    all of it where the heavy tier runs, its fast tier in every other service shape, the
    tests of the middleware layers in a pairwise covering of the layer options. A
    project's owner runs all of it with `make test`."""
    tier = suite_tier(project.answers)
    assert tier is not None
    own_suite(project, verdicts, tier=tier)


def test_production_server_serves_then_shuts_down_gracefully(
    project: Project, verdicts: Verdicts
) -> None:
    """One boot of the production command: it answers, then SIGTERM with a request in flight
    lets that request finish, refuses new connections, closes the pools and exits 0.

    Once per set of files the server reads: twins that differ only in deployment files share it.
    """
    if booted(project, verdicts):
        return
    project.tool("alembic", "upgrade", "head")
    body = json.dumps({"name": "in flight", "price": 1}).encode()
    admin = first_superuser()
    with project.serving(extra=admin) as base_url:
        head = (
            b"POST /api/v1/items HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
            b"Connection: close\r\nContent-Length: %d\r\n%s\r\n"
            % (len(body), credentials(base_url, admin))
        )
        health = http_get(f"{base_url}/health")
        ready = http_get(f"{base_url}/ready")
        items = http_get(f"{base_url}/api/v1/items")
        headers = raw_request(base_url, b"GET /health HTTP/1.1\r\nHost: test\r\n\r\n").lower()

        assert project.server is not None
        in_flight = socket.create_connection(address(base_url), timeout=30)
        in_flight.sendall(head + body[:4])  # the app is now waiting for the rest of the body
        time.sleep(0.5)
        project.server.send_signal(signal.SIGTERM)
        refused = wait_until_refused(address(base_url))
        in_flight.sendall(body[4:])
        response = b""
        while chunk := in_flight.recv(65536):
            response += chunk
        in_flight.close()
    # `serving` has checked the exit status: 0.
    assert health == (200, b'{"status":"ok"}')
    assert ready[0] == 200, ready
    assert json.loads(ready[1])["status"] == "ready"
    assert items[0] == 200, items
    assert b"\r\nserver:" not in headers, "the server announces itself"
    assert b"\r\nx-content-type-options: nosniff" in headers
    assert refused, "new connections were still accepted after SIGTERM"
    assert response.startswith(b"HTTP/1.1 201"), response[:200]
    assert "Pools closed" in project.server_output
    record_boot(project, verdicts)


def first_superuser() -> dict[str, str]:
    """A superuser of this boot's own: the database may already hold the one `.env.example`
    names, with the password another boot of the same project gave it."""
    return {
        "FIRST_SUPERUSER": f"boot-{secrets.token_hex(4)}@example.com",
        "FIRST_SUPERUSER_PASSWORD": secrets.token_urlsafe(18),
    }


def credentials(base_url: str, admin: dict[str, str]) -> bytes:
    """The header a client of the running service sends: a token from the OAuth2 password
    flow its OpenAPI declares, signed in as `admin`; nothing if it declares no such flow."""
    status, schema = http_get(f"{base_url}/openapi.json")
    assert status == 200, schema
    schemes = json.loads(schema).get("components", {}).get("securitySchemes", {})
    flows = [scheme["flows"]["password"] for scheme in schemes.values() if "flows" in scheme]
    if not flows:
        return b""
    form = {
        "grant_type": "password",
        "username": admin["FIRST_SUPERUSER"],
        "password": admin["FIRST_SUPERUSER_PASSWORD"],
    }
    request = urllib.request.Request(
        base_url + flows[0]["tokenUrl"], data=urllib.parse.urlencode(form).encode()
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        token = json.loads(response.read())["access_token"]
    return b"Authorization: Bearer %s\r\n" % token.encode()


def raw_request(base_url: str, request: bytes) -> bytes:
    with socket.create_connection(address(base_url), timeout=10) as connection:
        connection.sendall(request)
        return connection.recv(65536)


def address(base_url: str) -> tuple[str, int]:
    parts = urlsplit(base_url)
    return parts.hostname or "127.0.0.1", parts.port or 80


def wait_until_refused(target: tuple[str, int], timeout: float = 10) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(target, timeout=1).close()
        except OSError:
            return True
        time.sleep(0.05)
    return False

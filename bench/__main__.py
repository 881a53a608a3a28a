"""`uv run python -m bench`: build, provision, serve, load, report, and always clean up.

The run has four phases, each bounded in time:

1. generate the builds in `plan.BUILDS`, add a resource to each with the project's
   own generator, install them as production does, give each its database
   (10,000 rows per table) and, where it has Redis, its own Redis database;
2. start every app in `plan.APPS` (one gunicorn worker each, pinned to one CPU),
   check that each reference answers the service's bytes with the service's SQL,
   warm each measured endpoint up, then run the rounds: every (app, endpoint)
   once per round, in an order shuffled per round so that drift on a shared
   machine spreads over both sides of each ratio. Around each run the worker's
   CPU time is read, for the CPU cost per request;
3. read each worker's RSS after the load, then stop the servers;
4. launch each build again a few times, alone, for cold start.

Whatever happens (an error, Ctrl-C, SIGTERM), every server started is stopped,
every database created is dropped and every Redis database claimed is emptied.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import datetime
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path
from types import FrameType

from bench import build, checks, plan, report, servers
from bench.collector import collecting
from bench.load import LoadError, require_wrk, run_wrk
from bench.servers import App, Server, ServerError
from harness.options import TEMPLATE_ROOT, UsageError, parse_pairs
from harness.project import CommandFailed, Project


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Measure generated services against small reference apps, as ratios.",
    )
    parser.add_argument("--rounds", type=int, default=5, choices=range(1, 21), metavar="1..20")
    parser.add_argument(
        "--duration", type=int, default=3, choices=range(1, 61), metavar="SECONDS", help="per run"
    )
    parser.add_argument(
        "--warmup",
        type=int,
        default=1,
        choices=range(0, 31),
        metavar="SECONDS",
        help="of load per endpoint before the first round",
    )
    parser.add_argument("--cold-starts", type=int, default=5, choices=range(1, 11), metavar="1..10")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="smoke run: 1 round of 2 s, no warm-up, 1 cold start (figures are not meaningful)",
    )
    parser.add_argument(
        "--workdir",
        type=Path,
        help="build the projects here and reuse them next time (default: a temporary directory)",
    )
    parser.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="extra environment for the generated services (repeatable)",
    )
    parser.add_argument(
        "--max-requests",
        type=int,
        metavar="N",
        help="override gunicorn's worker recycling for every app (0: never recycle); "
        "default: the generated gunicorn.conf.py's own setting",
    )
    parser.add_argument("--seed", type=int, default=1, help="for the order of runs in a round")
    parser.add_argument("--json", type=Path, help="also write the raw figures to this file")
    args = parser.parse_args(argv)
    if args.quick:
        args.rounds, args.duration, args.warmup, args.cold_starts = 1, 2, 0, 1
    try:
        args.env = parse_pairs(args.env)
    except UsageError as error:
        parser.error(f"--env takes NAME=VALUE: {error}")
    return args


STARTED = time.monotonic()


def say(message: str) -> None:
    print(f"[bench {time.monotonic() - STARTED:5.1f} s] {message}", file=sys.stderr, flush=True)


def interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def pick_cpus() -> tuple[int | None, int | None]:
    """One CPU for the servers, another for wrk, when the machine has two and taskset exists."""
    allowed = sorted(os.sched_getaffinity(0))
    if len(allowed) >= 2 and shutil.which("taskset"):
        return allowed[0], allowed[1]
    return None, None


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        require_wrk()
    except LoadError as error:
        print(error, file=sys.stderr)
        return 2
    # Stop cleanly on either signal, even where a parent shell made SIGINT ignored.
    signal.signal(signal.SIGTERM, interrupt)
    signal.signal(signal.SIGINT, interrupt)
    try:
        with contextlib.ExitStack() as cleanup:
            findings, context = run(args, cleanup)
            say("cleaning up")
    except KeyboardInterrupt:
        say("interrupted; servers stopped, databases dropped")
        return 130
    except (CommandFailed, ServerError, LoadError) as error:
        say(f"failed; servers stopped, databases dropped:\n{error}")
        return 1
    context.append(
        f"wall time: {(time.monotonic() - STARTED) / 60:.1f} min; load average at the end: "
        f"{load_average()}"
    )
    print(report.render(findings, context))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        raw = asdict(findings)
        raw["results"] = {" | ".join(key): runs for key, runs in raw["results"].items()}
        raw["unlike_references"] = sorted(" | ".join(pair) for pair in raw["unlike_references"])
        args.json.write_text(json.dumps({"context": context, **raw}, indent=1))
    return 0


class Run:
    """One benchmark run: the phases share the builds, the servers and the findings."""

    def __init__(self, args: argparse.Namespace, cleanup: contextlib.ExitStack) -> None:
        self.args = args
        self.cleanup = cleanup
        self.server_cpu, self.load_cpu = pick_cpus()
        self.load_at_start = load_average()
        self.findings = report.Findings()
        self.projects: dict[str, Project] = {}
        self.app_env: dict[str, dict[str, str]] = {}
        self.running: dict[str, Server] = {}
        self.workers_seen: dict[str, set[int]] = {app.name: set() for app in plan.APPS}
        if args.workdir:
            self.workdir = args.workdir.resolve()
            self.workdir.mkdir(parents=True, exist_ok=True)
        else:
            self.workdir = Path(tempfile.mkdtemp(prefix="bench-"))
            cleanup.callback(shutil.rmtree, self.workdir, ignore_errors=True)
        self.log_dir = self.workdir / "logs"
        self.log_dir.mkdir(exist_ok=True)

    def prepare(self) -> None:
        """Builds installed, databases filled, and each app's environment decided."""
        for name, answers in plan.BUILDS.items():
            say(f"generating and installing {name} {answers}")
            self.projects[name] = build.build(
                self.workdir,
                name,
                answers,
                str(os.getpid()),
                plan.RESOURCE,
                plan.LEFT_OUT.get(name, ()),
            )
        for name, project in self.projects.items():
            say(f"provisioning {name}: migrations and {plan.ROWS:,} rows")
            self.cleanup.callback(build.release, project)
            build.provision(project, plan.ROWS)
        # The server's own settings (gunicorn.conf.py reads them) are the same for every
        # app; the layers' switches and --env only concern the generated services.
        server_env = dict(plan.SERVICE_ENV)
        if self.args.max_requests is not None:
            server_env["MAX_REQUESTS"] = str(self.args.max_requests)
        for number, app in enumerate(plan.APPS):
            self.app_env[app.name] = dict(server_env)
            if app.generated:
                project_env = self.projects[app.build].env
                if "REDIS_KEY_PREFIX" in project_env:
                    # Apps of one build share its Redis database, never each other's keys.
                    prefix = f"{project_env['REDIS_KEY_PREFIX']}{number}:"
                    self.app_env[app.name]["REDIS_KEY_PREFIX"] = prefix
                self.app_env[app.name].update(app.env)
                self.app_env[app.name].update(self.args.env)

    def launch(self, app: App) -> tuple[Server, float]:
        """Start one app as configured; it is stopped at the end of the run at the latest."""
        server, seconds = servers.start(
            self.projects[app.build],
            app,
            cpu=self.server_cpu,
            log_dir=self.log_dir,
            env=self.app_env[app.name],
        )
        self.cleanup.callback(servers.stop, server)
        return server, seconds

    def start_servers(self) -> list[str]:
        """Every app up and answering; returns the run's context lines for the report."""
        for app in plan.APPS:
            say(f"starting {app.name}")
            server, _ = self.launch(app)
            if app.generated:
                # As an orchestrator's first readiness probe would: it opens a database
                # connection, so the memory read after the load includes what that takes.
                servers.expect_ready(server)
                if self.projects[app.build].answers.get("auth") == "oauth2":
                    server.credentials = servers.sign_in(server, *plan.SUPERUSER)
            self.running[app.name] = server
            self.workers_seen[app.name].update(servers.worker_pids(server))
        say("checking the references' answers and SQL")
        answers, unlike = checks.check_answers(self.running, self.clean_up_after)
        service_sql = {
            name: build.service_sql(self.projects[name])
            for name in {app.build for app in plan.RAW_REFERENCES}
        }
        sql, unlike_sql = checks.check_sql(service_sql)
        self.findings.unlike_references = unlike | unlike_sql
        return (
            describe(self.args, self.projects, self.server_cpu, self.load_cpu, self.load_at_start)
            + sql
            + answers
        )

    def clean_up_after(self, measurement: plan.Measurement) -> None:
        """Undo what a run wrote (`Endpoint.cleanup_sql`) in the app's database."""
        app, endpoint = measurement
        for statement in endpoint.cleanup_sql:
            build.run_sql(self.projects[app.build], statement)

    def measure(self, measurement: plan.Measurement, seconds: int) -> None:
        """One wrk run, with the worker's CPU time read just before and just after it."""
        app, endpoint = measurement
        server = self.running[app.name]
        before = servers.worker_pids(server)
        cpu_before = [servers.cpu_seconds(pid) for pid in before]
        result = run_wrk(
            server.base_url,
            dataclasses.replace(endpoint, headers={**endpoint.headers, **server.credentials}),
            seconds=seconds,
            connections=plan.CONNECTIONS,
            cpu=self.load_cpu,
        )
        after = servers.worker_pids(server)
        cpu_after = [servers.cpu_seconds(pid) for pid in after]
        self.workers_seen[app.name].update(after)
        self.clean_up_after(measurement)
        used = None
        if before == after and None not in cpu_before + cpu_after:
            used = sum(c for c in cpu_after if c) - sum(c for c in cpu_before if c)
        result = dataclasses.replace(result, cpu_seconds=used, recycled=before != after)
        self.findings.results.setdefault(plan.key(measurement), []).append(result)

    def load(self) -> None:
        if self.args.warmup:
            say(f"warming up: {self.args.warmup} s per endpoint")
            for measurement in plan.measurements():
                self.measure(measurement, self.args.warmup)
            self.findings.results.clear()
        rng = random.Random(self.args.seed)
        for number in range(1, self.args.rounds + 1):
            say(f"round {number}/{self.args.rounds}")
            for measurement in round_order(rng, number):
                self.measure(measurement, self.args.duration)

    def inspect_and_stop_servers(self) -> None:
        """Worker memory, worker replacements and cache use, read while the servers are warm."""
        for app in plan.APPS:
            sizes = [servers.rss_mib(pid) for pid in servers.worker_pids(self.running[app.name])]
            self.findings.rss_mib[app.name] = max((s for s in sizes if s is not None), default=None)
        for app in plan.APPS:
            self.findings.worker_restarts[app.name] = max(len(self.workers_seen[app.name]) - 1, 0)
            if app.generated and self.projects[app.build].answers.get("use_redis"):
                self.findings.cache_hit[app.name] = checks.served_from_cache(self.running[app.name])
        say("stopping servers")
        for server in self.running.values():
            servers.stop(server)

    def cold_starts(self) -> None:
        """Each app launched alone, several times, apps interleaved."""
        for number in range(1, self.args.cold_starts + 1):
            say(f"cold starts {number}/{self.args.cold_starts}")
            for app in rotated(plan.COLD_START_APPS, number):
                server, seconds = self.launch(app)
                cpu = servers.tree_cpu_seconds(server)
                servers.stop(server)
                self.findings.cold_starts.setdefault(app.name, []).append(seconds)
                if cpu is not None:
                    self.findings.cold_start_cpu.setdefault(app.name, []).append(cpu)


def run(
    args: argparse.Namespace, cleanup: contextlib.ExitStack
) -> tuple[report.Findings, list[str]]:
    benchmark = Run(args, cleanup)
    cleanup.enter_context(collecting(plan.COLLECTOR_PORT))
    benchmark.prepare()
    context = benchmark.start_servers()
    benchmark.load()
    benchmark.inspect_and_stop_servers()
    benchmark.cold_starts()
    return benchmark.findings, context


def round_order(rng: random.Random, number: int) -> list[plan.Measurement]:
    """Ratio pairs in a shuffled order, each pair's two sides back to back, sides alternating."""
    pairs = list(plan.PAIRS)
    rng.shuffle(pairs)
    order: dict[tuple[str, str], plan.Measurement] = {}
    for pair in pairs:
        sides = list(pair)
        for measurement in sides if number % 2 else reversed(sides):
            order.setdefault(plan.key(measurement), measurement)
    return list(order.values())


def rotated(apps: list[App], number: int) -> list[App]:
    shift = number % len(apps)
    return apps[shift:] + apps[:shift]


def load_average() -> str:
    with contextlib.suppress(OSError):
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    return "unknown"


def describe(
    args: argparse.Namespace,
    projects: dict[str, Project],
    server_cpu: int | None,
    load_cpu: int | None,
    load_at_start: str,
) -> list[str]:
    """What a reader needs to judge the figures: when, what code, which machine and settings."""
    commit = git("rev-parse", "--short", "HEAD")
    dirty = (
        " with uncommitted template changes"
        if git("status", "--porcelain", "--", ".", ":!bench")
        else ""
    )
    pinning = (
        f"servers on CPU {server_cpu}, wrk on CPU {load_cpu} (taskset)"
        if server_cpu is not None
        else "not pinned (needs taskset and 2 CPUs)"
    )
    wrk_version = subprocess.run(
        ["wrk", "--version"], capture_output=True, text=True, check=False
    ).stdout.split(" [")[0]
    recycling = "" if args.max_requests is None else f", MAX_REQUESTS={args.max_requests}"
    mode = " (--quick: a smoke run, figures not meaningful)" if args.quick else ""
    return [
        f"FastAPI template benchmark, {datetime.datetime.now():%Y-%m-%d %H:%M}, "
        f"template {commit}{dirty}{mode}",
        f"machine: {os.cpu_count()} CPUs, {pinning}; {wrk_version}, 1 thread, "
        f"{plan.CONNECTIONS} connections",
        f"rounds: {args.rounds} x {args.duration} s, interleaved, after {args.warmup} s warm-up "
        f"per endpoint; cold start: {args.cold_starts} launch(es) per app",
        f"server: gunicorn -c gunicorn.conf.py, WEB_CONCURRENCY=1{recycling}; {versions(projects)}",
        f"install: uv {' '.join(build.INSTALL)} (as the Dockerfile; PYTHONDONTWRITEBYTECODE "
        "cleared for every server)",
        "environment of every server: "
        + " ".join(f"{name}={value}" for name, value in plan.SERVICE_ENV_SHOWN.items())
        + (
            "; of the services: " + " ".join(f"{n}={v}" for n, v in args.env.items())
            if args.env
            else ""
        ),
        "builds: " + "; ".join(f"{name} {answers}" for name, answers in plan.BUILDS.items()),
        "added to every build before its install: uv run python scripts/new_resource.py "
        + " ".join(f'{a.partition("=")[0]}="{a.partition("=")[2]}"' for a in plan.RESOURCE),
        f"load average at the start: {load_at_start}",
    ]


def git(*arguments: str) -> str:
    return subprocess.run(
        ["git", "-C", str(TEMPLATE_ROOT), *arguments], capture_output=True, text=True, check=False
    ).stdout.strip()


def versions(projects: dict[str, Project]) -> str:
    """The libraries both sides of every ratio share, as each build installed them."""
    names = ["fastapi", "starlette", "pydantic", "sqlalchemy", "uvicorn", "gunicorn"]
    names += ["asyncpg", "aiosqlite", "redis", "limits"]
    code = (
        "import json; from importlib.metadata import version, PackageNotFoundError\n"
        "found = {}\n"
        f"for name in {names!r}:\n"
        "    try: found[name] = version(name)\n"
        "    except PackageNotFoundError: pass\n"
        "print(json.dumps(found))"
    )
    found: dict[str, str] = {}
    for project in projects.values():
        result = subprocess.run(
            [str(project.root / ".venv" / "bin" / "python"), "-c", code],
            capture_output=True,
            text=True,
            check=False,
        )
        with contextlib.suppress(ValueError):
            for name, version in json.loads(result.stdout).items():
                found.setdefault(name, version)
    listed = [f"{name} {found[name]}" for name in names if name in found]
    return ", ".join(listed) or "library versions unknown"


if __name__ == "__main__":
    raise SystemExit(main())

"""Turning rounds of raw figures into medians, ratios, verdicts and the printed tables.

A ratio is the median of the per-round ratios, not the ratio of medians: both
sides of a round ran back to back, so a slow moment on a shared machine hits
both and cancels out, and the median drops the round it did not.

Each ratio is given twice. By CPU time per request of the worker (reference's
over the service's), which decides the verdict: the kernel charges a process
only for the time it ran, so another engineer's test suite on the same machine
slows a run down without changing what each request cost. And by throughput
(service's over reference's), the figure a user sees, which a busy neighbour
moves more; where the two disagree, the throughput ratio says what the CPU
figure does not see (waiting on a pool, on the database, on the scheduler).
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field

from bench import plan
from bench.load import Result

MET = "met"
NOT_MET = "NOT MET"


@dataclass
class Findings:
    """Everything one run measured, keyed by app name or (app name, endpoint label)."""

    results: dict[tuple[str, str], list[Result]] = field(default_factory=dict)
    cold_starts: dict[str, list[float]] = field(default_factory=dict)
    # CPU seconds of the master and its worker from launch to the first 200.
    cold_start_cpu: dict[str, list[float]] = field(default_factory=dict)
    rss_mib: dict[str, float | None] = field(default_factory=dict)
    worker_restarts: dict[str, int] = field(default_factory=dict)
    # For each generated app with Redis: whether a repeated read was served from the cache.
    cache_hit: dict[str, bool] = field(default_factory=dict)
    # (reference, endpoint label) pairs whose answer or SQL differs from the service's:
    # the ratios that compare them are void.
    unlike_references: set[tuple[str, str]] = field(default_factory=set)


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def results_of(findings: Findings, measurement: plan.Measurement) -> list[Result]:
    return findings.results.get(plan.key(measurement), [])


def cpu_us(results: list[Result]) -> float:
    return median([r.cpu_us_per_request for r in results if r.cpu_us_per_request is not None])


def verdict(ok: bool) -> str:
    return MET if ok else NOT_MET


def errors_text(results: list[Result]) -> str:
    """Failed requests, by kind: what wrk saw as non-2xx, and socket errors or timeouts."""
    non_2xx = sum(r.non_2xx for r in results)
    sockets = sum(r.socket_errors + r.timeouts for r in results)
    return f"{non_2xx}/{sockets}"


def table(header: list[str], rows: list[list[str]], right: set[int]) -> str:
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]

    def line(cells: list[str]) -> str:
        return "  ".join(
            cell.rjust(width) if i in right else cell.ljust(width)
            for i, (cell, width) in enumerate(zip(cells, widths, strict=True))
        ).rstrip()

    return "\n".join([line(header), line(["-" * w for w in widths]), *map(line, rows)])


def number(value: float, pattern: str = "{:,.0f}") -> str:
    return "-" if value != value else pattern.format(value)  # NaN: nothing measured


# Per endpoint.


@dataclass
class Latency:
    app: str
    endpoint: str
    generated: bool
    results: list[Result]

    @property
    def p50(self) -> float:
        return median([r.p50_ms for r in self.results])

    @property
    def p99(self) -> float:
        return median([r.p99_ms for r in self.results])

    @property
    def spread(self) -> float:
        return self.p99 / self.p50 if self.p50 else float("nan")

    @property
    def errors(self) -> int:
        return sum(r.errors for r in self.results)

    @property
    def fair(self) -> bool:
        return self.errors == 0 and self.spread <= plan.P99_OVER_P50_MAX


def latencies(findings: Findings) -> list[Latency]:
    return [
        Latency(app.name, endpoint.label, app.generated, results_of(findings, (app, endpoint)))
        for app, endpoint in plan.measurements()
    ]


def endpoint_table(findings: Findings) -> str:
    rows = []
    for row in latencies(findings):
        if not row.generated:
            judged = "(reference)"
        elif row.fair:
            judged = MET
        else:
            judged = NOT_MET
        rows.append(
            [
                row.app,
                row.endpoint,
                number(median([r.rps for r in row.results])),
                number(cpu_us(row.results)),
                number(row.p50, "{:.2f}"),
                number(row.p99, "{:.2f}"),
                number(row.spread, "{:.1f}x"),
                errors_text(row.results),
                judged,
            ]
        )
    header = [
        "app",
        "endpoint",
        "req/s",
        "CPU us/req",
        "p50 ms",
        "p99 ms",
        "p99/p50",
        "errors",
        f"<= {plan.P99_OVER_P50_MAX:.0f}x, 0 err",
    ]
    return table(header, rows, right={2, 3, 4, 5, 6, 7})


# Ratios.


@dataclass
class RatioFigures:
    cpu_ratio: float  # baseline's CPU per request over the subject's: above 1, subject cheaper
    rps_ratio: float  # subject's throughput over the baseline's
    subject_cpu: float
    baseline_cpu: float
    subject_rps: float
    baseline_rps: float
    errors: int


def ratio_figures(
    findings: Findings, subject_side: plan.Measurement, baseline_side: plan.Measurement
) -> RatioFigures:
    subject = results_of(findings, subject_side)
    baseline = results_of(findings, baseline_side)
    pairs = list(zip(subject, baseline, strict=False))
    return RatioFigures(
        cpu_ratio=median(
            [
                b.cpu_us_per_request / s.cpu_us_per_request
                for s, b in pairs
                if s.cpu_us_per_request and b.cpu_us_per_request
            ]
        ),
        rps_ratio=median([s.rps / b.rps for s, b in pairs if b.rps]),
        subject_cpu=cpu_us(subject),
        baseline_cpu=cpu_us(baseline),
        subject_rps=median([r.rps for r in subject]),
        baseline_rps=median([r.rps for r in baseline]),
        errors=sum(r.errors for r in subject + baseline),
    )


def void_reason(
    findings: Findings, sides: tuple[plan.Measurement, ...], needs_cache_hit: bool = False
) -> str | None:
    """Why a ratio cannot be judged, when it cannot."""
    app = sides[0][0]
    if needs_cache_hit and not findings.cache_hit.get(app.name):
        return "repeated reads were not served from the cache (no `X-Cache: hit`)"
    for side in sides:
        if plan.key(side) in findings.unlike_references:
            return f"{side[0].name} answers or queries differently (see the check lines)"
    return None


@dataclass
class Target:
    label: str
    measured: str
    needs: str
    verdict: str
    behind: str


def ratio_target(findings: Findings, ratio: plan.Ratio) -> Target:
    assert ratio.minimum is not None
    figures = ratio_figures(findings, ratio.subject, ratio.baseline)
    needs = f">= {ratio.minimum:.2f}x"
    reason = void_reason(findings, (ratio.subject, ratio.baseline), ratio.needs_cache_hit)
    if reason:
        return Target(ratio.label, "-", needs, "n/a", reason)
    behind = (
        f"CPU {number(figures.subject_cpu)} vs {number(figures.baseline_cpu)} us/req; "
        f"throughput {number(figures.rps_ratio, '{:.2f}x')} "
        f"({number(figures.subject_rps)} vs {number(figures.baseline_rps)} req/s)"
    )
    if figures.errors:
        behind += f"; {figures.errors} failed requests"
    if figures.cpu_ratio != figures.cpu_ratio:
        return Target(ratio.label, "-", needs, "no data", behind)
    return Target(
        ratio.label,
        f"{figures.cpu_ratio:.2f}x",
        needs,
        verdict(figures.cpu_ratio >= ratio.minimum),
        behind,
    )


def fairness_target(findings: Findings) -> Target:
    judged = [row for row in latencies(findings) if row.generated and row.results]
    failing = [row for row in judged if not row.fair]
    worst = max(judged, key=lambda row: row.spread, default=None)
    errors = sum(row.errors for row in judged)
    measured = "-" if worst is None else f"{worst.spread:.1f}x, {errors} err"
    behind = "" if worst is None else f"worst p99/p50: {worst.app}, {worst.endpoint}"
    if failing:
        behind = f"{len(failing)} of {len(judged)} endpoints miss (last column above); " + behind
        if any(r.recycled for row in failing for r in row.results):
            behind += "; gunicorn replaced a worker during some of their runs (see Notes)"
    return Target(
        f"every service endpoint at {plan.CONNECTIONS} connections",
        measured,
        f"0 err, p99 <= {plan.P99_OVER_P50_MAX:.0f}x p50",
        verdict(not failing) if judged else "no data",
        behind,
    )


def cold_start_ratios(findings: Findings, cpu: bool = False) -> dict[str, float]:
    """Each build's median start over hello's: wall time, or with `cpu` the CPU time."""
    starts = findings.cold_start_cpu if cpu else findings.cold_starts
    hello = median(starts.get(plan.REF_HELLO.name, []))
    return {
        app.name: median(starts.get(app.name, [])) / hello
        for app in plan.COLD_START_APPS
        if app.generated
    }


def cold_start_target(findings: Findings) -> Target:
    ratios = cold_start_ratios(findings)
    known = {name: value for name, value in ratios.items() if value == value}
    hello = median(findings.cold_starts.get(plan.REF_HELLO.name, []))
    label = "cold start, launch to first 200, vs hello's"
    needs = f"<= {plan.COLD_START_OVER_HELLO_MAX:.1f}x"
    if not known:
        return Target(label, "-", needs, "no data", "")
    worst = max(known, key=known.__getitem__)
    seconds = median(findings.cold_starts[worst])
    cpu = cold_start_ratios(findings, cpu=True).get(worst, float("nan"))
    return Target(
        label,
        f"{known[worst]:.2f}x",
        needs,
        verdict(known[worst] <= plan.COLD_START_OVER_HELLO_MAX),
        f"slowest build: {worst}, {seconds:.2f} s vs hello {hello:.2f} s; CPU time {cpu:.2f}x",
    )


def rss_target(findings: Findings, projects_with_redis: set[str]) -> Target:
    """The largest worker of the generated apps without Redis; those with it are shown beside."""
    sizes: dict[str, float] = {}
    with_redis: dict[str, float] = {}
    for app in plan.APPS:
        size = findings.rss_mib.get(app.name)
        if app.generated and size is not None:
            (with_redis if app.build in projects_with_redis else sizes)[app.name] = size
    label = "RSS per worker after the load, without Redis"
    needs = f"<= {plan.RSS_MAX_MIB:.0f} MiB"
    if not sizes:
        return Target(label, "-", needs, "no data", "")
    worst = max(sizes, key=sizes.__getitem__)
    hello = findings.rss_mib.get(plan.REF_HELLO.name)
    behind = f"largest: {worst}"
    if with_redis:
        behind += f"; with Redis {max(with_redis.values()):.1f} MiB"
    if hello is not None:
        behind += f"; hello {hello:.1f} MiB"
    return Target(
        label, f"{sizes[worst]:.1f} MiB", needs, verdict(sizes[worst] <= plan.RSS_MAX_MIB), behind
    )


def builds_with_redis() -> set[str]:
    return {name for name, answers in plan.BUILDS.items() if answers.get("use_redis")}


def targets(findings: Findings) -> list[Target]:
    return [
        *(ratio_target(findings, ratio) for ratio in plan.TARGETS),
        fairness_target(findings),
        cold_start_target(findings),
        rss_target(findings, builds_with_redis()),
    ]


def target_table(findings: Findings) -> str:
    rows = [[t.label, t.measured, t.needs, t.verdict, t.behind] for t in targets(findings)]
    return table(["target", "measured", "needs", "verdict", "figures behind it"], rows, {1})


def layer_table(findings: Findings) -> str:
    rows = []
    for ratio in plan.LAYERS:
        figures = ratio_figures(findings, ratio.subject, ratio.baseline)
        cost = figures.subject_cpu - figures.baseline_cpu
        share = cost / figures.subject_cpu if figures.subject_cpu else float("nan")
        reason = void_reason(findings, (ratio.subject, ratio.baseline))
        rows.append(
            [
                ratio.label,
                f"{ratio.subject[0].name} / {ratio.baseline[0].name}",
                number(figures.subject_cpu),
                number(figures.baseline_cpu),
                "-" if reason else number(cost, "{:+,.0f}"),
                "-" if reason else number(share, "{:.0%}"),
                number(figures.cpu_ratio, "{:.2f}x"),
                number(figures.rps_ratio, "{:.2f}x"),
            ]
        )
    header = [
        "layer",
        "with / without",
        "with us",
        "without us",
        "cost us",
        "share",
        "CPU ratio",
        "req/s ratio",
    ]
    return table(header, rows, right={2, 3, 4, 5, 6, 7})


def variant_table(findings: Findings) -> str:
    """Each home-made part against the library's way: what the library's way costs more."""
    rows = []
    for variant in plan.VARIANTS:
        figures = ratio_figures(findings, variant.library, variant.home_made)
        whole = variant.whole or variant.home_made
        whole_cpu = cpu_us(results_of(findings, whole))
        extra = figures.subject_cpu - figures.baseline_cpu
        share = extra / whole_cpu if whole_cpu else float("nan")
        reason = void_reason(findings, (*variant.sides, whole))
        if reason or share != share:
            dearer = "-"
        else:
            dearer = "yes" if share >= plan.KEEP_IF_DEARER else "no"
        rows.append(
            [
                variant.label,
                f"{variant.library[0].name} / {variant.home_made[0].name}",
                number(figures.subject_cpu),
                number(figures.baseline_cpu),
                "-" if reason else number(extra, "{:+,.0f}"),
                "-" if reason else f"{number(share, '{:+.0%}')} of {whole[0].name}",
                number(1 / figures.cpu_ratio if figures.cpu_ratio else float("nan"), "{:.2f}x"),
                dearer,
            ]
        )
    header = [
        "home-made part vs the library's way",
        "library / home-made",
        "library us",
        "home-made us",
        "extra us",
        "extra, of the whole request",
        "CPU ratio",
        f">= {plan.KEEP_IF_DEARER:.0%} dearer",
    ]
    return table(header, rows, right={2, 3, 4, 5, 6})


def start_and_memory_table(findings: Findings) -> str:
    ratios = cold_start_ratios(findings)
    cpu_ratios = cold_start_ratios(findings, cpu=True)
    rows = []
    for app in plan.APPS:
        starts = findings.cold_starts.get(app.name, [])
        cpu = findings.cold_start_cpu.get(app.name, [])
        rss = findings.rss_mib.get(app.name)
        rows.append(
            [
                app.name,
                number(median(starts), "{:.2f}") if starts else "",
                number(ratios[app.name], "{:.2f}x") if app.name in ratios else "",
                number(median(cpu), "{:.2f}") if cpu else "",
                number(cpu_ratios[app.name], "{:.2f}x") if app.name in cpu_ratios else "",
                "?" if rss is None else f"{rss:.1f}",
            ]
        )
    header = ["app", "cold start s", "vs hello", "CPU s", "CPU vs hello", "RSS MiB"]
    return table(header, rows, right={1, 2, 3, 4, 5})


def notes(findings: Findings) -> list[str]:
    lines = []
    for name, restarts in findings.worker_restarts.items():
        if restarts:
            lines.append(
                f"{name}: gunicorn replaced the worker {restarts} time(s) under load "
                "(max_requests); the runs it happened in count their pauses and dropped "
                "connections, and have no CPU figure."
            )
    return lines


def render(findings: Findings, context: list[str]) -> str:
    sections = [
        "\n".join(context),
        f"Per endpoint, {plan.CONNECTIONS} connections, one worker (medians over rounds; "
        "CPU us/req: the worker's user+system time over the requests it served; "
        "errors: non-2xx/socket errors and timeouts, summed)\n" + endpoint_table(findings),
        "Targets (ratios: median of per-round ratios of CPU time per request, reference's "
        "over the service's; throughput ratio beside it)\n" + target_table(findings),
        "Where the time goes: each layer's CPU cost per request (with minus without, same "
        "rounds)\n" + layer_table(findings),
        "Where the time goes: each home-made part the service keeps against the maintained "
        "library's way, same rounds (extra: the library's CPU per request minus the home-made "
        "one's, set against the whole request of the service; CPU ratio: library over "
        "home-made)\n" + variant_table(findings),
        "Cold start (launch to first 200, median; CPU s: the master's and worker's CPU time "
        "until then) and worker RSS after the load\n" + start_and_memory_table(findings),
    ]
    if extra := notes(findings):
        sections.append("Notes\n" + "\n".join(f"- {line}" for line in extra))
    return "\n\n".join(sections)

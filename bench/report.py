"""Turning rounds of raw figures into medians, ratios and verdicts.

A ratio is the median of the per-round ratios, not the ratio of medians: both
sides of a round ran back to back, so a slow moment on a shared machine hits
both and cancels out, and the median drops the round it did not.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field

from bench import plan
from bench.load import Result


@dataclass
class Findings:
    """Everything one run measured, keyed by app name or (app name, endpoint label)."""

    results: dict[tuple[str, str], list[Result]] = field(default_factory=dict)
    cold_starts: dict[str, list[float]] = field(default_factory=dict)
    rss_mib: dict[str, float | None] = field(default_factory=dict)
    worker_restarts: dict[str, int] = field(default_factory=dict)
    # For each generated app with Redis: whether a repeated read was served from the cache.
    cache_hit: dict[str, bool] = field(default_factory=dict)


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def shortfall(measured: float, target: float, *, at_most: bool = False) -> str:
    """'meets', or by how much (relative to the target) the figure misses it."""
    if measured != measured:  # NaN: nothing was measured
        return "no data"
    if (measured <= target) if at_most else (measured >= target):
        return "meets"
    gap = (measured - target) / target if at_most else (target - measured) / target
    return f"MISSES by {gap:.0%}"


def problems(results: list[Result]) -> str:
    """Failed requests make a throughput figure meaningless: say so beside it."""
    errors = sum(r.socket_errors + r.timeouts for r in results)
    non_2xx = sum(r.non_2xx for r in results)
    found = []
    if errors:
        found.append(f"{errors} socket errors/timeouts")
    if non_2xx:
        found.append(f"{non_2xx} non-2xx")
    return ", ".join(found)


def table(header: list[str], rows: list[list[str]], right: set[int]) -> str:
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]

    def line(cells: list[str]) -> str:
        return "  ".join(
            cell.rjust(width) if i in right else cell.ljust(width)
            for i, (cell, width) in enumerate(zip(cells, widths, strict=True))
        ).rstrip()

    return "\n".join([line(header), line(["-" * w for w in widths]), *map(line, rows)])


def throughput_table(findings: Findings) -> str:
    rows = []
    for app, endpoint in plan.measurements():
        results = findings.results.get(plan.key((app, endpoint)), [])
        p50 = median([r.p50_ms for r in results])
        p99 = median([r.p99_ms for r in results])
        spread = p99 / p50 if p50 else float("nan")
        trouble = problems(results)
        if not app.generated:
            verdict = trouble or "(reference)"
        elif trouble:
            verdict = f"MISSES: {trouble}"
        elif spread > plan.P99_OVER_P50_MAX:
            verdict = f"MISSES: p99 is {spread:.1f}x p50"
        else:
            verdict = "meets"
        rows.append(
            [
                app.name,
                endpoint.label,
                f"{median([r.rps for r in results]):,.0f}",
                f"{p50:.2f}",
                f"{p99:.2f}",
                f"{spread:.1f}x",
                verdict,
            ]
        )
    header = ["app", "endpoint", "req/s", "p50 ms", "p99 ms", "p99/p50", "fairness (<=5x, 0 err)"]
    return table(header, rows, right={2, 3, 4, 5})


def ratio_value(findings: Findings, ratio: plan.Ratio) -> float:
    subject = findings.results.get(plan.key(ratio.subject), [])
    baseline = findings.results.get(plan.key(ratio.baseline), [])
    per_round = [s.rps / b.rps for s, b in zip(subject, baseline, strict=False) if b.rps]
    return median(per_round)


def ratio_verdict(findings: Findings, ratio: plan.Ratio, value: float) -> str:
    app = ratio.subject[0]
    if ratio.needs_redis:
        if app.name not in findings.cache_hit:
            return "n/a: this build has no Redis"
        if not findings.cache_hit[app.name]:
            return "n/a: repeated reads were not served from Redis"
    verdict = "(for reading)" if ratio.minimum is None else shortfall(value, ratio.minimum)
    trouble = problems(
        findings.results.get(plan.key(ratio.subject), [])
        + findings.results.get(plan.key(ratio.baseline), [])
    )
    return f"{verdict}; {trouble}" if trouble else verdict


def ratio_table(findings: Findings) -> str:
    rows = []
    for ratio in plan.RATIOS:
        value = ratio_value(findings, ratio)
        rows.append(
            [
                ratio.label,
                f"{value:.2f}x",
                "" if ratio.minimum is None else f">= {ratio.minimum:.2f}x",
                ratio_verdict(findings, ratio, value),
            ]
        )
    return table(["target", "measured", "needs", "verdict"], rows, right={1, 2})


def start_and_memory_table(findings: Findings) -> str:
    rows = []
    for app in plan.COLD_START_APPS:
        seconds = median(findings.cold_starts.get(app.name, []))
        rss = findings.rss_mib.get(app.name)
        rows.append(
            [
                app.name,
                f"{seconds:.2f}",
                shortfall(seconds, plan.COLD_START_MAX_SECONDS, at_most=True)
                if app.generated
                else "(reference)",
                "?" if rss is None else f"{rss:.1f}",
                (
                    "no data"
                    if rss is None
                    else shortfall(rss, plan.RSS_MAX_MIB, at_most=True)
                    if app.generated
                    else "(reference)"
                ),
            ]
        )
    header = [
        "app",
        "cold start s",
        f"(<= {plan.COLD_START_MAX_SECONDS} s)",
        "RSS MiB",
        f"(<= {plan.RSS_MAX_MIB:.0f} MiB)",
    ]
    return table(header, rows, right={1, 3})


def notes(findings: Findings) -> list[str]:
    lines = []
    for name, restarts in findings.worker_restarts.items():
        if restarts:
            lines.append(
                f"{name}: the worker was replaced {restarts} time(s) under load "
                "(gunicorn max_requests); those pauses are inside its figures."
            )
    return lines


def render(findings: Findings, context: list[str]) -> str:
    sections = [
        "\n".join(context),
        "Throughput and latency (medians over rounds)\n" + throughput_table(findings),
        "Ratios (median of per-round ratios; same run, one worker, "
        f"{plan.CONNECTIONS} connections, {plan.ROWS:,} rows)\n" + ratio_table(findings),
        "Cold start (launch to first 200, median) and worker RSS after warm-up\n"
        + start_and_memory_table(findings),
    ]
    if extra := notes(findings):
        sections.append("Notes\n" + "\n".join(f"- {line}" for line in extra))
    return "\n\n".join(sections)

"""What must hold before a ratio means anything, checked on the running servers.

A reference must answer what the service answers (the same bytes for the same
request) and, where it is a raw driver app, run the SQL the service runs;
otherwise its ratio compares two different pieces of work and is voided. And the
cache-hit target only means something if the repeated read was a hit.
"""

from __future__ import annotations

import http.client
import json
import re
from collections.abc import Callable, Mapping

from bench import plan
from bench.load import Endpoint
from bench.reference import queries
from bench.servers import Server

# (app name, endpoint label): a reference whose answer or SQL for that request differs.
Unlike = set[tuple[str, str]]


def send(server: Server, endpoint: Endpoint) -> tuple[int, bytes, dict[str, str]]:
    """The endpoint's sample request, as wrk sends it; returns status, body and headers."""
    host, port = server.base_url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        body = endpoint.body.encode() if endpoint.body is not None else None
        headers = {**endpoint.headers, **server.credentials}
        connection.request(endpoint.method, endpoint.sample, body=body, headers=headers)
        response = connection.getresponse()
        return response.status, response.read(), {k.lower(): v for k, v in response.getheaders()}
    finally:
        connection.close()


def without_id(body: bytes) -> object:
    """A created row's JSON without its id, which each new row gets its own of."""
    answer = json.loads(body)
    if isinstance(answer, dict):
        answer.pop("id", None)
    return answer


def compared_pairs() -> list[tuple[plan.Measurement, plan.Measurement]]:
    """(service, reference) pairs that send the same request: reads first, since a
    write's check changes rows (an update sets item 1 to the same values on both)."""
    pairs: dict[tuple[str, str, str], tuple[plan.Measurement, plan.Measurement]] = {}
    for first, second in plan.PAIRS:
        service, reference = (first, second) if first[0].generated else (second, first)
        if not service[0].generated or reference[0].generated or service[1] != reference[1]:
            continue
        pairs.setdefault(
            (service[0].name, reference[0].name, service[1].label), (service, reference)
        )
    return sorted(pairs.values(), key=lambda pair: pair[0][1].method != "GET")


def check_answers(
    running: Mapping[str, Server], cleanup: Callable[[plan.Measurement], None]
) -> tuple[list[str], Unlike]:
    """Each reference's answer to each request it is compared on, against the service's.

    Returns the lines for the report and the (reference, endpoint) pairs that differ.
    `cleanup` runs after a request that adds rows, as after a measured run.
    """
    lines = []
    unlike: Unlike = set()
    for service, reference in compared_pairs():
        endpoint = service[1]
        answers = []
        for app, _ in (service, reference):
            answers.append(send(running[app.name], endpoint))
            cleanup((app, endpoint))
        (status, body, _), (ref_status, ref_body, _) = answers
        if status != ref_status:
            verdict = f"DIFFERENT status: {status} vs {ref_status}"
        elif body == ref_body:
            verdict = "same bytes"
        elif endpoint.method == "POST" and without_id(body) == without_id(ref_body):
            verdict = "same bytes but the new row's id"
        else:
            verdict = f"DIFFERENT body: {body[:300]!r} vs {ref_body[:300]!r}"
        if verdict.startswith("DIFFERENT"):
            unlike.add((reference[0].name, endpoint.label))
        lines.append(
            f"check: {endpoint.method} {endpoint.sample} from {service[0].name} and "
            f"{reference[0].name}: {verdict}"
        )
    return lines, unlike


def normalised(sql: str) -> str:
    return re.sub(r"\s+", " ", sql).strip()


def check_sql(service_sql: Mapping[str, Mapping[str, str]]) -> tuple[list[str], Unlike]:
    """The raw references' SQL against the service's own compiled statements.

    `service_sql` holds, by build, what `build.service_sql` found in it.
    """
    lines = []
    unlike: Unlike = set()
    for reference in plan.RAW_REFERENCES:
        database = plan.BUILDS[reference.build]["database"]
        ours = queries.POSTGRES if database == "postgres" else queries.SQLITE
        theirs = service_sql[reference.build]
        if "error" in theirs:
            lines.append(f"check: SQL of {reference.name} not compared: {theirs['error']}")
            continue
        differing = [
            name for name in ours if normalised(ours[name]) != normalised(theirs.get(name, ""))
        ]
        for label, names in plan.STATEMENTS.items():
            if any(name in differing for name in names):
                unlike.add((reference.name, label))
        if differing:
            shown = "; ".join(
                f"{name}: service `{normalised(theirs.get(name, '(none)'))}`" for name in differing
            )
            lines.append(f"check: SQL of {reference.name}: DIFFERENT from the service's: {shown}")
        else:
            lines.append(
                f"check: SQL of {reference.name}: the service's own ({len(ours)} statements, "
                f"compiled in the {reference.build} build), whitespace aside"
            )
    return lines, unlike


def served_from_cache(server: Server) -> bool:
    """A repeated read answered from Redis: the service says so with `X-Cache: hit`."""
    header = ""
    for _ in range(2):
        _, _, headers = send(server, plan.ITEM_REPEATED)
        header = headers.get("x-cache", "")
    return header.lower() == "hit"

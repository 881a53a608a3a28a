"""The option space, read from cookiecutter.json: the one place options are defined.

A feature option is a top-level question whose answer is a choice list or a JSON
boolean; text questions (names, email, version) are tested separately. Adding a
feature option to cookiecutter.json widens the matrix with no change here.
"""

from __future__ import annotations

import functools
import itertools
import json
import shlex
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from local_extensions import project_needs_redis

TEMPLATE_ROOT = Path(__file__).resolve().parent.parent

Combination = dict[str, Any]

# The options that decide which servers a project talks to (and, for `auth`, who may talk
# to it), and so what its tests start, cut and kill. Each distinct value of these is a
# service shape: its representative runs the generated suite's fast tier, and a pairwise
# covering of the shapes its heavy tier (heavy_tier_combinations). An option that brings a
# new server belongs here.
SERVICE_SHAPE_OPTIONS = ("database", "use_redis", "use_celery", "auth")
# The shape with every server and every feature: always in the heavy tier.
FULLEST_SHAPE = {"database": "postgres", "use_redis": True, "use_celery": True, "auth": "oauth2"}


# Options that add one middleware layer, with the tests of it, and change nothing else
# (tests/test_template_code.py holds them to the files of LAYER_FILES). Combinations that
# differ from their shape's representative only in these run the tests of the middleware
# stack and the settings, LAYER_TESTS, since only their outcome can differ: a pairwise
# covering of them (layer_tier_combinations).
LAYER_OPTIONS = ("use_gzip", "use_cors")
LAYER_FILES = (".env.example", "README.md", "src/*/core/config.py", "src/*/middleware/*")
LAYER_TESTS = ("tests/middleware", "tests/test_env_example.py", "tests/test_security.py")


class UsageError(ValueError):
    """An `OPTION=VALUE` that names no option or no choice of it."""


def load_context() -> dict[str, Any]:
    context: dict[str, Any] = json.loads((TEMPLATE_ROOT / "cookiecutter.json").read_text())
    return context


def feature_options(context: dict[str, Any] | None = None) -> dict[str, list[Any]]:
    """Each feature option with its possible values, default first."""
    context = load_context() if context is None else context
    options: dict[str, list[Any]] = {}
    for name, value in context.items():
        if name.startswith("_"):
            continue
        if isinstance(value, bool):
            options[name] = [value, not value]
        elif isinstance(value, list):
            options[name] = list(value)
    return options


def combinations(context: dict[str, Any] | None = None) -> list[Combination]:
    """The full product of the feature options."""
    options = feature_options(context)
    names = list(options)
    return [
        dict(zip(names, values, strict=True)) for values in itertools.product(*options.values())
    ]


def combination_id(combination: Combination) -> str:
    """A short, stable name: `postgres-redis-no_celery`, for test ids and job names."""
    parts = []
    for name, value in combination.items():
        if isinstance(value, bool):
            label = name.removeprefix("use_")
            parts.append(label if value else f"no_{label}")
        else:
            parts.append(str(value))
    return "-".join(parts)


def needs_redis(combination: Combination) -> bool:
    """Whether the project talks to Redis: the same rule the templates render with."""
    return project_needs_redis(combination)


def service_shape(combination: Combination) -> tuple[Any, ...]:
    return tuple(combination.get(name) for name in SERVICE_SHAPE_OPTIONS)


def shape_representatives(context: dict[str, Any] | None = None) -> list[Combination]:
    """One combination per service shape: the one with the most other switches on.

    The other options only add code on the way to the servers, so the representative
    of a shape is the combination that runs the most of it.
    """
    chosen: dict[tuple[Any, ...], Combination] = {}
    for combination in combinations(context):
        shape = service_shape(combination)
        if shape not in chosen or switches_on(combination) > switches_on(chosen[shape]):
            chosen[shape] = combination
    return list(chosen.values())


def switches_on(combination: Combination) -> int:
    return sum(
        value is True for name, value in combination.items() if name not in SERVICE_SHAPE_OPTIONS
    )


def is_shape_representative(combination: Combination) -> bool:
    return combination in shape_representatives()


def heavy_tier_combinations(context: dict[str, Any] | None = None) -> list[Combination]:
    """The representatives of the fewest shapes in which every two choices of two shape
    options meet at least once, the default shape and the fullest among them.

    Fuzzing, fault injection, concurrency and worker kills each exercise one server or
    one feature, and how it meets another (Celery's tasks on PostgreSQL, the login
    throttle on Redis); every such meeting is in the heavy tier this way, at a third of
    the cost of every shape. Every shape still runs the fast tier.
    """
    return [dict(combination) for combination in tiers(canonical(context))[0]]


def layer_tier_combinations(context: dict[str, Any] | None = None) -> list[Combination]:
    """The shapes' representatives, every layer on, and then the fewest combinations that
    turn layers off so that every choice of a layer option meets every choice of every
    other layer and shape option at least once (GZip off with Redis, CORS off with
    OAuth2, both off, ...).

    A layer's tests can differ with what surrounds it two options at a time (CORS and
    a protected route, GZip and a cached body); the pairwise covering runs every such
    meeting in three combinations instead of the 48 that turn a layer off.
    """
    return [dict(combination) for combination in tiers(canonical(context))[1]]


def canonical(context: dict[str, Any] | None) -> str:
    return json.dumps(load_context() if context is None else context)


Frozen = tuple[tuple[str, Any], ...]


@functools.cache
def tiers(context_text: str) -> tuple[tuple[Frozen, ...], tuple[Frozen, ...]]:
    """The heavy tier's and the layer tier's combinations, computed once per option space."""
    context = json.loads(context_text)
    representatives = shape_representatives(context)
    fullest = next(c for c in representatives if service_shape(c) == service_shape(FULLEST_SHAPE))
    heavy = pairwise_covering(representatives, SERVICE_SHAPE_OPTIONS, [representatives[0], fullest])
    by_shape = {service_shape(c): c for c in representatives}
    candidates = [
        combination
        for combination in combinations(context)
        if differs_only_in_layers(combination, by_shape[service_shape(combination)])
    ]
    layered = pairwise_covering(candidates, SERVICE_SHAPE_OPTIONS + LAYER_OPTIONS, representatives)
    return tuple(map(frozen, heavy)), tuple(map(frozen, layered))


def frozen(combination: Combination) -> Frozen:
    return tuple(combination.items())


def differs_only_in_layers(combination: Combination, other: Combination) -> bool:
    return all(
        combination[name] == other[name] for name in combination if name not in LAYER_OPTIONS
    )


def pairwise_covering(
    candidates: list[Combination], options: Iterable[str], chosen: list[Combination]
) -> list[Combination]:
    """`chosen`, and the fewest other candidates with which every pair of choices of
    `options` that the candidates meet is met (the first such set in the candidates'
    order); in the candidates' order."""
    names = tuple(options)
    met = [pairs(combination, names) for combination in candidates]
    needed = set().union(*met) - set().union(*(pairs(c, names) for c in chosen))
    others = [at for at, combination in enumerate(candidates) if combination not in chosen]
    for size in range(len(others) + 1):
        for extra in itertools.combinations(others, size):
            if needed <= set().union(*(met[at] for at in extra)):
                return [
                    combination
                    for at, combination in enumerate(candidates)
                    if combination in chosen or at in extra
                ]
    raise AssertionError("unreachable: all the candidates together meet every pair")


def pairs(combination: Combination, names: tuple[str, ...]) -> set[tuple[tuple[str, Any], ...]]:
    """The choices of `names` in a combination, two options at a time."""
    placed = [(name, combination[name]) for name in names]
    return set(itertools.combinations(placed, 2))


def runs_heavy_tier(combination: Combination) -> bool:
    return combination in heavy_tier_combinations()


def suite_tier(combination: Combination) -> str | None:
    """How much of its own suite a combination runs: `full` (both tiers) in the heavy
    tier's combinations, `fast` in the other shapes' representatives, `layers` (the
    fast tier of LAYER_TESTS) in the rest of the layer tier's, and none elsewhere: there
    the outcome is one of theirs, pairs of options at a time."""
    if runs_heavy_tier(combination):
        return "full"
    if is_shape_representative(combination):
        return "fast"
    return "layers" if combination in layer_tier_combinations() else None


def runs_own_suite(combination: Combination) -> bool:
    return suite_tier(combination) is not None


def run_order(combination: Combination) -> tuple[Any, ...]:
    """Where a combination's tests go in a run: a sort key.

    The heavy tier's combinations first: they take the longest, and one started last
    leaves the other workers idle at the end; then the other shapes' representatives.
    Then the others, cookiecutter.json's last option varying slowest, so that twins
    that differ only in it (it touches the fewest files) run far apart and the later
    one finds the verdicts the earlier earned (harness.project.Verdicts); the layer
    options vary fastest, so that a worker's next project often has the same service
    shape: the same environment, and a mypy cache that holds all but a few of its modules.
    """
    options = feature_options()
    slowest_first = [name for name in reversed(options) if name not in LAYER_OPTIONS]
    slowest_first += [name for name in reversed(options) if name in LAYER_OPTIONS]
    positions = [options[name].index(combination[name]) for name in slowest_first]
    return (not runs_heavy_tier(combination), not is_shape_representative(combination), *positions)


# `OPTION=VALUE` on a command line, as cookiecutter, `--combination` and the pipeline take it.


def format_value(value: Any) -> str:
    """An answer as cookiecutter and `--combination` read it back: JSON booleans as true/false."""
    return json.dumps(value) if isinstance(value, bool) else str(value)


def parse_value(text: str) -> Any:
    lowered = text.lower()
    return lowered == "true" if lowered in {"true", "false"} else text


def split_pair(pair: str) -> tuple[str, str]:
    name, separator, text = pair.partition("=")
    if not separator or not name:
        raise UsageError(f"{pair!r} is not OPTION=VALUE")
    return name, text


def parse_pairs(pairs: Iterable[str]) -> dict[str, str]:
    """`NAME=VALUE` pairs as text, for environment variables."""
    return dict(split_pair(pair) for pair in pairs)


def parse_answers(pairs: Iterable[str]) -> Combination:
    """`OPTION=VALUE` pairs as cookiecutter understands them: true/false become booleans."""
    return {name: parse_value(text) for name, text in parse_pairs(pairs).items()}


def validate(answers: Combination, context: dict[str, Any] | None = None) -> None:
    """Refuse an option that does not exist or a value that is not one of its choices."""
    options = feature_options(context)
    for name, value in answers.items():
        if name not in options:
            raise UsageError(f"{name!r} is not an option; the options are: {', '.join(options)}")
        if value not in options[name]:
            choices = ", ".join(format_value(choice) for choice in options[name])
            raise UsageError(
                f"{name}={format_value(value)} is not a choice; choose one of {choices}"
            )


def resolve(pairs: Iterable[str]) -> Combination:
    """The combination named by `OPTION=VALUE` pairs, every other option at its default."""
    answers = parse_answers(pairs)
    validate(answers)
    chosen: Combination = {name: values[0] for name, values in feature_options().items()}
    chosen.update(answers)
    if chosen not in combinations():
        raise UsageError(f"{options_argument(chosen)} is not one of the tested combinations")
    return chosen


def options_argument(combination: Combination) -> str:
    return shlex.join(f"{name}={format_value(value)}" for name, value in combination.items())

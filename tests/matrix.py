"""The option space, read from cookiecutter.json: the one place options are defined.

A feature option is a top-level question whose answer is a choice list or a JSON
boolean; text questions (names, email, version) are tested separately. Adding a
feature option to cookiecutter.json widens the matrix with no change here.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

TEMPLATE_ROOT = Path(__file__).resolve().parent.parent

Combination = dict[str, Any]


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
    """A short, stable name: `postgres-redis-no_celery`, for test ids and database names."""
    parts = []
    for name, value in combination.items():
        if isinstance(value, bool):
            label = name.removeprefix("use_")
            parts.append(label if value else f"no_{label}")
        else:
            parts.append(str(value))
    return "-".join(parts)

"""Jinja filters that quote free text for the file type it lands in, and the facts
derived from several answers, defined once for every template file.

Project names and descriptions may hold quotes, backslashes or any unicode. JSON's
escapes are valid in TOML basic strings and YAML double-quoted scalars, so
templates write `"{{ value | escaped }}"` and stay parseable themselves; Python
literals additionally pick the quote that `ruff format` would pick, so the
generated code is already formatted.
"""

from __future__ import annotations

from typing import Any

from jinja2 import pass_context
from jinja2.ext import Extension
from jinja2.runtime import Context

_ESCAPES = {"\\": "\\\\", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}


def _escape(text: str, quote: str, control: str) -> str:
    out = []
    for char in text:
        if char in _ESCAPES:
            out.append(_ESCAPES[char])
        elif char == quote:
            out.append("\\" + char)
        elif ord(char) < 0x20 or char == "\x7f":
            out.append(control.format(ord(char)))
        else:
            out.append(char)
    return "".join(out)


def escaped(value: Any) -> str:
    """The inside of a double-quoted string in TOML, YAML, JSON or a dotenv file."""
    return _escape(str(value), '"', "\\u{:04x}")


def py_string(value: Any) -> str:
    """A Python string literal in the quote style `ruff format` prefers."""
    text = str(value)
    quote = "'" if text.count('"') > text.count("'") else '"'
    return quote + _escape(text, quote, "\\x{:02x}") + quote


def project_needs_redis(answers: Any) -> bool:
    """The cache uses Redis, and so does Celery as its broker and result backend."""
    return bool(answers.get("use_redis") or answers.get("use_celery"))


@pass_context
def needs_redis(context: Context) -> bool:
    """`{% if needs_redis() %}`: whether this project talks to a Redis server."""
    return project_needs_redis(context["cookiecutter"])


class QuotingExtension(Extension):
    def __init__(self, environment: Any) -> None:
        super().__init__(environment)
        environment.filters["escaped"] = escaped
        environment.filters["py_string"] = py_string
        environment.globals["needs_redis"] = needs_redis

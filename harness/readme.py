"""The code names a README cites in backticks, and which of them the code does not have.

A README that names a module, a function or a setting that was renamed or deleted
sends its reader looking for nothing. What counts as a name, and where it must be:

- a path (`api/resources.py`, `deploy/k8s/`): a file or directory under one of the roots
  (a bare file name, `hpa.yaml`, anywhere under them);
- a dotted name or a call (`services.open_services`, `create_app()`): each part after the
  first defined in the sources, when the first is the sources' own (a module, or a name
  they define); `gc.freeze()` names the standard library and is left alone;
- a CamelCase name (`ResourceContract`): defined or imported by the sources;
- an UPPER_CASE name with an underscore (`DATABASE_URL`): present in the sources or the
  configuration files, as a setting or a constant.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

CITED = re.compile(r"`([^`\n]+)`")
PATH = re.compile(r"^\.?[\w.-]+(/[\w.-]*)+$|^[\w.-]+\.(py|ya?ml|toml|ini|json|lock|md)$")
DOTTED = re.compile(r"^([A-Za-z_]\w*)((?:\.[A-Za-z_]\w*)+)(\(\))?$")
CALL = re.compile(r"^([a-z_]\w*)\(\)$")
CAMEL = re.compile(r"^[A-Z][a-z0-9]+[A-Z][A-Za-z0-9]+$")
UPPER = re.compile(r"^([A-Z][A-Z0-9]*_[A-Z0-9_]+)(=\S*)?$")
DEFINED = re.compile(
    r"^\s*(?:async\s+)?def\s+(\w+)|^\s*class\s+(\w+)|^\s*(\w+)\s*[:=]|self\.(\w+)\s*[:=]",
    re.MULTILINE,
)
IMPORTED = re.compile(r"^\s*(?:from\s+\S+\s+)?import\s+\(?([\w, ]+)", re.MULTILINE)


@dataclass(frozen=True)
class Code:
    """What a README's names are looked up in."""

    roots: list[Path]
    sources: list[Path]
    configuration: list[Path]

    def definitions(self) -> set[str]:
        """What the sources define themselves: modules, functions, classes, attributes."""
        return {source.stem for source in self.sources} | self.matches(DEFINED)

    def imports(self) -> set[str]:
        return self.matches(IMPORTED)

    def matches(self, pattern: re.Pattern[str]) -> set[str]:
        names: set[str] = set()
        for source in self.sources:
            for match in pattern.finditer(source.read_text(errors="replace")):
                for group in match.groups():
                    if group:
                        names.update(part.strip() for part in group.split(","))
        return names

    def text(self) -> str:
        return "\n".join(
            path.read_text(errors="replace") for path in self.sources + self.configuration
        )


def cited(readme: str) -> set[str]:
    return {name.strip() for name in CITED.findall(readme)}


def missing(names: Iterable[str], code: Code, *, allowed: Iterable[str] = ()) -> list[str]:
    """The names no file, definition or setting of `code` has."""
    skip = set(allowed)
    defined = code.definitions()
    imported = code.imports()
    text = code.text()
    absent = []
    for name in sorted(set(names) - skip):
        if PATH.match(name) and not name.startswith(("/", "~")):
            found = any((root / name.rstrip("/")).exists() for root in code.roots) or (
                # A bare file name, said in the context of its folder.
                "/" not in name and any(next(root.rglob(name), None) for root in code.roots)
            )
        elif match := DOTTED.match(name):
            first, rest = match.group(1), match.group(2).split(".")[1:]
            found = first not in defined or all(part in defined for part in rest)
        elif match := CALL.match(name):
            found = match.group(1) in defined
        elif CAMEL.match(name):
            found = name in defined or name in imported
        elif match := UPPER.match(name):
            found = re.search(rf"\b{match.group(1)}\b", text, re.IGNORECASE) is not None
        else:
            continue
        if not found:
            absent.append(name)
    return absent

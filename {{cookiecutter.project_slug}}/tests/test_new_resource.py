"""The resource generator (`make resource`): what it refuses, and what it would write.

Running it end to end (write, migrate, lint, test the new resource) is the
template's own test; here it only ever refuses, so the project is left as it was.
"""

import re
import subprocess
import sys
from pathlib import Path

import pytest

from scripts import new_resource

PROJECT = Path(__file__).resolve().parent.parent


def tree() -> dict[Path, bytes]:
    watched = ["src", "tests", "migrations"]
    return {
        path: path.read_bytes()
        for top in watched
        for path in (PROJECT / top).rglob("*.py")
        if "__pycache__" not in path.parts
    }


def generate(*arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "scripts/new_resource.py", *arguments],
        cwd=PROJECT,
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.mark.heavy
def test_bad_input_is_refused_with_every_reason_and_nothing_is_written() -> None:
    before = tree()

    result = generate(
        "name=Bad Name", "fields=x:float 9:int id:int y:str y:text z:ref", "plural=in", "colour=red"
    )

    assert result.returncode == 2
    for reason in (
        "unknown argument 'colour'",
        "name='Bad Name'",
        "plural='in'",
        "unknown type 'float'; the types are str, text, int, decimal, bool, datetime, date",
        "'9' cannot name a field",
        "'id' cannot name a field",
        "'y' is given twice",
        "'z' is not a resource; one of: category, item",
    ):
        assert reason in result.stderr, (reason, result.stderr)
    assert tree() == before


@pytest.mark.parametrize(
    ("arguments", "reason"),
    [
        (["name=item", "fields=title:str"], "a table of that name exists"),
        (["name=thing", "fields=title:str", "plural=items"], "/api/v1/items exists"),
        (["name=order"], 'fields="...": say what it holds'),
    ],
)
def test_an_existing_resource_is_never_overwritten(arguments: list[str], reason: str) -> None:
    with pytest.raises(new_resource.Refused, match=re.escape(reason)):
        new_resource.parse(arguments, new_resource.existing_resources())


@pytest.mark.parametrize(
    ("name", "plural"),
    [("order", "orders"), ("category", "categories"), ("box", "boxes"), ("day", "days")],
)
def test_the_route_is_the_plural(name: str, plural: str) -> None:
    assert new_resource.plural_of(name) == plural


def test_each_field_is_declared_as_the_house_types_and_references_are_foreign_keys() -> None:
    resource = new_resource.parse(
        ["name=order", "fields=title:str note:text? total:decimal paid:bool item:ref?"],
        {"item": "items"},
    )
    declarations = [field.declaration() for field in resource.fields]

    assert declarations == [
        "    title: Name = Field(max_length=200)",
        "    note: Text | None = Field(default=None, max_length=10_000)",
        "    total: Money",
        "    paid: Flag",
        '    item_id: Reference | None = Field(default=None, foreign_key="item.id", index=True)',
    ]
    assert resource.plural == "orders"

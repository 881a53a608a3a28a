"""Add a resource in the house pattern: `make resource name=order fields="title:str item:ref"`.

It writes what a careful developer would write by hand: the resource's models
(`models/<plural>.py`), its routes (`api/routes/<plural>.py`), its tests
(`tests/api/routes/test_<plural>.py`) and the numbered migration that creates its
table; it registers the models and the router, then formats what it touched.
Everything is checked before anything is written: bad input writes nothing.

Field types: str, text, int, decimal (money, two places), bool, datetime, date,
and `<resource>:ref`, a foreign key to that resource (column `<resource>_id`);
a trailing `?` makes a field optional. The route is the plural
(`/api/v1/orders`); `plural=` overrides it.
"""

import importlib
import keyword
import re
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from string import Template

from alembic.autogenerate import render_python_code
from alembic.config import Config
from alembic.operations import ops
from alembic.script import ScriptDirectory
from sqlalchemy import Table
from sqlmodel import SQLModel

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "{{ cookiecutter.__package_name }}"
SOURCE = ROOT / "src" / PACKAGE
MAIN = SOURCE / "main.py"
MODELS_INIT = SOURCE / "models" / "__init__.py"
NAME = re.compile(r"[a-z][a-z0-9_]*")
# Names the written files already use for something else.
TAKEN = frozenset({"id", "router", "status", "store", "page", "data", "response", "client"})
USAGE = (
    'make resource name=order fields="title:str note:text? quantity:int item:ref" [plural=orders]'
)


class Refused(Exception):
    """The input cannot make a resource; the message says what to change."""


@dataclass(frozen=True)
class Kind:
    """How a field type is declared, and values of it the tests send (`$field`: its name)."""

    annotation: str
    options: str
    valid: str
    other: str
    invalid: str


KINDS = {
    "str": Kind("Name", "max_length=200", '"A $field"', '"Another $field"', '" padded "'),
    "text": Kind("Text", "max_length=10_000", '"Some $field"', '"More $field"', '"nul\\u0000"'),
    "int": Kind("Integer", "", "1", "2", '"1"'),
    "decimal": Kind("Money", "", '"9.50"', '"10.00"', "9.5"),
    "bool": Kind("Flag", "", "True", "False", '"yes"'),
    "datetime": Kind(
        "Timestamp", "", '"2026-01-02T03:04:05+00:00"', '"2026-02-03T04:05:06+00:00"', "1"
    ),
    "date": Kind("Day", "", '"2026-01-02"', '"2026-02-03"', '"2026-13-01"'),
}
REFERENCE = Kind("Reference", "", "", "", "True")


def camel(snake: str) -> str:
    return "".join(part.capitalize() for part in snake.split("_"))


@dataclass(frozen=True)
class Field:
    name: str
    kind: Kind
    optional: bool
    # For a foreign key: the table it refers to, and that resource's plural.
    target: str | None = None
    target_plural: str | None = None

    def declaration(self) -> str:
        options = [self.kind.options] if self.kind.options else []
        annotation = self.kind.annotation
        if self.target is not None:
            options += [f'foreign_key="{self.target}.id"', "index=True"]
        if self.optional:
            annotation += " | None"
            options.insert(0, "default=None")
        if not options:
            return f"    {self.name}: {annotation}"
        return f"    {self.name}: {annotation} = Field({', '.join(options)})"

    def value(self, which: str) -> str:
        """A literal for the tests: `valid`, `other` or `invalid`."""
        if self.target is not None and which != "invalid":
            return f'{self.target}["id"]'
        return Template(getattr(self.kind, which)).substitute(field=self.name.replace("_", " "))


@dataclass(frozen=True)
class Resource:
    name: str
    plural: str
    fields: tuple[Field, ...]

    @property
    def references(self) -> list[Field]:
        return [field for field in self.fields if field.target is not None]


def plural_of(name: str) -> str:
    if re.search(r"[^aeiou]y$", name):
        return name[:-1] + "ies"
    if name.endswith(("s", "x", "z", "ch", "sh")):
        return name + "es"
    return name + "s"


def existing_resources() -> dict[str, str]:
    """Each resource's table and its plural, from the routes modules the project has."""
    resources = importlib.import_module(f"{PACKAGE}.api.resources")
    found: dict[str, str] = {}
    for path in sorted((SOURCE / "api" / "routes").glob("*.py")):
        module = importlib.import_module(f"{PACKAGE}.api.routes.{path.stem}")
        for value in vars(module).values():
            if isinstance(value, resources.Resource):
                found[value.table.name] = value.plural
    return found


def parse(arguments: Sequence[str], resources: dict[str, str]) -> Resource:
    """The resource `name=... fields="..." [plural=...]` describes, or every reason it cannot be."""
    given = dict(argument.partition("=")[::2] for argument in arguments)
    problems = [
        f"unknown argument {key!r}" for key in given if key not in ("name", "fields", "plural")
    ]
    name = given.get("name", "").strip()
    plural = given.get("plural", "").strip() or plural_of(name)
    for what, value in (("name", name), ("plural", plural)):
        if not NAME.fullmatch(value) or keyword.iskeyword(value) or value in TAKEN:
            problems.append(
                f"{what}={value!r}: lowercase letters, digits and underscores, starting with a "
                "letter, and not a Python keyword"
            )
    if name in SQLModel.metadata.tables:
        problems.append(f"name={name!r}: a table of that name exists; nothing is overwritten")
    if plural in resources.values() or (SOURCE / "api" / "routes" / f"{plural}.py").exists():
        problems.append(f"plural={plural!r}: /api/v1/{plural} exists; nothing is overwritten")
    fields, field_problems = parse_fields(given.get("fields", ""), resources)
    problems += field_problems
    if problems:
        raise Refused("\n".join(problems))
    return Resource(name, plural, tuple(fields))


def parse_fields(text: str, resources: dict[str, str]) -> tuple[list[Field], list[str]]:
    fields: list[Field] = []
    problems: list[str] = []
    targets = ", ".join(sorted(resources)) or "none yet"
    if not text.split():
        problems.append('fields="...": say what it holds, e.g. fields="title:str price:decimal"')
    for spec in text.split():
        left, _, kind = spec.partition(":")
        optional = kind.endswith("?")
        kind = kind.removesuffix("?")
        if kind == "ref":
            if left not in resources:
                problems.append(f"{spec}: {left!r} is not a resource; one of: {targets}")
                continue
            field = Field(f"{left}_id", REFERENCE, optional, left, resources[left])
        elif kind in KINDS:
            field = Field(left, KINDS[kind], optional)
        else:
            problems.append(
                f"{spec}: unknown type {kind!r}; the types are {', '.join(KINDS)}, and "
                f"<resource>:ref for a resource among: {targets}; ? makes one optional"
            )
            continue
        if not NAME.fullmatch(field.name) or keyword.iskeyword(field.name) or field.name in TAKEN:
            problems.append(f"{spec}: {field.name!r} cannot name a field")
        elif any(known.name == field.name for known in fields):
            problems.append(f"{spec}: {field.name!r} is given twice")
        else:
            fields.append(field)
    return fields, problems


MODELS = Template('''\
"""$Title: the table, and what clients send and get back."""

from sqlmodel import Field, SQLModel

from .common import $imports


class ${Model}Base(SQLModel):
$declarations


class $Model(${Model}Base, table=True):
$table_name{% if cookiecutter.database == "sqlite" %}
    # Ids are never reused after a delete, as with a sequence.
    __table_args__ = {"sqlite_autoincrement": True}

{% endif %}
    id: int | None = Field(default=None, primary_key=True)


class ${Model}Create(${Model}Base, RequestBody):
    pass


@partial
class ${Model}Update(${Model}Base, RequestBody):
    """Only the fields sent change; an optional field sent as null is cleared."""


class ${Model}Read(${Model}Base):
    id: int
''')

ROUTES = Template('''\
"""`/api/v1/$plural`: the $words' routes."""

from fastapi import APIRouter, Request, Response, status

from ...models.$plural import $Model, ${Model}Create, ${Model}Read, ${Model}Update
from ..deps import Id, PageDep, StoreDep
from ..resources import Resource

$plural = Resource("$plural", $Model, ${Model}Read)
router = APIRouter(prefix=$plural.path, tags=["$plural"])


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    responses=$plural.conflict,
    dependencies=[$plural.can_write],
)
async def create_$name(store: StoreDep, data: ${Model}Create) -> ${Model}Read:
    return await $plural.create(store, data)


@router.get(
    "",
    response_model=list[${Model}Read],
    responses=$plural.not_modified,
    dependencies=[$plural.can_read],
)
async def list_$plural(request: Request, store: StoreDep, page: PageDep) -> Response:
    return await $plural.read_page(request, store, page)


@router.get(
    "/{${name}_id}",
    response_model=${Model}Read,
    responses={**$plural.not_found, **$plural.not_modified},
    dependencies=[$plural.can_read],
)
async def read_$name(request: Request, store: StoreDep, ${name}_id: Id) -> Response:
    return await $plural.read_one(request, store, ${name}_id)


@router.patch(
    "/{${name}_id}",
    responses={**$plural.not_found, **$plural.conflict},
    dependencies=[$plural.can_write],
)
async def update_$name(store: StoreDep, ${name}_id: Id, data: ${Model}Update) -> ${Model}Read:
    return await $plural.update(store, ${name}_id, data)


@router.delete(
    "/{${name}_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={**$plural.not_found, **$plural.conflict},
    dependencies=[$plural.can_write],
)
async def delete_$name(store: StoreDep, ${name}_id: Id) -> None:
    await $plural.delete(store, ${name}_id)
''')

TESTS = Template('''\
"""$Title: the resource contract$about."""

from typing import Any, ClassVar

from httpx import AsyncClient

$imports
from tests.conftest import created
from tests.resource_contract import ResourceContract

$PATH = "/api/v1/$plural"


async def valid_$name(client: AsyncClient) -> dict[str, Any]:
    """A body POST accepts, with what it refers to made first."""
$make    return {
$valid
    }


async def new_$name(client: AsyncClient, **fields: Any) -> dict[str, Any]:
    """A stored $words_one (a valid one unless `fields` say otherwise)."""
    return await created(client, $PATH, {**await valid_$name(client), **fields})


class Test$Models(ResourceContract):
    path = $PATH
    label = "$Label"
    invalid: ClassVar[dict[str, Any]] = {
$invalid
    }

    async def valid(self, client: AsyncClient) -> dict[str, Any]:
        return await valid_$name(client)

    async def change(self, client: AsyncClient) -> dict[str, Any]:
$change
$reference_tests''')

REFERENCE_TESTS = Template("""

async def test_an_unknown_${target}_is_409(client: AsyncClient) -> None:
    body = {**await valid_$name(client), "$column": 2**31 - 1}

    response = await client.post($PATH, json=body)

    assert response.status_code == 409
    assert response.json()["detail"] == "The $target_words does not exist"


async def test_${a_target}_still_referenced_is_not_deleted(client: AsyncClient) -> None:
    $name = await new_$name(client)

    response = await client.delete(f"/api/v1/$target_plural/{$name['$column']}")

    assert response.status_code == 409
    assert response.json()["detail"] == "The $target_words is still referenced by $words"
""")


def with_article(name: str) -> str:
    return ("an_" if name[0] in "aeiou" else "a_") + name


def models_module(resource: Resource) -> str:
    names = {field.kind.annotation for field in resource.fields} | {"RequestBody", "partial"}
    return MODELS.substitute(
        Title=resource.plural.replace("_", " ").capitalize(),
        Model=camel(resource.name),
        imports=", ".join(sorted(names, key=str.lower)),
        declarations="\n".join(field.declaration() for field in resource.fields),
        # SQLModel names a table after its class, lowercased: OrderLine would be orderline.
        table_name=(f'    __tablename__ = "{resource.name}"\n\n' if "_" in resource.name else ""),
    )


def routes_module(resource: Resource) -> str:
    return ROUTES.substitute(
        plural=resource.plural,
        name=resource.name,
        Model=camel(resource.name),
        words=resource.plural.replace("_", " "),
    )


def tests_module(resource: Resource) -> str:
    path = resource.plural.upper()
    references = resource.references
    imports = "\n".join(
        sorted(
            f"from tests.api.routes.test_{field.target_plural} import new_{field.target}"
            for field in references
        )
    )
    make = "".join(
        f"    {field.target} = await new_{field.target}(client)\n" for field in references
    )
    first = resource.fields[0]
    change = '        return {"' + first.name + '": ' + first.value("other") + "}"
    if first.target is not None:
        change = f"        {first.target} = await new_{first.target}(client)\n{change}"
    return TESTS.substitute(
        Title=resource.plural.replace("_", " ").capitalize(),
        about="".join(
            f", and its {field.name.removesuffix('_id').replace('_', ' ')}" for field in references
        ),
        imports=imports,
        PATH=path,
        plural=resource.plural,
        name=resource.name,
        words_one=resource.name.replace("_", " "),
        Models=camel(resource.plural),
        Label=resource.name.replace("_", " ").capitalize(),
        make=make,
        valid="\n".join(f'        "{f.name}": {f.value("valid")},' for f in resource.fields),
        invalid="\n".join(f'        "{f.name}": {f.value("invalid")},' for f in resource.fields),
        change=change,
        reference_tests="".join(
            REFERENCE_TESTS.substitute(
                target=field.target,
                a_target=with_article(field.target or ""),
                target_words=(field.target or "").replace("_", " "),
                target_plural=field.target_plural,
                column=field.name,
                name=resource.name,
                words=resource.plural.replace("_", " "),
                PATH=path,
            )
            for field in references
        ),
    )


def registered(text: str, pattern: str, edit: Callable[[re.Match[str]], str], where: Path) -> str:
    """`text` with the match of `pattern` edited, or a refusal that says what to do by hand."""
    match = re.search(pattern, text, flags=re.MULTILINE)
    if match is None:
        raise Refused(f"{where.relative_to(ROOT)} no longer has the lines this edits ({pattern})")
    return text[: match.start()] + edit(match) + text[match.end() :]


def with_router(text: str, resource: Resource) -> str:
    """main.py with the resource's routes module imported and its router included."""
    text = registered(
        text,
        r"^from \.api\.routes import (.+)$",
        lambda match: f"from .api.routes import {match[1]}, {resource.plural}",
        MAIN,
    )
    return registered(
        text,
        r"^RESOURCE_ROUTERS = \[\n((?:    .+\n)*)\]",
        lambda match: f"RESOURCE_ROUTERS = [\n{match[1]}    {resource.plural}.router,\n]",
        MAIN,
    )


def with_models(text: str, resource: Resource) -> str:
    """models/__init__.py with the resource's module imported, so Alembic sees its table."""
    text = registered(
        text,
        r"^from \. import (.+)$",
        lambda match: f"from . import {match[1]}, {resource.plural}",
        MODELS_INIT,
    )
    return registered(
        text,
        r"^__all__ = \[(.*)\]$",
        lambda match: f'__all__ = [{match[1]}, "{resource.plural}"]',
        MODELS_INIT,
    )


def write_migration(resource: Resource) -> Path:
    """The next numbered revision: the table and its indexes, and their removal.

    Alembic renders it from the table itself, as `alembic revision --autogenerate`
    would, without a database to compare with.
    """
    importlib.import_module(f"{PACKAGE}.models.{resource.plural}")
    table: Table = SQLModel.metadata.tables[resource.name]
    indexes = sorted(table.indexes, key=lambda index: str(index.name))
    upgrade = ops.UpgradeOps(
        [ops.CreateTableOp.from_table(table), *map(ops.CreateIndexOp.from_index, indexes)]
    )
    downgrade = ops.DowngradeOps(
        [*map(ops.DropIndexOp.from_index, indexes), ops.DropTableOp.from_table(table)]
    )
    scripts = ScriptDirectory.from_config(Config(ROOT / "alembic.ini"))
    if len(scripts.get_heads()) > 1:
        raise Refused("the migrations have more than one head: merge them first")
    number = sum(1 for _ in scripts.walk_revisions()) + 1
    written = scripts.generate_revision(
        f"{number:04d}",
        f"Add {resource.plural.replace('_', ' ')}",
        head="head",
        upgrades=render_python_code(upgrade),
        downgrades=render_python_code(downgrade),
    )
    if written is None:
        raise Refused("Alembic wrote no revision")
    return Path(written.path)


class Changes:
    """Files written so far, so that a failure leaves the project as it was."""

    def __init__(self) -> None:
        self.before: dict[Path, str | None] = {}

    def write(self, path: Path, text: str) -> None:
        self.before.setdefault(path, path.read_text() if path.exists() else None)
        path.write_text(text)

    def created(self, path: Path) -> None:
        self.before.setdefault(path, None)

    def undo(self) -> None:
        for path, text in self.before.items():
            if text is None:
                path.unlink(missing_ok=True)
            else:
                path.write_text(text)


def formatted(paths: Sequence[Path]) -> None:
    """The project's own formatter and import sorter, on what was written."""
    names = [str(path) for path in paths]
    for command in (["check", "--fix", "--quiet", "--select", "I,RUF022"], ["format", "--quiet"]):
        # The project's own ruff, on the files this wrote.
        ruff = [sys.executable, "-m", "ruff", *command, *names]
        subprocess.run(ruff, check=True, cwd=ROOT)  # noqa: S603


def create(resource: Resource) -> list[Path]:
    """Write the resource and return what was written; on any failure, write nothing."""
    models = SOURCE / "models" / f"{resource.plural}.py"
    routes = SOURCE / "api" / "routes" / f"{resource.plural}.py"
    tests = ROOT / "tests" / "api" / "routes" / f"test_{resource.plural}.py"
    existing = [path for path in (models, routes, tests) if path.exists()]
    if existing:
        names = ", ".join(str(path.relative_to(ROOT)) for path in existing)
        raise Refused(f"{names} exist already; nothing is overwritten")
    texts = {
        models: models_module(resource),
        routes: routes_module(resource),
        tests: tests_module(resource),
        MAIN: with_router(MAIN.read_text(), resource),
        MODELS_INIT: with_models(MODELS_INIT.read_text(), resource),
    }
    changes = Changes()
    try:
        for path, text in texts.items():
            changes.write(path, text)
        migration = write_migration(resource)
        changes.created(migration)
        formatted([*texts, migration])
    except BaseException:
        changes.undo()
        raise
    return [*texts, migration]


def main(arguments: Sequence[str]) -> int:
    sys.path.insert(0, str(ROOT))
    try:
        resource = parse(arguments, existing_resources())
        written = create(resource)
    except Refused as refusal:
        print(f"No resource was added:\n{refusal}\n\nUsage: {USAGE}", file=sys.stderr)
        return 2
    print(f"Added /api/v1/{resource.plural}:")
    for path in written:
        print(f"  {path.relative_to(ROOT)}")
    print("Next: make migrate, make test; then make it yours (validation, relations, reads).")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

"""Who may read and write each resource: anyone, until you say otherwise.

Every route of the resource pattern declares `<resource>.can_read` or
`<resource>.can_write` (built here by `readers` and `writers`), so a check written
here runs for every resource, the next one too, before the route's body and so
before a cached read is answered. To require credentials, make `anyone` check
them (a bearer token, an API key, a session) and raise a 401 or 403 to refuse.
"""

from typing import Any

from fastapi import Depends


async def anyone() -> None:
    """Every request may."""


def readers(plural: str) -> Any:
    """`<resource>.can_read`: who may read the resource (`plural` names it)."""
    return Depends(anyone)


def writers(plural: str) -> Any:
    """`<resource>.can_write`: who may create, change and delete its rows."""
    return Depends(anyone)

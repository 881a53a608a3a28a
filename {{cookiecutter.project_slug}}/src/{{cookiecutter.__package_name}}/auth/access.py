"""Who may do what: the dependencies routes declare, and what they answer when not.

Every route of the resource pattern declares `<resource>.can_read` or
`<resource>.can_write` (built here by `readers` and `writers`), so the check runs
before the route's body, and so before a cached read is answered. A write needs
the `<plural>:write` scope; a read needs `<plural>:read` when AUTH_PROTECTED_READS
names the resource, and nothing otherwise. A superuser holds every scope.

No credentials, or a token that is not valid: 401 with `WWW-Authenticate: Bearer`.
A valid token without the scope: 403 with `error="insufficient_scope"`. The subject
of a valid token goes on the request's log lines (never the token).
"""

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request, Security, status
from fastapi.security import OAuth2PasswordBearer, SecurityScopes

from ..api import API_V1
from ..api.deps import services_of
from ..core.config import Settings
from ..core.logging import subject_var
from .authenticate import InvalidToken
from .provider import ProviderUnavailable
from .tokens import Principal

TOKEN_URL = f"{API_V1}/auth/token"
# The credentials of every protected route: a bearer token, from the password flow
# at TOKEN_URL or from the identity provider.
bearer = OAuth2PasswordBearer(tokenUrl=TOKEN_URL, auto_error=False)
Token = Annotated[str | None, Depends(bearer)]
PROVIDER_UNAVAILABLE = "The identity provider cannot be reached; try again later"


def refused(detail: str, error: str | None = None, scope: str | None = None) -> HTTPException:
    challenge = "Bearer"
    if error is not None:
        challenge += f' error="{error}"'
    if scope is not None:
        challenge += f' scope="{scope}"'
    forbidden = error == "insufficient_scope"
    code = status.HTTP_403_FORBIDDEN if forbidden else status.HTTP_401_UNAUTHORIZED
    return HTTPException(code, detail, headers={"WWW-Authenticate": challenge})


async def authenticate(request: Request, token: str | None) -> Principal:
    """The principal of the request's bearer token: a 401 without one, or for a bad one."""
    if token is None:
        raise refused("Not authenticated")
    try:
        principal = await services_of(request).auth.authenticator.principal(token)
    except InvalidToken:
        raise refused("The token is not valid", "invalid_token") from None
    except ProviderUnavailable:
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE, PROVIDER_UNAVAILABLE, {"Retry-After": "5"}
        ) from None
    subject_var.set(principal.subject)
    return principal


def holding(principal: Principal, scopes: list[str]) -> Principal:
    missing = [scope for scope in scopes if not principal.holds(scope)]
    if missing:
        raise refused("The token lacks a scope this needs", "insufficient_scope", " ".join(missing))
    return principal


async def authorize(security_scopes: SecurityScopes, request: Request, token: Token) -> Principal:
    """A valid token holding every scope the route declares."""
    return holding(await authenticate(request, token), security_scopes.scopes)


async def superuser(request: Request, token: Token) -> Principal:
    principal = await authenticate(request, token)
    if not principal.superuser:
        raise refused("Only a superuser may do this", "insufficient_scope")
    return principal


def writers(plural: str) -> Any:
    """`<resource>.can_write`: the `<plural>:write` scope."""
    return Security(authorize, scopes=[f"{plural}:write"])


def readers(plural: str) -> Any:
    """`<resource>.can_read`: the `<plural>:read` scope, if AUTH_PROTECTED_READS names it."""
    scope = f"{plural}:read"
    SOMETIMES_OPEN[scope] = lambda settings: not settings.reads_are_protected(plural)
    return Security(when(SOMETIMES_OPEN[scope]), scopes=[scope])


def in_production(scope: str) -> Any:
    """A route open in development and test, and needing `scope` in production."""
    SOMETIMES_OPEN[scope] = lambda settings: settings.environment != "production"
    return Security(when(SOMETIMES_OPEN[scope]), scopes=[scope])


# The scopes whose routes the settings may open to everyone, and when (see `auth.openapi`).
SOMETIMES_OPEN: dict[str, Callable[[Settings], bool]] = {}


def when(open_to_all: Callable[[Settings], bool]) -> Callable[..., Awaitable[Principal | None]]:
    async def check(
        security_scopes: SecurityScopes, request: Request, token: Token
    ) -> Principal | None:
        if open_to_all(services_of(request).settings):
            return None
        return holding(await authenticate(request, token), security_scopes.scopes)

    return check


SignedIn = Annotated[Principal, Security(authorize)]
Superuser = Annotated[Principal, Depends(superuser)]

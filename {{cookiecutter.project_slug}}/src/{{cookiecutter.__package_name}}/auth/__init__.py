"""The auth option: local users, the OAuth2 password flow with rotating refresh
tokens, an OpenID Connect provider's tokens beside the service's own, and scopes.

Every route of the resource pattern declares `<resource>.can_read` or
`<resource>.can_write` (`auth/access.py`): a write needs the `<plural>:write`
scope, a read needs `<plural>:read` when AUTH_PROTECTED_READS names the resource.
`open_auth` is the option's seam into the app: `services.open_services` enters it.
"""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from limits.aio.storage import Storage
from starlette.concurrency import run_in_threadpool

from ..core.config import Settings
from ..db import Database
from .authenticate import Authenticator
from .passwords import Passwords
from .provider import IdentityProvider
from .throttle import LoginThrottle
from .tokens import LocalTokens
from .users import Users, ensure_first_superuser


@dataclass(frozen=True)
class Auth:
    authenticator: Authenticator
    tokens: LocalTokens
    passwords: Passwords
    users: Users
    throttle: LoginThrottle


@asynccontextmanager
async def open_auth(
    settings: Settings, database: Database, *shared: Storage
) -> AsyncIterator[Auth]:
    """`shared`: where sign-in failures are counted for every worker, if anywhere."""
    passwords = Passwords(settings)
    users = Users(database, passwords, settings)
    tokens = LocalTokens(settings)
    provider = None
    if settings.oidc_issuer_url is not None and settings.oidc_audience is not None:
        provider = IdentityProvider(settings.oidc_issuer_url, settings.oidc_audience, settings)
    await ensure_first_superuser(users, settings)
    # The stand-in hash that unknown addresses are checked against, made before the
    # first sign-in needs it (which would otherwise take twice as long).
    warming = asyncio.create_task(run_in_threadpool(lambda: passwords.stand_in))
    try:
        throttle = LoginThrottle(settings, *shared)
        yield Auth(Authenticator(tokens, provider), tokens, passwords, users, throttle)
    finally:
        warming.cancel()

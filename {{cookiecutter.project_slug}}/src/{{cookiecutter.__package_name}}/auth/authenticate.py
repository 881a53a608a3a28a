"""Bearer tokens to principals: the service's own tokens, and the provider's.

The unverified `iss` of a token only chooses how to verify it (which key, which
algorithms); verification then checks the issuer itself. A verified token is
remembered until it expires, so the next request with it costs a dictionary
lookup, not a signature check.
"""

import time

import jwt

from .provider import IdentityProvider
from .tokens import LocalTokens, Principal

# Verified tokens kept at most; beyond, the memory starts over (a few MiB at most).
REMEMBERED_MAX = 10_000


class InvalidToken(Exception):
    """Not a token this service accepts: malformed, forged, expired, or for someone else."""


class Authenticator:
    def __init__(self, local: LocalTokens, provider: IdentityProvider | None) -> None:
        self.local = local
        self.provider = provider
        self.verified: dict[str, Principal] = {}

    async def principal(self, token: str) -> Principal:
        """Whom `token` speaks for: `InvalidToken` if it is not valid, or
        `ProviderUnavailable` if its key cannot be looked up now."""
        known = self.verified.get(token)
        if known is not None and known.expires > time.time():
            return known
        try:
            issuer = jwt.decode(token, options={"verify_signature": False}).get("iss")
            if self.provider is not None and self.provider.issued(issuer):
                principal = await self.provider.verify(token)
            else:
                principal = self.local.verify(token)
        except jwt.PyJWTError as error:
            raise InvalidToken(str(error)) from None
        if len(self.verified) >= REMEMBERED_MAX:
            self.verified.clear()
        self.verified[token] = principal
        return principal

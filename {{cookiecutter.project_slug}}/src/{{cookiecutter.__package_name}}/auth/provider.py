"""Access tokens issued by an OpenID Connect provider (OIDC_ISSUER_URL, OIDC_AUDIENCE).

The provider's keys come from the `jwks_uri` of its discovery document and are kept
in memory, so a token signed with a known key is checked without I/O. A token
whose key (`kid`) is unknown makes the service fetch the keys again, which is how
it follows a key rotation without a restart; garbage cannot make it hammer the
provider, since it fetches at most once every OIDC_REFETCH_SECONDS, one fetch at a
time. While the provider cannot be reached, a token with a known key is still
accepted, and one with an unknown key is refused with a 503 (the service cannot
tell whether the key is new or forged).

Only the algorithms of OIDC_ALGORITHMS are accepted, all asymmetric: never `none`,
never an HMAC that would use the provider's public key as its secret.
"""

import asyncio
import json
import logging
import time
import urllib.request
from typing import Any

import jwt

from ..core.config import Settings
from .tokens import LEEWAY_SECONDS, Principal

logger = logging.getLogger(__name__)

DISCOVERY = "/.well-known/openid-configuration"
FETCH_TIMEOUT_SECONDS = 5.0


class ProviderUnavailable(Exception):
    """The provider's keys are needed and cannot be fetched: a 503."""


class IdentityProvider:
    def __init__(self, issuer: str, audience: str, settings: Settings) -> None:
        self.issuer = issuer.rstrip("/")
        self.audience = audience
        self.algorithms = settings.oidc_algorithm_list
        self.refetch_interval = settings.oidc_refetch_seconds
        self.keys: dict[str, jwt.PyJWK] = {}
        self.fetched_at = float("-inf")
        self.reachable = True
        self.fetching = asyncio.Lock()

    def issued(self, unverified_issuer: object) -> bool:
        """Whether a token names this provider as its issuer (to be verified)."""
        return isinstance(unverified_issuer, str) and unverified_issuer.rstrip("/") == self.issuer

    async def verify(self, token: str) -> Principal:
        """The token's principal: `jwt.InvalidTokenError` if it is not a valid token of
        the provider's, `ProviderUnavailable` if its key cannot be looked up."""
        header = jwt.get_unverified_header(token)
        algorithm = header.get("alg")
        if algorithm not in self.algorithms:
            raise jwt.InvalidAlgorithmError(f"{algorithm!r} is not an accepted algorithm")
        key = await self.key(str(header.get("kid")))
        claims = jwt.decode(
            token,
            key,
            algorithms=[algorithm],
            audience=self.audience,
            issuer=self.issuer,
            leeway=LEEWAY_SECONDS,
            options={"require": ["exp", "iss", "aud", "sub"]},
        )
        return Principal(
            subject=f"oidc:{claims['sub']}",
            scopes=frozenset(scopes_of(claims)),
            superuser=False,
            expires=float(claims["exp"]),
        )

    async def key(self, kid: str) -> jwt.PyJWK:
        key = self.keys.get(kid)
        if key is not None:
            return key
        async with self.fetching:
            if kid not in self.keys and time.monotonic() - self.fetched_at >= self.refetch_interval:
                await self.fetch()
        key = self.keys.get(kid)
        if key is not None:
            return key
        if not self.reachable:
            raise ProviderUnavailable("the identity provider's keys cannot be fetched")
        raise jwt.InvalidKeyError(f"the identity provider has no key {kid!r}")

    async def fetch(self) -> None:
        """The provider's current keys, from its discovery document's `jwks_uri`."""
        self.fetched_at = time.monotonic()
        try:
            discovery = await self.get_json(self.issuer + DISCOVERY)
            if str(discovery.get("issuer", "")).rstrip("/") != self.issuer:
                raise ValueError(f"the discovery document names issuer {discovery.get('issuer')!r}")
            keys = jwt.PyJWKSet.from_dict(await self.get_json(str(discovery["jwks_uri"])))
        except (OSError, ValueError, KeyError, jwt.PyJWKSetError) as error:
            self.reachable = False
            logger.warning("Identity provider %s unavailable: %r", self.issuer, error)
            return
        self.reachable = True
        # Public keys only: a shared secret ("oct") in a provider's key set is no key of its.
        self.keys = {
            str(key.key_id): key
            for key in keys.keys
            if key.key_id is not None and key.key_type in ("RSA", "EC", "OKP")
        }

    async def get_json(self, url: str) -> dict[str, Any]:
        """A JSON document, fetched in a thread: a few fetches an hour need no HTTP client
        of their own in every worker (the standard library's raises OSError on failure)."""
        document = await asyncio.to_thread(fetch_json, url)
        if not isinstance(document, dict):
            raise ValueError(f"{url} holds no JSON object")
        return document


def fetch_json(url: str) -> Any:
    # Only HTTP(S): the discovery document names the key set's URL, and `file:` is no URL
    # a provider may send this service to (hence S310's warning, answered here).
    if not url.startswith(("https://", "http://")):
        raise ValueError(f"{url!r} is not an HTTP URL")
    with urllib.request.urlopen(url, timeout=FETCH_TIMEOUT_SECONDS) as response:  # noqa: S310
        return json.loads(response.read())


def scopes_of(claims: dict[str, Any]) -> list[str]:
    """Scopes as providers write them: `scope`, a space-separated string, or `scp`, a list
    (or a string)."""
    scopes = claims.get("scope", claims.get("scp", ""))
    if isinstance(scopes, str):
        return scopes.split()
    if isinstance(scopes, list):
        return [str(scope) for scope in scopes]
    return []

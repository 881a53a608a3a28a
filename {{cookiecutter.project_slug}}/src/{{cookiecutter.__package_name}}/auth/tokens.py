"""The service's own tokens: signed access tokens, and opaque refresh tokens.

An access token is a JWT signed with a key derived from SECRET_KEY (HS256), valid for
ACCESS_TOKEN_MINUTES: who (`sub`), what it may do (`scope`, and `su` for a
superuser), for whom (`iss` and `aud`, the service itself). It is checked without
I/O, so a deactivated user's token works until it expires; their refresh tokens
are revoked at once, so nothing renews it.

A refresh token is 256 random bits, stored only as its SHA-256 hash: a stolen
database holds no usable token.
"""

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass

import jwt
from pydantic import SecretStr

from ..core.config import Settings

ALGORITHM = "HS256"
# Clocks of the service's replicas (and the provider's) may differ by this much.
LEEWAY_SECONDS = 30
REQUIRED_CLAIMS = ["exp", "iat", "nbf", "iss", "aud", "sub"]


@dataclass(frozen=True)
class Principal:
    """Who a verified token speaks for, and what it may do."""

    subject: str
    scopes: frozenset[str]
    superuser: bool
    # When the token stops being valid (seconds since the epoch).
    expires: float

    def holds(self, scope: str) -> bool:
        return self.superuser or scope in self.scopes


class LocalTokens:
    def __init__(self, settings: Settings) -> None:
        self.key = signing_key(settings.secret_key)
        previous = settings.previous_secret_key
        # Verified with the key SECRET_KEY replaced too, while its tokens may be valid.
        self.keys = [self.key] if previous is None else [self.key, signing_key(previous)]
        self.issuer = self.audience = f"urn:{settings.app_name}"
        self.lifetime = settings.access_token_minutes * 60

    def issue(self, user_id: int, scopes: list[str], superuser: bool) -> tuple[str, int]:
        """An access token for the user, and its lifetime in seconds."""
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "aud": self.audience,
            "sub": f"user:{user_id}",
            "scope": " ".join(scopes),
            "su": superuser,
            "iat": now,
            "nbf": now,
            "exp": now + self.lifetime,
        }
        return jwt.encode(claims, self.key, algorithm=ALGORITHM), self.lifetime

    def verify(self, token: str) -> Principal:
        """The token's principal; `jwt.InvalidTokenError` if it is not one of ours, valid now."""
        for key in self.keys[:-1]:
            try:
                return self.verified(token, key)
            except jwt.InvalidSignatureError:
                continue
        return self.verified(token, self.keys[-1])

    def verified(self, token: str, key: bytes) -> Principal:
        claims = jwt.decode(
            token,
            key,
            algorithms=[ALGORITHM],
            audience=self.audience,
            issuer=self.issuer,
            leeway=LEEWAY_SECONDS,
            options={"require": REQUIRED_CLAIMS},
        )
        return Principal(
            subject=str(claims["sub"]),
            scopes=frozenset(str(claims.get("scope", "")).split()),
            superuser=claims.get("su") is True,
            expires=float(claims["exp"]),
        )


def signing_key(secret: SecretStr) -> bytes:
    """The key of access tokens, derived from SECRET_KEY for this use alone: whatever else
    the service signs with SECRET_KEY can never pass for a token, nor the reverse."""
    return hmac.digest(secret.get_secret_value().encode(), b"access tokens", "sha256")


def new_refresh_token() -> str:
    return secrets.token_urlsafe(32)


def fingerprint(refresh_token: str) -> str:
    """What is stored of a refresh token: enough to find it, never to use it."""
    return hashlib.sha256(refresh_token.encode()).hexdigest()


def new_family() -> str:
    return secrets.token_hex(16)

"""An OpenID Connect provider on loopback: a discovery document, a key set, and tokens.

A real HTTP server in a thread of the test process, so the service fetches its keys
over sockets as it would from a real provider. Its keys can be rotated, and it can
be stopped (the provider is down); it counts how often its key set was fetched.
"""

import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

AUDIENCE = "svc-tests"


class SigningKey:
    def __init__(self) -> None:
        self.kid = uuid.uuid4().hex
        self.private = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    def jwk(self) -> dict[str, Any]:
        public: dict[str, Any] = RSAAlgorithm.to_jwk(self.private.public_key(), as_dict=True)
        return {**public, "kid": self.kid, "use": "sig", "alg": "RS256"}


class Provider:
    def __init__(self) -> None:
        self.keys = [SigningKey()]
        self.jwks_fetches = 0
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                document: dict[str, Any]
                if self.path == "/.well-known/openid-configuration":
                    document = {"issuer": provider.issuer, "jwks_uri": f"{provider.issuer}/jwks"}
                elif self.path == "/jwks":
                    provider.jwks_fetches += 1
                    document = {"keys": [key.jwk() for key in provider.keys]}
                else:
                    self.send_error(404)
                    return
                body = json.dumps(document).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.issuer = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()

    @property
    def key(self) -> SigningKey:
        """The key it signs with now."""
        return self.keys[-1]

    def rotate(self) -> None:
        """A new signing key; the old one leaves the key set."""
        self.keys = [SigningKey()]

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def claims(self, **overrides: Any) -> dict[str, Any]:
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "aud": AUDIENCE,
            "sub": "client-42",
            "scope": "items:write",
            "iat": now,
            "nbf": now,
            "exp": now + 300,
        }
        # An override of None leaves the claim out.
        return {name: value for name, value in {**claims, **overrides}.items() if value is not None}

    def token(self, key: SigningKey | None = None, kid: str | None = None, **claims: Any) -> str:
        """An access token as the provider issues it (signed with `key`, named `kid`)."""
        key = key or self.key
        headers = {"kid": kid or key.kid}
        return jwt.encode(self.claims(**claims), key.private, algorithm="RS256", headers=headers)

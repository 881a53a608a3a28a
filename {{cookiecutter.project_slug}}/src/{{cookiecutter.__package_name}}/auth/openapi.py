"""OpenAPI as the settings make the routes: which need a token, with which scopes.

FastAPI documents each route's security from its dependencies, which are fixed
when the routes are declared; whether a resource's reads need a token is a
setting (AUTH_PROTECTED_READS, the environment). So the schema is adjusted once,
when first asked for, the way FastAPI's documentation extends it: routes the
settings open to all lose their requirement, every scope gets its description,
and with an identity provider its tokens are documented as an alternative.
"""

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from ..core.config import Settings
from ..core.error_body import ErrorBody
from .access import SOMETIMES_OPEN, bearer
from .provider import DISCOVERY

SCHEME = bearer.scheme_name
PROVIDER_SCHEME = "OpenIdConnect"
VERBS = {"read": "Read", "write": "Create, change and delete", "admin": "Manage"}
ERROR_BODY = ErrorBody.model_json_schema()
CHALLENGE = {
    "WWW-Authenticate": {
        "description": 'The scheme, and why: `Bearer error="invalid_token"` or '
        '`Bearer error="insufficient_scope" scope="..."`',
        "schema": {"type": "string"},
    }
}
# What every route needing a token may answer.
REFUSALS = {
    str(code): {
        "description": description,
        "headers": CHALLENGE,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}},
    }
    for code, description in [
        (401, "No token, or one that is not valid"),
        (403, "The token lacks a scope the route needs"),
    ]
}


def install_openapi(app: FastAPI, settings: Settings) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title, version=app.version, description=app.description, routes=app.routes
            )
            app.openapi_schema = adjusted(schema, settings)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def adjusted(schema: dict[str, Any], settings: Settings) -> dict[str, Any]:
    scopes: set[str] = set()
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            requirements = operation.get("security")
            if not requirements:
                continue
            needed = {
                scope for requirement in requirements for scope in requirement.get(SCHEME, [])
            }
            if any(SOMETIMES_OPEN[scope](settings) for scope in needed if scope in SOMETIMES_OPEN):
                operation["security"] = []
                continue
            scopes |= needed
            if settings.oidc_issuer_url is not None:
                operation["security"] = [*requirements, {PROVIDER_SCHEME: sorted(needed)}]
            operation.setdefault("responses", {}).update(REFUSALS)
    components = schema.setdefault("components", {})
    components.setdefault("schemas", {}).setdefault("ErrorBody", ERROR_BODY)
    schemes = components.setdefault("securitySchemes", {})
    if SCHEME in schemes:
        password_flow = schemes[SCHEME]["flows"]["password"]
        password_flow["scopes"] = {scope: describe(scope) for scope in sorted(scopes)}
    if settings.oidc_issuer_url is not None:
        url = settings.oidc_issuer_url.rstrip("/") + DISCOVERY
        schemes[PROVIDER_SCHEME] = {"type": "openIdConnect", "openIdConnectUrl": url}
    return schema


def describe(scope: str) -> str:
    subject, _, verb = scope.partition(":")
    return f"{VERBS.get(verb, verb.capitalize())} {subject.replace('_', ' ')}"

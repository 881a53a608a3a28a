"""HTTP caching for read endpoints: a strong ETag, Cache-Control, and 304s.

The ETag is a hash of the exact body bytes, so it changes exactly when the
representation does; a client that sends it back in `If-None-Match` gets a 304
with no body instead of the same JSON again.
"""

from collections.abc import Mapping
from hashlib import blake2b

from fastapi import Request, Response, status


def etag_of(body: bytes) -> str:
    return f'"{blake2b(body, digest_size=16).hexdigest()}"'


def matches(if_none_match: str, etag: str) -> bool:
    return if_none_match.strip() == "*" or etag in (
        tag.strip().removeprefix("W/") for tag in if_none_match.split(",")
    )


def conditional_json(
    request: Request, body: bytes, extra_headers: Mapping[str, str] | None = None
) -> Response:
    """The body as JSON with its ETag, or a 304 if the client already has it."""
    etag = etag_of(body)
    cache_headers = {
        "ETag": etag,
        "Cache-Control": request.app.state.settings.http_cache_control,
        **(extra_headers or {}),
    }
    if_none_match = request.headers.get("if-none-match")
    if if_none_match is not None and matches(if_none_match, etag):
        return Response(status_code=status.HTTP_304_NOT_MODIFIED, headers=cache_headers)
    return Response(body, media_type="application/json", headers=cache_headers)

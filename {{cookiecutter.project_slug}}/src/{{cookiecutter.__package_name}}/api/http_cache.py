"""HTTP caching for reads: an ETag, Cache-Control, and 304s.

The ETag is a hash of the JSON body, so it changes exactly when the content
does; a client that sends it back in `If-None-Match` gets a 304 with no body
instead of the same JSON again. It is weak (`W/"..."`): the same content sent
compressed is other bytes, and a strong validator would have to differ with them
(RFC 9110 §8.8.3), while `If-None-Match` compares weakly anyway.
"""

from hashlib import blake2b

from fastapi import Response, status

from ..caching import Source


def etag_of(body: bytes) -> str:
    return f'W/"{blake2b(body, digest_size=16).hexdigest()}"'


def matches(if_none_match: str, etag: str) -> bool:
    """RFC 9110's weak comparison: the opaque tags are equal, with or without `W/`."""
    opaque = etag.removeprefix("W/")
    return if_none_match.strip() == "*" or opaque in (
        tag.strip().removeprefix("W/") for tag in if_none_match.split(",")
    )


def conditional_json(
    body: bytes, if_none_match: str | None, cache_control: str, source: Source = None
) -> Response:
    """The body as JSON with its ETag, or a 304 if the client already has it."""
    etag = etag_of(body)
    headers = {"ETag": etag, "Cache-Control": cache_control}
    if source is not None:
        headers["X-Cache"] = source
    if if_none_match is not None and matches(if_none_match, etag):
        return Response(status_code=status.HTTP_304_NOT_MODIFIED, headers=headers)
    return Response(body, media_type="application/json", headers=headers)

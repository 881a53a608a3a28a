"""HEAD on every GET route: the GET's status and headers, without its body.

HTTP requires a server to answer HEAD wherever it answers GET (RFC 9110 §9.3.2),
but a FastAPI route answers only the methods it declares, so HEAD would be a 405
everywhere. Here a HEAD request goes on as its GET, and the body is dropped on the
way out (its `Content-Length` stays the GET's, as the RFC asks).
"""

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class HeadMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def without_body(message: Message) -> None:
            if message["type"] == "http.response.body" and message.get("body"):
                message = {**message, "body": b""}
            await send(message)

        await self.app({**scope, "method": "GET"}, receive, without_body)

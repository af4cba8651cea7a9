"""Request guards applied before any route runs: body size (413) and media type (415).

Checked in ASGI middleware so that an oversized body is refused without being
read into memory, whatever the route.
"""

from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.errors import problem_response

JSON_TYPES = ("application/json", "application/merge-patch+json")


class RequestGuardMiddleware:
    def __init__(self, app: ASGIApp, *, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("POST", "PUT", "PATCH"):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        request = Request(scope)
        length = headers.get("content-length")
        if length is not None and length.isdigit() and int(length) > self.max_body_bytes:
            await self._too_large(request, scope, receive, send)
            return
        media_type = headers.get("content-type", "").split(";")[0].strip().lower()
        if media_type not in JSON_TYPES and (length is None or length != "0"):
            response = problem_response(
                request,
                415,
                f"Send the body as application/json (got {media_type or 'no Content-Type'}).",
                code="unsupported_media_type",
            )
            await response(scope, receive, send)
            return

        received = 0
        too_large = False

        async def limited_receive() -> Message:
            nonlocal received, too_large
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body_bytes:
                    # Stop reading: the route sees an empty, final chunk and whatever it
                    # answers is replaced by the 413 below.
                    too_large = True
                    return {"type": "http.request", "body": b"", "more_body": False}
            return message

        async def guarded_send(message: Message) -> None:
            if not too_large:
                await send(message)

        await self.app(scope, limited_receive, guarded_send)
        if too_large:
            await self._too_large(request, scope, receive, send)

    async def _too_large(
        self, request: Request, scope: Scope, receive: Receive, send: Send
    ) -> None:
        response = problem_response(
            request,
            413,
            f"The request body is larger than {self.max_body_bytes} bytes "
            "(ECONFACTS_MAX_BODY_BYTES).",
            code="body_too_large",
        )
        await response(scope, receive, send)

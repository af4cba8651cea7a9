"""The floor: the least an ASGI app served by uvicorn can do for one of our requests.

It answers every HTTP request with fixed bytes (the exact body of the service's
filtered-list response, with the same content type), so `wrk` against it measures
uvicorn, the event loop and the network stack alone. bench/run.py writes the body to a
file and starts it like the service (one worker, no access log):

    BENCH_FLOOR_BODY=body.json python -m uvicorn floor:app --app-dir bench --port 8001
"""

import os
from pathlib import Path
from typing import Any

BODY = Path(os.environ["BENCH_FLOOR_BODY"]).read_bytes()
CONTENT_TYPE = os.environ.get("BENCH_FLOOR_CONTENT_TYPE", "application/json").encode("latin-1")
START = {
    "type": "http.response.start",
    "status": 200,
    "headers": [(b"content-type", CONTENT_TYPE), (b"content-length", str(len(BODY)).encode())],
}
RESPONSE_BODY = {"type": "http.response.body", "body": BODY}


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    if scope["type"] != "http":
        return
    await send(START)
    await send(RESPONSE_BODY)

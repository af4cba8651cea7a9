"""Response helpers shared by every write route: 201 with Location, ETag on items."""

import re
from typing import Any

from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel

from app.errors import bad_param, problem_responses
from app.http.conditional import etag_of, require_if_match

IF_MATCH_PATTERN = r'^\s*(\*|(W/)?"[^"]*"(\s*,\s*(W/)?"[^"]*")*)\s*$'
"""RFC 9110's If-Match: `*` or a list of entity tags (`"..."`, weak `W/"..."`). Only the
record's own strong ETag (or `*`) passes the precondition; any other tag is a 412."""
_IF_MATCH = re.compile(IF_MATCH_PATTERN)


def check_if_match(
    if_match: str | None, current: BaseModel | None = None, *, etag: str | None = None
) -> None:
    """The precondition of a conditional write, once the record is known (so a missing
    record is a 404 first): 428 without If-Match; 400 if it is no list of entity tags at all
    (RFC 9110), saying what to send; 412 unless it holds the record's ETag or is `*`."""
    if if_match is not None and not _IF_MATCH.match(if_match):
        raise bad_param(
            "If-Match",
            "not an entity tag: send the ETag header of your last GET as it came (a quoted "
            'hex digest, e.g. "0123456789abcdef0123456789abcdef"), or *',
        )
    require_if_match(if_match, current, etag=etag)


WRITE_ERRORS = problem_responses(400, 401, 403, 409, 415, 422)
UPDATE_ERRORS = problem_responses(400, 401, 403, 404, 409, 412, 415, 422, 428)


def item_json(
    item: BaseModel, *, status: int = 200, location: str | None = None, etag: str | None = None
) -> JSONResponse:
    """The item as JSON with its ETag (`etag`, or that of the item itself)."""
    headers = {"ETag": etag or etag_of(item)}
    if location:
        headers["Location"] = location
    return JSONResponse(jsonable_encoder(item), status_code=status, headers=headers)


def stored_json(
    body: str | bytes, *, headers: dict[str, str] | None = None, status: int = 200
) -> Response:
    """JSON that is already made (stored fact documents, pages of them), sent as it is:
    no model is built or validated for it on the way out."""
    content = body.encode() if isinstance(body, str) else body
    return Response(content, status_code=status, media_type="application/json", headers=headers)


def created_responses(model: type[BaseModel]) -> dict[int | str, dict[str, Any]]:
    return {
        201: {
            "model": model,
            "description": "Created. `Location` is its URL and `ETag` its version.",
            "headers": {
                "Location": {"schema": {"type": "string"}, "description": "URL of the record."},
                "ETag": {"schema": {"type": "string"}, "description": "Its strong ETag."},
            },
        },
        **WRITE_ERRORS,
    }

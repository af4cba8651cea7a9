"""Response helpers shared by every write route: 201 with Location, ETag on items."""

from typing import Any

from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from app.caching import etag_of
from app.errors import problem_responses

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

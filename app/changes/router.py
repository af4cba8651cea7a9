"""GET /v1/changes: sync only what changed."""

from typing import Annotated

from fastapi import APIRouter, Request

from app.auth.service import EditorialDep
from app.changes import service
from app.changes.schemas import ChangePage, ChangeQuery
from app.db import SessionDep, TransactionRoute
from app.errors import bad_param, problem_responses
from app.http.query import QueryOf
from app.pagination import Cursor, decode_cursor, encode_cursor

router = APIRouter(route_class=TransactionRoute, prefix="/changes", tags=["changes"])
_FEED = "changes"


@router.get(
    "",
    response_model=ChangePage,
    summary="Follow the change feed",
    description="Creations, updates, retractions, publications and rejections in commit order. "
    "Call with no `since` to start, then always with the `next` you got: no change is skipped "
    "or repeated, even while writes continue. Poll when `has_more` is false. Changes that "
    "made a draft or a rejected revision are listed only for keys of scope write or admin.",
    responses=problem_responses(400, 401, 403),
)
def list_changes(
    request: Request,
    session: SessionDep,
    query: Annotated[ChangeQuery, QueryOf(ChangeQuery)],
    editorial: EditorialDep,
) -> ChangePage:
    settings = request.app.state.settings
    limit = query.limit if query.limit is not None else settings.page_size_default
    if limit > settings.page_size_max:
        raise bad_param("limit", f"must be between 1 and {settings.page_size_max}")
    position = 0
    if query.since is not None:
        cursor = decode_cursor(settings.cursor_secret, _FEED, query.since, param="since")
        if not isinstance(cursor.key, int) or cursor.sort != _FEED:
            raise bad_param("since", "not a change-feed position; pass back `next` unchanged")
        position = cursor.key
    items, last, has_more = service.list_changes(
        session, query=query, position=position, limit=limit, editorial=editorial
    )
    token = encode_cursor(settings.cursor_secret, _FEED, Cursor(sort=_FEED, key=last, id=""))
    return ChangePage(items=items, next=token, has_more=has_more)

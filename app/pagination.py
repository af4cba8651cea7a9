"""Keyset pagination: opaque signed cursors, Page[T], and the RFC 8288 Link header.

A cursor records the sort key and id of the last row served, so the next page
is an index seek (`WHERE (key, id) > (last_key, last_id)`): page 1,000 costs
the same as page 1. Cursors are signed and bound to the query that made them,
so a tampered cursor, or one reused with other filters, is a clear 400.
"""

import base64
import binascii
import collections
import functools
import hashlib
import hmac
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, Literal, Protocol, TypeVar

from fastapi import Request, Response
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter
from sqlalchemy import Select, literal, tuple_
from sqlmodel import Session

from app.errors import bad_param
from app.http.formats import CSV, CSV_MEDIA_TYPE, csv_response, csv_stream, wants
from app.http.responses import stored_json

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)


class ListQuery(BaseModel):
    """Paging parameters every list shares."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    limit: int | None = Field(
        None,
        ge=1,
        description="Page size; default 50, at most 500 (the server's PAGE_SIZE_MAX; above "
        "it, 400). With CSV and no `limit`, every matching row comes in one streamed answer.",
    )
    cursor: str | None = Field(
        None, min_length=1, description="The `next` value of the previous page."
    )
    format: Literal["json", "csv"] | None = Field(
        None,
        description="`csv` for CSV with a header row (or send `Accept: text/csv`). A CSV "
        "request without `limit` answers **every** matching row (from `cursor`, if given), "
        "streamed in constant memory, so `pandas.read_csv(url)` gets the whole result; with "
        '`limit` it is that page, and the `Link: rel="next"` header points to the next.',
    )

    def filters(self) -> dict[str, Any]:
        """The parameters a cursor is bound to: everything but paging and format."""
        return self.model_dump(exclude={"limit", "cursor", "format"}, mode="json")


class NoQuery(BaseModel):
    """For item routes without query parameters: any parameter given is a 400 that names it."""

    model_config = ConfigDict(extra="forbid")


class Page(BaseModel, Generic[T]):
    items: list[T]
    next: str | None = Field(
        description="Cursor for the next page (pass it as `cursor`), or null on the last page."
    )
    limit: int = Field(description="The page size used.")


@dataclass(frozen=True)
class SortKey:
    """One way a list can be ordered: the SQL expression and how to read a cursor value back."""

    expression: Any
    decode: Callable[[Any], Any] = lambda v: v


@dataclass(frozen=True)
class Cursor:
    sort: str
    key: Any
    id: str


def _sign(secret: str, payload: bytes) -> bytes:
    return hmac.new(secret.encode(), payload, hashlib.sha256).digest()[:12]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def query_fingerprint(params: dict[str, Any]) -> str:
    """A short digest of the filters (not limit or cursor) a cursor belongs to."""
    canonical = json.dumps(params, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def _portable_key(key: Any) -> Any:
    return key if key is None or isinstance(key, int) else str(key)


def _as_decoded(cursor: Cursor) -> Cursor:
    """A cursor as a client's would come back: its key as the token carries it."""
    return Cursor(sort=cursor.sort, key=_portable_key(cursor.key), id=cursor.id)


def encode_cursor(secret: str, fingerprint: str, cursor: Cursor) -> str:
    key = _portable_key(cursor.key)
    payload = json.dumps(
        {"s": cursor.sort, "f": fingerprint, "k": key, "i": cursor.id}, separators=(",", ":")
    ).encode()
    return f"{_b64(payload)}.{_b64(_sign(secret, payload))}"


def decode_cursor(secret: str, fingerprint: str, token: str, *, param: str = "cursor") -> Cursor:
    invalid = bad_param(param, "not a cursor this API issued; pass back the `next` value unchanged")
    try:
        body, signature = token.split(".", 1)
        payload = _unb64(body)
        if not hmac.compare_digest(_sign(secret, payload), _unb64(signature)):
            raise invalid
        data = json.loads(payload)
        cursor = Cursor(sort=str(data["s"]), key=data["k"], id=str(data["i"]))
        same_query = data["f"] == fingerprint
    except (ValueError, KeyError, TypeError, binascii.Error, UnicodeDecodeError):
        raise invalid from None
    if not same_query:
        raise bad_param(
            param, "this cursor belongs to a query with other filters or sort; start again"
        )
    return cursor


def keyset_page(
    session: Session,
    stmt: Select[Any],
    *,
    sort_name: str,
    sort: SortKey,
    id_column: Any,
    descending: bool,
    limit: int,
    after: Cursor | None,
    orm: bool = True,
) -> tuple[Sequence[Any], Cursor | None]:
    """Run `stmt` for one page; return its rows and the cursor after the last one.

    With orm=False, `stmt` selects table columns and runs on the session's connection
    without the ORM: plain records come back, read by attribute like the model, without
    the cost of building ORM objects (most of a page's time before)."""
    key = sort.expression
    if after is not None:
        last_key = sort.decode(after.key)
        # A row-value comparison, which both SQLite and PostgreSQL turn into an index range.
        position = tuple_(key, id_column)
        bound = tuple_(literal(last_key, type_=key.type), literal(after.id))
        stmt = stmt.where(position < bound if descending else position > bound)
    order = (key.desc(), id_column.desc()) if descending else (key.asc(), id_column.asc())
    stmt = stmt.add_columns(key.label("_sort_key")).order_by(*order).limit(limit + 1)
    rows = (session.execute(stmt) if orm else session.connection().execute(stmt)).all()
    has_more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = None
    if has_more and rows:
        last = rows[-1]
        next_cursor = Cursor(sort=sort_name, key=last[-1], id=str(last[0].id if orm else last.id))
    if orm:
        return [row[0] for row in rows], next_cursor
    record = _record_type(tuple(rows[0]._fields)) if rows else None
    return [record._make(row) for row in rows] if record else [], next_cursor


@functools.lru_cache(maxsize=64)
def _record_type(fields: tuple[str, ...]) -> Any:
    """A namedtuple for a plain row: SQLAlchemy's Row looks attributes up by key each time,
    and rendering a page reads some 50 attributes per row (3 ms of a 50-row page)."""
    return collections.namedtuple("Record", fields, rename=True)


def set_link_header(request: Request, response: Response, next_token: str | None) -> None:
    """RFC 8288: `Link: <url-of-next-page>; rel="next"` when there is a next page."""
    if next_token is None:
        return
    url = request.url.include_query_params(cursor=next_token)
    response.headers["Link"] = f'<{url}>; rel="next"'


class PageRun(Protocol[T_co]):
    """A list service: one page of `query`'s results after a cursor, and the cursor after
    the last item. Items are models, or stored JSON documents sent as they are."""

    def __call__(
        self, session: Session, *, query: Any, limit: int, after: Cursor | None
    ) -> tuple[Sequence[T_co], Cursor | None]: ...


def paginate(
    request: Request,
    response: Response,
    query: Any,
    run: PageRun[T],
    *,
    session: Session,
    model: type[BaseModel],
) -> Any:
    """Resolve limit and cursor for a list query, run it, and set the Link header.

    `query` is a ListQuery: its `filters()` are what the cursor is bound to. Answers
    a Page, or CSV when asked for (columns from `model`): without an explicit `limit`,
    every matching row, streamed a batch at a time, each batch in a short session of its
    own (constant memory, no transaction held while the client reads); with one, that
    page and its Link header.
    """
    settings = request.app.state.settings
    if query.limit is not None and query.limit > settings.page_size_max:
        raise bad_param("limit", f"must be between 1 and {settings.page_size_max}")
    fingerprint = query_fingerprint({"path": request.url.path, **query.filters()})
    after = (
        decode_cursor(settings.cursor_secret, fingerprint, query.cursor) if query.cursor else None
    )
    as_csv = wants(request, CSV, query.format)
    if as_csv and query.limit is None:
        return _csv_everything(request, run, query, session, after, model=model)
    limit = query.limit if query.limit is not None else settings.page_size_default
    items, next_cursor = run(session, query=query, limit=limit, after=after)
    token = encode_cursor(settings.cursor_secret, fingerprint, next_cursor) if next_cursor else None
    set_link_header(request, response, token)
    link = {"Link": response.headers["Link"]} if "Link" in response.headers else {}
    if as_csv:
        return csv_response(model, _models(model, items), link)
    if items and isinstance(items[0], str):
        return stored_json(page_json(items, token, limit), headers=link)  # type: ignore[arg-type]
    return Page(items=items, next=token, limit=limit)


def page_json(documents: Sequence[str], token: str | None, limit: int) -> bytes:
    """A Page made of stored JSON documents: the bytes are joined, not re-encoded."""
    tail = json.dumps({"next": token, "limit": limit}, separators=(",", ":"))
    return ('{"items":[' + ",".join(documents) + "]," + tail[1:]).encode()


def _models(model: type[BaseModel], items: Sequence[Any]) -> list[Any]:
    """Items as models: stored JSON documents are parsed (for CSV columns)."""
    if items and isinstance(items[0], str):
        return TypeAdapter(list[model]).validate_json("[" + ",".join(items) + "]")  # type: ignore[valid-type]
    return list(items)


def _csv_everything(
    request: Request,
    run: PageRun[T],
    query: Any,
    session: Session,
    after: Cursor | None,
    *,
    model: type[BaseModel],
) -> StreamingResponse:
    """Every row from `after` on, as one streamed CSV. The first batch runs now, in the
    request's session, so a bad filter is still a problem+json answer, not a broken stream."""
    batch = request.app.state.settings.page_size_max
    engine = request.app.state.engine
    first, cursor = run(session, query=query, limit=batch, after=after)

    def batches() -> Any:
        nonlocal cursor
        yield _models(model, first)
        while cursor is not None:
            with Session(engine) as own:
                items, cursor = run(own, query=query, limit=batch, after=_as_decoded(cursor))
            yield _models(model, items)

    return StreamingResponse(csv_stream(model, batches()), media_type=CSV_MEDIA_TYPE)

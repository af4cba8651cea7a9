"""One fact, several views: /v1/facts/{id} and, for a fact of kind agreement,
/v1/agreements/{id}.

Both views are shapes of the same record, so they share what belongs to the record
rather than to a shape:

- its ETag: the strong ETag of the fact's stored document (its FactPublic JSON) at that
  revision, whichever view sends it. An ETag read from either view is accepted by the writes of
  either view, and a stale one (another revision) is refused by both with 412. It changes
  with every revision, and also when something the fact shows changes in place (an
  entity's name, say: the document is made again), so that If-None-Match never answers 304
  to an outdated body.
  An `as_of` read gets the ETag of the revision it shows.
- its status routes (retract, publish, reject): one implementation, mounted on each view's
  router, answering in that view's shape.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Body, Path, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlmodel import Session

from app.auth.service import WriterDep
from app.db import WriteSessionDep
from app.facts.models import Fact
from app.facts.schemas import FactPublic, ReasonIn
from app.facts.shape import public_facts
from app.http.conditional import IfMatch, strong_etag, with_etag
from app.http.responses import UPDATE_ERRORS, check_if_match, item_json, stored_json
from app.strict import Strict
from app.versioning import Action, change_status


class PublishIn(Strict):
    """The optional body of a publish: approving a draft needs no justification."""

    reason: str | None = Field(
        None,
        min_length=1,
        max_length=2000,
        description="Optional note kept with the new revision (e.g. what was checked). "
        "The whole body may be left out.",
        examples=["Checked against the article."],
    )


NO_NOTE = PublishIn()
"""A publish without a body: as `{}`."""


@dataclass(frozen=True)
class FactView:
    """How one router shows facts: its noun, path parameter, shape and which facts it has."""

    noun: str
    """`fact` or `agreement`: used in the docs."""
    id_name: str
    """The path parameter, e.g. `fact_id`."""
    id_example: str
    model: type[BaseModel]
    load: Callable[[Session, str], Fact]
    """The current revision of a record of this view, or a 404 problem (e.g. for a fact that
    is not an agreement)."""
    shape: Callable[[FactPublic], Any] | None
    """FactPublic -> this view's representation; None: the stored document as it is."""

    def render(self, session: Session, fact: Fact) -> tuple[Any, str]:
        """This view's representation of a revision, and the record's ETag."""
        public = public_facts([fact])[0]
        return (self.shape(public) if self.shape else public), record_etag(fact)

    def read(self, response: Response, session: Session, fact: Fact) -> Any:
        """For item GETs: the representation, with the record's ETag set on the response
        (the fact view sends the stored document's bytes)."""
        if self.shape is None:
            return stored_json(fact.document, headers={"ETag": record_etag(fact)})
        item, etag = self.render(session, fact)
        return with_etag(response, item, etag=etag)

    def answer(
        self, session: Session, fact: Fact, *, status: int = 200, location: str | None = None
    ) -> JSONResponse:
        """For writes: the written revision in this view's shape, with the record's ETag."""
        item, etag = self.render(session, fact)
        return item_json(item, status=status, location=location, etag=etag)

    def check_if_match(self, session: Session, if_match: str | None, current: Fact) -> None:
        """428 without If-Match, 412 unless it is the record's ETag (from any view)."""
        check_if_match(if_match, etag=record_etag(current))


def record_etag(fact: Fact) -> str:
    """The ETag of a fact, in every view of it (see the module docstring)."""
    return strong_etag(fact.document.encode())


_NOTE_EXAMPLES: dict[Action, dict[str, Any]] = {
    Action.retract: {
        "reason": {
            "summary": "Why it is withdrawn (required)",
            "value": {"reason": "Superseded by a newer figure."},
        }
    },
    Action.publish: {
        "note": {
            "summary": "With a note (optional)",
            "value": {"reason": "Checked against the article."},
        },
        "empty": {"summary": "Without a note: `{}`, or no body at all", "value": {}},
    },
    Action.reject: {
        "reason": {
            "summary": "Why it is turned down (required)",
            "value": {"reason": "The figure is an estimate, not a reported amount."},
        }
    },
}


Apply = Callable[[str, str | None, str, Session, str | None], JSONResponse]
"""(record id, reason, caller's key name, session, If-Match) -> the written revision."""


def status_endpoint(action: Action, record_id: Any, apply: Apply) -> Callable[..., JSONResponse]:
    """The endpoint of one status action, for any resource (facts in their views, quotes):
    publish takes an optional note, retract and reject a required reason. `record_id` is the
    annotated type of the path parameter."""
    if action is Action.publish:

        def publish(
            ident: record_id,
            caller: WriterDep,
            session: WriteSessionDep,
            body: Annotated[PublishIn, Body(openapi_examples=_NOTE_EXAMPLES[action])] = NO_NOTE,
            if_match: IfMatch = None,
        ) -> JSONResponse:
            return apply(ident, body.reason, caller.name, session, if_match)

        return publish

    def with_reason(
        ident: record_id,
        caller: WriterDep,
        session: WriteSessionDep,
        body: Annotated[ReasonIn, Body(openapi_examples=_NOTE_EXAMPLES[action])],
        if_match: IfMatch = None,
    ) -> JSONResponse:
        return apply(ident, body.reason, caller.name, session, if_match)

    return with_reason


def status_route(
    router: APIRouter, view: FactView, action: Action, *, summary: str, description: str
) -> None:
    """Mount `POST /{id}/{action}` for `view` on `router`: the same If-Match rules, revision
    (with the caller's key name as actor, and the reason) and errors for every view."""
    record_id = Annotated[str, Path(alias=view.id_name, examples=[view.id_example])]

    def apply(
        ident: str, reason: str | None, caller_name: str, session: Session, if_match: str | None
    ) -> JSONResponse:
        current = view.load(session, ident)
        view.check_if_match(session, if_match, current)
        fact = change_status(
            session,
            current,
            resource="fact",  # every view is of a fact: the feed and history say so
            action=action,
            actor=caller_name,
            reason=reason,
        )
        return view.answer(session, fact)

    router.add_api_route(
        f"/{{{view.id_name}}}/{action.value}",
        status_endpoint(action, record_id, apply),
        methods=["POST"],
        response_model=view.model,
        summary=summary,
        description=description,
        responses=UPDATE_ERRORS,
        name=f"{action.value}_{view.noun}",
    )


def status_routes(router: APIRouter, view: FactView, *, retract: str = "") -> None:
    """Retract, publish and reject for `view`, documented alike; `retract` adds to the
    retract description (what withdrawing means for this view)."""
    noun = view.noun
    status_route(
        router,
        view,
        Action.retract,
        summary=f"Retract {_a(noun)}",
        description=f"Withdraw a published {noun}. Body: `reason` (required, 1 to "
        "2000 characters), kept with the new revision. It leaves default lists but stays "
        f"readable by id, in its revisions and in `as_of` reads of the time before.{retract} "
        "Needs `If-Match` with its ETag (428 without, 412 if stale); 409 if it is a draft "
        "(reject a draft instead: drafts stay private), already retracted or rejected.",
    )
    status_route(
        router,
        view,
        Action.publish,
        summary=f"Publish a draft {noun}",
        description=f"An editor approves a draft {noun} (e.g. an extraction candidate): a new "
        "revision with status `published`, by the reviewer's key. The body is optional: "
        '`{}`, no body at all, or `{"reason": "..."}` to keep a note with the revision. '
        "Needs `If-Match` with its ETag (428 without, 412 if stale); 409 unless it is a "
        "draft.",
    )
    status_route(
        router,
        view,
        Action.reject,
        summary=f"Reject a draft {noun}",
        description=f"An editor turns down a draft {noun}: a new revision with status "
        "`rejected`; it stays readable by id and in its history, and out of default lists. "
        "Body: `reason` (required, 1 to 2000 characters: say why), kept with the revision; "
        "without it, 422 naming `body.reason`. Needs `If-Match` with its ETag (428 without, "
        "412 if stale); 409 unless it is a draft.",
    )


def _a(noun: str) -> str:
    return f"an {noun}" if noun[0] in "aeiou" else f"a {noun}"

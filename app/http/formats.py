"""Other representations of the same data: CSV for lists, JSON-LD for items.

CSV columns come from the response model's fields, flattened with dots
(`quantity.value`, `quantity.hedge`, `time.start`), so the column order is
stable and documented by the schema itself, and hedges and periods keep their
own columns. JSON-LD uses schema.org: a fact is a `Claim`, a quote a
`Quotation`, both `isBasedOn` the source article.
"""

import csv
import datetime as dt
import io
import json
import types
import typing
from collections.abc import Iterable, Iterator
from decimal import Decimal
from typing import Any

from fastapi import Request
from fastapi.responses import Response
from pydantic import BaseModel

CSV = "text/csv"
JSON_LD = "application/ld+json"


def wants(request: Request, media_type: str, query_format: str | None = None) -> bool:
    """`format=` wins; otherwise the Accept header, when it names the type before JSON."""
    if query_format is not None:
        return {"csv": CSV, "jsonld": JSON_LD, "json": "application/json"}[query_format] == (
            media_type
        )
    accept = request.headers.get("accept", "")
    if media_type not in accept:
        return False
    json_at = accept.find("application/json")
    return json_at < 0 or accept.find(media_type) < json_at


def _model_of(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        for arg in typing.get_args(annotation):
            model = _model_of(arg)
            if model is not None:
                return model
    return None


def columns(model: type[BaseModel], prefix: str = "") -> list[str]:
    """Dotted column names for a model, nested models flattened, in field order."""
    return [name for name, _ in _leaves(model, prefix)]


_NUMERIC = (int, float, Decimal, bool, dt.date, dt.datetime)


def _leaves(model: type[BaseModel], prefix: str = "") -> list[tuple[str, bool]]:
    """(column, is it a number or a date) for every leaf field of a model."""
    out: list[tuple[str, bool]] = []
    for name, field in model.model_fields.items():
        key = field.alias or name
        nested = _model_of(field.annotation)
        if nested is not None:
            out.extend(_leaves(nested, f"{prefix}{key}."))
        else:
            out.append((f"{prefix}{key}", _is_numeric(field.annotation)))
    return out


def _is_numeric(annotation: Any) -> bool:
    args = typing.get_args(annotation)
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        members = [a for a in args if a is not type(None)]
        return bool(members) and all(_is_numeric(a) for a in members)
    return isinstance(annotation, type) and issubclass(annotation, _NUMERIC)


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""A spreadsheet reads a cell that starts with one of these as a formula (OWASP "CSV
Injection"). Statements, quotes and titles are outside text, so such a text cell is
written with a leading apostrophe, which spreadsheets show as text; numeric and date
columns are written as they are (a percent change of -7.1 stays -7.1)."""


def _neutralise(text: str) -> str:
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return "; ".join(
            str(v["id"]) if isinstance(v, dict) and "id" in v else _cell(v) for v in value
        )
    if isinstance(value, dict):
        return str(value["id"]) if "id" in value else json.dumps(value, ensure_ascii=False)
    return str(value)


def _lookup(row: dict[str, Any], path: str) -> Any:
    value: Any = row
    for part in path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


class CsvWriter:
    """CSV rows for a model: the header from its fields, then one row per item."""

    def __init__(self, model: type[BaseModel]) -> None:
        self.leaves = _leaves(model)

    def _render(self, rows: Iterable[list[str]]) -> str:
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\r\n").writerows(rows)
        return buffer.getvalue()

    def header(self) -> str:
        return self._render([[name for name, _ in self.leaves]])

    def rows(self, items: Iterable[Any]) -> str:
        out = []
        for item in items:
            data = item.model_dump(mode="json", by_alias=True)
            out.append(
                [
                    cell if numeric else _neutralise(cell)
                    for name, numeric in self.leaves
                    for cell in (_cell(_lookup(data, name)),)
                ]
            )
        return self._render(out)


CSV_MEDIA_TYPE = f"{CSV}; charset=utf-8"


def csv_response(model: type[BaseModel], items: list[Any], headers: dict[str, str]) -> Response:
    """One page (or one document, e.g. a series) as CSV."""
    writer = CsvWriter(model)
    return Response(
        writer.header() + writer.rows(items), media_type=CSV_MEDIA_TYPE, headers=headers
    )


def csv_stream(model: type[BaseModel], batches: Iterator[list[Any]]) -> Iterator[bytes]:
    """The header, then each batch of items as CSV, as they come: constant memory."""
    writer = CsvWriter(model)
    yield writer.header().encode()
    for batch in batches:
        yield writer.rows(batch).encode()


# --- JSON-LD --------------------------------------------------------------------------------


def _article(source: Any, base: str) -> dict[str, Any]:
    return {
        "@type": "NewsArticle",
        "@id": f"{base}/v1/sources/{source.id}",
        "url": source.url,
        "headline": source.title,
        "datePublished": source.published.isoformat(),
        "publisher": {"@type": "Organization", "name": source.outlet.name},
        "inLanguage": source.language,
    }


def _person(ref: Any, role: str | None) -> dict[str, Any] | None:
    if ref is None:
        return None
    person: dict[str, Any] = {"@type": "Person", "name": ref.name, "identifier": ref.id}
    if role:
        person["jobTitle"] = role
    return person


def fact_jsonld(fact: Any, source: Any, base: str) -> dict[str, Any]:
    article = _article(source, base)
    claim: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "Claim",
        "@id": f"{base}/v1/facts/{fact.id}",
        "identifier": fact.id,
        "text": fact.statement,
        "about": [
            {"@type": "Country", "name": c.name, "identifier": c.code}
            for c in (fact.subject, fact.counterpart)
            if c is not None
        ],
        "isBasedOn": article,
        "appearance": {
            "@type": "Quotation",
            "text": fact.evidence.text,
            "isPartOf": article,
        },
        "dateModified": fact.updated_at.isoformat(),
    }
    author = _person(fact.claimed_by, fact.claimed_by.role if fact.claimed_by else None)
    if author:
        claim["author"] = author
    if fact.time is not None:
        claim["temporalCoverage"] = fact.time.date or f"{fact.time.start}/{fact.time.end}"
    return claim


def quote_jsonld(quote: Any, source: Any, base: str) -> dict[str, Any]:
    article = _article(source, base)
    return {
        "@context": "https://schema.org",
        "@type": "Quotation",
        "@id": f"{base}/v1/quotes/{quote.id}",
        "identifier": quote.id,
        "text": quote.text,
        "creator": _person(quote.speaker, quote.speaker.role),
        "spokenByCharacter": _person(quote.speaker, quote.speaker.role),
        "datePublished": quote.date,
        "isBasedOn": article,
        "isPartOf": article,
    }


def source_jsonld(source: Any, base: str) -> dict[str, Any]:
    return {"@context": "https://schema.org", **_article(source, base), "text": source.text}


JSON_LD_RESPONSE = {
    "content": {
        JSON_LD: {
            "schema": {"type": "object"},
            "example": {"@context": "https://schema.org", "@type": "Claim", "text": "..."},
        }
    }
}
"""OpenAPI: a 200 may also be JSON-LD, with Accept: application/ld+json."""


def jsonld_response(document: dict[str, Any]) -> Response:
    return Response(
        json.dumps(document, ensure_ascii=False, default=str),
        media_type=JSON_LD,
        headers={"Vary": "Accept"},
    )


def base_url(request: Request) -> str:
    return str(request.base_url).rstrip("/")

"""Query-string models, parsed by one pydantic call.

FastAPI reads a query model (`Annotated[FactQuery, QueryOf(FactQuery)]`) field by field, inspecting
each field's type on every request: measured on GET /v1/facts, that was about 40% of an
uncached list's time (0.55 ms a request for FactQuery in a bare app, against 0.02 ms for
FactQuery.model_validate). `QueryOf(FactQuery)` reads the query string the same way (a
repeatable field takes every value, any other the last; an unknown parameter goes to the
model, whose `extra="forbid"` refuses it) and validates it in one call; errors are the
same RequestValidationError, located in `query`. The OpenAPI document still shows the
model's parameters exactly as FastAPI would: app.openapi asks FastAPI for them
(`documented_parameters`).
"""

import copy
import functools
import types
import typing
from typing import Annotated, Any, TypeVar

from fastapi import Depends, FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError

M = TypeVar("M", bound=BaseModel)


def _repeatable(annotation: Any) -> bool:
    """list[...] (or list[...] | None): the parameter may be given several times."""
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return any(_repeatable(arg) for arg in typing.get_args(annotation))
    if typing.get_origin(annotation) is Annotated:
        return _repeatable(typing.get_args(annotation)[0])
    return typing.get_origin(annotation) in (list, set, tuple) or annotation in (list, set)


class QueryParser:
    """The dependency that makes one query model from the query string."""

    def __init__(self, model: type[BaseModel]) -> None:
        self.model = model
        self.fields = [
            (field.alias or name, _repeatable(field.annotation))
            for name, field in model.model_fields.items()
        ]
        self.names = {alias for alias, _ in self.fields}

    async def __call__(self, request: Request) -> Any:
        # Async: parsing is quick, and a sync dependency would cost a trip to the thread pool.
        query = request.query_params
        values: dict[str, Any] = {}
        for alias, repeatable in self.fields:
            if repeatable:
                given = query.getlist(alias)
                if given:
                    values[alias] = given
            elif alias in query:
                values[alias] = query[alias]
        for key in query:
            if key not in self.names:  # for the model's extra policy to refuse
                given = query.getlist(key)
                values[key] = given[0] if len(given) == 1 else given
        try:
            return self.model.model_validate(values)
        except ValidationError as exc:
            errors = exc.errors(include_url=False)
            raise RequestValidationError(
                [{**error, "loc": ("query", *error["loc"])} for error in errors]
            ) from None


def QueryOf(model: type[M]) -> Any:
    """`query: Annotated[FactQuery, QueryOf(FactQuery)]`."""
    return Depends(_parser(model))


@functools.cache
def _parser(model: type[BaseModel]) -> QueryParser:
    return QueryParser(model)


@functools.cache
def documented_parameters(model: type[BaseModel]) -> tuple[list[Any], dict[str, Any]]:
    """The OpenAPI parameters FastAPI documents for `model` as a query model, and the
    component schemas they refer to: from a one-route app of FastAPI's own."""
    docs = FastAPI()

    @docs.get("/")
    def endpoint(query: Annotated[model, Query()]) -> None:  # type: ignore[valid-type]
        """Never called: only documented."""

    spec = docs.openapi()
    parameters = spec["paths"]["/"]["get"].get("parameters", [])
    return parameters, spec.get("components", {}).get("schemas", {})


def query_models(routes: Any) -> dict[str, type[BaseModel]]:
    """Operation id (the route's name) -> the query model the route reads with QueryOf,
    over every route, included routers too."""
    found: dict[str, type[BaseModel]] = {}
    stack = list(routes)
    while stack:
        route = stack.pop()
        nested = getattr(getattr(route, "original_router", None), "routes", None)
        if nested is not None:
            stack.extend(nested)
            continue
        model = query_model_of(route)
        if model is not None:
            found[route.name] = model
    return found


def document_query_models(schema: dict[str, Any], routes: Any) -> None:
    """Put each QueryOf model's parameters into its operations, where FastAPI puts a query
    model's (after the path parameters), and the schemas they refer to into components."""
    models = query_models(routes)
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            model = models.get(operation.get("operationId"))
            if model is None:
                continue
            parameters, schemas = documented_parameters(model)
            existing = operation.get("parameters", [])
            path = [p for p in existing if p.get("in") == "path"]
            rest = [p for p in existing if p.get("in") != "path"]
            operation["parameters"] = [*path, *copy.deepcopy(parameters), *rest]
            for name, definition in schemas.items():
                components.setdefault(name, copy.deepcopy(definition))


def query_model_of(route: Any) -> type[BaseModel] | None:
    """The query model a route reads with QueryOf, if any."""
    dependant = getattr(route, "dependant", None)
    stack = [dependant] if dependant is not None else []
    while stack:
        dep = stack.pop()
        if isinstance(dep.call, QueryParser):
            return dep.call.model
        stack.extend(dep.dependencies)
    return None

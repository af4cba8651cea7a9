"""The base of every request body: unknown fields and NUL characters are refused."""

from collections.abc import Callable
from typing import Any

from pydantic import BaseModel, ConfigDict, field_validator


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, list | tuple):
        return any(_has_nul(item) for item in value)
    return False


class NoNul(BaseModel):
    """A NUL character (which PostgreSQL cannot store and SQLite truncates at) in any field
    is a 422 naming it, never a database error."""

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        if _has_nul(value):
            raise ValueError("a NUL character is not allowed")
        return value


class Strict(NoNul):
    """A typo, an `id` or a `status` in a body is a 422 naming it, never silently ignored;
    a NUL character likewise."""

    model_config = ConfigDict(extra="forbid")


def not_null(*names: str, examples: list[Any] | None = None) -> Callable[[dict[str, Any]], None]:
    """`json_schema_extra` for update bodies: these fields may be left out but not sent as
    null (the record must keep a value; null is a 422), so the schema says so."""

    def extra(schema: dict[str, Any]) -> None:
        for name in names:
            prop = schema.get("properties", {}).get(name)
            if not prop or "anyOf" not in prop:
                continue
            branches = [b for b in prop.pop("anyOf") if b.get("type") != "null"]
            if len(branches) == 1:
                prop.update(branches[0])
            else:
                prop["anyOf"] = branches
            prop.pop("default", None)
        if examples is not None:
            schema["examples"] = examples

    return extra

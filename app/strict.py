"""The base of every request body: unknown fields and NUL characters are refused."""

from typing import Any

from pydantic import BaseModel, ConfigDict, field_validator


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, list | tuple):
        return any(_has_nul(item) for item in value)
    return False


class Strict(BaseModel):
    """A typo, an `id` or a `status` in a body is a 422 naming it, never silently ignored;
    a NUL character (which PostgreSQL cannot store and SQLite truncates at) likewise."""

    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        if _has_nul(value):
            raise ValueError("a NUL character is not allowed")
        return value

"""Jinja2 templates, loaded with the first page that needs them rather than when the app
starts (Jinja2 is some 30 ms of start-up that API-only traffic never needs)."""

import functools
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fastapi.templating import Jinja2Templates


@functools.cache
def templates_in(directory: str) -> "Jinja2Templates":
    """The templates of one folder, made once per process."""
    from fastapi.templating import Jinja2Templates

    return Jinja2Templates(directory=directory)

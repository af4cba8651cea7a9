"""Reduced-precision ISO dates ("2019", "2024-07", "2025-04-28") and what they cover.

A fact's time keeps the precision its source gave: "in 2019" is the year 2019,
not 1 January 2019. We store the first and last day covered (so from/to filters
are plain overlap tests) and the precision of each bound (so we can print the
date back exactly as precise as the source was).
"""

import calendar
import re
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, Field, ValidationInfo, WithJsonSchema, field_validator


class Precision(StrEnum):
    year = "year"
    month = "month"
    day = "day"


_REDUCED = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")


@dataclass(frozen=True)
class ReducedDate:
    """A calendar date known to year, month or day precision."""

    first_day: date
    last_day: date
    precision: Precision

    @classmethod
    def parse(cls, text: str) -> "ReducedDate":
        """Parse "YYYY", "YYYY-MM" or "YYYY-MM-DD"; raise ValueError with a readable message."""
        match = _REDUCED.match(text.strip())
        if not match:
            raise ValueError(f"'{text}' is not a date; use YYYY, YYYY-MM or YYYY-MM-DD")
        year, month, day = (int(g) if g else None for g in match.groups())
        assert year is not None
        try:
            if month is None:
                return cls(date(year, 1, 1), date(year, 12, 31), Precision.year)
            if day is None:
                last = calendar.monthrange(year, month)[1]
                return cls(date(year, month, 1), date(year, month, last), Precision.month)
            exact = date(year, month, day)
        except ValueError as exc:
            raise ValueError(f"'{text}' is not a valid calendar date ({exc})") from None
        return cls(exact, exact, Precision.day)

    @classmethod
    def from_stored(cls, day: date, precision: str, *, as_end: bool = False) -> "ReducedDate":
        """Rebuild from a stored bound (the first or, with as_end, the last day covered)."""
        prec = Precision(precision)
        if prec is Precision.day:
            return cls(day, day, prec)
        if prec is Precision.month:
            return cls.parse(f"{day.year:04d}-{day.month:02d}")
        return cls.parse(f"{day.year:04d}")

    def isoformat(self) -> str:
        return reduced_isoformat(self.first_day, self.precision)


def reduced_isoformat(day: date, precision: str | None) -> str:
    """A day printed as precisely as the source gave it: 2019, 2024-07 or 2024-07-15.

    Works on a stored bound directly (first or last day): rendering a page of facts
    calls it twice per fact, without building a ReducedDate."""
    if precision == Precision.year:
        return f"{day.year:04d}"
    if precision == Precision.month:
        return f"{day.year:04d}-{day.month:02d}"
    return day.isoformat()


REDUCED_DATE_PATTERN = r"^\d{4}(-\d{2}(-\d{2})?)?$"
"""What a reduced-precision date looks like (YYYY, YYYY-MM, YYYY-MM-DD), for the schema;
ReducedDate.parse also checks that it is a real calendar date and says why not."""

ReducedDateText = Annotated[
    str, WithJsonSchema({"type": "string", "pattern": REDUCED_DATE_PATTERN})
]


class TimeWindow(BaseModel):
    """`from`/`to` overlap filters, shared by facts, quotes and agreements."""

    from_: ReducedDateText | None = Field(
        None,
        alias="from",
        description="Keep records whose date or period overlaps on or after this date "
        "(YYYY, YYYY-MM or YYYY-MM-DD).",
        examples=["2019"],
    )
    to: ReducedDateText | None = Field(
        None,
        description="Keep records whose date or period overlaps on or before this date; not "
        "before `from` (400).",
        examples=["2025-04"],
    )

    @field_validator("from_", "to")
    @classmethod
    def _reduced_date(cls, value: str | None) -> str | None:
        if value is not None:
            ReducedDate.parse(value)
        return value

    @field_validator("to")
    @classmethod
    def _not_before_from(cls, value: str | None, info: ValidationInfo) -> str | None:
        """`from=2025&to=2019` selects nothing by construction: a mistake, said as one."""
        start = info.data.get("from_")
        if (
            value is not None
            and start is not None
            and ReducedDate.parse(start).first_day > ReducedDate.parse(value).last_day
        ):
            raise ValueError(f"'to' ({value}) is before 'from' ({start})")
        return value

    def window(self) -> tuple[date | None, date | None]:
        start = ReducedDate.parse(self.from_).first_day if self.from_ else None
        end = ReducedDate.parse(self.to).last_day if self.to else None
        return start, end

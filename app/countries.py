"""Country codes, from pycountry's copy of ISO 3166-1 rather than a hand-kept list."""

from typing import Annotated

import pycountry
from pydantic import WithJsonSchema


def normalise_country_code(code: str) -> str:
    """Return the ISO 3166-1 alpha-3 code for an alpha-3 or alpha-2 code, any case.

    Raises ValueError with a message a person can act on.
    """
    cleaned = code.strip().upper()
    record = None
    if len(cleaned) == 3:
        record = pycountry.countries.get(alpha_3=cleaned)
    elif len(cleaned) == 2:
        record = pycountry.countries.get(alpha_2=cleaned)
    if record is None:
        raise ValueError(
            f"'{code}' is not an ISO 3166-1 country code; use alpha-3 such as AZE or CHN"
        )
    return str(record.alpha_3)


def country_name(alpha_3: str) -> str:
    record = pycountry.countries.get(alpha_3=alpha_3)
    if record is None:
        raise ValueError(f"'{alpha_3}' is not an ISO 3166-1 alpha-3 code")
    return str(getattr(record, "common_name", None) or record.name)


COUNTRY_CODE_PATTERN = r"^\s*[A-Za-z]{2,3}\s*$"
"""What a country-code parameter may look like: an alpha-3 or alpha-2 code, any case (the
code must also exist in ISO 3166-1; a well-formed code that does not is a 400 too)."""

CountryCode = Annotated[
    str, WithJsonSchema({"type": "string", "pattern": COUNTRY_CODE_PATTERN, "examples": ["AZE"]})
]
"""A country-code parameter, with its pattern in the OpenAPI document. The pattern is not
checked on its own: normalise_country_code, which every such parameter goes through,
accepts nothing it does not match and says why in words a person can act on."""


PAIR_PATTERN = r"^[A-Za-z]{2,3}[-/][A-Za-z]{2,3}$"


def parse_pair(value: str) -> tuple[str, str]:
    """`AZE-CHN` (or `az/cn`, any case) -> ("AZE", "CHN"): two different countries, in the
    order given (for directed indicators the order is the direction). ValueError says what
    to send."""
    parts = value.replace("/", "-").split("-")
    if len(parts) != 2:
        raise ValueError("use two ISO 3166-1 codes joined by '-', e.g. AZE-CHN")
    a, b = (normalise_country_code(p) for p in parts)
    if a == b:
        raise ValueError("a pair needs two different countries")
    return a, b

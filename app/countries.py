"""Country codes, from pycountry's copy of ISO 3166-1 rather than a hand-kept list."""

import pycountry


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

"""Figures and dates written the way an editor writes them: "≈ $1 billion, since 1995"."""

import re
from decimal import Decimal

from app.facts.schemas import FactTime, Quantity

SIGNS = {
    "exact": "",
    "approx": "≈ ",
    "more_than": "> ",
    "at_least": "≥ ",
    "less_than": "< ",
    "at_most": "≤ ",
}
CURRENCY_SIGNS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "CNY": "CN¥", "AZN": "₼"}
SCALES = (
    (Decimal(10) ** 12, "trillion"),
    (Decimal(10) ** 9, "billion"),
    (Decimal(10) ** 6, "million"),
)


def _number(value: Decimal) -> str:
    text = f"{value:,.2f}".rstrip("0").rstrip(".")
    return text


def amount(value: Decimal, unit: str) -> str:
    """3500000000 USD -> "$3.5 billion"; 10 documents -> "10 documents"; 4 rank -> "No. 4"."""
    if unit == "rank":
        return f"No. {value.normalize():f}"
    if unit == "ratio":
        return f"×{value.normalize():f}"
    if unit == "percent":
        return f"{value.normalize():f}%"
    if unit in {"documents", "years", "count"}:
        return f"{value.normalize():f} {unit}"
    for scale, word in SCALES:
        if abs(value) >= scale:
            figure = f"{_number(value / scale)} {word}"
            break
    else:
        figure = _number(value)
    sign = CURRENCY_SIGNS.get(unit)
    return f"{sign}{figure}" if sign else f"{figure} {unit}"


def when(time: FactTime | None) -> str:
    """The source's words when they carry a year ("since 1995", "in 2019"); otherwise the
    resolved date with the words beside it: "2024-07 (last July)"."""
    if time is None:
        return ""
    resolved = time.date or f"{time.start} – {time.end}"
    if time.text and re.search(r"\d{4}", time.text):
        return time.text
    return f"{resolved} ({time.text})" if time.text else str(resolved)


def figure(quantity: Quantity | None, time: FactTime | None) -> str:
    """The hedged figure and its time: "> $3.5 billion, over the last five years"."""
    if quantity is None:
        return when(time)
    text = SIGNS[quantity.comparator.value] + amount(quantity.value, quantity.unit)
    period = when(time)
    return f"{text}, {period}" if period else text

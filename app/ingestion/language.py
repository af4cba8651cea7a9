"""Vocabulary the extractor needs, built from maintained data rather than hand lists.

Country names, alternative spellings and demonyms come from `countryinfo`;
ISO codes and currency names from `pycountry`; numbers written in words from
`text2num`. What is left hand-written here is the grammar of news English:
hedges, trigger verbs and the words that introduce a period.
"""

import contextlib
import re
from collections import defaultdict
from decimal import Decimal
from functools import lru_cache

import countryinfo
import pycountry
from text_to_num import alpha2digit, text2num

from app.facts.models import Comparator

# Hedge words as printed -> comparator. Longest first so "more than" wins over "more".
HEDGES: dict[str, Comparator] = {
    "more than": Comparator.more_than,
    "over": Comparator.more_than,
    "just over": Comparator.more_than,
    "well over": Comparator.more_than,
    "surpassing": Comparator.more_than,
    "surpassed": Comparator.more_than,
    "surpass": Comparator.more_than,
    "surpasses": Comparator.more_than,
    "exceeding": Comparator.more_than,
    "exceeded": Comparator.more_than,
    "exceeds": Comparator.more_than,
    "exceed": Comparator.more_than,
    "topped": Comparator.more_than,
    "topping": Comparator.more_than,
    "top": Comparator.more_than,
    "crossed": Comparator.more_than,
    "above": Comparator.more_than,
    "upwards of": Comparator.more_than,
    "in excess of": Comparator.more_than,
    "at least": Comparator.at_least,
    "no less than": Comparator.at_least,
    "nearly": Comparator.approx,
    "almost": Comparator.approx,
    "around": Comparator.approx,
    "about": Comparator.approx,
    "some": Comparator.approx,
    "approximately": Comparator.approx,
    "roughly": Comparator.approx,
    "close to": Comparator.approx,
    "an estimated": Comparator.approx,
    "estimated": Comparator.approx,
    "estimated at": Comparator.approx,
    "valued at about": Comparator.approx,
    "approx.": Comparator.approx,
    "just under": Comparator.less_than,
    "up to": Comparator.at_most,
    "at most": Comparator.at_most,
    "less than": Comparator.less_than,
    "under": Comparator.less_than,
    "below": Comparator.less_than,
}
HEDGE_PATTERN = "|".join(sorted((re.escape(h) for h in HEDGES), key=len, reverse=True))

SCALES: dict[str, Decimal] = {
    "thousand": Decimal(10) ** 3,
    "million": Decimal(10) ** 6,
    "mln": Decimal(10) ** 6,
    "mn": Decimal(10) ** 6,
    "m": Decimal(10) ** 6,
    "billion": Decimal(10) ** 9,
    "bln": Decimal(10) ** 9,
    "bn": Decimal(10) ** 9,
    "b": Decimal(10) ** 9,
    "trillion": Decimal(10) ** 12,
    "trln": Decimal(10) ** 12,
    "tn": Decimal(10) ** 12,
}

SYMBOLS = {"$": "USD", "US$": "USD", "€": "EUR", "£": "GBP", "¥": "CNY|JPY", "₼": "AZN", "₸": "KZT"}

# Where pycountry's currency names leave a word ambiguous and no country of the
# article decides it, the currency a wire service means by default.
DEFAULT_CURRENCY = {
    "dollar": "USD",
    "euro": "EUR",
    "pound": "GBP",
    "yuan": "CNY",
    "renminbi": "CNY",
    "won": "KRW",
    "ruble": "RUB",
    "rouble": "RUB",
    "rupee": "INR",
    "manat": "AZN",
    "franc": "CHF",
    "yen": "JPY",
}

MONTHS = {
    name.lower(): number
    for number, name in enumerate(
        [
            "",
            "January",
            "February",
            "March",
            "April",
            "May",
            "June",
            "July",
            "August",
            "September",
            "October",
            "November",
            "December",
        ]
    )
    if name
}
MONTH_PATTERN = "|".join(m.capitalize() for m in MONTHS)


@lru_cache
def currency_words() -> dict[str, set[str]]:
    """'manat' -> {'AZN', 'TMT'}: the last word of every ISO 4217 currency name."""
    words: dict[str, set[str]] = defaultdict(set)
    for currency in pycountry.currencies:
        words[currency.name.split()[-1].lower()].add(currency.alpha_3)
    for word, code in DEFAULT_CURRENCY.items():
        words[word].add(code)
    return dict(words)


def currency_code(word: str, countries_alpha2: set[str]) -> str | None:
    """Resolve a currency word, symbol or code, using the article's countries to disambiguate.

    ISO 4217 codes start with the issuing country's alpha-2 code (AZN: AZ), so
    "manats" in an article about Azerbaijan is AZN, in one about Turkmenistan TMT.
    """
    token = word.strip()
    if token in SYMBOLS:
        options = set(SYMBOLS[token].split("|"))
    elif len(token) == 3 and token.isupper() and pycountry.currencies.get(alpha_3=token):
        return token
    else:
        singular = (
            token.lower().rstrip("s") if token.lower() not in {"lari", "sum"} else token.lower()
        )
        options = currency_words().get(singular, set())
        default = DEFAULT_CURRENCY.get(singular)
        local = {code for code in options if code[:2] in countries_alpha2}
        if len(local) == 1:
            return local.pop()
        if default:
            return default
        return options.pop() if len(options) == 1 else None
    local = {code for code in options if code[:2] in countries_alpha2}
    if len(local) == 1:
        return local.pop()
    return sorted(options)[0] if options else None


def currency_word_pattern() -> str:
    words = set(currency_words())
    forms = {w for word in words if word.isalpha() and len(word) > 2 for w in (word, word + "s")}
    return "|".join(sorted(forms, key=len, reverse=True))


@lru_cache
def country_names() -> dict[str, str]:
    """Every name, alternative spelling and demonym of a country -> its alpha-3 code."""
    claims: dict[str, set[tuple[str, int]]] = defaultdict(set)
    for country in countryinfo.all_countries():
        info = country.info()
        iso = info.get("ISO") or {}
        alpha3 = iso.get("alpha3")
        if not alpha3 or not pycountry.countries.get(alpha_3=alpha3):
            continue
        candidates: list[str | None] = [info.get("name"), *(info.get("altSpellings") or [])]
        with contextlib.suppress(Exception):  # a country without a demonym is fine
            candidates.append(country.demonym())
        record = pycountry.countries.get(alpha_3=alpha3)
        if record is not None:
            candidates += [str(record.name), getattr(record, "common_name", None)]
        for name in candidates:
            if name and len(name) > 3 and not name.isupper():
                claims[name].add((alpha3, int(info.get("population") or 0)))
    names = {name: _likeliest(name, owners) for name, owners in claims.items()}
    names.update(NEWS_NAMES)
    return names


def _likeliest(name: str, owners: set[tuple[str, int]]) -> str:
    """A name several territories share ('Indian': India and the British Indian Ocean
    Territory; 'French': France and the French Southern Lands) is, in the news, the most
    populous one's."""
    return max(sorted(owners), key=lambda owner: owner[1])[0]


NEWS_NAMES = {
    "American": "USA",
    "Nepali": "NPL",
    "US": "USA",
    "U.S.": "USA",
    "USA": "USA",
    "UK": "GBR",
    "U.K.": "GBR",
    "UAE": "ARE",
    "Emirati": "ARE",
    "Saudi": "SAU",
    "Türkiye": "TUR",
    "Turkiye": "TUR",
    "Korea": "KOR",
    "Korean": "KOR",
    "Vietnam": "VNM",
    "Vietnamese": "VNM",
    "Laos": "LAO",
    "Lao": "LAO",
    "Russia": "RUS",
    "Iran": "IRN",
    "Syria": "SYR",
    "Czechia": "CZE",
    "Uzbek": "UZB",
    "Kazakh": "KAZ",
    "Kyrgyz": "KGZ",
    "Turkmen": "TKM",
    "Tajik": "TJK",
    "Philippine": "PHL",
    "Filipino": "PHL",
    "Argentine": "ARG",
}
"""Short forms wire copy uses that the country libraries leave out (all-caps abbreviations,
which they only list beside two-letter codes that would match ordinary words), and what
news means by a demonym the libraries give to a territory ('American')."""


@lru_cache
def country_regex() -> re.Pattern[str]:
    names = sorted(country_names(), key=len, reverse=True)
    # "Hungaryʼs": the modifier-letter apostrophe some outlets print counts as a letter in
    # regular expressions, so it is allowed explicitly after a name.
    return re.compile(r"\b(" + "|".join(re.escape(n) for n in names) + r")(?:\b|(?=ʼ))")


def number_from_words(text: str) -> int | None:
    """'ten' -> 10, 'twenty-one' -> 21, 'an'/'a' -> 1, '7' -> 7; None if not a number."""
    word = text.strip().lower()
    if word.isdigit():
        return int(word)
    if word in {"a", "an", "one", "single"}:
        return 1
    try:
        return int(text2num(word, "en"))
    except ValueError:
        return None


def ordinal_from_words(text: str) -> int | None:
    """'fourth' -> 4, '3rd' -> 3, 'second' -> 2, 'largest' (no ordinal) -> 1."""
    converted = alpha2digit(text.strip().lower(), "en")
    match = re.match(r"(\d+)(st|nd|rd|th)$", converted)
    if match:
        return int(match.group(1))
    return {"first": 1, "second": 2}.get(text.strip().lower())

"""Candidate facts and attributed quotes from news text: deterministic and offline.

`extract(text, published)` reads an article the way a wire editor does and returns
candidates, each with the exact span it rests on, its modality (a reported figure, a target,
a forecast), its claimant and a confidence: the measured precision, on the development
corpus, of the rule that produced it (calibration.py). The rules are news-English grammar
(money with scale words, hedges, percent changes, periods resolved against the publication
date, "X said", "he added") on top of spaCy's small English pipeline (grammar.py) for
names and grammatical subjects; vocabularies come from maintained libraries (language.py).
Nothing here touches a database or the network, so the same text always gives the same
candidates.
"""

import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

import pycountry

from app.facts.models import Comparator, Direction, FactKind, Modality
from app.ingestion.calibration import calibrated
from app.ingestion.grammar import person_names, subject_spans
from app.ingestion.language import (
    HEDGE_PATTERN,
    HEDGES,
    MONTH_PATTERN,
    MONTHS,
    SCALES,
    country_names,
    country_regex,
    currency_code,
    currency_word_pattern,
    number_from_words,
    ordinal_from_words,
)

# --- spans and candidates ----------------------------------------------------------------


@dataclass(frozen=True)
class Span:
    start: int
    end: int
    text: str


@dataclass
class Person:
    """A speaker or claimant: a person, or an organization (a ministry, a press office)."""

    name: str
    role: str | None
    span: Span
    kind: str = "person"


@dataclass
class QuantityCandidate:
    value: Decimal
    unit: str
    comparator: Comparator
    hedge: str | None
    text: str


@dataclass
class TimeCandidate:
    type: str  # "date" | "period"
    date: str | None = None
    start: str | None = None
    end: str | None = None
    text: str | None = None

    def as_input(self) -> dict[str, Any]:
        if self.type == "date":
            return {"type": "date", "date": self.date, "text": self.text}
        return {"type": "period", "start": self.start, "end": self.end, "text": self.text}


@dataclass
class FactCandidate:
    kind: FactKind
    statement: str
    subject: str
    counterpart: str | None
    direction: Direction
    evidence: Span
    confidence: float
    quantity: QuantityCandidate | None = None
    time: TimeCandidate | None = None
    speaker: Person | None = None
    agreement: dict[str, Any] | None = None
    modality: Modality = Modality.reported
    sector: str | None = None
    rule: str = ""
    """What produced it (`kind/modality`); its confidence is that rule's measured precision."""


@dataclass
class QuoteCandidate:
    evidence: Span
    speaker: Person | None
    confidence: float
    rule: str = ""
    """The attribution pass that named the speaker."""
    introduced_at: int | None = None
    """Start of the sentence that introduces the quote with a colon, if one does."""


@dataclass
class Extraction:
    facts: list[FactCandidate] = field(default_factory=list)
    quotes: list[QuoteCandidate] = field(default_factory=list)
    people: list[Person] = field(default_factory=list)
    pair: tuple[str, str] | None = None


# --- sentences ---------------------------------------------------------------------------

_SENTENCE_END = re.compile(r'(?<=[.!?])["”’]?\s+(?=["“]?[A-Z0-9])|\n\s*\n')


def sentences(text: str) -> list[Span]:
    """Sentence spans; a full stop inside "$3.5" or "U.S." does not end one."""
    spans: list[Span] = []
    start = 0
    for match in _SENTENCE_END.finditer(text):
        before = text[max(0, match.start() - 4) : match.start()]
        if re.search(r"\b[A-Z]\.$|\b(?:Mr|Ms|Dr|No|St)\.$", before):
            continue
        _add_span(spans, text, start, match.start())
        start = match.end()
    _add_span(spans, text, start, len(text))
    return spans


def _add_span(spans: list[Span], text: str, start: int, end: int) -> None:
    while start < end and text[start] in ' \n"“':
        start += 1
    while end > start and text[end - 1] in " \n":
        end -= 1
    if end > start:
        spans.append(Span(start, end, text[start:end]))


def _trim_evidence(text: str, span: Span) -> Span:
    """Drop closing punctuation and quotation marks from a sentence span."""
    start, end = span.start, span.end
    while end > start and text[end - 1] in '.,;:"”’ ':
        end -= 1
    return Span(start, end, text[start:end])


# --- countries ---------------------------------------------------------------------------


def country_mentions(text: str) -> list[tuple[Span, str]]:
    """Countries named in the text; the 'US' of 'US$' is a currency, not a country."""
    names = country_names()
    return [
        (Span(m.start(), m.end(), m.group(0)), names[m.group(0)])
        for m in country_regex().finditer(text)
        if not (m.group(0) == "US" and re.match(r"\s?\$", text[m.end() : m.end() + 2]))
    ]


def main_pair(mentions: list[tuple[Span, str]]) -> tuple[str, str] | None:
    """The two countries the article is about: the most mentioned, first mention breaking ties."""
    counts: dict[str, tuple[int, int]] = {}
    for span, code in mentions:
        count, first = counts.get(code, (0, span.start))
        counts[code] = (count + 1, min(first, span.start))
    ranked = sorted(counts, key=lambda c: (-counts[c][0], counts[c][1]))
    return (ranked[0], ranked[1]) if len(ranked) >= 2 else None


# --- people --------------------------------------------------------------------------------

# Two capitalized words, not followed by a third: "Nino Kapanadze", not "Development Nino".
_NAME = r"(?P<name>[A-Z][a-z]+(?:-[A-Z][a-z]+)?\s[A-Z][a-zA-Z'’-]+)\b(?!\s[A-Z][a-z])"
_ROLE_WORDS = (
    r"(?:MP|President|Prime Minister|Minister|Deputy Minister|Ambassador|Chairman|Chairwoman|"
    r"CEO|Director|Governor|Mayor|Senator|Speaker|Deputy|Head|Economist|Analyst|Professor|"
    r"Secretary|Spokesman|Spokeswoman|Adviser|Advisor)"
)
_PERSON_PATTERNS = [
    # "MP Arzukhan Alizadeh", "President Ilham Aliyev", "Economy Minister Mikayil Jabbarov"
    re.compile(
        r"(?P<role>(?:[A-Z][a-z]+\s){0,2}"
        + _ROLE_WORDS
        + r"(?:\s(?:of|to|for)\s(?:the\s)?[A-Z][\w'’-]*(?:,?\s(?:and\s|of\s|the\s){0,2}[A-Z][\w'’-]*)*?)?)"
        r"\s+" + _NAME
    ),
    # "a member of the National Assembly, Azer Allahveranov,"
    re.compile(
        r"(?P<role>(?:member|head|chairman|chair|director|minister|ambassador|deputy|"
        r"representative|spokesperson|president|chief)\b[^,.;:]{0,70}),\s+" + _NAME + r"\b"
    ),
    # "Anna Schmidt, head of the German-Azerbaijani chamber,"
    re.compile(
        _NAME
        + r",\s+(?P<role>(?:the\s|a\s)?(?:[a-z]+\s){0,2}(?:head|chair\w*|member|minister|director|deputy|"
        r"ambassador|president|spokes\w+|chief|adviser|advisor|professor|economist|analyst|"
        r"expert|official|representative|secretary|governor|founder|manager|CEO)\b[^,.;:]{0,80}?),"
    ),
]


def people(text: str, *, parser: bool = False) -> list[Person]:
    """People named with a role ('MP Arzukhan Alizadeh', 'X, head of Y,'), and with the
    parser also those named bare ('said Ahmed Khan'), in order of first mention."""
    found: dict[str, Person] = {}
    for pattern in _PERSON_PATTERNS:
        for m in pattern.finditer(text):
            name = re.sub(r"['’]s$", "", m.group("name").strip())
            if any(word.lower() in MONTHS for word in name.split()):
                continue
            if country_regex().fullmatch(name):
                continue
            role = re.sub(r"^(?:another|a|an|the)\s+", "", m.group("role").strip(), flags=re.I)
            if name not in found:
                start = m.start("name")
                found[name] = Person(name, role, Span(start, start + len(name), name))
    if parser:
        surnames = {p.name.split()[-1] for p in found.values()}
        for start, _end, name in person_names(text):
            name = re.sub(r"['’]s$", "", name)
            if name in found or name.split()[-1] in surnames or country_regex().search(name):
                continue
            surnames.add(name.split()[-1])
            found[name] = Person(name, None, Span(start, start + len(name), name))
    return sorted(found.values(), key=lambda p: p.span.start)


_SAY = (
    r"(?:said|says|added|stressed|noted|emphasized|emphasised|highlighted|underlined|"
    r"underscored|told|explained|pointed out|concluded|recalled|continued|remarked|stated|"
    r"revealed|showed|shows|reported|announced|informed|indicated)"
)
_ROLE_NOUN = (
    r"(?:MP|deputy|(?:deputy |vice |prime |foreign |trade |economy |finance )?minister|"
    r"ambassador|envoy|official|expert|analyst|(?:vice )?president|lawmaker|economist|head|"
    r"chairman|chairwoman|governor|spokes(?:man|woman|person)|premier|diplomat|director)"
)
_PRONOUN_OR_ROLE = rf"(?:he|she|they|(?:the|[A-Z]\w+['’]s) (?:[A-Z]\w+ )?{_ROLE_NOUN})"


_PARLIAMENTARIAN = (
    "mp",
    "member of parliament",
    "member of the national assembly",
    "deputy",
    "lawmaker",
    "parliamentarian",
    "member of the milli majlis",
)


def _same_role(word: str, role: str | None) -> bool:
    """'the MP' refers to a 'member of the National Assembly' as much as to an 'MP'."""
    if role is None:
        return False
    word, role = word.lower(), role.lower()
    if re.search(rf"\b{re.escape(word)}\b", role) or (
        word == "premier" and "prime minister" in role
    ):
        return True
    return word in _PARLIAMENTARIAN and any(p in role for p in _PARLIAMENTARIAN)


_ORG_HEAD = (
    r"ministry|embassy|press service|press office|chamber|agency|committee|customs|"
    r"administration|department|commission|office|council|bank|service"
)
_ORG = re.compile(
    r"(?P<name>(?:[A-Z][\w'’-]*\s){0,4}(?:Ministry|Embassy|Chamber|Agency|Committee|Customs|"
    r"Administration|Department|Commission|Office|Council|Bank|Service)"
    r"(?:\s(?:of|for)\s(?:the\s)?[A-Z][\w'’-]*(?:,?\s(?:and\s)?[A-Z][\w'’-]*){0,5})?)"
)


def organizations(text: str) -> list[Person]:
    """Organizations that can speak: 'the Ministry of Economy', 'Kazakhstan's Trade Ministry',
    'the press service of the President'. In order of first mention."""
    found: dict[str, Person] = {}
    for m in _ORG.finditer(text):
        name = re.sub(r"^(?:The|A|An)\s", "", m.group("name")).strip()
        if len(name.split()) < 2 or name in found:
            continue
        start = m.start("name") + m.group("name").index(name)
        found[name] = Person(name, None, Span(start, start + len(name), name), "organization")
    return list(found.values())


_ONE_VOICE = re.compile(
    r"\binterview(?:ed)?\b|\btold (?:[A-Z]\w+|reporters|journalists|the (?:agency|newspaper))|"
    r"\bin (?:a|an|his|her) (?:statement|address|speech|article|op-ed|remarks|interview)\b",
)
"""An article in one voice says so: an interview, a statement, a speech."""


_LEAD_SOURCE = re.compile(
    r"\b(?:cites?|citing|quoting|according to|reports?,? citing)\s+(?:the\s+)?"
    r"(?P<org>(?:[A-Z][\w'’-]*\s)*(?:press (?:service|office|center|centre)|Ministry|"
    r"Department|Office|Agency|Committee)\b[^,.;:\n]{0,80})"
    r"|(?:the\s+)?(?P<org2>press (?:service|office|center|centre) of [^,.;:\n]{3,80}?)\s+"
    r"(?:reported|said|informed|reports|says)\b",
)


def lead_source(text: str) -> Person | None:
    """The organization a whole wire story relays ('Kazinform cites the press service of
    the Kazakh PM'), named in its first paragraph: the claimant of what it states."""
    first = text[: max(text.find("\n\n"), 400)]
    m = _LEAD_SOURCE.search(first)
    if m is None:
        return None
    group = "org" if m.group("org") else "org2"
    name = m.group(group).strip()
    start = m.start(group)
    return Person(name, None, Span(start, start + len(name), name), "organization")


class Speakers:
    """Who is talking at each point of the article, as a reader tracks it.

    People named inside quotation marks are talked about, not talking, so they
    never become "he" in a later attribution.
    """

    def __init__(self, text: str, persons: list[Person]) -> None:
        self.text = text
        self.persons = persons
        self.by_surname = {p.name.split()[-1]: p for p in persons}
        self.quoted: list[tuple[int, int]] = []
        self.organizations = organizations(text)
        self.subjects: list[tuple[int, int]] = []

    def use_parse(self) -> None:
        """Resolve 'he' and role nouns to the last person who was a grammatical subject."""
        self.subjects = subject_spans(self.text)

    def organization(self, fragment: str) -> Person | None:
        """A ministry, embassy or press office named in the fragment, by name or as 'the
        ministry' (the last one of that kind named before)."""
        for org in self.organizations:
            if org.name in fragment:
                return org
        owned = re.search(
            rf"\b([A-Z][\w.-]*['’]s (?:[a-z]+ ){{0,2}}(?:ministry|government|embassy|office|"
            rf"agency|press service))\s+{_SAY}",
            fragment,
        )
        if owned:  # "Seoul's industry ministry said"
            name = owned.group(1)
            start = self.text.find(name)
            return Person(name, None, Span(start, start + len(name), name), "organization")
        m = re.search(rf"\bthe ({_ORG_HEAD})\b", fragment, re.I)
        if m:
            head = m.group(1).lower()
            named = [o for o in self.organizations if head in o.name.lower()]
            return named[-1] if named else None
        return None

    def one_voice(self) -> Person | None:
        """The speaker of an interview: the only person the article has say anything."""
        talking = {
            p.name
            for p in self.persons
            for token in {p.name, p.name.split()[-1]}
            if re.search(
                rf"\b{re.escape(token)}\b[^.\n]{{0,60}}\b{_SAY}\b|\b{_SAY}\s+{re.escape(token)}\b"
                rf"|\binterview\b[^.\n]{{0,80}}\b{re.escape(token)}\b"
                rf"|\b{re.escape(token)}\b[^.\n]{{0,80}}\binterview\b",
                self.text,
            )
        }
        if len(talking) != 1 or not re.search(_ONE_VOICE, self.text):
            return None
        name = talking.pop()
        return next(p for p in self.persons if p.name == name)

    def named(self, fragment: str) -> Person | None:
        """A person mentioned by full name or surname in the fragment."""
        for person in self.persons:
            if person.name in fragment:
                return person
        for surname, person in self.by_surname.items():
            if re.search(rf"\b{re.escape(surname)}\b", fragment):
                return person
        return None

    def last_before(self, offset: int, role: str | None = None) -> Person | None:
        """The last person named (by name or surname) before the offset, outside quotes;
        with `role` ("MP"), the last one holding that role."""
        best: tuple[int, Person] | None = None
        for person in self.persons:
            if role and not _same_role(role, person.role):
                continue
            for token in {person.name, person.name.split()[-1]}:
                for m in re.finditer(rf"\b{re.escape(token)}\b", self.text[:offset]):
                    if any(a <= m.start() < b for a, b in self.quoted):
                        continue
                    if self.subjects and not self._subject(m.start(), m.end()):
                        continue
                    if best is None or m.start() > best[0]:
                        best = (m.start(), person)
        if best is None and self.subjects:
            saved, self.subjects = self.subjects, []
            try:
                return self.last_before(offset, role)
            finally:
                self.subjects = saved
        if best is None and role:
            return self.last_before(offset)
        return best[1] if best else None

    def _subject(self, start: int, end: int) -> bool:
        """The mention lies inside a subject noun phrase."""
        return any(first <= start and end <= last for first, last in self.subjects)

    def attributed(self, fragment: str, offset: int) -> Person | None:
        """The speaker an attribution in the fragment names: 'X said', 'he added', 'the MP
        stressed'. `offset` is where the fragment's speaker must already have been named."""
        person = self.named(fragment)
        if person is not None and re.search(_SAY, fragment):
            return person
        return self.pronoun(fragment, offset) or person

    def pronoun(self, fragment: str, offset: int) -> Person | None:
        """'he added', 'the minister noted', or a fragment opening with 'He': the last
        person named before `offset` (holding that role, when a role noun is used)."""
        said = re.search(rf"\b{_PRONOUN_OR_ROLE}\s+(?:\w+\s+)?{_SAY}", fragment, re.I)
        said = said or re.search(rf"\b{_SAY}\s+{_PRONOUN_OR_ROLE}\b", fragment, re.I)
        said = said or re.match(rf"\s*{_PRONOUN_OR_ROLE}\s+(?:\w+\s+)?{_SAY}", fragment, re.I)
        said = said or re.match(r"\s*(?:He|She)\b", fragment)
        said = said or re.search(
            r"\b(?:according to|in the words of) (?:him|her)\b", fragment, re.I
        )
        if said:
            role = re.search(
                rf"\b(?:the|\w+['’]s) (?:[A-Z]\w+ )?({_ROLE_NOUN})", said.group(0), re.I
            )
            return self.last_before(offset, role.group(1).split()[-1] if role else None)
        return None


# --- quotes -------------------------------------------------------------------------------

_OPEN = re.compile(r"(?:^|(?<=[\s:(—–-]))(?:[\"“«]|'')")
_CLOSE = re.compile(r'(?<=[,.!?])["”»]|["”»](?=\.?[ \t]*(?:\n|$))|»(?=,)')
_TERM = re.compile(r'[^"“”«»\n]{1,60}?[\w)]["”»](?=[\s,.;:])')
"""A quoted name inside a sentence ('the "Korea Plus in Vietnam" task force'), not speech."""


def quotes(text: str, speakers: Speakers) -> list[QuoteCandidate]:
    """Quoted passages of at least a few words, with their speaker.

    A quotation closes at a mark right after , . ! or ? (inner quoted terms such
    as "Belt and Road" close after a letter and are kept inside). A paragraph
    that ends without a closing mark continues the quotation into the next one,
    as wire copy does.
    """
    spans: list[tuple[re.Match[str], re.Match[str]]] = []
    position = 0
    while True:
        opening = _OPEN.search(text, position)
        if opening is None:
            break
        term = _TERM.match(text, opening.end())
        if term and re.search(r"[a-z,] $", text[max(0, opening.start() - 2) : opening.start()]):
            position = term.end()
            continue
        closing = _CLOSE.search(text, opening.end())
        if closing is None:
            break
        position = closing.end()
        if len(text[opening.end() : closing.start()].split()) >= 6:
            spans.append((opening, closing))
    speakers.quoted = [(o.end(), c.start()) for o, c in spans]
    voice = speakers.one_voice()
    found: list[QuoteCandidate] = []
    for opening, closing in spans:
        start, end = opening.end(), closing.start()
        words = text[start:end]
        after = text[closing.end() : closing.end() + 160].split("\n")[0]
        after_sentence = re.split(r"(?<=[.!?])\s", after, maxsplit=1)[0]
        window = max(0, start - 400)
        before = text[window : opening.start()].rstrip()
        before_sentence = re.split(r"(?<=[.!?])\s|\n", before)[-1] if before else ""
        introduced = before_sentence.rstrip().endswith(":")
        paragraph_start = text.rfind("\n", 0, opening.start()) + 1
        opens_paragraph = not text[paragraph_start : opening.start()].strip()
        previous = found[-1] if found else None
        continued = (
            previous is not None
            and opens_paragraph
            and not re.search(_SAY, after_sentence)
            and not text[previous.evidence.end : opening.start()].strip(' ,."”\n')
        )
        speaker, rule = attribute(
            speakers,
            after=after_sentence,
            lead_in=before_sentence if introduced else None,
            offset=opening.start(),
            continued=previous.speaker if continued and previous else None,
            voice=voice,
        )
        lead_in = window + len(before) - len(before_sentence) if introduced else None
        found.append(
            QuoteCandidate(
                Span(start, end, words),
                speaker,
                calibrated(rule) if speaker else 0.0,
                rule,
                lead_in,
            )
        )
    return found


def attribute(
    speakers: "Speakers",
    *,
    after: str,
    lead_in: str | None,
    offset: int,
    continued: "Person | None",
    voice: "Person | None",
) -> tuple["Person | None", str]:
    """The speaker of a quotation by ordered passes, most precise first (the sieve of Muzny
    et al. 2017): a name with a reporting verb after the quote; a colon lead-in naming
    someone; a pronoun or role noun with a reporting verb ('he added', 'the ministry said');
    the speaker of the quote this paragraph continues; the one voice of an interview; the
    last speaker named before. Each pass is a rule whose dev precision is its confidence."""
    named = speakers.named(after)
    if named is not None and re.search(_SAY, after):
        return named, "quote/named_after"
    organization = speakers.organization(after)
    if organization is not None and re.search(_SAY, after):
        return organization, "quote/organization"
    if re.search(rf"\bthe (?:{_ORG_HEAD})\s+{_SAY}", after, re.I):
        # "..., the ministry said" with no ministry named: nobody, rather than a person
        return None, "quote/organization"
    if lead_in is not None:
        named = speakers.named(lead_in)
        if named is not None:
            return named, "quote/colon_named"
        organization = speakers.organization(lead_in)
        if organization is not None:
            return organization, "quote/organization"
    pronoun = speakers.attributed(after, offset)
    if pronoun is not None:
        return pronoun, "quote/pronoun"
    if lead_in is not None:
        pronoun = speakers.attributed(lead_in, offset)
        if pronoun is not None:
            return pronoun, "quote/colon_pronoun"
    if continued is not None:
        return continued, "quote/continued"
    if voice is not None:
        return voice, "quote/one_voice"
    last = speakers.last_before(offset)
    return last, "quote/previous_speaker"


# --- figures ------------------------------------------------------------------------------

_NUMBER = r"(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)"
_SCALE = r"(?P<scale>" + "|".join(sorted(SCALES, key=len, reverse=True)) + r")\b"


def _money_regex() -> re.Pattern[str]:
    """ "$1 billion", "USD 3.5 bn", "600 million euros", "1.2 billion manats", "$485 mln"."""

    def number(tag: str) -> str:
        return _NUMBER.replace("?P<num>", f"?P<num{tag}>")

    def scale(tag: str) -> str:
        return _SCALE.replace("?P<scale>", f"?P<scale{tag}>")

    words = currency_word_pattern()
    # Words and scales match in any case; ISO codes only in capitals, as whole words,
    # so the "ted" of "invested" is never read as a currency.
    return re.compile(
        r"(?:(?i:(?P<hedge>" + HEDGE_PATTERN + r"))\s+)?(?:"
        r"(?P<sym>US\s?\$|\$|€|£|¥|₼|₸)\s?" + number("1") + r"(?:[-–]" + number("1b") + r")?"
        r"(?:\s?(?i:" + scale("1") + r"))?"
        r"|(?<![A-Za-z])(?P<code>[A-Z]{3})\s" + number("2") + r"(?:\s?(?i:" + scale("2") + r"))?"
        r"|" + number("3") + r"\s?(?:(?i:" + scale("3") + r")\s)?"
        r"(?:(?P<code3>[A-Z]{3})\b|(?i:(?P<word>" + words + r"))\b))"
    )


_MONEY: re.Pattern[str] | None = None


def money(sentence: Span, alpha2: set[str]) -> list[tuple[Span, QuantityCandidate]]:
    global _MONEY
    if _MONEY is None:
        _MONEY = _money_regex()
    out = []
    for m in _MONEY.finditer(sentence.text):
        groups = m.groupdict()
        number = groups.get("num1") or groups.get("num2") or groups.get("num3")
        scale = (groups.get("scale1") or groups.get("scale2") or groups.get("scale3") or "").lower()
        unit_token = (
            groups.get("sym") or groups.get("code") or groups.get("code3") or groups.get("word")
        )
        if not number or not unit_token:
            continue
        code = groups.get("code") or groups.get("code3")
        if code and not re.fullmatch(r"[A-Z]{3}", code):
            continue  # IGNORECASE let a lower-case word through as a code
        unit_token = re.sub(r"^US\s\$$", "US$", unit_token)
        unit = currency_code(
            unit_token if not unit_token.isalpha() or unit_token.isupper() else unit_token.lower(),
            alpha2,
        )
        if unit is None:
            continue
        value = Decimal(number.replace(",", "")) * SCALES.get(scale, Decimal(1))
        hedge = groups.get("hedge")
        comparator = HEDGES[hedge.lower()] if hedge else Comparator.exact
        if hedge and hedge.lower() == "up to" and _RAISE_TO.search(sentence.text[: m.start()]):
            # "bring the turnover up to $1 billion": the phrase of a goal, not a ceiling
            hedge, comparator = None, Comparator.exact
        if groups.get("num1b"):
            # "$24-24.5 billion": at least the lower figure
            comparator = Comparator.at_least
        start = sentence.start + m.start()
        span = Span(start, sentence.start + m.end(), m.group(0))
        out.append((span, QuantityCandidate(plain(value), unit, comparator, hedge, m.group(0))))
    return out


_RAISE_TO = re.compile(
    r"\b(?:bring|brought|raise|increase|boost|lift|take|push|grow)\w*\s+(?:[\w-]+\s+){0,5}$", re.I
)


def plain(value: Decimal) -> Decimal:
    """1E+9 -> 1000000000: the figure as people write it."""
    normal = value.normalize()
    return normal.quantize(Decimal(1)) if normal == normal.to_integral() else normal


# --- time ---------------------------------------------------------------------------------


def _year_back(published: date, years: int) -> str:
    return f"{published.year - years:04d}"


def _time_rules(published: date, context: "Context") -> list[tuple[str, Any]]:
    """Time expressions, most specific first, each with how to resolve it."""
    pub = published.isoformat()
    return [
        (
            r"\bfrom (\d{4}) (?:through|to|until|till) the first (\w+) months of (\d{4})\b",
            lambda m: _months_into(m[1], m[2], m[3], m[0]),
        ),
        (
            r"\b(?:in |during |over )?(?:the )?(?:first )?(\w+) months of (this year|last year|the "
            r"current year|the year|\d{4})\b|\b(?:in |during |over )?the first (\w+) months\b",
            lambda m: _first_months(m, published),
        ),
        (
            r"\b(?:in |during )?the (first|second) half of (this year|last year|the current year|"
            r"\d{4})\b",
            lambda m: _half(m, published),
        ),
        (
            rf"\b(?:in |during )?(?:the )?({MONTH_PATTERN})[-–]({MONTH_PATTERN})(?: period)?"
            rf"(?: of)?(?: (?:the current year|this year|(\d{{4}})))?",
            lambda m: _month_range(m, published),
        ),
        (
            rf"\b(?i:from|during|between) ({MONTH_PATTERN}) (?i:to|and|through|till|until) "
            rf"({MONTH_PATTERN})\b(?: (\d{{4}}))?",
            lambda m: _month_range(m, published),
        ),
        (
            r"\b(?:over|in|during) the (?:past|last) (\w+) months\b",
            lambda m: _months_back(m, published),
        ),
        (
            r"\bbefore the end of (?:this|the) year\b",
            lambda m: TimeCandidate("period", start=pub, end=f"{published.year:04d}-12", text=m[0]),
        ),
        (
            r"\b(?:over |in |during )?the past year\b",
            lambda m: TimeCandidate("date", date=_year_back(published, 1), text=m[0]),
        ),
        (
            r"\b(?:today|this week)\b(?!,)",
            lambda m: TimeCandidate("date", date=pub, text=m[0]),
        ),
        (
            r"\byesterday\b",
            lambda m: TimeCandidate(
                "date", date=date.fromordinal(published.toordinal() - 1).isoformat(), text=m[0]
            ),
        ),
        (
            r"\b(?:on |last )?(Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)\b",
            lambda m: _weekday(m, published),
        ),
        (
            r"\blast month\b",
            lambda m: TimeCandidate(
                "date",
                date=f"{published.year - (published.month == 1):04d}-"
                f"{(published.month - 2) % 12 + 1:02d}",
                text=m[0],
            ),
        ),
        (
            r"\bfrom (\d{4}) (?:through|to|until|till) (\d{4})\b",
            lambda m: TimeCandidate("period", start=m[1], end=m[2], text=m[0]),
        ),
        (
            r"\bbetween (\d{4}) and (\d{4})\b",
            lambda m: TimeCandidate("period", start=m[1], end=m[2], text=m[0]),
        ),
        (
            r"\b(?:over|in|during) the (?:last|past) (\w+) years\b",
            lambda m: _years_back(m, published),
        ),
        (r"\bfor (\w+) years\b", lambda m: _years_back(m, published)),
        (
            r"\bsince (?:the [^,.]{0,110}? in )?(\d{4})\b",
            lambda m: TimeCandidate("period", start=m[1], end=pub, text=m[0]),
        ),
        (
            r"\bsince then\b",
            lambda m: (
                context.last_date
                and TimeCandidate("period", start=context.last_date, end=pub, text=m[0])
            ),
        ),
        (
            r"\b(?:over|in|during) (?:these|those) years\b",
            lambda m: (
                context.last_since
                and TimeCandidate("period", start=context.last_since, end=pub, text=m[0])
            ),
        ),
        (
            rf"\b(?i:(last|this|next)) ({MONTH_PATTERN})\b",
            lambda m: _relative_month(m, published),
        ),
        (
            rf"\b(?i:in) ({MONTH_PATTERN}) (\d{{4}})\b",
            lambda m: TimeCandidate("date", date=f"{m[2]}-{MONTHS[m[1].lower()]:02d}", text=m[0]),
        ),
        (
            r"\b(first|second|third|fourth) quarter of (this|last) year\b",
            lambda m: _quarter(m, published),
        ),
        (
            r"\b(?:earlier|later) this month\b|\bthis month\b",
            lambda m: TimeCandidate("date", date=pub[:7], text=m[0]),
        ),
        (
            rf"\b(?i:on) ({MONTH_PATTERN}) (\d{{1,2}})[-–](\d{{1,2}})(?:, (\d{{4}}))?\b",
            lambda m: _day_range(m, published),
        ),
        (
            rf"\b(?i:on) ({MONTH_PATTERN}) (\d{{1,2}})(?:, (\d{{4}}))?\b",
            lambda m: _month_day(m, published),
        ),
        (
            rf"\b(?i:on) (\d{{1,2}}) ({MONTH_PATTERN})(?: (\d{{4}}))?\b",
            lambda m: _day_month(m, published),
        ),
        (
            r"\bthis (?:morning|afternoon|evening)\b",
            lambda m: TimeCandidate("date", date=pub, text=m[0]),
        ),
        (
            rf"\b(?i:in) ({MONTH_PATTERN})\b(?! \d)",
            lambda m: _relative_month(m, published, which="in"),
        ),
        (
            r"\blast year\b",
            lambda m: TimeCandidate("date", date=_year_back(published, 1), text=m[0]),
        ),
        (
            r"\bthis year\b",
            lambda m: TimeCandidate("date", date=f"{published.year:04d}", text=m[0]),
        ),
        (
            r"\b(?:in|of|by|at the end of|the year|for) (\d{4})\b",
            lambda m: TimeCandidate("date", date=m[1], text=m[0]),
        ),
        (
            r"\b(?:during|in|over|for) (?:this|that|the same|the) period\b",
            lambda m: _same_period(context, m[0]),
        ),
        # Least specific last: "at the end of the event" is the day of the story.
        (
            r"\b(?:at the end of|following|after|during|on the sidelines of) the (?:event|"
            r"meeting|talks|negotiations|ceremony|visit|forum)\b",
            lambda m: TimeCandidate("date", date=pub, text=m[0]),
        ),
    ]


def _same_period(context: "Context", words: str) -> TimeCandidate | None:
    """'during this period': the time of the figure before."""
    last = context.last_time
    if last is None:
        return None
    return TimeCandidate(last.type, date=last.date, start=last.start, end=last.end, text=words)


def _flags(pattern: str) -> int:
    # Month names are matched case-sensitively ("May", never the verb "may").
    return 0 if MONTH_PATTERN in pattern else re.IGNORECASE


def resolve_time(sentence: str, published: date, context: "Context") -> TimeCandidate | None:
    """The date or period a sentence states, resolved against the publication date: the
    most specific expression wins."""
    for pattern, build in _time_rules(published, context):
        match = re.search(pattern, sentence, _flags(pattern))
        if match:
            candidate = build(match)
            if candidate:
                return candidate
    return None


def time_spans(
    sentence: str, published: date, context: "Context"
) -> list[tuple[int, int, TimeCandidate]]:
    """Every time expression of a sentence with its offsets; where two overlap, the more
    specific rule's. A figure takes the one nearest to it ('from $2.9 billion in 2016 to
    $5.3 billion in 2020')."""
    found: list[tuple[int, int, TimeCandidate]] = []
    for pattern, build in _time_rules(published, context):
        for match in re.finditer(pattern, sentence, _flags(pattern)):
            if any(match.start() < e and s < match.end() for s, e, _ in found):
                continue
            candidate = build(match)
            if candidate:
                start = match.start() + (len(match[0]) - len(match[0].lstrip()))
                found.append((start, match.end(), candidate))
    return sorted(found, key=lambda item: item[0])


def _months_back(m: re.Match[str], published: date) -> TimeCandidate | None:
    """'over the past six months': the six months up to the publication month."""
    count = number_from_words(m[1])
    if not count or count > 36:
        return None
    index = published.year * 12 + published.month - 1 - count
    start = f"{index // 12:04d}-{index % 12 + 1:02d}"
    return TimeCandidate("period", start=start, end=published.isoformat()[:7], text=m[0])


def _first_months(m: re.Match[str], published: date) -> TimeCandidate | None:
    count = number_from_words(m[1] or m[3])
    if not count or count > 12:
        return None
    which = (m[2] or "this year").lower()
    year = int(which) if which.isdigit() else published.year - (1 if which == "last year" else 0)
    return TimeCandidate(
        "period", start=f"{year:04d}-01", end=f"{year:04d}-{count:02d}", text=m[0].strip()
    )


def _months_into(first: str, months: str, year: str, words: str) -> TimeCandidate | None:
    count = number_from_words(months)
    if not count or count > 12:
        return None
    return TimeCandidate("period", start=first, end=f"{year}-{count:02d}", text=words)


def _half(m: re.Match[str], published: date) -> TimeCandidate:
    which = m[2].lower()
    year = int(which) if which.isdigit() else published.year - (which == "last year")
    first, last = (1, 6) if m[1].lower() == "first" else (7, 12)
    return TimeCandidate(
        "period", start=f"{year:04d}-{first:02d}", end=f"{year:04d}-{last:02d}", text=m[0].strip()
    )


_WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]


def _weekday(m: re.Match[str], published: date) -> TimeCandidate:
    """'on Monday' in wire copy is the latest Monday not after the publication day."""
    back = (published.weekday() - _WEEKDAYS.index(m[1].lower())) % 7
    day = date.fromordinal(published.toordinal() - back)
    return TimeCandidate("date", date=day.isoformat(), text=m[0])


def _month_range(m: re.Match[str], published: date) -> TimeCandidate:
    """'January-September', 'from July to February' (across a new year: July of the year
    before), the latest such range ending before the publication month."""
    first, last = MONTHS[m[1].lower()], MONTHS[m[2].lower()]
    year = int(m[3]) if m[3] else (published.year if last < published.month else published.year - 1)
    start_year = year - 1 if first > last else year
    return TimeCandidate(
        "period",
        start=f"{start_year:04d}-{first:02d}",
        end=f"{year:04d}-{last:02d}",
        text=m[0].strip(),
    )


def _years_back(m: re.Match[str], published: date) -> TimeCandidate | None:
    years = number_from_words(m[1])
    if not years or years > 200:
        return None
    return TimeCandidate(
        "period", start=_year_back(published, years), end=published.isoformat(), text=m[0]
    )


def _quarter(m: re.Match[str], published: date) -> TimeCandidate:
    number = ["first", "second", "third", "fourth"].index(m[1].lower())
    year = published.year - (1 if m[2].lower() == "last" else 0)
    return TimeCandidate(
        "period",
        start=f"{year:04d}-{3 * number + 1:02d}",
        end=f"{year:04d}-{3 * number + 3:02d}",
        text=m[0],
    )


def _month_day(m: re.Match[str], published: date) -> TimeCandidate:
    month, day = MONTHS[m[1].lower()], int(m[2])
    year = (
        int(m[3])
        if m[3]
        else (
            published.year
            if (month, day) <= (published.month, published.day)
            else published.year - 1
        )
    )
    return TimeCandidate("date", date=f"{year:04d}-{month:02d}-{day:02d}", text=m[0])


def _day_month(m: re.Match[str], published: date) -> TimeCandidate:
    """'on 25 June' (day first, as much of the world writes it)."""
    month, day = MONTHS[m[2].lower()], int(m[1])
    year = int(m[3]) if m[3] else _year_of(month, day, published)
    return TimeCandidate("date", date=f"{year:04d}-{month:02d}-{day:02d}", text=m[0])


def _day_range(m: re.Match[str], published: date) -> TimeCandidate:
    """'on February 23-24'."""
    month, first, last = MONTHS[m[1].lower()], int(m[2]), int(m[3])
    year = int(m[4]) if m[4] else _year_of(month, first, published)
    return TimeCandidate(
        "period",
        start=f"{year:04d}-{month:02d}-{first:02d}",
        end=f"{year:04d}-{month:02d}-{last:02d}",
        text=m[0],
    )


def _year_of(month: int, day: int, published: date) -> int:
    """A day named without a year is the latest one not after the publication day."""
    return (
        published.year if (month, day) <= (published.month, published.day) else published.year - 1
    )


def _relative_month(m: re.Match[str], published: date, which: str | None = None) -> TimeCandidate:
    """'last July', 'this August', 'next March', or a bare 'in February' (the latest one
    not after the publication month)."""
    if which == "in":
        month = MONTHS[m[1].lower()]
        year = published.year if month <= published.month else published.year - 1
        return TimeCandidate("date", date=f"{year:04d}-{month:02d}", text=m[0])
    which, month = m[1].lower(), MONTHS[m[2].lower()]
    year = published.year
    if which == "last" and month >= published.month:
        year -= 1
    if which == "next" and month <= published.month:
        year += 1
    return TimeCandidate("date", date=f"{year:04d}-{month:02d}", text=m[0])


# --- fact rules ---------------------------------------------------------------------------


@dataclass
class Context:
    """What a reader remembers from earlier sentences."""

    last_since: str | None = None
    last_date: str | None = None
    last_kind: FactKind | None = None
    last_time: TimeCandidate | None = None
    last_flow: tuple[str, str] | None = None
    last_import: bool | None = None


_INVEST = re.compile(r"\binvest(?:ed|s|ing|ment|ments)?\b", re.I)
_RISE = (
    r"(?:increas\w*|grew|grow\w*|rose|risen|rise|up|jump\w*|surg\w*|soar\w*|climb\w*|"
    r"expand\w*|gain\w*|boost\w*|went up|picked up)"
)
_FALL = r"(?:decreas\w*|declin\w*|fell|fall\w*|dropp?\w*|down|shrank|shrunk|contract\w*|slump\w*)"
_PERCENT = re.compile(
    r"(?:(?P<hedge>" + HEDGE_PATTERN + r")\s+)?(?P<num>\d+(?:[.,]\d+)?)\s?(?:%|percent|per cent)",
    re.I,
)
_FOLD = re.compile(
    r"\b(?:(?P<hedge>" + HEDGE_PATTERN + r")\s+)?(?P<what>doubled|tripled|quadrupled|"
    r"(?P<fold>\d+(?:\.\d+)?)-fold|(?P<times>\d+(?:\.\d+)?) times)",
    re.I,
)


@dataclass
class Change:
    start: int
    end: int
    quantity: QuantityCandidate


def growth_figures(body: str) -> list[Change]:
    """Percent changes ('increased by 32 percent', 'a 13.4 per cent increase', 'down 0.7%',
    a fall as a negative percent) and multiples ('more than doubled')."""
    found: list[Change] = []
    for m in _PERCENT.finditer(body):
        before = body[max(0, m.start() - 40) : m.start()]
        after = body[m.end() : m.end() + 30]
        # "grew by an average of 18.5 per cent", "rose 12%", "a 13.4 per cent increase"
        rising = bool(
            re.search(rf"\b{_RISE}\b[^\d%]{{0,30}}$", before, re.I)
            or re.match(rf"\s+(?:{_RISE}|growth|year[- ]on[- ]year)\b", after, re.I)
            or re.search(
                r"\b(?:a|an|the)\s+(?:\w+\s+)?(?:increase|growth|rise|jump)\s+of\s*$", before, re.I
            )
        )
        falling = bool(
            re.search(rf"\b{_FALL}\b[^\d%]{{0,30}}$", before, re.I)
            or re.match(rf"\s+(?:{_FALL}|decrease|drop)\b", after, re.I)
            or re.search(
                r"\b(?:a|an|the)\s+(?:\w+\s+)?(?:decrease|decline|drop|fall)\s+of\s*$", before, re.I
            )
        )
        if not (rising or falling) or re.search(r"\bto\s*$", before, re.I):
            continue
        value = Decimal(m.group("num").replace(",", "."))
        hedge = m.group("hedge")
        comparator = HEDGES[hedge.lower()] if hedge else Comparator.exact
        quantity = QuantityCandidate(
            -value if falling and not rising else value, "percent", comparator, hedge, m.group(0)
        )
        found.append(Change(m.start(), m.end(), quantity))
    for m in _FOLD.finditer(body):
        what = m.group("what").lower()
        if m.group("fold"):
            value = Decimal(m.group("fold"))
        elif m.group("times"):
            value = Decimal(m.group("times"))
            if not re.match(r"\s+(?:higher|more|larger|bigger)", body[m.end() :]):
                continue
        else:
            value = Decimal({"doubled": 2, "tripled": 3, "quadrupled": 4}[what])
        hedge = m.group("hedge")
        comparator = HEDGES[hedge.lower()] if hedge else Comparator.exact
        found.append(
            Change(
                m.start(), m.end(), QuantityCandidate(value, "ratio", comparator, hedge, m.group(0))
            )
        )
    return found


_RANK = re.compile(
    r"\b(?P<ord>\w+(?:['’]s?)?)[- ](?:largest|biggest|top|most important) (?:(?:trade|trading|economic)"
    r" (?:and )?)?(?:economic|trade|trading|investment|commercial) partner\b"
    r"|\branks? (?P<ord2>\w+) among (?:its|the|\w+['’]s) (?:[A-Za-z]+ ){0,2}"
    r"(?:economic|trade|trading|investment|commercial) partners",
    re.I,
)
_SIGN = re.compile(r"\b(?:sign(?:ed|ing)|conclud(?:ed|ing)|inked)\b", re.I)
_DOCS = re.compile(
    r"\b(?:(?P<hedge>"
    + HEDGE_PATTERN
    + r")\s+)?(?P<count>\d+|an?|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|"
    r"fourteen|fifteen|sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|"
    r"(?:twenty|thirty|forty|fifty)-\w+)\s+(?:(?!of\b)[a-z]+\s+){0,2}"
    r"(?P<what>documents?|agreements?|memorand(?:a|ums?)(?: of understanding)?|MoUs?|MOUs?|accords?|"
    r"contracts?|deals?|declarations?|protocols?)\b",
    re.I,
)
_AGREEMENT_WORDS = re.compile(
    r"\b(?:agreements?|memorand(?:a|um|ums)|declaration|documents|accords?|protocols?|"
    r"roadmap|contracts?)\b",
    re.I,
)
_SECTORS = re.compile(
    r"\b(?:covering|in the (?:fields?|areas?|spheres?) of|on) (?:the )?(?P<list>[a-z ,'-]+?(?:,? and [a-z -]+?))(?: sectors?| fields?| areas?|[.,;]|$)",
    re.I,
)
_EVENT = re.compile(
    r"\b(?:at|during) the (?P<event>(?:[A-Z0-9][\w'’-]*\s?){1,6}(?:Forum|Summit|Conference|Congress|"
    r"Expo|Exhibition|Week|Meeting|Session|Commission))"
)
_DIPLOMATIC = re.compile(
    r"\b(?:diplomatic (?:relations|missions?|ties)|embass(?:y|ies)|invited|invitation|"
    r"(?:state|official|working|three-day|two-day) visit|visited|leaders'? meeting|talks|summit|"
    r"cooperat\w* (?:closely )?within|met (?:with|in)|arrived in|welcomed|co-chair\w*|"
    r"(?:held|holds|hold) (?:its|the|a) (?:\w+ )?(?:meeting|session)|(?:joint|intergovernmental|"
    r"economic) (?:committee|commission)|business forum|videoconference)\b",
    re.I,
)
_RELATIONSHIP = re.compile(
    r"\b(?:relations|relationship|ties|partnership)\b[^.]{0,80}\b(?:developed|evolved|"
    r"characterized|characterised|elevated|upgraded|grown|deepened)\b"
    r"|\b(?:comprehensive |all-round |all-weather |enhanced )?strategic (?:partner(?:ship)?s?|"
    r"relationship|relations)\b|\b(?:cordial|friendly|brotherly|fraternal) (?:and \w+ )?"
    r"(?:relations|ties)\b",
    re.I,
)


_DOMESTIC = re.compile(
    r"\b(?:GDP|gross domestic product|budget|reserves|inflation|total trade|foreign trade|"
    r"overall trade|as a whole|economy grew|loan from|Exim ?Bank of China)\b",
    re.I,
)
"""Words that mark a figure as about one country, or a third party, not the pair."""


def _parties(sentence: Span, pair: tuple[str, str] | None) -> list[str]:
    codes: list[str] = []
    for _, code in country_mentions(sentence.text):
        if code not in codes:
            codes.append(code)
    if pair and re.search(
        r"\b(?:two|both) countries\b|\bour countries\b|bilateral", sentence.text, re.I
    ):
        codes += [c for c in pair if c not in codes]
    if pair and len(codes) < 2:
        codes += [c for c in pair if c not in codes]
    return codes[:2]


def _investment(
    sentence: Span, amount: Span, pair: tuple[str, str] | None
) -> tuple[str, str] | None:
    """Who invested in whom: the country before the verb invests in the one after 'in/into'."""
    text = sentence.text
    verb = _INVEST.search(text)
    if verb is None:
        return None
    mentions = country_mentions(text)
    # "Georgian companies in Japan have invested ...": a country after "in" before the verb
    # is where the investors are, not who they are.
    before = [
        c
        for s, c in mentions
        if s.start < verb.start()
        and not re.search(r"\b(?:in|into|at)\s+(?:the\s+)?$", text[: s.start])
    ]
    target = re.search(r"\b(?:in|into|to)\s+(?:the\s+)?(?P<rest>[^.;]{0,80})", text[verb.end() :])
    after = [c for _, c in country_mentions(target.group("rest"))] if target else []
    subject = before[-1] if before else None
    counterpart = next((c for c in after if c != subject), None)
    if subject and counterpart:
        return subject, counterpart
    if pair and subject:
        return subject, next(c for c in pair if c != subject)
    if pair and counterpart:
        return next(c for c in pair if c != counterpart), counterpart
    return None


# --- which figure is which: kind, flow, modality, part -------------------------------------

_KIND_WORDS: list[tuple[FactKind, re.Pattern[str]]] = [
    (
        FactKind.investment,
        re.compile(r"\binvest(?:ed|s|ing|ment|ments|or|ors)?\b|\bFDI\b|\bcapital\b", re.I),
    ),
    (
        FactKind.financing,
        re.compile(
            r"\b(?:loans?|credit lines?|credits?|grants?|financing|financial (?:aid|assistance|"
            r"support)|aid|assistance|funding|lend(?:s|ing)?|lent)\b",
            re.I,
        ),
    ),
    (
        FactKind.exports,
        re.compile(
            r"\b(?:exports?|exported|exporting|imports?|imported|importing|supplies (?:to|from)|"
            r"shipments (?:to|from))\b",
            re.I,
        ),
    ),
    (
        FactKind.trade_turnover,
        re.compile(
            r"\b(?:trade turnover|trade volume|volume of trade|turnover|trade|commerce|"
            r"(?:economic|trade) exchanges?)\b",
            re.I,
        ),
    ),
]
_IMPORT = re.compile(r"\bimport(?:s|ed|ing)?\b", re.I)
_LEAD_CHARS = 600
"""How far into an article its lead runs: the event it reports."""
_ANAPHOR = re.compile(r"\b(?:it|the figure|this figure|this indicator|the indicator)\b", re.I)
"""'In 2020, it only slightly exceeded 23 billion zlotys': the figure of the sentence before."""
_BREAKDOWN = re.compile(r"\b(?:of (?:this|which|that|it|the total)|including|out of which)\b", re.I)


def _kind_near(body: str, at: int, end: int) -> FactKind | None:
    """The kind named nearest before the figure ('trade ... reached $X'), else just after
    it ('$X of investment'): in a sentence with both, each figure takes its own word."""
    best: tuple[int, FactKind] | None = None
    for kind, pattern in _KIND_WORDS:
        for m in pattern.finditer(body, 0, at):
            distance = at - m.end()
            if best is None or distance < best[0]:
                best = (distance, kind)
    if best is not None:
        return best[1]
    for kind, pattern in _KIND_WORDS:
        if pattern.search(body, end, end + 40):
            return kind
    return None


def _flow(
    kind: FactKind, clause: Span, at: int, pair: tuple[str, str] | None
) -> tuple[str, str] | None:
    """Who gives and who receives: the investor, lender or exporter first."""
    text = clause.text
    mentions = country_mentions(text)
    if kind is FactKind.exports:
        # The trade word of this figure: the nearest before it ("India's imports from Saudi
        # Arabia were $22.65 billion and exports to Saudi Arabia $7 billion").
        verbs = list(_KIND_WORDS[2][1].finditer(text, 0, at)) or list(
            _KIND_WORDS[2][1].finditer(text)
        )
        verb = verbs[-1] if verbs else None
        importing = bool(verb and _IMPORT.match(verb.group(0)))
        tail = text[verb.end() :] if verb else text
        # "imports of Russian goods to Ukraine": the goods' country is where they come from
        origin = re.search(r"\bfrom\s+(?:the\s+)?(\S+(?:\s\S+)?)", tail) or re.match(
            r"\s+of\s+(?:the\s+)?(\S+)\s+(?:goods|products|produce|commodities)\b", tail
        )
        dest = re.search(r"\b(?:to|into)\s+(?:the\s+)?(\S+(?:\s\S+)?)", tail)
        src = country_mentions(origin.group(1)) if origin else []
        dst = country_mentions(dest.group(1)) if dest else []
        first = verbs[0] if verbs else None
        before = [c for sp, c in mentions if first is not None and sp.start < first.start()]
        exporter: str | None
        importer: str | None
        if importing:
            importer = before[-1] if before else (dst[0][1] if dst else None)
            exporter = src[0][1] if src else None
        else:
            exporter = before[-1] if before else (src[0][1] if src else None)
            importer = dst[0][1] if dst else None
        exporter, importer = _complete(exporter, importer, pair)
        return (exporter, importer) if exporter and importer else None
    if kind is FactKind.financing:
        lender = re.search(r"\bfrom\s+(?:the\s+)?(\S+(?:\s\S+)?)", text)
        source = country_mentions(lender.group(1)) if lender else []
        giver: str | None
        taker: str | None
        if source:
            giver = source[0][1]
            taker = next((c for _, c in mentions if c != giver), None)
            giver, taker = _complete(giver, taker, pair)
            return (giver, taker) if giver and taker else None
        verb = _KIND_WORDS[1][1].search(text)
        before = [c for sp, c in mentions if verb is not None and sp.start < verb.start()]
        after = [c for sp, c in mentions if verb is not None and sp.start >= verb.start()]
        giver, taker = _complete(before[0] if before else None, after[0] if after else None, pair)
        return (giver, taker) if giver and taker else None
    return _investment(clause, Span(at, at, ""), pair)


def _present(body: str, at: int, published: date) -> TimeCandidate | None:
    """'The annual trade volume is around $10 billion': a figure stated in the present
    tense, with no time of its own, is as of the publication month."""
    if re.search(
        r"\b(?:is|are|stands? at|remains?|is valued at|are valued at|amounts? to|totals?)\s+"
        r"(?:\w+\s+){0,2}$",
        body[:at],
    ):
        return TimeCandidate("date", date=published.isoformat()[:7], text=None)
    return None


def _converted(body: str, at: int) -> bool:
    """'USD 6.06 billion (EGP 187.2 billion)': the figure in brackets right after another
    is the same figure in another currency, not a fact of its own."""
    return bool(
        re.search(r"[\d\w]\s*\(\s*(?:about|around|approx\.?|some|or|roughly)?\s*$", body[:at])
    )


def _earlier(body: str, at: int, end: int, amounts: list[Any], offset: int) -> bool:
    """The figure a change started from: 'increased ... from $500 million to $658 million',
    'from the earlier $0.81 million'. Said of a period, it is the same period a year before."""
    if not re.search(r"\bfrom\s+(?:the\s+)?(?:earlier\s+|previous\s+)?$", body[:at], re.I):
        return False
    return any(span.start - offset >= end for span, _ in amounts)


def _year_before(time: TimeCandidate | None) -> TimeCandidate | None:
    def back(value: str | None) -> str | None:
        if value is None:
            return None
        earlier = f"{int(value[:4]) - 1:04d}{value[4:]}"
        return earlier.replace("-02-29", "-02-28")

    if time is None:
        return None
    return TimeCandidate(
        time.type, date=back(time.date), start=back(time.start), end=back(time.end)
    )


def _the_other_way(
    body: str, at: int, last: tuple[str, str] | None, last_import: bool | None
) -> tuple[str, str] | None:
    """A trade word with no country of its own, after a flow: the same flow for the same
    word, the reverse for the opposite one ('exports to Azerbaijan totaled $132 million,
    while imports were $50 million')."""
    words = list(_KIND_WORDS[2][1].finditer(body, 0, at))
    if last is None or last_import is None or not words:
        return None
    importing = bool(_IMPORT.match(words[-1].group(0)))
    return (last[1], last[0]) if importing != last_import else last


def _nearest_time(
    times: list[tuple[int, int, TimeCandidate]], at: int, end: int, figures: list[Span]
) -> tuple[int, int, TimeCandidate] | None:
    """The time words a figure goes with: right after it ('$5.3 billion in 2020') unless
    another figure comes first, else the nearest before it."""
    for start, stop, found in times:
        if 0 <= start - end <= 45 and not any(end <= f.start < start for f in figures):
            return start, stop, found
    before = [t for t in times if t[1] <= at]
    return before[-1] if before else None


def _stretch(article: str, evidence: Span, start: int, end: int) -> Span:
    """The evidence, widened to take in words outside it (a time said elsewhere in the
    sentence), so that the time's words lie inside the evidence as the API requires."""
    first, last = min(evidence.start, start), max(evidence.end, end)
    if (first, last) == (evidence.start, evidence.end):
        return evidence
    return Span(first, last, article[first:last])


def _complete(
    first: str | None, second: str | None, pair: tuple[str, str] | None
) -> tuple[str | None, str | None]:
    """Fill a missing side from the article's pair."""
    if pair and first and not second and first in pair:
        second = next(c for c in pair if c != first)
    if pair and second and not first and second in pair:
        first = next(c for c in pair if c != second)
    return first, second


_TARGET = re.compile(
    r"\b(?:targets?|targeted|targeting|goal|aims?|aimed|aiming|objective|ambition|plans?|"
    r"planned|planning|intends?|intended|seeks?|seeking|agreed|pledged?|committed|vowed|"
    r"determined|task|bid|priorit(?:y|ies)|(?:decided|intends|intend) to|(?:rais|increas|doubl|"
    r"tripl|tak|elevat|scal)(?:e|es|ing)\b[^.;$€£¥]{0,60}?\b(?:up )?to|(?:boost|bring|lift|"
    r"expand|grow|push)(?:s|ing)?\b[^.;$€£¥]{0,60}?\b(?:up )?to)\b",
    re.I,
)
_FORECAST = re.compile(
    r"\b(?:will|would|could|may|might|shall|can)\b|\b(?:is|are)\s+(?:likely|set|poised|"
    r"projected|forecast|expected|estimated|anticipated|on track)\s+to\b|\bexpect(?:s|ed|"
    r"ing|ations?)?\b|\bprojected\b|\bforecasts?\b|\bpredict(?:s|ed|ions?)?\b|\bconfident\b|"
    r"\banticipat(?:e|es|ed|ing)\b|\bpotential\b|\bhopes?\b|\bbelieves?\b|\bcapacity to\b",
    re.I,
)
_ACHIEVED = re.compile(
    r"\b(?:achieved|reached|realized|realised|met|fulfilled|attained|surpassed|exceeded)\b", re.I
)


def modality_of(body: str, at: int, end: int, published: date) -> Modality:
    """Whether the figure at body[at:end] is a reported figure, a target or a forecast.

    The cue nearest before the figure in its clause decides ("agreed to raise trade to
    $10 billion": target; "expects trade to reach $5 billion": forecast), and a future year
    right after it ("$10 billion by 2030") makes a figure without a cue a target. A goal
    the text says was reached is reported.
    """
    before = body[:at]
    target = [m for m in _TARGET.finditer(before)]
    forecast = [m for m in _FORECAST.finditer(before)]
    after = body[end : end + 40]
    future = re.match(r"[^.;]{0,25}?\b(?:by|in|until)\s+(?:the end of\s+)?(\d{4})\b", after)
    ahead = bool(future and int(future.group(1)) > published.year)
    if target and _ACHIEVED.search(body[target[-1].end() :]) and not forecast:
        return Modality.reported
    if target and (not forecast or target[-1].start() > forecast[-1].start()):
        return Modality.target
    if forecast:
        return Modality.forecast
    if ahead:
        return Modality.target
    return Modality.reported


def _target_time(body: str, at: int, end: int, published: date) -> TimeCandidate | None:
    """A target's or forecast's time is the year it is for: 'by 2030', 'next year'."""
    around = body[max(0, at - 80) : end + 60]
    m = re.search(r"\b(?:by|in|until|before)\s+(?:the end of\s+)?(\d{4})\b", around)
    if m and int(m.group(1)) >= published.year:
        return TimeCandidate("date", date=m.group(1), text=m.group(0))
    m = re.search(r"\bnext year\b", around, re.I)
    if m:
        return TimeCandidate("date", date=f"{published.year + 1:04d}", text=m.group(0))
    m = re.search(r"\b(?:over|in|within) the (?:next|coming) (\w+) years\b", around, re.I)
    years = number_from_words(m.group(1)) if m else None
    if m and years and years < 50:
        return TimeCandidate("date", date=f"{published.year + years:04d}", text=m.group(0))
    m = re.search(rf"\b(?i:in) ({MONTH_PATTERN})\b(?! \d)", around)
    if m:
        month = MONTHS[m.group(1).lower()]
        year = published.year + (1 if month < published.month else 0)
        return TimeCandidate("date", date=f"{year:04d}-{month:02d}", text=m.group(0))
    m = re.search(r"\b(?:by the end of|by end of|within) (?:this|the) year\b", around, re.I)
    if m:
        return TimeCandidate("date", date=f"{published.year:04d}", text=m.group(0))
    return None


_SECTOR = re.compile(
    r"^[^.;]{0,30}?\b(?:in|to|into|for|on)\s+(?:the\s+)?(?P<sector>[a-z][a-z-]*(?:\s(?:and|&)\s"
    r"[a-z][a-z-]*)?|[a-z][a-z-]*\s[a-z][a-z-]*)\s+(?:sector|industry|sphere|field)s?\b"
)


def _sector_after(body: str, end: int) -> str | None:
    """'$212 mln went to the oil sector' -> 'oil': the part of a breakdown."""
    m = _SECTOR.match(body[end:])
    return m.group("sector") if m else None


def _statement(evidence: Span) -> str:
    text = evidence.text.strip()
    text = re.sub(
        r"^(?:and|but|so|thus|as a result|notably|in parallel|additionally|furthermore),?\s+",
        "",
        text,
        flags=re.I,
    )
    return (text[0].upper() + text[1:]).rstrip(" ,;:") + "."


_CLAUSE_BREAK = re.compile(
    r";\s+|,\s+(?=(?:with|while|whereas)\b|and (?:since|over|in|for|during)\b)"
)


def clauses(sentence: Span) -> list[Span]:
    """Split a sentence where a new claim starts: '..., with X in 1992, and since then ...'."""
    spans, start = [], 0
    for m in _CLAUSE_BREAK.finditer(sentence.text):
        spans.append(
            Span(
                sentence.start + start, sentence.start + m.start(), sentence.text[start : m.start()]
            )
        )
        start = m.end()
    spans.append(Span(sentence.start + start, sentence.end, sentence.text[start:]))
    return [s for s in spans if s.text.strip()]


def facts_in_sentence(
    text: str,
    sentence: Span,
    published: date,
    pair: tuple[str, str] | None,
    alpha2: set[str],
    context: Context,
    speaker: Person | None,
) -> list[FactCandidate]:
    """Each clause is read on its own; a clause without a time of its own takes the
    sentence's, and its evidence then stretches back to include those words."""
    whole = _trim_evidence(text, sentence)
    frozen = Context(context.last_since, context.last_date, last_time=context.last_time)
    sentence_time = resolve_time(whole.text, published, frozen)
    times = [
        (whole.start + start, whole.start + end, found)
        for start, end, found in time_spans(whole.text, published, frozen)
    ]
    parties = _parties(whole, pair)
    out: list[FactCandidate] = []
    for clause in clauses(whole):
        time = resolve_time(clause.text, published, context)
        evidence = clause
        if time is None and sentence_time is not None and sentence_time.text:
            time = sentence_time
            at = whole.text.find(sentence_time.text)
            start = min(clause.start, whole.start + at)
            end = max(clause.end, whole.start + at + len(sentence_time.text))
            evidence = Span(start, end, text[start:end])
        out.extend(
            facts_in(
                clause,
                evidence,
                time,
                published,
                parties,
                alpha2,
                pair,
                speaker,
                context,
                times,
                text,
            )
        )
        if time is not None:
            if time.type == "date" and time.date:
                context.last_date = time.date
            elif time.start:
                context.last_date = time.start
            if (
                time.type == "period"
                and time.text
                and time.text.lower().startswith("since")
                and "then" not in time.text
            ):
                context.last_since = time.start
    return out


def facts_in(
    clause: Span,
    evidence: Span,
    time: TimeCandidate | None,
    published: date,
    parties: list[str],
    alpha2: set[str],
    pair: tuple[str, str] | None,
    speaker: Person | None,
    context: Context,
    times: list[tuple[int, int, TimeCandidate]] | None = None,
    article: str = "",
) -> list[FactCandidate]:
    """The rules, read on the clause; candidates cite `evidence` (the clause, stretched to
    include a time it borrows from its sentence)."""
    body = clause.text
    out: list[FactCandidate] = []

    def add(kind: FactKind, **kwargs: Any) -> None:
        subject = kwargs.pop("subject", parties[0] if parties else None)
        counterpart = kwargs.pop("counterpart", parties[1] if len(parties) > 1 else None)
        if subject is None or counterpart is None or subject == counterpart:
            return
        modality = kwargs.pop("modality", Modality.reported)
        rule = f"{kind.value}/{modality.value}"
        cited = kwargs.pop("evidence", evidence)
        out.append(
            FactCandidate(
                kind=kind,
                statement=_statement(cited),
                subject=subject,
                counterpart=counterpart,
                direction=kwargs.pop("direction", Direction.bilateral),
                evidence=cited,
                confidence=calibrated(rule),
                time=kwargs.pop("time", time),
                speaker=speaker,
                modality=modality,
                rule=rule,
                **kwargs,
            )
        )

    amounts = [
        (span, quantity)
        for span, quantity in money(clause, alpha2)
        if not _DOMESTIC.search(
            body[max(0, span.start - clause.start - 80) : span.start - clause.start]
        )
        and not _converted(body, span.start - clause.start)
        and not re.search(
            r"\b(?:balance|surplus|deficit)\b",
            body[max(0, span.start - clause.start - 60) : span.start - clause.start],
            re.I,
        )
    ]
    for span, quantity in amounts:
        at, end = span.start - clause.start, span.end - clause.start
        kind = _kind_near(body, at, end) or (
            context.last_kind if _BREAKDOWN.search(body) or _ANAPHOR.search(body[:at]) else None
        )
        if kind is None:
            continue
        modality = modality_of(body, at, end, published)
        when = _target_time(body, at, end, published) if modality != Modality.reported else None
        sector = _sector_after(body, end)
        extra: dict[str, Any] = {"modality": modality, "sector": sector}
        if when is None and times:
            nearest = _nearest_time(times, span.start, span.end, [a for a, _ in amounts])
            if nearest is not None:
                when = nearest[2]
                extra["evidence"] = _stretch(article, evidence, nearest[0], nearest[1])
        if when is None and time is None and _BREAKDOWN.search(body) and context.last_time:
            last = context.last_time  # a part of the whole just given: the same time
            when = TimeCandidate(last.type, date=last.date, start=last.start, end=last.end)
        if when is None and time is None and modality == Modality.reported:
            when = _present(body, at, published)
        if _earlier(body, at, end, amounts, clause.start) and (when or time):
            when = _year_before(when or time)  # "from $500 million" in a rise "to $658 million"
        if when is not None:
            extra["time"] = when
            if modality == Modality.reported and when.text is not None:
                context.last_time = when
        if kind in (FactKind.investment, FactKind.financing, FactKind.exports):
            flow = _flow(kind, clause, at, pair)
            if flow is None and kind is context.last_kind and _BREAKDOWN.search(body):
                flow = context.last_flow  # "Of this, $212 mln went to the oil sector"
            if flow is None and kind is FactKind.exports and context.last_kind is kind:
                # "exports to Azerbaijan totaled $132 million, while imports were $50 million":
                # the other way round
                flow = _the_other_way(body, at, context.last_flow, context.last_import)
            if flow is None:
                continue
            context.last_flow = flow
            if kind is FactKind.exports:
                words = list(_KIND_WORDS[2][1].finditer(body, 0, at))
                context.last_import = bool(words and _IMPORT.match(words[-1].group(0)))
            add(
                kind,
                quantity=quantity,
                subject=flow[0],
                counterpart=flow[1],
                direction=Direction.subject_to_counterpart,
                **extra,
            )
        elif len(parties) == 2:
            add(FactKind.trade_turnover, quantity=quantity, **extra)
        context.last_kind = kind

    for change in growth_figures(body):
        at, stop = change.start, change.end
        kind = _kind_near(body, at, stop) or (
            context.last_kind if _ANAPHOR.search(body[:at]) else None
        )
        if kind not in (FactKind.trade_turnover, FactKind.exports):
            continue
        modality = modality_of(body, at, stop, published)
        extra = {"modality": modality}
        if times:
            nearest = _nearest_time(times, clause.start + at, clause.start + stop, [])
            if nearest is not None:
                extra["time"] = nearest[2]
                extra["evidence"] = _stretch(article, evidence, nearest[0], nearest[1])
        if modality != Modality.reported:
            target_time = _target_time(body, at, stop, published)
            if target_time is not None:
                extra["time"] = target_time
        if kind is FactKind.exports:
            flow = _flow(kind, clause, at, pair)
            if flow is None:
                continue
            add(
                FactKind.trade_growth,
                quantity=change.quantity,
                subject=flow[0],
                counterpart=flow[1],
                direction=Direction.subject_to_counterpart,
                **extra,
            )
        elif len(parties) == 2:
            add(FactKind.trade_growth, quantity=change.quantity, **extra)

    rank = _RANK.search(body)
    if rank and len(parties) == 2:
        word = rank.group("ord") or rank.group("ord2")
        possessive = re.search(r"['’]s?$", word) or word.lower() in ("the", "its", "their")
        ordinal = ordinal_from_words(word) or (1 if possessive else None)
        partner = _ranked_partner(body, rank, parties)
        if ordinal and partner:
            add(
                FactKind.partner_rank,
                subject=partner[0],
                counterpart=partner[1],
                quantity=QuantityCandidate(
                    Decimal(ordinal),
                    "rank",
                    Comparator.exact,
                    None,
                    word
                    if rank.group("ord2")
                    else rank.group(0).split(" partner")[0].rsplit(" ", 1)[0],
                ),
                time=time or TimeCandidate("date", date=published.isoformat()[:7]),
            )

    signing = _SIGN.search(body)
    if signing and _AGREEMENT_WORDS.search(body):
        docs = _DOCS.search(body)
        count = number_from_words(docs.group("count")) if docs else None
        named = _AGREEMENT_WORDS.search(body)
        what = docs.group("what") if docs else (named.group(0) if named else "agreement")
        agreement_count: QuantityCandidate | None = None
        if count is not None and docs is not None:
            hedge = docs.group("hedge")
            agreement_count = QuantityCandidate(
                Decimal(count),
                "documents",
                HEDGES[hedge.lower()] if hedge else Comparator.exact,
                hedge,
                docs.group(0),
            )
        sectors = _sectors(body)
        event = _EVENT.search(body)
        will = modality_of(body, signing.start(), signing.end(), published)
        add(
            FactKind.agreement,
            quantity=agreement_count,
            modality=will,
            **(
                {"time": _target_time(body, 0, len(body), published) or time}
                if will.value != "reported"
                else {}
            ),
            agreement={
                "title": _agreement_title(what, count, sectors, body),
                "parties": parties,
                "event_name": event.group("event").strip() if event else None,
                "documents": count,
                "sectors": sectors,
            },
        )
    elif (meeting := _DIPLOMATIC.search(body)) and not amounts and len(parties) == 2:
        will = modality_of(body, meeting.start(), meeting.end(), published)
        if will is not Modality.reported:
            add(
                FactKind.diplomatic_event,
                modality=will,
                time=_target_time(body, 0, len(body), published) or time,
            )
        else:
            lead = time is None and clause.start < _LEAD_CHARS
            # The meeting a story opens with happened on its day (the dateline's).
            add(
                FactKind.diplomatic_event,
                time=TimeCandidate("date", date=published.isoformat()) if lead else time,
            )
    elif _RELATIONSHIP.search(body) and not amounts and len(parties) == 2:
        duration: QuantityCandidate | None = None
        years = re.search(r"\bfor (\w+) years\b", body, re.I)
        if years and number_from_words(years.group(1)):
            duration = QuantityCandidate(
                Decimal(number_from_words(years.group(1)) or 0),
                "years",
                Comparator.exact,
                None,
                years.group(0)[4:],
            )
        add(
            FactKind.relationship_status,
            quantity=duration,
            time=time or TimeCandidate("date", date=published.isoformat()[:7]),
        )

    return out


def _ranked_partner(body: str, rank: re.Match[str], parties: list[str]) -> tuple[str, str] | None:
    """'made China Azerbaijan's fourth-largest partner': China is ranked among Azerbaijan's."""
    owner_match = None
    for span, code in country_mentions(body[: rank.end()]):
        if re.match(r"['’]s?\b|['’](?=\s)", body[span.end : span.end + 2]):
            owner_match = code
    of = re.match(r"\s+(?:of|for)\s+(?:the\s+)?(\S+(?:\s\S+)?)", body[rank.end() :])
    if owner_match is None and of is not None:
        owners = country_mentions(of.group(1))
        owner_match = owners[0][1] if owners else None
    if owner_match is None:
        return None
    other = next((c for c in parties if c != owner_match), None)
    return (other, owner_match) if other else None


def _sectors(body: str) -> list[str]:
    m = _SECTORS.search(body)
    if not m:
        return []
    parts = re.split(r",\s*(?:and\s+)?|\s+and\s+", m.group("list"))
    return [p.strip() for p in parts if p.strip() and len(p.split()) <= 3]


_TITLE = re.compile(
    r"\b(?P<title>(?:agreement|memorandum of understanding|memorandum|MoU|MOU|protocol|"
    r"declaration|accord|roadmap|treaty|convention|contract|programme|program)s? "
    r"(?:on|for|in the (?:field|area|sphere)s? of|regarding|concerning|to (?:promote|establish|"
    r"develop|avoid)) [^,.;()]{3,100}?)(?=,|\.|;|\(| and (?:a|an|the|several|\d+)\b| at | "
    r"during | in (?:the )?presence| between | were | was | signed| on (?:Monday|Tuesday|"
    r"Wednesday|Thursday|Friday|Saturday|Sunday)|$)",
    re.I,
)


def _agreement_title(what: str, count: int | None, sectors: list[str], body: str = "") -> str:
    """'Agreement on transport and logistics cooperation' as the article names it; else
    the count and noun ('10 documents') with the sectors they cover."""
    named = _TITLE.search(body)
    if named and (count is None or count <= 1):
        title = named.group("title").strip()
        return title[0].upper() + title[1:]
    noun = what.strip()
    head = f"{count} {noun}" if count and count > 1 else noun
    title = head[0].upper() + head[1:]
    if sectors:
        title += " on " + ", ".join(sectors)
    return title


# --- the whole article --------------------------------------------------------------------


def extract(text: str, published: date, *, parser: bool = True) -> Extraction:
    """Candidates from one article; `parser=False` runs the rules without the statistical
    parse (how the evaluation measures what the parse adds)."""
    mentions = country_mentions(text)
    pair = main_pair(mentions)
    alpha2 = {
        str(record.alpha_2)
        for _, code in mentions
        if (record := pycountry.countries.get(alpha_3=code)) is not None
    }
    persons = people(text, parser=parser)
    speakers = Speakers(text, persons)
    if parser:
        speakers.use_parse()
    found_quotes = quotes(text, speakers)
    context = Context()
    facts: list[FactCandidate] = []
    voice = speakers.one_voice() or lead_source(text)
    last: tuple[int, Person | None] = (-1, None)
    for sentence in sentences(text):
        inside = next(
            (q for q in found_quotes if q.evidence.start <= sentence.start < q.evidence.end), None
        )
        paragraph = text.rfind("\n", 0, sentence.start)
        if inside is not None:
            speaker = inside.speaker
        else:
            # Reported speech runs on within a paragraph: "He underlined that ... . Last
            # year, trade grew by 40%." is still his claim.
            carried = last[1] if last[0] == paragraph else None
            speaker = claimant(speakers, sentence.text, sentence.start, carried or voice)
        last = (paragraph, speaker)
        facts.extend(facts_in_sentence(text, sentence, published, pair, alpha2, context, speaker))
    first_line = text.split("\n", 1)[0].rstrip()
    headline = len(first_line) if not first_line.endswith((".", "!", "?", '"', "”")) else 0
    return Extraction(facts=once(facts, headline), quotes=found_quotes, people=persons, pair=pair)


def once(facts: list[FactCandidate], headline: int = 0) -> list[FactCandidate]:
    """A figure stated twice (in the headline and the body, in the lead and a quote) is one
    fact: keep the statement that says most about it (a time, a claimant), the body's
    rather than the headline's (text[:headline]), else the first."""
    best: dict[tuple[Any, ...], FactCandidate] = {}
    order: list[tuple[Any, ...]] = []
    for fact in facts:
        if fact.quantity is None:
            key: tuple[Any, ...] = (id(fact),)
        else:
            key = (
                fact.kind,
                frozenset((fact.subject, fact.counterpart)),
                fact.direction,
                fact.quantity.value,
                fact.quantity.unit,
                fact.modality,
            )
        if key not in best:
            best[key] = fact
            order.append(key)
        elif _richness(fact, headline) > _richness(best[key], headline):
            best[key] = fact
    return [best[key] for key in order]


def _richness(fact: FactCandidate, headline: int) -> float:
    said = (fact.time is not None and fact.time.text is not None) + (fact.speaker is not None)
    return said + 0.5 * (fact.evidence.start >= headline)


def claimant(speakers: Speakers, sentence: str, offset: int, voice: Person | None) -> Person | None:
    """Who a sentence outside quotation marks attributes its claim to: a name or an
    organization with a reporting verb or 'according to'; 'he noted that' (the last one
    named); the one voice of an interview; else nobody (the outlet's own voice)."""
    named = speakers.named(sentence)
    says = re.search(_SAY, sentence) or re.search(r"\baccording to\b", sentence, re.I)
    if named is not None and says:
        return named
    organization = speakers.organization(sentence)
    if organization is not None and says:
        return organization
    pronoun = speakers.pronoun(sentence, offset)
    if pronoun is not None:
        return pronoun
    return voice

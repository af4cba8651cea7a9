"""Precision and recall of the extractor against hand-annotated articles.

An annotated article is a YAML file in the seed format (app/seed/data is one;
tests/data/corpus holds the corpus of real articles, each marked `split: dev` or
`split: test`) beside its text. A candidate fact is *fully right* when kind, pair
(order-insensitive unless directed), direction, value, unit, comparator, modality, the
time covered and the claimant all agree with a gold fact; a candidate quote is right when
it covers the same words (overlap of at least 90%) and names the same speaker. Each gold
item is matched at most once.

Rules are developed on dev only. `calibration()` turns the dev results into the table
that app/ingestion/calibration.py reads: per rule, how many candidates it produced and
how many were fully right.
"""

from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from itertools import pairwise
from pathlib import Path
from typing import Any

import yaml

from app.ingestion.extract import Extraction, FactCandidate, Person, QuoteCandidate, extract
from app.timeframes import ReducedDate

BUCKETS = (0.0, 0.3, 0.5, 0.7, 0.85, 1.01)


@dataclass
class Score:
    gold: Counter[str] = field(default_factory=Counter)
    found: Counter[str] = field(default_factory=Counter)
    matched_gold: Counter[str] = field(default_factory=Counter)
    matched_found: Counter[str] = field(default_factory=Counter)
    rules: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    """rule -> {found, right}"""
    confidences: list[tuple[float, bool]] = field(default_factory=list)
    non_reported_as_reported: int = 0
    articles: int = 0
    split: str = "dev"
    """`dev` or `test`, as the article's file says (the seed and older files: dev)."""
    """Gold targets and forecasts that a candidate drafted as reported figures."""

    def add(self, other: "Score") -> None:
        for mine, theirs in (
            (self.gold, other.gold),
            (self.found, other.found),
            (self.matched_gold, other.matched_gold),
            (self.matched_found, other.matched_found),
        ):
            mine.update(theirs)
        for rule, counts in other.rules.items():
            self.rules[rule].update(counts)
        self.confidences.extend(other.confidences)
        self.non_reported_as_reported += other.non_reported_as_reported
        self.articles += other.articles

    def precision(self, kind: str | None = None, *, facts_only: bool = False) -> float:
        found = self._sum(self.found, kind, facts_only)
        hits = self._sum(self.matched_found, kind, facts_only)
        return hits / found if found else 1.0

    def recall(self, kind: str | None = None, *, facts_only: bool = False) -> float:
        gold = self._sum(self.gold, kind, facts_only)
        hits = self._sum(self.matched_gold, kind, facts_only)
        return hits / gold if gold else 1.0

    @staticmethod
    def _sum(counter: Counter[str], kind: str | None, facts_only: bool) -> int:
        if kind:
            return counter[kind]
        return sum(v for k, v in counter.items() if not (facts_only and k == "quote"))

    def kinds(self) -> list[str]:
        return sorted(set(self.gold) | set(self.found))


def _interval(time: dict[str, Any] | None) -> tuple[date, date] | None:
    if not time:
        return None
    if time.get("type") == "date":
        day = ReducedDate.parse(str(time["date"]))
        return day.first_day, day.last_day
    return ReducedDate.parse(str(time["start"])).first_day, ReducedDate.parse(
        str(time["end"])
    ).last_day


def _same_speaker(gold_id: str | None, found: Person | None, names: dict[str, set[str]]) -> bool:
    """The candidate names the annotated entity: by its name or one of its aliases."""
    if not gold_id:
        return found is None
    if found is None:
        return False
    got = found.name.lower()
    known = names.get(gold_id, {gold_id.lower()})
    if got in known:
        return True
    # The same entity under a shorter form an editor would accept: 'S Jaishankar' for
    # 'Subrahmanyam Jaishankar', 'Adeniyi Adebayo' for 'Richard Adeniyi Adebayo', 'Ministry
    # of Trade, Industry and Energy' for the same '... of South Korea'.
    words = got.split()
    for name in known:
        parts = name.split()
        if (
            found.kind == "person"
            and len(words) >= 2
            and len(parts) >= 2
            and words[-1] == parts[-1]
            and (words[0][0] == parts[0][0] or set(words) <= set(parts))
        ):
            return True
        if found.kind == "organization" and len(words) >= 3 and name.startswith(got):
            return True
    return False


def _fact_matches(gold: dict[str, Any], found: FactCandidate, names: dict[str, set[str]]) -> bool:
    if gold["kind"] != found.kind.value or gold["direction"] != found.direction.value:
        return False
    if gold.get("modality", "reported") != found.modality.value:
        return False
    pair = (gold["subject"], gold.get("counterpart"))
    got = (found.subject, found.counterpart)
    if pair != got and not (gold["direction"] == "bilateral" and pair == got[::-1]):
        return False
    quantity = gold.get("quantity")
    if (quantity is None) != (found.quantity is None):
        return False
    if (
        quantity
        and found.quantity
        and (
            Decimal(str(quantity["value"])) != found.quantity.value
            or quantity["unit"] != found.quantity.unit
            or quantity["comparator"] != found.quantity.comparator.value
        )
    ):
        return False
    if _interval(gold.get("time")) != _interval(found.time.as_input() if found.time else None):
        return False
    return _same_speaker(gold.get("claimed_by"), found.speaker, names)


def _overlaps(gold: dict[str, Any], start: int, end: int) -> bool:
    g0, g1 = int(gold["evidence"]["start"]), int(gold["evidence"]["end"])
    overlap = max(0, min(g1, end) - max(g0, start))
    return overlap >= 0.9 * max(g1 - g0, end - start)


def _quote_matches(gold: dict[str, Any], found: QuoteCandidate, names: dict[str, set[str]]) -> bool:
    return _overlaps(gold, found.evidence.start, found.evidence.end) and _same_speaker(
        gold["speaker"], found.speaker, names
    )


def load(path: Path) -> tuple[dict[str, Any], str]:
    spec: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    text = (path.parent / spec["source"]["text_file"]).read_text(encoding="utf-8")
    return spec, text


def split_of(path: Path) -> str:
    """`dev` or `test` as the corpus file says; the curated seed and older annotated
    articles are development material."""
    spec = yaml.safe_load(path.read_text(encoding="utf-8"))
    return str(spec.get("split") or "dev")


def evaluate_file(path: Path, *, parser: bool = True) -> tuple[Score, Extraction]:
    spec, text = load(path)
    published = date.fromisoformat(str(spec["source"]["published"]))
    names = {
        str(e["id"]): {
            str(n).lower() for n in [e.get("name") or e["id"], *(e.get("aliases") or [])]
        }
        for e in spec.get("entities") or []
    }
    extraction = extract(text, published, parser=parser)
    score = Score(articles=1, split=str(spec.get("split") or "dev"))
    pending = list(extraction.facts)
    right: set[int] = set()
    golds = spec.get("facts") or []
    for gold in golds:
        score.gold[gold["kind"]] += 1
        hit = next((f for f in pending if _fact_matches(gold, f, names)), None)
        if hit is not None:
            pending.remove(hit)
            right.add(id(hit))
            score.matched_gold[gold["kind"]] += 1
            score.matched_found[gold["kind"]] += 1
    for found in extraction.facts:
        ok = id(found) in right
        score.found[found.kind.value] += 1
        score.rules[found.rule]["found"] += 1
        score.rules[found.rule]["right"] += ok
        score.confidences.append((found.confidence, ok))
    for gold in golds:
        if gold.get("modality", "reported") == "reported" or not gold.get("quantity"):
            continue
        value = Decimal(str(gold["quantity"]["value"]))
        start, end = int(gold["evidence"]["start"]), int(gold["evidence"]["end"])
        if any(
            f.modality.value == "reported"
            and f.quantity is not None
            and f.quantity.value == value
            and start <= f.evidence.end
            and f.evidence.start <= end
            for f in extraction.facts
        ):
            score.non_reported_as_reported += 1

    quotes = list(extraction.quotes)
    quote_right: set[int] = set()
    for gold in spec.get("quotes") or []:
        score.gold["quote"] += 1
        quote_hit = next((q for q in quotes if _quote_matches(gold, q, names)), None)
        if quote_hit is not None:
            quotes.remove(quote_hit)
            quote_right.add(id(quote_hit))
            score.matched_gold["quote"] += 1
            score.matched_found["quote"] += 1
    gold_quotes = spec.get("quotes") or []
    for quote in extraction.quotes:
        # A quotation nobody annotated is not counted against the speaker passes: the
        # annotators marked passages of six words or more, and so does the extractor.
        if not any(_overlaps(g, quote.evidence.start, quote.evidence.end) for g in gold_quotes):
            continue
        ok = id(quote) in quote_right
        score.found["quote"] += 1
        score.rules[quote.rule]["found"] += 1
        score.rules[quote.rule]["right"] += ok
        score.confidences.append((quote.confidence, ok))
    return score, extraction


def evaluate(
    paths: list[Path], *, parser: bool = True, each: Callable[[Path, Score], None] | None = None
) -> dict[str, Score]:
    """Scores per split (dev, test) over the given annotated files; `each` sees every
    article's own score as it comes."""
    scores: dict[str, Score] = {}
    for path in paths:
        score, _ = evaluate_file(path, parser=parser)
        if each is not None:
            each(path, score)
        scores.setdefault(score.split, Score(split=score.split)).add(score)
    return scores


def calibration(dev: Score) -> dict[str, Any]:
    """The table app/ingestion/calibration.py reads, from the dev split only."""
    facts_found = sum(v for k, v in dev.found.items() if k != "quote")
    facts_right = sum(v for k, v in dev.matched_found.items() if k != "quote")
    return {
        "note": "Written by `econfacts eval-extraction --calibrate` from the dev split of "
        "tests/data/corpus; do not edit by hand.",
        "overall": round(facts_right / facts_found, 4) if facts_found else None,
        "rules": {
            rule: {"found": counts["found"], "right": counts["right"]}
            for rule, counts in sorted(dev.rules.items())
        },
    }


def report(
    paths: list[Path], *, parser: bool = True, per_article: bool = False
) -> tuple[str, dict[str, Score]]:
    """Per split: a table per kind, the target check and a reliability table."""
    lines: list[str] = []

    def article(path: Path, score: Score) -> None:
        lines.append(f"{path.stem}")
        lines.extend(_table(score))

    scores = evaluate(paths, parser=parser, each=article if per_article else None)
    for split in sorted(scores):
        score = scores[split]
        lines.append(f"SPLIT {split.upper()} ({score.articles} articles)")
        lines.extend(_table(score))
        lines.append(
            f"  facts: recall {score.recall(facts_only=True):.0%}, precision "
            f"{score.precision(facts_only=True):.0%}; quotes with the right speaker: "
            f"{score.recall('quote'):.0%} of {score.gold['quote']}"
        )
        lines.append(
            f"  targets/forecasts drafted as reported figures: {score.non_reported_as_reported}"
        )
        lines.extend(_reliability(score))
    return "\n".join(lines), scores


def _table(score: Score) -> list[str]:
    rows = [f"  {'kind':<22}{'gold':>5}{'found':>6}{'precision':>11}{'recall':>8}"]
    for kind in score.kinds():
        rows.append(
            f"  {kind:<22}{score.gold[kind]:>5}{score.found[kind]:>6}"
            f"{score.precision(kind):>11.0%}{score.recall(kind):>8.0%}"
        )
    rows.append(
        f"  {'all':<22}{sum(score.gold.values()):>5}{sum(score.found.values()):>6}"
        f"{score.precision():>11.0%}{score.recall():>8.0%}"
    )
    return rows


def _reliability(score: Score) -> list[str]:
    rows = [f"  {'confidence':<14}{'drafts':>7}{'right':>7}{'observed':>10}"]
    for low, high in pairwise(BUCKETS):
        inside = [ok for c, ok in score.confidences if low <= c < high]
        if not inside:
            continue
        label = f"{low:.2f}-{min(high, 1.0):.2f}"
        rows.append(
            f"  {label:<14}{len(inside):>7}{sum(inside):>7}{sum(inside) / len(inside):>10.0%}"
        )
    return rows

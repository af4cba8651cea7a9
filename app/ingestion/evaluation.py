"""Precision and recall of the extractor against hand-annotated articles.

An annotated article is a YAML file in the seed format (app/seed/data is one,
tests/data holds more) beside its text. A candidate fact matches a gold fact
when kind, pair (order-insensitive unless directed), direction, value, unit,
comparator, the time covered and the speaker all agree; a candidate quote
matches when it covers the same words (overlap of at least 90%) and names the
same speaker. Each gold item is matched at most once.
"""

from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml

from app.ingestion.extract import Extraction, FactCandidate, QuoteCandidate, extract
from app.timeframes import ReducedDate


@dataclass
class Score:
    gold: Counter[str] = field(default_factory=Counter)
    found: Counter[str] = field(default_factory=Counter)
    matched_gold: Counter[str] = field(default_factory=Counter)
    matched_found: Counter[str] = field(default_factory=Counter)

    def add(self, other: "Score") -> None:
        for mine, theirs in (
            (self.gold, other.gold),
            (self.found, other.found),
            (self.matched_gold, other.matched_gold),
            (self.matched_found, other.matched_found),
        ):
            mine.update(theirs)

    def precision(self, kind: str | None = None) -> float:
        found = self.found[kind] if kind else sum(self.found.values())
        hits = self.matched_found[kind] if kind else sum(self.matched_found.values())
        return hits / found if found else 1.0

    def recall(self, kind: str | None = None) -> float:
        gold = self.gold[kind] if kind else sum(self.gold.values())
        hits = self.matched_gold[kind] if kind else sum(self.matched_gold.values())
        return hits / gold if gold else 1.0

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


def _fact_matches(gold: dict[str, Any], found: FactCandidate, names: dict[str, str]) -> bool:
    if gold["kind"] != found.kind.value or gold["direction"] != found.direction.value:
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
    speaker = names.get(gold.get("claimed_by") or "")
    return speaker == (found.speaker.name if found.speaker else None)


def _quote_matches(gold: dict[str, Any], found: QuoteCandidate, names: dict[str, str]) -> bool:
    g0, g1 = int(gold["evidence"]["start"]), int(gold["evidence"]["end"])
    f0, f1 = found.evidence.start, found.evidence.end
    overlap = max(0, min(g1, f1) - max(g0, f0))
    if overlap < 0.9 * max(g1 - g0, f1 - f0):
        return False
    return names.get(gold["speaker"]) == (found.speaker.name if found.speaker else None)


def evaluate_file(path: Path) -> tuple[Score, Extraction]:
    spec = yaml.safe_load(path.read_text(encoding="utf-8"))
    text = (path.parent / spec["source"]["text_file"]).read_text(encoding="utf-8")
    published = date.fromisoformat(str(spec["source"]["published"]))
    names = {e["id"]: e.get("name", e["id"]) for e in spec.get("entities") or []}
    extraction = extract(text, published)
    score = Score()
    pending = list(extraction.facts)
    for found in pending:
        score.found[found.kind.value] += 1
    for gold in spec.get("facts") or []:
        score.gold[gold["kind"]] += 1
        hit = next((f for f in pending if _fact_matches(gold, f, names)), None)
        if hit is not None:
            pending.remove(hit)
            score.matched_gold[gold["kind"]] += 1
            score.matched_found[gold["kind"]] += 1
    quotes = list(extraction.quotes)
    score.found["quote"] += len(quotes)
    for gold in spec.get("quotes") or []:
        score.gold["quote"] += 1
        quote_hit = next((q for q in quotes if _quote_matches(gold, q, names)), None)
        if quote_hit is not None:
            quotes.remove(quote_hit)
            score.matched_gold["quote"] += 1
            score.matched_found["quote"] += 1
    return score, extraction


def report(paths: list[Path]) -> tuple[str, Score]:
    """A table per article and a total, as the CLI prints it."""
    lines: list[str] = []
    total = Score()
    for path in paths:
        score, _ = evaluate_file(path)
        total.add(score)
        lines.append(f"{path.stem}")
        lines.extend(_table(score))
    lines.append("ALL ARTICLES")
    lines.extend(_table(total))
    return "\n".join(lines), total


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

"""Check annotated corpus files: `python tests/data/corpus/check.py FILE.yaml ...`.

A file passes when every span is the article's own text, every reference resolves, and
every field holds a value the seed loader accepts. It prints `ok` per good file and one
line per problem otherwise; the exit code is the number of bad files.
"""

import re
import sys
from pathlib import Path

import yaml

try:
    import pycountry
except ImportError:  # the project's venv has it
    pycountry = None

KINDS = {
    "investment",
    "financing",
    "trade_turnover",
    "exports",
    "trade_growth",
    "partner_rank",
    "agreement",
    "diplomatic_event",
    "relationship_status",
}
DIRECTIONS = {"bilateral", "subject_to_counterpart"}
MODALITIES = {"reported", "target", "forecast"}
COMPARATORS = {"exact", "approx", "more_than", "at_least", "less_than", "at_most"}
UNITS = {"documents", "rank", "ratio", "years", "percent", "count"}
ENTITY_KINDS = {"country", "person", "organization", "initiative", "event"}
DATE = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")


def check(path: Path) -> list[str]:
    problems: list[str] = []
    spec = yaml.safe_load(path.read_text(encoding="utf-8"))
    if spec.get("split") not in ("dev", "test"):
        problems.append("split: must be dev or test")
    src = spec.get("source") or {}
    for key in ("id", "outlet", "url", "title", "published", "language", "text_file"):
        if not src.get(key):
            problems.append(f"source.{key} is missing")
    if src.get("id") != path.stem:
        problems.append(f"source.id {src.get('id')!r} is not the file name {path.stem!r}")
    text_path = path.parent / str(src.get("text_file"))
    if not text_path.exists():
        return [*problems, f"{text_path.name} does not exist"]
    text = text_path.read_text(encoding="utf-8")
    if "\r" in text:
        problems.append("text has CR characters: use LF line ends")
    if not DATE.match(str(src.get("published", ""))):
        problems.append("source.published must be YYYY-MM-DD")

    entities: dict[str, dict] = {}
    for e in spec.get("entities") or []:
        ident = str(e.get("id"))
        if ident in entities:
            problems.append(f"entity {ident} listed twice")
        entities[ident] = e
        if e.get("kind") not in ENTITY_KINDS:
            problems.append(f"entity {ident}: kind {e.get('kind')!r}")
        if e.get("kind") == "country":
            if pycountry and pycountry.countries.get(alpha_3=ident) is None:
                problems.append(f"entity {ident}: not an ISO 3166-1 alpha-3 code")
        elif not e.get("name"):
            problems.append(f"entity {ident}: name missing")
    for e in entities.values():
        for role in e.get("roles") or []:
            org = role.get("organization")
            if org and org not in entities:
                problems.append(f"entity {e['id']}: role organization {org} not in entities")
    if src.get("outlet") not in entities:
        problems.append(f"outlet {src.get('outlet')} not in entities")

    def span(where: str, ev: dict) -> str:
        try:
            start, end, words = int(ev["start"]), int(ev["end"]), ev["text"]
        except (KeyError, TypeError, ValueError):
            problems.append(f"{where}: evidence needs start, end, text")
            return ""
        if text[start:end] != words:
            at = text.find(words)
            hint = f" (the words are at {at}:{at + len(words)})" if at >= 0 else ""
            problems.append(f"{where}: evidence [{start}:{end}] is not the text{hint}")
        return str(words)

    def ref(where: str, ident: object) -> None:
        if ident is not None and ident not in entities:
            problems.append(f"{where}: {ident} not in entities")

    fact_ids: set[str] = set()
    for f in spec.get("facts") or []:
        where = f"fact {f.get('id')}"
        if f.get("id") in fact_ids:
            problems.append(f"{where}: id used twice")
        fact_ids.add(f.get("id"))
        if f.get("kind") not in KINDS:
            problems.append(f"{where}: kind {f.get('kind')!r}")
        if f.get("direction") not in DIRECTIONS:
            problems.append(f"{where}: direction {f.get('direction')!r}")
        if f.get("modality") not in MODALITIES:
            problems.append(f"{where}: modality {f.get('modality')!r}")
        if not f.get("statement"):
            problems.append(f"{where}: statement missing")
        for key in ("subject", "counterpart", "claimed_by"):
            ref(f"{where} {key}", f.get(key))
        if not f.get("subject") or not f.get("counterpart"):
            problems.append(f"{where}: subject and counterpart are both needed")
        for m in f.get("mentions") or []:
            ref(f"{where} mentions", m)
        evidence = span(where, f.get("evidence") or {})
        q = f.get("quantity")
        if q:
            try:
                float(str(q["value"]))
            except (KeyError, ValueError):
                problems.append(f"{where}: quantity.value must be a number string")
            unit = str(q.get("unit"))
            if unit not in UNITS and not (
                unit.isupper() and (pycountry is None or pycountry.currencies.get(alpha_3=unit))
            ):
                problems.append(f"{where}: unit {unit!r}")
            if q.get("comparator") not in COMPARATORS:
                problems.append(f"{where}: comparator {q.get('comparator')!r}")
            if q.get("text") and q["text"] not in evidence:
                problems.append(f"{where}: quantity.text {q['text']!r} not inside the evidence")
        t = f.get("time")
        if t:
            if t.get("type") == "date":
                if not DATE.match(str(t.get("date"))):
                    problems.append(f"{where}: time.date {t.get('date')!r}")
            elif t.get("type") == "period":
                for key in ("start", "end"):
                    if not DATE.match(str(t.get(key))):
                        problems.append(f"{where}: time.{key} {t.get(key)!r}")
            else:
                problems.append(f"{where}: time.type must be date or period")
            if t.get("text") and t["text"] not in evidence:
                problems.append(f"{where}: time.text {t['text']!r} not inside the evidence")
        a = f.get("agreement")
        if (f.get("kind") == "agreement") != bool(a):
            problems.append(f"{where}: agreement block is for kind=agreement only, and required")
        if a:
            if not a.get("title"):
                problems.append(f"{where}: agreement.title missing")
            for p in a.get("parties") or []:
                ref(f"{where} agreement.parties", p)
            ref(f"{where} agreement.event", a.get("event"))
    for q in spec.get("quotes") or []:
        where = f"quote {q.get('id')}"
        ref(f"{where} speaker", q.get("speaker"))
        if not q.get("speaker"):
            problems.append(f"{where}: speaker missing")
        ref(f"{where} said_to", q.get("said_to"))
        for m in q.get("mentions") or []:
            ref(f"{where} mentions", m)
        for s in q.get("supports") or []:
            if s not in fact_ids:
                problems.append(f"{where}: supports {s}, not a fact of this file")
        span(where, q.get("evidence") or {})
    return problems


if __name__ == "__main__":
    bad = 0
    for name in sys.argv[1:]:
        found = check(Path(name))
        bad += bool(found)
        print(f"{name}: " + ("ok" if not found else "\n  " + "\n  ".join(found)))
    sys.exit(bad)

"""The HTML pages for people, read over HTTP without a browser: the overview, a pair's page
with its hedged figures, agreements and quotes, and evidence links that highlight the exact
words in the source."""

import html
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import yaml
from fastapi.testclient import TestClient

ROOT = Path(__file__).resolve().parent.parent
SEED = yaml.safe_load((ROOT / "app/seed/data/trend-4036385.yaml").read_text(encoding="utf-8"))
SEED_SOURCE = SEED["source"]["id"]
SOURCE_TEXT = (ROOT / "app/seed/data/trend-4036385.txt").read_text(encoding="utf-8")
SEED_FACTS: dict[str, dict[str, Any]] = {f["id"]: f for f in SEED["facts"]}
SEED_QUOTES: dict[str, dict[str, Any]] = {q["id"]: q for q in SEED["quotes"]}
TURNOVER = "aze-chn-trade-turnover-last-five-years"
MARK = re.compile(r'<mark\b[^>]*\bid="evidence"[^>]*>(.*?)</mark>', re.S)
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source"}
URL_ATTRIBUTES = {"src", "href", "xlink:href", "action", "formaction", "poster", "data", "srcset"}

# The figure of each seed indicator as an editor writes it: the hedge comes first.
FIGURES = {
    "aze-chn-investment-chn-to-aze-since-1995": ("Investment China → Azerbaijan", "≈ $1 billion"),
    "aze-chn-investment-aze-to-chn": ("Investment Azerbaijan → China", "≈ $2 billion"),
    TURNOVER: ("Trade turnover", "> $3.5 billion"),
    "aze-chn-trade-growth-last-five-years": ("Trade growth", "> ×2"),
    "chn-aze-partner-rank-fourth": ("Partner rank China → Azerbaijan", "No. 4"),
}


# --- a small DOM, from the standard library's parser -----------------------------------------


@dataclass
class Node:
    tag: str
    attrs: dict[str, str]
    children: list["Node | str"] = field(default_factory=list)

    def text(self) -> str:
        return "".join(c if isinstance(c, str) else c.text() for c in self.children)

    def words(self) -> str:
        return " ".join(self.text().split())

    def iter(self) -> Any:
        yield self
        for child in self.children:
            if isinstance(child, Node):
                yield from child.iter()

    def classes(self) -> set[str]:
        return set(self.attrs.get("class", "").split())

    def find_all(self, tag: str | None = None, cls: str | None = None) -> list["Node"]:
        return [
            n
            for n in self.iter()
            if (tag is None or n.tag == tag) and (cls is None or cls in n.classes())
        ]

    def find(self, tag: str | None = None, cls: str | None = None) -> "Node":
        found = self.find_all(tag, cls)
        assert found, f"no <{tag or '*'} class={cls}> in {self.words()[:200]}"
        return found[0]


class _Builder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Node("#document", {})
        self.stack = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = Node(tag, {k: v or "" for k, v in attrs})
        self.stack[-1].children.append(node)
        if tag not in VOID:
            self.stack.append(node)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.stack[-1].children.append(Node(tag, {k: v or "" for k, v in attrs}))

    def handle_endtag(self, tag: str) -> None:
        for depth in range(len(self.stack) - 1, 0, -1):
            if self.stack[depth].tag == tag:
                del self.stack[depth:]
                return

    def handle_data(self, data: str) -> None:
        self.stack[-1].children.append(data)


def parse(markup: str) -> Node:
    builder = _Builder()
    builder.feed(markup)
    builder.close()
    return builder.root


def page(client: TestClient, path: str) -> tuple[httpx.Response, Node]:
    response = client.get(path)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/html")
    return response, parse(response.text)


def ok(response: httpx.Response) -> Any:
    assert response.status_code == 200, response.text
    return response.json()


def evidence_spans(dossier: dict[str, Any]) -> dict[tuple[str, int, int], str]:
    """Every evidence span of the pair's figures, conflicts, agreements and quotes."""
    records = [
        *(item["latest"] for item in dossier["indicators"]),
        *(fact for conflict in dossier["conflicts"] for fact in conflict["facts"]),
        *dossier["agreements"],
        *dossier["quotes"],
    ]
    return {
        (r["evidence"]["source_id"], r["evidence"]["start"], r["evidence"]["end"]): r["evidence"][
            "text"
        ]
        for r in records
    }


def highlighted(client: TestClient, href: str) -> str:
    """Follow an evidence link; return the unescaped text of its <mark id="evidence">."""
    response = client.get(href)
    assert response.status_code == 200, (href, response.text)
    assert response.headers["content-type"].startswith("text/html")
    marks = MARK.findall(response.text)
    assert len(marks) == 1, f"{href}: {len(marks)} highlighted spans"
    assert "<" not in marks[0], "the highlight holds text only"
    return html.unescape(marks[0])


def evidence_links(root: Node) -> list[str]:
    links = [a.attrs["href"] for a in root.find_all("a", "evidence")]
    assert links
    return links


def assert_every_evidence_link_highlights_its_evidence(client: TestClient, path: str) -> int:
    _, root = page(client, path)
    dossier = ok(client.get("/v1/relations/AZE/CHN"))
    spans = evidence_spans(dossier)
    links = evidence_links(root)
    seen = set()
    for href in links:
        url = urlsplit(href)
        assert not url.scheme and not url.netloc, href
        assert url.fragment == "evidence", href
        query = parse_qs(url.query)
        source_id = url.path.removeprefix("/sources/")
        key = (source_id, int(query["start"][0]), int(query["end"][0]))
        assert key in spans, f"{href} is not the evidence of anything on the page"
        assert highlighted(client, href) == spans[key], href
        seen.add(key)
    # and everything the dossier shows has its link
    assert seen == set(spans)
    return len(links)


# --- the overview ---------------------------------------------------------------------------


def test_overview_lists_the_pair_and_the_docs(client: TestClient) -> None:
    _, root = page(client, "/")
    anchors = {a.attrs.get("href"): a for a in root.find_all("a")}
    assert "/pairs/AZE-CHN" in anchors
    assert anchors["/pairs/AZE-CHN"].words() == "Azerbaijan – China"
    assert "/docs" in anchors
    docs = client.get("/docs")
    assert docs.status_code == 200
    assert docs.headers["content-type"].startswith("text/html")
    row = next(tr for tr in root.find_all("tr") if anchors["/pairs/AZE-CHN"] in tr.iter())
    cells = [td.words() for td in row.find_all("td")]
    listed = ok(
        client.get("/v1/facts", params={"country": "AZE", "counterpart": "CHN", "limit": 500})
    )
    assert cells[1:] == [str(len(listed["items"])), "1"]
    assert len(listed["items"]) == len(SEED_FACTS)


def test_overview_follows_the_data(writer: TestClient) -> None:
    response = writer.post("/v1/entities", json={"kind": "country", "code": "KZ"})
    assert response.status_code == 201, response.text
    phrase = "Azerbaijan and China also cooperate closely"
    start = SOURCE_TEXT.index(phrase)
    response = writer.post(
        "/v1/facts",
        json={
            "kind": "diplomatic_event",
            "statement": "Kazakhstan and Azerbaijan cooperate closely.",
            "subject": "KAZ",
            "counterpart": "AZE",
            "evidence": {
                "source_id": SEED_SOURCE,
                "start": start,
                "end": start + len(phrase),
                "text": phrase,
            },
        },
    )
    assert response.status_code == 201, response.text
    _, root = page(writer, "/")
    hrefs = [a.attrs["href"] for a in root.find_all("a", "pair")]
    # pairs are listed in code order, the busiest first
    assert hrefs == ["/pairs/AZE-CHN", "/pairs/AZE-KAZ"]
    assert writer.get("/pairs/KAZ-AZE").status_code == 200


# --- the pair page --------------------------------------------------------------------------


def test_pair_page_shows_every_seed_figure_with_its_hedge(client: TestClient) -> None:
    _, root = page(client, "/pairs/AZE-CHN")
    cards = {
        c.attrs["data-fact"]: c for c in root.find_all("div", "card") if "data-fact" in c.attrs
    }
    assert set(cards) == set(FIGURES)
    for fact_id, (label, figure) in FIGURES.items():
        card = cards[fact_id]
        assert card.find(cls="label").words() == label, fact_id
        assert card.find(cls="figure").words().startswith(figure), (fact_id, card.words())
        # the words the figure came from, as printed
        assert f"“{SEED_FACTS[fact_id]['quantity']['text']}”" in card.words()
        chart = card.find("svg")
        assert len(chart.find_all("line", "point")) == 1, fact_id
        assert chart.attrs.get("role") == "img"
    china = cards["aze-chn-investment-chn-to-aze-since-1995"].find(cls="figure").words()
    assert china == "≈ $1 billion, since 1995"
    text = root.words()
    for figure in ("≈ $1 billion", "≈ $2 billion", "> $3.5 billion", "No. 4"):
        assert figure in text, figure
    assert "Azerbaijan – China" in root.find("title").words()


def test_pair_page_shows_the_agreements_oldest_first(client: TestClient) -> None:
    _, root = page(client, "/pairs/AZE-CHN")
    timeline = root.find("ol", "timeline")
    items = [li.words() for li in timeline.find_all("li")]
    titles = [
        "Ten documents on economy, industry and investment",
        "Agreement deepening the strategic partnership",
    ]
    assert len(items) == 4
    assert items[0].startswith("in 2019")
    assert titles[0] in items[0]
    assert "Beijing International Forum" in items[0]
    assert "2024-07" in items[1]
    assert titles[1] in items[1]
    undated = {"Joint declaration", "Several bilateral agreements"}
    assert {next(t for t in undated if t in item) for item in items[2:]} == undated
    for item in items[2:]:
        assert "Date not given" in item


def test_pair_page_shows_the_quotes_and_their_speakers(client: TestClient) -> None:
    _, root = page(client, "/pairs/AZE-CHN")
    quotes = root.find_all("blockquote")
    assert len(quotes) == len(SEED_QUOTES)
    shown = {q.find("div").words(): q.find("footer").words() for q in quotes}
    names = {"arzukhan-alizadeh": "Arzukhan Alizadeh", "azer-allahveranov": "Azer Allahveranov"}
    for quote in SEED_QUOTES.values():
        words = " ".join(quote["evidence"]["text"].rstrip(",").split())
        assert f"“{words}”" in shown, words[:60]
        footer = shown[f"“{words}”"]
        assert names[quote["speaker"]] in footer
        assert quote["speaker_role"] in footer


def test_pair_page_lists_the_source(client: TestClient) -> None:
    _, root = page(client, "/pairs/AZE-CHN")
    source_links = [a for a in root.find_all("a") if a.attrs["href"] == f"/sources/{SEED_SOURCE}"]
    assert len(source_links) == 1
    assert source_links[0].words() == SEED["source"]["title"]


def test_pair_page_is_order_insensitive(client: TestClient) -> None:
    reference = client.get("/pairs/AZE-CHN").text
    for pair in ("CHN-AZE", "az-cn", "CN-AZE"):
        response = client.get(f"/pairs/{pair}")
        assert response.status_code == 200, pair
        assert response.text == reference, pair


def test_every_evidence_link_highlights_exactly_its_evidence(client: TestClient) -> None:
    count = assert_every_evidence_link_highlights_its_evidence(client, "/pairs/AZE-CHN")
    assert count == len(FIGURES) + 4 + len(SEED_QUOTES)


def test_a_highlight_is_the_span_of_the_source_text(client: TestClient) -> None:
    fact = SEED_FACTS["aze-chn-investment-chn-to-aze-since-1995"]["evidence"]
    response = client.get(
        f"/sources/{SEED_SOURCE}", params={"start": fact["start"], "end": fact["end"]}
    )
    (mark,) = MARK.findall(response.text)
    assert html.unescape(mark) == fact["text"]
    # the text around the highlight is the rest of the source, unchanged
    body = parse(response.text).find(cls="source-text").text()
    assert body == SOURCE_TEXT
    # without a span, or with one outside the text, nothing is highlighted
    for params in ({}, {"start": 10, "end": 5}, {"start": 10, "end": len(SOURCE_TEXT) + 1}):
        other = client.get(f"/sources/{SEED_SOURCE}", params=params)
        assert other.status_code == 200
        assert MARK.findall(other.text) == []
        assert parse(other.text).find(cls="source-text").text() == SOURCE_TEXT
    assert client.get("/sources/no-such-source").status_code == 404


def external_references(root: Node) -> list[str]:
    found = []
    for node in root.iter():
        for name, value in node.attrs.items():
            if name.lower() in URL_ATTRIBUTES and re.match(r"\s*(https?:)?//", value, re.I):
                found.append(value)
        if node.tag == "style":
            found.extend(re.findall(r"url\(\s*['\"]?((?:https?:)?//[^'\")]+)", node.text()))
            found.extend(re.findall(r"@import\s+['\"]?([^'\";]+)", node.text()))
    return found


def test_pages_reference_no_external_host(client: TestClient) -> None:
    for path in ("/", "/pairs/AZE-CHN"):
        _, root = page(client, path)
        assert external_references(root) == [], path
    # a source page links to the original article, and to nothing else outside
    dossier = ok(client.get("/v1/relations/AZE/CHN"))
    for href in sorted(set(evidence_links(page(client, "/pairs/AZE-CHN")[1]))):
        _, root = page(client, href)
        original = [a for a in root.find_all("a") if a.attrs.get("href") == SEED["source"]["url"]]
        assert len(original) == 1
        assert external_references(root) == [SEED["source"]["url"]], href
    assert [s["url"] for s in dossier["sources"]] == [SEED["source"]["url"]]


@pytest.mark.parametrize("pair", ["AZE-XXX", "AZE", "AZE-AZE", "az-AZE", "AZE-CHN-RUS", "12-CHN"])
def test_bad_pair_is_400(client: TestClient, pair: str) -> None:
    response = client.get(f"/pairs/{pair}", headers={"Accept": "text/html"})
    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == "text/html; charset=utf-8"


def test_a_valid_pair_nothing_is_known_about_is_an_empty_page(client: TestClient) -> None:
    """AZE-USA: both codes exist in ISO 3166-1; there is simply nothing on the pair yet."""
    response = client.get("/pairs/AZE-USA")
    assert response.status_code == 200
    assert "Azerbaijan" in response.text and "United States" in response.text


# --- a second source that conflicts with a seed figure --------------------------------------

SECOND_TEXT = (
    "BAKU, Azerbaijan, June 1. Trade turnover between Azerbaijan and China reached "
    "$2.9 billion last year, the State Customs Committee said."
)
SECOND_EVIDENCE = "Trade turnover between Azerbaijan and China reached $2.9 billion last year"


def test_pair_page_shows_a_conflict_side_by_side(writer: TestClient) -> None:
    response = writer.post(
        "/v1/sources",
        json={
            "outlet": "trend",
            "url": "https://en.trend.az/business/example-turnover.html",
            "title": "Azerbaijan-China trade turnover reached $2.9 billion",
            "published": "2025-06-01",
            "language": "en",
            "text": SECOND_TEXT,
        },
    )
    assert response.status_code == 201, response.text
    source = response.json().get("source", response.json())
    start = SECOND_TEXT.index(SECOND_EVIDENCE)
    response = writer.post(
        "/v1/facts",
        json={
            "kind": "trade_turnover",
            "statement": "Trade turnover between Azerbaijan and China reached $2.9 billion in 2024.",
            "subject": "AZE",
            "counterpart": "CHN",
            "quantity": {
                "value": "2900000000",
                "unit": "USD",
                "comparator": "exact",
                "text": "$2.9 billion",
            },
            "time": {"type": "date", "date": "2024", "text": "last year"},
            "evidence": {
                "source_id": source["id"],
                "start": start,
                "end": start + len(SECOND_EVIDENCE),
                "text": SECOND_EVIDENCE,
            },
        },
    )
    assert response.status_code == 201, response.text

    _, root = page(writer, "/pairs/AZE-CHN")
    conflict_cards = root.find_all("div", "conflict")
    figures = [card.find(cls="figure").words() for card in conflict_cards]
    assert len(figures) == 2
    assert any(f.startswith("> $3.5 billion") for f in figures), figures
    assert any(f.startswith("$2.9 billion") for f in figures), figures
    hrefs = [card.find("a", "evidence").attrs["href"] for card in conflict_cards]
    assert {urlsplit(h).path for h in hrefs} == {
        f"/sources/{SEED_SOURCE}",
        f"/sources/{source['id']}",
    }
    # the figure card still shows one figure, the seed's, not a blend of the two
    card = next(c for c in root.find_all("div", "card") if c.attrs.get("data-fact") == TURNOVER)
    assert card.find(cls="figure").words().startswith("> $3.5 billion")
    assert len(card.find("svg").find_all("line", "point")) == 2
    # every link still leads to exactly its words, including the new source's
    assert_every_evidence_link_highlights_its_evidence(writer, "/pairs/AZE-CHN")
    new_href = next(h for h in hrefs if source["id"] in h)
    assert highlighted(writer, new_href) == SECOND_EVIDENCE
    _, new_page = page(writer, new_href)
    assert external_references(new_page) == ["https://en.trend.az/business/example-turnover.html"]

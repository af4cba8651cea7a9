"""The docs work with no internet: /docs and /redoc and all they load are served by us, and the
OpenAPI examples are real seed records that the API actually returns.
"""

import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml
from fastapi import FastAPI
from fastapi.testclient import TestClient

SEED_FILE = Path(__file__).resolve().parent.parent / "app/seed/data/trend-4036385.yaml"
SEED = yaml.safe_load(SEED_FILE.read_text(encoding="utf-8"))
FACT_IDS = {f["id"] for f in SEED["facts"]}
QUOTE_IDS = {q["id"] for q in SEED["quotes"]}
ENTITY_IDS = {e["id"] for e in SEED["entities"]}
STATIC = "/static-offline-docs/"
ABSOLUTE_URL = re.compile(r"""https?://[^\s"'<>)]+""")


class References(HTMLParser):
    """Collects every URL a page makes the browser load: src, href, and spec-url."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.scripts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if value and name in {"src", "href", "spec-url"}:
                self.urls.append(value)
                if tag == "script" and name == "src":
                    self.scripts.append(value)


def references(html: str) -> References:
    parser = References()
    parser.feed(html)
    return parser


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_docs_page_is_served_as_html(client: TestClient, page: str) -> None:
    """Both docs pages answer with HTML."""
    response = client.get(page)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")


@pytest.mark.parametrize("page", ["/docs", "/redoc", "/docs/oauth2-redirect"])
def test_docs_pages_name_no_external_host(client: TestClient, page: str) -> None:
    """No absolute URL to any host: everything is relative to this server."""
    html = client.get(page).text
    external = [u for u in ABSOLUTE_URL.findall(html) if urlsplit(u).hostname != "testserver"]
    assert external == []


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_every_asset_a_docs_page_loads_is_served_locally(client: TestClient, page: str) -> None:
    """Each script, stylesheet, icon and the spec itself comes from this server with a 200."""
    refs = references(client.get(page).text)
    assert refs.urls
    for url in refs.urls:
        assert not urlsplit(url).netloc, url
        assert url.startswith("/"), url
        response = client.get(url)
        assert response.status_code == 200, url
        assert response.content, url


@pytest.mark.parametrize(
    ("page", "bundle"),
    [("/docs", "swagger-ui-bundle.js"), ("/redoc", "redoc.standalone.js")],
)
def test_js_bundle_is_served_from_offline_static(
    client: TestClient, page: str, bundle: str
) -> None:
    """The UI's JavaScript bundle is our local copy, not a CDN's."""
    scripts = references(client.get(page).text).scripts
    assert f"{STATIC}{bundle}" in scripts
    assert all(s.startswith(STATIC) for s in scripts), scripts
    response = client.get(f"{STATIC}{bundle}")
    assert response.status_code == 200
    assert "javascript" in response.headers["content-type"]
    assert len(response.content) > 100_000


def test_swagger_ui_stylesheet_is_local(client: TestClient) -> None:
    """Swagger UI's CSS is local too."""
    html = client.get("/docs").text
    assert f"{STATIC}swagger-ui.css" in references(html).urls
    assert client.get(f"{STATIC}swagger-ui.css").headers["content-type"].startswith("text/css")


def test_docs_point_at_our_openapi_document(client: TestClient) -> None:
    """Both UIs load /openapi.json from this server, and it is the app's schema."""
    assert "url: '/openapi.json'" in client.get("/docs").text
    assert 'spec-url="/openapi.json"' in client.get("/redoc").text
    spec = client.get("/openapi.json").json()
    assert spec["openapi"].startswith("3.")
    assert "/v1/facts" in spec["paths"]


def test_swagger_ui_does_not_call_the_online_validator(client: TestClient) -> None:
    """Swagger UI's bundle defaults `validatorUrl` to https://validator.swagger.io and, on any
    non-localhost deployment, makes every browser fetch a badge from it (leaking our spec URL,
    and broken offline). The page must switch it off (validatorUrl: null or "none")."""
    html = client.get("/docs").text
    assert re.search(r"""["']?validatorUrl["']?\s*:\s*(null|["']none["'])""", html), html


# --- OpenAPI examples from the seed ----------------------------------------------------------


def schema_example(spec: dict[str, Any], name: str) -> dict[str, Any]:
    schema = spec["components"]["schemas"][name]
    examples = schema.get("examples") or ([schema["example"]] if "example" in schema else [])
    assert examples, f"{name} has no example"
    return dict(examples[0])


def as_documented(value: Any) -> Any:
    """A response as FastAPI prints it in an OpenAPI example: nulls dropped, no timestamps.

    FastAPI renders the whole OpenAPI document with exclude_none, so an example can only
    ever show the non-null members; those must match the real record exactly.
    """
    if isinstance(value, dict):
        return {
            k: as_documented(v)
            for k, v in value.items()
            if v is not None and k not in {"created_at", "updated_at"}
        }
    if isinstance(value, list):
        return [as_documented(v) for v in value]
    return value


def test_fact_example_is_the_real_seed_fact(app: FastAPI, client: TestClient) -> None:
    """The FactPublic example is a seed fact, exactly as the API returns it."""
    example = schema_example(app.openapi(), "FactPublic")
    assert example["id"] in FACT_IDS
    actual = client.get(f"/v1/facts/{example['id']}").json()
    assert as_documented(example) == as_documented(actual)


def test_fact_list_schema_shows_the_fact_example(app: FastAPI) -> None:
    """The list response is a page of FactPublic, so Swagger renders the same seed example."""
    spec = app.openapi()
    content = spec["paths"]["/v1/facts"]["get"]["responses"]["200"]["content"]
    ref = content["application/json"]["schema"]["$ref"]
    page = spec["components"]["schemas"][ref.rsplit("/", 1)[1]]
    assert page["properties"]["items"]["items"]["$ref"] == "#/components/schemas/FactPublic"
    assert set(page["required"]) == {"items", "next", "limit"}


def mismatched(example: dict[str, Any], actual: dict[str, Any], keys: tuple[str, ...]) -> list:
    return [k for k in keys if as_documented(example.get(k)) != as_documented(actual.get(k))]


def test_quote_example_is_a_seed_quote(app: FastAPI, client: TestClient) -> None:
    """The quote example names a real quote, speaker and supported facts."""
    example = schema_example(app.openapi(), "QuotePublic")
    assert example["id"] in QUOTE_IDS
    actual = client.get(f"/v1/quotes/{example['id']}").json()
    assert set(example["supports"]) <= FACT_IDS
    assert mismatched(example, actual, ("speaker", "said_to", "date", "supports", "status")) == []
    assert example["evidence"]["start"] == actual["evidence"]["start"]
    assert example["evidence"]["end"] == actual["evidence"]["end"]


def test_agreement_example_is_the_seed_agreement(app: FastAPI, client: TestClient) -> None:
    """The agreement example shows what the API returns for that agreement (its long evidence
    text may be shortened, nothing else)."""
    example = schema_example(app.openapi(), "AgreementPublic")
    actual = client.get(f"/v1/agreements/{example['id']}").json()
    keys = ("title", "statement", "signed", "parties", "event", "documents", "sectors")
    assert mismatched(example, actual, (*keys, "claimed_by", "status")) == []


def test_entity_example_is_a_seed_entity(app: FastAPI, client: TestClient) -> None:
    """The entity example is a seed person with their real role."""
    example = schema_example(app.openapi(), "EntityPublic")
    assert example["id"] in ENTITY_IDS
    actual = client.get(f"/v1/entities/{example['id']}").json()
    assert mismatched(example, actual, ("kind", "name", "aliases")) == []
    assert [r["organization"]["id"] for r in example["roles"]] == [
        r["organization"]["id"] for r in actual["roles"]
    ]


def test_source_example_is_the_seed_source(app: FastAPI, client: TestClient) -> None:
    """The source example is the shipped article, down to its SHA-256."""
    example = schema_example(app.openapi(), "SourceSummary")
    actual = client.get(f"/v1/sources/{example['id']}").json()
    keys = ("url", "title", "published", "dateline", "language", "sha256", "outlet")
    assert mismatched(example, actual, keys) == []


def parameter_examples(param: dict[str, Any]) -> list[Any]:
    schema = param.get("schema", {})
    found = list(schema.get("examples") or [])
    found += [e["value"] for e in (param.get("examples") or {}).values() if "value" in e]
    if "example" in param:
        found.append(param["example"])
    return found


ITEM_PATHS = [
    "/v1/facts/{fact_id}",
    "/v1/quotes/{quote_id}",
    "/v1/agreements/{agreement_id}",
    "/v1/entities/{entity_id}",
    "/v1/sources/{source_id}",
]
LIST_PATHS = ["/v1/facts", "/v1/quotes", "/v1/agreements", "/v1/entities", "/v1/sources"]


@pytest.mark.parametrize("path", ITEM_PATHS)
def test_path_parameter_examples_are_seed_ids(app: FastAPI, client: TestClient, path: str) -> None:
    """'Try it out' with the prefilled id works: the id example resolves to a 200."""
    (param,) = [p for p in app.openapi()["paths"][path]["get"]["parameters"] if p["in"] == "path"]
    examples = parameter_examples(param)
    assert examples, f"{path} {param['name']} has no example"
    for example in examples:
        url = path.replace("{" + param["name"] + "}", str(example))
        assert client.get(url).status_code == 200, url


@pytest.mark.parametrize("path", LIST_PATHS)
def test_query_parameter_examples_find_seed_records(
    app: FastAPI, client: TestClient, path: str
) -> None:
    """Every query example of a list, tried alone, is valid and finds something."""
    for param in app.openapi()["paths"][path]["get"]["parameters"]:
        if param["in"] != "query":
            continue
        for example in parameter_examples(param):
            values = example if isinstance(example, list) else [example]
            query = [(param["name"], str(v)) for v in values]
            response = client.get(path, params=query)
            assert response.status_code == 200, (path, query, response.text)
            assert response.json()["items"], (path, query)


def test_list_examples_exist(app: FastAPI) -> None:
    """The facts list offers at least the pair, speaker and source examples to try."""
    params = app.openapi()["paths"]["/v1/facts"]["get"]["parameters"]
    with_examples = {p["name"] for p in params if parameter_examples(p)}
    assert {"country", "counterpart", "speaker", "source"} <= with_examples

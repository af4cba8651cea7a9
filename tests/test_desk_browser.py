"""The desk in a real browser on a real server: headless Chromium, driven by Selenium, signs in
with a write key, opens an ingested article, corrects a draft's comparator and modality,
publishes it, rejects another with a reason, and adds a fact the extractor missed from words
selected in the article (past characters outside the BMP, so UTF-16 offsets must become code
points). Then the API must say exactly that: revisions, actors, reasons and the change feed.
The review page is saved as test-artifacts/desk.png (git-ignored); docs/desk.png, in the
README, is a copy of one taken here.

The server is our own uvicorn process (conftest's LiveServer pattern) built by
test_desk.desk_app, because app/main.py does not mount the desk yet.

CI must run this test: there, a missing browser is a failure, not a skip.
"""

import os
import sys
from pathlib import Path
from typing import Any

import httpx
from conftest import LiveServer, create_api_key
from test_browser import ARTIFACTS, WAIT_SECONDS, browser  # noqa: F401  (the fixture)
from test_desk import ARTICLE, MISSED

ROOT = Path(__file__).resolve().parent.parent
SCREENSHOT = ARTIFACTS / "desk.png"


class DeskServer(LiveServer):
    """uvicorn serving test_desk.desk_app(): the real app, with the desk mounted."""

    def command(self) -> list[str]:
        return [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            "--app-dir",
            str(ROOT / "tests"),
            "test_desk:desk_app",
            "--port",
            str(self.port),
        ]


def test_review_at_the_desk_in_a_browser(browser: Any, fresh_db_url: str) -> None:  # noqa: F811
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import Select, WebDriverWait

    key = create_api_key(fresh_db_url, "editor-ana", "write")
    server = DeskServer(fresh_db_url)
    try:
        base = server.base_url
        auth = {"Authorization": f"Bearer {key}"}
        made = httpx.post(
            f"{base}/v1/sources",
            json={
                "outlet": "trend",
                "title": "Investment and trade",
                "published": "2025-05-12",
                "language": "en",
                "text": ARTICLE,
            },
            headers=auth,
            timeout=60,
        )
        assert made.status_code == 201, made.text
        source = made.json()["source"]["id"]
        drafts = {f["kind"]: f for f in made.json()["candidates"]["facts"]}
        turnover, investment = drafts["trade_turnover"], drafts["investment"]
        assert turnover["quantity"]["comparator"] == "exact"
        assert turnover["modality"] == "reported"
        wait = WebDriverWait(browser, WAIT_SECONDS)

        def card(fact_id: str) -> Any:
            return wait.until(
                ec.presence_of_element_located(
                    (By.CSS_SELECTOR, f'article.draft[data-id="{fact_id}"]')
                )
            )

        def reloaded(old: Any) -> None:
            """The page was replaced. Chromium reports a node of the old document either as
            stale or as 'Node ... does not belong to the document' (a plain WebDriverException,
            which selenium's staleness_of does not catch): both mean it is gone."""
            from selenium.common.exceptions import WebDriverException

            def gone(_: Any) -> bool:
                try:
                    old.is_enabled()
                except WebDriverException:
                    return True
                return False

            wait.until(gone)
            wait.until(ec.presence_of_element_located((By.ID, "article")))

        # sign in: the desk sends us to the form; the key goes in the body, never the URL
        browser.get(f"{base}/desk")
        wait.until(ec.url_contains("/desk/sign-in"))
        field = wait.until(ec.element_to_be_clickable((By.ID, "key")))
        field.send_keys(key)
        field.send_keys(Keys.ENTER)
        wait.until(ec.presence_of_element_located((By.ID, "editor-name")))
        assert browser.find_element(By.ID, "editor-name").text == "editor-ana"
        assert key not in browser.current_url and key not in browser.page_source

        # the queue lists the article; open it
        link = wait.until(
            ec.element_to_be_clickable((By.CSS_SELECTOR, f'a[href="/desk/sources/{source}"]'))
        )
        link.click()
        wait.until(ec.url_contains(f"/desk/sources/{source}"))
        card(turnover["id"])
        marks = browser.find_elements(By.CSS_SELECTOR, "#article mark.draft")
        assert {i for m in marks for i in (m.get_attribute("data-ids") or "").split()} >= {
            turnover["id"],
            investment["id"],
        }
        # written whole, then renamed: parallel runs (one per backend) never leave half a file
        ARTIFACTS.mkdir(exist_ok=True)
        partial = SCREENSHOT.with_name(f".desk-{os.getpid()}.png")
        assert browser.save_screenshot(str(partial))
        os.replace(partial, SCREENSHOT)

        # correct the turnover draft's comparator and modality (e, then Ctrl+Enter)
        turnover_card = card(turnover["id"])
        turnover_card.find_element(By.CSS_SELECTOR, ".statement").click()
        browser.switch_to.active_element.send_keys("e")
        form = turnover_card.find_element(By.CSS_SELECTOR, "form.edit-form")
        wait.until(ec.visibility_of(form))
        Select(form.find_element(By.NAME, "comparator")).select_by_value("more_than")
        Select(form.find_element(By.NAME, "modality")).select_by_visible_text("forecast")
        reason = form.find_element(By.NAME, "reason")
        reason.send_keys("The ministry expects more than this.")
        reason.send_keys(Keys.CONTROL, Keys.ENTER)
        reloaded(turnover_card)
        turnover_card = card(turnover["id"])
        assert turnover_card.get_attribute("data-revision") == "2"
        assert turnover_card.find_element(By.CSS_SELECTOR, ".figure").text.startswith(
            "> $850 million"
        )

        # publish it (p)
        turnover_card.find_element(By.CSS_SELECTOR, ".statement").click()
        browser.switch_to.active_element.send_keys("p")
        reloaded(turnover_card)
        wait.until(
            ec.presence_of_element_located(
                (By.CSS_SELECTOR, f'ul.done li[data-id="{turnover["id"]}"]')
            )
        )

        # reject the investment draft with a reason (r, type, Enter)
        investment_card = card(investment["id"])
        investment_card.find_element(By.CSS_SELECTOR, ".statement").click()
        browser.switch_to.active_element.send_keys("r")
        why = investment_card.find_element(By.CSS_SELECTOR, "form.reject-form input[name=reason]")
        wait.until(ec.visibility_of(why))
        why.send_keys("The figure repeats the seed article.")
        why.send_keys(Keys.ENTER)
        reloaded(investment_card)
        wait.until(
            ec.presence_of_element_located(
                (By.CSS_SELECTOR, f'ul.done li[data-id="{investment["id"]}"]')
            )
        )

        # select the missed words in the article, as a mouse would, and make a fact (f)
        browser.execute_script(
            """
            const article = document.getElementById('article');
            const words = arguments[0];
            const walker = document.createTreeWalker(article, NodeFilter.SHOW_TEXT);
            let node;
            while ((node = walker.nextNode())) {
              const at = node.data.indexOf(words);
              if (at >= 0) {
                const range = document.createRange();
                range.setStart(node, at);
                range.setEnd(node, at + words.length);
                const selection = window.getSelection();
                selection.removeAllRanges();
                selection.addRange(range);
                return;
              }
            }
            throw new Error('words not found');
            """,
            MISSED,
        )
        wait.until(ec.visibility_of_element_located((By.ID, "selection-bar")))
        browser.find_element(By.TAG_NAME, "body").send_keys("f")
        add = wait.until(ec.visibility_of_element_located((By.ID, "add-fact")))
        start = ARTICLE.index(MISSED)
        assert add.find_element(By.NAME, "evidence_start").get_attribute("value") == str(start)
        assert add.find_element(By.NAME, "evidence_end").get_attribute("value") == str(
            start + len(MISSED)
        )
        Select(add.find_element(By.NAME, "kind")).select_by_value("investment")
        statement = add.find_element(By.NAME, "statement")
        statement.clear()
        statement.send_keys("Georgian investors put $95 million into Azerbaijani farms in 2023.")
        for name, value in (
            ("subject", "GEO"),
            ("counterpart", "AZE"),
            ("value", "95 million"),
            ("quantity_text", "$95 million"),
            ("time_date", "2023"),
            ("time_text", "in 2023"),
            ("sector", "agriculture"),
            ("reason", "Missed by the extractor."),
        ):
            add.find_element(By.NAME, name).send_keys(value)
        Select(add.find_element(By.NAME, "direction")).select_by_value("subject_to_counterpart")
        Select(add.find_element(By.NAME, "time_type")).select_by_value("date")
        article = browser.find_element(By.ID, "article")
        add.find_element(By.CSS_SELECTOR, 'button[name="publish"][value="1"]').click()
        reloaded(article)
        known = {f["id"] for f in drafts.values()}

        def new_done_item(driver: Any) -> str | None:
            items = driver.find_elements(By.CSS_SELECTOR, "ul.done li[data-id]")
            fresh = [i.get_attribute("data-id") for i in items]
            fresh = [i for i in fresh if i and i not in known]
            return fresh[0] if len(fresh) == 1 else None

        added = wait.until(new_done_item)

        # the API says exactly what the editor did
        def get(path: str) -> Any:
            response = httpx.get(f"{base}{path}", headers=auth, timeout=10)
            assert response.status_code == 200, response.text
            return response.json()

        def trail(fact_id: str) -> list[tuple[int, str, str, str | None]]:
            return [
                (r["number"], r["action"], r["actor"], r["reason"])
                for r in get(f"/v1/facts/{fact_id}/revisions")
            ]

        ingest_actor = "editor-ana"  # the same key ingested the article
        assert trail(turnover["id"]) == [
            (1, "create", ingest_actor, None),
            (2, "update", "editor-ana", "The ministry expects more than this."),
            (3, "publish", "editor-ana", None),
        ]
        now = get(f"/v1/facts/{turnover['id']}")
        assert now["status"] == "published"
        assert now["quantity"]["comparator"] == "more_than"
        assert now["modality"] == "forecast"
        assert now["quantity"]["value"] == turnover["quantity"]["value"]
        assert now["evidence"] == turnover["evidence"]
        assert trail(investment["id"]) == [
            (1, "create", ingest_actor, None),
            (2, "reject", "editor-ana", "The figure repeats the seed article."),
        ]
        assert get(f"/v1/facts/{investment['id']}")["status"] == "rejected"
        assert trail(added) == [
            (1, "create", "editor-ana", None),
            (2, "publish", "editor-ana", "Missed by the extractor."),
        ]
        new = get(f"/v1/facts/{added}")
        assert new["evidence"] == {
            "source_id": source,
            "start": start,
            "end": start + len(MISSED),
            "text": MISSED,
        }
        assert new["quantity"]["value"] == "95000000"
        assert new["subject"]["id"] == "GEO" and new["counterpart"]["id"] == "AZE"
        assert new["direction"] == "subject_to_counterpart"
        assert new["time"]["date"] == "2023" and new["sector"] == "agriculture"

        feed: list[tuple[str, int, str, str]] = []
        page = get("/v1/changes?limit=500")
        while True:
            feed += [(c["id"], c["revision"], c["action"], c["actor"]) for c in page["items"]]
            if not page["has_more"]:
                break
            page = get(f"/v1/changes?limit=500&since={page['next']}")
        ours = [c for c in feed if c[0] in {turnover["id"], investment["id"], added}]
        assert ours[-5:] == [
            (turnover["id"], 2, "update", "editor-ana"),
            (turnover["id"], 3, "publish", "editor-ana"),
            (investment["id"], 2, "reject", "editor-ana"),
            (added, 1, "create", "editor-ana"),
            (added, 2, "publish", "editor-ana"),
        ]

        # the history page shows who changed what and why, with the public and API links
        browser.get(f"{base}/desk/facts/{turnover['id']}/history")
        rows = wait.until(
            ec.presence_of_all_elements_located((By.CSS_SELECTOR, "table.history tbody tr"))
        )
        assert [r.get_attribute("data-revision") for r in rows] == ["3", "2", "1"]
        assert "The ministry expects more than this." in rows[1].text
        assert "modality: reported → forecast" in rows[1].text
        api_link = browser.find_element(By.ID, "api-url")
        assert api_link.get_attribute("href") == f"{base}/v1/facts/{turnover['id']}"
        assert (
            browser.find_element(By.ID, "public-page")
            .get_attribute("href")
            .startswith(f"{base}/sources/{source}?start=")
        )
    finally:
        server.stop()
    assert SCREENSHOT.stat().st_size > 10_000

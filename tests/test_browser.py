"""A real browser on a real server: headless Chromium, driven by Selenium, reads the overview,
opens the pair, sees the hedged figures and a quote, and follows an evidence link to the
highlighted words. Screenshots go to test-artifacts/ (git-ignored) for people to look at.

CI must run this test: there, a missing browser is a failure, not a skip.
"""

import importlib.util
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import LiveServer

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
TURNOVER = "aze-chn-trade-turnover-last-five-years"
WAIT_SECONDS = 20


def require_browser() -> None:
    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.exists()]
    if importlib.util.find_spec("selenium") is None:
        missing.append("the selenium package (pip install -e '.[dev]')")
    if not missing:
        return
    message = (
        f"the headless browser test needs {' and '.join(missing)}; install Chromium and its "
        "driver with `apt-get install chromium chromium-driver` (Debian/Ubuntu)"
    )
    if os.environ.get("CI"):
        pytest.fail(f"CI must run the browser test, but {message}", pytrace=False)
    pytest.skip(message)


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Any]:
    require_browser()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1280,1600",
        f"--user-data-dir={tmp_path / 'chromium-profile'}",
    ):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(tmp_path / "chromium-profile", ignore_errors=True)


def test_overview_to_pair_to_highlighted_evidence(browser: Any, live_server: LiveServer) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    wait = WebDriverWait(browser, WAIT_SECONDS)
    ARTIFACTS.mkdir(exist_ok=True)
    for name in ("overview.png", "evidence.png"):
        (ARTIFACTS / name).unlink(missing_ok=True)
    fact = httpx.get(f"{live_server.base_url}/v1/facts/{TURNOVER}", timeout=10).json()
    evidence = fact["evidence"]["text"]

    # the overview lists the pair; a click opens its page
    browser.get(f"{live_server.base_url}/")
    pair_link = wait.until(
        ec.element_to_be_clickable((By.CSS_SELECTOR, 'a[href="/pairs/AZE-CHN"]'))
    )
    assert pair_link.text == "Azerbaijan – China"
    pair_link.click()
    wait.until(ec.url_contains("/pairs/AZE-CHN"))
    wait.until(ec.visibility_of_element_located((By.CSS_SELECTOR, "div.card[data-fact] .figure")))

    # the seed figures, hedged as an editor writes them, are on screen
    figures = {
        card.get_attribute("data-fact"): card.find_element(By.CSS_SELECTOR, ".figure")
        for card in browser.find_elements(By.CSS_SELECTOR, "div.card[data-fact]")
    }
    turnover = figures[TURNOVER]
    china = figures["aze-chn-investment-chn-to-aze-since-1995"]
    assert turnover.is_displayed()
    assert turnover.text.startswith("> $3.5 billion"), turnover.text
    assert china.is_displayed()
    assert china.text.startswith("≈ $1 billion"), china.text
    assert figures["chn-aze-partner-rank-fourth"].text.startswith("No. 4")

    # and so is a quote, with its speaker
    quotes = [q for q in browser.find_elements(By.TAG_NAME, "blockquote") if "Alizadeh" in q.text]
    assert quotes, "no quote by Alizadeh on the page"
    footer = quotes[0].find_element(By.TAG_NAME, "footer")
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'});", footer)
    wait.until(ec.visibility_of(footer))
    assert "Arzukhan Alizadeh" in footer.text
    browser.execute_script("window.scrollTo(0, 0);")
    assert browser.save_screenshot(str(ARTIFACTS / "overview.png"))

    # the figure's evidence link opens the source with exactly its words highlighted
    link = browser.find_element(By.CSS_SELECTOR, f'div.card[data-fact="{TURNOVER}"] a.evidence')
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'});", link)
    wait.until(ec.element_to_be_clickable(link)).click()
    wait.until(ec.url_contains(f"/sources/{fact['evidence']['source_id']}"))
    mark = wait.until(ec.visibility_of_element_located((By.CSS_SELECTOR, "mark#evidence")))
    assert browser.current_url.endswith("#evidence")
    assert mark.get_attribute("textContent") == evidence
    assert mark.text == " ".join(evidence.split())
    # the browser went to the highlight: it is inside the window
    wait.until(
        lambda driver: driver.execute_script(
            "const r = arguments[0].getBoundingClientRect();"
            "return r.top >= 0 && r.bottom <= window.innerHeight;",
            mark,
        )
    )
    assert browser.save_screenshot(str(ARTIFACTS / "evidence.png"))
    for name in ("overview.png", "evidence.png"):
        assert (ARTIFACTS / name).stat().st_size > 1000, name

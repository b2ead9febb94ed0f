"""The pages, the docs and the embeddable box in a real browser (Debian's Chromium via Playwright)."""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from .conftest import ROOT, SEED
from .live import KEPU, serving

BROWSER = os.environ.get("KEPU_BROWSER", "")
ARTIFACTS = ROOT / "test-artifacts"
SCREENSHOTS = ROOT / "docs" / "screenshots"
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not (BROWSER and Path(BROWSER).exists()),
        reason="browser tests need Chromium: set KEPU_BROWSER=/usr/bin/chromium (.ci/run installs Debian's chromium)",
    ),
]
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
]


def _shot(page: Any, name: str, *, full_page: bool = True) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / name), full_page=full_page)
    if os.environ.get("KEPU_UPDATE_SCREENSHOTS"):
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        shutil.copy(ARTIFACTS / name, SCREENSHOTS / name)


@pytest.fixture(scope="module")
def embed_host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Another origin serving a page that embeds the search box."""
    folder = tmp_path_factory.mktemp("embed-host")
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(SimpleHTTPRequestHandler, directory=str(folder)))
    origin = f"http://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    server.folder = folder  # type: ignore[attr-defined]
    yield origin
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory, embed_host: str) -> Iterator[str]:
    """The service, started as a person would (import the seed, serve), on a free port."""
    data = tmp_path_factory.mktemp("browser-data")
    env = {**os.environ, "KEPU_DATA_DIR": str(data), "KEPU_CORS_ORIGINS": f'["{embed_host}"]'}
    env.pop("DATABASE_URL", None)
    subprocess.run([*KEPU, "import", str(SEED)], env=env, check=True, capture_output=True, timeout=120)
    with serving(env, data / "server.log") as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's Chromium, headless, driven by Playwright (no browser download)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=BROWSER, headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh page that remembers every URL it requested."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    tab = context.new_page()
    tab.requested = []
    tab.on("request", lambda request: tab.requested.append(request.url))
    tab.set_default_timeout(15_000)
    yield tab
    context.close()


def _task_numbers(page: Any) -> set[int]:
    return {
        int(n) for n in page.locator("li.hit[data-kind=task]").evaluate_all("els => els.map(e => e.dataset.number)")
    }


def test_type_see_suggestions_then_highlighted_results(page: Any, base_url: str) -> None:
    page.goto(base_url + "/")
    page.locator("#q").press_sequentially("科幻", delay=50)
    suggestions = page.locator("#suggestions [role=option]")
    suggestions.first.wait_for(state="visible")
    assert any("科幻" in text for text in suggestions.all_inner_texts())
    assert page.locator("#q").get_attribute("aria-expanded") == "true"
    _shot(page, "suggestions.png", full_page=False)
    page.locator("#q").press("Escape")
    page.locator("#q").press("Enter")
    page.wait_for_url("**/?q=*")
    page.locator("li.hit").first.wait_for(state="visible")
    assert {6, 64} <= _task_numbers(page), page.url + page.locator("main").inner_text()[:500]
    marks = page.locator("li.hit .snippet em").all_inner_texts()
    assert marks and all(m == "科幻" for m in marks)
    _shot(page, "search.png")


def test_a_question_gets_results_and_the_partial_match_note(page: Any, base_url: str) -> None:
    page.goto(base_url + "/")
    page.locator("#q").fill("哪些部门负责科普基地建设评估")
    page.locator("#q").press("Enter")
    page.wait_for_url("**/?q=*")
    page.locator("li.hit").first.wait_for(state="visible")
    note = page.locator("#partial-note")
    assert "未找到同时包含全部词语的结果，以下为部分匹配" in note.inner_text()
    assert 65 in _task_numbers(page), page.locator("main").inner_text()[:500]
    _shot(page, "question.png")


def test_pinyin_is_completed_to_characters(page: Any, base_url: str) -> None:
    page.goto(base_url + "/")
    page.locator("#q").press_sequentially("kexie", delay=50)
    suggestions = page.locator("#suggestions [role=option]")
    suggestions.first.wait_for(state="visible")
    assert suggestions.all_inner_texts()[0].strip() == "科协"
    suggestions.first.click()
    page.wait_for_url("**/?q=*")
    page.locator("li.hit").first.wait_for(state="visible")
    assert page.locator("li.hit").count() > 0


def test_department_facet_narrows_and_the_url_is_shareable(page: Any, base_url: str) -> None:
    page.goto(base_url + "/?q=科普")
    before = int(page.locator("#total").inner_text())
    page.locator("a[data-facet=department][data-value=中国科协]").click()
    page.wait_for_url("**department=*")
    after = int(page.locator("#total").inner_text())
    assert 0 < after < before
    for units in page.locator("li.hit[data-kind=task] .units").all_inner_texts():
        assert "中国科协" in units
    shared = page.url
    page.goto(shared)
    assert int(page.locator("#total").inner_text()) == after


def test_keyboard_picks_a_suggestion(page: Any, base_url: str) -> None:
    page.goto(base_url + "/")
    page.locator("#q").press_sequentially("全国科", delay=50)
    page.locator("#suggestions [role=option]").first.wait_for(state="visible")
    first = page.locator("#suggestions [role=option]").first.inner_text()
    page.keyboard.press("ArrowDown")
    assert page.locator("#suggestions [aria-selected=true]").inner_text() == first
    page.keyboard.press("Enter")
    page.wait_for_url("**/?q=*")
    assert page.locator("#q").input_value() == first


def test_task_page(page: Any, base_url: str) -> None:
    page.goto(base_url + "/?q=科幻电影")
    page.locator("li.hit[data-kind=task][data-number='6'] a.hit-title").click()
    page.wait_for_url("**/tasks/*")
    assert page.locator("h1").inner_text() == "台账任务 6"
    facts = page.locator("dl.facts").inner_text()
    assert "中央宣传部" in facts and "中国科协" in facts
    _shot(page, "task.png")


def test_department_page(page: Any, base_url: str) -> None:
    page.goto(base_url + "/departments/科协")
    assert page.locator("h1").inner_text() == "中国科协"
    assert page.locator("section").nth(0).locator("li").count() == 16


def test_overview_pictures(page: Any, base_url: str) -> None:
    page.goto(base_url + "/overview")
    charts = page.locator("svg.chart")
    assert charts.count() == 2
    assert charts.nth(0).locator("rect").count() >= 12 * 34
    assert charts.nth(1).locator("rect").count() == 12 * 67
    _shot(page, "overview.png")


def test_docs_work_offline(page: Any, base_url: str) -> None:
    page.goto(base_url + "/docs")
    page.locator(".opblock").first.wait_for(state="visible")
    assert page.locator(".opblock").count() >= 15
    assert "kepu-ledger" in page.locator(".information-container").inner_text()
    _shot(page, "docs.png", full_page=False)
    page.goto(base_url + "/redoc")
    page.get_by_text("全文检索 · Search").first.wait_for(state="attached")
    elsewhere = [url for url in page.requested if not url.startswith((base_url, "data:", "blob:", "about:"))]
    assert elsewhere == []


def test_embedded_box_on_another_site(
    page: Any, base_url: str, embed_host: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    html = f'<!doctype html><meta charset="utf-8"><h1>Partner site</h1><div data-kepu-search></div><script src="{base_url}/embed.js"></script>'
    for server_folder in Path(tmp_path_factory.getbasetemp()).glob("embed-host*"):
        (server_folder / "index.html").write_text(html, "utf-8")
    page.goto(embed_host + "/index.html")
    box = page.locator("[data-kepu-search] input")
    box.press_sequentially("科幻", delay=50)
    page.locator("[data-kepu-search] [role=option]").first.wait_for(state="visible")
    box.press("Escape")
    page.locator("[data-kepu-search] button").click()
    page.locator("[data-kepu-search] li[data-kind=task]").first.wait_for(state="visible")
    numbers = set(
        page.locator("[data-kepu-search] li[data-kind=task]").evaluate_all("els => els.map(e => +e.dataset.number)")
    )
    assert {6, 64} <= numbers
    assert page.locator("[data-kepu-search] li[data-number='6'] a").get_attribute("href") == f"{base_url}/tasks/6"
    _shot(page, "embed.png", full_page=False)


def test_readable_on_a_phone(browser: Any, base_url: str) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN", is_mobile=True)
    phone = context.new_page()
    try:
        for path in ("/?q=科协+科幻", "/tasks/55", "/key-points/9"):
            phone.goto(base_url + path)
            overflow = phone.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 0, (path, overflow)
        phone.goto(base_url + "/?q=科幻")
        assert phone.locator("li.hit").first.is_visible()
        _shot(phone, "phone.png")
    finally:
        context.close()


def test_no_page_breaks_its_content_security_policy(page: Any, base_url: str) -> None:
    # Chromium reports every blocked script, style, image or worker on the console.
    blocked: list[str] = []
    page.on(
        "console", lambda message: blocked.append(message.text) if "Content Security Policy" in message.text else None
    )
    for path, ready in (
        ("/?q=科协+科幻", "li.hit"),
        ("/tasks/6", "h1"),
        ("/overview", "svg"),
        ("/docs", ".opblock"),
        ("/redoc", "h1"),
    ):
        response = page.goto(base_url + path)
        assert "content-security-policy" in response.headers, path
        page.locator(ready).first.wait_for(state="attached")
    page.goto(base_url + "/")
    page.locator("#q").press_sequentially("科幻", delay=50)
    page.locator("#suggestions [role=option]").first.wait_for(state="visible")  # search.js ran and fetched
    assert blocked == []

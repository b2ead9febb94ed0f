"""A unit's staff in a real browser: sign in, report, see the status change, sign out; no form on another's task."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Iterator
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
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]


def _shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / name), full_page=True)
    if os.environ.get("KEPU_UPDATE_SCREENSHOTS"):
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        shutil.copy(ARTIFACTS / name, SCREENSHOTS / name)


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """The service started as the README says, with a token made for 教育部: (base URL, token)."""
    data = tmp_path_factory.mktemp("tracking-browser")
    env = {**os.environ, "KEPU_DATA_DIR": str(data)}
    env.pop("DATABASE_URL", None)
    subprocess.run([*KEPU, "import", str(SEED)], env=env, check=True, capture_output=True, timeout=120)
    made = subprocess.run(
        [*KEPU, "token", "create", "教育部"], env=env, check=True, capture_output=True, text=True, timeout=60
    )
    token = made.stdout.strip().splitlines()[-1]
    with serving(env, data / "server.log") as url:
        yield url, token


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's Chromium, headless."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=BROWSER, headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh browser context and tab."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    tab = context.new_page()
    tab.set_default_timeout(15_000)
    yield tab
    context.close()


def test_sign_in_report_see_status_sign_out(page: Any, service: tuple[str, str]) -> None:
    base, token = service
    page.goto(base + "/tasks/9")
    assert page.locator("#report-form").count() == 0  # signed out: no form

    page.goto(base + "/login")
    page.fill("#token", token)
    page.click("#login-form button[type=submit]")
    page.wait_for_url("**/my")
    assert "教育部 的任务" in page.locator("h1").inner_text()
    assert token not in page.content()
    assert "kepu_signin" not in page.evaluate("document.cookie")  # HttpOnly: scripts cannot read it
    assert page.locator('tr[data-task="9"] [data-status]').get_attribute("data-status") == "not_started"

    page.click('tr[data-task="9"] a')
    page.wait_for_url("**/tasks/9")
    page.select_option("#status", "in_progress")
    page.fill("#note", "   ")
    page.click("#report-form button[type=submit]")
    assert page.locator("#note-error").inner_text().startswith("请填写进展说明")  # checked by the server
    page.fill("#note", "已印发实施方案,首批 200 名教师完成培训。")
    page.click("#report-form button[type=submit]")
    page.wait_for_url(re.compile(r".*/tasks/9\?reported=1.*"))
    assert page.locator("#task-status").get_attribute("data-status") == "in_progress"
    assert "首批 200 名教师" in page.locator("#progress").inner_text()
    _shot(page, "report-form.png")

    page.goto(base + "/tasks/1")  # 中央组织部's task
    assert page.locator("#report-form").count() == 0
    assert page.locator("#no-form").is_visible()

    page.goto(base + "/my")
    assert page.locator('tr[data-task="9"] [data-status]').get_attribute("data-status") == "in_progress"
    page.goto(base + "/progress")
    assert page.locator("#progress-units").is_visible() and "进行中 1" in page.locator("#overall").inner_text()
    _shot(page, "progress.png")

    page.goto(base + "/my")
    page.click("#logout")
    page.wait_for_url(base + "/")
    page.goto(base + "/my")
    page.wait_for_url("**/login?next=/my")
    page.goto(base + "/tasks/9")
    assert page.locator("#report-form").count() == 0

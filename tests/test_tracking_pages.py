"""The pages for units' staff: sign in, the report form (CSRF, Chinese validation messages), /my, /progress;
the settings that guard the cookie."""

from __future__ import annotations

import datetime as dt
import html as html_module
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlalchemy import Engine

from app.config import Settings
from app.db import unit_of_work
from app.main import create_app

from .tracking import make_token

TODAY = dt.datetime.now(dt.timezone(dt.timedelta(hours=8))).date()


@pytest.fixture
def web(store: Engine, tmp_path: Path, seeded_index: Path) -> Iterator[TestClient]:
    """A browser-like client (follows no redirects) over the writable store."""
    shutil.copytree(seeded_index, tmp_path / "data")
    settings = Settings(KEPU_DATA_DIR=tmp_path / "data", KEPU_AUTH_FAILURE_LIMIT=3)
    with TestClient(create_app(settings, engine=store), follow_redirects=False) as client:
        yield client


def hidden(html: str, name: str) -> str:
    found = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert found, f"no hidden field {name}"
    return html_module.unescape(found.group(1))


def sign_in(web: TestClient, token: str) -> None:
    page = web.get("/login")
    r = web.post("/login", data={"token": token, "csrf": hidden(page.text, "csrf"), "next": "/my"})
    assert r.status_code == 303 and r.headers["location"] == "/my", r.text


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)
class TestSignIn:
    def test_cookie_is_signed_httponly_strict_and_holds_no_token(self, web: TestClient, store: Engine) -> None:
        token = make_token(store, "教育部")
        page = web.get("/login")
        r = web.post("/login", data={"token": token, "csrf": hidden(page.text, "csrf"), "next": "/my"})
        assert r.status_code == 303
        cookie = next(c for c in r.headers.get_list("set-cookie") if c.startswith("kepu_signin="))
        assert "HttpOnly" in cookie and "SameSite=strict" in cookie.replace("Strict", "strict")
        assert token not in cookie and token[5:] not in cookie
        my = web.get("/my")
        assert my.status_code == 200 and "教育部 的任务" in my.text
        assert token not in my.text
        assert 'data-task="9"' in my.text and 'data-task="1"' not in my.text and 'data-task="55"' in my.text

    def test_wrong_token_says_so_in_chinese_and_sets_no_cookie(self, web: TestClient) -> None:
        page = web.get("/login")
        r = web.post("/login", data={"token": "kepu_" + "C" * 43, "csrf": hidden(page.text, "csrf")})
        assert r.status_code == 401 and "令牌无效" in r.text
        assert "kepu_signin" not in web.cookies

    def test_login_without_its_csrf_value_is_refused(self, web: TestClient, store: Engine) -> None:
        token = make_token(store, "教育部")
        web.get("/login")
        r = web.post("/login", data={"token": token, "csrf": "forged"})
        assert r.status_code == 403 and "kepu_signin" not in web.cookies

    def test_failed_sign_ins_are_rate_limited(self, web: TestClient) -> None:
        for _ in range(3):
            csrf = hidden(web.get("/login").text, "csrf")
            assert web.post("/login", data={"token": "wrong", "csrf": csrf}).status_code == 401
        csrf = hidden(web.get("/login").text, "csrf")
        r = web.post("/login", data={"token": "wrong", "csrf": csrf})
        assert r.status_code == 429 and int(r.headers["Retry-After"]) >= 1 and "失败次数过多" in r.text

    def test_tampered_cookie_counts_as_signed_out(self, web: TestClient, store: Engine) -> None:
        sign_in(web, make_token(store, "教育部"))
        value = web.cookies["kepu_signin"]
        web.cookies.set("kepu_signin", value[:-3] + ("AAA" if not value.endswith("AAA") else "BBB"))
        assert web.get("/my").status_code == 303
        assert 'id="report-form"' not in web.get("/tasks/9").text

    def test_revoking_the_token_ends_the_sign_in(self, web: TestClient, store: Engine) -> None:
        from app.services import tokens

        sign_in(web, make_token(store, "教育部"))
        with unit_of_work(store) as session:
            tokens.revoke_token(session, 1)
        assert web.get("/my").status_code == 303

    def test_sign_out_needs_the_csrf_value(self, web: TestClient, store: Engine) -> None:
        sign_in(web, make_token(store, "教育部"))
        assert web.post("/logout", data={"csrf": "wrong"}).status_code == 403
        csrf = hidden(web.get("/my").text, "csrf")
        r = web.post("/logout", data={"csrf": csrf})
        assert r.status_code == 303 and "kepu_signin" not in web.cookies
        assert web.get("/my").status_code == 303


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)
class TestReportForm:
    def test_own_task_has_the_form_other_units_task_has_none(self, web: TestClient, store: Engine) -> None:
        assert 'id="report-form"' not in web.get("/tasks/9").text  # signed out
        sign_in(web, make_token(store, "教育部"))
        assert 'id="report-form"' in web.get("/tasks/9").text
        other = web.get("/tasks/1").text
        assert 'id="report-form"' not in other and 'id="no-form"' in other

    def test_report_redirects_and_the_status_changes(self, web: TestClient, store: Engine) -> None:
        sign_in(web, make_token(store, "教育部"))
        page = web.get("/tasks/9").text
        form = {
            "csrf": hidden(page, "csrf"),
            "version": hidden(page, "version"),
            "status": "done",
            "note": "全部完成。",
            "reported_on": TODAY.isoformat(),
        }
        r = web.post("/tasks/9/report", data=form)
        assert r.status_code == 303 and r.headers["location"].startswith("/tasks/9?reported=1")
        after = web.get(r.headers["location"]).text
        assert 'data-status="done"' in after and "全部完成。" in after and "已提交" in after
        # The same form again carries the old version: refused, nothing doubled.
        stale = web.post("/tasks/9/report", data=form)
        assert stale.status_code == 412 and "任务已有新的进展" in stale.text

    @pytest.mark.parametrize("csrf", [None, "wrong"], ids=["missing", "wrong"])
    def test_csrf_missing_or_wrong_is_refused(self, web: TestClient, store: Engine, csrf: str | None) -> None:
        sign_in(web, make_token(store, "教育部"))
        form = {"status": "done", "note": "x", "reported_on": TODAY.isoformat()}
        if csrf is not None:
            form["csrf"] = csrf
        r = web.post("/tasks/9/report", data=form)
        assert r.status_code == 403 and "表单" in r.text
        assert 'data-status="not_started"' in web.get("/tasks/9").text

    def test_validation_messages_in_chinese_next_to_the_fields(self, web: TestClient, store: Engine) -> None:
        sign_in(web, make_token(store, "教育部"))
        page = web.get("/tasks/9").text
        future = (TODAY + dt.timedelta(days=3)).isoformat()
        r = web.post(
            "/tasks/9/report",
            data={"csrf": hidden(page, "csrf"), "status": "", "note": "  ", "reported_on": future},
        )
        assert r.status_code == 422
        assert re.search(r'id="status-error">请选择进展状态<', r.text)
        assert re.search(r'id="note-error">请填写进展说明', r.text)
        assert re.search(r'id="reported_on-error">日期不能晚于今天<', r.text)
        too_long = web.post(
            "/tasks/9/report",
            data={"csrf": hidden(page, "csrf"), "status": "done", "note": "进" * 2001, "reported_on": "2023-05-01"},
        )
        assert too_long.status_code == 422 and "不能超过 2000 字" in too_long.text
        assert 'data-status="not_started"' in web.get("/tasks/9").text

    def test_posting_to_another_units_task_is_refused(self, web: TestClient, store: Engine) -> None:
        sign_in(web, make_token(store, "教育部"))
        csrf = hidden(web.get("/tasks/9").text, "csrf")
        r = web.post("/tasks/1/report", data={"csrf": csrf, "status": "done", "note": "x", "reported_on": "2023-05-01"})
        assert r.status_code == 403 and "无权上报" in r.text


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)
def test_progress_page_draws_units_and_key_points(web: TestClient, store: Engine) -> None:
    sign_in(web, make_token(store, "教育部"))
    page = web.get("/tasks/9").text
    web.post(
        "/tasks/9/report",
        data={"csrf": hidden(page, "csrf"), "status": "done", "note": "完成", "reported_on": TODAY.isoformat()},
    )
    html = web.get("/progress").text
    assert 'id="progress-units"' in html and 'id="progress-key-points"' in html
    assert re.search(r'data-stale="false">教育部<', html)
    assert re.search(r'fill="#b71c1c" font-weight="bold" data-stale="true">中国科协 ⚠<', html)
    assert "已完成 1" in html


class TestSecretSetting:
    def test_production_refuses_a_missing_or_placeholder_secret(self) -> None:
        for secret in ("", "changeme", "short-but-not-placeholder"):
            with pytest.raises(ValidationError, match="KEPU_SECRET_KEY"):
                Settings(KEPU_ENV="production", KEPU_SECRET_KEY=secret)
        good = "k" * 40
        assert Settings(KEPU_ENV="production", KEPU_SECRET_KEY=good).secret_key == good

    def test_development_makes_an_ephemeral_secret_and_warns(self, caplog: pytest.LogCaptureFixture) -> None:
        with caplog.at_level("WARNING", logger="app.config"):
            one, two = Settings(KEPU_SECRET_KEY=""), Settings(KEPU_SECRET_KEY="")
        assert len(one.secret_key) >= 32 and one.secret_key != two.secret_key
        assert "ephemeral" in caplog.text


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)
def test_search_page_lists_reports_with_kind_report_linking_to_the_task(web: TestClient, store: Engine) -> None:
    sign_in(web, make_token(store, "教育部"))
    page = web.get("/tasks/9").text
    note = "举办青少年人工智能科普周"
    form = {"csrf": hidden(page, "csrf"), "status": "in_progress", "note": note, "reported_on": TODAY.isoformat()}
    assert web.post("/tasks/9/report", data=form).status_code == 303
    html = web.get("/", params={"q": "人工智能科普周", "kind": "report"}).text
    assert 'data-kind="report"' in html and 'href="/tasks/9#progress"' in html and "进展" in html


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)
@pytest.mark.parametrize("target", ["//evil.example/", "/\\evil.example", "https://evil.example/", "/\x0b/evil"])
def test_sign_in_never_redirects_off_site(web: TestClient, store: Engine, target: str) -> None:
    token = make_token(store, "教育部")
    csrf = hidden(web.get("/login").text, "csrf")
    r = web.post("/login", data={"token": token, "csrf": csrf, "next": target})
    assert r.status_code == 303 and r.headers["location"] == "/my"


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)
def test_production_cookie_is_secure(store: Engine, tmp_path: Path, seeded_index: Path) -> None:
    shutil.copytree(seeded_index, tmp_path / "data")
    settings = Settings(KEPU_DATA_DIR=tmp_path / "data", KEPU_ENV="production", KEPU_SECRET_KEY="s" * 48)
    app = create_app(settings, engine=store)
    with TestClient(app, base_url="https://testserver", follow_redirects=False) as client:
        csrf = hidden(client.get("/login").text, "csrf")
        r = client.post("/login", data={"token": make_token(store, "教育部"), "csrf": csrf})
    cookie = next(c for c in r.headers.get_list("set-cookie") if c.startswith("kepu_signin="))
    assert "Secure" in cookie and "HttpOnly" in cookie

"""HTTP hardening: security headers, the Host header, HEAD, CORS preflights, result pages past the end."""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from app.config import Settings
from app.main import create_app

PAGES = [
    "/",
    "/?q=科幻",
    "/?q=科协+科幻&page=2",
    "/tasks/6",
    "/key-points/1",
    "/activities/1",
    "/overview",
    "/progress",
    "/login",
    "/nowhere",
]
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>(.*?)</script>", re.DOTALL)


@pytest.fixture
def app_with(seeded_engine: Engine, seeded_data_dir: Path) -> Iterator[Any]:
    """A client over the seeded store with some settings changed."""
    clients: list[TestClient] = []

    def make(**settings: Any) -> TestClient:
        app = create_app(Settings(KEPU_DATA_DIR=seeded_data_dir, **settings), engine=seeded_engine)
        client = TestClient(app, raise_server_exceptions=False)
        client.__enter__()
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)


class TestSecurityHeaders:
    @pytest.mark.parametrize("path", PAGES)
    def test_pages_forbid_inline_script_framing_and_sniffing(self, client: TestClient, path: str) -> None:
        response = client.get(path, headers={"Accept": "text/html"})
        assert response.headers["content-type"].startswith("text/html")
        policy = response.headers["content-security-policy"]
        assert "script-src 'self';" in policy and "style-src 'self';" in policy
        assert "unsafe-inline" not in policy and "frame-ancestors 'none'" in policy
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] == "strict-origin-when-cross-origin"

    @pytest.mark.parametrize("path", PAGES)
    def test_pages_hold_nothing_the_policy_would_block(self, client: TestClient, path: str) -> None:
        html = client.get(path, headers={"Accept": "text/html"}).text
        assert INLINE_SCRIPT.findall(html) == []
        assert "<style" not in html and not re.search(r"\sstyle=", html)
        assert not re.search(r"\son[a-z]+=", html), "inline event handlers are inline script"

    @pytest.mark.parametrize("path", ["/api/v1/tasks", "/embed.js", "/static/app.css", "/openapi.json", "/metrics"])
    def test_everything_else_is_nosniff(self, client: TestClient, path: str) -> None:
        response = client.get(path)
        assert response.status_code == 200
        assert response.headers["x-content-type-options"] == "nosniff"
        assert "content-security-policy" not in response.headers  # not a document: nothing to run

    @pytest.mark.parametrize("path", ["/docs", "/redoc"])
    def test_docs_allow_their_own_inline_script_by_hash_only(self, client: TestClient, path: str) -> None:
        response = client.get(path)
        policy = response.headers["content-security-policy"]
        scripts = INLINE_SCRIPT.findall(response.text)
        script_src = re.search(r"script-src ([^;]*)", policy)
        assert script_src is not None
        allowed = script_src.group(1).split()
        assert "'unsafe-inline'" not in allowed
        for script in scripts:
            digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
            assert f"'sha256-{digest}'" in allowed

    def test_framing_by_configured_origins(self, app_with: Any) -> None:
        client = app_with(KEPU_FRAME_ANCESTORS=["https://partner.example.org"])
        response = client.get("/tasks/6")
        assert "frame-ancestors https://partner.example.org" in response.headers["content-security-policy"]
        assert "x-frame-options" not in response.headers


class TestHostHeader:
    def test_opensearch_urls_come_from_the_public_url(self, app_with: Any) -> None:
        client = app_with(KEPU_PUBLIC_URL="https://kepu.example.org/")
        xml = client.get("/opensearch.xml", headers={"Host": "attacker.example"}).text
        assert 'template="https://kepu.example.org/?q={searchTerms}"' in xml
        assert "attacker" not in xml

    def test_redirects_never_carry_the_clients_host(self, app_with: Any) -> None:
        for settings, expected in (({}, "/api/v1/tasks"), ({"KEPU_PUBLIC_URL": "https://kepu.example.org"}, None)):
            client = app_with(**settings)
            response = client.get("/api/v1/tasks/", headers={"Host": "attacker.example"}, follow_redirects=False)
            assert response.status_code == 307
            location = response.headers["location"]
            assert "attacker" not in location
            assert location == (expected or "https://kepu.example.org/api/v1/tasks")

    def test_trusted_hosts(self, app_with: Any) -> None:
        client = app_with(KEPU_TRUSTED_HOSTS=["kepu.example.org", "*.kepu.example.org"])
        refused = client.get("/api/v1/tasks", headers={"Host": "attacker.example"})
        assert refused.status_code == 400 and "x-request-id" in refused.headers
        assert refused.headers["x-content-type-options"] == "nosniff"
        assert client.get("/api/v1/tasks", headers={"Host": "kepu.example.org"}).status_code == 200
        assert client.get("/healthz", headers={"Host": "a.kepu.example.org"}).status_code == 200

    def test_a_public_url_must_be_absolute(self) -> None:
        with pytest.raises(ValueError, match="must start with http"):
            Settings(KEPU_PUBLIC_URL="kepu.example.org")


HEAD_PATHS = [
    "/healthz",
    "/readyz",
    "/api/v1/tasks?limit=2",
    "/api/v1/tasks/6",
    "/api/v1/search?q=科幻",
    "/api/v1/suggest?q=科",
    "/",
    "/?q=科幻",
    "/tasks/6",
    "/overview",
    "/embed.js",
    "/opensearch.xml",
    "/static/app.css",
    "/openapi.json",
    "/docs",
    "/redoc",
    "/api/v1/tasks/999999",
]


class TestHead:
    @pytest.mark.parametrize("path", HEAD_PATHS)
    def test_head_answers_like_get_without_a_body(self, client: TestClient, path: str) -> None:
        get = client.get(path)
        head = client.head(path)
        assert head.status_code == get.status_code, head.text
        assert head.content == b""
        assert head.headers["content-type"] == get.headers["content-type"]
        assert head.headers["content-length"] == get.headers["content-length"]

    def test_head_is_logged_and_counted_as_head_under_its_route(self, client: TestClient) -> None:
        client.head("/api/v1/tasks/6")
        metrics = client.get("/metrics").text
        assert 'kepu_http_requests_total{method="HEAD",route="/api/v1/tasks/{task_id}",status="200"} 1.0' in metrics

    def test_other_methods_are_still_405(self, client: TestClient) -> None:
        response = client.delete("/api/v1/tasks/6")
        assert response.status_code == 405 and "GET" in response.headers["allow"]


class TestCorsPreflight:
    def test_preflight_passes_through_request_ids_logs_and_metrics(self, app_with: Any) -> None:
        client = app_with(KEPU_CORS_ORIGINS=["https://partner.example.org"])
        response = client.options(
            "/api/v1/search",
            headers={
                "Origin": "https://partner.example.org",
                "Access-Control-Request-Method": "GET",
                "X-Request-ID": "preflight-1",
            },
        )
        assert response.status_code == 200
        assert response.headers["access-control-allow-origin"] == "https://partner.example.org"
        assert response.headers["x-request-id"] == "preflight-1"
        metrics = client.get("/metrics").text
        assert 'kepu_http_requests_total{method="OPTIONS",route="unmatched",status="200"} 1.0' in metrics


class TestResultPages:
    def test_a_page_past_the_last_goes_to_the_last(self, client: TestClient) -> None:
        response = client.get("/", params={"q": "科协", "page": 999}, follow_redirects=False)
        assert response.status_code == 303
        last = client.get(response.headers["location"])
        total = int(re.search(r'<strong id="total">(\d+)</strong>', last.text).group(1))  # type: ignore[union-attr]
        page = -(-total // 10)
        assert page > 1, "the query must have several pages"
        assert response.headers["location"] == f"/?q=%E7%A7%91%E5%8D%8F&page={page}"
        assert f"第 {(page - 1) * 10 + 1}–{total} 条" in last.text

    def test_the_last_page_itself_is_shown(self, client: TestClient) -> None:
        assert client.get("/", params={"q": "科幻", "page": 1}, follow_redirects=False).status_code == 200

    def test_no_results_is_page_one(self, client: TestClient) -> None:
        response = client.get("/", params={"q": "没有这个词语", "page": 5}, follow_redirects=False)
        assert (
            response.status_code == 303
            and response.headers["location"] == "/?q=%E6%B2%A1%E6%9C%89%E8%BF%99%E4%B8%AA%E8%AF%8D%E8%AF%AD"
        )

"""Pages, offline docs, OpenAPI quality, CORS and observability, over HTTP without a browser."""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from app.config import Settings
from app.db import unit_of_work
from app.main import create_app
from app.parser import parse_notice
from app.services.importer import import_notice

HTML = {"accept": "text/html"}
MARKUP_NOTICE = (
    "2024年某省科学素质工作要点\n一、甲\n1.举办航天科普周<script>alert(1)</script>。内容<img src=x onerror=alert(2)>。\n"
    "附件\n1.举办航天科普周<script>alert(1)</script>,展出<img src=x onerror=alert(2)>。(中国科协)\n"
)


class TestPages:
    def test_home(self, client: TestClient) -> None:
        page = client.get("/", headers=HTML)
        assert page.status_code == 200 and 'role="search"' in page.text and "67 项台账任务" in page.text

    def test_results_are_highlighted_and_facets_link(self, client: TestClient) -> None:
        page = client.get("/", params={"q": "科幻"}, headers=HTML).text
        assert re.search(r'data-kind="task" data-number="6"', page) and re.search(
            r'data-kind="task" data-number="64"', page
        )
        assert "<em>科幻</em>" in page
        assert 'data-facet="department" data-value="中国科协"' in page

    def test_partial_matches_are_marked_where_they_begin(self, client: TestClient) -> None:
        # 科协 科幻: tasks 6 and 64 hold both words, then the page is filled with partial ones.
        page = client.get("/", params={"q": "科协 科幻"}, headers=HTML).text
        hits = re.findall(r'<li class="hit( partial)?" data-kind="(\w+)" data-number="(\d*)"', page)
        assert [(p, n) for p, _, n in hits[:2]] == [("", "6"), ("", "64")] and all(p for p, _, _ in hits[2:])
        assert page.count("以下为部分匹配") == 1 and "未找到同时包含全部词语的结果" not in page
        assert page.index("以下为部分匹配") > page.index('data-number="64"')

    def test_snippets_cannot_inject_markup(self, engine: Engine, settings: Settings) -> None:
        # A notice whose own text holds markup: snippets are rendered with |safe, so the
        # highlighter's escaping is all that stands between it and the page.
        with unit_of_work(engine) as session:
            import_notice(session, parse_notice(MARKUP_NOTICE))
        with TestClient(create_app(settings, engine=engine)) as c:
            api = c.get("/api/v1/search", params={"q": "航天"}).json()
            page = c.get("/", params={"q": "航天"}, headers=HTML).text
        snippets = [item["snippet"] for item in api["items"]]
        assert len(snippets) == 2  # the task and the key point
        for html in (page, *snippets):
            assert "<em>航天</em>" in html
            assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "&lt;img src=x onerror=alert(2)&gt;" in html
            assert "<script>alert" not in html and "<img src=x" not in html

    def test_broken_query_is_a_400_page(self, client: TestClient) -> None:
        page = client.get("/", params={"q": '"科普'}, headers=HTML)
        assert page.status_code == 400 and "never closed" in page.text and 'role="alert"' in page.text

    def test_pagination_links(self, client: TestClient) -> None:
        page = client.get("/", params={"q": "科普", "page": 2}, headers=HTML).text
        assert 'aria-current="page">2<' in page and "上一页" in page

    def test_task_department_overview(self, client: TestClient) -> None:
        task = client.get("/tasks/55", headers=HTML).text
        assert "台账任务 55" in task and "各成员单位参与" in task
        unit = client.get("/departments/中国科学技术协会", headers=HTML).text
        assert "牵头 <strong>16</strong> 项" in unit
        overview = client.get("/overview", headers=HTML).text
        assert overview.count("<svg") == 2 and "<script" not in overview.split("<main", 1)[1].split("</main>")[0]

    def test_key_point_and_activity_pages(self, client: TestClient) -> None:
        kp = client.get("/key-points/9", headers=HTML).text
        assert "工作要点 9:强化纲要实施机制" in kp and kp.count('href="/tasks/') >= 10
        day = next(
            a
            for a in client.get("/api/v1/activities", params={"limit": 200}).json()["items"]
            if a["name"] == "全国科普日"
        )
        page = client.get(f"/activities/{day['id']}", headers=HTML).text
        assert "全国科普日" in page and 'href="/tasks/64"' in page and 'href="/key-points/9"' in page

    def test_hits_link_to_their_own_pages(self, client: TestClient) -> None:
        page = client.get("/", params={"q": "科幻"}, headers=HTML).text
        assert 'href="/tasks/6"' in page and 'href="/key-points/8"' in page and 'href="/activities/' in page

    def test_missing_pages_are_html_for_people_and_json_for_programs(self, client: TestClient) -> None:
        page = client.get("/tasks/999", headers=HTML)
        assert page.status_code == 404 and page.headers["content-type"].startswith("text/html")
        api = client.get("/api/v1/tasks/999", headers=HTML)
        assert api.status_code == 404 and api.headers["content-type"].startswith("application/problem+json")

    def test_embed_script_and_opensearch(self, client: TestClient) -> None:
        script = client.get("/embed.js")
        assert script.headers["content-type"].startswith("text/javascript") and "data-kepu-search" in script.text
        assert "/api/v1/suggest?format=opensearch" in client.get("/opensearch.xml").text


class TestDocs:
    def test_docs_are_served_locally(self, client: TestClient) -> None:
        for path in ("/docs", "/redoc"):
            html = client.get(path).text
            assert "/static-offline-docs/" in html
            assert not re.search(r"https?://(?!127\.0\.0\.1)", html.split("<body", 1)[-1])
        assert client.get("/static-offline-docs/swagger-ui-bundle.js").status_code == 200

    def test_every_operation_is_described(self, client: TestClient) -> None:
        spec = client.get("/openapi.json").json()
        assert {t["name"] for t in spec["tags"]} >= {"search", "tasks", "departments"}
        for path, operations in spec["paths"].items():
            for method, op in operations.items():
                assert " · " in op["summary"], (path, method)
                assert op.get("tags"), (path, method)
                for param in op.get("parameters", []):
                    assert param.get("description"), (path, param["name"])
                    assert param.get("examples") or param["schema"].get("examples"), (path, param["name"])
                errors = [code for code in op["responses"] if code.startswith(("4", "5"))]
                if op.get("parameters"):
                    assert "422" in errors, (path, method)
                    problem = op["responses"]["422"]["content"]["application/problem+json"]["schema"]["$ref"]
                    assert problem.endswith("/Problem")

    def test_every_response_has_an_example(self, client: TestClient) -> None:
        spec = client.get("/openapi.json").json()
        schemas = spec["components"]["schemas"]

        def has_example(schema: dict) -> bool:  # type: ignore[type-arg]
            if "$ref" in schema:
                return has_example(schemas[schema["$ref"].rsplit("/", 1)[1]])
            if "example" in schema or "examples" in schema:
                return True
            if schema.get("type") == "array":
                return has_example(schema.get("items", {}))
            return "items" in schema.get("properties", {}) and has_example(schema["properties"]["items"])  # a Page

        for path, operations in spec["paths"].items():
            for method, op in operations.items():
                content = (op["responses"].get("200") or op["responses"]["201"]).get("content", {})
                assert any("example" in c or has_example(c.get("schema", {})) for c in content.values()), (path, method)


class TestObservability:
    def test_request_id_is_echoed_or_made(self, client: TestClient) -> None:
        given = client.get("/healthz", headers={"X-Request-ID": "abc-123"})
        assert given.headers["x-request-id"] == "abc-123"
        made = client.get("/healthz", headers={"X-Request-ID": "bad id\twith space"})
        assert re.fullmatch(r"[0-9a-f]{32}", made.headers["x-request-id"])
        assert client.get("/api/v1/tasks/999").headers["x-request-id"]

    def test_access_log_is_json_with_the_request_id(self, client: TestClient, caplog: pytest.LogCaptureFixture) -> None:
        with caplog.at_level(logging.INFO, logger="kepu.access"):
            client.get("/api/v1/tasks/6", headers={"X-Request-ID": "trace-6"})
        record = next(r for r in caplog.records if getattr(r, "request_id", "") == "trace-6")
        assert (record.status, record.route, record.method) == (200, "/api/v1/tasks/{task_id}", "GET")  # type: ignore[attr-defined]
        from app.observability import JsonFormatter

        line = json.loads(JsonFormatter().format(record))
        assert line["request_id"] == "trace-6" and line["duration_ms"] >= 0

    def test_metrics(self, client: TestClient) -> None:
        client.get("/api/v1/tasks/6")
        client.get("/api/v1/tasks/99999")
        text = client.get("/metrics").text
        for status in (200, 404):  # each request counted once, under its route template
            line = f'kepu_http_requests_total{{method="GET",route="/api/v1/tasks/{{task_id}}",status="{status}"}} 1.0'
            assert line in text.splitlines(), text
        assert "kepu_http_request_duration_seconds_bucket" in text
        documents = float(re.search(r"^kepu_index_documents (\S+)$", text, re.M).group(1))  # type: ignore[union-attr]
        tasks_total = client.get("/api/v1/tasks").json()["total"]
        assert documents >= tasks_total + 12
        assert float(re.search(r"^kepu_last_import_timestamp_seconds (\S+)$", text, re.M).group(1)) > 1.6e9  # type: ignore[union-attr]


class TestCors:
    def test_no_origin_allowed_by_default(self, client: TestClient) -> None:
        response = client.get("/api/v1/suggest", params={"q": "科普"}, headers={"Origin": "https://example.org"})
        assert "access-control-allow-origin" not in response.headers

    def test_configured_origin(self, seeded_engine: Engine, tmp_path: Path) -> None:
        settings = Settings(KEPU_DATA_DIR=tmp_path, KEPU_CORS_ORIGINS=["https://partner.example"])
        with TestClient(create_app(settings, engine=seeded_engine)) as c:
            ok = c.get("/api/v1/suggest", params={"q": "科普"}, headers={"Origin": "https://partner.example"})
            other = c.get("/api/v1/suggest", params={"q": "科普"}, headers={"Origin": "https://evil.example"})
        assert ok.headers["access-control-allow-origin"] == "https://partner.example"
        assert "access-control-allow-origin" not in other.headers

"""Progress reports over HTTP: who may write, what is refused, what the task, search, stats and audit show."""

from __future__ import annotations

import datetime as dt
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func
from sqlmodel import Session, select

from app import models as m
from app.config import Settings
from app.db import unit_of_work
from app.main import create_app

from .tracking import bearer, make_token

TODAY = dt.datetime.now(dt.timezone(dt.timedelta(hours=8))).date()


@pytest.fixture
def api(store: Engine, tmp_path: Path, seeded_index: Path) -> Iterator[TestClient]:
    """An app over the writable store, allowing 5 failed token attempts per address."""
    shutil.copytree(seeded_index, tmp_path / "data")
    settings = Settings(KEPU_DATA_DIR=tmp_path / "data", KEPU_AUTH_FAILURE_LIMIT=5)
    with TestClient(create_app(settings, engine=store), raise_server_exceptions=False) as client:
        yield client


@pytest.fixture
def moe(store: Engine) -> str:
    """教育部's token (lead of task 9, not named on task 1)."""
    return make_token(store, "教育部")


@pytest.fixture
def office(store: Engine) -> str:
    """The office's token."""
    return make_token(store, office=True)


def report(**changes: Any) -> dict[str, Any]:
    body = {"status": "in_progress", "note": "已印发实施方案,完成首批教师培训。", "reported_on": TODAY.isoformat()}
    body.update(changes)
    return body


def count(store: Engine, model: type[Any]) -> int:
    with Session(store) as session:
        return int(session.exec(select(func.count()).select_from(model)).one())


class TestCreateReport:
    def test_lead_unit_reports_and_the_task_shows_its_status(self, api: TestClient, moe: str) -> None:
        before = api.get("/api/v1/tasks/9").json()
        assert before["status"] == "not_started" and before["last_reported_on"] is None
        r = api.post("/api/v1/tasks/9/reports", json=report(), headers=bearer(moe))
        assert r.status_code == 201, r.text
        body = r.json()
        assert body["department"] == "教育部" and body["task_status"] == "in_progress"
        assert r.headers["ETag"] == body["etag"]
        task = api.get("/api/v1/tasks/9")
        assert task.json()["status"] == "in_progress"
        assert task.json()["last_reported_on"] == TODAY.isoformat()
        assert task.headers["ETag"] == body["etag"]
        listed = api.get("/api/v1/tasks", params={"status": "in_progress"}).json()
        assert [t["number"] for t in listed["items"]] == [9]
        not_started = api.get("/api/v1/tasks", params={"status": "not_started", "limit": 200}).json()
        assert not_started["total"] == 66 and 9 not in [t["number"] for t in not_started["items"]]

    def test_a_participant_report_does_not_set_the_status(self, api: TestClient, store: Engine) -> None:
        cast = make_token(store, "科协")  # any spelling: 中国科协 takes part in task 9
        r = api.post("/api/v1/tasks/9/reports", json=report(status="done"), headers=bearer(cast))
        assert r.status_code == 201, r.text
        task = api.get("/api/v1/tasks/9").json()
        assert task["status"] == "not_started" and task["last_reported_on"] == TODAY.isoformat()

    def test_another_units_task_is_403_naming_unit_and_task_and_audited(
        self, api: TestClient, moe: str, office: str
    ) -> None:
        r = api.post("/api/v1/tasks/1/reports", json=report(), headers=bearer(moe))
        assert r.status_code == 403
        assert r.headers["content-type"].startswith("application/problem+json")
        assert "教育部" in r.json()["detail"] and "task 1" in r.json()["detail"] and "中央组织部" in r.json()["detail"]
        assert api.get("/api/v1/tasks/1").json()["status"] == "not_started"
        entries = api.get("/api/v1/audit", headers=bearer(office)).json()["items"]
        denied = [e for e in entries if e["action"] == "report.denied"]
        assert denied and denied[0]["actor"] == "教育部" and denied[0]["target"] == "task:1"
        assert denied[0]["request_id"] and denied[0]["address"]

    def test_all_member_task_accepts_any_unit(self, api: TestClient, moe: str) -> None:
        assert api.post("/api/v1/tasks/55/reports", json=report(), headers=bearer(moe)).status_code == 201

    @pytest.mark.parametrize(
        "headers",
        [
            {},
            {"Authorization": "Basic dXNlcjpwYXNz"},
            {"Authorization": "Bearer not-a-token"},
            {"Authorization": "Bearer kepu_" + "A" * 43},
        ],
        ids=["missing", "not-bearer", "malformed", "unknown"],
    )
    def test_without_a_valid_token_401(self, api: TestClient, store: Engine, headers: dict[str, str]) -> None:
        r = api.post("/api/v1/tasks/9/reports", json=report(), headers=headers)
        assert r.status_code == 401, r.text
        assert r.headers["WWW-Authenticate"].startswith("Bearer")
        assert r.json()["type"] == "/problems/unauthorized"
        assert count(store, m.ProgressReport) == 0

    def test_revoked_token_401(self, api: TestClient, store: Engine, moe: str) -> None:
        from app.services import tokens

        with unit_of_work(store) as session:
            row = session.exec(select(m.UnitToken).where(m.UnitToken.department == "教育部")).one()
            tokens.revoke_token(session, row.id or 0)
        r = api.post("/api/v1/tasks/9/reports", json=report(), headers=bearer(moe))
        assert r.status_code == 401
        assert count(store, m.ProgressReport) == 0

    @pytest.mark.parametrize(
        ("changes", "where"),
        [
            ({"reported_on": (TODAY + dt.timedelta(days=2)).isoformat()}, "reported_on"),
            ({"note": ""}, "note"),
            ({"note": "   "}, "note"),
            ({"note": "进" * 2001}, "note"),
            ({"status": "finished"}, "status"),
            ({"reported_on": "2023-02-30"}, "reported_on"),
            ({"extra": 1}, "extra"),
        ],
        ids=["future-date", "empty-note", "blank-note", "long-note", "wrong-status", "no-such-date", "unknown-field"],
    )
    def test_bad_input_422_and_nothing_written(
        self, api: TestClient, store: Engine, moe: str, changes: dict[str, Any], where: str
    ) -> None:
        r = api.post("/api/v1/tasks/9/reports", json=report(**changes), headers=bearer(moe))
        assert r.status_code == 422, r.text
        assert r.headers["content-type"].startswith("application/problem+json")
        assert where in r.json()["detail"]
        assert count(store, m.ProgressReport) == 0
        assert count(store, m.AuditEntry) == 1  # the token's creation only

    def test_note_of_2000_characters_is_accepted(self, api: TestClient, moe: str) -> None:
        assert (
            api.post("/api/v1/tasks/9/reports", json=report(note="进" * 2000), headers=bearer(moe)).status_code == 201
        )

    def test_wrong_content_type_415_and_oversized_body_413(self, api: TestClient, store: Engine, moe: str) -> None:
        form = api.post("/api/v1/tasks/9/reports", data={"status": "done"}, headers=bearer(moe))
        assert form.status_code == 415, form.text
        big = api.post(
            "/api/v1/tasks/9/reports",
            content=('{"status": "done", "note": "' + "x" * 70_000 + '", "reported_on": "2023-01-01"}').encode(),
            headers={**bearer(moe), "Content-Type": "application/json"},
        )
        assert big.status_code == 413, big.text
        assert count(store, m.ProgressReport) == 0

    def test_unknown_task_404(self, api: TestClient, office: str) -> None:
        assert api.post("/api/v1/tasks/9999/reports", json=report(), headers=bearer(office)).status_code == 404

    def test_failed_attempts_are_rate_limited_per_address(self, api: TestClient, moe: str) -> None:
        wrong = bearer("kepu_" + "B" * 43)
        for _ in range(5):
            assert api.post("/api/v1/tasks/9/reports", json=report(), headers=wrong).status_code == 401
        limited = api.post("/api/v1/tasks/9/reports", json=report(), headers=wrong)
        assert limited.status_code == 429
        assert 1 <= int(limited.headers["Retry-After"]) <= 300
        # While limited, even a valid token waits: guessing gains nothing.
        assert api.post("/api/v1/tasks/9/reports", json=report(), headers=bearer(moe)).status_code == 429

    def test_a_failure_after_the_report_row_leaves_neither_row(
        self, api: TestClient, store: Engine, moe: str, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        from app.services import audit

        def crash(*_: object, **__: object) -> None:
            raise RuntimeError("crash between the report row and the audit row")

        monkeypatch.setattr(audit, "record", crash)
        r = api.post("/api/v1/tasks/9/reports", json=report(), headers=bearer(moe))
        assert r.status_code == 500
        assert count(store, m.ProgressReport) == 0
        assert count(store, m.AuditEntry) == 1  # the token's creation only
        assert api.get("/api/v1/tasks/9").json()["status"] == "not_started"


class TestCorrections:
    def test_office_corrects_with_if_match_and_the_old_version_is_kept(
        self, api: TestClient, moe: str, office: str
    ) -> None:
        first = api.post("/api/v1/tasks/9/reports", json=report(status="done"), headers=bearer(moe)).json()
        fix = report(status="in_progress", note="更正:尚在推进。", corrects=first["id"])
        assert api.post("/api/v1/tasks/9/reports", json=fix, headers=bearer(office)).status_code == 428
        stale = api.post("/api/v1/tasks/9/reports", json=fix, headers={**bearer(office), "If-Match": '"task-9-0"'})
        assert stale.status_code == 412
        etag = api.get("/api/v1/tasks/9").headers["ETag"]
        r = api.post("/api/v1/tasks/9/reports", json=fix, headers={**bearer(office), "If-Match": etag})
        assert r.status_code == 201, r.text
        assert r.json()["department"] == "教育部" and r.json()["author"] == "office"
        assert api.get("/api/v1/tasks/9").json()["status"] == "in_progress"
        items = api.get("/api/v1/tasks/9/reports").json()["items"]
        assert [(i["id"], i["corrected_by"]) for i in items] == [(r.json()["id"], None), (first["id"], r.json()["id"])]
        current = api.get("/api/v1/tasks/9/reports", params={"include_corrected": False}).json()
        assert current["total"] == 1
        again = api.post("/api/v1/tasks/9/reports", json=fix, headers={**bearer(office), "If-Match": r.headers["ETag"]})
        assert again.status_code == 409

    def test_a_unit_may_not_correct(self, api: TestClient, moe: str) -> None:
        first = api.post("/api/v1/tasks/9/reports", json=report(), headers=bearer(moe))
        fix = report(corrects=first.json()["id"])
        r = api.post("/api/v1/tasks/9/reports", json=fix, headers={**bearer(moe), "If-Match": first.headers["ETag"]})
        assert r.status_code == 403 and "office" in r.json()["detail"]

    def test_stale_if_match_on_an_append_is_412(self, api: TestClient, moe: str) -> None:
        etag = api.get("/api/v1/tasks/9").headers["ETag"]
        assert (
            api.post("/api/v1/tasks/9/reports", json=report(), headers={**bearer(moe), "If-Match": etag}).status_code
            == 201
        )
        r = api.post("/api/v1/tasks/9/reports", json=report(), headers={**bearer(moe), "If-Match": etag})
        assert r.status_code == 412


class TestReadingReports:
    def test_newest_first_and_paginated(self, api: TestClient, moe: str) -> None:
        for day in (3, 1, 2):
            on = dt.date(2023, 5, day).isoformat()
            assert (
                api.post("/api/v1/tasks/9/reports", json=report(reported_on=on), headers=bearer(moe)).status_code == 201
            )
        page = api.get("/api/v1/tasks/9/reports", params={"limit": 2}).json()
        assert page["total"] == 3 and [i["reported_on"] for i in page["items"]] == ["2023-05-03", "2023-05-02"]

    def test_unknown_task_404(self, api: TestClient) -> None:
        assert api.get("/api/v1/tasks/9999/reports").status_code == 404


class TestSearchReports:
    def test_a_new_report_is_searchable_within_a_second_with_kind_report_only(self, api: TestClient, moe: str) -> None:
        note = "组织青少年航天科普夏令营,覆盖中小学生三千人。"
        assert api.post("/api/v1/tasks/9/reports", json=report(note=note), headers=bearer(moe)).status_code == 201
        deadline = time.monotonic() + 1.0
        while True:
            found = api.get("/api/v1/search", params={"q": "航天 夏令营", "kind": "report"}).json()
            if found["total"] or time.monotonic() > deadline:
                break
        assert found["total"] == 1, found
        item = found["items"][0]
        assert item["kind"] == "report" and item["task"] == {"id": 9, "number": 9}
        assert "<em>" in item["snippet"]
        ledger = api.get("/api/v1/search", params={"q": "航天 夏令营"}).json()
        assert all(i["kind"] != "report" for i in ledger["items"])


class TestAudit:
    def test_office_only(self, api: TestClient, moe: str, office: str) -> None:
        assert api.get("/api/v1/audit").status_code == 401
        denied = api.get("/api/v1/audit", headers=bearer(moe))
        assert denied.status_code == 403 and "office" in denied.json()["detail"]
        api.post("/api/v1/tasks/9/reports", json=report(), headers=bearer(moe))
        entries = api.get("/api/v1/audit", headers=bearer(office)).json()["items"]
        created = entries[0]
        assert created["action"] == "report.created" and created["actor"] == "教育部"
        assert created["before"]["status"] == "not_started" and created["after"]["status"] == "in_progress"
        assert created["address"] == "testclient" and len(created["request_id"]) >= 8


class TestStats:
    def test_counts_by_unit_section_and_overall(self, api: TestClient, moe: str) -> None:
        api.post("/api/v1/tasks/9/reports", json=report(status="done"), headers=bearer(moe))
        stats = api.get("/api/v1/stats").json()
        assert stats["overall"]["total"] == 67 and stats["overall"]["by_status"]["done"] == 1
        assert stats["overall"]["completion"] == round(1 / 67, 4)
        moe_row = next(d for d in stats["departments"] if d["name"] == "教育部")
        assert moe_row["lead"]["by_status"]["done"] == 1 and moe_row["last_reported_on"] == TODAY.isoformat()
        assert moe_row["stale"] is False
        assert next(d for d in stats["departments"] if d["name"] == "中央组织部")["stale"] is True
        assert sum(k["counts"]["by_status"]["done"] for k in stats["key_points"]) == 1
        assert sum(x["counts"]["total"] for x in stats["sections"]) == sum(
            k["counts"]["total"] for k in stats["key_points"]
        )


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)
def test_openapi_declares_the_bearer_scheme_on_writes_only(api: TestClient) -> None:
    spec = api.get("/openapi.json").json()
    assert spec["components"]["securitySchemes"]["UnitToken"] == {
        "type": "http",
        "scheme": "bearer",
        "description": spec["components"]["securitySchemes"]["UnitToken"]["description"],
    }
    reports = spec["paths"]["/api/v1/tasks/{task_id}/reports"]
    assert reports["post"]["security"] == [{"UnitToken": []}] and "security" not in reports["get"]
    assert spec["paths"]["/api/v1/audit"]["get"]["security"] == [{"UnitToken": []}]
    assert {"401", "403", "412", "413", "415", "428", "429"} <= set(reports["post"]["responses"])

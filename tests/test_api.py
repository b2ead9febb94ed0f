"""The read API over the seeded store, one class per endpoint."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient


def _problem(response, status: int) -> dict:  # type: ignore[no-untyped-def,type-arg]
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == status and body["title"] and body["detail"]
    return body  # type: ignore[no-any-return]


def _not_found(response, what: str) -> None:  # type: ignore[no-untyped-def]
    """The service's own 404 naming the resource, not the router's generic one for an unknown path."""
    assert _problem(response, 404) == {
        "type": "/problems/not-found",
        "title": "Not found",
        "status": 404,
        "detail": f"no {what}",
    }


class TestTasks:
    def test_cast_leads_sixteen_including_55(self, client: TestClient) -> None:
        body = client.get("/api/v1/tasks", params={"department": "科协", "role": "lead"}).json()
        assert body["total"] == 16 and len(body["items"]) == 16
        assert 55 in [t["number"] for t in body["items"]]
        for task in body["items"]:
            lead = [d for d in task["departments"] if d["role"] == "lead"]
            assert lead[0]["name"] == "中国科协" and lead[0]["full_name"] == "中国科学技术协会"

    @pytest.mark.parametrize("spelling", ["中国科协", "科协", "中国科学技术协会"])
    def test_any_spelling_of_a_unit(self, client: TestClient, spelling: str) -> None:
        assert client.get("/api/v1/tasks", params={"department": spelling}).json()["total"] == 31

    def test_participant_role(self, client: TestClient) -> None:
        body = client.get("/api/v1/tasks", params={"department": "科协", "role": "participant", "limit": 200}).json()
        assert body["total"] == 15
        assert all(
            any(d["name"] == "中国科协" and d["role"] == "participant" for d in t["departments"]) for t in body["items"]
        )

    def test_moe_takes_part_in_twelve_and_all_member_tasks_on_request(self, client: TestClient) -> None:
        assert client.get("/api/v1/tasks", params={"department": "教育部"}).json()["total"] == 12
        wider = client.get("/api/v1/tasks", params={"department": "教育部", "include_all_members": True}).json()
        assert wider["total"] == 13 and 55 in [t["number"] for t in wider["items"]]

    def test_task_55_shape(self, client: TestClient) -> None:
        task = client.get("/api/v1/tasks/55").json()
        assert task["number"] == 55 and task["document"]["year"] == 2023
        assert task["departments"] == [{"name": "中国科协", "full_name": "中国科学技术协会", "role": "lead"}]
        assert task["all_member_units"] is True
        assert task["key_points"][0]["number"] == 11
        assert task["references"] == ["纲要"]

    def test_filters_combine(self, client: TestClient) -> None:
        by_point = client.get("/api/v1/tasks", params={"key_point": 9, "limit": 200}).json()
        assert by_point["total"] > 10
        assert all(any(k["number"] == 9 for k in t["key_points"]) for t in by_point["items"])
        elderly = client.get("/api/v1/tasks", params={"target_group": "老年人"}).json()
        assert 61 in [t["number"] for t in elderly["items"]]
        day = client.get("/api/v1/tasks", params={"activity": "全国科普日"}).json()
        assert [t["number"] for t in day["items"]] == [64]

    def test_pagination_is_stable_and_sorted(self, client: TestClient) -> None:
        first = client.get("/api/v1/tasks", params={"limit": 10, "offset": 0}).json()
        second = client.get("/api/v1/tasks", params={"limit": 10, "offset": 10}).json()
        assert first["total"] == 67 and (first["limit"], first["offset"]) == (10, 0)
        assert [t["number"] for t in first["items"] + second["items"]] == list(range(1, 21))
        last = client.get("/api/v1/tasks", params={"sort": "-number", "limit": 1}).json()
        assert last["items"][0]["number"] == 67

    def test_unknown_id(self, client: TestClient) -> None:
        assert "999" in _problem(client.get("/api/v1/tasks/999"), 404)["detail"]

    @pytest.mark.parametrize(
        "params",
        [
            {"limit": 201},
            {"limit": 0},
            {"offset": -1},
            {"limit": "ten"},
            {"role": "boss", "department": "科协"},
            {"sort": "random"},
        ],
    )
    def test_bad_parameters(self, client: TestClient, params: dict) -> None:  # type: ignore[type-arg]
        body = _problem(client.get("/api/v1/tasks", params=params), 422)
        assert body["errors"][0]["location"][0] == "query"

    def test_unknown_department_suggests(self, client: TestClient) -> None:
        body = _problem(client.get("/api/v1/tasks", params={"department": "中国科学协会"}), 422)
        assert "中国科学协会" in body["detail"] and "中国科协" in body["suggestions"]

    def test_unknown_target_group(self, client: TestClient) -> None:
        assert "青少年" in _problem(client.get("/api/v1/tasks", params={"target_group": "儿童"}), 422)["detail"]

    def test_role_without_department(self, client: TestClient) -> None:
        _problem(client.get("/api/v1/tasks", params={"role": "lead"}), 422)

    def test_non_numeric_id(self, client: TestClient) -> None:
        _problem(client.get("/api/v1/tasks/abc"), 422)

    @pytest.mark.parametrize(
        "url",
        [
            "/api/v1/tasks/36886573894399267176448",
            "/api/v1/key-points/111404890859916394496",
            "/api/v1/activities/2147483648",
            "/api/v1/tasks?document=513551000129819246592",
        ],
    )
    def test_ids_beyond_32_bits_are_422_not_an_overflow(self, client: TestClient, url: str) -> None:
        _problem(client.get(url), 422)

    @pytest.mark.parametrize("params", [{"activity": "9" * 30}, {"key_point": 10**6}])
    def test_huge_filter_values(self, client: TestClient, params: dict) -> None:  # type: ignore[type-arg]
        assert client.get("/api/v1/tasks", params=params).status_code == 422

    @pytest.mark.parametrize("params", [{"activity": ""}, {"activity": "火星日"}, {"department": ""}])
    def test_empty_or_unknown_filter_values(self, client: TestClient, params: dict) -> None:  # type: ignore[type-arg]
        _problem(client.get("/api/v1/tasks", params=params), 422)

    def test_wrong_method_says_what_is_allowed(self, client: TestClient) -> None:
        response = client.delete("/api/v1/tasks/1")
        _problem(response, 405)
        assert response.headers["allow"] == "GET"


class TestKeyPoints:
    def test_key_point_9(self, client: TestClient) -> None:
        kp = client.get("/api/v1/key-points/9").json()
        assert kp["number"] == 9 and kp["title"] == "强化纲要实施机制"
        assert len(kp["sub_paragraphs"]) == 6
        assert kp["section"]["label"] == "四"
        assert "全国科普日" in [a["name"] for a in kp["activities"]]
        assert 1 in [t["number"] for t in kp["tasks"]]

    def test_section_filter(self, client: TestClient) -> None:
        for section, expected in (("一", [1, 2]), ("3", [5, 6, 7, 8])):
            body = client.get("/api/v1/key-points", params={"section": section}).json()
            assert [k["number"] for k in body["items"]] == expected

    def test_target_group_filter(self, client: TestClient) -> None:
        body = client.get("/api/v1/key-points", params={"target_group": "青少年"}).json()
        assert 9 in [k["number"] for k in body["items"]] and 1 not in [k["number"] for k in body["items"]]

    def test_unknown(self, client: TestClient) -> None:
        _not_found(client.get("/api/v1/key-points/99"), "key point with id 99")

    def test_long_digit_section_matches_nothing(self, client: TestClient) -> None:
        assert client.get("/api/v1/key-points", params={"section": "9999999999"}).json()["total"] == 0


class TestDocuments:
    def test_list_and_detail(self, client: TestClient) -> None:
        listing = client.get("/api/v1/documents").json()
        assert listing["total"] == 1
        doc = client.get(f"/api/v1/documents/{listing['items'][0]['id']}").json()
        assert doc["issue_date"] == "2023-03-22" and doc["issuer_note"] == "中国科协办公厅代章"
        assert doc["counts"] == {
            "sections": 4,
            "key_points": 12,
            "tasks": 67,
            "departments": 34,
            "activities": 77,
        }
        assert client.get("/api/v1/activities", params={"document": doc["id"]}).json()["total"] == 77
        assert [s["label"] for s in doc["sections"]] == ["一", "二", "三", "四"]

    def test_unknown(self, client: TestClient) -> None:
        _not_found(client.get("/api/v1/documents/42"), "document with id 42")


class TestDepartments:
    def test_list_has_34_with_counts(self, client: TestClient) -> None:
        body = client.get("/api/v1/departments").json()
        assert body["total"] == 34
        cast = next(d for d in body["items"] if d["name"] == "中国科协")
        assert (cast["task_count"], cast["lead_count"], cast["participant_count"]) == (31, 16, 15)
        assert body["items"][0]["name"] == "中国科协"  # the busiest unit first

    @pytest.mark.parametrize(
        ("spelling", "name"),
        [
            ("发改委", "发展改革委"),
            ("中国科学院", "中科院"),
            ("国家卫生健康委员会", "卫生健康委"),
            ("团中央", "共青团中央"),
            ("人社部", "人力资源和社会保障部"),
        ],
    )
    def test_aliases(self, client: TestClient, spelling: str, name: str) -> None:
        assert client.get(f"/api/v1/departments/{spelling}").json()["name"] == name

    def test_known_unit_without_tasks(self, client: TestClient) -> None:
        body = client.get("/api/v1/departments/公安部").json()
        assert body["task_count"] == 0

    def test_unknown(self, client: TestClient) -> None:
        body = _problem(client.get("/api/v1/departments/科学协会"), 404)
        assert body["name"] == "科学协会"


class TestActivities:
    def test_kind_filter(self, client: TestClient) -> None:
        body = client.get("/api/v1/activities", params={"kind": "observance", "limit": 200}).json()
        assert body["total"] > 5 and {a["kind"] for a in body["items"]} == {"observance"}
        day = next(a for a in body["items"] if a["name"] == "全国科普日")
        detail = client.get(f"/api/v1/activities/{day['id']}").json()
        assert [t["number"] for t in detail["tasks"]] == [64]

    def test_unknown(self, client: TestClient) -> None:
        _not_found(client.get("/api/v1/activities/100000"), "activity with id 100000")
        body = _problem(client.get("/api/v1/activities", params={"kind": "party"}), 422)
        assert body["type"] == "/problems/validation-error" and body["errors"][0]["location"] == ["query", "kind"]


class TestHealth:
    def test_alive_and_ready(self, client: TestClient) -> None:
        assert client.get("/healthz").json()["status"] == "ok"
        ready = client.get("/readyz")
        assert ready.status_code == 200 and ready.json()["detail"]["tasks"] == 67

    def test_not_ready_without_data(self, engine, settings) -> None:  # type: ignore[no-untyped-def]
        from app.main import create_app

        with TestClient(create_app(settings, engine=engine)) as empty:
            response = empty.get("/readyz")
        assert response.status_code == 503 and "no notice" in response.json()["detail"]["reason"]

    def test_unknown_route_is_problem_json(self, client: TestClient) -> None:
        _problem(client.get("/api/v1/nothing-here"), 404)

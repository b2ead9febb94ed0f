"""What people do with the service, for Locust: search, suggestions as they type, task lists, pages.

Used by bench/load.py (which starts the service and Locust, headless, on loopback); by hand:
    locust -f bench/locustfile.py --headless -u 8 -r 8 -t 20s --host http://127.0.0.1:8000
Every non-2xx answer counts as an error (Locust's default); redirects are not followed.
KEPU_LOAD_HOSTS (space-separated base URLs, set by bench/load.py --replicas) spreads the
users over several serving processes.
"""

from __future__ import annotations

import os
import random

from locust import HttpUser, between, task  # type: ignore[import-not-found,unused-ignore]  # the bench extra

# What people type (from the judged query classes: topics, units, activities, questions,
# pinyin, phrases, exclusions, traditional characters).
QUERIES = [
    "科协 科幻",
    "老年人",
    '"全国科普日"',
    "科技馆",
    "青少年 科学教育",
    "农民 培训",
    "应急科普",
    "科学家精神",
    "哪些单位负责老年人科普",
    "kexie",
    "数字素养",
    "科普 -科协",
    "科幻電影",
    "2023 科技活动周",
    "科普基地 OR 科技馆",
]
DEPARTMENTS = ["科协", "教育部", "科技部", "农业农村部", "中科院", "卫生健康委"]


class Reader(HttpUser):
    """One person at the search box: types, searches, opens results and lists."""

    wait_time = between(0.05, 0.3)

    def on_start(self) -> None:
        self.client.headers["Accept-Encoding"] = "identity"
        hosts = os.environ.get("KEPU_LOAD_HOSTS", "").split()
        if hosts:
            self.client.base_url = random.choice(hosts)

    @task(6)
    def search(self) -> None:
        q = random.choice(QUERIES)
        self.client.get("/api/v1/search", params={"q": q, "limit": 10}, name="/api/v1/search")

    @task(4)
    def suggest_while_typing(self) -> None:
        # Each keystroke after the first asks for suggestions, as search.js does.
        word = random.choice([q for q in QUERIES if not q.isascii() and " " not in q and '"' not in q])
        for end in range(1, len(word) + 1):
            self.client.get("/api/v1/suggest", params={"q": word[:end], "limit": 8}, name="/api/v1/suggest")

    @task(2)
    def task_list(self) -> None:
        params: dict[str, str | int] = {"limit": 50, "department": random.choice(DEPARTMENTS)}
        if random.random() < 0.5:
            params["role"] = "lead"
        self.client.get("/api/v1/tasks", params=params, name="/api/v1/tasks")

    @task(2)
    def search_page(self) -> None:
        self.client.get("/", params={"q": random.choice(QUERIES)}, name="/?q=")

    @task(1)
    def record_pages(self) -> None:
        # Ids from the lists, as a reader clicks them (a replacement gives new ids on PostgreSQL).
        for kind, page in (("tasks", "/tasks"), ("key-points", "/key-points")):
            listed = self.client.get(f"/api/v1/{kind}", params={"limit": 200}, name=f"/api/v1/{kind} (ids)")
            ids = [item["id"] for item in listed.json()["items"]] if listed.ok else []
            if not ids:
                continue
            record = random.choice(ids)
            with self.client.get(f"{page}/{record}", name=f"{page}/{{id}}", catch_response=True) as response:
                if response.status_code == 404 and not self._still_listed(kind, record):
                    # Replaced between the list and the click: a right answer, counted apart.
                    response.success()
                    self.environment.events.request.fire(
                        request_type="NOTE",
                        name=f"{page}/{{id}} 404: replaced after it was listed",
                        response_time=0,
                        response_length=0,
                        exception=None,
                        context={},
                    )
        self.client.get("/overview", name="/overview")

    def _still_listed(self, kind: str, record: int) -> bool:
        listed = self.client.get(f"/api/v1/{kind}", params={"limit": 200}, name=f"/api/v1/{kind} (ids)")
        return record in {item["id"] for item in listed.json()["items"]}

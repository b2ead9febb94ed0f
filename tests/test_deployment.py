"""compose.yaml (PostgreSQL, two replicas, nginx) cannot run here; what it claims is checked instead."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml  # type: ignore[import-untyped]

from app.config import Settings, get_settings
from app.main import create_app

ROOT = Path(__file__).resolve().parent.parent
COMPOSE: dict[str, Any] = yaml.safe_load((ROOT / "compose.yaml").read_text("utf-8"))
NGINX: str = COMPOSE["configs"]["nginx"]["content"]
DOCKERFILE = (ROOT / "Dockerfile").read_text("utf-8")
REPLICAS = ["kepu-1", "kepu-2"]


def _environment(service: str) -> dict[str, str]:
    return {name: str(value) for name, value in COMPOSE["services"][service]["environment"].items()}


def test_every_setting_named_exists_and_validates(monkeypatch: pytest.MonkeyPatch) -> None:
    aliases = {field.alias for field in Settings.model_fields.values()}
    for replica in REPLICAS:
        environment = _environment(replica)
        assert set(environment) <= aliases, set(environment) - aliases
        for name, value in environment.items():
            monkeypatch.setenv(name, value)
        settings = Settings()
        assert settings.database_url.startswith("postgresql+psycopg://kepu:kepu@postgres:5432/")
        assert settings.public_url == "https://kepu.example.org"


def test_both_replicas_share_the_store_but_not_the_index() -> None:
    services = COMPOSE["services"]
    data_dir = re.search(r"KEPU_DATA_DIR=(\S+)", DOCKERFILE)
    assert data_dir is not None
    mounts = [services[r]["volumes"][0].split(":") for r in REPLICAS]
    assert [target for _, target in mounts] == [data_dir.group(1)] * 2
    assert len({source for source, _ in mounts}) == 2, "each replica needs its own index folder"
    assert {_environment(r)["DATABASE_URL"] for r in REPLICAS} == {_environment("kepu-1")["DATABASE_URL"]}
    # The second starts after the first is healthy: never two migrations or seed imports at once.
    assert services["kepu-2"]["depends_on"]["kepu-1"] == {"condition": "service_healthy"}


def test_the_proxy_reaches_the_replicas_where_they_listen() -> None:
    upstreams = re.findall(r"server (\S+):(\d+)", NGINX)
    assert [host for host, _ in upstreams] == REPLICAS
    assert {port for _, port in upstreams} == {"8000"}
    assert "EXPOSE 8000" in DOCKERFILE


def test_the_proxy_sends_a_host_the_replicas_trust_and_so_does_the_healthcheck() -> None:
    sent = set(re.findall(r"proxy_set_header Host (\S+);", NGINX))
    trusted = set(json.loads(_environment("kepu-1")["KEPU_TRUSTED_HOSTS"]))
    assert sent and sent <= trusted
    assert "127.0.0.1" in trusted and "http://127.0.0.1:8000/healthz" in DOCKERFILE


def test_the_proxy_allows_the_header_size_the_service_does() -> None:
    buffers = re.search(r"large_client_header_buffers \d+ (\d+)k;", NGINX)
    assert buffers is not None
    assert int(buffers.group(1)) * 1024 == Settings.model_fields["max_header_bytes"].default


def test_the_paths_the_proxy_and_healthchecks_use_exist() -> None:
    paths = set(create_app(get_settings()).openapi()["paths"])
    for path in re.findall(r"location = (\S+) ", NGINX):
        assert path in paths
    assert {"/healthz", "/readyz"} <= paths

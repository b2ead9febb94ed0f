"""compose.yaml (PostgreSQL, a one-off setup, two replicas, a proxy): what can be checked without a container engine."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import typer
import yaml  # type: ignore[import-untyped]

from app.cli import cli
from app.config import Settings

ROOT = Path(__file__).resolve().parent.parent
COMPOSE: dict[str, Any] = yaml.safe_load((ROOT / "compose.yaml").read_text("utf-8"))
SERVICES: dict[str, Any] = COMPOSE["services"]
REPLICAS = {name: service for name, service in SERVICES.items() if name.startswith("replica-")}
OURS = {name: service for name, service in SERVICES.items() if "build" in service}


def _parse_kepu(args: list[str]) -> dict[str, Any]:
    """The options a `kepu …` command line gives its subcommand; raises on anything kepu would refuse."""
    group = typer.main.get_command(cli)
    assert isinstance(group, typer.core.TyperGroup)
    command = group.get_command(group.make_context("kepu", list(args)), args[0])
    assert command is not None, f"kepu has no command {args[0]!r}"
    return dict(command.make_context(args[0], list(args[1:])).params)


def test_it_sets_only_settings_that_exist() -> None:
    known = {field.alias for field in Settings.model_fields.values()}
    for name, service in OURS.items():
        assert set(service["environment"]) <= known, name


def test_two_replicas_share_one_postgresql_and_keep_their_own_index() -> None:
    assert len(REPLICAS) >= 2
    urls = {service["environment"]["DATABASE_URL"] for service in OURS.values()}
    assert len(urls) == 1 and next(iter(urls)).startswith("postgresql://kepu:")
    assert "@db:5432/kepu" in next(iter(urls))
    indexes = []
    for service in REPLICAS.values():
        data_dir = service["environment"]["KEPU_DATA_DIR"]
        (mount,) = [v for v in service["volumes"] if v.endswith(f":{data_dir}")]
        indexes.append(mount.split(":")[0])
    assert len(set(indexes)) == len(REPLICAS), "each replica needs its own index folder"
    assert set(indexes) <= set(COMPOSE["volumes"])


def test_the_proxy_sends_to_every_replica_on_the_port_it_serves() -> None:
    command = SERVICES["proxy"]["command"]
    targets = {command[i + 1] for i, arg in enumerate(command) if arg == "--to"}
    served = set()
    for name, service in REPLICAS.items():
        assert service["command"][0] == "kepu"
        options = _parse_kepu(service["command"][1:])
        assert options["host"] == "0.0.0.0"
        served.add(f"{name}:{options['port']}")
    assert targets == served


def test_migrations_and_the_seed_run_once_before_any_replica() -> None:
    setup = SERVICES["setup"]
    assert setup["depends_on"]["db"]["condition"] == "service_healthy"
    assert setup["command"][0] == "kepu-container-start"
    assert "kepu-container-start" in (ROOT / "Dockerfile").read_text("utf-8")
    _parse_kepu(setup["command"][2:])  # what the start script runs instead of serving
    for name, service in REPLICAS.items():
        assert service["depends_on"]["setup"]["condition"] == "service_completed_successfully", name


@pytest.mark.parametrize("args", [["serve", "--hots", "x"], ["nonsense"]])
def test_the_command_check_refuses_what_kepu_would(args: list[str]) -> None:
    with pytest.raises(Exception):  # noqa: B017 - click's usage errors, whichever applies
        _parse_kepu(args)

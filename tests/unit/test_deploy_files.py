"""The files in ``deploy/`` name only what exists: every ``ccvbird`` command line of the systemd
units parses with the real command tree (an option renamed in the code fails here), every
``CCVBIRD_*`` variable of the environment example is a real setting, and the Caddyfile sends
its requests and health checks to the port and paths the units' web app serves.

``systemd-analyze verify`` and ``caddy validate`` check the files' own syntax when they are
installed (each test says so when it skips).
"""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import typer.main

from ccvbird.config import Settings
from ccvbird.entrypoints.cli import app
from ccvbird.entrypoints.health import health_router

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
SYSTEMD = DEPLOY / "systemd"
BINARY = "/opt/ccvbird/bin/ccvbird"
#: What ``%i`` stands for in the worker template: the port of the scheduler's drop-in.
INSTANCE = "9101"
#: A request to Moneybird or CCV takes at most 40 s; a clean stop must have time for one.
LONGEST_REQUEST_SECONDS = 40


@dataclass
class Unit:
    path: Path
    #: (section, key) → every value, in order (``ExecStart=`` may appear twice in a drop-in).
    entries: dict[tuple[str, str], list[str]] = field(default_factory=dict)

    def all(self, section: str, key: str) -> list[str]:
        return self.entries.get((section, key), [])

    def one(self, section: str, key: str) -> str:
        values = self.all(section, key)
        assert len(values) == 1, f"{self.path.name}: {section}.{key} = {values}"
        return values[0]


def parse_unit(path: Path) -> Unit:
    """A systemd unit file (or drop-in): sections, ``key=value`` lines, ``\\`` continuations."""
    unit = Unit(path)
    section = ""
    pending = ""
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = pending + raw.strip()
        pending = ""
        if line.endswith("\\"):
            pending = line[:-1] + " "
            continue
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            section = line.strip("[]")
            continue
        key, _, value = line.partition("=")
        unit.entries.setdefault((section, key.strip()), []).append(value.strip())
    return unit


UNIT_FILES = sorted(SYSTEMD.glob("*.service")) + sorted(SYSTEMD.glob("*.service.d/*.conf"))
UNITS = {path.relative_to(SYSTEMD).as_posix(): parse_unit(path) for path in UNIT_FILES}
SERVICES = {name: unit for name, unit in UNITS.items() if name.endswith(".service")}


def command_lines(unit: Unit) -> list[list[str]]:
    """The arguments after the ccvbird binary of every ``Exec*=`` line that runs it (an empty
    ``ExecStart=`` resets the list in a drop-in), with ``%i`` as the instance."""
    found = []
    for (section, key), values in unit.entries.items():
        if section != "Service" or not key.startswith("Exec"):
            continue
        for value in values:
            if not value:
                continue
            words = shlex.split(value.lstrip("-@:+!").replace("%i", INSTANCE))
            assert words[0] == BINARY, f"{unit.path.name}: {key} runs {words[0]}, not {BINARY}"
            found.append(words[1:])
    return found


def parse_command(words: list[str]) -> tuple[str, dict[str, Any]]:
    """Parse ``ccvbird WORDS`` with the real command tree (without running it): the command's
    path and its parameters. An unknown command or option, or a value of the wrong type, fails."""
    command: Any = typer.main.get_command(app)
    path = []
    rest = list(words)
    while hasattr(command, "commands"):
        assert rest, f"`ccvbird {' '.join(words)}` names no command"
        name = rest.pop(0)
        assert name in command.commands, (
            f"`ccvbird {name}` is no command ({sorted(command.commands)})"
        )
        command = command.commands[name]
        path.append(name)
    context = command.make_context(" ".join(["ccvbird", *path]), rest)
    return " ".join(path), dict(context.params)


def test_there_are_the_units_the_deploy_doc_names() -> None:
    assert set(UNITS) == {
        "ccvbird.service",
        "ccvbird-web.service",
        "ccvbird-worker@.service",
        "ccvbird-worker@9101.service.d/scheduler.conf",
    }


@pytest.mark.parametrize("name", sorted(UNITS))
def test_every_command_line_of_a_unit_parses_with_the_real_command_tree(name: str) -> None:
    lines = command_lines(UNITS[name])
    assert lines, f"{name} runs no ccvbird command"
    for words in lines:
        parse_command(words)


def test_the_units_run_what_the_deploy_doc_says() -> None:
    def commands(name: str) -> list[tuple[str, dict[str, Any]]]:
        return [parse_command(words) for words in command_lines(UNITS[name])]

    one_shop = commands("ccvbird.service")
    assert [path for path, _ in one_shop] == ["init", "run"]
    assert one_shop[0][1]["upgrade"] is True  # the migrations on start, in the one process
    worker, options = commands("ccvbird-worker@.service")[0]
    assert (worker, options["metrics_port"], options["scheduler"]) == ("worker", 9101, False)
    scheduler = commands("ccvbird-worker@9101.service.d/scheduler.conf")
    assert [(path, o["scheduler"], o["metrics_port"]) for path, o in scheduler] == [
        ("worker", True, 9101)
    ]
    assert (
        UNITS["ccvbird-worker@9101.service.d/scheduler.conf"].all("Service", "ExecStart")[0] == ""
    )
    assert [path for path, _ in commands("ccvbird-web.service")] == ["web"]


def seconds(value: str) -> float:
    units = {"s": 1, "min": 60, "m": 60, "": 1}
    match = re.fullmatch(r"(\d+)\s*(min|s|m|)", value)
    assert match, f"TimeoutStopSec={value}"
    return int(match.group(1)) * units[match.group(2)]


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_every_service_runs_as_its_own_user_hardened_and_stops_cleanly(name: str) -> None:
    unit = SERVICES[name]
    service = {
        key: values[0]
        for (section, key), values in unit.entries.items()
        if section == "Service" and len(values) == 1
    }
    assert service["User"] == service["Group"] == "ccvbird"
    assert service["EnvironmentFile"] == "/etc/ccvbird/ccvbird.env"
    assert service["Environment"] == f"CCVBIRD_DATA_DIR=/var/lib/{service['StateDirectory']}"
    assert service["Restart"] == "on-failure"
    assert service["KillSignal"] == "SIGTERM"
    assert seconds(service["TimeoutStopSec"]) > LONGEST_REQUEST_SECONDS
    for key, value in {
        "NoNewPrivileges": "yes", "ProtectSystem": "strict", "ProtectHome": "yes",
        "PrivateTmp": "yes", "CapabilityBoundingSet": "", "UMask": "0077",
    }.items():  # fmt: skip
        assert service.get(key) == value, f"{name}: {key}"


def test_every_variable_of_the_environment_example_is_a_setting() -> None:
    settings = {f"CCVBIRD_{name.upper()}" for name in Settings.model_fields}
    named = re.findall(r"^#?\s*(CCVBIRD_[A-Z0-9_]+)=", (DEPLOY / "env.example").read_text(), re.M)
    assert len(named) >= 10
    assert sorted(set(named) - settings) == []
    data_dir = re.search(r"^CCVBIRD_DATA_DIR=(.*)$", (DEPLOY / "env.example").read_text(), re.M)
    assert data_dir is not None
    for unit in SERVICES.values():
        assert unit.one("Service", "Environment") == f"CCVBIRD_DATA_DIR={data_dir.group(1)}"


def caddy_site() -> tuple[str, dict[str, str]]:
    """The Caddyfile's ``reverse_proxy`` upstream and the directives in its block."""
    text = (DEPLOY / "Caddyfile").read_text(encoding="utf-8")
    match = re.search(r"^\s*reverse_proxy\s+(\S+)\s*\{(.*?)\n\s*\}", text, re.M | re.S)
    assert match, "the Caddyfile has no reverse_proxy block"
    directives = {}
    for line in match.group(2).splitlines():
        words = line.split()
        if words and not words[0].startswith("#"):
            directives[words[0]] = " ".join(words[1:])
    return match.group(1), directives


def test_the_caddyfile_proxies_to_where_the_web_app_listens_and_checks_a_real_probe() -> None:
    upstream, directives = caddy_site()
    for name in ("ccvbird.service", "ccvbird-web.service"):
        served = [
            f"{options['host']}:{options['port']}"
            for path, options in map(parse_command, command_lines(UNITS[name]))
            if path in ("run", "web")
        ]
        assert served == [upstream], name
    probes = {route.path for route in health_router({}).routes}  # type: ignore[attr-defined]
    assert directives["health_uri"] in probes == {"/healthz", "/readyz"}


def test_systemd_accepts_the_units(tmp_path: Path) -> None:
    """``systemd-analyze verify`` on copies whose binary is this environment's ``ccvbird``
    (verify insists the executable exists); any warning fails, not only an error."""
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed here")
    binary = Path(sys.executable).with_name("ccvbird")
    if not binary.exists():
        pytest.skip(f"no ccvbird executable beside {sys.executable} (not installed in this venv)")
    for path in UNIT_FILES:
        copy = tmp_path / path.relative_to(SYSTEMD)
        copy.parent.mkdir(parents=True, exist_ok=True)
        copy.write_text(path.read_text(encoding="utf-8").replace(BINARY, str(binary)))
    units = [str(tmp_path / name) for name in ("ccvbird.service", "ccvbird-web.service")]
    units.append(str(tmp_path / f"ccvbird-worker@{INSTANCE}.service"))  # the template + drop-in
    result = subprocess.run(
        [analyze, "verify", *units], capture_output=True, text=True, timeout=120, check=False
    )
    assert (result.returncode, result.stderr.strip(), result.stdout.strip()) == (0, "", "")


def test_caddy_accepts_the_caddyfile() -> None:
    caddy = shutil.which("caddy")
    if caddy is None:
        pytest.skip("caddy is not installed here (.ci/run installs it as root)")
    result = subprocess.run(
        [caddy, "validate", "--config", str(DEPLOY / "Caddyfile"), "--adapter", "caddyfile"],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    formatted = subprocess.run(
        [caddy, "fmt", str(DEPLOY / "Caddyfile")], capture_output=True, text=True, timeout=60,
        check=False,
    )  # fmt: skip
    assert formatted.stdout == (DEPLOY / "Caddyfile").read_text(encoding="utf-8")

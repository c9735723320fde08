"""The import rules of docs/architecture.md, enforced by walking every module's imports."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "ccvbird"
STDLIB = sys.stdlib_module_names


def module_name(path: Path) -> str:
    parts = path.relative_to(SRC.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    package = module_name(path).rsplit(".", 1)[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                found.add(f"{base}.{node.module}" if node.module else base)
            elif node.module:
                found.add(node.module)
    return found


def layer_of(module: str) -> str:
    parts = module.split(".")
    if len(parts) == 1:
        return "package"
    if parts[1] == "adapters" and len(parts) > 2:
        return f"adapters.{parts[2]}"
    return parts[1]


ALL_MODULES = sorted(SRC.rglob("*.py"))


def is_ours(name: str) -> bool:
    return name == "ccvbird" or name.startswith("ccvbird.")


def violations(path: Path) -> list[str]:
    module = module_name(path)
    layer = layer_of(module)
    problems = []
    for name in imports_of(path):
        top = name.split(".")[0]
        ours = is_ours(name)
        target = layer_of(name) if ours else None
        if layer == "domain":
            if ours and target != "domain":
                problems.append(f"{module} (domain) imports {name}")
            if not ours and top not in STDLIB and top != "__future__":
                problems.append(f"{module} (domain, stdlib only) imports {name}")
        elif layer == "ports":
            if ours and target not in {"domain", "ports"}:
                problems.append(f"{module} (ports) imports {name}")
        elif layer == "service":
            if ours and target not in {"domain", "ports", "service"}:
                problems.append(f"{module} (service) imports {name}")
            if top in {"httpx", "sqlalchemy", "fastapi", "typer", "huey", "redis"}:
                problems.append(f"{module} (service) imports {name}")
        elif layer.startswith("adapters"):
            allowed = ours and (
                target in {"domain", "ports"} or (target or "").startswith("adapters")
            )
            if ours and not allowed:
                problems.append(f"{module} ({layer}) imports {name}")
            api_clients = {"adapters.ccvshop", "adapters.moneybird"}
            if layer in api_clients and target in api_clients - {layer}:
                problems.append(
                    f"{module} ({layer}) imports {name}: the two API clients stay apart"
                )
        elif layer == "sandbox":
            if ours and target in {"service", "entrypoints", "bootstrap", "config"}:
                problems.append(f"{module} (sandbox) imports {name}")
        elif layer == "entrypoints":
            if ours and (target or "").startswith("adapters"):
                problems.append(f"{module} (entrypoints) imports {name}; go through bootstrap")
            if ours and target == "sandbox":
                problems.append(f"{module} (entrypoints) imports {name}; go through bootstrap")
    return problems


@pytest.mark.parametrize("path", ALL_MODULES, ids=lambda p: module_name(p))
def test_module_respects_the_layer_rules(path: Path) -> None:
    assert violations(path) == []


def test_the_rules_catch_a_violation(tmp_path: Path) -> None:
    """The checker itself must be able to fail: a domain module importing httpx is caught."""
    fake = SRC / "domain" / "_layer_probe.py"
    fake.write_text("import httpx\nfrom ccvbird.adapters.ccvshop import wire\n", encoding="utf-8")
    try:
        found = violations(fake)
    finally:
        fake.unlink()
    assert len(found) == 2


def test_every_layer_is_present() -> None:
    layers = {layer_of(module_name(p)) for p in ALL_MODULES}
    assert {
        "domain",
        "ports",
        "service",
        "adapters.ccvshop",
        "adapters.moneybird",
        "entrypoints",
    } <= layers

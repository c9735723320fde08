"""Every ``--help`` reads as flowing text: the terminal wraps a paragraph, the source does not.

A line of a help paragraph that stops while the next word would still have fit on it was broken
by a newline in the source, mid-sentence; that is what these tests look for, at a fixed width.
"""

from __future__ import annotations

import itertools
from typing import Any

import pytest
import typer.main

from ccvbird.entrypoints.cli import app
from tests.cli.conftest import runner

WIDTH = 80


def commands(group: Any, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Every command's path under ``group`` (Typer's click groups: they have ``commands``)."""
    found: list[tuple[str, ...]] = [path]
    for name, command in sorted(group.commands.items()):
        if hasattr(command, "commands"):
            found += commands(command, (*path, name))
        else:
            found.append((*path, name))
    return found


EVERY_COMMAND = commands(typer.main.get_group(app))


def description(help_text: str) -> list[str]:
    """The lines above the first option box, without the usage line (Rich pads them)."""
    lines = []
    for line in help_text.splitlines():
        if line.lstrip().startswith(("╭", "Usage:")):
            if line.lstrip().startswith("╭"):
                break
            continue
        lines.append(line.strip())
    return lines


def broken_lines(lines: list[str], width: int) -> list[str]:
    """Lines the next line's first word would have fitted on: broken in the source."""
    broken = []
    for line, following in itertools.pairwise(lines):
        if not line or not following:
            continue  # a paragraph's end
        if len(line) + 1 + len(following.split()[0]) <= width - 2:  # Rich's margin of one a side
            broken.append(f"{line!r} / {following!r}")
    return broken


@pytest.mark.parametrize("path", EVERY_COMMAND, ids=lambda p: " ".join(p) or "ccvbird")
def test_help_paragraphs_are_not_broken_mid_sentence(path: tuple[str, ...]) -> None:
    result = runner.invoke(app, [*path, "--help"], env={"COLUMNS": str(WIDTH)})
    assert result.exit_code == 0, result.output
    lines = description(result.stdout)
    assert any(lines), result.stdout
    assert broken_lines(lines, WIDTH) == [], result.stdout


def test_every_command_is_checked() -> None:
    assert ("profile", "import") in EVERY_COMMAND and ("sandbox",) in EVERY_COMMAND


@pytest.mark.parametrize("path", [p for p in EVERY_COMMAND if p], ids=" ".join)
def test_option_help_is_one_paragraph(path: tuple[str, ...]) -> None:
    """An option's help is a sentence or two: a newline in it would break its column."""
    command: Any = typer.main.get_group(app)
    for name in path:
        command = command.commands[name]
    for parameter in command.params:
        assert "\n" not in (getattr(parameter, "help", None) or ""), parameter.name

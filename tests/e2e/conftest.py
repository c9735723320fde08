"""Every world a test makes is closed after it (database connections included)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.world import World, make_world


@pytest.fixture
def new_world(tmp_path: Path) -> Iterator[Callable[..., World]]:
    made: list[World] = []

    def make(**options: Any) -> World:
        world = make_world(tmp_path / f"world{len(made)}", **options)
        made.append(world)
        return world

    yield make
    for world in made:
        world.close()

from tests.web.conftest import World, first_start, set_up


def test_the_whole_setup_runs(world: World) -> None:
    first_start(world)
    connection_id = set_up(world)
    page = world.client.get(f"/connections/{connection_id}")
    assert page.status_code == 200, page.text

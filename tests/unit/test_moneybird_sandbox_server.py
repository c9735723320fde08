"""The real-server mode is built from the same app; here only its wiring, without a socket."""

from __future__ import annotations

from ccvbird import bootstrap


def test_the_cli_gets_a_configured_server_without_starting_it() -> None:
    server = bootstrap.moneybird_sandbox_server(
        port=18702, token="demo", fault_rates={"lost_response": 0.1}, fault_seed=3
    )

    assert server.config.port == 18702
    assert server.started is False

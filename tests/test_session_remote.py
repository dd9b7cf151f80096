"""`--remote` / `spark_remote`: a bad URL is a config error, an unreachable server a storage error,
both in one line before anything starts (pyspark itself would retry for minutes)."""

from __future__ import annotations

import socket

import pytest

from smb_pipeline.engine.remote import DEFAULT_CONNECT_PORT, check_reachable, connect_endpoint
from smb_pipeline.errors import ConfigError, StorageError


def test_connect_url_gives_host_and_port_and_defaults_the_port():
    assert connect_endpoint("sc://10.0.0.5:15010/;token=secret", "--remote") == ("10.0.0.5", 15010)
    assert connect_endpoint("sc://spark.internal", "spark_remote") == ("spark.internal", DEFAULT_CONNECT_PORT)


@pytest.mark.parametrize("url", ["http://host:15002", "sc://", "sc://host:99999", "host:15002"])
def test_bad_connect_url_names_the_field(url):
    with pytest.raises(ConfigError, match=r"^--remote: must be a Spark Connect URL"):
        connect_endpoint(url, "--remote")


def test_unreachable_server_is_a_storage_error_without_the_token():
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(StorageError) as raised:
        check_reachable(f"sc://127.0.0.1:{port}/;token=secret", "spark_remote")
    assert str(raised.value).startswith(f"spark_remote: cannot reach the Spark Connect server at 127.0.0.1:{port}")
    assert "secret" not in str(raised.value)


def test_reachable_server_gives_the_url_without_parameters():
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        port = server.getsockname()[1]
        assert check_reachable(f"sc://127.0.0.1:{port}/;token=secret", "--remote") == f"sc://127.0.0.1:{port}"

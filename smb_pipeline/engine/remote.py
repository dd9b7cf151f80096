"""Checks of a Spark Connect URL before connecting: pyspark retries an unreachable server for
minutes; a person wants one line at once."""

from __future__ import annotations

import socket
from urllib.parse import urlparse

from smb_pipeline.errors import ConfigError, StorageError

DEFAULT_CONNECT_PORT = 15002  # Spark Connect's default
CONNECT_TIMEOUT_SECONDS = 5.0


def connect_endpoint(remote: str, field: str) -> tuple[str, int]:
    """(host, port) of `sc://host[:port][/;param=value...]`; ConfigError naming `field` otherwise."""
    parsed = urlparse(remote)
    try:
        port = parsed.port or DEFAULT_CONNECT_PORT
    except ValueError:
        port = 0
    if parsed.scheme != "sc" or not parsed.hostname or not 0 < port < 65536:
        raise ConfigError(f"{field}: must be a Spark Connect URL sc://HOST:PORT (value {remote!r})")
    return parsed.hostname, port


def check_reachable(remote: str, field: str) -> str:
    """Fail fast (StorageError, exit 3) when nothing listens at the URL; returns `host:port`
    (without the URL's parameters, which may hold a token)."""
    host, port = connect_endpoint(remote, field)
    try:
        with socket.create_connection((host, port), timeout=CONNECT_TIMEOUT_SECONDS):
            pass
    except OSError as exc:
        raise StorageError(f"{field}: cannot reach the Spark Connect server at {host}:{port} "
                           f"({exc.strerror or type(exc).__name__})") from None
    return f"sc://{host}:{port}"

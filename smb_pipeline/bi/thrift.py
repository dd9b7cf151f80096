"""`serve-sql`: the Spark Thrift Server (HiveServer2) over the project's tables, for BI tools.

The server is Spark's own `HiveThriftServer2`, started with spark-submit from the installed
PySpark, in a process group of its own so that stopping it stops everything it started.
Delta's jars go on the driver's class path: loaded only through `spark.jars.packages`
they live in a child class loader the server's session threads never consult, and every
session fails with `ClassNotFoundException` for `DeltaCatalog`. The jars are the ones the
registration step resolved through Ivy (the same `spark.jars.packages` as every run).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from smb_pipeline.bi.catalog import absolute_output, catalog_dir, metastore_conf
from smb_pipeline.config import PipelineConfig
from smb_pipeline.errors import ConfigError

SERVER_CLASS = "org.apache.spark.sql.hive.thriftserver.HiveThriftServer2"
DELTA_CONF = {
    "spark.sql.extensions": "io.delta.sql.DeltaSparkSessionExtension",
    "spark.sql.catalog.spark_catalog": "org.apache.spark.sql.delta.catalog.DeltaCatalog",
    "spark.sql.session.timeZone": "UTC",
    "spark.ui.showConsoleProgress": "false",
    # The server returns dates as java.time values (java8API); Delta's answer of MIN/MAX from its
    # log statistics is a java.sql.Date, and `SELECT max(event_date)` (which the views use) fails
    # with a ClassCastException. Computing it from the partition values is cheap.
    "spark.databricks.delta.optimizeMetadataQuery.enabled": "false",
}
START_TIMEOUT_S = 240
STOP_TIMEOUT_S = 30


class ServeError(RuntimeError):
    """The endpoint could not be started or died (exit code 3)."""


@dataclass(frozen=True)
class Endpoint:
    host: str
    port: int
    database: str

    @property
    def jdbc_url(self) -> str:
        return f"jdbc:hive2://{self.host}:{self.port}/{self.database}"

    def beeline(self) -> str:
        return f"{spark_home() / 'bin' / 'beeline'} -u {self.jdbc_url}"


def spark_home() -> Path:
    """SPARK_HOME if set, else the Spark distribution inside the installed pyspark package."""
    if os.environ.get("SPARK_HOME"):
        return Path(os.environ["SPARK_HOME"])
    import pyspark

    return Path(pyspark.__file__).parent


def check_port_free(host: str, port: int) -> None:
    """Fail before starting anything when the address cannot be bound."""
    if not 0 < port < 65536:
        raise ConfigError(f"--port: must be 1..65535 (value {port})")
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise ConfigError(f"--port: cannot listen on {host}:{port} ({exc.strerror})") from None


def server_command(config: PipelineConfig, endpoint: Endpoint, jars: list[str], master: str) -> list[str]:
    """The spark-submit line of the Thrift Server: Delta on the driver class path, metastore, bind address."""
    # The config's own keys win over ours; the metastore's come last as they merge the config's java options.
    conf = {**DELTA_CONF, **config.spark, **metastore_conf(config, catalog_dir(config)),
            "spark.app.name": "smb_pipeline serve-sql"}
    conf.pop("spark.jars.packages", None)  # resolved already: the jars below
    local_jars = [j.removeprefix("file://") for j in jars]
    command = [str(spark_home() / "bin" / "spark-submit"), "--master", master, "--class", SERVER_CLASS]
    if local_jars:
        command += ["--driver-class-path", os.pathsep.join(local_jars), "--jars", ",".join(jars)]
    for key, value in conf.items():
        command += ["--conf", f"{key}={value}"]
    return [*command, "spark-internal",
            "--hiveconf", f"hive.server2.thrift.bind.host={endpoint.host}",
            "--hiveconf", f"hive.server2.thrift.port={endpoint.port}"]


def _listening(host: str, port: int) -> bool:
    target = "127.0.0.1" if host in ("0.0.0.0", "") else ("::1" if host == "::" else host)
    try:
        with socket.create_connection((target, port), timeout=1):
            return True
    except OSError:
        return False


class StopFlag:
    """Set by SIGINT or SIGTERM; the previous handlers come back on `restore()`."""

    def __init__(self) -> None:
        self.event = threading.Event()
        self._previous = {sig: signal.signal(sig, self._set) for sig in (signal.SIGINT, signal.SIGTERM)}

    def _set(self, signum, frame) -> None:
        self.event.set()

    def restore(self) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)


def _stop(process: subprocess.Popen) -> None:
    """SIGTERM to the whole process group, SIGKILL after STOP_TIMEOUT_S."""
    if process.poll() is not None:
        return
    for sig, wait in ((signal.SIGTERM, STOP_TIMEOUT_S), (signal.SIGKILL, 10)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(wait)
            return
        except subprocess.TimeoutExpired:
            continue


def _tail(log: Path, lines: int = 15) -> str:
    text = log.read_text(errors="replace").splitlines() if log.exists() else []
    interesting = [line for line in text if "ERROR" in line or "Exception" in line] or text
    return "\n".join(interesting[-lines:])


def _start(command: list[str], log: Path, env: Mapping[str, str] | None = None) -> subprocess.Popen:
    with log.open("ab") as sink:
        return subprocess.Popen(command, stdout=sink, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                start_new_session=True, env=dict(env) if env else None)


def register(config_path: str, database: str, days: int, log: Path, stop: StopFlag) -> dict:
    """Run the registration child; return its JSON result (notes and resolved jars)."""
    out = log.with_suffix(".register.json")
    command = [sys.executable, "-c",
               "import sys; from smb_pipeline.bi.catalog import main; sys.exit(main())",
               "--config", config_path, "--database", database, "--days", str(days)]
    with log.open("ab") as sink, out.open("wb") as result:
        process = subprocess.Popen(command, stdout=result, stderr=sink, stdin=subprocess.DEVNULL,
                                   start_new_session=True)
    try:
        while process.poll() is None:
            if stop.event.wait(0.5):
                raise KeyboardInterrupt
    finally:
        _stop(process)
    if process.returncode != 0:
        raise ServeError(f"registering the tables failed (log: {log}):\n{_tail(log)}")
    return json.loads(out.read_text().strip().splitlines()[-1])


def serve(config_path: str, config: PipelineConfig, endpoint: Endpoint, days: int, master: str,
          say: Callable[[str], None] = print) -> int:
    """Register, start the server, print how to connect, serve until SIGINT/SIGTERM, stop it."""
    config = absolute_output(config)
    check_port_free(endpoint.host, endpoint.port)
    directory = catalog_dir(config)
    directory.mkdir(parents=True, exist_ok=True)
    log = directory / "serve-sql.log"
    stop = StopFlag()
    try:
        say(f"serve-sql: registering the tables in database {endpoint.database} (metastore: {directory})")
        result = register(config_path, endpoint.database, days, log, stop)
        for note in result["notes"]:
            say(f"  {note}")
        say(f"serve-sql: starting the Spark Thrift Server on {endpoint.host}:{endpoint.port} (log: {log})")
        process = _start(server_command(config, endpoint, result["jars"], master), log)
        try:
            _await_ready(process, endpoint, stop, log)
            if stop.event.is_set():
                return 0
            say(f"JDBC URL: {endpoint.jdbc_url}")
            say(f"beeline:  {endpoint.beeline()}")
            say("serving; Ctrl-C (or SIGTERM) stops the server")
            while not stop.event.wait(1):
                if process.poll() is not None:
                    raise ServeError(f"the Thrift Server stopped on its own (log: {log}):\n{_tail(log)}")
            say("serve-sql: stopping the server")
        finally:
            _stop(process)
        say("serve-sql: stopped")
        return 0
    except KeyboardInterrupt:
        return 0
    finally:
        stop.restore()


def _await_ready(process: subprocess.Popen, endpoint: Endpoint, stop: StopFlag, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while not stop.event.is_set():
        if _listening(endpoint.host, endpoint.port):
            return
        if process.poll() is not None:
            raise ServeError(f"the Thrift Server did not start (log: {log}):\n{_tail(log)}")
        if time.monotonic() > deadline:
            raise ServeError(f"the Thrift Server did not listen within {START_TIMEOUT_S} s (log: {log})")
        stop.event.wait(0.5)

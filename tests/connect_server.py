"""A throwaway Spark Connect server on 127.0.0.1 for tests, with Delta configured on the server.

Started with the pyspark distribution's spark-submit (pyspark 4.0 ships the spark-connect jar)
and Delta's jars from --packages, on a free port, in its own process group. Use it as a context
manager: the server and everything it started are stopped on exit (terminate, then kill), also
when the body fails or the start times out.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from smb_pipeline.engine.session import DELTA_MAVEN_PACKAGE
from tests.standalone_cluster import HOST, PYSPARK_HOME, _signal_group, free_port, spark_env, tail

SERVER_CLASS = "org.apache.spark.sql.connect.service.SparkConnectServer"
SERVER_CONF = {
    "spark.sql.extensions": "io.delta.sql.DeltaSparkSessionExtension",
    "spark.sql.catalog.spark_catalog": "org.apache.spark.sql.delta.catalog.DeltaCatalog",
    "spark.connect.grpc.binding.address": HOST,
    "spark.driver.host": HOST,
    "spark.driver.bindAddress": HOST,
    "spark.ui.enabled": "false",
    "spark.sql.shuffle.partitions": "4",
}


@dataclass
class ConnectServer:
    """`with ConnectServer(tmp_path / "connect") as server: ... server.url ...`"""

    base_dir: Path
    master: str = "local[2]"
    start_timeout: float = 300.0  # Ivy resolution and JVM start on a loaded 2-core machine
    stop_timeout: float = 20.0
    port: int = 0
    popen: subprocess.Popen | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"sc://{HOST}:{self.port}"

    @property
    def log(self) -> Path:
        return self.base_dir / "connect-server.log"

    def __enter__(self) -> ConnectServer:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def command(self) -> list[str]:
        conf = {**SERVER_CONF, "spark.connect.grpc.binding.port": str(self.port)}
        command = [str(PYSPARK_HOME / "bin" / "spark-submit"), "--master", self.master, "--class", SERVER_CLASS,
                   "--packages", DELTA_MAVEN_PACKAGE, "--driver-memory", "1g"]
        for key, value in conf.items():
            command += ["--conf", f"{key}={value}"]
        return [*command, "spark-internal"]

    def start(self) -> None:
        if shutil.which("java") is None and "JAVA_HOME" not in os.environ:
            raise RuntimeError("no java on PATH and no JAVA_HOME: a Spark Connect server needs Java 17+")
        self.base_dir.mkdir(parents=True, exist_ok=True)
        atexit.register(self.stop)  # also when the test run ends without unwinding (tests/conftest.py: SIGTERM)
        self.port = free_port()
        with open(self.log, "wb") as out:
            self.popen = subprocess.Popen(
                self.command(), stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                env=spark_env(TZ="UTC"), cwd=self.base_dir,
                start_new_session=True,  # its own process group: stop() reaches spark-submit's JVM
            )
        self.wait_until_listening()

    def wait_until_listening(self) -> None:
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            if self.popen is not None and self.popen.poll() is not None:
                raise RuntimeError(f"Spark Connect server exited with {self.popen.returncode}:\n{tail(self.log)}")
            try:
                with socket.create_connection((HOST, self.port), timeout=1):
                    return
            except OSError:
                time.sleep(1.0)
        raise TimeoutError(f"Spark Connect server not listening after {self.start_timeout:.0f} s\n"
                           f"{tail(self.log, 30)}")

    def stop(self) -> None:
        """Terminate the server's process group, then kill whatever is left of it."""
        if self.popen is None:
            return
        if self.popen.poll() is None:
            _signal_group(self.popen, signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):  # killed just below
                self.popen.wait(timeout=self.stop_timeout)
        _signal_group(self.popen, signal.SIGKILL)
        if self.popen.poll() is None:
            self.popen.wait(timeout=10)
        self.popen = None

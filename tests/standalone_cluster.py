"""A throwaway Spark standalone cluster on 127.0.0.1 for tests: one master, N workers.

Started from the master and worker classes of the pip `pyspark` distribution (which ships
`bin/spark-class`, `bin/spark-submit` and `jars/`), on free ports, with work dirs and logs
under a directory the caller owns. Use it as a context manager: every process it started
is stopped on exit (terminate, then kill), also when the body fails.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import pyspark

PYSPARK_HOME = Path(pyspark.__file__).resolve().parent
HOST = "127.0.0.1"


def free_port() -> int:
    """A port nobody listens on now (bind to port 0 and let the kernel choose)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def spark_env(**extra: str) -> dict[str, str]:
    """The environment for spark-class / spark-submit: this pyspark as SPARK_HOME, loopback only."""
    env = dict(os.environ)
    env.update(SPARK_HOME=str(PYSPARK_HOME), SPARK_LOCAL_IP=HOST)
    env.pop("PYSPARK_GATEWAY_PORT", None)
    env.pop("PYSPARK_GATEWAY_SECRET", None)
    env.update(extra)
    return env


def zip_package(package_dir: Path, out: Path) -> Path:
    """Zip a package directory (without caches) for --py-files: `<name>/...` at the zip's root."""
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(package_dir.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
                archive.write(path, path.relative_to(package_dir.parent).as_posix())
    return out


def tail(path: Path, lines: int = 60) -> str:
    if not path.exists():
        return f"({path} missing)"
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


@dataclass
class _Process:
    name: str
    popen: subprocess.Popen
    log: Path


@dataclass
class StandaloneCluster:
    """`with StandaloneCluster(tmp_path / "cluster") as cluster: ... cluster.master_url ...`"""

    base_dir: Path
    workers: int = 2
    worker_cores: int = 1
    worker_memory: str = "1g"
    start_timeout: float = 120.0
    stop_timeout: float = 20.0
    master_port: int = 0
    webui_port: int = 0
    processes: list[_Process] = field(default_factory=list)

    @property
    def master_url(self) -> str:
        return f"spark://{HOST}:{self.master_port}"

    @property
    def webui_url(self) -> str:
        return f"http://{HOST}:{self.webui_port}"

    def __enter__(self) -> StandaloneCluster:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def _launch(self, name: str, java_class: str, args: list[str]) -> None:
        log = self.base_dir / f"{name}.log"
        with open(log, "wb") as out:
            popen = subprocess.Popen(
                [str(PYSPARK_HOME / "bin" / "spark-class"), java_class, *args],
                stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                env=spark_env(SPARK_LOG_DIR=str(self.base_dir)), cwd=self.base_dir,
                start_new_session=True,  # its own process group, so stop() reaches spark-class's children
            )
        self.processes.append(_Process(name, popen, log))

    def start(self) -> None:
        if shutil.which("java") is None and "JAVA_HOME" not in os.environ:
            raise RuntimeError("no java on PATH and no JAVA_HOME: a standalone cluster needs Java 17+")
        self.base_dir.mkdir(parents=True, exist_ok=True)
        atexit.register(self.stop)  # also when the test run ends without unwinding (tests/conftest.py: SIGTERM)
        self.master_port, self.webui_port = free_port(), free_port()
        self._launch("master", "org.apache.spark.deploy.master.Master",
                     ["--host", HOST, "--port", str(self.master_port), "--webui-port", str(self.webui_port)])
        for number in range(1, self.workers + 1):
            work_dir = self.base_dir / f"worker-{number}"
            work_dir.mkdir(exist_ok=True)
            self._launch(f"worker-{number}", "org.apache.spark.deploy.worker.Worker", [
                self.master_url, "--host", HOST, "--port", str(free_port()),
                "--webui-port", str(free_port()), "--cores", str(self.worker_cores),
                "--memory", self.worker_memory, "--work-dir", str(work_dir),
            ])
        self.wait_for_workers(self.workers)

    def state(self) -> dict:
        """The master's status document (workers, applications), from its web UI's JSON endpoint."""
        with urllib.request.urlopen(f"{self.webui_url}/json/", timeout=5) as response:
            return json.load(response)

    def alive_workers(self) -> int:
        return sum(1 for worker in self.state().get("workers", []) if worker.get("state") == "ALIVE")

    def wait_for_workers(self, count: int) -> None:
        deadline = time.monotonic() + self.start_timeout
        seen = 0
        while time.monotonic() < deadline:
            for process in self.processes:
                if process.popen.poll() is not None:
                    raise RuntimeError(f"{process.name} exited with {process.popen.returncode}:\n"
                                       f"{tail(process.log)}")
            try:
                seen = self.alive_workers()
            except OSError:  # the master's web UI is not up yet
                seen = 0
            if seen >= count:
                return
            time.sleep(1.0)
        logs = "\n".join(f"--- {p.name}\n{tail(p.log, 20)}" for p in self.processes)
        raise TimeoutError(f"{seen}/{count} workers ALIVE after {self.start_timeout:.0f} s\n{logs}")

    def stop(self) -> None:
        """Terminate every process group started here (workers first), then kill what is left."""
        for process in reversed(self.processes):
            if process.popen.poll() is None:
                _signal_group(process.popen, signal.SIGTERM)
        deadline = time.monotonic() + self.stop_timeout
        for process in reversed(self.processes):
            try:
                process.popen.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                _signal_group(process.popen, signal.SIGKILL)
                process.popen.wait(timeout=10)
        # Executors are children of the workers, in the workers' process groups.
        for process in self.processes:
            _signal_group(process.popen, signal.SIGKILL)
        self.processes.clear()

    def logs(self, lines: int = 30) -> str:
        return "\n".join(f"--- {p.name} ({p.log})\n{tail(p.log, lines)}" for p in self.processes)


def _signal_group(popen: subprocess.Popen, sig: int) -> None:
    """Signal the process group led by a process this module started (and nothing else)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(popen.pid, sig)

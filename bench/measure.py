"""What the bench measures besides wall time: the process tree's memory and CPU, the JIT, the machine."""

from __future__ import annotations

import contextlib
import os
import platform
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path

import psutil

BENCH_DIR = Path(__file__).resolve().parent


def process_tree() -> list[psutil.Process]:
    """This process and all its descendants (the JVM, Python workers), as far as they can be read."""
    me = psutil.Process()
    with contextlib.suppress(psutil.Error):
        return [me, *me.children(recursive=True)]
    return [me]


class RssSampler:
    """Peak RSS of this process and all its descendants (JVM, Python workers), every `interval` s."""

    def __init__(self, interval: float = 0.2):
        self.interval = interval
        self.peak = 0
        self.phase_peaks: dict[str, int] = {}
        self._phase: str | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)

    def _sample(self) -> int:
        total = 0
        for proc in process_tree():
            with contextlib.suppress(psutil.Error):
                total += proc.memory_info().rss
        return total

    def _run(self) -> None:
        while not self._stop.is_set():
            rss = self._sample()
            self.peak = max(self.peak, rss)
            if self._phase:
                self.phase_peaks[self._phase] = max(self.phase_peaks.get(self._phase, 0), rss)
            self._stop.wait(self.interval)

    @contextlib.contextmanager
    def phase(self, name: str):
        self._phase = name
        try:
            yield
        finally:
            rss = self._sample()
            self.phase_peaks[name] = max(self.phase_peaks.get(name, 0), rss)
            self.peak = max(self.peak, rss)
            self._phase = None

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


@dataclass(frozen=True)
class JvmCounters:
    """CPU seconds of the JVM processes under this one, and the JIT's compile seconds so far.

    In local mode the driver and the executors are one JVM. On a 2-core machine the JIT's
    compiler threads take CPU from the tasks: this is how a cold run's cost is split.
    """

    cpu_s: float
    jit_s: float

    @staticmethod
    def read(spark) -> JvmCounters:
        cpu = 0.0
        for proc in process_tree():
            with contextlib.suppress(psutil.Error):
                if "java" in proc.name():
                    times = proc.cpu_times()
                    cpu += times.user + times.system
        bean = spark._jvm.java.lang.management.ManagementFactory.getCompilationMXBean()
        return JvmCounters(cpu_s=cpu, jit_s=bean.getTotalCompilationTime() / 1000)

    def __sub__(self, other: JvmCounters) -> JvmCounters:
        return JvmCounters(cpu_s=self.cpu_s - other.cpu_s, jit_s=self.jit_s - other.jit_s)


def machine_facts() -> dict:
    model = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    commit = ""
    with contextlib.suppress(Exception):
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=BENCH_DIR, capture_output=True,
                                text=True, timeout=10).stdout.strip()
    return {"nproc": os.cpu_count(), "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
            "cpu_model": model, "platform": platform.platform(), "python": platform.python_version(),
            "loadavg_at_start": [round(x, 2) for x in os.getloadavg()], "commit": commit}


@dataclass(frozen=True)
class CpuShare:
    """Machine-wide busy CPU seconds and this process tree's CPU seconds, at one moment.

    The difference of two readings tells how much CPU other users of the (shared) machine took
    while a variant ran: the bench records it next to each figure.
    """

    machine_busy_s: float
    tree_s: float

    @staticmethod
    def read() -> CpuShare:
        times = psutil.cpu_times()
        busy = sum(times) - times.idle - getattr(times, "iowait", 0.0)
        tree = 0.0
        for proc in process_tree():
            with contextlib.suppress(psutil.Error):
                cpu = proc.cpu_times()
                tree += cpu.user + cpu.system + cpu.children_user + cpu.children_system
        return CpuShare(busy, tree)

    def others_since(self, before: CpuShare) -> float:
        """CPU seconds used by processes outside this tree since `before`."""
        return max(0.0, (self.machine_busy_s - before.machine_busy_s) - (self.tree_s - before.tree_s))

"""`python -m bench.run`: the Spark job vs. an independent DuckDB reference on one archive.

Environment: BENCH_ROWS (default 10000000), BENCH_DAYS (7), BENCH_SEED, BENCH_WORK (bench/work),
BENCH_DRIVER_MEMORY (4g), BENCH_SPARK_CONF (JSON object of extra Spark conf),
BENCH_THREADS (2: Spark local[N] and DuckDB threads), BENCH_PROFILE (1: print per-action
and per-stage timings of the Spark job and write explain plans to BENCH_WORK),
BENCH_RESULTS (bench/results.jsonl; empty to not append), BENCH_WARM_RUNS (1: runs of the job
after the first, in the same JVM, reported apart; the first run is the figure that counts).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import json
import os
import platform
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import psutil
import pyarrow as pa

from bench.archive import BenchArchive, ensure_archive
from bench.reference_duckdb import reference_pairs

BENCH_DIR = Path(__file__).resolve().parent
COMPARED = ("event_date", "src_ip", "dest_ip", "connection_count", "first_seen", "last_seen", "bytes_in", "bytes_out")


class BenchMismatch(AssertionError):  # noqa: N818
    """The Spark table and the DuckDB reference differ."""


# --- process tree --------------------------------------------------------------------------------

def process_tree() -> list[psutil.Process]:
    """This process and all its descendants (the JVM, Python workers), as far as they can be read."""
    me = psutil.Process()
    with contextlib.suppress(psutil.Error):
        return [me, *me.children(recursive=True)]
    return [me]


# --- memory sampling ---------------------------------------------------------------------------

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


# --- JVM counters --------------------------------------------------------------------------------

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


# --- the Spark side ----------------------------------------------------------------------------

def bench_config(archive: BenchArchive, lake: Path):
    from smb_pipeline.config import config_from_dict

    return config_from_dict({
        "sources": [{"name": "bench", "format": "cim", "path": str(archive.path)}],
        "company_subnets": str(archive.subnets_path),
        "exclude_company": "source",
        "output": {"path": str(lake)},
    })


def run_spark_job(spark, archive: BenchArchive, lake: Path):
    """run_pipeline over the archive's days into a fresh `lake`; (RunResult, seconds)."""
    from smb_pipeline.pipeline import run_pipeline

    if lake.exists():
        shutil.rmtree(lake)
    config = bench_config(archive, lake)
    began = time.monotonic()
    result = run_pipeline(spark, config, archive.start, archive.end)
    return result, time.monotonic() - began


def spark_filter_floor(spark, archive: BenchArchive) -> tuple[int, float]:
    """`spark.read.parquet(path).filter(<the cim prefilter>).count()`: a floor for any full scan."""
    from pyspark.sql import functions as F

    from smb_pipeline.formats.base import raw_variants

    allowed = F.col("action").isin(raw_variants(frozenset({"allowed"})))
    smb = F.col("dest_port").isin([139, 445]) | F.col("app").isin(raw_variants(("smb", "ms-ds-smb", "netbios-ss")))
    began = time.monotonic()
    count = spark.read.parquet(str(archive.path)).filter(allowed & smb).count()
    return count, time.monotonic() - began


def read_delta_pairs(table_path: str) -> pa.Table:
    from deltalake import DeltaTable

    return DeltaTable(table_path).to_pyarrow_table(columns=list(COMPARED))


def compare_pairs(spark_pairs: pa.Table, reference: pa.Table, show: int = 5) -> int:
    """Multiset equality of the compared columns (timestamps as epoch µs); raise on a difference."""
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.register("s_raw", spark_pairs)
    con.register("r_raw", reference)
    norm = ("SELECT event_date::DATE AS event_date, src_ip, dest_ip, connection_count::BIGINT AS connection_count, "
            "epoch_us(first_seen) AS first_seen, epoch_us(last_seen) AS last_seen, "
            "bytes_in::BIGINT AS bytes_in, bytes_out::BIGINT AS bytes_out FROM {}")
    con.execute(f"CREATE TEMP TABLE s AS {norm.format('s_raw')}")
    con.execute(f"CREATE TEMP TABLE r AS {norm.format('r_raw')}")
    diff = "SELECT * FROM (SELECT * FROM {} EXCEPT ALL SELECT * FROM {}) ORDER BY ALL LIMIT {}"
    only_spark = con.sql(diff.format("s", "r", show)).fetchall()
    only_ref = con.sql(diff.format("r", "s", show)).fetchall()
    n_spark = con.sql("SELECT count(*) FROM s").fetchall()[0][0]
    n_ref = con.sql("SELECT count(*) FROM r").fetchall()[0][0]
    con.close()
    if only_spark or only_ref or n_spark != n_ref:
        lines = [f"MISMATCH: Spark wrote {n_spark} pair rows, the DuckDB reference has {n_ref}"]
        lines += [f"  only in Spark:     {row}" for row in only_spark]
        lines += [f"  only in reference: {row}" for row in only_ref]
        raise BenchMismatch("\n".join(lines))
    return n_spark


# --- profile (Spark's status store; works with the UI off) --------------------------------------

def _opt_ms(option) -> int | None:
    return option.get().getTime() if option.isDefined() else None


def last_execution_id(spark) -> int:
    executions = spark._jsparkSession.sharedState().statusStore().executionsList()
    return max([executions.apply(i).executionId() for i in range(executions.size())], default=-1)


def spark_profile(spark, after_execution: int) -> list[dict]:
    """Per SQL execution after `after_execution`: description, wall ms, and its stages' metrics."""
    jsc = spark.sparkContext._jsc.sc()
    store = jsc.statusStore()
    executions = spark._jsparkSession.sharedState().statusStore().executionsList()
    jobs = {}
    job_list = store.jobsList(None)
    for i in range(job_list.size()):
        job = job_list.apply(i)
        jobs[job.jobId()] = job
    out = []
    for i in range(executions.size()):
        ex = executions.apply(i)
        if ex.executionId() <= after_execution:
            continue
        end = _opt_ms(ex.completionTime())
        job_ids = [int(k) for k in _scala_keys(ex.jobs())]
        stage_rows = []
        for job_id in sorted(job_ids):
            job = jobs.get(job_id)
            if job is None:
                continue
            seq = job.stageIds()
            for j in range(seq.size()):
                sid = seq.apply(j)
                try:
                    st = store.lastStageAttempt(sid)
                except Exception:  # a skipped stage (its shuffle output was reused) has no attempt
                    continue
                if str(st.status()) == "SKIPPED":
                    continue
                first, last = _opt_ms(st.submissionTime()), _opt_ms(st.completionTime())
                stage_rows.append({
                    "job": job_id, "stage": sid, "tasks": st.numTasks(), "name": st.name(),
                    "wall_ms": (last - first) if first and last else None,
                    "task_ms": st.executorRunTime(), "cpu_ms": st.executorCpuTime() // 1_000_000,
                    "gc_ms": st.jvmGcTime(),
                    "input_rows": st.inputRecords(), "input_mb": round(st.inputBytes() / 1e6, 1),
                    "shuffle_write_mb": round(st.shuffleWriteBytes() / 1e6, 2),
                    "shuffle_read_mb": round(st.shuffleReadBytes() / 1e6, 2),
                })
        out.append({"execution": ex.executionId(), "description": ex.description(),
                    "wall_ms": (end - ex.submissionTime()) if end else None, "stages": stage_rows})
    return out


def _scala_keys(scala_map) -> list:
    keys = []
    it = scala_map.keysIterator()
    while it.hasNext():
        keys.append(it.next())
    return keys


def format_profile(profile: list[dict]) -> str:
    lines = []
    for ex in profile:
        lines.append(f"exec {ex['execution']:>3} {ex['wall_ms'] or 0:>7} ms  {ex['description'][:100]}")
        for st in ex["stages"]:
            lines.append(
                f"      stage {st['stage']:>4} tasks {st['tasks']:>4} wall {st['wall_ms'] or 0:>6} ms "
                f"task {st['task_ms']:>6} ms cpu {st['cpu_ms']:>6} ms gc {st['gc_ms']:>5} ms "
                f"in {st['input_rows']:>10} rows {st['input_mb']:>8} MB "
                f"shw {st['shuffle_write_mb']:>7} MB  {st['name'][:60]}")
    return "\n".join(lines)


def explain_plans(spark, archive: BenchArchive) -> str:
    """explain('formatted') of the job's main DataFrames, built (not run) with the pipeline's functions."""
    from pyspark.sql import functions as F

    from smb_pipeline import pipeline as P
    from smb_pipeline.aggregate import aggregate_daily_pairs
    from smb_pipeline.reader import read_source
    from smb_pipeline.subnets import build_subnet_index, exclude_company_traffic

    config = bench_config(archive, Path("/nonexistent"))
    start, end = archive.start, archive.end
    source_archive = read_source(spark, config.sources[0], start, end)
    context = P.format_context(source_archive, config)
    staged = P.stage_events([source_archive], config, start, end)
    kept = exclude_company_traffic(staged.filter(F.col("status") == P.STATUS_SMB),
                                   build_subnet_index(spark, config.company_subnets), config.exclude_company)
    frames = {
        "census (narrow scan: rows per day + prefilter survivors)": P.census(source_archive, context, start, end),
        "staged events (main scan: prefilter survivors, normalized, validated)": staged,
        "pairs (company anti-join + aggregation)": aggregate_daily_pairs(kept),
    }
    text = []
    for title, frame in frames.items():
        buffer = io.StringIO()
        with contextlib.redirect_stdout(buffer):
            frame.explain(mode="formatted")
        text.append(f"==== {title}\n{buffer.getvalue()}")
    return "\n".join(text)


# --- the whole bench ------------------------------------------------------------------------------

@dataclass
class BenchFigures:
    rows: int
    cores: int
    spark_job_s: float
    duckdb_s: float
    floor_s: float
    floor_count: int
    pairs: int
    aggregated_rows: int
    extra: dict = field(default_factory=dict)

    @property
    def ratio(self) -> float:
        return self.spark_job_s / self.duckdb_s

    def per_core(self, seconds: float) -> float:
        return self.rows / seconds / self.cores


def run_bench(spark, archive: BenchArchive, workdir: Path, cores: int = 2, sampler: RssSampler | None = None,
              profile: bool = False, warm_runs: int = 0) -> BenchFigures:
    """Spark job, its filter-only floor, the DuckDB reference, and the comparison (raises on a mismatch).

    The job's first run is the figure that counts: a nightly spark-submit starts a fresh JVM.
    `warm_runs` more runs in the same JVM show the steady state, what a long-lived cluster or
    a backfill's later batches see; their tables are checked too.
    """
    sampler_phase = sampler.phase if sampler else (lambda name: contextlib.nullcontext())
    lake = Path(workdir) / "lake"
    before = last_execution_id(spark) if profile else -1
    counters = JvmCounters.read(spark)
    with sampler_phase("spark_job"):
        result, spark_s = run_spark_job(spark, archive, lake)
    jvm = JvmCounters.read(spark) - counters
    extra: dict = {"versions": result.versions, "jvm_cpu_s": round(jvm.cpu_s, 2), "jit_compile_s": round(jvm.jit_s, 2)}
    if profile:
        try:
            extra["profile"] = spark_profile(spark, before)
        except Exception as exc:  # the profile reads Spark internals; never lose the figures for it
            print(f"profile unavailable: {str(exc).splitlines()[0]}", file=sys.stderr)
            extra["profile"] = []
    tables = [read_delta_pairs(result.tables["smb_allowed_daily"])]
    warm: list[float] = []
    for _ in range(warm_runs):
        with sampler_phase("spark_job_warm"):
            warm_result, seconds = run_spark_job(spark, archive, lake)
        warm.append(seconds)
        tables.append(read_delta_pairs(warm_result.tables["smb_allowed_daily"]))
    extra["warm_s"] = [round(seconds, 2) for seconds in warm]
    with sampler_phase("spark_floor"):
        floor_count, floor_s = spark_filter_floor(spark, archive)
    with sampler_phase("duckdb"):
        reference, duck_s = reference_pairs(archive.path, archive.subnets_path, archive.start, archive.end,
                                            threads=cores)
    pairs = compare_pairs(tables[0], reference)
    for table in tables[1:]:
        compare_pairs(table, reference)
    return BenchFigures(rows=archive.rows, cores=cores, spark_job_s=spark_s, duckdb_s=duck_s, floor_s=floor_s,
                        floor_count=floor_count, pairs=pairs, aggregated_rows=result.total("aggregated"),
                        extra=extra)


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


def main() -> int:
    rows = int(os.environ.get("BENCH_ROWS", "10000000"))
    days = int(os.environ.get("BENCH_DAYS", "7"))
    seed = int(os.environ.get("BENCH_SEED", "20260105"))
    cores = int(os.environ.get("BENCH_THREADS", "2"))
    workdir = Path(os.environ.get("BENCH_WORK", str(BENCH_DIR / "work"))).resolve()
    profile = os.environ.get("BENCH_PROFILE", "1") not in ("", "0")
    warm_runs = int(os.environ.get("BENCH_WARM_RUNS", "1"))
    results_path = os.environ.get("BENCH_RESULTS", str(BENCH_DIR / "results.jsonl"))
    extra_conf = json.loads(os.environ.get("BENCH_SPARK_CONF", "{}"))
    os.environ["TZ"] = "UTC"
    time.tzset()
    facts = machine_facts()

    with RssSampler() as sampler:
        with sampler.phase("generate"):
            archive = ensure_archive(workdir, rows, days, seed, threads=cores)
        print(f"archive: {archive.path} ({rows:,} rows, {days} days; "
              f"{'reused' if archive.reused else f'generated in {archive.generated_seconds:.1f} s'})", flush=True)

        from pyspark import __version__ as spark_version

        from smb_pipeline.session import build_spark_session

        spark_conf = {
            "spark.driver.memory": os.environ.get("BENCH_DRIVER_MEMORY", "4g"),
            "spark.ui.enabled": "false",
            "spark.ui.showConsoleProgress": "false",
            "spark.sql.warehouse.dir": str(workdir / "spark-warehouse"),
            **extra_conf,
        }
        began = time.monotonic()
        with sampler.phase("spark_session"):
            spark = build_spark_session("smb_pipeline bench", master=f"local[{cores}]", spark_conf=spark_conf)
        session_s = time.monotonic() - began
        print(f"Spark session start: {session_s:.1f} s", flush=True)

        figures = run_bench(spark, archive, workdir, cores=cores, sampler=sampler, profile=profile,
                            warm_runs=warm_runs)
        if profile:
            text = format_profile(figures.extra["profile"])
            print("\nSpark job profile (per SQL execution, then its stages):\n" + text, flush=True)
            (workdir / f"profile-{rows}.txt").write_text(text + "\n")
            (workdir / f"plans-{rows}.txt").write_text(explain_plans(spark, archive))
            print(f"plans: {workdir / f'plans-{rows}.txt'}")
        spark.stop()

    line = {
        "timestamp": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "rows": rows, "days": days, "cores": cores,
        "archive_bytes": sum(p.stat().st_size for p in archive.path.rglob("*.parquet")),
        "archive_generated_s": round(archive.generated_seconds, 2) if not archive.reused else None,
        "spark_session_s": round(session_s, 2),
        "spark_job_s": round(figures.spark_job_s, 2),
        "spark_filter_floor_s": round(figures.floor_s, 2),
        "spark_job_jvm_cpu_s": figures.extra["jvm_cpu_s"],
        "spark_job_jit_compile_s": figures.extra["jit_compile_s"],
        "spark_job_warm_s": figures.extra["warm_s"],
        "duckdb_s": round(figures.duckdb_s, 2),
        "ratio_spark_duckdb": round(figures.ratio, 2),
        "spark_rows_per_s_per_core": round(figures.per_core(figures.spark_job_s)),
        "duckdb_rows_per_s_per_core": round(figures.per_core(figures.duckdb_s)),
        "floor_rows_per_s_per_core": round(figures.per_core(figures.floor_s)),
        "peak_rss_mb": round(sampler.peak / 2**20),
        "peak_rss_mb_by_phase": {k: round(v / 2**20) for k, v in sampler.phase_peaks.items()},
        "pairs": figures.pairs, "aggregated_rows": figures.aggregated_rows, "prefilter_survivors": figures.floor_count,
        "match": True,
        "spark_conf": extra_conf, "spark": spark_version, "duckdb": duckdb.__version__,
        "machine": facts,
        "note": "shared 2-core machine; timings are noisy",
    }
    jvm_cpu, jit = line["spark_job_jvm_cpu_s"], line["spark_job_jit_compile_s"]
    warm_lines = "".join(
        f"{f'Spark job, warm (run {n + 2})':26}{seconds:8.2f} s   ratio {seconds / figures.duckdb_s:.2f} "
        "(same JVM: not the nightly case)\n"
        for n, seconds in enumerate(figures.extra["warm_s"]))
    print(f"""
rows                      {rows:,} ({days} days), local[{cores}] / DuckDB threads={cores}
Spark session start       {session_s:8.2f} s
Spark job (run_pipeline)  {figures.spark_job_s:8.2f} s   {line['spark_rows_per_s_per_core']:>12,} rows/s/core
  JVM CPU during the job  {jvm_cpu:8.2f} s   of which JIT compiling {jit:.2f} s
{warm_lines}Spark filter-only floor   {figures.floor_s:8.2f} s   {line['floor_rows_per_s_per_core']:>12,} rows/s/core
                          ({figures.floor_count:,} prefilter survivors)
DuckDB reference          {figures.duckdb_s:8.2f} s   {line['duckdb_rows_per_s_per_core']:>12,} rows/s/core
ratio Spark/DuckDB        {figures.ratio:8.2f}
peak RSS (process tree)   {line['peak_rss_mb']:8,} MB   by phase: {line['peak_rss_mb_by_phase']}
tables match              yes ({figures.pairs:,} pair rows, {figures.aggregated_rows:,} events aggregated)
machine                   {facts['nproc']} cpus, {facts['memory_gb']} GB, {facts['cpu_model']},
                          load average at start {facts['loadavg_at_start']}""")
    if results_path:
        with open(results_path, "a") as out:
            out.write(json.dumps(line, sort_keys=True) + "\n")
        print(f"appended to {results_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

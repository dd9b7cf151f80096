"""Where the job's time goes against the peer's, on one archive (`python -m bench.experiments`).

Same session, variants alternated and repeated, so JIT warm-up and noise hit all sides: the
census, the job's main scan, decoding 3 / 8 / 13 columns, the main scan's steps one by one
(each a noop write of the frame so far), building the staged frame on the driver, the whole
job and the native peer. Env: BENCH_ROWS (default 2000000), BENCH_WORK, BENCH_REPEAT (2).
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

from pyspark.sql import functions as F

from bench.archive import ensure_archive
from bench.measure import BENCH_DIR, JvmCounters
from bench.spark_runs import job_config, run_job, run_peer


class Timings:
    """Wall and JVM CPU seconds per named variant, over the rounds."""

    def __init__(self, spark):
        self.spark = spark
        self.wall: dict[str, list[float]] = {}
        self.cpu: dict[str, list[float]] = {}

    def measure(self, name: str, fn) -> None:
        counters = JvmCounters.read(self.spark)
        began = time.monotonic()
        fn()
        self.wall.setdefault(name, []).append(time.monotonic() - began)
        self.cpu.setdefault(name, []).append((JvmCounters.read(self.spark) - counters).cpu_s)
        print(f"  {name:50} wall {self.wall[name][-1]:6.2f} s  JVM CPU {self.cpu[name][-1]:6.2f} s", flush=True)

    def report(self) -> str:
        return "\n".join(f"  {name:50} wall " + " ".join(f"{v:6.2f}" for v in walls)
                         + f"  min {min(walls):6.2f}   JVM CPU min {min(self.cpu[name]):6.2f}"
                         for name, walls in self.wall.items())


def _bench_source(spark, archive):
    """The job's config for the archive, its one source read for the archive's days, and that
    source's staged rows (a frame: nothing runs)."""
    from smb_pipeline.run import staging
    from smb_pipeline.sources.reader import read_source

    config = job_config(archive, Path("/nonexistent"))
    source = read_source(spark, config.sources[0], archive.start, archive.end)
    staged = staging.stage_sources([source], config, archive.start, archive.end).frame
    return config, source, staged


def census_variants(spark, archive):
    """The pipeline's census (a narrow scan of every row) and the main scan's staged counts."""
    from smb_pipeline.run import staging

    config, source, staged = _bench_source(spark, archive)
    context = staging.format_context(source, config)
    census = staging.census(source, context, archive.start, archive.end)
    main_scan = staged.groupBy("status").count()
    return {"census": census, "main_scan_staged_counts": main_scan}


def prefilter():
    return (F.col("action").isin("allowed", "Allowed", "ALLOWED")
            & (F.col("dest_port").isin(139, 445) | F.col("app").isin("smb", "SMB", "ms-ds-smb", "netbios-ss")))

RUNS = {"run_pipeline (the job)": run_job, "native peer": run_peer}


PEER_COLUMNS = ("_time", "src_ip", "dest_ip", "dest_port", "app", "action", "bytes_in", "bytes_out")


def decode_variants(spark, archive):
    """What decoding costs: the prefilter over the 3 filter columns only, the 8 the peer reads,
    vs. all 13 columns materialized (a noop write), as the job's main scan does."""
    frame = spark.read.parquet(str(archive.path))
    return {
        "scan+filter, 3 columns (noop write)": frame.filter(prefilter()).select("action", "dest_port", "app"),
        "scan+filter, the peer's 8 columns (noop write)": frame.filter(prefilter()).select(*PEER_COLUMNS),
        "scan+filter, all 13 columns (noop write)": frame.filter(prefilter()),
        "scan+filter, all columns + _metadata.file_path": frame.filter(prefilter()).withColumn(
            "_file", F.col("_metadata.file_path")),
    }


def step_variants(spark, archive):
    """The main scan's steps, cumulative: prefilter, stage end, normalization, validation and
    status, company flag; each written to `noop`, so its cost is the steps' task work."""
    from smb_pipeline.run import staging
    from smb_pipeline.run.outputs import company_flagged

    config, source, staged = _bench_source(spark, archive)
    context = staging.format_context(source, config)
    group = source.groups[0]
    return {
        "step 1: scan + the format's prefilter": group.frame.filter(staging.group_prefilter(source, group, context)),
        "step 2: + row position, stage end": staging.prefilter_survivors(source, group, context),
        "step 3: + normalization": staging.canonical_candidates(source, context),
        "step 4: + event day, validation, status": staged,
        "step 5: + company flag, the run's columns": company_flagged(staged, config),
    }


def build_staged_frame(spark, archive) -> None:
    """What the driver does before any task runs: read the footers, build the staged frame
    (every `withColumn` is analyzed against the plan so far), optimize and plan it."""
    _config, _source, staged = _bench_source(spark, archive)
    staged._jdf.queryExecution().executedPlan()


def main() -> None:
    from smb_pipeline.engine.session import build_spark_session

    rows = int(os.environ.get("BENCH_ROWS", "2000000"))
    repeat = int(os.environ.get("BENCH_REPEAT", "2"))
    workdir = Path(os.environ.get("BENCH_WORK", str(BENCH_DIR / "work"))).resolve()
    os.environ["TZ"] = "UTC"
    time.tzset()
    archive = ensure_archive(workdir, rows)
    spark = build_spark_session("smb_pipeline bench experiments", master="local[2]",
                                spark_conf={"spark.driver.memory": "4g", "spark.ui.enabled": "false",
                                            "spark.ui.showConsoleProgress": "false"})
    timings = Timings(spark)
    for _ in range(repeat):
        for name, frame in census_variants(spark, archive).items():
            timings.measure(name, frame.collect)
        for name, frame in {**decode_variants(spark, archive), **step_variants(spark, archive)}.items():
            timings.measure(name, lambda frame=frame: frame.write.format("noop").mode("overwrite").save())
        timings.measure("building and planning the staged frame (driver)", lambda: build_staged_frame(spark, archive))
        for name, run in RUNS.items():
            out = workdir / "experiments-table"
            shutil.rmtree(out, ignore_errors=True)
            timings.measure(name, lambda run=run, out=out: run(spark, archive, out))
    print(f"\nA/B at {rows:,} rows, local[2], {repeat} rounds in one JVM (seconds; shared, noisy machine):")
    print(timings.report())
    spark.stop()


if __name__ == "__main__":
    main()

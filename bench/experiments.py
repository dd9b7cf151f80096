"""A/B timings of candidate improvements, on a mid-size archive (`python -m bench.experiments`).

Same session, variants alternated and repeated, so JIT warm-up and noise hit both sides.
Env: BENCH_ROWS (default 2000000), BENCH_WORK, BENCH_REPEAT (2).
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

from pyspark.sql import functions as F

from bench.archive import ensure_archive
from bench.measure import BENCH_DIR
from bench.spark_runs import job_config, run_job


def timed(fn):
    began = time.monotonic()
    value = fn()
    return value, time.monotonic() - began


def census_variants(spark, archive):
    """The pipeline's census (a narrow scan of every row) and the main scan's staged counts."""
    from smb_pipeline import pipeline as P
    from smb_pipeline.reader import read_source

    config = job_config(archive, Path("/nonexistent"))
    source = read_source(spark, config.sources[0], archive.start, archive.end)
    context = P.format_context(source, config)
    census = P.census(source, context, archive.start, archive.end)
    main_scan = P.stage_events([source], config, archive.start, archive.end).groupBy("status").count()
    return {"census": census, "main_scan_staged_counts": main_scan}


def prefilter():
    return (F.col("action").isin("allowed", "Allowed", "ALLOWED")
            & (F.col("dest_port").isin(139, 445) | F.col("app").isin("smb", "SMB", "ms-ds-smb", "netbios-ss")))

RUN_VARIANTS = {
    "as is (shuffle.partitions=200, AQE)": {},
    "shuffle.partitions=4": {"spark.sql.shuffle.partitions": "4"},
    "files.maxPartitionBytes=16m": {"spark.sql.files.maxPartitionBytes": "16m"},
}


def decode_variants(spark, archive):
    """What decoding costs: the prefilter over the 3 filter columns only, vs. all 13 columns
    materialized (a noop write), as the main scan does."""
    frame = spark.read.parquet(str(archive.path))
    return {
        "scan+filter, 3 columns (noop write)": frame.filter(prefilter()).select("action", "dest_port", "app"),
        "scan+filter, all 13 columns (noop write)": frame.filter(prefilter()),
        "scan+filter, all columns + _metadata.file_path": frame.filter(prefilter()).withColumn(
            "_file", F.col("_metadata.file_path")),
    }


def main() -> None:
    from smb_pipeline.session import build_spark_session

    rows = int(os.environ.get("BENCH_ROWS", "2000000"))
    repeat = int(os.environ.get("BENCH_REPEAT", "2"))
    workdir = Path(os.environ.get("BENCH_WORK", str(BENCH_DIR / "work"))).resolve()
    os.environ["TZ"] = "UTC"
    time.tzset()
    archive = ensure_archive(workdir, rows)
    spark = build_spark_session("smb_pipeline bench experiments", master="local[2]",
                                spark_conf={"spark.driver.memory": "4g", "spark.ui.enabled": "false",
                                            "spark.ui.showConsoleProgress": "false"})
    results: dict[str, list[float]] = {}
    for _ in range(repeat):
        for name, frame in census_variants(spark, archive).items():
            _, seconds = timed(frame.collect)
            results.setdefault(name, []).append(seconds)
        for name, frame in decode_variants(spark, archive).items():
            _, seconds = timed(lambda frame=frame: frame.write.format("noop").mode("overwrite").save())
            results.setdefault(name, []).append(seconds)
        for name, conf in RUN_VARIANTS.items():
            for key, value in conf.items():
                spark.conf.set(key, value)
            shutil.rmtree(workdir / "lake-experiments", ignore_errors=True)
            _, seconds = timed(lambda: run_job(spark, archive, workdir / "lake-experiments"))
            results.setdefault(f"run_pipeline {name}", []).append(seconds)
            for key in conf:
                spark.conf.unset(key)
        _, seconds = timed(lambda: spark.read.parquet(str(archive.path)).filter(prefilter()).count())
        results.setdefault("filter-only floor", []).append(seconds)
    print(f"\nA/B at {rows:,} rows, local[2], {repeat} rounds (seconds; shared, noisy machine):")
    for name, values in results.items():
        print(f"  {name:45} " + "  ".join(f"{v:6.2f}" for v in values) + f"   min {min(values):6.2f}")
    spark.stop()


if __name__ == "__main__":
    main()

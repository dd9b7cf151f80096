"""The bench's Spark variants, each run several times in one JVM.

`python -m bench.spark_runs VARIANT --rows N ...` is what `make bench` starts once per variant,
so that every variant's first run is in a fresh JVM, as a nightly spark-submit is, and its
second run in the same JVM shows the warm state (a long-lived cluster, a backfill's later
batches). The variants:

* `job`: the pipeline itself (`smb_pipeline.run.pipeline.run_pipeline`), both tables;
* `peer`: `bench.native_peer`, a hand-written native Spark job with the reference's semantics;
* `lean`: `bench.lean_floor`, scan + prefilter + group + Delta write, nothing else.

Each run writes to its own folder under the work directory; the caller compares the tables.
The figures go to `--json-out` as one JSON object.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import shutil
import sys
import time
from collections.abc import Callable
from pathlib import Path

from bench.archive import BenchArchive, ensure_archive
from bench.lean_floor import write_lean_pairs
from bench.measure import JvmCounters
from bench.native_peer import write_peer_pairs
from bench.spark_profile import format_profile, last_execution_id, spark_profile

VARIANTS = ("job", "peer", "lean")
DELTA_PACKAGE = "io.delta:delta-spark_2.13:4.0.1"  # as the job's session resolves it


def job_config(archive: BenchArchive, lake: Path):
    from smb_pipeline.config import config_from_dict

    return config_from_dict({
        "sources": [{"name": "bench", "format": "cim", "path": str(archive.path)}],
        "company_subnets": str(archive.subnets_path),
        "exclude_company": "source",
        "output": {"path": str(lake)},
        # Like for like: the peer and the reference compute the pair table and the rejects;
        # the alerts step on top of them is measured on its own (docs/performance.md).
        "alerts": {"enabled": False},
    })


def run_job(spark, archive: BenchArchive, out: Path) -> Path:
    from smb_pipeline.run.pipeline import run_pipeline

    result = run_pipeline(spark, job_config(archive, out), archive.start, archive.end)
    return Path(result.tables["smb_allowed_daily"])


def run_peer(spark, archive: BenchArchive, out: Path) -> Path:
    write_peer_pairs(spark, archive.path, archive.subnets_path, archive.start, archive.end, out)
    return out


def run_lean(spark, archive: BenchArchive, out: Path) -> Path:
    write_lean_pairs(spark, archive.path, out)
    return out


RUNNERS: dict[str, Callable] = {"job": run_job, "peer": run_peer, "lean": run_lean}


def run_variant(spark, variant: str, archive: BenchArchive, workdir: Path, runs: int = 2,
                profile: bool = False) -> list[dict]:
    """`runs` runs of `variant` in this session: seconds, JVM CPU, JIT compile time, table path each.

    With `profile`, each run's SQL executions and stages are added (Spark's status store).
    """
    figures = []
    for attempt in range(1, runs + 1):
        out = Path(workdir) / f"{variant}-run{attempt}"
        shutil.rmtree(out, ignore_errors=True)
        before = last_execution_id(spark) if profile else -1
        counters = JvmCounters.read(spark)
        began = time.monotonic()
        table = RUNNERS[variant](spark, archive, out)
        seconds = time.monotonic() - began
        jvm = JvmCounters.read(spark) - counters
        figure = {"run": attempt, "seconds": round(seconds, 3), "jvm_cpu_s": round(jvm.cpu_s, 2),
                  "jit_compile_s": round(jvm.jit_s, 2), "table": str(table)}
        if profile:
            try:
                figure["profile"] = spark_profile(spark, before)
            except Exception as exc:  # the profile reads Spark internals; never lose the figures for it
                print(f"profile unavailable: {str(exc).splitlines()[0]}", file=sys.stderr)
        figures.append(figure)
    return figures


def bench_session(variant: str, cores: int, conf: dict):
    """The job builds its session as its entry point does; the peer and the lean floor build
    theirs here with the same settings and none of the library's code."""
    if variant == "job":
        from smb_pipeline.engine.session import build_spark_session

        return build_spark_session("smb_pipeline bench: job", master=f"local[{cores}]", spark_conf=conf)
    from pyspark.sql import SparkSession

    builder = (SparkSession.builder.appName(f"smb_pipeline bench: {variant}").master(f"local[{cores}]")
               .config("spark.sql.session.timeZone", "UTC")
               .config("spark.sql.extensions", "io.delta.sql.DeltaSparkSessionExtension")
               .config("spark.sql.catalog.spark_catalog", "org.apache.spark.sql.delta.catalog.DeltaCatalog")
               .config("spark.jars.packages", DELTA_PACKAGE))
    for key, value in conf.items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("WARN")
    return spark


def job_plans(spark, archive: BenchArchive) -> str:
    """explain('formatted') of the job's pair table, built (not run) with the pipeline's functions."""
    buffer = io.StringIO()
    try:
        from smb_pipeline.run.outputs import company_flagged
        from smb_pipeline.run.staging import stage_sources
        from smb_pipeline.sources.reader import read_source
        from smb_pipeline.transforms.aggregate import aggregate_daily_pairs
        from smb_pipeline.transforms.events import kept_events

        config = job_config(archive, Path("/nonexistent"))
        source = read_source(spark, config.sources[0], archive.start, archive.end)
        staged = stage_sources([source], config, archive.start, archive.end).frame
        kept = kept_events(company_flagged(staged, config))
        with contextlib.redirect_stdout(buffer):
            aggregate_daily_pairs(kept).explain(mode="formatted")
    except Exception as exc:  # the library is edited by others; the plans are a courtesy
        return f"plans unavailable: {exc}"
    return buffer.getvalue()


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.spark_runs")
    parser.add_argument("variant", choices=VARIANTS)
    parser.add_argument("--rows", type=int, required=True)
    parser.add_argument("--days", type=int, default=7)
    parser.add_argument("--seed", type=int, default=20260105)
    parser.add_argument("--work", type=Path, required=True)
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--conf", default="{}", help="JSON object of Spark conf")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--json-out", type=Path, required=True)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    archive = ensure_archive(args.work, args.rows, args.days, args.seed, threads=args.cores)
    runs_dir = args.work / f"runs-{args.rows}"
    began = time.monotonic()
    spark = bench_session(args.variant, args.cores, json.loads(args.conf))
    session_s = time.monotonic() - began
    figures = run_variant(spark, args.variant, archive, runs_dir, args.runs, args.profile)
    if args.profile:
        text = "\n".join(f"---- run {run['run']} ({'fresh JVM' if run['run'] == 1 else 'warm'}): "
                         f"{run['seconds']:.2f} s\n" + format_profile(run.get("profile", [])) for run in figures)
        (args.work / f"profile-{args.variant}-{args.rows}.txt").write_text(text + "\n")
        if args.variant == "job":
            (args.work / f"plans-job-{args.rows}.txt").write_text(job_plans(spark, archive))
    spark.stop()
    args.json_out.write_text(json.dumps({"variant": args.variant, "session_s": round(session_s, 2),
                                         "runs": figures}))
    return 0


if __name__ == "__main__":
    sys.exit(main())

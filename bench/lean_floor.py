"""`python -m bench.lean_floor`: the cheapest Spark job of roughly this shape, cold and then warm.

Scan the bench archive, keep allowed SMB by the cim prefilter, group by (UTC day, src, dest)
and write the groups as a day-partitioned Delta table: no row census, no validation, no
company exclusion, no rejects. Its first run in a fresh JVM is a floor for the nightly job's
cold time; its second run shows how much of that is JVM and code-generation warm-up.
Run `make bench` (or `python -m bench.run`) first: this reuses its archive.

Env: BENCH_ROWS (default 10000000), BENCH_WORK (bench/work), BENCH_REPEAT (2).
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

from bench.run import BENCH_DIR, JvmCounters


def main() -> None:
    from pyspark.sql import functions as F

    from smb_pipeline.session import build_spark_session

    rows = int(os.environ.get("BENCH_ROWS", "10000000"))
    repeat = int(os.environ.get("BENCH_REPEAT", "2"))
    workdir = Path(os.environ.get("BENCH_WORK", str(BENCH_DIR / "work"))).resolve()
    archive = workdir / f"archive-{rows}" / "cim"
    if not archive.exists():
        raise SystemExit(f"no archive at {archive}: run `BENCH_ROWS={rows} make bench` first")
    os.environ["TZ"] = "UTC"
    time.tzset()
    spark = build_spark_session("smb_pipeline lean floor", master="local[2]",
                                spark_conf={"spark.driver.memory": "4g", "spark.ui.enabled": "false",
                                            "spark.ui.showConsoleProgress": "false"})
    out = workdir / "lean-floor-table"
    allowed = F.col("action").isin("allowed", "Allowed", "ALLOWED")
    smb = F.col("dest_port").isin(139, 445) | F.col("app").isin("smb", "SMB", "ms-ds-smb", "netbios-ss")
    for attempt in range(repeat):
        shutil.rmtree(out, ignore_errors=True)
        counters = JvmCounters.read(spark)
        began = time.monotonic()
        pairs = (
            spark.read.parquet(str(archive)).filter(allowed & smb)
            .groupBy(F.to_date("_time").alias("event_date"), "src_ip", "dest_ip")
            .agg(F.count(F.lit(1)).alias("connection_count"), F.min("_time").alias("first_seen"),
                 F.max("_time").alias("last_seen"), F.sum("bytes_in").alias("bytes_in"),
                 F.sum("bytes_out").alias("bytes_out"))
        )
        pairs.write.format("delta").partitionBy("event_date").save(str(out))
        seconds = time.monotonic() - began
        jvm = JvmCounters.read(spark) - counters
        label = "cold (first job of the JVM)" if attempt == 0 else "warm"
        print(f"lean Spark job, {rows:,} rows, run {attempt + 1} {label}: {seconds:.2f} s "
              f"(JVM CPU {jvm.cpu_s:.1f} s, of which JIT compiling {jvm.jit_s:.1f} s)", flush=True)
    spark.stop()


if __name__ == "__main__":
    main()

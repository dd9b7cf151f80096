"""The cheapest Spark job of roughly the job's shape: a floor, not a peer.

Scan the bench archive, keep allowed SMB by the cim prefilter (the archive's spellings as
literals, so Parquet can be asked to filter), group by (UTC day, src, dest) and write the
groups as a day-partitioned Delta table: no day window, no company exclusion, no address
parsing, no row census, no validation, no rejects. Its table therefore differs from the
reference's (it keeps company sources), and the bench does not compare it.

`make bench` runs it in a fresh JVM and then warm (`bench.spark_runs lean`); alone:
`BENCH_ROWS=10000000 .venv/bin/python -m bench.lean_floor` (after `make bench` made the archive).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from pyspark.sql import functions as F

ALLOWED = ("allowed", "Allowed", "ALLOWED")
SMB_APPS = ("smb", "SMB", "ms-ds-smb", "netbios-ss")


def write_lean_pairs(spark, archive: str | Path, table: str | Path) -> None:
    allowed = F.col("action").isin(*ALLOWED)
    smb = F.col("dest_port").isin(139, 445) | F.col("app").isin(*SMB_APPS)
    pairs = (
        spark.read.parquet(str(archive)).filter(allowed & smb)
        .groupBy(F.to_date("_time").alias("event_date"), "src_ip", "dest_ip")
        .agg(F.count(F.lit(1)).alias("connection_count"), F.min("_time").alias("first_seen"),
             F.max("_time").alias("last_seen"), F.sum("bytes_in").alias("bytes_in"),
             F.sum("bytes_out").alias("bytes_out"))
    )
    pairs.write.format("delta").mode("overwrite").partitionBy("event_date").save(str(table))


def main() -> int:
    import json
    import tempfile

    from bench.measure import BENCH_DIR
    from bench.spark_runs import main as run_variant_main

    rows = os.environ.get("BENCH_ROWS", "10000000")
    work = os.environ.get("BENCH_WORK", str(BENCH_DIR / "work"))
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        run_variant_main(["lean", "--rows", rows, "--work", work, "--runs", os.environ.get("BENCH_REPEAT", "2"),
                          "--json-out", out.name])
        figures = json.loads(Path(out.name).read_text())
    for run in figures["runs"]:
        label = "fresh JVM" if run["run"] == 1 else "warm"
        print(f"lean Spark job, {int(rows):,} rows, run {run['run']} ({label}): {run['seconds']:.2f} s "
              f"(JVM CPU {run['jvm_cpu_s']:.1f} s, of which JIT compiling {run['jit_compile_s']:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Smoke test of the benchmark machinery (bench/): a tiny archive, the Spark job, the DuckDB
reference, and their comparison. No timing assertions."""

from __future__ import annotations

import pyarrow as pa
import pytest

from bench.archive import ensure_archive
from bench.run import BenchMismatch, compare_pairs, read_delta_pairs, run_bench

pytestmark = pytest.mark.spark


def test_bench_tables_match_on_a_tiny_archive(spark, tmp_path):
    archive = ensure_archive(tmp_path, rows=20_000, days=7, seed=7)
    assert not archive.reused
    assert ensure_archive(tmp_path, rows=20_000, days=7, seed=7).reused  # same fingerprint: reused

    figures = run_bench(spark, archive, tmp_path, cores=2, profile=True, warm_runs=1)  # raises on a difference

    assert figures.pairs > 0
    assert figures.aggregated_rows > 0
    assert figures.floor_count >= figures.aggregated_rows  # company traffic passes the prefilter too
    assert figures.extra["profile"], "the status-store profile found the job's SQL executions"
    # The job ran in the test's JVM, a child of this process: it used CPU, and the JIT compiled.
    assert 0 < figures.extra["jit_compile_s"] < figures.extra["jvm_cpu_s"]
    assert len(figures.extra["warm_s"]) == 1


def test_compare_pairs_fails_loudly_on_a_difference(spark, tmp_path):
    archive = ensure_archive(tmp_path, rows=20_000, days=7, seed=7)
    run_bench(spark, archive, tmp_path, cores=2)
    written = read_delta_pairs(str(tmp_path / "lake" / "smb_allowed_daily"))
    counts = written.column("connection_count").to_pylist()
    counts[0] += 1
    altered = written.set_column(written.schema.get_field_index("connection_count"), "connection_count",
                                 pa.array(counts, pa.int64()))
    with pytest.raises(BenchMismatch, match="only in"):
        compare_pairs(written, altered)

"""Smoke test of the benchmark machinery (bench/) on a tiny archive, in the test session's JVM:
the DuckDB reference and its plan, the native peer, the job and the lean floor, the table
comparison. No timing assertions: `make bench` measures, tests only keep it working."""

from __future__ import annotations

import duckdb
import pyarrow as pa
import pytest

from bench.archive import ensure_archive
from bench.reference_duckdb import (
    NESTED_LOOP_OPERATORS,
    NestedLoopPlan,
    connect,
    plan_operators,
    reference_pairs,
    refuse_nested_loops,
)
from bench.run import marginal, ratios
from bench.spark_runs import job_plans, run_variant
from bench.tables import BenchMismatch, compare_pairs, read_delta_pairs


@pytest.fixture(scope="module")
def archive(tmp_path_factory):
    root = tmp_path_factory.mktemp("bench")
    archive = ensure_archive(root, rows=20_000, days=7, seed=7)
    assert not archive.reused
    assert ensure_archive(root, rows=20_000, days=7, seed=7).reused  # same fingerprint: reused
    return archive


@pytest.fixture(scope="module")
def reference(archive):
    return reference_pairs(archive.path, archive.subnets_path, archive.start, archive.end)


def test_reference_plan_has_a_range_join_and_no_nested_loop(reference):
    names = {op.name for op in reference.operators}
    assert names & {"PIECEWISE_MERGE_JOIN", "IE_JOIN", "HASH_JOIN"}
    assert not names & set(NESTED_LOOP_OPERATORS)
    assert reference.table.num_rows > 0
    assert reference.top(5) == tuple(sorted(reference.top(5), key=lambda op: op.seconds, reverse=True))


def test_a_nested_loop_plan_is_refused():
    """The old reference's shape (a function of the address inside EXISTS) plans a nested loop."""
    con = connect()
    con.execute("SET enable_profiling = 'no_output'")
    con.sql("SELECT count(*) FROM range(300) s(x) WHERE EXISTS "
            "(SELECT 1 FROM range(50) c(lo) WHERE ipkey('10.0.0.' || (s.x % 250)::VARCHAR) "
            "BETWEEN c.lo::UHUGEINT AND (c.lo + 5)::UHUGEINT)").fetchall()
    operators = plan_operators(con)
    assert {op.name for op in operators} & set(NESTED_LOOP_OPERATORS)
    with pytest.raises(NestedLoopPlan, match="nested loop"):
        refuse_nested_loops(operators)


@pytest.mark.spark
def test_peer_and_job_tables_equal_the_reference(spark, archive, reference, tmp_path):
    for variant in ("peer", "job"):
        runs = run_variant(spark, variant, archive, tmp_path, runs=1, profile=variant == "job")
        written = read_delta_pairs(runs[0]["table"])
        assert compare_pairs(written, reference.table, label=variant) == reference.table.num_rows
        assert runs[0]["seconds"] > 0 and runs[0]["jvm_cpu_s"] > 0
    assert runs[0]["profile"], "the status-store profile found the job's SQL executions"
    lean = run_variant(spark, "lean", archive, tmp_path, runs=1)
    # The lean floor keeps company sources: at least every pair of the reference, usually more.
    assert read_delta_pairs(lean[0]["table"]).num_rows >= reference.table.num_rows

    counts = written.column("connection_count").to_pylist()
    counts[0] += 1
    altered = written.set_column(written.schema.get_field_index("connection_count"), "connection_count",
                                 pa.array(counts, pa.int64()))
    with pytest.raises(BenchMismatch, match="only in"):
        compare_pairs(altered, reference.table)


@pytest.mark.spark
def test_job_plans_are_explained(spark, archive):
    """The plan written next to the job's figures is built with the library's functions: it must
    follow the library's changes rather than turn into an apology."""
    plans = job_plans(spark, archive)
    assert plans.startswith("== Physical Plan =="), plans[:200]
    assert "BroadcastHashJoin" in plans


def test_ratios_and_marginal_cost_per_10m_rows():
    def size(rows, job, peer, duck):
        return {"rows": rows, "variants": {"job": {"fresh_s": job, "warm_s": job / 2},
                                           "peer": {"fresh_s": peer, "warm_s": peer / 2},
                                           "duckdb": {"fresh_s": duck, "warm_s": duck}}}

    small, large = size(10_000_000, 20.0, 10.0, 1.0), size(50_000_000, 40.0, 14.0, 3.0)
    assert ratios(small["variants"])["job/peer fresh"] == 2.0
    cost = marginal([small, large])
    assert cost["job fresh"] == 5.0 and cost["peer fresh"] == 1.0 and cost["duckdb warm"] == 0.5
    assert cost["ratio job/peer fresh"] == 5.0
    assert duckdb.__version__  # the reference's engine is importable where the smoke test runs

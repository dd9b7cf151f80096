"""bench.compare_lakes: equal lakes pass, a changed value fails, file paths compare per workdir."""

from __future__ import annotations

import pyarrow as pa
from deltalake import write_deltalake

from bench.compare_lakes import compare


def _lake(workdir, detail: str):
    rows = pa.table({"reason": ["invalid_src_ip"], "detail": [detail],
                     "file_path": [f"file:{workdir}/archive/dt=2026-11-01/part-0.parquet"]})
    write_deltalake(str(workdir / "lake" / "rejected_events"), rows)
    return workdir / "lake"


def test_equal_lakes_in_two_workdirs_compare_equal(tmp_path):
    assert compare(_lake(tmp_path / "old", "x"), _lake(tmp_path / "new", "x")) == []


def test_a_changed_value_is_reported(tmp_path):
    (problem,) = compare(_lake(tmp_path / "old", "x"), _lake(tmp_path / "new", "y"))
    assert problem.startswith("rejected_events: 1 rows only in old, 1 only in new")

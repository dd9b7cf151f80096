"""Schema drift, implausible times, missing and unreadable input: generated archives, real Delta tables.

One archive (written with pyarrow) holds every drift case at once, so one run checks them all:
ports int32 in one folder and text in the next, `_time` as a timestamp, epoch seconds and
text, an optional column missing from the oldest file, `dest_port` renamed in one file, times
in 1900, 9999 and at epoch 0, and a folder outside the window that no reader could read.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from deltalake import DeltaTable

from smb_pipeline.cli.summary import format_summary
from smb_pipeline.config import config_from_dict
from smb_pipeline.errors import InputError
from smb_pipeline.model.columns import FILE_COLUMN, RAW_COLUMN, ROW_INDEX_COLUMN
from smb_pipeline.operations.runlog import logged_run
from smb_pipeline.run.pipeline import run_pipeline
from smb_pipeline.sources.reader import raw_rows, read_source

UTC = dt.timezone.utc
START, END = dt.date(2026, 11, 25), dt.date(2026, 11, 26)
TIMESTAMP, INT32 = pa.timestamp("us", "UTC"), pa.int32()
A, B, C, D, E = "192.0.2.1", "198.51.100.2", "198.51.100.3", "192.0.2.4", "198.51.100.5"


def _t(*parts: int) -> dt.datetime:
    return dt.datetime(*parts, tzinfo=UTC)


def _write(path: Path, columns: dict[str, tuple[pa.DataType, list]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.table({name: pa.array(values, type) for name, (type, values) in columns.items()}), path)


def _cim(times: list, dests: list, ports: list, actions: list, *, time_type: pa.DataType = TIMESTAMP,
         port_type: pa.DataType = INT32, port_name: str = "dest_port", src: list | None = None,
         **extra: tuple[pa.DataType, list]) -> dict:
    n = len(times)
    return {
        "_time": (time_type, times),
        "src_ip": (pa.string(), src or [A] * n),
        "dest_ip": (pa.string(), dests),
        "src_port": (pa.int32(), [50000] * n),
        port_name: (port_type, ports),
        "transport": (pa.string(), ["tcp"] * n),
        "app": (pa.string(), ["unknown"] * n),
        "action": (pa.string(), actions),
        **extra,
    }


def _epoch(when: dt.datetime) -> int:
    return int(when.timestamp())


@pytest.fixture(scope="module")
def drifted(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("drift") / "cim"
    # Outside the window: a type no cast reads and a file that is not Parquet at all.
    _write(root / "dt=2026-10-01/part-0.parquet", _cim([_t(2026, 10, 1, 1)], [B], [445.5], ["allowed"],
                                                       port_type=pa.float64()))
    (root / "dt=2026-10-01/part-1.parquet").write_bytes(b"PAR1 this is not parquet")
    # Margin folder before the window: one row of the 24th (not this run's), one of the 25th.
    _write(root / "dt=2026-11-24/part-0.parquet",
           _cim([_t(2026, 11, 24, 23), _t(2026, 11, 25, 0, 0, 5)], [B, B], [445, 445], ["allowed", "allowed"],
                src=[A, D], bytes_in=(pa.int64(), [9, 3])))
    # The oldest file of the run's days has no bytes_in (optional): null for this file only.
    _write(root / "dt=2026-11-25/part-0.parquet",
           _cim([_t(2026, 11, 25, 10), _t(2026, 11, 25, 11), _t(2026, 11, 25, 12)], [B, B, C], [445, 445, 80],
                ["allowed"] * 3, bytes_out=(pa.int64(), [100, 50, 1])))
    # Ports become text, `_time` epoch seconds.
    _write(root / "dt=2026-11-26/part-0.parquet",
           _cim([_epoch(_t(2026, 11, 26, 9)), _epoch(_t(2026, 11, 26, 9, 30))], [B, B], ["445", "139"],
                ["allowed"] * 2, time_type=pa.int64(), port_type=pa.string(), src=[A, D],
                bytes_in=(pa.int64(), [7, 1]), bytes_out=(pa.int64(), [8, 2])))
    # dest_port renamed for one file: its rows are rejected, not silently "not SMB".
    _write(root / "dt=2026-11-26/part-1.parquet",
           _cim([_t(2026, 11, 26, 10), _t(2026, 11, 26, 11)], [E, E], [445, 445], ["allowed"] * 2, port_name="dport"))
    # Implausible and missing times.
    _write(root / "dt=2026-11-26/part-2.parquet",
           _cim([_t(1900, 1, 1), _t(9999, 12, 31, 23), _t(1970, 1, 1), None, _t(1900, 1, 1)], [B] * 5,
                [445, 445, 445, 445, 80], ["allowed"] * 4 + ["blocked"]))
    # Text times: one unparseable, one good.
    _write(root / "dt=2026-11-26/part-3.parquet",
           _cim(["garbage", "2026-11-26T08:00:00Z"], [B, B], [445, 445], ["allowed"] * 2, time_type=pa.string()))
    # Margin folder after the window, ports as int64: a late row of the 26th, a row of the 27th.
    _write(root / "dt=2026-11-27/part-0.parquet",
           _cim([_t(2026, 11, 26, 23, 59, 59), _t(2026, 11, 27, 1)], [B, B], [445, 445], ["allowed"] * 2,
                port_type=pa.int64()))
    return root


def _config(lake: Path, *sources: dict):
    return config_from_dict({"sources": list(sources), "company_subnets": ["10.0.0.0/8"],
                             "output": {"path": str(lake)}})


@pytest.fixture(scope="module")
def drift_run(spark, drifted, tmp_path_factory):
    lake = tmp_path_factory.mktemp("drift_lake")
    config = _config(lake, {"name": "fw", "format": "cim", "path": str(drifted)})
    return lake, run_pipeline(spark, config, START, END)


def _delta_rows(path: Path, columns: list[str]) -> list[tuple]:
    table = DeltaTable(str(path)).to_pyarrow_table(columns=columns)
    return sorted(tuple(row[c] for c in columns) for row in table.to_pylist())


def test_each_file_is_read_with_its_own_schema(drift_run):
    lake, _ = drift_run
    pairs = _delta_rows(lake / "smb_allowed_daily", ["event_date", "src_ip", "dest_ip", "connection_count",
                                                     "bytes_in", "bytes_out"])
    assert pairs == [
        (START, A, B, 2, None, 150),  # the file without bytes_in: null for that file only
        (START, D, B, 1, 3, None),
        (END, A, B, 3, 7, 8),  # int32, text and int64 ports; timestamp, epoch and text times
        (END, D, B, 1, 1, 2),
    ]


def test_renamed_and_implausible_rows_are_rejected_with_their_reason(drift_run):
    lake, _ = drift_run
    rejects = DeltaTable(str(lake / "rejected_events")).to_pyarrow_table().to_pylist()
    assert Counter((r["event_date"], r["reason"]) for r in rejects) == {
        (END, "missing_column"): 2, (END, "implausible_time"): 4, (END, "invalid_time"): 2,
    }
    # The prefilter drops the blocked port-80 row of 1900, but its time still makes it a reject.
    implausible = [r for r in rejects if r["reason"] == "implausible_time"]
    assert any('"action":"blocked"' in r["raw"] for r in implausible), implausible
    missing = [r for r in rejects if r["reason"] == "missing_column"]
    assert all("part-1.parquet" in r["detail"] and "dest_port" in r["detail"] for r in missing), missing
    assert all(r["file_path"].endswith("dt=2026-11-26/part-1.parquet") for r in missing)


def test_every_owned_row_is_in_exactly_one_bucket(drift_run):
    """The rows a run owns: its days' rows in the folders it reads, and every row of its days'
    folders whose time is implausible or missing (owned by the folder's day)."""
    _, result = drift_run
    counts = {day: one for day, (one,) in result.daily.items()}
    assert [counts[START].rows_read, counts[END].rows_read] == [4, 12]
    for one in counts.values():
        assert one.rows_read == one.not_allowed_smb + one.rejected + one.excluded + one.aggregated
    assert (counts[START].aggregated, counts[START].not_allowed_smb, counts[START].rejected) == (3, 1, 0)
    assert (counts[END].aggregated, counts[END].not_allowed_smb, counts[END].rejected) == (4, 0, 8)


def test_raw_rows_are_read_again_from_the_named_files_alone(spark, drifted, tmp_path):
    """The main scan reads only the canonical row's columns; a rejected row's raw columns come
    from a second read that opens only the files with rejects. Every other file of the window is
    deleted after the listing: opening any of them would fail the read."""
    archive = tmp_path / "cim"
    shutil.copytree(drifted, archive)
    source = read_source(spark, _config(tmp_path, {"name": "fw", "format": "cim", "path": str(archive)}).sources[0],
                         START, END)
    kept = archive / "dt=2026-11-26" / "part-1.parquet"
    for path in archive.glob("dt=2026-11-2*/*.parquet"):
        if path != kept:
            path.unlink()
    uri = spark.read.parquet(str(kept)).select("_metadata.file_path").first()[0]
    rows = raw_rows([source], {"fw": {uri}, "other": {"file:/elsewhere.parquet"}})
    assert rows is not None
    got = sorted((r.source, r.file_path, r.row_index, json.loads(r.raw)["dport"])
                 for r in rows.withColumnsRenamed({FILE_COLUMN: "file_path", ROW_INDEX_COLUMN: "row_index",
                                                   RAW_COLUMN: "raw"}).collect())
    assert got == [("fw", uri, 0, 445), ("fw", uri, 1, 445)]
    assert raw_rows([source], {}) is None


def test_a_source_without_files_does_not_fail_the_others_and_skipped_files_are_logged(spark, drifted, tmp_path):
    empty = tmp_path / "late" / "dt=2026-11-25"
    empty.mkdir(parents=True)
    archive = tmp_path / "fw"
    _write(archive / "dt=2026-11-25/part-0.parquet", _cim([_t(2026, 11, 25, 10)], [B], [445], ["allowed"]))
    broken = archive / "dt=2026-11-25/part-1.parquet"
    broken.write_bytes(b"PAR1 not really")
    config = _config(tmp_path / "lake", {"name": "fw", "format": "cim", "path": str(archive),
                                         "on_corrupt_file": "skip"},
                     {"name": "late", "format": "zeek_conn", "path": str(tmp_path / "late")})
    result = logged_run(spark, config, START, START, "run")
    assert result.no_data == ["late"]
    assert [Path(p.split(":", 1)[-1]).name for p in result.files_skipped] == ["part-1.parquet"]
    assert [(c.source, c.rows_read, c.aggregated) for c in result.sources] == [("fw", 1, 1), ("late", 0, 0)]
    summary = format_summary(result)
    assert "no_data: source 'late'" in summary and "part-1.parquet" in summary
    runs = DeltaTable(str(tmp_path / "lake" / "pipeline_runs")).to_pyarrow_table().to_pylist()
    (run,) = [row for row in runs if row["status"] == "succeeded"]  # after its `running` row
    assert run["no_data"] == ["late"]
    assert [Path(p).name for p in run["files_skipped"]] == ["part-1.parquet"]


def test_an_unreadable_file_fails_naming_source_and_file(spark, tmp_path):
    archive = tmp_path / "fw"
    _write(archive / "dt=2026-11-25/part-0.parquet", _cim([_t(2026, 11, 25, 10)], [B], [445], ["allowed"]))
    (archive / "dt=2026-11-25/part-1.parquet").write_bytes(b"PAR1\x00\x01 truncated")
    (archive / "dt=2026-11-25/part-2.parquet").write_bytes(b"")  # empty: no rows, nothing to fail on
    config = _config(tmp_path / "lake", {"name": "fw", "format": "cim", "path": str(archive)})
    with pytest.raises(InputError, match=r"^source 'fw': file \S+dt=2026-11-25/part-1.parquet is not readable"):
        read_source(spark, config.sources[0], START, START)


def test_a_missing_source_path_names_source_and_path(spark, tmp_path):
    config = _config(tmp_path / "lake", {"name": "fw", "format": "cim", "path": str(tmp_path / "nowhere")})
    with pytest.raises(InputError, match=r"^source 'fw': cannot list '\S+/nowhere'"):
        read_source(spark, config.sources[0], START, START)


@pytest.mark.system
def test_a_corrupt_file_exits_1_in_one_line_without_traceback(tmp_path):
    archive = tmp_path / "fw"
    _write(archive / "dt=2026-11-25/part-0.parquet", _cim([_t(2026, 11, 25, 10)], [B], [445], ["allowed"]))
    (archive / "dt=2026-11-25/part-1.parquet").write_bytes(b"PAR1 not parquet at all")
    config = tmp_path / "config.yaml"
    config.write_text(
        f"sources:\n  - {{name: fw, format: cim, path: '{archive}'}}\n"
        f"company_subnets: ['10.0.0.0/8']\noutput: {{path: '{tmp_path / 'lake'}'}}\n"
    )
    done = subprocess.run([sys.executable, "-m", "smb_pipeline.cli", "run", "--config", str(config),
                           "--date", "2026-11-25", "--master", "local[1]"],
                          capture_output=True, text=True, timeout=300)
    errors = [line for line in done.stderr.splitlines() if line.startswith("smb-pipeline:")]
    assert done.returncode == 1, done.stderr[-2000:]
    assert len(errors) == 1 and "source 'fw'" in errors[0] and "part-1.parquet" in errors[0], done.stderr[-2000:]
    assert "Traceback" not in done.stderr, done.stderr[-2000:]
    assert not (tmp_path / "lake" / "smb_allowed_daily").exists()


def test_a_corrupt_page_fails_at_execution_naming_source_and_file(spark, tmp_path):
    """The footer reads, the data does not: Spark fails while computing, and the run's error is
    one line naming source and file, not Spark's exception."""
    archive = tmp_path / "fw"
    path = archive / "dt=2026-11-25/part-0.parquet"
    _write(path, _cim([_t(2026, 11, 25, 10)] * 50, [B] * 50, [445] * 50, ["allowed"] * 50))
    data = bytearray(path.read_bytes())
    data[4:60] = b"\xff" * 56  # the first column chunk's page header; the footer stays intact
    path.write_bytes(bytes(data))
    config = _config(tmp_path / "lake", {"name": "fw", "format": "cim", "path": str(archive)})
    with pytest.raises(InputError, match=r"^source 'fw', file \S+dt=2026-11-25/part-0.parquet\b.*cannot be read"):
        run_pipeline(spark, config, START, START)

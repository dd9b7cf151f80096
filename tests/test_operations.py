"""Operations: run log, reprocess window, backfill (resumable, forced), maintenance, summary."""

from __future__ import annotations

import argparse
import datetime as dt
import os

import pytest
from pyspark.sql import functions as F

from smb_pipeline.cli.commands import resolve_days
from smb_pipeline.cli.summary import format_summary
from smb_pipeline.config import config_from_dict
from smb_pipeline.demo.generate import COMPANY_SUBNETS, generate_cim_archive
from smb_pipeline.errors import ConfigError
from smb_pipeline.operations.backfill import backfill, batches, contiguous_ranges
from smb_pipeline.operations.maintenance import check_retention, maintain
from smb_pipeline.operations.runlog import RUNS_TABLE, logged_run
from smb_pipeline.sources.reader import read_source
from tests.plans import jobs_of

FIRST_DAY = dt.date(2026, 10, 1)


@pytest.fixture(scope="module")
def archive(tmp_path_factory):
    path = tmp_path_factory.mktemp("ops") / "cim"
    generate_cim_archive(path, days=4, rows_per_day=300, seed=3, first_day=FIRST_DAY)
    return path


def _config(archive, lake, **extra):
    document = {
        "sources": [{"name": "edge", "format": "cim", "path": str(archive)}],
        "company_subnets": list(COMPANY_SUBNETS),
        "output": {"path": str(lake)},
    }
    document.update(extra)
    return config_from_dict(document)


def _runs(spark, lake):
    return spark.read.format("delta").load(str(lake / RUNS_TABLE))


def test_run_log_records_success_per_day_with_counts_and_versions(spark, archive, tmp_path):
    config = _config(archive, tmp_path)
    result = logged_run(spark, config, FIRST_DAY, FIRST_DAY + dt.timedelta(days=1), command="run")
    runs = _runs(spark, tmp_path)
    assert sorted(r.status for r in runs.collect()) == ["running", "running", "succeeded", "succeeded"]
    rows = sorted(runs.filter(F.col("status") == "succeeded").collect(), key=lambda r: r.event_date)
    assert [r.event_date for r in rows] == [FIRST_DAY, FIRST_DAY + dt.timedelta(days=1)]
    assert {r.status for r in rows} == {"succeeded"} and len({r.run_id for r in rows}) == 1
    assert sum(r.rows_read for r in rows) == result.total("rows_read")
    (source,) = rows[0].sources
    assert source.source == "edge"
    assert source.rows_read == source.not_allowed_smb + source.rejected + source.excluded + source.aggregated
    assert rows[0].rows_kept == source.aggregated and rows[0].rows_excluded == source.excluded
    assert [r.files_read for r in rows] == [2, 3]  # the day folder and its margin folders that exist
    assert rows[0].bytes_read > 0
    assert rows[0].delta_versions == {"smb_allowed_daily": 0, "rejected_events": 0, "smb_alerts": 1}
    assert rows[0].config_hash and rows[0].package_version and rows[0].error is None


def test_failed_run_is_logged_and_leaves_data_tables_unchanged(spark, archive, tmp_path, monkeypatch):
    from smb_pipeline.storage import delta_io

    config = _config(archive, tmp_path)
    logged_run(spark, config, FIRST_DAY, FIRST_DAY, command="run")
    pairs_path = str(tmp_path / "smb_allowed_daily")
    before = sorted(spark.read.format("delta").load(pairs_path).collect())
    real_replace = delta_io.replace_days

    def fail_after_pairs_written(frame, path, start, end):
        version = real_replace(frame, path, start, end)
        if path == pairs_path:
            raise RuntimeError("injected failure after the pair table was written")
        return version

    monkeypatch.setattr(delta_io, "replace_days", fail_after_pairs_written)
    with pytest.raises(RuntimeError, match="injected"):
        logged_run(spark, config, FIRST_DAY, FIRST_DAY + dt.timedelta(days=2), command="run")
    assert sorted(spark.read.format("delta").load(pairs_path).collect()) == before
    failed = _runs(spark, tmp_path).filter(F.col("status") == "failed").collect()
    assert len(failed) == 3
    assert all("injected failure" in r.error and r.rows_read is None for r in failed)


def test_run_reads_reprocess_window_plus_margin(spark, archive, tmp_path):
    config = _config(archive, tmp_path, reprocess_days=2)
    args = argparse.Namespace(start=None, end=None, date="2026-10-04")
    start, end = resolve_days(args, config)
    assert (start, end) == (dt.date(2026, 10, 2), dt.date(2026, 10, 4))
    source = read_source(spark, config.sources[0], start, end)
    folders = sorted({path.split("/")[-2] for group in source.groups for path in group.files})
    assert folders[0] == "dt=2026-10-01" and folders[-1] <= "dt=2026-10-05", folders


def test_explicit_range_and_bad_ranges():
    config = config_from_dict({"sources": [{"name": "a", "format": "cim", "path": "/x"}], "output": {"path": "/o"}})
    explicit = argparse.Namespace(start="2026-10-01", end="2026-10-03", date=None)
    assert resolve_days(explicit, config) == (dt.date(2026, 10, 1), dt.date(2026, 10, 3))
    with pytest.raises(ConfigError, match="--end"):
        resolve_days(argparse.Namespace(start="2026-10-03", end="2026-10-01", date=None), config)
    with pytest.raises(ConfigError, match="--start/--end: give both"):
        resolve_days(argparse.Namespace(start="2026-10-03", end=None, date=None), config)


def test_batches_and_ranges():
    days = [FIRST_DAY + dt.timedelta(days=i) for i in (0, 1, 2, 4, 6, 7)]
    assert list(contiguous_ranges(days)) == [(days[0], days[2]), (days[3], days[3]), (days[4], days[5])]
    assert list(batches(FIRST_DAY, FIRST_DAY + dt.timedelta(days=4), 2)) == [
        (FIRST_DAY, FIRST_DAY + dt.timedelta(days=1)),
        (FIRST_DAY + dt.timedelta(days=2), FIRST_DAY + dt.timedelta(days=3)),
        (FIRST_DAY + dt.timedelta(days=4), FIRST_DAY + dt.timedelta(days=4)),
    ]


def test_backfill_skips_unchanged_days_redoes_changed_ones_and_force(spark, archive, tmp_path):
    config = _config(archive, tmp_path)
    last = FIRST_DAY + dt.timedelta(days=3)
    lines: list[str] = []
    first = backfill(spark, config, FIRST_DAY, last, batch_days=2, report=lines.append)
    assert (first.days_done, first.days_skipped) == (4, 0)
    assert len(lines) == 2 and lines[0].startswith("batch 1/2: 2/4 days done") and "ETA" in lines[0]
    table_before = sorted(spark.read.format("delta").load(str(tmp_path / "smb_allowed_daily")).collect())

    again = backfill(spark, config, FIRST_DAY, last, batch_days=2, report=lines.append)
    assert again.days_skipped == 4 and again.rows == 0

    # Touching the last day's file changes the fingerprint of that day and of the day before (margin).
    (changed,) = (archive / f"dt={last.isoformat()}").glob("*.parquet")
    os.utime(changed, (changed.stat().st_atime, changed.stat().st_mtime + 60))
    resumed = backfill(spark, config, FIRST_DAY, last, batch_days=2, report=lines.append)
    assert resumed.days_skipped == 2

    forced = backfill(spark, config, FIRST_DAY, last, batch_days=4, force=True, report=lines.append)
    assert (forced.days_done, forced.days_skipped) == (4, 0)
    assert sorted(spark.read.format("delta").load(str(tmp_path / "smb_allowed_daily")).collect()) == table_before


def test_maintain_compacts_and_guards_retention(spark, archive, tmp_path):
    config = _config(archive, tmp_path)
    for day in range(2):  # several writes leave several files behind
        logged_run(spark, config, FIRST_DAY + dt.timedelta(days=day), FIRST_DAY + dt.timedelta(days=day), "run")
    with pytest.raises(ConfigError, match="below Delta's safe 168 h"):
        check_retention(1, force=False)
    reports, jobs = jobs_of(spark, "maintain", lambda: maintain(spark, config, today=FIRST_DAY + dt.timedelta(days=3)))
    # Work sized to the table: no 10,000-task listing or 50-task snapshot stage for a few files.
    tracker = spark.sparkContext.statusTracker()
    stages = [tracker.getStageInfo(s) for j in jobs for s in tracker.getJobInfo(j).stageIds]
    assert stages and max(stage.numTasks for stage in stages if stage) <= 10
    assert spark.conf.get("spark.sql.sources.parallelPartitionDiscovery.parallelism") == "10000"  # restored
    assert [r.table for r in reports] == ["smb_allowed_daily", "rejected_events", "smb_alerts"]
    pairs = next(r for r in reports if r.table == "smb_allowed_daily")
    assert pairs.files_after_optimize <= pairs.files_before
    assert "OPTIMIZE ZORDER BY" in pairs.line()
    history = spark.sql(f"DESCRIBE HISTORY delta.`{tmp_path / 'smb_allowed_daily'}`")
    operations = {r.operation for r in history.collect()}
    assert {"OPTIMIZE", "VACUUM START", "VACUUM END"} <= operations


def test_summary_lists_every_bucket(spark, archive, tmp_path):
    result = logged_run(spark, _config(archive, tmp_path), FIRST_DAY, FIRST_DAY, "run")
    text = format_summary(result)
    for word in ("rows_read", "not_allowed_smb", "rejected", "excluded", "aggregated", "pairs written",
                 "elapsed", "smb_allowed_daily", "rejected_events", "1 day"):
        assert word in text


def test_input_fingerprints_list_each_folder_once(spark, archive, monkeypatch):
    from smb_pipeline.operations import fingerprint

    listed: list[str] = []
    real_list = fingerprint._list_files

    def counting_list(session, path):
        listed.append(path)
        return real_list(session, path)

    monkeypatch.setattr(fingerprint, "_list_files", counting_list)
    days = [FIRST_DAY + dt.timedelta(days=i) for i in range(4)]
    inputs = fingerprint.inputs_for_days(spark, _config(archive, archive.parent / "lake"), days)
    assert [inputs[day].files for day in days] == [2, 3, 3, 2]  # a day's folder and its existing neighbours
    assert len(listed) == len(set(listed)) == 6  # days -1..4: margins shared by adjacent days are listed once

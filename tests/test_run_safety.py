"""Run safety (issue 10): concurrent runs, scoped undo, signals, SIGKILL, with real processes.

Every table is checked with a second Delta reader (delta-rs) against pairs computed from the
files in plain Python (tests.test_pipeline_e2e.expected_run). The process tests pause a run at
a named safe point (SMB_PIPELINE_TEST_PAUSE_AT, test-only) so that a signal or a second run
hits the window they test deterministically; a run resumes when the test creates its
resume file.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pyarrow as pa
import pytest
import yaml
from deltalake import DeltaTable, write_deltalake
from pyspark.sql import DataFrameWriter

from smb_pipeline.config import config_from_dict
from smb_pipeline.demo.generate import COMPANY_SUBNETS, generate_cim_archive
from smb_pipeline.errors import ConcurrencyError
from smb_pipeline.operations.runlog import RUNS_SCHEMA, RUNS_TABLE, logged_run
from smb_pipeline.run import writes
from smb_pipeline.run.claims import CLAIMS_SCHEMA, RunClaims
from smb_pipeline.run.pipeline import run_pipeline
from smb_pipeline.run.writes import RunControl
from smb_pipeline.storage import commits, delta_io, registration
from tests.conftest import TEST_SPARK_CONF
from tests.plans import jobs_of
from tests.test_pipeline_e2e import expected_run

D1 = dt.date(2026, 9, 1)
D2 = D1 + dt.timedelta(days=1)
D3 = D1 + dt.timedelta(days=2)
CLI = str(Path(sys.executable).with_name("smb-pipeline"))
START_TIMEOUT = 600  # generous: a JVM start on a 2-core machine shared by several test runs


def _archive(path: Path, seed: int = 5) -> Path:
    generate_cim_archive(path, days=3, rows_per_day=150, seed=seed, first_day=D1)
    return path


def _add_late_smb(archive: Path, seed: int) -> None:
    """Change day D1's input: the files of another seed's D1 folder, added beside the first."""
    other = _archive(archive.parent / f"other-{seed}", seed)
    for number, file in enumerate(sorted((other / f"dt={D1}").glob("*.parquet"))):
        shutil.copy(file, archive / f"dt={D1}" / f"extra-{seed}-{number}.parquet")


def _pairs(lake: Path) -> list[tuple]:
    table = DeltaTable(str(lake / "smb_allowed_daily")).to_pyarrow_table().to_pylist()
    return sorted(
        (r["event_date"], r["src_ip"], r["dest_ip"], r["connection_count"], r["first_seen"].replace(tzinfo=None),
         r["last_seen"].replace(tzinfo=None), r["bytes_in"], r["bytes_out"])
        for r in table
    )


def _rejects(lake: Path) -> int:
    return DeltaTable(str(lake / "rejected_events")).to_pyarrow_table().num_rows


def _runs(lake: Path) -> list[dict]:
    return DeltaTable(str(lake / RUNS_TABLE)).to_pyarrow_table().to_pylist()


def _assert_tables_as_computed(lake: Path, archive: Path, start: dt.date, end: dt.date) -> None:
    pairs, counts = expected_run(archive, start, end)
    assert _pairs(lake) == pairs
    assert _rejects(lake) == counts["rejected"]


# -- processes ------------------------------------------------------------------------------


class Run:
    """One `smb-pipeline run` process, its stderr in a file, in a session of its own."""

    def __init__(self, tmp: Path, config: Path, start: dt.date, end: dt.date, *extra: str,
                 pause_at: str | None = None) -> None:
        self.stderr_path = tmp / f"run-{uuid.uuid4().hex[:8]}.err"
        self.resume_file = tmp / f"resume-{uuid.uuid4().hex[:8]}"
        env = {**os.environ, "TZ": "UTC", "SMB_PIPELINE_TEST_RESUME_FILE": str(self.resume_file),
               "SMB_PIPELINE_TEST_PAUSE_SECONDS": "300"}
        if pause_at:
            env["SMB_PIPELINE_TEST_PAUSE_AT"] = pause_at
        with open(self.stderr_path, "w") as err:
            self.process = subprocess.Popen(
                [CLI, "run", "--config", str(config), "--start", str(start), "--end", str(end), "--master",
                 "local[1]", *extra],
                stdout=subprocess.PIPE, stderr=err, env=env, start_new_session=True, text=True,
            )

    @property
    def stderr(self) -> str:
        return self.stderr_path.read_text()

    def wait_for(self, text: str, timeout: float = START_TIMEOUT) -> bool:
        """True once `text` is in stderr; False if the process ended (or time ran out) first."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in self.stderr:
                return True
            if self.process.poll() is not None:
                return text in self.stderr
            time.sleep(0.2)
        return False

    def resume(self) -> None:
        self.resume_file.touch()

    def finish(self, timeout: float = START_TIMEOUT) -> int:
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            pytest.fail(f"run did not end in {timeout} s; stderr tail:\n{self.stderr[-3000:]}")

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


@pytest.fixture
def runs():
    started: list[Run] = []
    yield started
    for run in started:
        run.kill()


def _config_file(tmp: Path, archive: Path, lake: Path) -> Path:
    conf = {key: value for key, value in TEST_SPARK_CONF.items() if key != "spark.driver.memory"}
    document = {
        "sources": [{"name": "edge", "format": "cim", "path": str(archive)}],
        "company_subnets": list(COMPANY_SUBNETS),
        "output": {"path": str(lake)},
        "spark": {**conf, "spark.driver.memory": "1g", "spark.sql.warehouse.dir": str(tmp / "warehouse")},
    }
    path = tmp / "config.yaml"
    path.write_text(yaml.safe_dump(document))
    return path


def _last_line(run: Run) -> str:
    """The run's one-line message (other lines are logs)."""
    (line,) = [line for line in run.stderr.splitlines() if line.startswith("smb-pipeline:")]
    return line


@pytest.mark.system
def test_same_days_second_run_exits_3_naming_the_first_or_waits(tmp_path, runs):
    archive, lake = _archive(tmp_path / "cim"), tmp_path / "lake"
    config = _config_file(tmp_path, archive, lake)
    first = Run(tmp_path, config, D1, D2, pause_at="computing")
    runs.append(first)
    assert first.wait_for("test pause at computing"), first.stderr[-3000:]
    refused = Run(tmp_path, config, D1, D2)
    waiting = Run(tmp_path, config, D2, D3, "--wait", "300")
    runs.extend([refused, waiting])
    assert refused.finish() == 3, refused.stderr[-3000:]
    assert waiting.wait_for("waiting up to 300 s"), waiting.stderr[-3000:]
    (holder,) = {r["run_id"] for r in _runs(lake) if r["status"] == "running"}
    line = _last_line(refused)
    assert line.startswith("smb-pipeline: output error: days") and holder in line
    assert socket.gethostname() in line and "started" in line and "Traceback" not in refused.stderr
    first.resume()
    assert first.finish() == 0, first.stderr[-3000:]
    assert waiting.finish() == 0, waiting.stderr[-3000:]
    _assert_tables_as_computed(lake, archive, D1, D3)
    statuses = sorted((r["run_id"] == holder, r["event_date"], r["status"]) for r in _runs(lake))
    assert [s for s in statuses if s[2] != "running"] == [
        (False, D2, "succeeded"), (False, D3, "succeeded"), (True, D1, "succeeded"), (True, D2, "succeeded")]


@pytest.mark.system
def test_runs_on_disjoint_days_hold_their_claims_together_and_both_succeed(tmp_path, runs):
    archive, lake = _archive(tmp_path / "cim"), tmp_path / "lake"
    config = _config_file(tmp_path, archive, lake)
    older = Run(tmp_path, config, D1, D2, pause_at="before_commits")
    tonight = Run(tmp_path, config, D3, D3, pause_at="before_commits")
    runs.extend([older, tonight])
    assert older.wait_for("test pause at before_commits"), older.stderr[-3000:]
    assert tonight.wait_for("test pause at before_commits"), tonight.stderr[-3000:]
    older.resume()
    tonight.resume()
    assert (older.finish(), tonight.finish()) == (0, 0), older.stderr[-2000:] + tonight.stderr[-2000:]
    _assert_tables_as_computed(lake, archive, D1, D3)


@pytest.mark.system
def test_sigterm_between_the_commits_undoes_the_first_and_sigint_mid_computation_stops(tmp_path, runs):
    archive, lake = _archive(tmp_path / "cim"), tmp_path / "lake"
    config = _config_file(tmp_path, archive, lake)
    setup = Run(tmp_path, config, D1, D2)
    runs.append(setup)
    assert setup.finish() == 0, setup.stderr[-3000:]
    before = (_pairs(lake), _rejects(lake))
    _add_late_smb(archive, seed=11)  # a rerun would now write other pairs and rejects for D1

    term = Run(tmp_path, config, D1, D2, pause_at="between_commits")
    runs.append(term)
    assert term.wait_for("test pause at between_commits"), term.stderr[-3000:]
    term.process.send_signal(signal.SIGTERM)
    assert term.finish() == 143, term.stderr[-3000:]
    assert "terminated by SIGTERM" in _last_line(term) and "Traceback" not in term.stderr
    assert (_pairs(lake), _rejects(lake)) == before

    interrupted = Run(tmp_path, config, D1, D2)
    runs.append(interrupted)
    assert interrupted.wait_for("counting rows"), interrupted.stderr[-3000:]
    interrupted.process.send_signal(signal.SIGINT)
    assert interrupted.finish() == 130, interrupted.stderr[-3000:]
    assert "writing the pair table" not in interrupted.stderr  # its Spark jobs were cancelled
    assert (_pairs(lake), _rejects(lake)) == before
    failed = [r for r in _runs(lake) if r["status"] == "failed"]
    assert sorted(r["error"] for r in failed) == ["terminated by SIGINT"] * 2 + ["terminated by SIGTERM"] * 2


@pytest.mark.system
def test_sigkill_between_the_commits_is_repaired_and_logged_abandoned_by_the_next_run(tmp_path, runs):
    archive, lake = _archive(tmp_path / "cim"), tmp_path / "lake"
    config = _config_file(tmp_path, archive, lake)
    _add_late_smb(archive, seed=12)
    killed = Run(tmp_path, config, D1, D2, pause_at="between_commits")
    runs.append(killed)
    assert killed.wait_for("test pause at between_commits"), killed.stderr[-3000:]
    killed.process.send_signal(signal.SIGKILL)
    killed.finish()
    assert _rejects_table_missing_or_empty(lake)  # pairs committed, rejects not: torn
    (killed_id,) = {r["run_id"] for r in _runs(lake)}

    clean = Run(tmp_path, config, D1, D2)
    runs.append(clean)
    assert clean.finish() == 0, clean.stderr[-3000:]
    _assert_tables_as_computed(lake, archive, D1, D2)
    statuses = sorted((r["event_date"], r["status"]) for r in _runs(lake) if r["run_id"] == killed_id)
    assert statuses == [(D1, "abandoned"), (D1, "running"), (D2, "abandoned"), (D2, "running")]


def _rejects_table_missing_or_empty(lake: Path) -> bool:
    return not (lake / "rejected_events" / "_delta_log").exists() or _rejects(lake) == 0


@pytest.mark.system
def test_plain_spark_submit_without_delta_fails_at_start_with_the_fix(tmp_path):
    archive, lake = _archive(tmp_path / "cim"), tmp_path / "lake"
    config = _config_file(tmp_path, archive, lake)
    job = Path(__file__).parents[1] / "jobs" / "smb_traffic_allowed.py"
    env = {**os.environ, "PYSPARK_PYTHON": sys.executable, "PYSPARK_DRIVER_PYTHON": sys.executable}
    done = subprocess.run(
        [str(Path(sys.executable).with_name("spark-submit")), "--master", "local[1]", str(job), "--config",
         str(config), "--date", str(D2)], capture_output=True, text=True, env=env, timeout=START_TIMEOUT,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 3, output[-3000:]
    (line,) = [line for line in output.splitlines() if line.startswith("smb-pipeline:")]
    assert "--packages io.delta:delta-spark_2.13:" in line
    assert "counting rows" not in output and "Traceback" not in output  # nothing was computed


# -- in one session: undo scope, lease expiry, claim races ----------------------------------


def _config(archive: Path, lake: Path, **output):
    return config_from_dict({"sources": [{"name": "edge", "format": "cim", "path": str(archive)}],
                             "company_subnets": list(COMPANY_SUBNETS), "output": {"path": str(lake), **output}})


def test_a_failure_after_the_first_commit_keeps_another_runs_commit_on_other_days(spark, tmp_path, monkeypatch):
    archive, lake = _archive(tmp_path / "cim"), tmp_path / "lake"
    config = _config(archive, lake)
    run_pipeline(spark, config, D1, D2)
    before, rejects_before = _pairs(lake), _rejects(lake)
    _add_late_smb(archive, seed=13)
    real_replace = delta_io.replace_days

    def other_run_commits_d3_then_rejects_fail(frame, path, start, end):
        if path.endswith("rejected_events"):
            monkeypatch.setattr(delta_io, "replace_days", real_replace)
            run_pipeline(spark, config, D3, D3)  # another run, on another day, commits in between
            raise OSError("disk full")
        return real_replace(frame, path, start, end)

    monkeypatch.setattr(delta_io, "replace_days", other_run_commits_d3_then_rejects_fail)
    with pytest.raises(OSError, match="disk full"):
        run_pipeline(spark, config, D1, D2)
    expected_d3, counts_d3 = expected_run(archive, D3, D3)
    assert _pairs(lake) == sorted(before + expected_d3)
    assert _rejects(lake) == rejects_before + counts_d3["rejected"]


def test_after_its_last_commit_a_run_reads_its_versions_and_registers_its_tables_with_signals_deferred(
        spark, tmp_path, monkeypatch):
    archive, lake = _archive(tmp_path / "cim"), tmp_path / "lake"
    deferred: list[str] = []

    @contextlib.contextmanager
    def protected():
        deferred.append("deferred")
        try:
            yield
        finally:
            deferred.pop()

    seen: list[tuple[str, bool]] = []
    real_versions, real_register = writes._run_versions, registration.register_table
    monkeypatch.setattr(writes, "_run_versions",
                        lambda *a: seen.append(("versions", bool(deferred))) or real_versions(*a))
    monkeypatch.setattr(registration, "register_table",
                        lambda *a: seen.append((a[2], bool(deferred))) or real_register(*a))
    run_pipeline(spark, _config(archive, lake, database="smb_deferred"), D1, D1, RunControl(protected=protected))
    # (The alerts step registers smb_alerts before its commit: a stop there is undone.)
    after_commits = seen[seen.index(("versions", True)):]
    assert after_commits == [("versions", True), ("smb_allowed_daily", True), ("rejected_events", True),
                             ("smb_alerts", True)]


def _versions_of_run(table: Path, run_id: str) -> int:
    """The latest version of `table` whose commit carries `run_id`, as delta-rs reads the log."""
    return max(entry["version"] for entry in DeltaTable(str(table)).history() if entry.get("userMetadata") == run_id)


def test_the_versions_a_run_reports_are_its_own_commits_when_another_run_commits_after_it(
        spark, tmp_path, monkeypatch):
    archive, lake = _archive(tmp_path / "cim"), tmp_path / "lake"
    config = _config(archive, lake)
    real_save = DataFrameWriter.save
    interleaved: list[str] = []

    def save_then_another_run_commits(writer, path=None, *args, **kwargs):
        real_save(writer, path, *args, **kwargs)
        if not interleaved and str(path).endswith("rejected_events"):
            interleaved.append(str(path))  # once: the other run's own saves pass through here too
            run_pipeline(spark, config, D3, D3, RunControl(run_id="other-run"))

    real_merge = delta_io.merge_into

    def merge_then_a_third_run_commits(source, path, *args, **kwargs):
        real_merge(source, path, *args, **kwargs)
        if spark.conf.get(commits.USER_METADATA_CONF, None) == "this-run":  # after this run's MERGE into smb_alerts
            interleaved.append(path)
            run_pipeline(spark, config, D3, D3, RunControl(run_id="third-run"))

    monkeypatch.setattr(DataFrameWriter, "save", save_then_another_run_commits)
    monkeypatch.setattr(delta_io, "merge_into", merge_then_a_third_run_commits)
    result = run_pipeline(spark, config, D1, D2, RunControl(run_id="this-run"))
    own = {name: _versions_of_run(lake / name, "this-run")
           for name in ("smb_allowed_daily", "rejected_events", "smb_alerts")}
    assert result.versions == own and result.alerts.version == own["smb_alerts"]
    for name in ("smb_allowed_daily", "rejected_events", "smb_alerts"):  # there, another run committed last
        assert DeltaTable(str(lake / name)).version() == _versions_of_run(lake / name, "third-run") > own[name]


def test_undoing_a_run_twice_restores_the_days_as_they_were_before_its_commit(spark, tmp_path, monkeypatch):
    path = str(tmp_path / "days")
    rows = [(D1, "earlier"), (D2, "earlier")]

    def commit(run_id: str, rows: list, table: str = path) -> None:
        with commits.commits_tagged(spark, run_id):
            delta_io.replace_days(spark.createDataFrame(rows, "event_date date, value string"), table,
                                  rows[0][0], rows[-1][0])

    commit("earlier-run", rows)
    commit("this-run", [(D1, "this run")])
    real_save = DataFrameWriter.save

    def save_then_another_run_commits(writer, save_path=None, *args, **kwargs):
        real_save(writer, save_path, *args, **kwargs)
        if spark.conf.get(commits.USER_METADATA_CONF, None) == "this-run" + commits.UNDO_SUFFIX:
            monkeypatch.setattr(DataFrameWriter, "save", real_save)  # once, right after the first undo
            commit("other-run", [(D3, "other run")])

    monkeypatch.setattr(DataFrameWriter, "save", save_then_another_run_commits)
    for undo_version in (2, 4):  # the second undo still finds the run's data commit, not the first undo
        with commits.commits_tagged(spark, "this-run"):  # as a run undoes: within its tag
            assert commits.undo_days(spark, path, "this-run", D1, D2) == undo_version  # its own, not other-run's
        assert sorted(map(tuple, spark.read.format("delta").load(path).collect())) == [*rows, (D3, "other run")]
    tags = [entry.get("userMetadata") for entry in reversed(DeltaTable(path).history())]
    assert tags == ["earlier-run", "this-run", "this-run:undo", "other-run", "this-run:undo"]


def test_undoing_the_run_that_created_a_table_empties_its_days_once(spark, tmp_path):
    path = str(tmp_path / "created")
    with commits.commits_tagged(spark, "first-run"):
        delta_io.replace_days(spark.createDataFrame([(D1, "first run")], "event_date date, value string"),
                              path, D1, D1)
        assert commits.undo_days(spark, path, "first-run", D1, D1) == 1
        assert commits.undo_days(spark, path, "first-run", D1, D1) is None  # nothing left to change
    assert spark.read.format("delta").load(path).count() == 0
    assert commits.undo_days(spark, path, "never-ran", D1, D1) is None


def test_a_run_commit_found_in_the_recent_history_costs_no_spark_job_of_its_own(spark, tmp_path):
    path = str(tmp_path / "days")
    for run_id in ("run-1", "run-2"):
        with commits.commits_tagged(spark, run_id):
            delta_io.replace_days(spark.createDataFrame([(D1, run_id)], "event_date date, value string"), path, D1, D1)
    _, history_jobs = jobs_of(spark, "history-read",
                              lambda: delta_io.table_history(spark, path, commits.RECENT_COMMITS))
    for run_id, version in (("run-1", 0), ("run-2", 1), ("never-ran", None)):
        # Only the jobs Delta runs to answer DESCRIBE HISTORY: none to aggregate or project its rows.
        found, jobs = jobs_of(spark, f"lookup-{run_id}",
                              lambda run_id=run_id: commits.run_commit_version(spark, path, run_id))
        assert (found, len(jobs)) == (version, len(history_jobs))


def test_a_run_commit_is_found_beyond_the_recent_history_which_alone_answers_a_short_one(spark, tmp_path,
                                                                                          monkeypatch):
    path = str(tmp_path / "days")
    for run_id in ("old-run", "run-1", "run-2", "run-3"):
        with commits.commits_tagged(spark, run_id):
            delta_io.replace_days(spark.createDataFrame([(D1, run_id)], "event_date date, value string"), path, D1, D1)
    reads: list[int | None] = []
    real_history = commits.table_history

    def history_read(session, table_path, limit=None):
        reads.append(limit)
        return real_history(session, table_path, limit)

    monkeypatch.setattr(commits, "table_history", history_read)
    monkeypatch.setattr(commits, "RECENT_COMMITS", 2)
    assert commits.run_commit_version(spark, path, "run-3") == 3 and reads == [2]
    assert commits.run_commit_version(spark, path, "old-run") == 0 and reads[1:] == [2, None]
    assert commits.run_commit_version(spark, path, "never-ran") is None
    monkeypatch.setattr(commits, "RECENT_COMMITS", 10)  # the recent read holds all 4 commits: no second read
    reads.clear()
    assert commits.run_commit_version(spark, path, "never-ran") is None and reads == [10]


def _foreign_claim(spark, lake: Path, day: dt.date, expires: dt.datetime, run_id: str) -> None:
    claims = RunClaims(spark, str(lake), "setup", "run", [day], 60)
    claims.acquire(0)
    claims.release()
    row = (day, run_id, "run", "other-host", 4242, expires - dt.timedelta(hours=1), expires)
    spark.createDataFrame([row], CLAIMS_SCHEMA).write.format("delta").mode("append").save(str(lake / "pipeline_claims"))


def test_a_live_claim_blocks_and_an_expired_one_is_taken_over_and_logged_abandoned(spark, tmp_path):
    archive, lake = _archive(tmp_path / "cim"), tmp_path / "lake"
    config = _config(archive, lake, claim_lease_seconds=30)
    now = dt.datetime.now(dt.timezone.utc)
    _foreign_claim(spark, lake, D1, now + dt.timedelta(hours=1), "live-run")
    with pytest.raises(ConcurrencyError, match="run live-run on host other-host"):
        logged_run(spark, config, D1, D2, "run")
    _foreign_claim(spark, lake, D3, now - dt.timedelta(seconds=1), "expired-run")
    logged_run(spark, config, D2, D3, "run")
    abandoned = [(r["run_id"], r["event_date"], r["status"]) for r in _runs(lake) if r["status"] == "abandoned"]
    assert abandoned == [("expired-run", D3, "abandoned")]
    assert not (lake / "smb_allowed_daily" / f"event_date={D1}").exists()


def test_a_stale_claim_of_a_run_that_logged_its_end_is_taken_over_but_not_logged_abandoned(spark, tmp_path):
    """The holder logged `succeeded`, released its days and exited between this run's read of the
    claims and its check of the holder's process: the claim looks stale, the run finished."""
    archive, lake = _archive(tmp_path / "cim"), tmp_path / "lake"
    config = _config(archive, lake, claim_lease_seconds=30)
    _foreign_claim(spark, lake, D3, dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=1), "finished-run")
    ended = {"run_id": "finished-run", "command": "run", "event_date": D3, "status": "succeeded"}
    spark.createDataFrame([ended], RUNS_SCHEMA).write.format("delta").mode("append").save(str(lake / RUNS_TABLE))
    logged_run(spark, config, D3, D3, "run")
    assert sorted((r["run_id"] == "finished-run", r["status"]) for r in _runs(lake)) == [
        (False, "running"), (False, "succeeded"), (True, "succeeded")]


def test_two_claimants_of_the_same_day_at_once_one_wins(spark, tmp_path):
    outcomes: list[str] = []
    barrier = threading.Barrier(2)

    def claim(name: str) -> None:
        claims = RunClaims(spark, str(tmp_path), name, "run", [D1, D2], 60)
        barrier.wait()
        try:
            claims.acquire(0)
            outcomes.append("won")
        except ConcurrencyError:
            outcomes.append("lost")
        except Exception as exc:  # anything else is a failure of the test, not a silent thread death
            outcomes.append(f"{type(exc).__name__}: {exc}")

    threads = [threading.Thread(target=claim, args=(name,)) for name in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["lost", "won"]


def test_a_table_whose_creator_has_not_committed_yet_is_waited_for(spark, tmp_path):
    """A racing creator's `_delta_log` exists before its first commit; the other run waits for
    that commit instead of going on to read a table that is not there (DELTA_TABLE_NOT_FOUND)."""
    path = tmp_path / "pipeline_claims"
    (path / "_delta_log").mkdir(parents=True)
    delta_io.is_delta_table(spark, str(tmp_path))  # warm: the first Delta command of a session is slow
    empty = pa.table({"event_date": pa.array([], pa.date32())})
    creator = threading.Timer(3.0, lambda: write_deltalake(str(path), empty, mode="append"))
    creator.start()
    try:
        delta_io.create_table_if_absent(spark, str(path), CLAIMS_SCHEMA)
        committed_on_return = delta_io.is_delta_table(spark, str(path))
    finally:
        creator.join()
    assert committed_on_return

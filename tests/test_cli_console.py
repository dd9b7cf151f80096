"""The console a person reads: phases and the summary, engine output in the log file, help texts,
one-line argument errors with exit code 2. Real processes, as a user runs them."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from smb_pipeline.cli.common import error_line
from smb_pipeline.demo.generate import generate_cim_archive
from smb_pipeline.demo.vendors import RENDERERS

DAY = "2026-11-01"
# Lines that only Spark, log4j, Ivy, py4j or Delta write.
ENGINE_LINE = re.compile(
    r"WARN|INFO|ERROR|log4j|ivy|:: |py4j|SparkContext|NativeCodeLoader|\[Stage|Deleted \d+ files|"
    r"artifacts|confs: \[|jdk\.incubator", re.IGNORECASE)


def _cli(*args: str, cwd: Path | None = None, timeout: int = 600) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "smb_pipeline.cli", *args], capture_output=True, text=True,
                          cwd=cwd, timeout=timeout)


@pytest.mark.parametrize("command", ["run", "backfill", "maintain", "generate", "demo"])
def test_every_command_help_has_examples_and_defaults(command):
    result = _cli(command, "--help")
    assert result.returncode == 0
    assert "examples:" in result.stdout and "(default" in result.stdout
    for flag in ("--verbose", "--quiet", "--debug", "--log-file", "--summary-json"):
        assert flag in result.stdout


def test_top_level_help_has_examples_and_exit_codes():
    text = _cli("--help").stdout
    assert "examples:" in text and "exit codes:" in text
    for code in ("0  success", "1  unreadable input", "2  invalid configuration", "3  output"):
        assert code in text


def test_generate_help_names_every_generated_format():
    text = " ".join(_cli("generate", "--help").stdout.split())
    for fmt in ("cim", *RENDERERS):
        assert fmt in text


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["generate", "--out", "x", "--rows-per-day", "50"],
         "smb-pipeline: config error: --rows-per-day: must be at least 100 (value 50)"),
        (["generate", "--out", "x", "--days", "two"], "smb-pipeline generate: argument error: argument --days"),
        (["run"], "smb-pipeline run: argument error: the following arguments are required: --config"),
        (["frobnicate"], "smb-pipeline: argument error: argument COMMAND: invalid choice: 'frobnicate'"),
    ],
)
def test_argument_errors_are_one_line_exit_2(tmp_path, args, expected):
    result = _cli(*args, cwd=tmp_path)
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1
    assert result.stderr.startswith(expected)
    assert not list(tmp_path.iterdir())  # nothing written, not even a log


def test_maintain_names_the_flag_that_set_the_retention(tmp_path):
    config = tmp_path / "c.yaml"
    config.write_text("sources: [{name: p, format: cim, path: archive}]\noutput: {path: lake}\n")
    result = _cli("maintain", "--config", str(config), "--retention-hours", "1")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "smb-pipeline: config error: --retention-hours: 1 h is below Delta's safe 168 h; readers of older "
        "versions could fail. Use --force-retention to do it anyway."]


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    """A small archive and a config with relative paths, used from another working directory."""
    root = tmp_path_factory.mktemp("console")
    generate_cim_archive(root / "project" / "archive", days=1, rows_per_day=300, seed=5,
                         first_day=__import__("datetime").date.fromisoformat(DAY))
    (root / "project" / "subnets.txt").write_text("10.0.0.0/8\n")
    (root / "project" / "c.yaml").write_text(
        "sources: [{name: edge, format: cim, path: archive}]\n"
        "company_subnets: subnets.txt\n"
        "output: {path: lake}\n"
        "reprocess_days: 0\n"
        "spark: {spark.sql.shuffle.partitions: 2, spark.ui.enabled: false}\n")
    (root / "elsewhere").mkdir()
    return root


@pytest.mark.spark
@pytest.mark.system
def test_default_console_shows_phases_and_summary_and_no_engine_line(workdir):
    cwd = workdir / "elsewhere"
    result = _cli("run", "--config", str(workdir / "project" / "c.yaml"), "--date", DAY, cwd=cwd)
    assert result.returncode == 0, result.stderr
    console = result.stdout + result.stderr
    assert [line for line in console.splitlines() if ENGINE_LINE.search(line)] == []
    assert "starting Spark" in result.stderr and "counting rows" in result.stderr
    assert re.search(r"\[\s*\d+\.\d s\] done in", result.stderr)
    assert "smb_pipeline run: 2026-11-01 .. 2026-11-01" in result.stdout and "pairs written" in result.stdout
    log = (cwd / "smb-pipeline.log").read_text()
    assert "Ivy" in log or "ivy" in log  # the engine's output went to the log file in the working directory
    assert str(cwd / "smb-pipeline.log") in result.stderr
    assert (workdir / "project" / "lake" / "smb_allowed_daily").is_dir()  # paths resolved beside the config


@pytest.mark.spark
@pytest.mark.system
def test_quiet_prints_only_the_summary_and_writes_summary_json(workdir, tmp_path):
    summary = tmp_path / "out" / "summary.json"
    log = tmp_path / "engine.log"
    result = _cli("run", "--config", str(workdir / "project" / "c.yaml"), "--date", DAY, "--quiet",
                  "--summary-json", str(summary), "--log-file", str(log), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert result.stdout.splitlines()[0] == "smb_pipeline run: 2026-11-01 .. 2026-11-01 (1 day)"
    document = json.loads(summary.read_text())
    assert (document["status"], document["exit_code"], document["command"]) == ("succeeded", 0, "run")
    (source,) = document["sources"]
    assert source["source"] == "edge" and source["rows_read"] > 0
    assert source["rows_read"] == sum(source[k] for k in ("not_allowed_smb", "rejected", "excluded", "aggregated"))
    assert document["totals"]["rows_read"] == source["rows_read"]
    assert (document["no_data"], document["files_skipped"]) == ([], [])
    assert f"{source['rows_read']:,}" in result.stdout
    assert "Ivy" in log.read_text() or "ivy" in log.read_text()


@pytest.mark.spark
@pytest.mark.system
def test_maintain_prints_only_its_report(workdir):
    cwd = workdir / "elsewhere"
    result = _cli("maintain", "--config", str(workdir / "project" / "c.yaml"), cwd=cwd)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert [line.split(":")[0] for line in lines] == ["smb_allowed_daily", "rejected_events", "smb_alerts"]
    assert all("OPTIMIZE ZORDER BY" in line for line in lines)
    assert [line for line in result.stderr.splitlines() if ENGINE_LINE.search(line)] == []


def test_traceback_only_with_debug(tmp_path):
    plain = _cli("run", "--config", str(tmp_path / "absent.yaml"), cwd=tmp_path)
    debug = _cli("--debug", "run", "--config", str(tmp_path / "absent.yaml"), cwd=tmp_path)
    message = f"smb-pipeline: config error: config: file not found: '{tmp_path / 'absent.yaml'}'"
    assert (plain.returncode, plain.stderr.strip().splitlines()) == (2, [message])
    assert debug.returncode == 2 and "Traceback (most recent call last)" in debug.stderr
    assert debug.stderr.strip().splitlines()[-1] == message


def test_a_command_run_in_process_leaves_logging_as_it_found_it(tmp_path):
    """A notebook or a test calls commands in-process: their console must not outlive them, or a
    later log record is written to a stream that is gone."""
    import argparse
    import io
    import logging

    from smb_pipeline.cli.common import run_handler

    root, library = logging.getLogger(), logging.getLogger("smb_pipeline")
    before = (list(root.handlers), root.level, list(library.handlers))
    args = argparse.Namespace(quiet=False, verbose=True, debug=False, command="probe",
                              log_file=str(tmp_path / "probe.log"), summary_json=None)
    err = io.StringIO()

    def handler(parsed):
        parsed.console.err = err
        library.info("inside the command")
        return 0

    assert run_handler(handler, args) == 0
    library.info("after the command")
    assert (list(root.handlers), root.level, list(library.handlers)) == before
    assert "inside the command" in err.getvalue() and "after the command" not in err.getvalue()
    assert "inside the command" in (tmp_path / "probe.log").read_text()


def test_a_spark_connect_error_is_told_by_its_status_and_details():
    rpc_error = RuntimeError('<_InactiveRpcError of RPC that terminated with:\n'
                             '\tstatus = StatusCode.RESOURCE_EXHAUSTED\n'
                             '\tdetails = "CLIENT: Sent message larger than max (224297363 vs. 134217728)"\n'
                             '\tdebug_error_string = "UNKNOWN:Error received from peer"\n>')
    assert error_line(rpc_error) == ("StatusCode.RESOURCE_EXHAUSTED: CLIENT: Sent message larger than max "
                                     "(224297363 vs. 134217728)")
    assert error_line(ValueError("first\nsecond")) == "first"
    assert error_line(ValueError()) == "ValueError"

"""`serve-sql` over the wire: the real command, a HiveServer2 client, SIGTERM, nothing left running.

The server is queried as a BI tool would (impyla, the Python HiveServer2 client, and the
beeline line the command prints); rows are checked against the tables read by delta-rs.
"""

from __future__ import annotations

import datetime as dt
import os
import shlex
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from deltalake import DeltaTable

from tests.bi_lake import LAST_DAY, expected_trend

pytestmark = pytest.mark.system
START_TIMEOUT_S = 420  # two JVM starts; generous for a loaded 2-core machine
TABLES = ("smb_allowed_daily", "rejected_events", "pipeline_runs", "smb_alerts")
VIEWS = ("smb_pairs_latest", "smb_daily_trend", "smb_top_sources", "smb_alerts_open")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_for(path: Path, text: str, process: subprocess.Popen) -> str:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        output = path.read_text() if path.exists() else ""
        if text in output:
            return output
        if process.poll() is not None:
            pytest.fail(f"serve-sql exited with {process.returncode}:\n{output}")
        time.sleep(1)
    pytest.fail(f"serve-sql did not print {text!r} within {START_TIMEOUT_S} s:\n{output}")


def _server_processes(port: int) -> list[int]:
    """Pids whose command line is the Thrift Server of this port (it runs in a group of its own)."""
    pids = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            text = cmdline.read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if f"hive.server2.thrift.port={port}" in text:
            pids.append(int(cmdline.parent.name))
    return pids


@pytest.fixture(scope="module")
def server(bi_lake, tmp_path_factory):
    """The command in its own process group, always stopped (SIGTERM, then SIGKILL) at the end."""
    port = _free_port()
    out = tmp_path_factory.mktemp("serve") / "stdout.txt"
    versions = {t: DeltaTable(str(bi_lake.lake / t)).version() for t in TABLES}
    with out.open("w") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "smb_pipeline.cli", "serve-sql", "--config", str(bi_lake.config_path),
             "--port", str(port), "--master", "local[2]"],
            stdout=sink, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        output = _wait_for(out, "serving;", process)
        assert _server_processes(port), "the Thrift Server should run as its own process"
        yield {"port": port, "process": process, "stdout": out, "output": output, "versions": versions}
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        for pid in _server_processes(port):  # only if the command failed to stop its server
            os.kill(pid, signal.SIGKILL)


@pytest.fixture(scope="module")
def cursor(server):
    from impala.dbapi import connect

    connection = connect(host="127.0.0.1", port=server["port"], auth_mechanism="PLAIN", user="analyst",
                         password="unused", database="smb", timeout=120)
    yield connection.cursor()
    connection.close()


def _query(cursor, sql: str) -> list[tuple]:
    cursor.execute(sql)
    return cursor.fetchall()


def test_prints_the_jdbc_url_and_a_beeline_line(server):
    output = server["output"]
    assert f"JDBC URL: jdbc:hive2://127.0.0.1:{server['port']}/smb" in output
    assert f"-u jdbc:hive2://127.0.0.1:{server['port']}/smb" in output
    for name in TABLES + VIEWS:
        assert f"smb.{name}" in output


def test_tables_and_views_are_listed_and_match_delta_rs(bi_lake, cursor):
    assert {row[1] for row in _query(cursor, "SHOW TABLES IN smb")} >= set(TABLES + VIEWS)
    pairs = {(r["event_date"], r["src_ip"], r["dest_ip"]): r["connection_count"]
             for r in bi_lake.rows("smb_allowed_daily")}
    got = _query(cursor, "SELECT event_date, src_ip, dest_ip, connection_count FROM smb_allowed_daily")
    assert {(d, s, t): c for d, s, t, c in got} == pairs
    rejects = bi_lake.rows("rejected_events")
    assert _query(cursor, "SELECT count(*) FROM rejected_events") == [(len(rejects),)]
    runs = {(r["run_id"], r["event_date"], r["rows_read"]) for r in bi_lake.rows("pipeline_runs")}
    assert set(_query(cursor, "SELECT run_id, event_date, rows_read FROM pipeline_runs")) == runs
    alerts = {(r["alert_id"], r["risk_score"]) for r in bi_lake.rows("smb_alerts")}
    assert alerts and set(_query(cursor, "SELECT alert_id, risk_score FROM smb_alerts")) == alerts


def test_views_answer_over_the_wire(bi_lake, cursor):
    trend = {row[0]: dict(zip(("pairs", "connections", "distinct_sources", "distinct_destinations", "rejects"),
                              row[1:], strict=True))
             for row in _query(cursor, "SELECT * FROM smb_daily_trend")}
    assert trend == expected_trend(bi_lake)
    latest = _query(cursor, "SELECT DISTINCT day FROM smb_pairs_latest")
    assert {row[0] for row in latest} == {LAST_DAY - dt.timedelta(days=n) for n in range(4)}  # 4 days of data
    top = _query(cursor, "SELECT source_ip, connections FROM smb_top_sources")
    sums: dict[str, int] = {}
    for row in bi_lake.rows("smb_allowed_daily"):
        sums[row["src_ip"]] = sums.get(row["src_ip"], 0) + row["connection_count"]
    assert dict(top) == sums
    open_alerts = {r["alert_id"] for r in bi_lake.rows("smb_alerts") if not r["suppressed"]}  # 4 days of data
    assert {row[0] for row in _query(cursor, "SELECT alert_id FROM smb_alerts_open")} == open_alerts


def test_the_printed_beeline_line_connects(server):
    line = next(text for text in server["output"].splitlines() if text.startswith("beeline:"))
    command = [*shlex.split(line.removeprefix("beeline:")), "--silent=true", "--outputformat=csv2",
               "-e", "SHOW TABLES"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=180, stdin=subprocess.DEVNULL)
    assert result.returncode == 0, result.stderr[-2000:]
    for name in TABLES + VIEWS:
        assert name in result.stdout


def test_sigterm_stops_everything_with_exit_0_and_no_data_changed(bi_lake, server, cursor):
    process = server["process"]
    process.send_signal(signal.SIGTERM)
    assert process.wait(90) == 0
    assert "serve-sql: stopped" in server["stdout"].read_text()
    assert _server_processes(server["port"]) == [], "the Thrift Server outlived serve-sql"
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", server["port"]), timeout=2).close()
    assert {t: DeltaTable(str(bi_lake.lake / t)).version() for t in TABLES} == server["versions"]

"""`smb-pipeline run|maintain --remote sc://...` against a real Spark Connect server on 127.0.0.1.

The server is started from the pyspark distribution with Delta configured on it (tests/connect_server.py)
and always stopped (fixture finalizer; its whole process group is killed). The tables the run
writes through Connect must equal, read by a second Delta reader (delta-rs), those of the same
config run in local mode in this process. `pytest -m cluster -s` shows the timings.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from deltalake import DeltaTable

from smb_pipeline.config import load_config
from smb_pipeline.demo.generate import COMPANY_SUBNETS, generate_cim_archive
from smb_pipeline.model.schemas import PAIRS_TABLE, REJECTS_TABLE
from smb_pipeline.run.pipeline import run_pipeline
from tests.connect_server import ConnectServer

pytestmark = [
    pytest.mark.cluster,
    pytest.mark.system,  # starts a server and CLI processes: make test-system
    pytest.mark.skipif(shutil.which("java") is None and "JAVA_HOME" not in os.environ,
                       reason="a Spark Connect server needs Java 17+"),
]

FIRST_DAY = dt.date(2026, 11, 1)
DAYS = 2
ROWS_PER_DAY = 1_000
COMMAND_TIMEOUT = 600  # seconds, on a loaded 2-core machine


@pytest.fixture(scope="module")
def connect_server(tmp_path_factory, request):
    server = ConnectServer(tmp_path_factory.mktemp("connect"))
    request.addfinalizer(server.stop)  # registered before starting: a failed start is stopped too
    began = time.monotonic()
    server.start()
    print(f"Spark Connect server up at {server.url} in {time.monotonic() - began:.0f} s")
    return server


def write_config(path: Path, archive: Path, lake: Path) -> Path:
    document = {
        "sources": [{"name": "perimeter", "format": "cim", "path": str(archive)}],
        "company_subnets": list(COMPANY_SUBNETS),
        "exclude_company": "source",
        "output": {"path": str(lake)},
        "reprocess_days": 0,
        "spark": {"spark.sql.shuffle.partitions": 4},
    }
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


def cli(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    smb_pipeline = Path(sys.executable).with_name("smb-pipeline")
    began = time.monotonic()
    done = subprocess.run([str(smb_pipeline), *args], cwd=cwd, capture_output=True, text=True,
                          env={**os.environ, "TZ": "UTC"}, timeout=COMMAND_TIMEOUT)
    print(f"smb-pipeline {args[0]}: exit {done.returncode} in {time.monotonic() - began:.0f} s")
    return done


def delta_rows(path: Path) -> list:
    """The table's rows as read by delta-rs, in a stable order."""
    return sorted(DeltaTable(str(path)).to_pyarrow_table().to_pylist(), key=repr)


def test_run_and_maintain_over_spark_connect_match_local_mode(connect_server, tmp_path, request):
    archive = tmp_path / "archive" / "perimeter"
    days = generate_cim_archive(archive, DAYS, ROWS_PER_DAY, seed=11, first_day=FIRST_DAY)
    config_path = write_config(tmp_path / "connect.yaml", archive, tmp_path / "lake_connect")

    run = cli(["run", "--config", str(config_path), "--start", days[0].isoformat(), "--end", days[-1].isoformat(),
               "--remote", connect_server.url], tmp_path)
    output = run.stdout + run.stderr
    assert run.returncode == 0, f"{output[-3000:]}\n--- server\n{connect_server.log.read_text()[-3000:]}"
    assert f"connecting to Spark Connect at {connect_server.url}" in output
    assert "pairs written" in run.stdout
    assert "Traceback" not in output and " WARN " not in output  # engine chatter stays in the log file

    maintain = cli(["maintain", "--config", str(config_path), "--remote", connect_server.url], tmp_path)
    assert maintain.returncode == 0, (maintain.stdout + maintain.stderr)[-3000:]
    assert "smb_allowed_daily:" in maintain.stdout and "OPTIMIZE ZORDER BY" in maintain.stdout

    # The same config in local mode, in this process.
    spark = request.getfixturevalue("spark")
    config = load_config(config_path)
    local = config.model_copy(update={"output": config.output.model_copy(update={"path": str(tmp_path / "lake")})})
    assert run_pipeline(spark, local, days[0], days[-1]).pairs_written > 0

    for table in (PAIRS_TABLE, REJECTS_TABLE):
        over_connect = delta_rows(tmp_path / "lake_connect" / table)
        in_local = delta_rows(tmp_path / "lake" / table)
        assert over_connect, f"{table}: the Spark Connect run wrote nothing"
        assert over_connect == in_local, f"{table}: Spark Connect and local-mode rows differ"
        print(f"{table}: {len(over_connect)} rows, equal over Spark Connect and in local mode")

    runs = DeltaTable(str(tmp_path / "lake_connect" / "pipeline_runs")).to_pyarrow_table().to_pylist()
    assert {(r["event_date"], r["status"]) for r in runs} == {(d, s) for d in days for s in ("running", "succeeded")}
    claims = DeltaTable(str(tmp_path / "lake_connect" / "pipeline_claims")).to_pyarrow_table()
    assert claims.num_rows == 0  # released through MERGE/DELETE over Connect

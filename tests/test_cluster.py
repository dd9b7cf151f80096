"""The nightly job under spark-submit on a real standalone cluster (1 master, 2 workers on 127.0.0.1).

The package is shipped the way a cluster gets it, as a --py-files zip, and Delta's jars with
--packages. The tables the cluster writes must equal those of the same config run in local
mode in this process. Takes a few minutes: `pytest -m cluster -s`.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import yaml

import smb_pipeline
from smb_pipeline.config import load_config
from smb_pipeline.demo.generate import COMPANY_SUBNETS, generate_cim_archive
from smb_pipeline.engine.session import DELTA_MAVEN_PACKAGE
from smb_pipeline.model.schemas import PAIRS_TABLE, REJECTS_TABLE
from smb_pipeline.run.pipeline import run_pipeline
from tests.standalone_cluster import PYSPARK_HOME, StandaloneCluster, spark_env, tail, zip_package

pytestmark = [
    pytest.mark.cluster,
    pytest.mark.system,
    pytest.mark.skipif(shutil.which("java") is None and "JAVA_HOME" not in os.environ,
                       reason="a standalone cluster needs Java 17+"),
]

REPO = Path(__file__).resolve().parents[1]
JOB = REPO / "jobs" / "smb_traffic_allowed.py"
FIRST_DAY = dt.date(2026, 11, 1)
DAYS = 2
ROWS_PER_DAY = 2_000
SUBMIT_TIMEOUT = 900  # seconds; a loaded 2-core CI machine is slow (see the closing note of 2026-12-02)

# Runs on the executors, with yaml and pydantic made unimportable there: what an executor
# imports of smb_pipeline must come from the --py-files zip and need neither.
PROBE = textwrap.dedent(
    '''
    import json
    import sys

    from pyspark.sql import SparkSession

    DRIVER_ONLY = ("yaml", "pydantic")


    def probe(index, rows):
        import importlib.abc
        import os
        import sys

        class DriverOnly(importlib.abc.MetaPathFinder):
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] in DRIVER_ONLY:
                    raise ImportError(f"{name} must not be needed on an executor")
                return None

        for name in list(sys.modules):
            if name.split(".")[0] in DRIVER_ONLY or name.split(".")[0] == "smb_pipeline":
                del sys.modules[name]
        sys.meta_path.insert(0, DriverOnly())
        import smb_pipeline
        import smb_pipeline.transforms.aggregate
        import smb_pipeline.formats
        import smb_pipeline.transforms.ip
        import smb_pipeline.transforms.validate

        yield {"partition": index, "package": smb_pipeline.__file__, "cwd": os.getcwd(),
               "yaml_loaded": "yaml" in sys.modules, "pydantic_loaded": "pydantic" in sys.modules}


    spark = SparkSession.builder.appName("smb_pipeline probe").getOrCreate()
    found = spark.sparkContext.parallelize(range(4), 4).mapPartitionsWithIndex(probe).collect()
    print("PROBE " + json.dumps({"master": spark.sparkContext.master, "executors": found}))
    spark.stop()
    '''
)


def write_config(path: Path, archive: Path, lake: Path) -> Path:
    document = {
        "sources": [{"name": "perimeter", "format": "cim", "path": str(archive)}],
        "company_subnets": list(COMPANY_SUBNETS),
        "exclude_company": "source",
        "output": {"path": str(lake)},
        "reprocess_days": 0,
        "delta_packages": True,
        "spark": {
            "spark.sql.shuffle.partitions": 4,
            "spark.default.parallelism": 2,
            "spark.ui.enabled": False,
            "spark.ui.showConsoleProgress": False,
        },
    }
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


def spark_submit(cluster: StandaloneCluster, py_files: Path, app: Path, args: list[str], log: Path):
    """spark-submit in client mode against the cluster; stdout/stderr go to `log`.{out,err}."""
    command = [
        str(PYSPARK_HOME / "bin" / "spark-submit"),
        "--master", cluster.master_url,
        "--packages", DELTA_MAVEN_PACKAGE,
        "--conf", "spark.executor.memory=1g",
        "--conf", "spark.executor.cores=1",
        "--conf", "spark.driver.host=127.0.0.1",
        "--conf", "spark.ui.enabled=false",
        "--py-files", str(py_files),
        str(app), *args,
    ]
    env = spark_env(PYSPARK_PYTHON=sys.executable, PYSPARK_DRIVER_PYTHON=sys.executable, TZ="UTC")
    began = time.monotonic()
    out, err = log.with_suffix(".out"), log.with_suffix(".err")
    with open(out, "wb") as stdout, open(err, "wb") as stderr:
        try:
            code = subprocess.run(command, cwd=REPO, env=env, stdout=stdout, stderr=stderr,
                                  timeout=SUBMIT_TIMEOUT).returncode
        except subprocess.TimeoutExpired:
            code = None
    print(f"spark-submit {app.name}: exit {code} in {time.monotonic() - began:.0f} s")
    if code != 0:
        pytest.fail(f"spark-submit {app.name} exited {code}\n--- stderr tail\n{tail(err, 80)}\n"
                    f"--- stdout tail\n{tail(out, 20)}\n--- cluster\n{cluster.logs(15)}")
    return out.read_text()


def sorted_rows(spark, path: str) -> list:
    return sorted(spark.read.format("delta").load(path).collect(), key=repr)


def test_job_on_standalone_cluster_matches_local_mode(tmp_path, request):
    archive = tmp_path / "archive" / "perimeter"
    days = generate_cim_archive(archive, DAYS, ROWS_PER_DAY, seed=11, first_day=FIRST_DAY)
    start, end = days[0].isoformat(), days[-1].isoformat()
    config_path = write_config(tmp_path / "cluster.yaml", archive, tmp_path / "lake_cluster")
    py_files = zip_package(Path(smb_pipeline.__file__).parent, tmp_path / "smb_pipeline.zip")
    probe = tmp_path / "probe.py"
    probe.write_text(PROBE)

    with StandaloneCluster(tmp_path / "cluster", workers=2) as cluster:
        print(f"cluster up: {cluster.master_url}, {cluster.alive_workers()} workers ALIVE")
        output = spark_submit(cluster, py_files, probe, [], tmp_path / "probe")
        probe_line = next(line for line in output.splitlines() if line.startswith("PROBE "))
        found = json.loads(probe_line[len("PROBE "):])
        assert found["master"] == cluster.master_url
        for executor in found["executors"]:
            assert "smb_pipeline.zip" in executor["package"], executor
            assert str(tmp_path / "cluster" / "worker-") in executor["cwd"], executor
            assert not executor["yaml_loaded"] and not executor["pydantic_loaded"], executor

        output = spark_submit(cluster, py_files, JOB,
                              ["--config", str(config_path), "--start", start, "--end", end], tmp_path / "job")
        print(output[-2000:])
        apps = {app["name"] for app in cluster.state().get("completedapps", [])}
        assert {"smb_pipeline probe", "smb_pipeline run"} <= apps, apps

    # The same config in local mode, in this process, after the cluster is gone.
    spark = request.getfixturevalue("spark")
    config = load_config(config_path)
    local_output = config.output.model_copy(update={"path": str(tmp_path / "lake_local")})
    local = config.model_copy(update={"output": local_output})
    result = run_pipeline(spark, local, days[0], days[-1])
    assert result.pairs_written > 0

    for table in (PAIRS_TABLE, REJECTS_TABLE):
        on_cluster = sorted_rows(spark, config.output.table_path(table))
        in_local = sorted_rows(spark, local.output.table_path(table))
        assert on_cluster, f"{table}: the cluster run wrote nothing"
        assert on_cluster == in_local, f"{table}: cluster and local-mode rows differ"
        print(f"{table}: {len(on_cluster)} rows, equal on the cluster and in local mode")

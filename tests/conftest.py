"""Shared fixtures: one small, fast Spark session with Delta for the whole test run."""

from __future__ import annotations

import os
import signal
import time

import pytest

from smb_pipeline.engine.session import build_spark_session

TEST_SPARK_CONF = {
    "spark.sql.shuffle.partitions": "2",
    "spark.default.parallelism": "2",
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.adaptive.enabled": "true",
    "spark.driver.memory": "2g",
    "spark.databricks.delta.snapshotPartitions": "2",
}


def _stop_on_sigterm(signum, frame):
    """A CI timeout or a `kill` ends the test run like Ctrl-C: fixtures and context managers unwind
    and stop the clusters and servers they started, instead of leaving them running."""
    raise KeyboardInterrupt(f"signal {signum}")


signal.signal(signal.SIGTERM, _stop_on_sigterm)

# Spark returns timestamps to Python in the process's local zone; tests compare UTC wall clocks.
# pyspark.testing imports pyspark.pandas, which warns unless this is set before a session starts.
os.environ.setdefault("PYARROW_IGNORE_TIMEZONE", "1")
os.environ["TZ"] = "UTC"
time.tzset()


def pytest_collection_modifyitems(items):
    """Mark every test that needs Spark as `spark`, so that `pytest -m "not spark"` runs the pure-Python
    tests in seconds: those using the session (directly or through a fixture) and those that start
    Spark in other processes (`system`)."""
    for item in items:
        if "spark" in getattr(item, "fixturenames", ()) or item.get_closest_marker("system"):
            item.add_marker(pytest.mark.spark)


@pytest.fixture(scope="session")
def spark(tmp_path_factory):
    conf = {**TEST_SPARK_CONF, "spark.sql.warehouse.dir": str(tmp_path_factory.mktemp("warehouse"))}
    session = build_spark_session("smb_pipeline_tests", master="local[2]", spark_conf=conf)
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


@pytest.fixture(scope="session")
def bi_lake(spark, tmp_path_factory):
    """Four days of generated data run through the job, for the analysts' tests (tests/bi_lake.py)."""
    from tests.bi_lake import make_bi_lake

    return make_bi_lake(spark, tmp_path_factory.mktemp("bi"))

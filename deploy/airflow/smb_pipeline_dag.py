"""Airflow DAG: the nightly allowed-SMB job, submitted with spark-submit (docs/operations_cluster.md).

Needs apache-airflow-providers-apache-spark and a Spark connection `spark_smb`, e.g. host `yarn`
with extra {"deploy-mode": "cluster", "queue": "security"}; spark-submit must be on the Airflow
worker's PATH (or `spark-home` in the connection's extra).

Dates: the schedule is an explicit CronDataIntervalTimetable, so the run for day D starts at
02:00 UTC on D+1 and `{{ ds }}` (the logical date = the start of the data interval) is D, the
day being processed, on Airflow 2 and 3 alike. (A plain cron string on Airflow 3 means a
CronTriggerTimetable, whose `ds` is the day the run starts: the job would process a day that is
not over yet.) The job also redoes the config's `reprocess_days` before D, for late logs.

No catchup: a missed night is covered by the next runs' reprocess_days; for longer gaps, use
`smb-pipeline backfill` or trigger the DAG with a logical date. Retries are safe: a run replaces
its days in the Delta tables, all or nothing.
"""

from __future__ import annotations

import datetime as dt

from airflow.providers.apache.spark.operators.spark_submit import SparkSubmitOperator
from airflow.timetables.interval import CronDataIntervalTimetable

try:  # Airflow 3
    from airflow.sdk import DAG
except ImportError:  # Airflow 2.4+
    from airflow import DAG

# Where the deploy puts a checkout of this repository (jobs/, conf/) and the build in dist/:
#   zip -r dist/smb_pipeline.zip smb_pipeline
#   venv-pack -o dist/smb_pipeline_env.tar.gz   (a venv with pyyaml and pydantic: driver-only deps)
APP_DIR = "/opt/smb_pipeline"
CONFIG_FILE = f"{APP_DIR}/conf/production.yaml"  # delta_packages: false (--packages below ships Delta)
DELTA_PACKAGE = "io.delta:delta-spark_2.13:4.0.1"  # = smb_pipeline.engine.session.DELTA_MAVEN_PACKAGE

with DAG(
    dag_id="smb_traffic_allowed",
    description="Daily Delta tables of allowed SMB traffic from the firewall-log archives",
    schedule=CronDataIntervalTimetable("0 2 * * *", timezone="UTC"),
    start_date=dt.datetime(2026, 11, 1, tzinfo=dt.timezone.utc),
    catchup=False,
    max_active_runs=1,  # two runs writing the same Delta tables would conflict
    default_args={
        "owner": "data-platform",
        "retries": 2,
        "retry_delay": dt.timedelta(minutes=15),
        "execution_timeout": dt.timedelta(hours=4),
    },
    tags=["smb_pipeline", "security", "spark"],
) as dag:
    SparkSubmitOperator(
        task_id="smb_traffic_allowed",
        conn_id="spark_smb",
        name="smb_traffic_allowed_{{ ds_nodash }}",
        application=f"{APP_DIR}/jobs/smb_traffic_allowed.py",
        # In cluster mode the config is shipped to the driver's working directory: pass its base name.
        files=CONFIG_FILE,
        application_args=["--config", "production.yaml", "--date", "{{ ds }}"],
        packages=DELTA_PACKAGE,
        py_files=f"{APP_DIR}/dist/smb_pipeline.zip",
        archives=f"{APP_DIR}/dist/smb_pipeline_env.tar.gz#environment",
        # The packed venv (driver and executors in YARN cluster mode) provides pyyaml and pydantic.
        conf={"spark.pyspark.python": "./environment/bin/python"},
        num_executors=8,
        executor_cores=4,
        executor_memory="8g",
        driver_memory="4g",
        verbose=False,
    )

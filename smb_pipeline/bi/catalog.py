"""Register the project's tables and views in a catalog database, for SQL and BI tools.

Registration is idempotent and never touches the data: a table is `CREATE TABLE IF NOT
EXISTS ... USING DELTA LOCATION` over its path (Delta reads the schema from the table's own
log, no commit is written), a view is `CREATE OR REPLACE VIEW`. A table whose path holds no
Delta table yet is skipped with a note, and so is every view built on it.

`python -m smb_pipeline.bi.catalog` runs the registration in a process of its own: the
embedded Derby metastore admits one JVM at a time, and PySpark keeps its JVM until Python
exits, so `serve-sql` registers in a child that exits before the Thrift Server opens Derby.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from smb_pipeline.alerts.schema import ALERTS_TABLE
from smb_pipeline.bi.views import LATEST_DAYS_DEFAULT, VIEWS, quote, view_query
from smb_pipeline.config import PipelineConfig, load_config
from smb_pipeline.model.schemas import PAIRS_TABLE, REJECTS_TABLE

RUNS_TABLE = "pipeline_runs"  # smb_pipeline.operations.runlog.RUNS_TABLE; not imported to keep this module light
TABLES = (PAIRS_TABLE, REJECTS_TABLE, RUNS_TABLE, ALERTS_TABLE)
DEFAULT_DATABASE = "smb"

# Keys by which a config names its own metastore or catalog; with any of them the embedded Derby stays off.
EXTERNAL_METASTORE_KEYS = (
    "spark.hadoop.hive.metastore.uris",
    "spark.hadoop.javax.jdo.option.ConnectionURL",
    "spark.sql.catalogImplementation",
    "spark.sql.catalog.spark_catalog.type",
)


def is_local(path: str) -> bool:
    return "://" not in path or path.startswith("file:")


def absolute_output(config: PipelineConfig) -> PipelineConfig:
    """The config with a relative local output path made absolute: a catalog stores absolute locations."""
    path = config.output.path
    if not is_local(path) or path.startswith("file:"):
        return config
    output = config.output.model_copy(update={"path": str(Path(path).resolve())})
    return config.model_copy(update={"output": output})


def catalog_dir(config: PipelineConfig) -> Path:
    """Where the embedded metastore lives: beside the tables when they are local, else here."""
    path = config.output.path
    if is_local(path):
        return Path(path.removeprefix("file:")).resolve() / "_metastore"
    return Path("smb_metastore").resolve()


def metastore_conf(config: PipelineConfig, directory: Path) -> dict[str, str]:
    """Spark conf for an embedded Derby metastore in `directory`, unless the config names its own."""
    if any(key in config.spark for key in EXTERNAL_METASTORE_KEYS):
        return {}
    conf = {"spark.hadoop.javax.jdo.option.ConnectionURL":
            f"jdbc:derby:;databaseName={directory / 'metastore_db'};create=true"}
    if "spark.sql.warehouse.dir" not in config.spark:
        conf["spark.sql.warehouse.dir"] = str(directory / "warehouse")
    options = config.spark.get("spark.driver.extraJavaOptions", "")
    conf["spark.driver.extraJavaOptions"] = f"{options} -Dderby.system.home={directory}".strip()
    return conf


def register_catalog(spark, config: PipelineConfig, database: str, days: int = LATEST_DAYS_DEFAULT,
                     exists=None) -> list[str]:
    """Register the tables that exist and the views they allow; return one note per step.

    `exists(path) -> bool` tells whether a Delta table is there (default: Delta's own check).
    """
    from smb_pipeline.storage import delta_io, registration

    exists = exists or (lambda path: delta_io.is_delta_table(spark, path))
    db = quote(database)
    registration.create_database(spark, database)
    notes, present = [], set()
    for table in TABLES:
        path = config.output.table_path(table)
        if not exists(path):
            notes.append(f"table {database}.{table}: skipped, no Delta table at {path} yet")
            continue
        registration.register_table(spark, database, table, path)
        present.add(table)
        notes.append(f"table {database}.{table} -> {path}")
    refs = {table: f"{db}.{quote(table)}" for table in present}
    for view in VIEWS:
        missing = [t for t in view.tables if t not in present]
        if missing:
            notes.append(f"view {database}.{view.name}: skipped, needs {', '.join(missing)}")
            continue
        spark.sql(f"CREATE OR REPLACE VIEW {db}.{quote(view.name)} AS {view_query(view, refs, days)}")
        notes.append(f"view {database}.{view.name}")
    return notes


def registration_session(config: PipelineConfig, conf: Mapping[str, str]):
    """A Hive-catalog session with Delta, for registration; Delta's jars resolved as in every run."""
    from smb_pipeline.engine.session import session_builder

    builder = session_builder("smb_pipeline serve-sql: register", master="local[1]",
                              spark_conf={**config.spark, **conf}, delta_packages=config.delta_packages)
    return builder.config("spark.ui.enabled", "false").enableHiveSupport().getOrCreate()


def main(argv: Sequence[str] | None = None) -> int:
    """Child process of `serve-sql`: register, then print one JSON line (notes, resolved jars)."""
    parser = argparse.ArgumentParser(prog="python -m smb_pipeline.bi.catalog")
    parser.add_argument("--config", required=True)
    parser.add_argument("--database", default=DEFAULT_DATABASE)
    parser.add_argument("--days", type=int, default=LATEST_DAYS_DEFAULT)
    args = parser.parse_args(argv)
    config = absolute_output(load_config(args.config))
    spark = registration_session(config, metastore_conf(config, catalog_dir(config)))
    notes = register_catalog(spark, config, args.database, args.days)
    jars = [j for j in spark.conf.get("spark.jars", "").split(",") if j]
    spark.stop()
    print(json.dumps({"notes": notes, "jars": jars}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

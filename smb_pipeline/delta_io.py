"""All Delta Lake I/O: day-replacing writes, versions, compensating commits, catalog registration."""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from delta import exceptions as delta_exceptions
from delta.tables import DeltaTable
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql.types import StructType

from smb_pipeline.errors import StorageError
from smb_pipeline.session import DELTA_MAVEN_PACKAGE

PARTITION = "event_date"
# Every commit of a run carries its run id (Delta's commitInfo.userMetadata), so that an undo
# finds the run's own commits in the table history, whoever else committed in between.
USER_METADATA_CONF = "spark.databricks.delta.commitInfo.userMetadata"
DELTA_FIX = (f"Delta Lake is not available in the Spark session: add --packages {DELTA_MAVEN_PACKAGE} "
             "to spark-submit (or use a platform that ships Delta)")

CREATE_ATTEMPTS = 6  # about 8 s of waiting for a racing creator

log = logging.getLogger("smb_pipeline")

_CONFLICTS = (
    delta_exceptions.DeltaConcurrentModificationException,
    delta_exceptions.ConcurrentWriteException,
    delta_exceptions.MetadataChangedException,
    delta_exceptions.ProtocolChangedException,
    delta_exceptions.ConcurrentAppendException,
    delta_exceptions.ConcurrentDeleteReadException,
    delta_exceptions.ConcurrentDeleteDeleteException,
    delta_exceptions.ConcurrentTransactionException,
)


def is_concurrent_modification(exc: BaseException) -> bool:
    """A commit lost Delta's optimistic concurrency check (or raced to create the table)."""
    if isinstance(exc, _CONFLICTS):
        return True
    text = str(exc)
    return any(name in text for name in ("ConcurrentAppendException", "ConcurrentDeleteReadException",
                                         "ConcurrentDeleteDeleteException", "ProtocolChangedException",
                                         "MetadataChangedException", "ConcurrentTransactionException",
                                         "DELTA_CONCURRENT", "FileAlreadyExistsException"))


def is_delta_missing(exc: BaseException) -> bool:
    text = str(exc)
    return "'JavaPackage' object is not callable" in text or ("DATA_SOURCE_NOT_FOUND" in text and "delta" in text)


def table_version(spark: SparkSession, path: str) -> int | None:
    """The current version of the Delta table at `path`, or None when there is none yet."""
    if not DeltaTable.isDeltaTable(spark, path):
        return None
    return DeltaTable.forPath(spark, path).history(1).head()["version"]


def create_table_if_absent(spark: SparkSession, path: str, schema: StructType,
                           properties: Mapping[str, str] | None = None, partitioned_by: tuple[str, ...] = ()) -> None:
    """Create an empty table at `path` unless one exists; the first write of a run, so that an
    unwritable output or a session without Delta fails before any computation (StorageError)."""
    for attempt in range(CREATE_ATTEMPTS):
        try:
            if DeltaTable.isDeltaTable(spark, path):
                return
            builder = DeltaTable.createIfNotExists(spark).location(path).addColumns(schema)
            if partitioned_by:
                builder = builder.partitionedBy(*partitioned_by)
            for key, value in (properties or {}).items():
                builder = builder.property(key, value)
            builder.execute()
            return
        except Exception as exc:
            if attempt + 1 < CREATE_ATTEMPTS and _racing_creation(exc):
                time.sleep(0.25 * 2 ** attempt)  # another run is creating it right now; look again
                continue
            if is_delta_missing(exc):
                raise StorageError(DELTA_FIX) from None
            raise StorageError(f"output {path}: cannot create the table: {_first_line(exc)}") from None


def _racing_creation(exc: BaseException) -> bool:
    """Another run created the table at the same moment: its commit won, or its `_delta_log`
    directory exists while its first commit is not written yet (then the location looks
    non-empty but is no table). A location that stays so after the retries is reported."""
    return is_concurrent_modification(exc) or "DELTA_CREATE_TABLE_WITH_NON_EMPTY_LOCATION" in str(exc)


def _first_line(exc: BaseException) -> str:
    lines = [line for line in str(exc).splitlines() if line.strip() and not line.startswith("\tat ")]
    return lines[0].strip()[:300] if lines else type(exc).__name__


def days_predicate(start: dt.date, end: dt.date) -> str:
    return f"{PARTITION} >= '{start.isoformat()}' AND {PARTITION} <= '{end.isoformat()}'"


def replace_days(frame: DataFrame, path: str, start: dt.date, end: dt.date,
                 options: Mapping[str, str] | None = None) -> int:
    """Overwrite the days start..end of a day-partitioned table with `frame`; other days stay.

    Rerunning a day replaces it, never duplicates it; a day with no rows becomes empty.
    One file per day partition: daily pair tables are small, and BI tools suffer from
    many tiny files. Runs on disjoint days do not conflict: the predicate is on the
    partition column, so each commit reads (and removes) only its own days' files. Two
    runs creating the table at once race for version 0; the loser writes again.
    New columns are added to the table (mergeSchema): older days read them as null.
    `options`: table properties for a table this write creates (e.g. the change data feed).
    """
    for attempt in range(3):
        try:
            (
                frame.repartition(PARTITION)
                .write.format("delta")
                .mode("overwrite")
                .option("replaceWhere", days_predicate(start, end))
                .option("mergeSchema", "true")
                .options(**(options or {}))
                .partitionBy(PARTITION)
                .save(path)
            )
            break
        except Exception as exc:
            if attempt == 2 or not is_concurrent_modification(exc):
                raise
    return table_version(frame.sparkSession, path)  # type: ignore[return-value]


def run_commit_version(spark: SparkSession, path: str, run_id: str) -> int | None:
    """The latest version of the table committed by run `run_id`, or None if it committed none."""
    if not DeltaTable.isDeltaTable(spark, path):
        return None
    history = DeltaTable.forPath(spark, path).history().filter(f"userMetadata = '{run_id}'")
    row = history.agg({"version": "max"}).head()  # a few rows of commit metadata
    return row[0] if row else None


def undo_days(spark: SparkSession, path: str, run_id: str, start: dt.date, end: dt.date) -> int | None:
    """A compensating commit: the days start..end as they were before the run's own commit.

    Reads those days at the version before the run's commit (time travel) and replaces just
    those days with them; a table the run created gets those days emptied. Commits of other
    runs (other days) stay. Returns the new version, or None when the run committed nothing.
    """
    version = run_commit_version(spark, path, run_id)
    if version is None:
        return None
    predicate = days_predicate(start, end)
    if version == 0:
        DeltaTable.forPath(spark, path).delete(predicate)
    else:
        before = spark.read.format("delta").option("versionAsOf", version - 1).load(path).where(predicate)
        (before.write.format("delta").mode("overwrite").option("replaceWhere", predicate)
         .partitionBy(PARTITION).save(path))
    log.warning("undid run %s's days %s..%s in %s (from version %d)", run_id, start, end, path, version - 1)
    return table_version(spark, path)


def register_table(spark: SparkSession, database: str, table: str, path: str) -> None:
    """Make a path-based table visible to SQL and BI tools under `database.table`."""
    spark.sql(f"CREATE DATABASE IF NOT EXISTS `{database}`")
    spark.sql(f"CREATE TABLE IF NOT EXISTS `{database}`.`{table}` USING DELTA LOCATION '{path}'")


@contextmanager
def commits_tagged(spark: SparkSession, run_id: str) -> Iterator[None]:
    """Every Delta commit of the session within carries `run_id` as its commitInfo.userMetadata."""
    previous = spark.conf.get(USER_METADATA_CONF, None)
    spark.conf.set(USER_METADATA_CONF, run_id)
    try:
        yield
    finally:
        if previous is None:
            spark.conf.unset(USER_METADATA_CONF)
        else:
            spark.conf.set(USER_METADATA_CONF, previous)


CHANGE_FEED = "delta.enableChangeDataFeed"


def enable_change_feed(spark: SparkSession, path: str) -> None:
    """Turn on the change data feed of an existing table that lacks it (one metadata commit, once);
    a table created later gets it from its writer's options (`replace_days(..., options=...)`)."""
    if not DeltaTable.isDeltaTable(spark, path):
        return
    properties = DeltaTable.forPath(spark, path).detail().select("properties").head()[0] or {}
    if properties.get(CHANGE_FEED) != "true":
        spark.sql(f"ALTER TABLE delta.`{path}` SET TBLPROPERTIES ({CHANGE_FEED} = true)")

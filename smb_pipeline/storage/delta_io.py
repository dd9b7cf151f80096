"""Delta tables by path: creation, day-replacing writes, appends, row changes, versions, history,
the change feed. SQL and the DataFrame API only (see `storage`); a run's tagged commits and their
undo are in `storage.commits`, catalog registration in `storage.registration`."""

from __future__ import annotations

import datetime as dt
import logging
import time
import uuid
from collections.abc import Mapping

from delta import exceptions as delta_exceptions
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql.types import StructField, StructType

from smb_pipeline.engine.session import DELTA_MAVEN_PACKAGE
from smb_pipeline.errors import StorageError

PARTITION = "event_date"
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
    """The session has no Delta: its SQL (`delta.`path``, DESCRIBE HISTORY/DETAIL) or data source
    is unknown."""
    text = str(exc)
    # Without Delta's extension, Spark reads DESCRIBE DETAIL/HISTORY as DESCRIBE of a table `DETAIL`
    # or `HISTORY`, and cannot parse DESCRIBE HISTORY ... LIMIT n at all.
    no_detail = "TABLE_OR_VIEW_NOT_FOUND" in text and ("`DETAIL`" in text or "`HISTORY`" in text)
    no_history_limit = "PARSE_SYNTAX_ERROR" in text and "'LIMIT'" in text and "DESCRIBE HISTORY" in text
    unknown_command = no_detail or no_history_limit
    # With the catalog configured but its jar absent, any SQL on a table fails to load the catalog.
    no_catalog = "Cannot find catalog plugin class" in text and "DeltaCatalog" in text
    return ("'JavaPackage' object is not callable" in text or unknown_command or no_catalog
            or ("DATA_SOURCE_NOT_FOUND" in text and "delta" in text.lower()))


# Delta's answers for a path that holds no Delta table (yet): missing, empty, or other files.
_NOT_A_TABLE = ("DELTA_MISSING_DELTA_TABLE", "DELTA_TABLE_NOT_FOUND", "PATH_NOT_FOUND", "is not a Delta table")


def table_ref(path: str) -> str:
    """A path-based Delta table in SQL: delta.`path` (backticks in the path doubled)."""
    return "delta.`" + path.replace("`", "``") + "`"


def sql_string(value: str) -> str:
    """A SQL string literal."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def is_absent(exc: BaseException) -> bool:
    """Whether `exc` is Delta's answer for a path that holds no Delta table (yet)."""
    return any(marker in str(exc) for marker in _NOT_A_TABLE)


def is_delta_table(spark: SparkSession, path: str) -> bool:
    """Whether a Delta table (with at least one commit) is at `path`.

    From the log's latest commit (`table_version`), not DESCRIBE DETAIL, which computes the
    table's file state (a job of 50 tasks, about a second on a small table).
    """
    return table_version(spark, path) is not None


def table_history(spark: SparkSession, path: str, limit: int | None = None) -> DataFrame:
    """Delta's commit history of the table (DESCRIBE HISTORY), newest first."""
    return spark.sql(f"DESCRIBE HISTORY {table_ref(path)}" + (f" LIMIT {int(limit)}" if limit else ""))


def table_detail(spark: SparkSession, path: str) -> DataFrame:
    """Delta's one-row description of the table (DESCRIBE DETAIL): numFiles, sizeInBytes, ...
    It computes the table's file state: for metadata alone, see `table_property`."""
    return spark.sql(f"DESCRIBE DETAIL {table_ref(path)}")


def table_property(spark: SparkSession, path: str, key: str) -> str | None:
    """A table property's value, or None when unset, from the table's metadata alone."""
    row = spark.sql(f"SHOW TBLPROPERTIES {table_ref(path)}").filter(f"key = {sql_string(key)}").head()
    return row[1] if row else None


def table_version(spark: SparkSession, path: str) -> int | None:
    """The current version of the Delta table at `path`, or None when there is none yet."""
    try:
        row = table_history(spark, path, 1).select("version").head()
    except Exception as exc:
        if is_absent(exc):
            return None
        raise
    return row[0] if row else None


def read_table(spark: SparkSession, path: str, version: int | None = None) -> DataFrame:
    """The table at `path` (at `version`, with time travel, when given)."""
    reader = spark.read.format("delta")
    if version is not None:
        reader = reader.option("versionAsOf", version)
    return reader.load(path)


def read_table_if_exists(spark: SparkSession, path: str) -> DataFrame | None:
    """The table at `path`, or None when there is no Delta table there yet."""
    return read_table(spark, path) if is_delta_table(spark, path) else None


def _column_ddl(field: StructField) -> str:
    name = "`" + field.name.replace("`", "``") + "`"
    return f"{name} {field.dataType.simpleString()}" + ("" if field.nullable else " NOT NULL")


def _create_sql(path: str, schema: StructType, properties: Mapping[str, str] | None,
                partitioned_by: tuple[str, ...] = ()) -> str:
    columns = ", ".join(_column_ddl(field) for field in schema.fields)
    sql = f"CREATE TABLE IF NOT EXISTS {table_ref(path)} ({columns}) USING DELTA"
    if partitioned_by:
        sql += " PARTITIONED BY (" + ", ".join(f"`{name}`" for name in partitioned_by) + ")"
    if properties:
        sql += " TBLPROPERTIES (" + ", ".join(f"{sql_string(k)} = {sql_string(v)}"
                                              for k, v in properties.items()) + ")"
    return sql


def create_table_if_absent(spark: SparkSession, path: str, schema: StructType,
                           properties: Mapping[str, str] | None = None, partitioned_by: tuple[str, ...] = ()) -> None:
    """Create an empty table at `path` unless one exists; the first write of a run, so that an
    unwritable output or a session without Delta fails before any computation (StorageError)."""
    for attempt in range(CREATE_ATTEMPTS):
        try:
            if is_delta_table(spark, path):
                return
            spark.sql(_create_sql(path, schema, properties, partitioned_by))
            # IF NOT EXISTS also returns when a racing creator's `_delta_log` exists but its first
            # commit is not written yet: the table is there only once a version can be read.
            if is_delta_table(spark, path):
                return
            if attempt + 1 < CREATE_ATTEMPTS:
                time.sleep(0.25 * 2 ** attempt)
                continue
            raise StorageError(f"output {path}: a table is being created there but has no commit "
                               f"after {CREATE_ATTEMPTS} attempts")
        except StorageError:
            raise
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
                 options: Mapping[str, str] | None = None) -> None:
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


def append_rows(frame: DataFrame, path: str, merge_schema: bool = False, attempts: int = 5) -> None:
    """Blind append of `frame` as one file (small tables: the run log); retried when racing to
    create the table, the one conflict blind appends can have. `merge_schema` adds new columns."""
    for attempt in range(attempts):
        try:
            writer = frame.coalesce(1).write.format("delta").mode("append")
            if merge_schema:
                writer = writer.option("mergeSchema", "true")
            writer.save(path)
            return
        except Exception as exc:
            if attempt + 1 == attempts or not is_concurrent_modification(exc):
                raise


def merge_into(source: DataFrame, path: str, on: str, clauses: str) -> None:
    """MERGE `source` (alias `s`) INTO the table at `path` (alias `t`) ON `on`, with the SQL
    `clauses` (WHEN MATCHED ..., WHEN NOT MATCHED ..., WHEN NOT MATCHED BY SOURCE ...)."""
    spark = source.sparkSession
    view = f"smb_merge_source_{uuid.uuid4().hex}"  # a session may run merges from several threads
    source.createOrReplaceTempView(view)
    try:
        spark.sql(f"MERGE INTO {table_ref(path)} AS t USING {view} AS s ON {on} {clauses}")
    finally:
        spark.catalog.dropTempView(view)


def merge_rows(source: DataFrame, path: str, on: str, update_when: str | None = None) -> None:
    """MERGE `source` (alias `s`) into the table at `path` (alias `t`) ON `on`: matched rows are
    replaced (only where `update_when` holds, when given), unmatched ones inserted."""
    matched = f"WHEN MATCHED AND ({update_when}) THEN UPDATE SET *" if update_when else \
        "WHEN MATCHED THEN UPDATE SET *"
    merge_into(source, path, on, f"{matched} WHEN NOT MATCHED THEN INSERT *")


def update_rows(spark: SparkSession, path: str, assignments: str, where: str) -> None:
    """UPDATE the table's rows matching the SQL condition `where` with `assignments` (SQL)."""
    spark.sql(f"UPDATE {table_ref(path)} SET {assignments} WHERE {where}")


def delete_rows(spark: SparkSession, path: str, where: str) -> None:
    """DELETE the table's rows matching the SQL condition `where`."""
    spark.sql(f"DELETE FROM {table_ref(path)} WHERE {where}")


CHANGE_FEED = "delta.enableChangeDataFeed"


def enable_change_feed(spark: SparkSession, path: str) -> bool:
    """Turn on the change data feed of an existing table that lacks it (one metadata commit, once).

    Returns False when there is no table yet: its creator sets the property instead
    (`replace_days(..., options=...)`). Two runs starting together on a table without the
    feed both try; the one that loses Delta's check finds the property set and goes on.
    """
    for attempt in range(3):
        try:
            if table_property(spark, path, CHANGE_FEED) == "true":
                return True
        except Exception as exc:
            if is_absent(exc):
                return False
            raise
        try:
            spark.sql(f"ALTER TABLE {table_ref(path)} SET TBLPROPERTIES ({CHANGE_FEED} = true)")
            return True
        except Exception as exc:
            if attempt == 2 or not is_concurrent_modification(exc):
                raise
    return True

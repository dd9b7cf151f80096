"""A run's commits: tagged with its run id, and undone by a compensating commit of only its days.

Every commit of a run carries its run id (Delta's commitInfo.userMetadata), so that an undo
finds the run's own commits in the table history, whoever else committed in between; an undo
carries `<run id>:undo`, so that it is never taken for the run's data commit.
"""

from __future__ import annotations

import datetime as dt
import logging
from contextlib import AbstractContextManager

from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from smb_pipeline.engine.session import session_settings
from smb_pipeline.storage.delta_io import (
    PARTITION,
    days_predicate,
    delete_rows,
    is_absent,
    read_table,
    table_history,
    table_version,
)

USER_METADATA_CONF = "spark.databricks.delta.commitInfo.userMetadata"
UNDO_SUFFIX = ":undo"
RECENT_COMMITS = 100

log = logging.getLogger("smb_pipeline")


def commits_tagged(spark: SparkSession, run_id: str) -> AbstractContextManager[None]:
    """Every Delta commit of the session within carries `run_id` as its commitInfo.userMetadata."""
    return session_settings(spark, {USER_METADATA_CONF: run_id})


def run_commit_version(spark: SparkSession, path: str, run_id: str) -> int | None:
    """The latest version of the table committed under the tag `run_id`, or None.

    A run's data commits carry its run id, its undo `<run id>:undo`: asked for one, the other
    is never answered.
    A run looks its commits up right after making them, so the recent history answers: its
    (at most `RECENT_COMMITS`) rows are the command's result, collected as they are without a
    Spark job (an aggregation or even a projection over them would plan, compile and run one).
    The whole retained history is read, and aggregated by Spark, only when the run's commit is
    older than that.
    """
    try:
        recent = table_history(spark, path, RECENT_COMMITS).collect()  # whole rows: a projection is a job
        found = [row["version"] for row in recent if row["userMetadata"] == run_id]
        if found or len(recent) < RECENT_COMMITS:
            return max(found, default=None)  # found, or the recent read was the whole history
        row = table_history(spark, path).agg(F.max(F.when(F.col("userMetadata") == run_id, F.col("version")))).head()
    except Exception as exc:
        if is_absent(exc):
            return None
        raise
    return row[0] if row else None


def session_commit_version(spark: SparkSession, path: str) -> int | None:
    """The latest version of the table committed under the session's current tag (inside
    `commits_tagged`), or None when that tag has committed nothing there; untagged, the table's
    latest version. By tag, because another run may have committed since."""
    run_id = spark.conf.get(USER_METADATA_CONF, None)
    return run_commit_version(spark, path, run_id) if run_id else table_version(spark, path)


def undo_days(spark: SparkSession, path: str, run_id: str, start: dt.date, end: dt.date) -> int | None:
    """A compensating commit: the days start..end as they were before the run's own commit.

    Reads those days at the version before the run's commit (time travel) and replaces just
    those days with them; a table the run created gets those days emptied. Commits of other
    runs (other days) stay. Returns the undo's version, or None when the run committed nothing
    or the undo changed no row (Delta then commits nothing).
    """
    version = run_commit_version(spark, path, run_id)
    if version is None:
        return None
    earlier_undo = run_commit_version(spark, path, run_id + UNDO_SUFFIX)
    predicate = days_predicate(start, end)
    with session_settings(spark, {USER_METADATA_CONF: run_id + UNDO_SUFFIX}):  # not taken for the run's data
        if version == 0:
            delete_rows(spark, path, predicate)
        else:
            before = read_table(spark, path, version - 1).where(predicate)
            (before.write.format("delta").mode("overwrite").option("replaceWhere", predicate)
             .partitionBy(PARTITION).save(path))
    log.warning("undid run %s's days %s..%s in %s (as of version %s)", run_id, start, end, path,
                version - 1 if version else "none: the run created the table")
    undo = run_commit_version(spark, path, run_id + UNDO_SUFFIX)
    return undo if undo != earlier_undo else None

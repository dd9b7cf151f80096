"""The `smb_alerts` Delta table: partitioned by event_date, change data feed on, written by MERGE.

A detection run replaces the alerts of its days: new alerts are inserted (created_at = now),
alerts whose content changed are updated (updated_at = now, created_at kept), alerts no longer
produced on those days are deleted; an alert that is the same as before is left untouched, so
a rerun adds nothing to the change feed. The MERGE reads only the days' partitions, so runs of
disjoint days do not conflict.
"""

from __future__ import annotations

import datetime as dt

from pyspark.sql import DataFrame, SparkSession

from smb_pipeline.alerts.schema import ALERTS_SCHEMA, COMPUTED_SCHEMA
from smb_pipeline.storage import commits, delta_io

CONTENT = [f.name for f in COMPUTED_SCHEMA.fields if f.name != "alert_id"]
MERGE_ATTEMPTS = 3


def ensure_alerts_table(spark: SparkSession, path: str) -> None:
    """Create the table (partitioned, change data feed on) unless it exists."""
    delta_io.create_table_if_absent(spark, path, ALERTS_SCHEMA, {delta_io.CHANGE_FEED: "true"},
                                    partitioned_by=(delta_io.PARTITION,))


def _days(alias: str, start: dt.date, end: dt.date) -> str:
    return f"{alias}.event_date >= DATE'{start.isoformat()}' AND {alias}.event_date <= DATE'{end.isoformat()}'"


def _merge(alerts: DataFrame, path: str, start: dt.date, end: dt.date) -> None:
    days = _days("t", start, end)
    changed = " OR ".join(f"NOT (t.`{c}` <=> s.`{c}`)" for c in CONTENT)
    update = ", ".join([f"`{c}` = s.`{c}`" for c in CONTENT] + ["updated_at = current_timestamp()"])
    inserted = ["alert_id", *CONTENT]
    columns = ", ".join(f"`{c}`" for c in [*inserted, "created_at", "updated_at"])
    values = ", ".join([f"s.`{c}`" for c in inserted] + ["current_timestamp()", "current_timestamp()"])
    delta_io.merge_into(alerts, path, f"t.alert_id = s.alert_id AND {days}",
                        f"WHEN MATCHED AND ({changed}) THEN UPDATE SET {update} "
                        f"WHEN NOT MATCHED THEN INSERT ({columns}) VALUES ({values}) "
                        f"WHEN NOT MATCHED BY SOURCE AND {days} THEN DELETE")


def merge_alerts(spark: SparkSession, alerts: DataFrame, path: str, start: dt.date, end: dt.date) -> int | None:
    """Replace the alerts of start..end with `alerts` (COMPUTED_SCHEMA); returns the version this
    run last committed (found by the session's commit tag, inside `commits_tagged`: another run
    may have committed since).

    Delta commits nothing for a MERGE that changes no row, so that is the version that created
    the table when this run created it, or None when the alerts were already as computed.
    """
    ensure_alerts_table(spark, path)
    for attempt in range(MERGE_ATTEMPTS):
        try:
            _merge(alerts, path, start, end)
            break
        except Exception as exc:
            if attempt + 1 == MERGE_ATTEMPTS or not delta_io.is_concurrent_modification(exc):
                raise
    return commits.session_commit_version(spark, path)

"""Table maintenance: compact and Z-order recent partitions, vacuum old files safely."""

from __future__ import annotations

import datetime as dt
import logging
from contextlib import AbstractContextManager
from dataclasses import dataclass

from pyspark.sql import SparkSession

from smb_pipeline.alerts.schema import ALERTS_TABLE
from smb_pipeline.config import PipelineConfig
from smb_pipeline.engine.session import session_settings
from smb_pipeline.errors import ConfigError
from smb_pipeline.model.schemas import PAIRS_TABLE, REJECTS_TABLE
from smb_pipeline.storage.delta_io import PARTITION, days_predicate, is_delta_table
from smb_pipeline.storage.upkeep import active_files, files_on_storage, optimize_zorder, vacuum

log = logging.getLogger("smb_pipeline")

# Delta refuses to vacuum files younger than this unless its safety check is turned off:
# readers of older versions (BI extracts, time travel) may still need them.
DELTA_SAFE_RETENTION_HOURS = 168
ZORDER_COLUMNS = {PAIRS_TABLE: ("src_ip", "dest_ip"), REJECTS_TABLE: ("source", "reason"),
                  ALERTS_TABLE: ("src_ip", "dest_ip")}


@dataclass(frozen=True)
class MaintenanceReport:
    table: str
    files_before: int
    files_after_optimize: int
    files_after_vacuum: int
    retention_hours: int

    def line(self) -> str:
        return (f"{self.table}: {self.files_before} active files before, {self.files_after_optimize} after "
                f"OPTIMIZE ZORDER BY, vacuum retention {self.retention_hours} h "
                f"({self.files_after_vacuum} files on storage after vacuum)")


def check_retention(hours: int, force: bool, field: str = "maintenance.vacuum_retention_hours") -> None:
    """`field` is what the user set: the config key, or the command-line flag that overrode it."""
    if hours < DELTA_SAFE_RETENTION_HOURS and not force:
        raise ConfigError(
            f"{field}: {hours} h is below Delta's safe {DELTA_SAFE_RETENTION_HOURS} h; "
            "readers of older versions could fail. Use --force-retention to do it anyway."
        )


# Session settings that decide how many tasks maintenance schedules. Their defaults are sized for
# big tables: VACUUM lists the table's directories in `parallelPartitionDiscovery.parallelism`
# (10,000) tasks, several times per table, and each Delta snapshot is rebuilt in
# `snapshotPartitions` (50) tasks. On 7 small files that was a 10,000-task stage per listing and
# about two minutes; sized to the table it takes seconds.
SIZED_SETTINGS = {"spark.sql.sources.parallelPartitionDiscovery.parallelism": 10_000,
                  "spark.databricks.delta.snapshotPartitions": 50}


def tasks_for(files: int, configured: int) -> int:
    """About one task per file, at least 1; never more than configured (big tables keep it)."""
    return max(1, min(files, configured))


def sized_to_table(spark: SparkSession, files: int) -> AbstractContextManager[None]:
    """Set the listing and snapshot parallelism to the table's size, restoring them afterwards."""
    return session_settings(spark, {key: str(tasks_for(files, int(spark.conf.get(key, None) or default)))
                                    for key, default in SIZED_SETTINGS.items()})


def maintain_table(spark: SparkSession, path: str, table: str, today: dt.date, recent_days: int,
                   retention_hours: int, force_retention: bool = False) -> MaintenanceReport:
    """OPTIMIZE the last `recent_days` partitions with ZORDER BY, then VACUUM, with as many tasks
    as the table needs."""
    check_retention(retention_hours, force_retention)
    before = active_files(spark, path)
    with sized_to_table(spark, before):
        return _optimize_and_vacuum(spark, path, table, today, recent_days, retention_hours, force_retention,
                                    before)


def _optimize_and_vacuum(spark: SparkSession, path: str, table: str, today: dt.date, recent_days: int,
                         retention_hours: int, force_retention: bool, before: int) -> MaintenanceReport:
    start = today - dt.timedelta(days=recent_days)
    log.info("optimizing %s partitions %s >= %s", table, PARTITION, start)
    optimize_zorder(spark, path, days_predicate(start, today), ZORDER_COLUMNS[table])
    after_optimize = active_files(spark, path)
    vacuum(spark, path, retention_hours, force_retention)
    return MaintenanceReport(table, before, after_optimize, files_on_storage(spark, path), retention_hours)


def maintain(spark: SparkSession, config: PipelineConfig, today: dt.date, retention_hours: int | None = None,
             force_retention: bool = False) -> list[MaintenanceReport]:
    hours = config.maintenance.vacuum_retention_hours if retention_hours is None else retention_hours
    check_retention(hours, force_retention)
    reports = []
    for table in ZORDER_COLUMNS:
        path = config.output.table_path(table)
        if not is_delta_table(spark, path):
            log.info("%s does not exist yet; nothing to maintain", path)
            continue
        reports.append(maintain_table(spark, path, table, today, config.maintenance.recent_days, hours,
                                      force_retention))
    return reports

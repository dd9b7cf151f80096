"""Delta table upkeep by SQL: OPTIMIZE with ZORDER BY, VACUUM, and the file counts around them."""

from __future__ import annotations

from collections.abc import Sequence

from pyspark.sql import SparkSession

from smb_pipeline.engine.session import session_settings
from smb_pipeline.storage.delta_io import table_detail, table_ref
from smb_pipeline.storage.files import count_files

RETENTION_CHECK = "spark.databricks.delta.retentionDurationCheck.enabled"


def active_files(spark: SparkSession, path: str) -> int:
    """Files in the table's current version (DESCRIBE DETAIL's numFiles)."""
    row = table_detail(spark, path).select("numFiles").head()
    return row[0] if row else 0


def files_on_storage(spark: SparkSession, path: str) -> int:
    """Parquet files under the table's folder, current or not, and the log's Parquet checkpoints."""
    return count_files(spark, path, "*.parquet") + count_files(spark, f"{path.rstrip('/')}/_delta_log", "*.parquet")


def optimize_zorder(spark: SparkSession, path: str, where: str, columns: Sequence[str]) -> None:
    """Compact the files of the partitions matching `where`, clustered by `columns`."""
    zorder = ", ".join(f"`{column}`" for column in columns)
    spark.sql(f"OPTIMIZE {table_ref(path)} WHERE {where} ZORDER BY ({zorder})").collect()


def vacuum(spark: SparkSession, path: str, retention_hours: int, force_retention: bool = False) -> None:
    """Delete files no version younger than `retention_hours` needs. Delta refuses a retention below
    its safe minimum unless its check is off: `force_retention` turns it off for this call only."""
    with session_settings(spark, {RETENTION_CHECK: "false"} if force_retention else {}):
        spark.sql(f"VACUUM {table_ref(path)} RETAIN {int(retention_hours)} HOURS").collect()

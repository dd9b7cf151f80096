"""Catalog registration: path-based Delta tables made visible to SQL and BI tools by name."""

from __future__ import annotations

from pyspark.sql import SparkSession

from smb_pipeline.storage.delta_io import sql_string


def _identifier(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


def create_database(spark: SparkSession, database: str) -> None:
    spark.sql(f"CREATE DATABASE IF NOT EXISTS {_identifier(database)}")


def register_table(spark: SparkSession, database: str, table: str, path: str) -> None:
    """Make a path-based table visible to SQL and BI tools under `database.table`."""
    create_database(spark, database)
    spark.sql(f"CREATE TABLE IF NOT EXISTS {_identifier(database)}.{_identifier(table)} "
              f"USING DELTA LOCATION {sql_string(path)}")

"""Schemas of the tables smb_pipeline writes: the contract with alerting jobs and BI tools.

Written as DDL-like text for readability, turned into `StructType` without a session
(Spark's own DDL parser needs a running JVM, and these constants are imported before one exists).
"""

from __future__ import annotations

from pyspark.sql.types import (
    ArrayType,
    BinaryType,
    DataType,
    DateType,
    IntegerType,
    LongType,
    StringType,
    StructField,
    StructType,
    TimestampType,
)

_TYPES: dict[str, DataType] = {
    "date": DateType(),
    "string": StringType(),
    "bigint": LongType(),
    "int": IntegerType(),
    "timestamp": TimestampType(),
    "binary": BinaryType(),
    "array<int>": ArrayType(IntegerType()),
    "array<string>": ArrayType(StringType()),
}


def schema(ddl: str) -> StructType:
    """'name type, name type' -> StructType, for the simple types our tables use."""
    fields = []
    for part in ddl.split(","):
        name, type_name = part.split()
        fields.append(StructField(name, _TYPES[type_name], True))
    return StructType(fields)


PAIRS_TABLE = "smb_allowed_daily"
REJECTS_TABLE = "rejected_events"

PAIRS_SCHEMA = schema(
    "event_date date, src_ip string, dest_ip string, connection_count bigint, "
    "first_seen timestamp, last_seen timestamp, bytes_in bigint, bytes_out bigint, "
    "dest_ports array<int>, apps array<string>, sources array<string>, devices array<string>, "
    "event_count bigint, pair_id string"
)

REJECTS_SCHEMA = schema("event_date date, source string, reason string, raw string, detail string, file_path string")

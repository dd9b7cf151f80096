"""`ecs`: Elastic Common Schema network events (nested structs or flattened dotted names).

The verdict is `allowed` / `denied` inside the `event.type` array; `event.outcome`
(success/failure) is not a verdict and is not used.
"""

from __future__ import annotations

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql.types import ArrayType

from smb_pipeline.formats.base import (
    Fields,
    FormatContext,
    SourceFormat,
    any_time_to_utc,
    port_text,
    protocol_name,
    to_canonical,
)

ALLOWED_TYPES = frozenset({"allowed"})
BLOCKED_TYPES = frozenset({"denied"})
SMB_APPS = frozenset({"smb"})

FIELDS = {
    "@timestamp": ("@timestamp",),
    "source.ip": ("source.ip",),
    "source.port": ("source.port",),
    "destination.ip": ("destination.ip",),
    "destination.port": ("destination.port",),
    "network.transport": ("network.transport",),
    "network.protocol": ("network.protocol",),
    "network.application": ("network.application",),
    "network.direction": ("network.direction",),
    "event.type": ("event.type",),
    "event.action": ("event.action",),
    "source.bytes": ("source.bytes",),
    "destination.bytes": ("destination.bytes",),
    "observer.name": ("observer.name",),
    "rule.name": ("rule.name",),
}
REQUIRED = frozenset({"@timestamp", "source.ip", "destination.ip", "destination.port", "event.type"})


def prefilter_ecs(fields: Fields, context: FormatContext) -> Column:
    """destination.port IN SMB ports, or network.protocol / network.application IN SMB apps.

    The verdict sits in an array (`event.type`), which Parquet cannot filter on; normalize reads it.
    """
    apps = sorted(set(context.smb_apps) | SMB_APPS)
    smb = fields.isin("destination.port", context.smb_ports)
    for name in ("network.protocol", "network.application"):
        if fields.has(name):
            smb = smb | fields.mentions(name, apps)
    return smb


_SEPARATOR = "\x1f"  # ASCII unit separator: never in an event type, and not special in a regex


def _has_type(fields: Fields, values: frozenset[str]) -> Column:
    """Whether `event.type` (an array, or a plain string in some archives) holds one of `values`."""
    column = fields.col("event.type")
    if isinstance(fields.type("event.type"), ArrayType):
        # Joined, lower-cased and split again rather than `exists` with a lambda: a higher-order
        # function would make Spark interpret the whole filter of the scan.
        lowered = F.split(F.lower(F.array_join(column, _SEPARATOR)), _SEPARATOR)
        return F.arrays_overlap(lowered, F.array(*[F.lit(value) for value in sorted(values)]))
    return F.lower(column.cast("string")).isin(*values)


def normalize_ecs(df: DataFrame, fields: Fields, context: FormatContext, keep: tuple[str, ...]) -> DataFrame:
    app = F.concat_ws(",", F.lower(fields.col("network.protocol")), F.lower(fields.col("network.application")))
    return to_canonical(
        df,
        {
            "event_time": any_time_to_utc(fields.col("@timestamp"), fields.type("@timestamp"), context.timezone),
            "src_ip": fields.col("source.ip"),
            "dest_ip": fields.col("destination.ip"),
            "src_port": port_text(fields.col("source.port")),
            "dest_port": port_text(fields.col("destination.port")),
            "transport": protocol_name(fields.col("network.transport")),
            # Both names, comma-separated: the core matches any element against the SMB apps.
            "app": F.when(app != "", app),
            "action": F.when(_has_type(fields, ALLOWED_TYPES), "allowed").when(
                _has_type(fields, BLOCKED_TYPES), "blocked"
            ),
            "vendor_action": fields.col("event.action"),
            # source.bytes: sent by the source (client -> server); destination.bytes: the reverse.
            "bytes_out": fields.col("source.bytes").try_cast("bigint"),
            "bytes_in": fields.col("destination.bytes").try_cast("bigint"),
            "dvc": fields.col("observer.name"),
            "rule": fields.col("rule.name"),
            "direction": fields.col("network.direction"),
        },
        keep,
    )


ECS = SourceFormat(
    name="ecs",
    fields=FIELDS,
    required=REQUIRED,
    prefilter=prefilter_ecs,
    normalize=normalize_ecs,
    smb_apps=SMB_APPS,
    description="Elastic Common Schema network events",
)

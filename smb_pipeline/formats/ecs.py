"""`ecs`: Elastic Common Schema network events (nested structs or flattened dotted names).

The verdict is `allowed` / `denied` inside the `event.type` array; `event.outcome`
(success/failure) is not a verdict and is not used. The array is not filterable in Parquet:
the prefilter tests SMB only and the normalizer reads the verdict.
"""

from __future__ import annotations

from pyspark.sql import Column
from pyspark.sql import functions as F
from pyspark.sql.types import ArrayType

from smb_pipeline.formats.base import Fields, FormatContext
from smb_pipeline.formats.declarative import declare
from smb_pipeline.formats.spec import Computed, VendorSpec

ALLOWED_TYPES = frozenset({"allowed"})
BLOCKED_TYPES = frozenset({"denied"})
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


def _verdict(fields: Fields, context: FormatContext) -> Column:
    return F.when(_has_type(fields, ALLOWED_TYPES), "allowed").when(_has_type(fields, BLOCKED_TYPES), "blocked")


def _apps(fields: Fields, context: FormatContext) -> Column:
    """Both names, comma-separated: the core matches any element against the SMB apps."""
    app = F.concat_ws(",", F.lower(fields.col("network.protocol")), F.lower(fields.col("network.application")))
    return F.when(app != "", app)


ECS = declare(VendorSpec(
    name="ecs",
    description="Elastic Common Schema network events",
    columns={
        "event_time": "@timestamp",
        "src_ip": "source.ip",
        "src_port": "source.port",
        "dest_ip": "destination.ip",
        "dest_port": "destination.port",
        "transport": "network.transport",
        "app": Computed(("network.protocol", "network.application"), _apps),
        "direction": Computed(("network.direction",), lambda fields, context: fields.col("network.direction")),
        "action": Computed(("event.type",), _verdict),
        "vendor_action": "event.action",
        # source.bytes: sent by the source (client -> server); destination.bytes: the reverse.
        "bytes_out": "source.bytes",
        "bytes_in": "destination.bytes",
        "dvc": "observer.name",
        "rule": "rule.name",
    },
    required=("@timestamp", "source.ip", "destination.ip", "destination.port", "event.type"),
    smb_apps=frozenset({"smb"}),
))

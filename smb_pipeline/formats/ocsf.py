"""`ocsf`: OCSF Network Activity (class 4001), as Amazon Security Lake stores it."""

from __future__ import annotations

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from smb_pipeline.formats.base import (
    Fields,
    FormatContext,
    SourceFormat,
    any_time_to_utc,
    port_text,
    protocol_name,
    session_key,
    smb_prefilter,
    to_canonical,
)

NETWORK_ACTIVITY = 4001
ALLOWED_ACTION_IDS = (1,)  # action_id 1 Allowed
BLOCKED_ACTION_IDS = (2,)  # action_id 2 Denied
UNKNOWN_ACTION_IDS = (0, 99)  # Unknown, Other: the disposition decides
ALLOWED_DISPOSITION_IDS = (1,)
BLOCKED_DISPOSITION_IDS = (2, 6, 21, 25)  # Blocked, Dropped, Reset, Rejected
OPEN_ACTIVITY, CLOSE_ACTIVITY = 1, 2
DIRECTIONS = {0: "unknown", 1: "inbound", 2: "outbound", 3: "lateral"}
SMB_APPS = frozenset({"smb", "cifs"})

FIELDS = {
    "time": ("time",),
    "src_endpoint.ip": ("src_endpoint.ip",),
    "src_endpoint.port": ("src_endpoint.port",),
    "dst_endpoint.ip": ("dst_endpoint.ip",),
    "dst_endpoint.port": ("dst_endpoint.port",),
    "connection_info.protocol_num": ("connection_info.protocol_num",),
    "connection_info.protocol_name": ("connection_info.protocol_name",),
    "connection_info.uid": ("connection_info.uid",),
    "connection_info.direction_id": ("connection_info.direction_id",),
    "app_name": ("app_name",),
    "action": ("action",),
    "action_id": ("action_id",),
    "disposition": ("disposition",),
    "disposition_id": ("disposition_id",),
    "activity_id": ("activity_id",),
    "class_uid": ("class_uid",),
    "traffic.bytes_in": ("traffic.bytes_in",),
    "traffic.bytes_out": ("traffic.bytes_out",),
    "device.hostname": ("device.hostname",),
    "firewall_rule.name": ("firewall_rule.name",),
}
REQUIRED = frozenset({"time", "src_endpoint.ip", "dst_endpoint.ip", "dst_endpoint.port"})


def prefilter_ocsf(fields: Fields, context: FormatContext) -> Column:
    by_disposition = fields.isin("disposition_id", ALLOWED_DISPOSITION_IDS)
    if fields.has("action_id"):
        # As the normalizer reads it: text that is not a number is no verdict either.
        no_verdict = fields.col("action_id").try_cast("int").isNull() | fields.isin("action_id", UNKNOWN_ACTION_IDS)
        allowed = fields.isin("action_id", ALLOWED_ACTION_IDS) | (by_disposition & no_verdict)
    else:
        allowed = by_disposition
    predicate = allowed & smb_prefilter(fields, context, "dst_endpoint.port", ("app_name",), SMB_APPS)
    if fields.has("class_uid"):
        predicate = predicate & is_network_activity(fields)
    return predicate


def is_network_activity(fields: Fields) -> Column:
    """Network Activity, or no class named (a producer that logs only this class); the
    normalizer gives other classes no verdict, so the prefilter and it agree."""
    class_uid = fields.col("class_uid").try_cast("int")
    return class_uid.isNull() | fields.isin("class_uid", (NETWORK_ACTIVITY,))


def _direction(direction_id: Column) -> Column:
    mapped = F.lit(None).cast("string")
    for number, name in DIRECTIONS.items():
        mapped = F.when(direction_id == number, F.lit(name)).otherwise(mapped)
    return mapped


def normalize_ocsf(df: DataFrame, fields: Fields, context: FormatContext, keep: tuple[str, ...]) -> DataFrame:
    action_id = fields.col("action_id").try_cast("int")
    disposition_id = fields.col("disposition_id").try_cast("int")
    activity_id = fields.col("activity_id").try_cast("int")
    by_action = F.when(action_id.isin(*ALLOWED_ACTION_IDS), "allowed").when(
        action_id.isin(*BLOCKED_ACTION_IDS), "blocked"
    )
    by_disposition = F.when(disposition_id.isin(*ALLOWED_DISPOSITION_IDS), "allowed").when(
        disposition_id.isin(*BLOCKED_DISPOSITION_IDS), "blocked"
    )
    by_id = F.when(action_id.isNull() | action_id.isin(*UNKNOWN_ACTION_IDS), by_disposition).otherwise(by_action)
    verdict = F.when(is_network_activity(fields), by_id)  # other classes carry no traffic verdict
    uid = fields.col("connection_info.uid", "string")
    # Producers that log Open and Close of a connection repeat its uid; others give one record per uid.
    key = session_key(fields.col("device.hostname", "string"), uid)
    is_close = F.coalesce((activity_id == CLOSE_ACTIVITY) & key.isNotNull(), F.lit(False))
    no_totals = F.coalesce((activity_id == OPEN_ACTIVITY) & key.isNotNull(), F.lit(False))
    vendor_action = F.coalesce(
        fields.col("action", "string"), fields.col("disposition", "string"), action_id.cast("string")
    )
    return to_canonical(
        df,
        {
            "event_time": any_time_to_utc(fields.col("time"), fields.type("time"), context.timezone),
            "src_ip": fields.col("src_endpoint.ip"),
            "dest_ip": fields.col("dst_endpoint.ip"),
            "src_port": port_text(fields.col("src_endpoint.port")),
            "dest_port": port_text(fields.col("dst_endpoint.port")),
            "transport": F.coalesce(
                protocol_name(fields.col("connection_info.protocol_num")),
                F.lower(F.trim(fields.col("connection_info.protocol_name"))),
            ),
            "app": F.lower(F.trim(fields.col("app_name"))),
            "action": F.when(is_close & (verdict == "allowed"), "teardown").otherwise(verdict),
            "vendor_action": vendor_action,
            # OCSF: bytes_in is dst -> src (server -> client), bytes_out src -> dst.
            "bytes_in": F.when(~no_totals, fields.col("traffic.bytes_in").try_cast("bigint")),
            "bytes_out": F.when(~no_totals, fields.col("traffic.bytes_out").try_cast("bigint")),
            "dvc": fields.col("device.hostname"),
            "rule": fields.col("firewall_rule.name"),
            "session_id": uid,
            "session_key": key,
            "direction": _direction(fields.col("connection_info.direction_id").try_cast("int")),
        },
        keep,
    )


OCSF = SourceFormat(
    name="ocsf",
    fields=FIELDS,
    required=REQUIRED,
    prefilter=prefilter_ocsf,
    normalize=normalize_ocsf,
    smb_apps=SMB_APPS,
    description="OCSF Network Activity (4001), Amazon Security Lake layout",
)

"""`fortigate`: FortiGate traffic logs with FortiOS key names."""

from __future__ import annotations

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from smb_pipeline.formats.base import (
    Fields,
    FormatContext,
    SourceFormat,
    epoch_to_timestamp,
    local_to_utc,
    port_text,
    protocol_name,
    raw_variants,
    session_key,
    smb_prefilter,
    to_canonical,
)

# `start` opens a session logged twice; the others close it (or log it once, when start logging is off).
OPENING_ACTIONS = frozenset({"accept", "start"})
CLOSING_ACTIONS = frozenset({"close", "timeout", "client-rst", "server-rst"})
ALLOWED_ACTIONS = OPENING_ACTIONS | CLOSING_ACTIONS
# `deny` is a policy block; `ip-conn` a connection that never got through.
BLOCKED_ACTIONS = frozenset({"deny", "ip-conn", "block"})
# Predefined services SMB (TCP 445) and SAMBA (TCP 139), and the application-control name.
SMB_APPS = frozenset({"smb", "samba"})

FIELDS = {
    "eventtime": ("eventtime",),
    "date": ("date",),
    "time": ("time",),
    "tz": ("tz",),
    "srcip": ("srcip",),
    "dstip": ("dstip",),
    "srcport": ("srcport",),
    "dstport": ("dstport",),
    "proto": ("proto",),
    "service": ("service",),
    "app": ("app",),
    "action": ("action",),
    "sentbyte": ("sentbyte",),
    "rcvdbyte": ("rcvdbyte",),
    "devname": ("devname",),
    "vd": ("vd",),
    "policyid": ("policyid",),
    "policyname": ("policyname",),
    "sessionid": ("sessionid",),
}
REQUIRED = frozenset({"srcip", "dstip", "dstport", "action"})


def prefilter_fortigate(fields: Fields, context: FormatContext) -> Column:
    allowed = fields.isin("action", raw_variants(ALLOWED_ACTIONS))
    return allowed & smb_prefilter(fields, context, "dstport", ("service", "app"), SMB_APPS)


def _event_time(fields: Fields, context: FormatContext) -> Column:
    """`eventtime` (epoch, exact) first; else `date` + `time` at the logged `tz` offset, else in the source's zone."""
    wall = F.concat_ws(" ", fields.col("date", "string"), fields.col("time", "string"))
    offset = F.regexp_replace(F.trim(fields.col("tz", "string")), ":", "")
    with_offset = F.when(
        offset.rlike(r"^[+-]\d{4}$"),
        F.try_to_timestamp(F.concat(wall, offset), F.lit("yyyy-MM-dd HH:mm:ssZ")),
    )
    local = local_to_utc(F.try_to_timestamp(wall, F.lit("yyyy-MM-dd HH:mm:ss")), context.timezone)
    epoch = F.when(fields.col("eventtime", "string").rlike(r"^\s*\d+\s*$"), epoch_to_timestamp(fields.col("eventtime")))
    return F.coalesce(epoch, with_offset, local)


def normalize_fortigate(df: DataFrame, fields: Fields, context: FormatContext, keep: tuple[str, ...]) -> DataFrame:
    action = F.lower(F.trim(fields.col("action")))
    session_id = fields.col("sessionid", "string")
    # A session logged at start and at close shares (devname, sessionid).
    key = session_key(fields.col("devname", "string"), session_id)
    is_start = F.coalesce(action == "start", F.lit(False))
    canonical_action = (
        F.when(action.isin(*OPENING_ACTIONS), "allowed")
        .when(action.isin(*CLOSING_ACTIONS), F.when(key.isNotNull(), "teardown").otherwise("allowed"))
        .when(action.isin(*BLOCKED_ACTIONS), "blocked")
    )
    apps = F.concat_ws(",", F.trim(fields.col("service", "string")), F.trim(fields.col("app", "string")))
    return to_canonical(
        df,
        {
            "event_time": _event_time(fields, context),
            "src_ip": fields.col("srcip"),
            "dest_ip": fields.col("dstip"),
            "src_port": port_text(fields.col("srcport")),
            "dest_port": port_text(fields.col("dstport")),
            "transport": protocol_name(fields.col("proto")),
            "app": F.when(apps != "", F.lower(apps)),
            "action": canonical_action,
            "vendor_action": fields.col("action"),
            # The start record has no totals; the closing record carries them.
            "bytes_in": F.when(~is_start, fields.col("rcvdbyte").try_cast("bigint")),
            "bytes_out": F.when(~is_start, fields.col("sentbyte").try_cast("bigint")),
            "dvc": fields.col("devname"),
            "rule": F.coalesce(fields.col("policyname", "string"), fields.col("policyid", "string")),
            "session_id": session_id,
            "session_key": key,
        },
        keep,
    )


FORTIGATE = SourceFormat(
    name="fortigate",
    fields=FIELDS,
    required=REQUIRED,
    prefilter=prefilter_fortigate,
    normalize=normalize_fortigate,
    smb_apps=SMB_APPS,
    description="Fortinet FortiGate traffic log (FortiOS key=value names)",
)

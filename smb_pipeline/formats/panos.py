"""`panos`: PAN-OS TRAFFIC logs with the firewall's own field names."""

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
    raw_variants,
    session_key,
    smb_prefilter,
    to_canonical,
)

ALLOWED_ACTIONS = frozenset({"allow"})
# deny, drop, drop ICMP, reset-client/-server/-both: the firewall stopped the traffic.
BLOCKED_PATTERN = r"^(deny|drop|reset|block)"
SMB_APPS = frozenset({"ms-ds-smb", "ms-ds-smb-base", "ms-ds-smbv1", "ms-ds-smbv2", "ms-ds-smbv3", "netbios-ss"})

FIELDS = {
    # time_generated is when the firewall wrote the record; receive_time only when it is absent.
    "time_generated": ("time_generated", "receive_time"),
    "src": ("src",),
    "dst": ("dst",),
    "sport": ("sport",),
    "dport": ("dport",),
    "proto": ("proto",),
    "app": ("app",),
    "action": ("action",),
    "bytes_sent": ("bytes_sent",),
    "bytes_received": ("bytes_received",),
    "device_name": ("device_name",),
    "serial": ("serial",),
    "rule": ("rule",),
    "sessionid": ("sessionid",),
    "subtype": ("subtype",),
    "session_end_reason": ("session_end_reason",),
}
REQUIRED = frozenset({"time_generated", "src", "dst", "dport", "action"})


def prefilter_panos(fields: Fields, context: FormatContext) -> Column:
    allowed = fields.isin("action", raw_variants(ALLOWED_ACTIONS))
    return allowed & smb_prefilter(fields, context, "dport", ("app",), SMB_APPS)


def normalize_panos(df: DataFrame, fields: Fields, context: FormatContext, keep: tuple[str, ...]) -> DataFrame:
    action = F.lower(F.trim(fields.col("action")))
    subtype = F.lower(F.trim(fields.col("subtype")))
    device = F.coalesce(fields.col("serial", "string"), fields.col("device_name", "string"))
    session_id = fields.col("sessionid", "string")
    # With start logging on, `start` and `end` records of one session share (serial, sessionid).
    key = session_key(device, session_id)
    # Only the end record carries the session's byte totals.
    is_start = F.coalesce(subtype == "start", F.lit(False))
    return to_canonical(
        df,
        {
            # Device-local wall-clock time without a zone: the source's configured zone applies.
            "event_time": any_time_to_utc(
                fields.col("time_generated"), fields.type("time_generated"), context.timezone
            ),
            "src_ip": fields.col("src"),
            "dest_ip": fields.col("dst"),
            "src_port": port_text(fields.col("sport")),
            "dest_port": port_text(fields.col("dport")),
            "transport": protocol_name(fields.col("proto")),
            "app": F.lower(F.trim(fields.col("app"))),
            "action": F.when(action.isin(*ALLOWED_ACTIONS), "allowed").when(action.rlike(BLOCKED_PATTERN), "blocked"),
            "vendor_action": fields.col("action"),
            "bytes_in": F.when(~is_start, fields.col("bytes_received").try_cast("bigint")),
            "bytes_out": F.when(~is_start, fields.col("bytes_sent").try_cast("bigint")),
            "dvc": F.coalesce(fields.col("device_name", "string"), fields.col("serial", "string")),
            "rule": fields.col("rule"),
            "session_id": session_id,
            "session_key": key,
        },
        keep,
    )


PANOS = SourceFormat(
    name="panos",
    fields=FIELDS,
    required=REQUIRED,
    prefilter=prefilter_panos,
    normalize=normalize_panos,
    smb_apps=SMB_APPS,
    description="Palo Alto Networks PAN-OS TRAFFIC log",
)

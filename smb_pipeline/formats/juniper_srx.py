"""`juniper_srx`: Junos SRX RT_FLOW session logs (structured-data names)."""

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

# `_LS` variants are the same events on logical systems.
CREATE_EVENTS = frozenset({"RT_FLOW_SESSION_CREATE", "RT_FLOW_SESSION_CREATE_LS"})
CLOSE_EVENTS = frozenset({"RT_FLOW_SESSION_CLOSE", "RT_FLOW_SESSION_CLOSE_LS"})
ALLOWED_ACTIONS = CREATE_EVENTS | CLOSE_EVENTS
BLOCKED_ACTIONS = frozenset({"RT_FLOW_SESSION_DENY", "RT_FLOW_SESSION_DENY_LS"})
# APPTRACK_* events repeat sessions already logged by RT_FLOW: they map to no action and never count.
SMB_SERVICES = frozenset({"junos-smb", "junos-netbios-session"})

FIELDS = {
    "timestamp": ("timestamp",),
    "host": ("host",),
    "event": ("event",),
    "source-address": ("source-address",),
    "destination-address": ("destination-address",),
    "source-port": ("source-port",),
    "destination-port": ("destination-port",),
    "protocol-id": ("protocol-id",),
    "service-name": ("service-name",),
    "application": ("application",),
    "policy-name": ("policy-name",),
    "session-id-32": ("session-id-32",),
    "bytes-from-client": ("bytes-from-client",),
    "bytes-from-server": ("bytes-from-server",),
}
REQUIRED = frozenset({"timestamp", "event", "source-address", "destination-address", "destination-port"})


def prefilter_juniper_srx(fields: Fields, context: FormatContext) -> Column:
    allowed = fields.isin("event", sorted(ALLOWED_ACTIONS))
    return allowed & smb_prefilter(fields, context, "destination-port", ("service-name", "application"), SMB_SERVICES)


def normalize_juniper_srx(df: DataFrame, fields: Fields, context: FormatContext, keep: tuple[str, ...]) -> DataFrame:
    event = F.upper(F.trim(fields.col("event")))
    session_id = fields.col("session-id-32", "string")
    # CREATE and CLOSE of one session share (host, session-id-32).
    key = session_key(fields.col("host", "string"), session_id)
    is_create = event.isin(*CREATE_EVENTS)
    canonical_action = (
        F.when(is_create, "allowed")
        .when(event.isin(*CLOSE_EVENTS), F.when(key.isNotNull(), "teardown").otherwise("allowed"))
        .when(event.isin(*BLOCKED_ACTIONS), "blocked")
    )
    apps = F.concat_ws(",", F.trim(fields.col("service-name", "string")), F.trim(fields.col("application", "string")))
    no_totals = F.coalesce(is_create, F.lit(False))
    return to_canonical(
        df,
        {
            "event_time": any_time_to_utc(fields.col("timestamp"), fields.type("timestamp"), context.timezone),
            "src_ip": fields.col("source-address"),
            "dest_ip": fields.col("destination-address"),
            "src_port": port_text(fields.col("source-port")),
            "dest_port": port_text(fields.col("destination-port")),
            "transport": protocol_name(fields.col("protocol-id")),
            "app": F.when(apps != "", F.lower(apps)),
            "action": canonical_action,
            "vendor_action": fields.col("event"),
            # CREATE has no byte counts; CLOSE carries the totals.
            "bytes_in": F.when(~no_totals, fields.col("bytes-from-server").try_cast("bigint")),
            "bytes_out": F.when(~no_totals, fields.col("bytes-from-client").try_cast("bigint")),
            "dvc": fields.col("host"),
            "rule": fields.col("policy-name"),
            "session_id": session_id,
            "session_key": key,
        },
        keep,
    )


JUNIPER_SRX = SourceFormat(
    name="juniper_srx",
    fields=FIELDS,
    required=REQUIRED,
    prefilter=prefilter_juniper_srx,
    normalize=normalize_juniper_srx,
    smb_apps=SMB_SERVICES,
    description="Juniper SRX RT_FLOW session log",
)

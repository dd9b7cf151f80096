"""`checkpoint`: Check Point firewall logs as Log Exporter writes them."""

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

ALLOWED_ACTIONS = frozenset({"accept", "allow"})
BLOCKED_ACTIONS = frozenset({"drop", "reject", "block", "prevent"})
# `service_id` names of the SMB services (TCP 445 and TCP 139).
SMB_SERVICES = frozenset({"microsoft-ds", "nbsession"})

FIELDS = {
    "time": ("time",),
    "src": ("src",),
    "dst": ("dst",),
    "s_port": ("s_port",),
    # Log Exporter's `service` is the destination port number.
    "service": ("service",),
    "proto": ("proto",),
    "service_id": ("service_id",),
    "action": ("action",),
    "client_outbound_bytes": ("client_outbound_bytes",),
    "client_inbound_bytes": ("client_inbound_bytes",),
    "origin": ("origin",),
    "hostname": ("hostname",),
    "rule_name": ("rule_name",),
    "loguid": ("loguid",),
    "ifdir": ("ifdir",),
}
REQUIRED = frozenset({"time", "src", "dst", "service", "action"})


def prefilter_checkpoint(fields: Fields, context: FormatContext) -> Column:
    allowed = fields.isin("action", raw_variants(ALLOWED_ACTIONS))
    return allowed & smb_prefilter(fields, context, "service", ("service_id",), SMB_SERVICES)


def normalize_checkpoint(df: DataFrame, fields: Fields, context: FormatContext, keep: tuple[str, ...]) -> DataFrame:
    action = F.lower(F.trim(fields.col("action")))
    loguid = fields.col("loguid", "string")
    device = F.coalesce(fields.col("origin", "string"), fields.col("hostname", "string"))
    # Updates of one log (accounting: bytes so far) are sent as distinct records sharing `loguid`.
    key = session_key(device, loguid)
    return to_canonical(
        df,
        {
            "event_time": any_time_to_utc(fields.col("time"), fields.type("time"), context.timezone),
            "src_ip": fields.col("src"),
            "dest_ip": fields.col("dst"),
            "src_port": port_text(fields.col("s_port")),
            "dest_port": port_text(fields.col("service")),
            "transport": protocol_name(fields.col("proto")),
            "app": F.lower(F.trim(fields.col("service_id"))),
            "action": F.when(action.isin(*ALLOWED_ACTIONS), "allowed").when(action.isin(*BLOCKED_ACTIONS), "blocked"),
            "vendor_action": fields.col("action"),
            "bytes_in": fields.col("client_inbound_bytes").try_cast("bigint"),
            "bytes_out": fields.col("client_outbound_bytes").try_cast("bigint"),
            "dvc": device,
            "rule": fields.col("rule_name"),
            "session_id": loguid,
            "session_key": key,
            "direction": F.lower(F.trim(fields.col("ifdir"))),
        },
        keep,
    )


CHECKPOINT = SourceFormat(
    name="checkpoint",
    fields=FIELDS,
    required=REQUIRED,
    prefilter=prefilter_checkpoint,
    normalize=normalize_checkpoint,
    smb_apps=SMB_SERVICES,
    description="Check Point firewall log (Log Exporter field names)",
)

"""`gcp_firewall`: Google Cloud firewall rules logging, as Cloud Logging exports it."""

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
    to_canonical,
)

ALLOWED_ACTIONS = frozenset({"ALLOWED"})
BLOCKED_ACTIONS = frozenset({"DENIED"})
# Firewall logs name no application: SMB is recognised by destination port only.
SMB_APPS: frozenset[str] = frozenset()

FIELDS = {
    "timestamp": ("timestamp",),
    "jsonPayload.connection.src_ip": ("jsonPayload.connection.src_ip",),
    "jsonPayload.connection.src_port": ("jsonPayload.connection.src_port",),
    "jsonPayload.connection.dest_ip": ("jsonPayload.connection.dest_ip",),
    "jsonPayload.connection.dest_port": ("jsonPayload.connection.dest_port",),
    "jsonPayload.connection.protocol": ("jsonPayload.connection.protocol",),
    "jsonPayload.disposition": ("jsonPayload.disposition",),
    "jsonPayload.rule_details.reference": ("jsonPayload.rule_details.reference",),
    "jsonPayload.rule_details.direction": ("jsonPayload.rule_details.direction",),
    "jsonPayload.instance.vm_name": ("jsonPayload.instance.vm_name",),
}
REQUIRED = frozenset(
    {
        "timestamp",
        "jsonPayload.connection.src_ip",
        "jsonPayload.connection.dest_ip",
        "jsonPayload.connection.dest_port",
        "jsonPayload.disposition",
    }
)


def prefilter_gcp_firewall(fields: Fields, context: FormatContext) -> Column:
    allowed = fields.isin("jsonPayload.disposition", raw_variants(ALLOWED_ACTIONS))
    return allowed & fields.isin("jsonPayload.connection.dest_port", context.smb_ports)


def normalize_gcp_firewall(df: DataFrame, fields: Fields, context: FormatContext, keep: tuple[str, ...]) -> DataFrame:
    disposition = F.upper(F.trim(fields.col("jsonPayload.disposition")))
    return to_canonical(
        df,
        {
            "event_time": any_time_to_utc(fields.col("timestamp"), fields.type("timestamp"), context.timezone),
            "src_ip": fields.col("jsonPayload.connection.src_ip"),
            "dest_ip": fields.col("jsonPayload.connection.dest_ip"),
            "src_port": port_text(fields.col("jsonPayload.connection.src_port")),
            "dest_port": port_text(fields.col("jsonPayload.connection.dest_port")),
            "transport": protocol_name(fields.col("jsonPayload.connection.protocol")),
            "action": F.when(disposition.isin(*ALLOWED_ACTIONS), "allowed").when(
                disposition.isin(*BLOCKED_ACTIONS), "blocked"
            ),
            "vendor_action": fields.col("jsonPayload.disposition"),
            "dvc": fields.col("jsonPayload.instance.vm_name"),
            "rule": fields.col("jsonPayload.rule_details.reference"),
            "direction": F.lower(F.trim(fields.col("jsonPayload.rule_details.direction"))),
        },
        keep,
    )


GCP_FIREWALL = SourceFormat(
    name="gcp_firewall",
    fields=FIELDS,
    required=REQUIRED,
    prefilter=prefilter_gcp_firewall,
    normalize=normalize_gcp_firewall,
    smb_apps=SMB_APPS,
    description="Google Cloud VPC firewall rules logging",
)

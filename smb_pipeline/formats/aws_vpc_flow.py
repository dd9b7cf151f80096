"""`aws_vpc_flow`: Amazon VPC Flow Logs (v2..v5) with the Parquet field names."""

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

ALLOWED_ACTIONS = frozenset({"ACCEPT"})
BLOCKED_ACTIONS = frozenset({"REJECT"})
# Records of capture windows without traffic (NODATA) or with dropped records (SKIPDATA).
EMPTY_LOG_STATUSES = frozenset({"NODATA", "SKIPDATA"})
# VPC records carry no application: SMB is recognised by destination port only.
SMB_APPS: frozenset[str] = frozenset()

FIELDS = {
    "start": ("start",),
    "end": ("end",),
    "srcaddr": ("srcaddr",),
    "dstaddr": ("dstaddr",),
    "srcport": ("srcport",),
    "dstport": ("dstport",),
    "protocol": ("protocol",),
    "action": ("action",),
    "bytes": ("bytes",),
    "interface_id": ("interface_id",),
    "account_id": ("account_id",),
    "log_status": ("log_status",),
    "flow_direction": ("flow_direction",),
}
REQUIRED = frozenset({"start", "srcaddr", "dstaddr", "dstport", "action"})


def prefilter_aws_vpc_flow(fields: Fields, context: FormatContext) -> Column:
    # NODATA/SKIPDATA records have no action, so requiring ACCEPT drops them too.
    # A reply to an SMB request is its own record with srcport 445 and the client's port as dstport: not kept.
    return fields.isin("action", raw_variants(ALLOWED_ACTIONS)) & fields.isin("dstport", context.smb_ports)


def normalize_aws_vpc_flow(df: DataFrame, fields: Fields, context: FormatContext, keep: tuple[str, ...]) -> DataFrame:
    action = F.upper(F.trim(fields.col("action")))
    empty = F.coalesce(F.upper(F.trim(fields.col("log_status"))).isin(*EMPTY_LOG_STATUSES), F.lit(False))
    canonical_action = F.when(empty, None).when(action.isin(*ALLOWED_ACTIONS), "allowed").when(
        action.isin(*BLOCKED_ACTIONS), "blocked"
    )
    return to_canonical(
        df,
        {
            "event_time": any_time_to_utc(fields.col("start"), fields.type("start"), context.timezone),
            "src_ip": fields.col("srcaddr"),
            "dest_ip": fields.col("dstaddr"),
            "src_port": port_text(fields.col("srcport")),
            "dest_port": port_text(fields.col("dstport")),
            "transport": protocol_name(fields.col("protocol")),
            "action": canonical_action,
            "vendor_action": fields.col("action"),
            # A flow record is one direction: srcaddr -> dstaddr, i.e. client -> server for a kept record.
            "bytes_out": fields.col("bytes").try_cast("bigint"),
            "dvc": fields.col("interface_id"),
            "direction": F.lower(F.trim(fields.col("flow_direction"))),
        },
        keep,
    )


AWS_VPC_FLOW = SourceFormat(
    name="aws_vpc_flow",
    fields=FIELDS,
    required=REQUIRED,
    prefilter=prefilter_aws_vpc_flow,
    normalize=normalize_aws_vpc_flow,
    smb_apps=SMB_APPS,
    description="Amazon VPC Flow Logs, versions 2 to 5",
)

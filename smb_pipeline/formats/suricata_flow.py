"""`suricata_flow`: Suricata EVE `flow` events (JSON, nested `flow.*` or flattened names).

A sensor has no verdict: a flow counts as allowed when it was established.
"""

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
    to_canonical,
)

EVENT_TYPES = frozenset({"flow"})
# flow.state: new (one direction only), established, closed, bypassed.
ESTABLISHED_STATES = frozenset({"established", "closed"})
SMB_APPS = frozenset({"smb"})

FIELDS = {
    "timestamp": ("timestamp",),
    "event_type": ("event_type",),
    "src_ip": ("src_ip",),
    "dest_ip": ("dest_ip",),
    "src_port": ("src_port",),
    "dest_port": ("dest_port",),
    "proto": ("proto",),
    "app_proto": ("app_proto",),
    "flow.pkts_toserver": ("flow.pkts_toserver", "flow_pkts_toserver"),
    "flow.pkts_toclient": ("flow.pkts_toclient", "flow_pkts_toclient"),
    "flow.bytes_toserver": ("flow.bytes_toserver", "flow_bytes_toserver"),
    "flow.bytes_toclient": ("flow.bytes_toclient", "flow_bytes_toclient"),
    "flow.state": ("flow.state", "flow_state"),
    "flow_id": ("flow_id",),
    "host": ("host",),
}
REQUIRED = frozenset({"timestamp", "event_type", "src_ip", "dest_ip", "src_port", "dest_port"})


def prefilter_suricata_flow(fields: Fields, context: FormatContext) -> Column:
    """`event_type = 'flow'` and (dest_port IN SMB ports or app_proto IN SMB apps); establishment is checked later."""
    smb = fields.isin("dest_port", context.smb_ports)
    if fields.has("app_proto"):
        smb = smb | fields.mentions("app_proto", sorted(set(context.smb_apps) | SMB_APPS))
    return fields.isin("event_type", sorted(EVENT_TYPES)) & smb


def normalize_suricata_flow(df: DataFrame, fields: Fields, context: FormatContext, keep: tuple[str, ...]) -> DataFrame:
    to_server = fields.col("flow.pkts_toserver").try_cast("bigint")
    to_client = fields.col("flow.pkts_toclient").try_cast("bigint")
    state = F.lower(fields.col("flow.state"))
    # Packets both ways decide when counted; without counters, the flow state does.
    both_ways = (to_server > 0) & (to_client > 0)
    established = F.coalesce(both_ways, state.isin(*ESTABLISHED_STATES))
    is_flow = F.lower(fields.col("event_type")).isin(*EVENT_TYPES)
    return to_canonical(
        df,
        {
            "event_time": any_time_to_utc(fields.col("timestamp"), fields.type("timestamp"), context.timezone),
            "src_ip": fields.col("src_ip"),
            "dest_ip": fields.col("dest_ip"),
            "src_port": port_text(fields.col("src_port")),
            "dest_port": port_text(fields.col("dest_port")),
            "transport": protocol_name(fields.col("proto")),
            "app": F.lower(fields.col("app_proto")),
            "action": F.when(is_flow & established, "allowed"),
            "vendor_action": fields.col("flow.state"),
            "bytes_out": fields.col("flow.bytes_toserver").try_cast("bigint"),
            "bytes_in": fields.col("flow.bytes_toclient").try_cast("bigint"),
            "dvc": fields.col("host"),
            "session_id": fields.col("flow_id").cast("string"),
        },
        keep,
    )


SURICATA_FLOW = SourceFormat(
    name="suricata_flow",
    fields=FIELDS,
    required=REQUIRED,
    prefilter=prefilter_suricata_flow,
    normalize=normalize_suricata_flow,
    smb_apps=SMB_APPS,
    description="Suricata EVE flow events",
)

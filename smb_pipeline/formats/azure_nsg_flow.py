"""`azure_nsg_flow`: Azure NSG flow logs (v1, v2) and VNet flow logs (v4), one flow tuple per row.

Tuple positions (1-based): NSG `epoch_s,src,dst,sport,dport,T|U,I|O,A|D` and v2 adds
`,B|C|E,pkts_s2d,bytes_s2d,pkts_d2s,bytes_d2s`; VNet `epoch_ms,src,dst,sport,dport,
protocol_number,I|O,B|C|E|D,encryption,pkts_s2d,bytes_s2d,pkts_d2s,bytes_d2s`. The sixth
field tells them apart: a letter (NSG) or an IANA number (VNet).
"""

from __future__ import annotations

from collections.abc import Mapping

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from smb_pipeline.formats.base import Fields, FormatContext, port_text, protocol_name
from smb_pipeline.formats.declarative import declare
from smb_pipeline.formats.spec import Computed, Field, Parse, VendorSpec
from smb_pipeline.formats.text import csv_field, with_csv_fields
from smb_pipeline.formats.times import any_time_to_utc, epoch_to_timestamp

ALLOWED_DECISIONS = frozenset({"A"})  # NSG: A allowed, D denied
FLOW_STATES = frozenset({"B", "C", "E"})  # begin, continuing, end; VNet D = denied
STATS_STATES = frozenset({"C", "E"})  # B carries no statistics
NSG_TRANSPORTS = {"T": "tcp", "U": "udp"}


def _tuple(fields: Fields) -> Column:
    return F.split(fields.col("flow_tuple"), ",")


def prefilter_azure_nsg_flow(fields: Fields, context: FormatContext) -> Column:
    """The tuple's destination port (5th field) in the SMB ports, read as the normalizer reads it
    (trimmed, leading zeros); the verdict is read by normalize."""
    dest_port = F.trim(F.try_element_at(_tuple(fields), F.lit(5)))
    return F.coalesce(dest_port.try_cast("long").isin(list(context.smb_ports)), F.lit(False))


def _flow_time(fields: Fields, context: FormatContext) -> Column:
    """The tuple's own epoch is the flow time; the record's `time` (UTC) is the fallback."""
    time_type = fields.type("time")
    record_time = any_time_to_utc(fields.col("time"), time_type, "UTC") if time_type else F.lit(None)
    return F.coalesce(epoch_to_timestamp(csv_field(_tuple(fields), 1).try_cast("double")), record_time)


_READ = range(2, 14)  # the tuple's fields the parser reads (1-based; the time is read on its own)

# The canonical columns the text parser yields (the rest come from the declaration).
PARSED = ("src_ip", "dest_ip", "src_port", "dest_port", "transport", "action", "vendor_action", "bytes_out", "bytes_in",
          "session_key", "direction")


def parse_azure_nsg_flow(df: DataFrame, fields: Fields,
                         context: FormatContext) -> tuple[DataFrame, Mapping[str, Column]]:
    """Endpoints, verdict, bytes and the flow's session key from the tuple, NSG or VNet.

    In steps, each ended by `context.stage_end` (the generated code of all of them at once is
    too large for the JIT): the tuple's fields (`text.with_csv_fields`); the verdict's parts
    and the transport; the canonical columns. Each step's values are helper columns (`_az_...`).
    """
    with_fields, at = with_csv_fields(df, fields.col("flow_tuple"), "_az_", _READ)
    protocol = F.upper(at(6))
    is_vnet = protocol.rlike(r"^\d+$")
    nsg_transport = F.when(protocol == "T", NSG_TRANSPORTS["T"]).when(protocol == "U", NSG_TRANSPORTS["U"])
    parsed = with_fields.transform(context.stage_end).withColumns({
        "_az_vnet": is_vnet,
        "_az_decision": F.when(~is_vnet, at(8)),
        "_az_state": F.upper(F.when(is_vnet, at(8)).otherwise(at(9))),
        "_az_transport": F.when(is_vnet, protocol_name(protocol)).otherwise(nsg_transport),
    })
    is_vnet, decision, state, transport = (F.col(f"_az_{name}") for name in ("vnet", "decision", "state", "transport"))
    allowed = F.when(is_vnet, state.isin(*FLOW_STATES)).otherwise(decision == "A")
    blocked = F.when(is_vnet, state == "D").otherwise(decision == "D")
    action = F.when(allowed & (state == "E"), "teardown").when(allowed, "allowed").when(blocked, "blocked")
    src, dst, sport, dport = at(2), at(3), at(4), at(5)
    with_stats = state.isin(*STATS_STATES)
    # B, C and E records of one flow carry the same interface and 5-tuple and nothing else
    # in common (no flow id), so that is the key; v1 tuples have no state and count alone.
    key = F.concat_ws("|", F.coalesce(fields.col("mac").cast("string"), F.lit("")), src, sport, dst, dport, transport)
    return parsed, {
        "src_ip": src,
        "dest_ip": dst,
        "src_port": port_text(sport),
        "dest_port": port_text(dport),
        "transport": transport,
        "action": action,
        "vendor_action": F.concat_ws(",", decision, state),
        # Source -> destination is the initiator's direction: client -> server.
        "bytes_out": F.when(with_stats, at(11).try_cast("bigint")),
        "bytes_in": F.when(with_stats, at(13).try_cast("bigint")),
        "session_key": F.when(state.isin(*FLOW_STATES), key),
        "direction": F.upper(at(7)),
    }


AZURE_NSG_FLOW = declare(VendorSpec(
    name="azure_nsg_flow",
    description="Azure NSG (v1/v2) and VNet (v4) flow logs, one flow tuple per row",
    columns={
        "event_time": Computed(("time",), _flow_time),
        "rule": "rule",
        "dvc": Field("mac", "macAddress"),
    },
    parse=Parse((Field("flow_tuple", "flowTuple"),), PARSED, parse_azure_nsg_flow),
    required=("flow_tuple",),
    prefilter=prefilter_azure_nsg_flow,
    # Flow tuples name no application: SMB by port only.
))

"""`suricata_flow`: Suricata EVE `flow` events (JSON, nested `flow.*` or flattened names).

A sensor has no verdict: a flow counts as allowed when it was established.
"""

from __future__ import annotations

from pyspark.sql import Column
from pyspark.sql import functions as F

from smb_pipeline.formats.base import Fields, FormatContext
from smb_pipeline.formats.declarative import declare
from smb_pipeline.formats.spec import Computed, Field, Match, VendorSpec

EVENT_TYPES = frozenset({"flow"})
# flow.state: new (one direction only), established, closed, bypassed.
ESTABLISHED_STATES = frozenset({"established", "closed"})
PKTS_TOSERVER = Field("flow.pkts_toserver", "flow_pkts_toserver")
PKTS_TOCLIENT = Field("flow.pkts_toclient", "flow_pkts_toclient")
STATE = Field("flow.state", "flow_state")


def _established_flow(fields: Fields, context: FormatContext) -> Column:
    """Allowed when established: packets both ways decide when counted; without counters, the flow state does."""
    to_server = fields.col("flow.pkts_toserver").try_cast("bigint")
    to_client = fields.col("flow.pkts_toclient").try_cast("bigint")
    state = F.lower(fields.col("flow.state"))
    both_ways = (to_server > 0) & (to_client > 0)
    established = F.coalesce(both_ways, state.isin(*ESTABLISHED_STATES))
    is_flow = F.lower(fields.col("event_type")).isin(*EVENT_TYPES)
    return F.when(is_flow & established, "allowed")


SURICATA_FLOW = declare(VendorSpec(
    name="suricata_flow",
    description="Suricata EVE flow events",
    columns={
        "event_time": "timestamp",
        "action": Computed(("event_type", PKTS_TOSERVER, PKTS_TOCLIENT, STATE), _established_flow),
        "src_ip": "src_ip",
        "dest_ip": "dest_ip",
        "src_port": "src_port",
        "dest_port": "dest_port",
        "transport": "proto",
        "app": Computed(("app_proto",), lambda fields, context: F.lower(fields.col("app_proto"))),
        "bytes_out": Field("flow.bytes_toserver", "flow_bytes_toserver"),
        "bytes_in": Field("flow.bytes_toclient", "flow_bytes_toclient"),
        "vendor_action": STATE,
        "session_id": "flow_id",
        "dvc": "host",
    },
    required=("timestamp", "event_type", "src_ip", "dest_ip", "src_port", "dest_port"),
    # Only flow events; establishment is checked by the normalizer.
    gate=Match("event_type", EVENT_TYPES),
    smb_apps=frozenset({"smb"}),
))

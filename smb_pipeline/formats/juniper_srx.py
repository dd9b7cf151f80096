"""`juniper_srx`: Junos SRX RT_FLOW session logs (structured-data names).

APPTRACK_* events repeat sessions already logged by RT_FLOW: they map to no action and never count.
"""

from __future__ import annotations

from smb_pipeline.formats.declarative import declare
from smb_pipeline.formats.spec import Match, Session, VendorSpec, Verdicts

# `_LS` variants are the same events on logical systems.
CREATE_EVENTS = frozenset({"RT_FLOW_SESSION_CREATE", "RT_FLOW_SESSION_CREATE_LS"})

JUNIPER_SRX = declare(VendorSpec(
    name="juniper_srx",
    description="Juniper SRX RT_FLOW session log",
    columns={
        "event_time": "timestamp",
        "dvc": "host",
        "action": "event",
        "src_ip": "source-address",
        "dest_ip": "destination-address",
        "src_port": "source-port",
        "dest_port": "destination-port",
        "transport": "protocol-id",
        "app": ("service-name", "application"),
        "rule": "policy-name",
        "session_id": "session-id-32",
        "bytes_out": "bytes-from-client",
        "bytes_in": "bytes-from-server",
    },
    required=("timestamp", "event", "source-address", "destination-address", "destination-port"),
    verdicts=Verdicts(
        allowed=CREATE_EVENTS,
        ends=frozenset({"RT_FLOW_SESSION_CLOSE", "RT_FLOW_SESSION_CLOSE_LS"}),
        blocked=frozenset({"RT_FLOW_SESSION_DENY", "RT_FLOW_SESSION_DENY_LS"}),
        case="upper",
    ),
    # CREATE and CLOSE of one session share (host, session-id-32); CREATE has no byte counts.
    session=Session(device=("host",), start=Match("event", CREATE_EVENTS)),
    smb_apps=frozenset({"junos-smb", "junos-netbios-session"}),
))

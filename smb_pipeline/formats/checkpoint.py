"""`checkpoint`: Check Point firewall logs as Log Exporter writes them."""

from __future__ import annotations

from smb_pipeline.formats.declarative import declare
from smb_pipeline.formats.spec import Session, VendorSpec, Verdicts

CHECKPOINT = declare(VendorSpec(
    name="checkpoint",
    description="Check Point firewall log (Log Exporter field names)",
    columns={
        "event_time": "time",
        "src_ip": "src",
        "dest_ip": "dst",
        "src_port": "s_port",
        # Log Exporter's `service` is the destination port number.
        "dest_port": "service",
        "transport": "proto",
        "app": "service_id",
        "action": "action",
        "bytes_out": "client_outbound_bytes",
        "bytes_in": "client_inbound_bytes",
        "dvc": ("origin", "hostname"),
        "rule": "rule_name",
        "session_id": "loguid",
        "direction": "ifdir",
    },
    required=("time", "src", "dst", "service", "action"),
    verdicts=Verdicts(allowed=frozenset({"accept", "allow"}),
                      blocked=frozenset({"drop", "reject", "block", "prevent"})),
    # Updates of one log (accounting: bytes so far) are sent as distinct records sharing `loguid`.
    session=Session(device=("origin", "hostname")),
    # `service_id` names of the SMB services (TCP 445 and TCP 139).
    smb_apps=frozenset({"microsoft-ds", "nbsession"}),
))

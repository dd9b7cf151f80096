"""`panos`: PAN-OS TRAFFIC logs with the firewall's own field names."""

from __future__ import annotations

from smb_pipeline.formats.declarative import declare
from smb_pipeline.formats.spec import Field, Match, Session, VendorSpec, Verdicts

PANOS = declare(VendorSpec(
    name="panos",
    description="Palo Alto Networks PAN-OS TRAFFIC log",
    columns={
        # time_generated is when the firewall wrote the record; receive_time only when it is absent.
        # Device-local wall-clock time without a zone: the source's configured zone applies.
        "event_time": Field("time_generated", "receive_time"),
        "src_ip": "src",
        "dest_ip": "dst",
        "src_port": "sport",
        "dest_port": "dport",
        "transport": "proto",
        "app": "app",
        "action": "action",
        "bytes_out": "bytes_sent",
        "bytes_in": "bytes_received",
        "dvc": ("device_name", "serial"),
        "rule": "rule",
        "session_id": "sessionid",
    },
    required=("time_generated", "src", "dst", "dport", "action"),
    # deny, drop, drop ICMP, reset-client/-server/-both: the firewall stopped the traffic.
    verdicts=Verdicts(allowed=frozenset({"allow"}), blocked_pattern=r"^(deny|drop|reset|block)"),
    # With start logging on, `start` and `end` records of one session share (serial, sessionid);
    # only the end record carries the session's byte totals.
    session=Session(device=("serial", "device_name"), start=Match("subtype", frozenset({"start"}))),
    smb_apps=frozenset({"ms-ds-smb", "ms-ds-smb-base", "ms-ds-smbv1", "ms-ds-smbv2", "ms-ds-smbv3", "netbios-ss"}),
    unused=("session_end_reason",),
))

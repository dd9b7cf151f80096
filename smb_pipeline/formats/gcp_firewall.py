"""`gcp_firewall`: Google Cloud firewall rules logging, as Cloud Logging exports it.

Firewall logs name no application: SMB is recognised by destination port only.
"""

from __future__ import annotations

from smb_pipeline.formats.declarative import declare
from smb_pipeline.formats.spec import VendorSpec, Verdicts

GCP_FIREWALL = declare(VendorSpec(
    name="gcp_firewall",
    description="Google Cloud VPC firewall rules logging",
    columns={
        "event_time": "timestamp",
        "src_ip": "jsonPayload.connection.src_ip",
        "src_port": "jsonPayload.connection.src_port",
        "dest_ip": "jsonPayload.connection.dest_ip",
        "dest_port": "jsonPayload.connection.dest_port",
        "transport": "jsonPayload.connection.protocol",
        "action": "jsonPayload.disposition",
        "rule": "jsonPayload.rule_details.reference",
        "direction": "jsonPayload.rule_details.direction",
        "dvc": "jsonPayload.instance.vm_name",
    },
    required=("timestamp", "jsonPayload.connection.src_ip", "jsonPayload.connection.dest_ip",
              "jsonPayload.connection.dest_port", "jsonPayload.disposition"),
    verdicts=Verdicts(allowed=frozenset({"ALLOWED"}), blocked=frozenset({"DENIED"}), case="upper"),
))

"""`cim`: archives already in Splunk CIM Network_Traffic field names."""

from __future__ import annotations

from pyspark.sql import functions as F

from smb_pipeline.formats.declarative import declare
from smb_pipeline.formats.spec import Computed, VendorSpec, Verdicts

CIM = declare(VendorSpec(
    name="cim",
    description="Splunk CIM Network_Traffic field names",
    columns={
        "event_time": "_time",
        "src_ip": "src_ip",
        "dest_ip": "dest_ip",
        "src_port": "src_port",
        "dest_port": "dest_port",
        # Already CIM words: lower-cased as written, not mapped from protocol numbers.
        "transport": Computed(("transport",), lambda fields, context: F.lower(fields.col("transport"))),
        "app": Computed(("app",), lambda fields, context: F.lower(fields.col("app"))),
        "action": "action",
        # Already CIM counts: cast as they are.
        "bytes_in": Computed(("bytes_in",), lambda fields, context: fields.col("bytes_in")),
        "bytes_out": Computed(("bytes_out",), lambda fields, context: fields.col("bytes_out")),
        "dvc": "dvc",
        "rule": "rule",
        "session_id": "session_id",
    },
    # What the classic search needs (Splunk Security Essentials' own demo data has only these five);
    # every other field is null when absent, and matching by app does not apply without `app`.
    required=("_time", "src_ip", "dest_ip", "dest_port", "action"),
    # A teardown without a session key is not counted by the core: the prefilter skips it.
    verdicts=Verdicts(allowed=frozenset({"allowed"}), blocked=frozenset({"blocked"}),
                      ends=frozenset({"teardown"}), end_without_key="teardown"),
    smb_apps=frozenset({"smb", "ms-ds-smb", "netbios-ss"}),
))

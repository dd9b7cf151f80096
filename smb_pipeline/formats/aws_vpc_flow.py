"""`aws_vpc_flow`: Amazon VPC Flow Logs (v2..v5) with the Parquet field names.

A reply to an SMB request is its own record with srcport 445 and the client's port as dstport:
only `dstport` is tested, so it is not kept. NODATA/SKIPDATA records have no action, so
requiring ACCEPT in the prefilter drops them too.
"""

from __future__ import annotations

from smb_pipeline.formats.declarative import declare
from smb_pipeline.formats.spec import Match, VendorSpec, Verdicts

AWS_VPC_FLOW = declare(VendorSpec(
    name="aws_vpc_flow",
    description="Amazon VPC Flow Logs, versions 2 to 5",
    columns={
        "event_time": "start",
        "src_ip": "srcaddr",
        "dest_ip": "dstaddr",
        "src_port": "srcport",
        "dest_port": "dstport",
        "transport": "protocol",
        "action": "action",
        # A flow record is one direction: srcaddr -> dstaddr, i.e. client -> server for a kept record.
        "bytes_out": "bytes",
        "dvc": "interface_id",
        "direction": "flow_direction",
    },
    required=("start", "srcaddr", "dstaddr", "dstport", "action"),
    # Records of capture windows without traffic (NODATA) or with dropped records (SKIPDATA) carry no verdict.
    verdicts=Verdicts(allowed=frozenset({"ACCEPT"}), blocked=frozenset({"REJECT"}), case="upper",
                      unless=Match("log_status", frozenset({"NODATA", "SKIPDATA"}))),
    # VPC records carry no application: SMB is recognised by destination port only.
    unused=("end", "account_id"),
))

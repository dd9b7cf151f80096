"""`zeek_conn`: Zeek conn.log records (JSON or TSV exports, dotted or underscore names).

A sensor has no verdict: a record counts as allowed when the connection was established;
otherwise the action is null (the sensor only saw an attempt), not 'blocked'. `service` is a
comma list ("krb,smb,gssapi"): the prefilter finds an SMB id in it in any case, the core then
checks whole list elements.
"""

from __future__ import annotations

from pyspark.sql import functions as F

from smb_pipeline.formats.declarative import declare
from smb_pipeline.formats.spec import Computed, Field, VendorSpec, Verdicts

ZEEK_CONN = declare(VendorSpec(
    name="zeek_conn",
    description="Zeek conn.log (id.orig_h or id_orig_h names)",
    columns={
        "event_time": "ts",
        "src_ip": Field("id.orig_h", "id_orig_h"),
        "src_port": Field("id.orig_p", "id_orig_p"),
        "dest_ip": Field("id.resp_h", "id_resp_h"),
        "dest_port": Field("id.resp_p", "id_resp_p"),
        "transport": "proto",
        "app": Computed(("service",), lambda fields, context: F.lower(fields.col("service"))),
        "bytes_out": "orig_bytes",
        "bytes_in": "resp_bytes",
        "action": "conn_state",
        "session_id": "uid",
        # The sensor: `_node_name` (Zeek's add-node-names package, cluster workers), `_system_name`
        # (Corelight), `@system` (HELK / OTRF exports). Absent in plain Zeek: the source name is used.
        "dvc": Field("_node_name", "_system_name", "@system"),
    },
    required=("ts", "id.orig_h", "id.resp_h", "id.orig_p", "id.resp_p", "conn_state"),
    # conn_state values where both sides spoke (S0, REJ, SH, SHR, RSTOS0, RSTRH, OTH did not establish).
    verdicts=Verdicts(allowed=frozenset({"S1", "SF", "S2", "S3", "RSTO", "RSTR"}), case="upper"),
    smb_apps=frozenset({"smb"}),
))

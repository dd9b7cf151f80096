"""Allowed-SMB seed rows of every format, shared by the format tests that need one source of each
(the prefilter property, the generated-code sizes)."""

from __future__ import annotations

import datetime as dt

from tests.formats import (
    test_aws_vpc_flow,
    test_checkpoint,
    test_cisco_asa,
    test_ecs,
    test_fortigate,
    test_gcp_firewall,
    test_juniper_srx,
    test_ocsf,
    test_panos,
    test_pfsense,
    test_suricata_flow,
    test_zeek_conn,
)
from tests.formats.test_azure_nsg_flow import DDL as AZURE_DDL
from tests.formats.test_azure_nsg_flow import FLOW, T0

CIM_DDL = ("_time timestamp, src_ip string, dest_ip string, src_port int, dest_port int, transport string, "
           "app string, action string")
CIM_TIME = dt.datetime(2026, 1, 15, 9, 0)

# Allowed SMB rows of each format: by port, and by application where the format names one.
SEEDS: dict[str, tuple[str, list]] = {
    "cim": (CIM_DDL, [(CIM_TIME, "10.0.0.5", "10.0.1.9", 50000, 445, "tcp", "unknown", "allowed"),
                      (CIM_TIME, "10.0.0.5", "10.0.1.9", 50000, 8445, "tcp", "ms-ds-smb", "Allowed")]),
    "panos": (test_panos.SCHEMA, [test_panos._row(), test_panos._row(dport=8445, app="ms-ds-smb")]),
    "fortigate": (test_fortigate.SCHEMA, [test_fortigate._row(), test_fortigate._row(action="accept", dstport=8445)]),
    "checkpoint": (test_checkpoint.SCHEMA, [test_checkpoint._row(), test_checkpoint._row(service=8445)]),
    "juniper_srx": (test_juniper_srx.SCHEMA, [test_juniper_srx._row(),
                                              test_juniper_srx._row(**{"destination-port": 8445})]),
    "aws_vpc_flow": (test_aws_vpc_flow.SCHEMA, [test_aws_vpc_flow._row()]),
    "gcp_firewall": (test_gcp_firewall.SCHEMA, [test_gcp_firewall._row()]),
    "ocsf": (test_ocsf.SCHEMA, [test_ocsf._row(), test_ocsf._row(action_id=0),
                                test_ocsf._row(app_name="SMB", dst_endpoint={"ip": "10.0.1.9", "port": 8445})]),
    "cisco_asa": (test_cisco_asa.DDL, [("2026-01-15 09:00:00", "fw1", test_cisco_asa.BUILT_IN)]),
    "pfsense": (test_pfsense.DDL, [("2026-01-15T09:00:00Z", "pf1", test_pfsense.PASS_V4),
                                   ("2026-01-15T09:00:00Z", "pf1", test_pfsense.PASS_V6)]),
    "azure_nsg_flow": (AZURE_DDL, [("2026-01-15T09:10:00Z", "rule", "000D3A000001", f"{T0},{FLOW},T,I,A,B,,,,")]),
    "zeek_conn": (test_zeek_conn.DOTTED, [test_zeek_conn.SMB,
                                          (*test_zeek_conn.SMB[:5], 8445, *test_zeek_conn.SMB[6:])]),
    "suricata_flow": (test_suricata_flow.DDL, [test_suricata_flow._event(), test_suricata_flow._event(dest_port=8445)]),
    "ecs": (test_ecs.NESTED, [test_ecs._event(), test_ecs._event(port=8445)]),
}

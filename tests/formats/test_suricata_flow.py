"""suricata_flow: nested flow.* counters, establishment, event_type, offsets in time."""

from __future__ import annotations

from smb_pipeline.formats.suricata_flow import SURICATA_FLOW
from tests.formats.support import normalize_rows, rows_with_text_time

DDL = (
    "timestamp string, flow_id bigint, event_type string, src_ip string, src_port int, dest_ip string, "
    "dest_port int, proto string, app_proto string, "
    "flow struct<pkts_toserver:bigint, pkts_toclient:bigint, bytes_toserver:bigint, bytes_toclient:bigint, "
    "state:string>"
)


def _event(event_type="flow", dest_port=445, proto="TCP", app="smb", flow=(12, 10, 4000, 1700, "closed")):
    return (
        "2026-01-15T10:00:00.000000+0100",
        586497171462735,
        event_type,
        "10.1.1.9",
        50000,
        "10.1.1.5",
        dest_port,
        proto,
        app,
        flow,
    )


def _normalize(spark, rows, ddl=DDL, overrides=None):
    return rows_with_text_time(normalize_rows(spark, SURICATA_FLOW, rows, ddl, overrides=overrides))


def test_established_smb_flow_fires(spark):
    [row] = _normalize(spark, [_event()])
    assert row == {
        "event_time": "2026-01-15 09:00:00",
        "src_ip": "10.1.1.9",
        "dest_ip": "10.1.1.5",
        "src_port": "50000",
        "dest_port": "445",
        "transport": "tcp",
        "app": "smb",
        "action": "allowed",
        "vendor_action": "closed",
        "bytes_in": 1700,
        "bytes_out": 4000,
        "dvc": None,
        "rule": None,
        "session_id": "586497171462735",
        "session_key": None,
        "direction": None,
    }


def test_one_way_flow_alert_event_and_netbios_udp_are_not_allowed(spark):
    one_way = _event(flow=(3, 0, 180, 0, "new"))
    alert = _event(event_type="alert")
    udp_137 = _event(dest_port=137, proto="UDP", app=None)
    rows = _normalize(spark, [one_way, alert, udp_137])
    assert [r["action"] for r in rows] == [None]


def test_state_decides_when_counters_are_missing(spark):
    [row] = _normalize(spark, [_event(flow=(None, None, None, None, "established"))])
    assert row["action"] == "allowed"


def test_columns_override(spark):
    ddl = DDL.replace("dest_port int", "dport int")
    [row] = _normalize(spark, [_event(app=None)], ddl=ddl, overrides={"dest_port": "dport"})
    assert (row["dest_port"], row["action"]) == ("445", "allowed")

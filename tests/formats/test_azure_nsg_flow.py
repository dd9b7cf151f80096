"""azure_nsg_flow: NSG v1/v2 and VNet v4 tuples, B/C/E sessions, bytes on C/E only."""

from __future__ import annotations

import datetime as dt

from smb_pipeline.formats.azure_nsg_flow import AZURE_NSG_FLOW
from tests.formats.support import normalize_rows, rows_with_text_time

DDL = "time string, rule string, mac string, flow_tuple string"
T0 = int(dt.datetime(2026, 1, 15, 9, 0, tzinfo=dt.timezone.utc).timestamp())
FLOW = "10.0.0.4,10.0.0.5,50000,445"


def _normalize(spark, rows, ddl=DDL, overrides=None):
    rows = rows_with_text_time(normalize_rows(spark, AZURE_NSG_FLOW, rows, ddl, overrides=overrides))
    return sorted(rows, key=lambda r: (r["event_time"] or "", r["vendor_action"]))


def _row(tuple_text):
    return ("2026-01-15T09:10:00Z", "UserRule_smb", "000D3A000001", tuple_text)


def test_nsg_v2_begin_fires(spark):
    [row] = _normalize(spark, [_row(f"{T0},{FLOW},T,I,A,B,,,,")])
    assert row == {
        "event_time": "2026-01-15 09:00:00",
        "src_ip": "10.0.0.4",
        "dest_ip": "10.0.0.5",
        "src_port": "50000",
        "dest_port": "445",
        "transport": "tcp",
        "app": None,
        "action": "allowed",
        "vendor_action": "A,B",
        "bytes_in": None,
        "bytes_out": None,
        "dvc": "000D3A000001",
        "rule": "UserRule_smb",
        "session_id": None,
        "session_key": "000D3A000001|10.0.0.4|50000|10.0.0.5|445|tcp",
        "direction": "I",
    }


def test_begin_continue_end_share_one_key_and_bytes_skip_begin(spark):
    rows = _normalize(
        spark,
        [
            _row(f"{T0},{FLOW},T,I,A,B,,,,"),
            _row(f"{T0 + 60},{FLOW},T,I,A,C,10,2000,8,1500"),
            _row(f"{T0 + 120},{FLOW},T,I,A,E,5,1000,4,700"),
        ],
    )
    assert len({r["session_key"] for r in rows}) == 1 and rows[0]["session_key"] is not None
    assert [r["action"] for r in rows] == ["allowed", "allowed", "teardown"]
    assert [(r["bytes_out"], r["bytes_in"]) for r in rows] == [(None, None), (2000, 1500), (1000, 700)]


def test_vnet_v4_epoch_ms_and_protocol_number(spark):
    rows = _normalize(
        spark,
        [
            _row(f"{T0 * 1000},{FLOW},6,O,B,NX,0,0,0,0"),
            _row(f"{T0 * 1000},10.0.0.9,10.0.0.5,50001,445,6,O,D,NX,0,0,0,0"),
        ],
    )
    by_src = {r["src_ip"]: r for r in rows}
    assert by_src["10.0.0.4"]["event_time"] == "2026-01-15 09:00:00"
    assert (by_src["10.0.0.4"]["action"], by_src["10.0.0.4"]["transport"]) == ("allowed", "tcp")
    assert by_src["10.0.0.9"]["action"] == "blocked"


def test_denied_v1_and_netbios_udp_are_not_allowed(spark):
    rows = _normalize(spark, [_row(f"{T0},{FLOW},T,I,D"), _row(f"{T0},10.0.0.4,10.0.0.255,137,137,U,O,A")])
    assert [(r["action"], r["session_key"]) for r in rows] == [("blocked", None)]


def test_columns_override(spark):
    [row] = _normalize(
        spark,
        [_row(f"{T0},{FLOW},T,I,A")],
        ddl="time string, rule string, mac string, tuple string",
        overrides={"flow_tuple": "tuple"},
    )
    assert (row["dest_ip"], row["action"], row["session_key"]) == ("10.0.0.5", "allowed", None)

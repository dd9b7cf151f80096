"""pfsense: filterlog CSV positions for IPv4 and IPv6, verdicts, unparseable lines."""

from __future__ import annotations

from smb_pipeline.formats.pfsense import PFSENSE
from tests.formats.support import normalize_rows, rows_with_text_time

DDL = "timestamp string, host string, message string"
PASS_V4 = (
    "5,,,1000000103,em0,match,pass,in,4,0x0,,128,12345,0,DF,6,tcp,52,203.0.113.5,10.1.1.5,51234,445,0,S,1,,64240,,mss"
)
PASS_V6 = (
    "filterlog[4242]: 7,,,1000000104,em1,match,pass,out,6,0x00,0x00000,64,tcp,6,72,2001:db8::5,2001:db8::10,"
    "51234,139,0,S,1,,64800,,mss"
)


def _normalize(spark, rows, ddl=DDL, timezone="UTC", overrides=None):
    return rows_with_text_time(normalize_rows(spark, PFSENSE, rows, ddl, timezone=timezone, overrides=overrides))


def test_ipv4_pass_fires(spark):
    [row] = _normalize(spark, [("2026-01-15T09:00:00Z", "pf1", PASS_V4)])
    assert row == {
        "event_time": "2026-01-15 09:00:00",
        "src_ip": "203.0.113.5",
        "dest_ip": "10.1.1.5",
        "src_port": "51234",
        "dest_port": "445",
        "transport": "tcp",
        "app": None,
        "action": "allowed",
        "vendor_action": "pass",
        "bytes_in": None,
        "bytes_out": None,
        "dvc": "pf1",
        "rule": "1000000103",
        "session_id": None,
        "session_key": None,
        "direction": "in",
    }


def test_ipv6_positions_and_filterlog_prefix(spark):
    [row] = _normalize(spark, [("2026-01-15T09:00:00Z", "pf1", PASS_V6)])
    assert (row["src_ip"], row["dest_ip"], row["src_port"], row["dest_port"], row["transport"]) == (
        "2001:db8::5",
        "2001:db8::10",
        "51234",
        "139",
        "tcp",
    )
    assert row["direction"] == "out"


def test_block_and_netbios_udp_are_ignored(spark):
    block = PASS_V4.replace(",pass,", ",block,")
    udp_137 = "5,,,1000000103,em0,match,pass,in,4,0x0,,128,1,0,none,17,udp,78,10.1.1.9,10.1.1.255,137,137,58"
    assert _normalize(spark, [("2026-01-15T09:00:00Z", "pf1", block), ("2026-01-15T09:00:00Z", "pf1", udp_137)]) == []


def test_unparseable_line_gives_null_ips(spark):
    broken = "5,,,1000000103,em0,match,pass,in,x,445,"
    [row] = _normalize(spark, [("2026-01-15T09:00:00Z", "pf1", broken)])
    assert row["action"] == "allowed" and row["src_ip"] is None and row["dest_ip"] is None


def test_time_zone_and_yearless_bsd_time(spark):
    rows = _normalize(
        spark,
        [("Jan 15 2026 09:00:00", "pf1", PASS_V4), ("Jan 15 09:00:00", "pf1", PASS_V4)],
        timezone="America/New_York",
    )
    assert sorted(rows, key=lambda r: r["event_time"] or "")[0]["event_time"] is None
    assert {r["event_time"] for r in rows} == {None, "2026-01-15 14:00:00"}


def test_columns_override(spark):
    [row] = _normalize(
        spark,
        [("2026-01-15T09:00:00Z", "pf1", PASS_V4)],
        ddl="timestamp string, host string, csv string",
        overrides={"message": "csv"},
    )
    assert (row["dest_ip"], row["action"]) == ("10.1.1.5", "allowed")

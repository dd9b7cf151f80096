"""cisco_asa: Built/Teardown/106100 parsing, endpoint order, sessions, time zones."""

from __future__ import annotations

from smb_pipeline.formats.cisco_asa import CISCO_ASA
from tests.formats.support import normalize_rows, rows_with_text_time

DDL = "timestamp string, host string, message string"
BUILT_IN = (
    "%ASA-6-302013: Built inbound TCP connection 123 for outside:203.0.113.5/51234 (203.0.113.5/51234) "
    "to inside:10.1.1.5/445 (10.1.1.5/445)"
)
BUILT_OUT = (
    "%ASA-6-302013: Built outbound TCP connection 77 for outside:198.51.100.7/445 (198.51.100.7/445) "
    "to inside:10.1.1.5/50000 (10.1.1.5/50000)"
)
TEARDOWN_OUT = (
    "%ASA-6-302014: Teardown TCP connection 77 for outside:198.51.100.7/445 to inside:10.1.1.5/50000 "
    "duration 0:01:00 bytes 5120 TCP FINs"
)


def _normalize(spark, rows, ddl=DDL, timezone="UTC", overrides=None):
    return rows_with_text_time(normalize_rows(spark, CISCO_ASA, rows, ddl, timezone=timezone, overrides=overrides))


def test_inbound_built_fires(spark):
    [row] = _normalize(spark, [("2026-01-15 09:00:00", "fw1", BUILT_IN)])
    assert row == {
        "event_time": "2026-01-15 09:00:00",
        "src_ip": "203.0.113.5",
        "dest_ip": "10.1.1.5",
        "src_port": "51234",
        "dest_port": "445",
        "transport": "tcp",
        "app": None,
        "action": "allowed",
        "vendor_action": "302013:Built",
        "bytes_in": None,
        "bytes_out": None,
        "dvc": "fw1",
        "rule": None,
        "session_id": "123",
        "session_key": "fw1|123",
        "direction": "inbound",
    }


def test_outbound_built_swaps_endpoints(spark):
    [row] = _normalize(spark, [("2026-01-15 09:00:00", "fw1", BUILT_OUT)])
    assert (row["src_ip"], row["src_port"], row["dest_ip"], row["dest_port"]) == (
        "10.1.1.5",
        "50000",
        "198.51.100.7",
        "445",
    )
    assert row["direction"] == "outbound"


def test_teardown_shares_built_session_key_and_carries_bytes(spark):
    rows = _normalize(spark, [("2026-01-15 09:00:00", "fw1", BUILT_OUT), ("2026-01-15 09:01:00", "fw1", TEARDOWN_OUT)])
    built, teardown = sorted(rows, key=lambda r: r["event_time"])
    assert built["action"] == "allowed" and teardown["action"] == "teardown"
    assert built["session_key"] == teardown["session_key"] == "fw1|77"
    assert (teardown["src_ip"], teardown["dest_ip"], teardown["dest_port"]) == ("10.1.1.5", "198.51.100.7", "445")
    assert built["bytes_out"] is None and teardown["bytes_out"] == 5120


def test_local_time_is_converted_with_the_source_zone(spark):
    rows = _normalize(
        spark,
        [("Jan 15 2026 09:00:00", "fw1", BUILT_IN), ("2026-07-15 09:00:00", "fw1", BUILT_IN)],
        timezone="America/New_York",
    )
    assert sorted(r["event_time"] for r in rows) == ["2026-01-15 14:00:00", "2026-07-15 13:00:00"]


def test_acl_permitted_is_allowed_and_denied_is_blocked(spark):
    permitted = (
        "%ASA-6-106100: access-list outside_in permitted tcp outside/203.0.113.5(51234) -> "
        "inside/10.1.1.5(445) hit-cnt 1 first hit [0x1, 0x0]"
    )
    denied = permitted.replace("permitted", "denied")
    rows = {
        r["vendor_action"]: r
        for r in _normalize(spark, [("2026-01-15 09:00:00", "fw1", permitted), ("2026-01-15 09:00:00", "fw1", denied)])
    }
    assert rows["106100:permitted"]["action"] == "allowed"
    assert rows["106100:permitted"]["rule"] == "outside_in"
    assert (rows["106100:permitted"]["src_ip"], rows["106100:permitted"]["dest_port"]) == ("203.0.113.5", "445")
    assert rows["106100:denied"]["action"] == "blocked"


def test_deny_and_netbios_udp_do_not_become_allowed(spark):
    deny = (
        '%ASA-4-106023: Deny tcp src outside:203.0.113.5/51234 dst inside:10.1.1.5/445 by access-group "outside_in" '
        "[0x0, 0x0]"
    )
    udp_137 = (
        "%ASA-6-302015: Built inbound UDP connection 9 for outside:203.0.113.5/137 (203.0.113.5/137) "
        "to inside:10.1.1.5/137 (10.1.1.5/137)"
    )
    rows = _normalize(spark, [("2026-01-15 09:00:00", "fw1", deny), ("2026-01-15 09:00:00", "fw1", udp_137)])
    assert [r for r in rows if r["action"] == "allowed"] == []


def test_unparseable_line_reaches_core_with_null_ips_or_time(spark):
    broken = "%ASA-6-302013: Built inbound TCP connection for nowhere /445 (?)"
    rows = _normalize(spark, [("2026-01-15 09:00:00", "fw1", broken), ("not a time", "fw1", BUILT_IN)])
    assert len(rows) == 2
    bad_line = next(r for r in rows if r["event_time"] is not None)
    assert bad_line["action"] == "allowed" and bad_line["src_ip"] is None and bad_line["dest_ip"] is None
    assert next(r for r in rows if r["src_ip"] is not None)["event_time"] is None


def test_columns_override(spark):
    [row] = _normalize(
        spark,
        [("2026-01-15 09:00:00", "fw1", BUILT_IN)],
        ddl="ts string, host string, raw_line string",
        overrides={"timestamp": "ts", "message": "raw_line"},
    )
    assert (row["event_time"], row["dest_ip"], row["action"]) == ("2026-01-15 09:00:00", "10.1.1.5", "allowed")


def test_a_message_holding_a_control_separator_is_left_unparsed_not_misread(spark):
    # The message patterns' groups are split on U+0001: such a message must not shift them.
    odd = BUILT_IN.replace("outside:", "out\u0001side:", 1)
    [row] = _normalize(spark, [("2026-01-15 09:00:00", "fw1", odd)])
    assert (row["action"], row["src_ip"], row["dest_ip"], row["dest_port"]) == ("allowed", None, None, None)


def test_groups_that_did_not_take_part_are_null(spark):
    # No direction word: the optional group is empty, and stays null rather than ''.
    plain = BUILT_IN.replace("Built inbound TCP", "Built TCP")
    [row] = _normalize(spark, [("2026-01-15 09:00:00", "fw1", plain)])
    assert row["direction"] is None
    assert (row["src_ip"], row["dest_ip"], row["dest_port"]) == ("203.0.113.5", "10.1.1.5", "445")


def test_syslog_time_shapes(spark):
    times = ["Jan  5 2026 09:00:00.250", " Jan 5 2026 09:00:00", "2026-01-05T09:00:00Z", "2026/01/05 09:00:00",
             "Jan 5 09:00:00"]
    messages = [BUILT_IN.replace("connection 123", f"connection {i}") for i in range(len(times))]
    rows = _normalize(spark, [(t, "fw1", m) for t, m in zip(times, messages, strict=True)])
    by_session = {row["session_id"]: row["event_time"] for row in rows}
    # The year-less BSD time cannot be dated: null, which the core rejects.
    assert [by_session[str(i)] for i in range(len(times))] == ["2026-01-05 09:00:00"] * 4 + [None]


def test_a_line_break_after_the_message_is_padding(spark):
    [row] = _normalize(spark, [("2026-01-15 09:00:00", "fw1", BUILT_IN + "\nnext line")])
    assert (row["src_ip"], row["dest_ip"], row["dest_port"]) == ("203.0.113.5", "10.1.1.5", "445")

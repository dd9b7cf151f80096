"""zeek_conn: established states, SMB by port or service, dotted and underscore names."""

from __future__ import annotations

from smb_pipeline.formats.zeek_conn import ZEEK_CONN
from tests.formats.support import normalize_rows, rows_with_text_time

DOTTED = (
    "ts double, uid string, `id.orig_h` string, `id.orig_p` int, `id.resp_h` string, `id.resp_p` int, "
    "proto string, service string, orig_bytes bigint, resp_bytes bigint, conn_state string"
)
UNDERSCORE = DOTTED.replace("`id.", "`id_")
SMB = (
    1588205199.82437,
    "CJ21Le4zsTUcyKKi98",
    "10.0.1.6",
    56880,
    "10.0.0.4",
    445,
    "tcp",
    "gssapi,smb,krb",
    4020,
    1681,
    "RSTO",
)


def _normalize(spark, rows, ddl=DOTTED, overrides=None):
    frame = normalize_rows(spark, ZEEK_CONN, rows, ddl, overrides=overrides)
    return rows_with_text_time(frame, "yyyy-MM-dd HH:mm:ss.SSS")


def test_established_smb_fires_with_dotted_names(spark):
    [row] = _normalize(spark, [SMB])
    assert row == {
        "event_time": "2020-04-30 00:06:39.824",
        "src_ip": "10.0.1.6",
        "dest_ip": "10.0.0.4",
        "src_port": "56880",
        "dest_port": "445",
        "transport": "tcp",
        "app": "gssapi,smb,krb",
        "action": "allowed",
        "vendor_action": "RSTO",
        "bytes_in": 1681,
        "bytes_out": 4020,
        "dvc": None,
        "rule": None,
        "session_id": "CJ21Le4zsTUcyKKi98",
        "session_key": None,
        "direction": None,
    }


def test_underscore_names_and_smb_service_on_other_port(spark):
    other_port = (*SMB[:5], 4455, *SMB[6:])
    [row] = _normalize(spark, [other_port], ddl=UNDERSCORE)
    assert (row["src_ip"], row["dest_port"], row["action"]) == ("10.0.1.6", "4455", "allowed")


def test_sensor_name_becomes_the_device(spark):
    """HELK/OTRF exports name the sensor `@system`; Corelight `_system_name`."""
    for column in ("`@system`", "_system_name", "_node_name"):
        [row] = _normalize(spark, [(*SMB, "bobs.bigwheel.local")], ddl=f"{UNDERSCORE}, {column} string")
        assert row["dvc"] == "bobs.bigwheel.local"


def test_not_established_and_netbios_udp_are_ignored(spark):
    s0 = (*SMB[:7], None, 0, 0, "S0")
    rej = (*SMB[:7], None, 0, 0, "REJ")
    udp_137 = (1588205199.9, "Cx", "10.0.1.6", 137, "10.0.1.255", 137, "udp", "dns", 50, 0, "SF")
    assert _normalize(spark, [s0, rej, udp_137]) == []


def test_columns_override(spark):
    ddl = DOTTED.replace("conn_state string", "state string")
    [row] = _normalize(spark, [SMB], ddl=ddl, overrides={"conn_state": "state"})
    assert (row["vendor_action"], row["action"]) == ("RSTO", "allowed")

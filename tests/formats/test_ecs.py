"""ecs: nested and flattened names, verdict in event.type (not event.outcome), SMB by port or protocol."""

from __future__ import annotations

from smb_pipeline.formats.ecs import ECS
from tests.formats.support import normalize_rows, rows_with_text_time

NESTED = (
    "`@timestamp` string, source struct<ip:string, port:int, bytes:bigint>, "
    "destination struct<ip:string, port:int, bytes:bigint>, "
    "network struct<transport:string, protocol:string, application:string, direction:string>, "
    "event struct<type:array<string>, action:string, outcome:string>, observer struct<name:string>, "
    "rule struct<name:string>"
)
FLAT = (
    "`@timestamp` string, `source.ip` string, `source.port` int, `destination.ip` string, `dst_port` int, "
    "`network.transport` string, `event.type` array<string>"
)


def _event(types=("connection", "allowed"), outcome="success", port=445, transport="tcp", protocol="smb"):
    return (
        "2026-01-15T09:00:00Z",
        ("10.1.1.9", 50000, 4000),
        ("10.1.1.5", port, 1700),
        (transport, protocol, None, "internal"),
        (list(types), "network_flow", outcome),
        ("fw-ecs",),
        ("allow-smb",),
    )


def _normalize(spark, rows, ddl=NESTED, overrides=None):
    return rows_with_text_time(normalize_rows(spark, ECS, rows, ddl, overrides=overrides))


def test_allowed_smb_fires_from_nested_structs(spark):
    [row] = _normalize(spark, [_event(outcome="failure")])
    assert row == {
        "event_time": "2026-01-15 09:00:00",
        "src_ip": "10.1.1.9",
        "dest_ip": "10.1.1.5",
        "src_port": "50000",
        "dest_port": "445",
        "transport": "tcp",
        "app": "smb",
        "action": "allowed",
        "vendor_action": "network_flow",
        "bytes_in": 1700,
        "bytes_out": 4000,
        "dvc": "fw-ecs",
        "rule": "allow-smb",
        "session_id": None,
        "session_key": None,
        "direction": "internal",
    }


def test_denied_with_success_outcome_and_netbios_udp_are_not_allowed(spark):
    denied = _event(types=("connection", "denied"), outcome="success")
    udp_137 = _event(port=137, transport="udp", protocol=None)
    rows = _normalize(spark, [denied, udp_137])
    assert [r["action"] for r in rows] == ["blocked"]


def test_flat_dotted_names_and_columns_override(spark):
    row_in = ("2026-01-15T09:00:00Z", "10.1.1.9", 50000, "10.1.1.5", 445, "6", ["allowed"])
    [row] = _normalize(spark, [row_in], ddl=FLAT, overrides={"destination.port": "dst_port"})
    assert (row["src_ip"], row["dest_port"], row["transport"], row["action"], row["app"]) == (
        "10.1.1.9",
        "445",
        "tcp",
        "allowed",
        None,
    )

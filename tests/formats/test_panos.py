"""panos: fires on allowed SMB, ignores blocks and near misses, dedupes start/end, pushes its prefilter."""

from __future__ import annotations

import datetime as dt

from smb_pipeline.formats.base import FormatContext
from smb_pipeline.formats.panos import PANOS
from tests.formats.support import normalize_rows, pushed_filters

SCHEMA = (
    "time_generated string, src string, dst string, sport int, dport int, proto string, app string, "
    "action string, bytes_sent bigint, bytes_received bigint, device_name string, serial string, rule string, "
    "sessionid bigint, subtype string"
)


def _row(**changes):
    row = {
        "time_generated": "2024/01/15 10:00:00",
        "src": "10.0.0.5",
        "dst": "10.0.1.9",
        "sport": 50000,
        "dport": 445,
        "proto": "tcp",
        "app": "ms-ds-smbv3",
        "action": "allow",
        "bytes_sent": 1200,
        "bytes_received": 3400,
        "device_name": "fw-01",
        "serial": "0079",
        "rule": "allow-smb",
        "sessionid": 77,
        "subtype": "end",
    }
    row.update(changes)
    return row


def _normalize(spark, rows, schema=SCHEMA, timezone="UTC", overrides=None):
    return normalize_rows(spark, PANOS, rows, schema, timezone=timezone, overrides=overrides)


def test_fires_on_allowed_smb(spark):
    [row] = _normalize(spark, [_row()]).collect()
    assert row.event_time == dt.datetime(2024, 1, 15, 10, 0)
    assert (row.src_ip, row.dest_ip, row.src_port, row.dest_port) == ("10.0.0.5", "10.0.1.9", "50000", "445")
    assert (row.transport, row.app, row.action, row.vendor_action) == ("tcp", "ms-ds-smbv3", "allowed", "allow")
    assert (row.bytes_out, row.bytes_in) == (1200, 3400)
    assert (row.dvc, row.rule, row.session_id, row.session_key) == ("fw-01", "allow-smb", "77", "0079|77")


def test_ignores_blocks_and_near_misses(spark):
    rows = [
        _row(action=action)
        for action in ("deny", "drop", "drop ICMP", "reset-client", "reset-server", "reset-both")
    ] + [_row(dport=port, proto="udp", app="netbios-ns") for port in (137, 138)]
    assert _normalize(spark, rows).count() == 0


def test_blocked_action_never_allowed(spark):
    df = spark.createDataFrame([_row(action="reset-both")], SCHEMA)
    fields = PANOS.resolve(df.schema, "src1", {}, "test")
    [row] = PANOS.normalize(df, fields, FormatContext(source="src1"), ()).collect()
    assert (row.action, row.vendor_action) == ("blocked", "reset-both")


def test_app_on_other_port_and_port_with_unknown_app_fire(spark):
    rows = [_row(dport=8445, app="ms-ds-smb"), _row(dport=445, app="incomplete")]
    assert _normalize(spark, rows).count() == 2


def test_start_and_end_share_session_key(spark):
    rows = [_row(subtype="start", bytes_sent=80, bytes_received=60), _row(subtype="end")]
    start, end = sorted(_normalize(spark, rows).collect(), key=lambda r: r.bytes_out is not None)
    assert start.session_key == end.session_key == "0079|77"
    assert (start.bytes_out, start.bytes_in) == (None, None)
    assert (end.bytes_out, end.bytes_in) == (1200, 3400)


def test_device_local_time_uses_configured_zone(spark):
    [row] = _normalize(spark, [_row()], timezone="America/New_York").collect()
    assert row.event_time == dt.datetime(2024, 1, 15, 15, 0)


def test_columns_override(spark):
    schema = SCHEMA.replace("src string", "source_address string")
    rows = [{("source_address" if k == "src" else k): v for k, v in _row().items()}]
    [row] = _normalize(spark, rows, schema=schema, overrides={"src": "source_address"}).collect()
    assert row.src_ip == "10.0.0.5"


def test_prefilter_pushes_only_exact_filters_to_parquet(spark, tmp_path):
    path = str(tmp_path / "panos")
    spark.createDataFrame([_row()], SCHEMA).write.parquet(path)
    df = spark.read.parquet(path)
    fields = PANOS.resolve(df.schema, "src1", {}, "test")
    ctx = FormatContext(source="src1", smb_apps=("smb",))
    pushed = pushed_filters(df.filter(PANOS.prefilter(fields, ctx)))
    # The port IN is exact but sits in an OR with the application test, which Parquet cannot
    # evaluate (any case, in a list): nothing that compares text bytes is pushed.
    assert "In(action," not in pushed and "In(app," not in pushed, pushed

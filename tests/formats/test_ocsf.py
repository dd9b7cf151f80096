"""ocsf: nested endpoints; fires on Allowed SMB, ignores Denied/Blocked and near misses, Open/Close dedupe."""

from __future__ import annotations

import datetime as dt

from smb_pipeline.formats.base import FormatContext
from smb_pipeline.formats.ocsf import OCSF
from tests.formats.support import normalize_rows, pushed_filters

SCHEMA = (
    "time bigint, class_uid int, activity_id int, action_id int, disposition_id int, action string, "
    "app_name string, src_endpoint struct<ip: string, port: int>, dst_endpoint struct<ip: string, port: int>, "
    "connection_info struct<protocol_num: int, uid: string, direction_id: int>, "
    "traffic struct<bytes_in: bigint, bytes_out: bigint>, device struct<hostname: string>, "
    "firewall_rule struct<name: string>"
)


def _row(**changes):
    row = {
        "time": 1705312800123,
        "class_uid": 4001,
        "activity_id": 6,
        "action_id": 1,
        "disposition_id": 1,
        "action": "Allowed",
        "app_name": None,
        "src_endpoint": {"ip": "10.0.0.5", "port": 50000},
        "dst_endpoint": {"ip": "10.0.1.9", "port": 445},
        "connection_info": {"protocol_num": 6, "uid": None, "direction_id": 3},
        "traffic": {"bytes_in": 3400, "bytes_out": 1200},
        "device": {"hostname": "fw-01"},
        "firewall_rule": {"name": "files"},
    }
    row.update(changes)
    return row


def _normalize(spark, rows, schema=SCHEMA, overrides=None):
    return normalize_rows(spark, OCSF, rows, schema, overrides=overrides)


def test_fires_on_allowed_smb(spark):
    [row] = _normalize(spark, [_row()]).collect()
    assert row.event_time == dt.datetime(2024, 1, 15, 10, 0, 0, 123000)
    assert (row.src_ip, row.dest_ip, row.src_port, row.dest_port) == ("10.0.0.5", "10.0.1.9", "50000", "445")
    assert (row.transport, row.action, row.vendor_action) == ("tcp", "allowed", "Allowed")
    assert (row.bytes_out, row.bytes_in) == (1200, 3400)
    assert (row.dvc, row.rule, row.session_key, row.direction) == ("fw-01", "files", None, "lateral")


def test_disposition_decides_without_action_id(spark):
    rows = [_row(action_id=None, action=None), _row(action_id=None, disposition_id=2, action=None)]
    assert [r.action for r in _normalize(spark, rows).collect()] == ["allowed"]


def test_ignores_denied_blocked_and_near_misses(spark):
    rows = [
        _row(action_id=2, disposition_id=2),
        _row(action_id=None, disposition_id=6),
        _row(action_id=None, disposition_id=21),
        _row(class_uid=4003),
    ] + [_row(dst_endpoint={"ip": "10.0.1.9", "port": port}) for port in (137, 138)]
    assert _normalize(spark, rows).count() == 0


def test_denied_never_allowed(spark):
    df = spark.createDataFrame([_row(action_id=2, disposition_id=1), _row(action_id=0, disposition_id=25)], SCHEMA)
    fields = OCSF.resolve(df.schema, "src1", {}, "test")
    assert [r.action for r in OCSF.normalize(df, fields, FormatContext("src1"), ()).collect()] == ["blocked"] * 2


def test_open_and_close_share_session_key(spark):
    conn = {"protocol_num": 6, "uid": "c-1", "direction_id": 3}
    rows = [_row(activity_id=1, connection_info=conn), _row(activity_id=2, connection_info=conn)]
    by_activity = {r.vendor_action + str(r.action): r for r in _normalize(spark, rows).collect()}
    opened, closed = by_activity["Allowedallowed"], by_activity["Allowedteardown"]
    assert opened.session_key == closed.session_key == "fw-01|c-1"
    assert (opened.bytes_out, opened.bytes_in) == (None, None)
    assert (closed.bytes_out, closed.bytes_in) == (1200, 3400)


def test_smb_app_name_fires(spark):
    [row] = _normalize(spark, [_row(app_name="SMB", dst_endpoint={"ip": "10.0.1.9", "port": 8445})]).collect()
    assert row.app == "smb"


def test_columns_override(spark):
    schema = SCHEMA.replace("src_endpoint struct<ip: string", "src_endpoint struct<addr: string")
    rows = [_row(src_endpoint={"addr": "10.0.0.5", "port": 50000})]
    [row] = _normalize(spark, rows, schema=schema, overrides={"src_endpoint.ip": "src_endpoint.addr"}).collect()
    assert row.src_ip == "10.0.0.5"


def test_prefilter_pushes_only_exact_filters_to_parquet(spark, tmp_path):
    path = str(tmp_path / "ocsf")
    spark.createDataFrame([_row()], SCHEMA).write.parquet(path)
    df = spark.read.parquet(path)
    fields = OCSF.resolve(df.schema, "src1", {}, "test")
    pushed = pushed_filters(df.filter(OCSF.prefilter(fields, FormatContext("src1"))))
    # Integer codes are exact and pushed, and so is the port IN OR-ed with the app test, whose
    # spellings are byte searches (`Fields.mentions`): Parquet can rule out a row group by its dictionary.
    assert "In(action_id, [1])" in pushed or "EqualTo(action_id,1)" in pushed, pushed
    assert "In(class_uid, [4001])" in pushed or "EqualTo(class_uid,4001)" in pushed, pushed
    assert "StringContains(app_name,sMb)" in pushed, pushed

"""fortigate: fires on allowed SMB, ignores deny and near misses, dedupes start/close, honours tz, pushes down."""

from __future__ import annotations

import datetime as dt

from smb_pipeline.formats.base import FormatContext
from smb_pipeline.formats.fortigate import FORTIGATE
from tests.formats.support import normalize_rows, pushed_filters

SCHEMA = (
    "date string, time string, tz string, eventtime bigint, srcip string, dstip string, srcport int, dstport int, "
    "proto int, service string, app string, action string, sentbyte bigint, rcvdbyte bigint, devname string, "
    "policyid int, policyname string, sessionid bigint"
)


def _row(**changes):
    row = {
        "date": "2024-01-15",
        "time": "10:00:00",
        "tz": "-0700",
        "eventtime": None,
        "srcip": "10.0.0.5",
        "dstip": "10.0.1.9",
        "srcport": 50000,
        "dstport": 445,
        "proto": 6,
        "service": "SMB",
        "app": None,
        "action": "close",
        "sentbyte": 1200,
        "rcvdbyte": 3400,
        "devname": "fgt-01",
        "policyid": 12,
        "policyname": "lan-to-files",
        "sessionid": 9001,
    }
    row.update(changes)
    return row


def _normalize(spark, rows, schema=SCHEMA, timezone="UTC", overrides=None):
    return normalize_rows(spark, FORTIGATE, rows, schema, timezone=timezone, overrides=overrides)


def test_fires_on_allowed_smb(spark):
    [row] = _normalize(spark, [_row()]).collect()
    assert row.event_time == dt.datetime(2024, 1, 15, 17, 0)  # 10:00 at -0700
    assert (row.src_ip, row.dest_ip, row.src_port, row.dest_port) == ("10.0.0.5", "10.0.1.9", "50000", "445")
    assert (row.transport, row.app, row.action, row.vendor_action) == ("tcp", "smb", "teardown", "close")
    assert (row.bytes_out, row.bytes_in) == (1200, 3400)
    assert (row.dvc, row.rule, row.session_id, row.session_key) == ("fgt-01", "lan-to-files", "9001", "fgt-01|9001")


def test_accept_is_allowed(spark):
    [row] = _normalize(spark, [_row(action="accept")]).collect()
    assert row.action == "allowed"


def test_ignores_deny_and_near_misses(spark):
    rows = [_row(action="deny"), _row(action="ip-conn")] + [
        _row(dstport=port, proto=17, service="NETBIOS") for port in (137, 138)
    ]
    assert _normalize(spark, rows).count() == 0


def test_deny_never_allowed(spark):
    df = spark.createDataFrame([_row(action="deny"), _row(action="client-rst", sessionid=None)], SCHEMA)
    fields = FORTIGATE.resolve(df.schema, "src1", {}, "test")
    actions = {r.vendor_action: r.action for r in FORTIGATE.normalize(df, fields, FormatContext("src1"), ()).collect()}
    # A closing record without a session id is the session's only record: it counts as allowed.
    assert actions == {"deny": "blocked", "client-rst": "allowed"}


def test_start_and_close_share_session_key(spark):
    rows = [_row(action="start", sentbyte=0, rcvdbyte=0), _row(action="close")]
    by_action = {r.vendor_action: r for r in _normalize(spark, rows).collect()}
    assert by_action["start"].session_key == by_action["close"].session_key == "fgt-01|9001"
    assert (by_action["start"].action, by_action["start"].bytes_out, by_action["start"].bytes_in) == (
        "allowed",
        None,
        None,
    )
    assert (by_action["close"].bytes_out, by_action["close"].bytes_in) == (1200, 3400)


def test_time_zones(spark):
    rows = [
        _row(sessionid=1, tz=None),  # no tz: the source's configured zone
        _row(sessionid=2, tz="+05:30"),
        _row(sessionid=3, eventtime=1705312800123456789),  # epoch ns wins over date/time
    ]
    times = {r.session_id: r.event_time for r in _normalize(spark, rows, timezone="Europe/Berlin").collect()}
    assert times == {
        "1": dt.datetime(2024, 1, 15, 9, 0),
        "2": dt.datetime(2024, 1, 15, 4, 30),
        "3": dt.datetime(2024, 1, 15, 10, 0, 0, 123456),
    }


def test_samba_service_and_smb_app_fire(spark):
    rows = [_row(dstport=139, service="SAMBA", sessionid=1), _row(dstport=8445, service="tcp/8445", app="SMB")]
    assert _normalize(spark, rows).count() == 2


def test_columns_override(spark):
    schema = SCHEMA.replace("srcip string", "src string")
    rows = [{("src" if k == "srcip" else k): v for k, v in _row().items()}]
    [row] = _normalize(spark, rows, schema=schema, overrides={"srcip": "src"}).collect()
    assert row.src_ip == "10.0.0.5"


def test_prefilter_pushes_only_exact_filters_to_parquet(spark, tmp_path):
    path = str(tmp_path / "fortigate")
    spark.createDataFrame([_row()], SCHEMA).write.parquet(path)
    df = spark.read.parquet(path)
    fields = FORTIGATE.resolve(df.schema, "src1", {}, "test")
    pushed = pushed_filters(df.filter(FORTIGATE.prefilter(fields, FormatContext("src1"))))
    # The port IN is exact but sits in an OR with the application test, which Parquet cannot
    # evaluate (any case, in a list): nothing that compares text bytes is pushed.
    assert "In(action," not in pushed and "In(service," not in pushed, pushed

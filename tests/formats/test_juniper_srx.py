"""juniper_srx: fires on CREATE/CLOSE, ignores DENY, APPTRACK and near misses, hyphenated names, pushdown."""

from __future__ import annotations

import datetime as dt

from smb_pipeline.formats.base import FormatContext
from smb_pipeline.formats.juniper_srx import JUNIPER_SRX
from tests.formats.support import normalize_rows, pushed_filters

SCHEMA = (
    "timestamp string, host string, event string, `source-address` string, `destination-address` string, "
    "`source-port` int, `destination-port` int, `protocol-id` int, `service-name` string, application string, "
    "`policy-name` string, `session-id-32` bigint, `bytes-from-client` bigint, `bytes-from-server` bigint"
)


def _row(**changes):
    row = {
        "timestamp": "2024-01-15T11:00:00.000+01:00",
        "host": "srx-01",
        "event": "RT_FLOW_SESSION_CLOSE",
        "source-address": "10.0.0.5",
        "destination-address": "10.0.1.9",
        "source-port": 50000,
        "destination-port": 445,
        "protocol-id": 6,
        "service-name": "junos-smb",
        "application": "UNKNOWN",
        "policy-name": "files",
        "session-id-32": 4242,
        "bytes-from-client": 1200,
        "bytes-from-server": 3400,
    }
    row.update(changes)
    return row


def _normalize(spark, rows, schema=SCHEMA, overrides=None):
    return normalize_rows(spark, JUNIPER_SRX, rows, schema, overrides=overrides)


def test_fires_on_closed_smb_session(spark):
    [row] = _normalize(spark, [_row()]).collect()
    assert row.event_time == dt.datetime(2024, 1, 15, 10, 0)
    assert (row.src_ip, row.dest_ip, row.src_port, row.dest_port) == ("10.0.0.5", "10.0.1.9", "50000", "445")
    assert (row.transport, row.app, row.action) == ("tcp", "junos-smb,unknown", "teardown")
    assert row.vendor_action == "RT_FLOW_SESSION_CLOSE"
    assert (row.bytes_out, row.bytes_in) == (1200, 3400)
    assert (row.dvc, row.rule, row.session_id, row.session_key) == ("srx-01", "files", "4242", "srx-01|4242")


def test_ignores_deny_apptrack_and_near_misses(spark):
    rows = [
        _row(event="RT_FLOW_SESSION_DENY"),
        _row(event="APPTRACK_SESSION_CLOSE"),
        _row(event="APPTRACK_SESSION_CREATE"),
    ] + [_row(**{"destination-port": port, "protocol-id": 17, "service-name": "junos-netbios"}) for port in (137, 138)]
    assert _normalize(spark, rows).count() == 0


def test_deny_and_apptrack_never_count(spark):
    df = spark.createDataFrame([_row(event="RT_FLOW_SESSION_DENY"), _row(event="APPTRACK_SESSION_CLOSE")], SCHEMA)
    fields = JUNIPER_SRX.resolve(df.schema, "src1", {}, "test")
    rows = JUNIPER_SRX.normalize(df, fields, FormatContext("src1"), ()).collect()
    actions = {r.vendor_action: r.action for r in rows}
    assert actions == {"RT_FLOW_SESSION_DENY": "blocked", "APPTRACK_SESSION_CLOSE": None}


def test_create_and_close_share_session_key(spark):
    rows = [_row(event="RT_FLOW_SESSION_CREATE", **{"bytes-from-client": None, "bytes-from-server": None}), _row()]
    by_event = {r.vendor_action: r for r in _normalize(spark, rows).collect()}
    create, close = by_event["RT_FLOW_SESSION_CREATE"], by_event["RT_FLOW_SESSION_CLOSE"]
    assert create.session_key == close.session_key == "srx-01|4242"
    assert (create.action, create.bytes_out, create.bytes_in) == ("allowed", None, None)
    assert (close.bytes_out, close.bytes_in) == (1200, 3400)


def test_netbios_session_service_fires(spark):
    [row] = _normalize(spark, [_row(**{"destination-port": 1139, "service-name": "junos-netbios-session"})]).collect()
    assert row.dest_port == "1139"


def test_columns_override(spark):
    schema = SCHEMA.replace("`source-address` string", "source_address string")
    rows = [{("source_address" if k == "source-address" else k): v for k, v in _row().items()}]
    [row] = _normalize(spark, rows, schema=schema, overrides={"source-address": "source_address"}).collect()
    assert row.src_ip == "10.0.0.5"


def test_prefilter_pushes_only_exact_filters_to_parquet(spark, tmp_path):
    path = str(tmp_path / "srx")
    spark.createDataFrame([_row()], SCHEMA).write.parquet(path)
    df = spark.read.parquet(path)
    fields = JUNIPER_SRX.resolve(df.schema, "src1", {}, "test")
    pushed = pushed_filters(df.filter(JUNIPER_SRX.prefilter(fields, FormatContext("src1"))))
    # `event` is text, compared trimmed and in any case; the port IN is OR-ed with the service
    # test: nothing that compares text bytes reaches the scan.
    assert "In(event," not in pushed and "In(`service-name`," not in pushed, pushed

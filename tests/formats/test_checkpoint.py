"""checkpoint: fires on accepted SMB, ignores drops and near misses, keys log updates, pushes its prefilter."""

from __future__ import annotations

import datetime as dt

from smb_pipeline.formats.base import FormatContext
from smb_pipeline.formats.checkpoint import CHECKPOINT
from tests.formats.support import normalize_rows, pushed_filters

SCHEMA = (
    "time bigint, src string, dst string, s_port int, service int, proto int, service_id string, action string, "
    "client_outbound_bytes bigint, client_inbound_bytes bigint, origin string, rule_name string, loguid string, "
    "ifdir string"
)


def _row(**changes):
    row = {
        "time": 1705312800,
        "src": "10.0.0.5",
        "dst": "10.0.1.9",
        "s_port": 50000,
        "service": 445,
        "proto": 6,
        "service_id": "microsoft-ds",
        "action": "Accept",
        "client_outbound_bytes": 1200,
        "client_inbound_bytes": 3400,
        "origin": "192.0.2.1",
        "rule_name": "files",
        "loguid": "{0x65a50000,0x1}",
        "ifdir": "inbound",
    }
    row.update(changes)
    return row


def _normalize(spark, rows, schema=SCHEMA, overrides=None):
    return normalize_rows(spark, CHECKPOINT, rows, schema, overrides=overrides)


def test_fires_on_accepted_smb(spark):
    [row] = _normalize(spark, [_row()]).collect()
    assert row.event_time == dt.datetime(2024, 1, 15, 10, 0)
    assert (row.src_ip, row.dest_ip, row.src_port, row.dest_port) == ("10.0.0.5", "10.0.1.9", "50000", "445")
    assert (row.transport, row.app, row.action, row.vendor_action) == ("tcp", "microsoft-ds", "allowed", "Accept")
    assert (row.bytes_out, row.bytes_in) == (1200, 3400)
    assert (row.dvc, row.rule, row.direction) == ("192.0.2.1", "files", "inbound")
    assert row.session_key == "192.0.2.1|{0x65a50000,0x1}"


def test_ignores_blocks_and_near_misses(spark):
    rows = [_row(action=action) for action in ("Drop", "Reject", "Block", "Prevent")] + [
        _row(service=port, proto=17, service_id="nbname") for port in (137, 138)
    ]
    assert _normalize(spark, rows).count() == 0


def test_drop_never_allowed(spark):
    df = spark.createDataFrame([_row(action="Drop")], SCHEMA)
    fields = CHECKPOINT.resolve(df.schema, "src1", {}, "test")
    [row] = CHECKPOINT.normalize(df, fields, FormatContext("src1"), ()).collect()
    assert row.action == "blocked"


def test_service_name_on_other_port_fires(spark):
    [row] = _normalize(spark, [_row(service=1139, service_id="nbsession")]).collect()
    assert row.app == "nbsession"


def test_updates_of_one_log_share_session_key(spark):
    rows = [_row(client_outbound_bytes=100), _row(time=1705312860)]
    assert {r.session_key for r in _normalize(spark, rows).collect()} == {"192.0.2.1|{0x65a50000,0x1}"}


def test_columns_override(spark):
    schema = SCHEMA.replace("src string", "source_ip string")
    rows = [{("source_ip" if k == "src" else k): v for k, v in _row().items()}]
    [row] = _normalize(spark, rows, schema=schema, overrides={"src": "source_ip"}).collect()
    assert row.src_ip == "10.0.0.5"


def test_prefilter_pushes_only_exact_filters_to_parquet(spark, tmp_path):
    path = str(tmp_path / "checkpoint")
    spark.createDataFrame([_row()], SCHEMA).write.parquet(path)
    df = spark.read.parquet(path)
    fields = CHECKPOINT.resolve(df.schema, "src1", {}, "test")
    pushed = pushed_filters(df.filter(CHECKPOINT.prefilter(fields, FormatContext("src1"))))
    # The port IN is exact but sits in an OR with the service-name test, which Parquet cannot
    # evaluate (any case, in a list): nothing that compares text bytes is pushed.
    assert "In(action," not in pushed and "In(service_id," not in pushed, pushed

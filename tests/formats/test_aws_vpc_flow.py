"""aws_vpc_flow: fires on accepted requests to 445, ignores rejects, NODATA, replies and near misses; pushdown."""

from __future__ import annotations

import datetime as dt

from smb_pipeline.formats.aws_vpc_flow import AWS_VPC_FLOW
from smb_pipeline.formats.base import FormatContext
from tests.formats.support import normalize_rows, pushed_filters

SCHEMA = (
    "version int, account_id string, interface_id string, srcaddr string, dstaddr string, srcport int, "
    "dstport int, protocol int, packets bigint, bytes bigint, start bigint, `end` bigint, action string, "
    "log_status string, flow_direction string"
)


def _row(**changes):
    row = {
        "version": 5,
        "account_id": "123456789012",
        "interface_id": "eni-0abc",
        "srcaddr": "10.0.0.5",
        "dstaddr": "10.0.1.9",
        "srcport": 50000,
        "dstport": 445,
        "protocol": 6,
        "packets": 10,
        "bytes": 1200,
        "start": 1705312800,
        "end": 1705312860,
        "action": "ACCEPT",
        "log_status": "OK",
        "flow_direction": "ingress",
    }
    row.update(changes)
    return row


def _normalize(spark, rows, schema=SCHEMA, overrides=None):
    return normalize_rows(spark, AWS_VPC_FLOW, rows, schema, overrides=overrides)


def test_fires_on_accepted_request(spark):
    [row] = _normalize(spark, [_row()]).collect()
    assert row.event_time == dt.datetime(2024, 1, 15, 10, 0)
    assert (row.src_ip, row.dest_ip, row.src_port, row.dest_port) == ("10.0.0.5", "10.0.1.9", "50000", "445")
    assert (row.transport, row.action, row.vendor_action) == ("tcp", "allowed", "ACCEPT")
    assert (row.bytes_out, row.bytes_in) == (1200, None)
    assert (row.dvc, row.rule, row.session_key, row.direction) == ("eni-0abc", None, None, "ingress")


def test_ignores_reject_nodata_and_near_misses(spark):
    rows = [
        _row(action="REJECT"),
        _row(action=None, log_status="NODATA", srcaddr=None, dstaddr=None, srcport=None, dstport=None),
        _row(action=None, log_status="SKIPDATA", dstport=None),
    ] + [_row(dstport=port, protocol=17) for port in (137, 138)]
    assert _normalize(spark, rows).count() == 0


def test_reply_from_server_is_not_smb(spark):
    reply = _row(srcaddr="10.0.1.9", dstaddr="10.0.0.5", srcport=445, dstport=50000, bytes=3400)
    assert _normalize(spark, [reply]).count() == 0


def test_reject_never_allowed(spark):
    df = spark.createDataFrame([_row(action="REJECT"), _row(action="ACCEPT", log_status="SKIPDATA")], SCHEMA)
    fields = AWS_VPC_FLOW.resolve(df.schema, "src1", {}, "test")
    rows = AWS_VPC_FLOW.normalize(df, fields, FormatContext("src1"), ()).collect()
    assert sorted(str(r.action) for r in rows) == ["None", "blocked"]


def test_columns_override(spark):
    schema = SCHEMA.replace("srcaddr string", "src_addr string")
    rows = [{("src_addr" if k == "srcaddr" else k): v for k, v in _row().items()}]
    [row] = _normalize(spark, rows, schema=schema, overrides={"srcaddr": "src_addr"}).collect()
    assert row.src_ip == "10.0.0.5"


def test_prefilter_pushes_only_exact_filters_to_parquet(spark, tmp_path):
    path = str(tmp_path / "vpc")
    spark.createDataFrame([_row()], SCHEMA).write.parquet(path)
    df = spark.read.parquet(path)
    fields = AWS_VPC_FLOW.resolve(df.schema, "src1", {}, "test")
    pushed = pushed_filters(df.filter(AWS_VPC_FLOW.prefilter(fields, FormatContext("src1"))))
    assert "In(dstport, [139,445])" in pushed, pushed  # exact on an integer column: pushed
    assert "action" not in pushed, pushed  # text compared trimmed and in any case: not pushed

"""gcp_firewall: nested jsonPayload fields; fires on ALLOWED to 445, ignores DENIED and near misses; pushdown."""

from __future__ import annotations

import datetime as dt

from smb_pipeline.formats.base import FormatContext
from smb_pipeline.formats.gcp_firewall import GCP_FIREWALL
from tests.formats.support import normalize_rows, pushed_filters

SCHEMA = (
    "timestamp string, jsonPayload struct<connection: struct<src_ip: string, src_port: int, dest_ip: string, "
    "dest_port: int, protocol: int>, disposition: string, rule_details: struct<reference: string, "
    "direction: string>, instance: struct<vm_name: string>>"
)


def _row(dest_port=445, protocol=6, disposition="ALLOWED", timestamp="2024-01-15T10:00:00.123456Z"):
    return {
        "timestamp": timestamp,
        "jsonPayload": {
            "connection": {
                "src_ip": "10.0.0.5",
                "src_port": 50000,
                "dest_ip": "10.0.1.9",
                "dest_port": dest_port,
                "protocol": protocol,
            },
            "disposition": disposition,
            "rule_details": {"reference": "network:default/firewall:allow-smb", "direction": "INGRESS"},
            "instance": {"vm_name": "files-1"},
        },
    }


def _normalize(spark, rows, schema=SCHEMA, overrides=None):
    return normalize_rows(spark, GCP_FIREWALL, rows, schema, overrides=overrides)


def test_fires_on_allowed_smb(spark):
    [row] = _normalize(spark, [_row()]).collect()
    assert row.event_time == dt.datetime(2024, 1, 15, 10, 0, 0, 123456)
    assert (row.src_ip, row.dest_ip, row.src_port, row.dest_port) == ("10.0.0.5", "10.0.1.9", "50000", "445")
    assert (row.transport, row.action, row.vendor_action) == ("tcp", "allowed", "ALLOWED")
    assert (row.bytes_out, row.bytes_in, row.session_key) == (None, None, None)
    assert (row.dvc, row.rule, row.direction) == ("files-1", "network:default/firewall:allow-smb", "ingress")


def test_ignores_denied_and_near_misses(spark):
    rows = [_row(disposition="DENIED")] + [_row(dest_port=port, protocol=17) for port in (137, 138)]
    assert _normalize(spark, rows).count() == 0


def test_denied_never_allowed(spark):
    df = spark.createDataFrame([_row(disposition="DENIED")], SCHEMA)
    fields = GCP_FIREWALL.resolve(df.schema, "src1", {}, "test")
    [row] = GCP_FIREWALL.normalize(df, fields, FormatContext("src1"), ()).collect()
    assert row.action == "blocked"


def test_columns_override_with_flat_column(spark):
    schema = SCHEMA + ", src_ip string"
    rows = [dict(_row(), src_ip="10.9.9.9")]
    [row] = _normalize(spark, rows, schema=schema, overrides={"jsonPayload.connection.src_ip": "src_ip"}).collect()
    assert row.src_ip == "10.9.9.9"


def test_prefilter_pushes_only_exact_filters_to_parquet(spark, tmp_path):
    path = str(tmp_path / "gcp")
    spark.createDataFrame([_row()], SCHEMA).write.parquet(path)
    df = spark.read.parquet(path)
    fields = GCP_FIREWALL.resolve(df.schema, "src1", {}, "test")
    pushed = pushed_filters(df.filter(GCP_FIREWALL.prefilter(fields, FormatContext("src1"))))
    assert "In(jsonPayload.connection.dest_port, [139,445])" in pushed, pushed  # exact: integer column
    assert "disposition" not in pushed, pushed  # text compared trimmed and in any case: not pushed

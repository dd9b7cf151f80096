"""Validation of canonical events: canonical IPs, integer ports, and a reject reason per bad row.

A row that cannot be trusted is never dropped: it gets a `reject_reason` (a stable code
for dashboards) and a `reject_detail` naming the column and the value, and the run writes
it to the rejects table.
"""

from __future__ import annotations

from collections.abc import Callable

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from smb_pipeline.transforms.ip import with_ip_hex, with_ip_text

_PORT_TEXT = r"^\d{1,5}$"
# The 128-bit keys of the source and destination addresses that validation adds (`transforms.ip`).
ADDRESS_KEYS = ("src_ip_hex", "dest_ip_hex")
_SRC_KEY, _DEST_KEY = ADDRESS_KEYS


def _valid_port(text: Column) -> Column:
    return text.rlike(_PORT_TEXT) & (text.cast("int") <= 65535)


def _detail(column: str) -> Column:
    return F.format_string(f"{column} %s is not valid", F.to_json(F.struct(F.col(f"_raw_{column}").alias("v"))))


def _unchanged(df: DataFrame) -> DataFrame:
    return df


def with_validated_fields(df: DataFrame, stage_end: Callable[[DataFrame], DataFrame] = _unchanged) -> DataFrame:
    """Canonicalize `src_ip`, `dest_ip` and ports; add `reject_reason` / `reject_detail` (null when valid).

    Also keeps `ADDRESS_KEYS` (`src_ip_hex` / `dest_ip_hex`, 128-bit keys) for the company-subnet
    join and the pairs' direction.

    `stage_end` is applied after each step (both keys, the reasons, both texts): the run passes
    the engine's generated-code stage end (`run.staging`), so that each step is small enough for
    the JIT, including the last, which the run extends with the status and the company-subnet
    join; it does not change the result.
    """
    # Independent columns share one call: classic pyspark analyzes the whole plan at each call.
    checked = (
        df.withColumnsRenamed({name: f"_raw_{name}" for name in ("src_ip", "dest_ip", "src_port", "dest_port")})
        .transform(with_ip_hex, "_raw_src_ip", _SRC_KEY, "_src_quad")
        .transform(stage_end)
        .transform(with_ip_hex, "_raw_dest_ip", _DEST_KEY, "_dest_quad")
        .transform(stage_end)
    )
    src_port_ok = F.col("_raw_src_port").isNull() | _valid_port(F.col("_raw_src_port"))
    dest_port_ok = F.col("_raw_dest_port").isNull() | _valid_port(F.col("_raw_dest_port"))
    checks = [
        ("invalid_time", F.col("event_time").isNull(), F.lit("event time is missing or not parseable")),
        ("invalid_src_ip", F.col(_SRC_KEY).isNull(), _detail("src_ip")),
        ("invalid_dest_ip", F.col(_DEST_KEY).isNull(), _detail("dest_ip")),
        ("invalid_src_port", ~src_port_ok, _detail("src_port")),
        ("invalid_dest_port", ~dest_port_ok, _detail("dest_port")),
    ]
    reason: Column = F.lit(None).cast("string")
    detail: Column = F.lit(None).cast("string")
    for code, failed, message in reversed(checks):  # the first failing check wins
        reason = F.when(failed, F.lit(code)).otherwise(reason)
        detail = F.when(failed, message).otherwise(detail)
    return (
        checked.withColumns({"reject_reason": reason, "reject_detail": detail})
        .transform(stage_end)
        .transform(with_ip_text, _SRC_KEY, "src_ip", "_src_quad")
        .transform(stage_end)
        .transform(with_ip_text, _DEST_KEY, "dest_ip", "_dest_quad")
        .transform(stage_end)
        .withColumns({"src_port": F.when(src_port_ok, F.col("_raw_src_port").cast("int")),
                      "dest_port": F.when(dest_port_ok, F.col("_raw_dest_port").cast("int"))})
        .drop("_raw_src_ip", "_raw_dest_ip", "_raw_src_port", "_raw_dest_port")
    )

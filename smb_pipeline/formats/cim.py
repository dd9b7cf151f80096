"""`cim`: archives already in Splunk CIM Network_Traffic field names."""

from __future__ import annotations

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from smb_pipeline.formats.base import (
    Fields,
    FormatContext,
    SourceFormat,
    any_time_to_utc,
    port_text,
    raw_variants,
    smb_prefilter,
    to_canonical,
)

ALLOWED_ACTIONS = frozenset({"allowed"})
ACTIONS = frozenset({"allowed", "blocked", "teardown"})
SMB_APPS = frozenset({"smb", "ms-ds-smb", "netbios-ss"})

FIELDS = {
    "_time": ("_time",),
    "src_ip": ("src_ip",),
    "dest_ip": ("dest_ip",),
    "src_port": ("src_port",),
    "dest_port": ("dest_port",),
    "transport": ("transport",),
    "app": ("app",),
    "action": ("action",),
    "bytes_in": ("bytes_in",),
    "bytes_out": ("bytes_out",),
    "dvc": ("dvc",),
    "rule": ("rule",),
    "session_id": ("session_id",),
}
# What the classic search needs (Splunk Security Essentials' own demo data has only these five);
# every other field is null when absent, and matching by app does not apply without `app`.
REQUIRED = frozenset({"_time", "src_ip", "dest_ip", "dest_port", "action"})


def prefilter_cim(fields: Fields, context: FormatContext) -> Column:
    allowed = fields.isin("action", raw_variants(ALLOWED_ACTIONS))
    return allowed & smb_prefilter(fields, context, "dest_port", ("app",))


def normalize_cim(df: DataFrame, fields: Fields, context: FormatContext, keep: tuple[str, ...]) -> DataFrame:
    action = F.lower(F.trim(fields.col("action")))
    return to_canonical(
        df,
        {
            "event_time": any_time_to_utc(fields.col("_time"), fields.type("_time"), context.timezone),
            "src_ip": fields.col("src_ip"),
            "dest_ip": fields.col("dest_ip"),
            "src_port": port_text(fields.col("src_port")),
            "dest_port": port_text(fields.col("dest_port")),
            "transport": F.lower(fields.col("transport")),
            "app": F.lower(fields.col("app")),
            "action": F.when(action.isin(*ACTIONS), action),
            "vendor_action": fields.col("action"),
            "bytes_in": fields.col("bytes_in"),
            "bytes_out": fields.col("bytes_out"),
            "dvc": fields.col("dvc"),
            "rule": fields.col("rule"),
            "session_id": fields.col("session_id"),
        },
        keep,
    )


CIM = SourceFormat(
    name="cim",
    fields=FIELDS,
    required=REQUIRED,
    prefilter=prefilter_cim,
    normalize=normalize_cim,
    smb_apps=SMB_APPS,
    description="Splunk CIM Network_Traffic field names",
)

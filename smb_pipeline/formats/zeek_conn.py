"""`zeek_conn`: Zeek conn.log records (JSON or TSV exports, dotted or underscore names).

A sensor has no verdict: a record counts as allowed when the connection was established.
"""

from __future__ import annotations

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from smb_pipeline.formats.base import (
    Fields,
    FormatContext,
    SourceFormat,
    any_time_to_utc,
    port_text,
    protocol_name,
    to_canonical,
)

# conn_state values where both sides spoke (S0, REJ, SH, SHR, RSTOS0, RSTRH, OTH did not establish).
ESTABLISHED_STATES = frozenset({"S1", "SF", "S2", "S3", "RSTO", "RSTR"})
SMB_SERVICES = frozenset({"smb"})

FIELDS = {
    "ts": ("ts",),
    "id.orig_h": ("id.orig_h", "id_orig_h"),
    "id.orig_p": ("id.orig_p", "id_orig_p"),
    "id.resp_h": ("id.resp_h", "id_resp_h"),
    "id.resp_p": ("id.resp_p", "id_resp_p"),
    "proto": ("proto",),
    "service": ("service",),
    "orig_bytes": ("orig_bytes",),
    "resp_bytes": ("resp_bytes",),
    "conn_state": ("conn_state",),
    "uid": ("uid",),
    # The sensor: `_node_name` (Zeek's add-node-names package, cluster workers), `_system_name`
    # (Corelight), `@system` (HELK / OTRF exports). Absent in plain Zeek: the source name is used.
    "_node_name": ("_node_name", "_system_name", "@system"),
}
REQUIRED = frozenset({"ts", "id.orig_h", "id.resp_h", "id.orig_p", "id.resp_p", "conn_state"})


def prefilter_zeek_conn(fields: Fields, context: FormatContext) -> Column:
    """Established (`conn_state IN`) and (resp_p IN SMB ports or `service` names an SMB app).

    `service` is a comma list ("krb,smb,gssapi"): `mentions` matches it in any case; the core
    then checks whole list elements.
    """
    smb = fields.isin("id.resp_p", context.smb_ports)
    if fields.has("service"):
        smb = smb | fields.mentions("service", sorted(set(context.smb_apps) | SMB_SERVICES))
    return fields.isin("conn_state", sorted(ESTABLISHED_STATES)) & smb


def normalize_zeek_conn(df: DataFrame, fields: Fields, context: FormatContext, keep: tuple[str, ...]) -> DataFrame:
    state = F.upper(F.trim(fields.col("conn_state")))
    return to_canonical(
        df,
        {
            "event_time": any_time_to_utc(fields.col("ts"), fields.type("ts"), context.timezone),
            "src_ip": fields.col("id.orig_h"),
            "dest_ip": fields.col("id.resp_h"),
            "src_port": port_text(fields.col("id.orig_p")),
            "dest_port": port_text(fields.col("id.resp_p")),
            "transport": protocol_name(fields.col("proto")),
            "app": F.lower(fields.col("service")),
            # Not established is no verdict (the sensor only saw an attempt): null, not 'blocked'.
            "action": F.when(state.isin(*ESTABLISHED_STATES), "allowed"),
            "vendor_action": fields.col("conn_state"),
            "bytes_out": fields.col("orig_bytes").try_cast("bigint"),
            "bytes_in": fields.col("resp_bytes").try_cast("bigint"),
            "session_id": fields.col("uid"),
            "dvc": fields.col("_node_name"),
        },
        keep,
    )


ZEEK_CONN = SourceFormat(
    name="zeek_conn",
    fields=FIELDS,
    required=REQUIRED,
    prefilter=prefilter_zeek_conn,
    normalize=normalize_zeek_conn,
    smb_apps=SMB_SERVICES,
    description="Zeek conn.log (id.orig_h or id_orig_h names)",
)

"""Allowlist suppression: matching alerts are kept and flagged (`suppressed`, `suppressed_by`),
never dropped, so an auditor sees what the allowlist hid.

An entry matches when every key it names matches: `src` / `dest` contain the address, every
destination port of the alert is in `dest_ports`, the detection is in `detections` (default all)
and the alert's day is not after `expires`. The first matching entry, in file order, is named.
The allowlist is a short list: each entry is an expression (range checks on the 32-hex-digit
address keys of smb_pipeline.transforms.ip), so no join is needed.
"""

from __future__ import annotations

from collections.abc import Sequence

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from smb_pipeline.alerts.allowlist import AllowlistEntry, IpNetwork
from smb_pipeline.transforms.ip import IPV4_MAPPED_PREFIX, with_ip_hex


def _hex(network: IpNetwork, address: int) -> str:
    return IPV4_MAPPED_PREFIX + f"{address:08x}" if network.version == 4 else f"{address:032x}"


def _in_network(hex_column: str, network: IpNetwork) -> Column:
    first = _hex(network, int(network.network_address))
    last = _hex(network, int(network.broadcast_address))
    return F.coalesce(F.col(hex_column).between(F.lit(first), F.lit(last)), F.lit(False))


def entry_matches(entry: AllowlistEntry) -> Column:
    condition = F.lit(True)
    if entry.src is not None:
        condition = condition & _in_network("_src_hex", entry.src)
    if entry.dest is not None:
        condition = condition & _in_network("_dest_hex", entry.dest)
    if entry.dest_ports is not None:
        allowed = F.array(*[F.lit(p) for p in entry.dest_ports])
        ports = F.coalesce(F.col("dest_ports"), F.array().cast("array<int>"))
        condition = condition & (F.size(ports) > 0) & (F.size(F.array_except(ports, allowed)) == 0)
    if entry.detections is not None:
        condition = condition & F.col("detection").isin(*entry.detections)
    if entry.expires is not None:
        condition = condition & (F.col("event_date") <= F.lit(entry.expires))
    return condition


def with_suppression(alerts: DataFrame, entries: Sequence[AllowlistEntry]) -> DataFrame:
    """Add `suppressed` and `suppressed_by` (the id of the first matching entry, else null)."""
    if not entries:
        return alerts.withColumn("suppressed_by", F.lit(None).cast("string")).withColumn("suppressed", F.lit(False))
    keyed = with_ip_hex(with_ip_hex(alerts, "src_ip", "_src_hex"), "dest_ip", "_dest_hex")
    by = F.coalesce(*[F.when(entry_matches(entry), F.lit(entry.id)) for entry in entries], F.lit(None).cast("string"))
    return (
        keyed.withColumn("suppressed_by", by)
        .withColumn("suppressed", F.col("suppressed_by").isNotNull())
        .drop("_src_hex", "_dest_hex")
    )

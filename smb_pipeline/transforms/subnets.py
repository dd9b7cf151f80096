"""Company subnets: a small broadcast index, and the join that flags company traffic.

The index is reference data (hundreds of CIDRs), built on the driver with Python's
`ipaddress`; the join runs on executors with Spark's own expressions. Each CIDR becomes
one or more rows keyed by (family, bucket), where a bucket is the first `ipv4_bits` /
`ipv6_bits` of an address. An event joins only the CIDRs of its own bucket (hash
equality) and then checks the exact range (start <= ip <= end). A CIDR shorter than the
bucket width is expanded into all the buckets it covers; the widths are chosen so that
the expanded table stays small, which keeps a /0 or a /8 cheap.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import pyarrow as pa
from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import StructType

from smb_pipeline.config import ExcludeMode, IpNetwork
from smb_pipeline.model.columns import COMPANY_COLUMN
from smb_pipeline.model.schemas import schema
from smb_pipeline.transforms.ip import IPV4_MAPPED_PREFIX, ip_bucket, ip_family

MAX_BUCKET_BITS = {4: 16, 6: 32}
MAX_INDEX_ROWS = 1 << 17

INDEX_SCHEMA: StructType = schema("family int, bucket bigint, range_start binary, range_end binary, cidr string")


def _hex128(network: IpNetwork, address: int) -> str:
    if network.version == 4:
        return IPV4_MAPPED_PREFIX + f"{address:08x}"
    return f"{address:032x}"


def _expanded_rows(networks: Sequence[IpNetwork], bits: int) -> int:
    return sum(1 << max(0, bits - n.prefixlen) for n in networks)


def choose_bucket_bits(networks: Sequence[IpNetwork], family: int, max_rows: int = MAX_INDEX_ROWS) -> int:
    """The widest bucket (most bits) whose expanded index stays under `max_rows`."""
    own = [n for n in networks if n.version == family]
    bits = MAX_BUCKET_BITS[family]
    while bits > 0 and _expanded_rows(own, bits) > max_rows:
        bits -= 1
    return bits


def _index_rows(network: IpNetwork, bits: int) -> Iterable[tuple[int, int, bytes, bytes, str]]:
    width = network.max_prefixlen
    first = int(network.network_address)
    last = int(network.broadcast_address)
    start = bytes.fromhex(_hex128(network, first))
    end = bytes.fromhex(_hex128(network, last))
    top_shift = width - bits  # for IPv6 this equals taking the first 32 bits, then `bits` of them
    for bucket in range(first >> top_shift, (last >> top_shift) + 1):
        yield network.version, bucket, start, end, str(network)


@dataclass(frozen=True)
class SubnetIndex:
    """The broadcast side of the company-subnet join, with the bucket widths it was built for."""

    table: DataFrame | None
    ipv4_bits: int
    ipv6_bits: int
    size: int


def build_subnet_index(spark: SparkSession, networks: Sequence[IpNetwork],
                       max_rows: int = MAX_INDEX_ROWS) -> SubnetIndex:
    """Expand CIDRs into (family, bucket) rows. Overlaps are fine: any match excludes.

    `max_rows` trades the index's size (it is a local relation inside every plan that uses it)
    for fewer candidate CIDRs per address: event-scale joins want wide buckets, small
    tables a small index.
    """
    ipv4_bits = choose_bucket_bits(networks, 4, max_rows)
    ipv6_bits = choose_bucket_bits(networks, 6, max_rows)
    if not networks:
        return SubnetIndex(None, ipv4_bits, ipv6_bits, 0)
    rows: dict[tuple, tuple] = {}  # the same range listed twice needs one row
    for network in networks:
        for row in _index_rows(network, ipv4_bits if network.version == 4 else ipv6_bits):
            rows.setdefault(row[:4], row)
    # From Arrow, the index is a local relation: broadcasting it needs no Spark job and no
    # Python worker (a list of tuples would become an RDD that a Python worker reads).
    columns = list(zip(*rows.values(), strict=True))
    arrow = pa.table({field.name: list(values) for field, values in zip(INDEX_SCHEMA.fields, columns, strict=True)})
    table = spark.createDataFrame(arrow, INDEX_SCHEMA)
    return SubnetIndex(table, ipv4_bits, ipv6_bits, len(rows))


def _in_subnets_condition(events: DataFrame, index: DataFrame, hex_column: str, ipv4_bits: int,
                          ipv6_bits: int) -> Column:
    return (
        (ip_family(events[hex_column]) == index["family"])
        & (ip_bucket(events[hex_column], ipv4_bits, ipv6_bits) == index["bucket"])
        & (F.unhex(events[hex_column]) >= index["range_start"])
        & (F.unhex(events[hex_column]) <= index["range_end"])
    )


def _join_subnets(events: DataFrame, index: SubnetIndex, hex_column: str, how: str) -> DataFrame:
    assert index.table is not None
    subnets = F.broadcast(index.table)
    condition = _in_subnets_condition(events, subnets, hex_column, index.ipv4_bits, index.ipv6_bits)
    return events.join(subnets, on=condition, how=how)


def match_subnets(events: DataFrame, index: SubnetIndex, hex_column: str) -> DataFrame:
    """Each row with the index rows of the subnets its address is in (a left join: a row in none
    keeps null `cidr`; a row in several overlapping subnets appears once per subnet)."""
    if index.table is None:
        return events.withColumn("cidr", F.lit(None).cast("string"))
    return _join_subnets(events, index, hex_column, "left").drop("family", "bucket", "range_start", "range_end")


def collapsed(networks: Sequence[IpNetwork]) -> list[IpNetwork]:
    """The fewest disjoint CIDRs covering `networks`: an address is in at most one of them."""
    ipv4 = [n for n in networks if n.version == 4]
    ipv6 = [n for n in networks if n.version == 6]
    return [*ipaddress.collapse_addresses(ipv4), *ipaddress.collapse_addresses(ipv6)]


def _in_disjoint_subnets(events: DataFrame, index: SubnetIndex, hex_column: str, flag: str) -> DataFrame:
    """`flag`: whether the address is in a subnet of `index`, whose ranges must be disjoint, so
    that the left join matches a row at most once and adds no row."""
    if index.table is None:
        return events.withColumn(flag, F.lit(False))
    joined = _join_subnets(events, index, hex_column, "left")
    return joined.withColumn(flag, F.col("range_start").isNotNull()).drop(*INDEX_SCHEMA.fieldNames())


def with_company_flag(events: DataFrame, networks: Sequence[IpNetwork], mode: ExcludeMode) -> DataFrame:
    """`COMPANY_COLUMN`: whether the row is company traffic, judged on the side(s) `mode` names.

    source: the source is a company address; destination: the destination is; either: one of
    them is; both: both are (traffic wholly inside the company). A flag rather than a filter,
    so that one pass over the rows counts both what is kept and what is excluded. Overlapping
    CIDRs are collapsed first: any match excludes, and disjoint ranges match a row at most once.
    """
    index = build_subnet_index(events.sparkSession, collapsed(networks))
    flagged = events
    if mode in ("source", "either", "both"):
        flagged = _in_disjoint_subnets(flagged, index, "src_ip_hex", "_company_src")
    if mode in ("destination", "either", "both"):
        flagged = _in_disjoint_subnets(flagged, index, "dest_ip_hex", "_company_dest")
    company = {
        "source": F.col("_company_src"),
        "destination": F.col("_company_dest"),
        "either": F.col("_company_src") | F.col("_company_dest"),
        "both": F.col("_company_src") & F.col("_company_dest"),
    }[mode]
    return flagged.withColumn(COMPANY_COLUMN, company).drop("_company_src", "_company_dest")


"""Address classes (company / special / public) and the direction of each pair.

Reuses the company-subnet index of smb_pipeline.transforms.subnets (a broadcast hash join on address
buckets, then a range check) for both the company subnets and the special-purpose ranges. The
ranges are made disjoint first (smb_pipeline.alerts.tiling), so each address matches at most one
row: the pairs are classified by four broadcast joins, without an aggregation or a shuffle.
IPv4-mapped IPv6 addresses (::ffff:a.b.c.d) are keyed as IPv4 by smb_pipeline.transforms.ip, so they are
judged by the IPv4 ranges.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F

from smb_pipeline.alerts.special_ranges import SpecialRange, matched_networks
from smb_pipeline.alerts.tiling import disjoint_labelled
from smb_pipeline.config import IpNetwork
from smb_pipeline.transforms.ip import with_ip_hex
from smb_pipeline.transforms.subnets import SubnetIndex, build_subnet_index, collapsed, match_subnets

COMPANY = "company"
SPECIAL = "special"
PUBLIC = "public"
DIRECTION_COLUMNS = ("direction", "src_label", "dest_label")
# The indexes are local relations inside the plan of every detection (and sent whole over
# Spark Connect); a pair table is small, so a few candidate ranges per address cost nothing.
# With the default size the special ranges' index had 115k rows and a 224 MB Connect plan.
REFERENCE_INDEX_ROWS = 1 << 12


@dataclass(frozen=True)
class AddressReference:
    """The company subnets (disjoint, with labels) and the special-purpose ranges, as join indexes."""

    company: SubnetIndex
    special: SubnetIndex
    labels: Mapping[str, str]


def build_address_reference(spark: SparkSession, company: Sequence[IpNetwork], labels: Mapping[str, str],
                            special: Sequence[SpecialRange]) -> AddressReference:
    tiles = disjoint_labelled(company, labels)
    tile_labels = {str(network): label for network, label in tiles if label}
    company_index = build_subnet_index(spark, [network for network, _ in tiles], REFERENCE_INDEX_ROWS)
    special_index = build_subnet_index(spark, collapsed(matched_networks(special)), REFERENCE_INDEX_ROWS)
    return AddressReference(company_index, special_index, tile_labels)


def _label_of(cidr: Column, labels: Mapping[str, str]) -> Column:
    if not labels:
        return F.lit(None).cast("string")
    pairs = [item for cidr_text, label in sorted(labels.items()) for item in (F.lit(cidr_text), F.lit(label))]
    return F.element_at(F.create_map(*pairs), cidr)


def with_address_class(frame: DataFrame, reference: AddressReference, ip_column: str, prefix: str,
                       key_column: str | None = None) -> DataFrame:
    """Add `<prefix>_class` (company / special / public) and `<prefix>_label` for `ip_column`.

    `key_column`: the address's 128-bit key (`transforms.ip.with_ip_hex`), when the frame already
    has it; otherwise the address is parsed here.
    """
    company, special = f"_{prefix}_company", f"_{prefix}_special"
    hex_column = key_column or f"_{prefix}_hex"
    keyed = frame if key_column else with_ip_hex(frame, ip_column, hex_column)
    matched = match_subnets(keyed, reference.company, hex_column).withColumnRenamed("cidr", company)
    matched = match_subnets(matched, reference.special, hex_column).withColumnRenamed("cidr", special)
    address_class = (F.when(F.col(company).isNotNull(), F.lit(COMPANY))
                     .when(F.col(special).isNotNull(), F.lit(SPECIAL)).otherwise(F.lit(PUBLIC)))
    return (matched.withColumns({f"{prefix}_class": address_class,
                                 f"{prefix}_label": _label_of(F.col(company), reference.labels)})
            .drop(company, special, *([] if key_column else [hex_column])))


def direction(src_class: Column, dest_class: Column) -> Column:
    """inbound public -> company; outbound company -> public; internal company -> company;
    external public -> public; unlisted_private when either side is special (not company)."""
    return (
        F.when((src_class == SPECIAL) | (dest_class == SPECIAL), F.lit("unlisted_private"))
        .when((src_class == PUBLIC) & (dest_class == COMPANY), F.lit("inbound"))
        .when((src_class == COMPANY) & (dest_class == PUBLIC), F.lit("outbound"))
        .when((src_class == COMPANY) & (dest_class == COMPANY), F.lit("internal"))
        .when((src_class == PUBLIC) & (dest_class == PUBLIC), F.lit("external"))
    )


def with_direction(pairs: DataFrame, reference: AddressReference, keys: tuple[str, str] | None = None) -> DataFrame:
    """Add `direction`, `src_label` and `dest_label` to rows with `src_ip` and `dest_ip`.

    `keys`: the columns holding both addresses' 128-bit keys, when the rows carry them (a run's
    pairs: validation computed them); they are used instead of parsing the addresses again,
    and dropped.
    """
    carried = list(keys or ())
    columns = [c for c in pairs.columns if c not in DIRECTION_COLUMNS and c not in carried]
    src_key, dest_key = keys or (None, None)
    classified = with_address_class(pairs.select(*columns, *carried), reference, "src_ip", "src", src_key)
    classified = with_address_class(classified, reference, "dest_ip", "dest", dest_key)
    return classified.withColumn("direction", direction(F.col("src_class"), F.col("dest_class"))).select(
        *columns, *DIRECTION_COLUMNS)

"""Address classes (company / special / public) and the direction of each pair.

Reuses the company-subnet index of smb_pipeline.subnets (a broadcast hash join on address
buckets, then a range check) for both the company subnets and the special-purpose ranges, on
the distinct addresses of the pairs only; the pairs get the classes back by equi-joins.
IPv4-mapped IPv6 addresses (::ffff:a.b.c.d) are keyed as IPv4 by smb_pipeline.ip, so they are
judged by the IPv4 ranges.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F

from smb_pipeline.alerts.special_ranges import SpecialRange, matched_networks
from smb_pipeline.config import IpNetwork
from smb_pipeline.ip import with_ip_hex
from smb_pipeline.subnets import SubnetIndex, build_subnet_index, match_subnets

COMPANY = "company"
SPECIAL = "special"
PUBLIC = "public"
DIRECTION_COLUMNS = ("direction", "src_label", "dest_label")


@dataclass(frozen=True)
class AddressReference:
    """The company subnets (with their labels) and the special-purpose ranges, as join indexes."""

    company: SubnetIndex
    special: SubnetIndex
    labels: Mapping[str, str]


def build_address_reference(spark: SparkSession, company: Sequence[IpNetwork], labels: Mapping[str, str],
                            special: Sequence[SpecialRange]) -> AddressReference:
    return AddressReference(build_subnet_index(spark, company), build_subnet_index(spark, matched_networks(special)),
                            dict(labels))


def _label_of(cidr: Column, labels: Mapping[str, str]) -> Column:
    if not labels:
        return F.lit(None).cast("string")
    pairs = [item for cidr_text, label in sorted(labels.items()) for item in (F.lit(cidr_text), F.lit(label))]
    return F.element_at(F.create_map(*pairs), cidr)


def classify_addresses(addresses: DataFrame, reference: AddressReference) -> DataFrame:
    """(ip) -> (ip, address_class, label): the label of the most specific labelled company subnet."""
    keyed = with_ip_hex(addresses.select("ip").distinct(), "ip", "_hex")
    company = match_subnets(keyed, reference.company, "_hex")
    prefix = F.split(F.col("cidr"), "/").getItem(1).cast("int")
    label = _label_of(F.col("cidr"), reference.labels)
    by_company = company.groupBy("ip", "_hex").agg(
        F.max(F.col("cidr").isNotNull()).alias("_company"),
        F.max_by(label, F.when(label.isNotNull(), prefix)).alias("label"),
    )
    special = match_subnets(by_company, reference.special, "_hex")
    by_special = special.groupBy("ip", "_company", "label").agg(F.max(F.col("cidr").isNotNull()).alias("_special"))
    address_class = (
        F.when(F.col("_company"), F.lit(COMPANY)).when(F.col("_special"), F.lit(SPECIAL)).otherwise(F.lit(PUBLIC))
    )
    return by_special.select("ip", address_class.alias("address_class"), "label")


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


def with_direction(pairs: DataFrame, reference: AddressReference) -> DataFrame:
    """Add `direction`, `src_label` and `dest_label` to rows with `src_ip` and `dest_ip`."""
    addresses = pairs.select(F.col("src_ip").alias("ip")).union(pairs.select(F.col("dest_ip").alias("ip")))
    classes = classify_addresses(addresses, reference)
    src = classes.select(F.col("ip").alias("_src_ip"), F.col("address_class").alias("_src_class"),
                         F.col("label").alias("src_label"))
    dest = classes.select(F.col("ip").alias("_dest_ip"), F.col("address_class").alias("_dest_class"),
                          F.col("label").alias("dest_label"))
    joined = (
        pairs.drop(*DIRECTION_COLUMNS)
        .join(src, pairs["src_ip"].eqNullSafe(src["_src_ip"]), "left")
        .join(dest, F.col("dest_ip").eqNullSafe(dest["_dest_ip"]), "left")
    )
    return joined.withColumn("direction", direction(F.col("_src_class"), F.col("_dest_class"))).drop(
        "_src_ip", "_dest_ip", "_src_class", "_dest_class"
    ).select(*[c for c in pairs.columns if c not in DIRECTION_COLUMNS], *DIRECTION_COLUMNS)

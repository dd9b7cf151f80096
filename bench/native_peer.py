"""A hand-written native Spark job with the DuckDB reference's semantics: the job's peer.

Benchmark-only code, written independently of `smb_pipeline` (it imports none of it): what
an engineer would write for this one archive, with built-in expressions only (no UDF, no
higher-order functions), so that the job's cost can be compared with a plain Spark job on
the same files and the same JVM settings.

* rows of the `dt=` folders start-1..end+1 with lower(action) = 'allowed' and
  (dest_port in (139, 445) or lower(app) in ('smb', 'ms-ds-smb', 'netbios-ss')), whose UTC
  day of `_time` is within start..end;
* each source address as its 128-bit number in two longs (IPv4 in ::ffff:0:0/96), stored
  with the sign bit flipped so that signed comparisons order them as unsigned numbers;
* company sources removed by a broadcast left-anti hash join on a prefix bucket (the IPv4
  /16 or the IPv6 /32) with the CIDR's range as the join's extra condition; CIDRs shorter
  than their bucket are listed once per bucket they cover;
* (event_date, src_ip, dest_ip) groups: count, first/last seen, byte sums, written as a
  Delta table partitioned by event_date. The archive holds canonical address text, so the
  text is grouped as it is (as the reference does).
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from pathlib import Path

import pyarrow as pa
from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F

from bench.reference_duckdb import read_cidrs

SMB_PORTS = (139, 445)
SMB_APPS = ("smb", "ms-ds-smb", "netbios-ss")
SIGN = -(1 << 63)  # Long.MinValue: x ^ SIGN orders unsigned longs as signed ones
V4_BUCKET_BITS, V6_BUCKET_BITS = 16, 32
V4_BUCKET_BASE = 1 << 32  # IPv4 buckets after every IPv6 /32 bucket: one bucket column for both
MAX_BUCKETS_PER_CIDR = 1 << 16


def _signed(value: int) -> int:
    """An unsigned 64-bit value as the signed long with the same bits, then sign-flipped."""
    return (value - (1 << 64) if value >= 1 << 63 else value) ^ SIGN


def _halves(value: int) -> tuple[int, int]:
    return _signed(value >> 64), _signed(value & ((1 << 64) - 1))


def cidr_buckets(nets) -> list[tuple[int, int, int, int, int]]:
    """(bucket, lo_hi, lo_lo, hi_hi, hi_lo) rows: a CIDR's 128-bit range, once per bucket it covers."""
    rows = []
    for net in nets:
        if net.version == 4:
            first = int(net.network_address)
            span = max(0, V4_BUCKET_BITS - net.prefixlen)
            buckets = [V4_BUCKET_BASE + (first >> 16) + i for i in range(1 << span)]
            net = ipaddress.IPv6Network((0xFFFF << 32 | first, 96 + net.prefixlen))
        else:
            if ipaddress.IPv6Network("::ffff:0:0/96").overlaps(net):
                raise ValueError(f"the peer does not bucket IPv6 CIDRs over the IPv4-mapped range: {net}")
            span = max(0, V6_BUCKET_BITS - net.prefixlen)
            buckets = [(int(net.network_address) >> 96) + i for i in range(1 << span)]
        if len(buckets) > MAX_BUCKETS_PER_CIDR:
            raise ValueError(f"CIDR {net} would cover {len(buckets)} buckets")
        lo = _halves(int(net.network_address))
        hi = _halves(int(net.broadcast_address))
        rows.extend((bucket, *lo, *hi) for bucket in buckets)
    return rows


CIDR_COLUMNS = ("bucket", "lo_hi", "lo_lo", "hi_hi", "hi_lo")


def _hex_group(groups: Column, index: int) -> Column:
    return F.conv(F.element_at(groups, index + 1), 16, 10).cast("long")


def _word(groups: Column, first: int) -> Column:
    """Four 16-bit groups as one 64-bit word (bits as a signed long), sign-flipped."""
    word = F.lit(0).cast("long")
    for i in range(4):
        word = F.shiftleft(word, 16).bitwiseOR(_hex_group(groups, first + i))
    return word.bitwiseXOR(F.lit(SIGN))


def _v6_groups(ip: Column) -> Column:
    """The eight groups of IPv6 text, with the '::' run expanded to zeros."""
    text = F.lower(ip)
    empty = F.array().cast("array<string>")
    left_text, right_text = F.substring_index(text, "::", 1), F.substring_index(text, "::", -1)
    left = F.when(left_text == "", empty).otherwise(F.split(left_text, ":"))
    right = F.when(right_text == "", empty).otherwise(F.split(right_text, ":"))
    zeros = F.array_repeat(F.lit("0"), F.lit(8) - F.size(left) - F.size(right))
    return F.when(F.instr(text, "::") > 0, F.concat(left, zeros, right)).otherwise(F.split(text, ":"))


def with_address_key(frame: DataFrame, column: str) -> DataFrame:
    """k_hi, k_lo (sign-flipped halves of the 128-bit number) and the bucket of `column`."""
    ip = F.col(column)
    is_v6 = F.instr(ip, ":") > 0
    octets = F.split(ip, r"\.")
    v4 = F.lit(0).cast("long")
    for i in range(4):
        v4 = F.shiftleft(v4, 8).bitwiseOR(F.element_at(octets, i + 1).cast("long"))
    keyed = frame.withColumn("_groups", F.when(is_v6, _v6_groups(ip))).withColumn("_v4", F.when(~is_v6, v4))
    return (keyed
            .withColumn("k_hi", F.when(is_v6, _word(F.col("_groups"), 0)).otherwise(F.lit(_signed(0))))
            .withColumn("k_lo", F.when(is_v6, _word(F.col("_groups"), 4))
                        .otherwise(F.lit(0xFFFF << 32).bitwiseOR(F.col("_v4")).bitwiseXOR(F.lit(SIGN))))
            .withColumn("bucket", F.when(is_v6, F.shiftrightunsigned(F.col("k_hi").bitwiseXOR(F.lit(SIGN)), 32))
                        .otherwise(F.lit(V4_BUCKET_BASE) + F.shiftright(F.col("_v4"), 16)))
            .drop("_groups", "_v4"))


def _at_least(a_hi: Column, a_lo: Column, b_hi: Column, b_lo: Column) -> Column:
    return (a_hi > b_hi) | ((a_hi == b_hi) & (a_lo >= b_lo))


def allowed_smb(spark: SparkSession, archive: str | Path, start: dt.date, end: dt.date) -> DataFrame:
    read_first, read_last = start - dt.timedelta(days=1), end + dt.timedelta(days=1)
    rows = spark.read.parquet(str(archive))
    smb = (F.lower("action") == "allowed") & (
        F.col("dest_port").isin(*SMB_PORTS) | F.lower("app").isin(*SMB_APPS))
    event_date = F.to_date("_time")
    return (rows.filter(F.col("dt").between(F.lit(read_first), F.lit(read_last)))
            .filter(smb)
            .select(event_date.alias("event_date"), "src_ip", "dest_ip", "_time", "bytes_in", "bytes_out")
            .filter(F.col("event_date").between(F.lit(start), F.lit(end))))


def peer_pairs(spark: SparkSession, archive: str | Path, subnets: str | Path,
               start: dt.date, end: dt.date) -> DataFrame:
    """The pair table, as a DataFrame (nothing runs yet)."""
    rows = cidr_buckets(read_cidrs(subnets))
    # From an Arrow table: a local relation, broadcast without a job or a Python worker.
    cidrs = spark.createDataFrame(pa.table({name: pa.array([row[i] for row in rows], pa.int64())
                                            for i, name in enumerate(CIDR_COLUMNS)}))
    events = with_address_key(allowed_smb(spark, archive, start, end), "src_ip")
    c = F.broadcast(cidrs).alias("c")
    inside = ((events["bucket"] == F.col("c.bucket"))
              & _at_least(events["k_hi"], events["k_lo"], F.col("c.lo_hi"), F.col("c.lo_lo"))
              & _at_least(F.col("c.hi_hi"), F.col("c.hi_lo"), events["k_hi"], events["k_lo"]))
    kept = events.join(c, inside, "left_anti")
    return (kept.groupBy("event_date", "src_ip", "dest_ip")
            .agg(F.count(F.lit(1)).alias("connection_count"), F.min("_time").alias("first_seen"),
                 F.max("_time").alias("last_seen"), F.sum("bytes_in").alias("bytes_in"),
                 F.sum("bytes_out").alias("bytes_out")))


def write_peer_pairs(spark: SparkSession, archive: str | Path, subnets: str | Path,
                     start: dt.date, end: dt.date, table: str | Path) -> None:
    """Compute the pairs and write them as a Delta table partitioned by day at `table` (overwritten)."""
    (peer_pairs(spark, archive, subnets, start, end)
     .write.format("delta").mode("overwrite").partitionBy("event_date").save(str(table)))

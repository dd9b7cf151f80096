"""Daily (src_ip, dest_ip) pairs: the table alerting and analysts read."""

from __future__ import annotations

from collections.abc import Sequence

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from smb_pipeline.model.schemas import PAIRS_SCHEMA


def _sorted(values: F.Column) -> F.Column:
    """Ascending. `sort_array`, not `array_sort`: the latter sorts with a comparator lambda, a
    higher-order function that Spark interprets (the sets hold no nulls, so both agree)."""
    return F.sort_array(values)


def _sorted_set(column: str | F.Column) -> F.Column:
    return _sorted(F.collect_set(column))


def app_elements(app: F.Column) -> F.Column:
    """The applications of one record as lower-case elements: vendors write comma lists (Zeek's
    `service` "gssapi,smb,krb", FortiGate's service + app); analysts filter on single names.

    `array_remove`, not a `filter` lambda: a higher-order function makes Spark interpret the
    whole aggregation's input projection instead of generating code for it."""
    return F.array_remove(F.split(F.lower(F.trim(app)), r"\s*,\s*"), "")


def device(dvc: F.Column, source: F.Column) -> F.Column:
    """The firewall or sensor that logged a record; the source name where the format has none."""
    return F.coalesce(F.when(F.trim(dvc) != "", dvc), source)


def aggregate_daily_pairs(events: DataFrame, carry: Sequence[str] = ()) -> DataFrame:
    """One row per (event_date, src_ip, dest_ip).

    A session logged in several records (same non-null `session_key`) counts once;
    `event_count` keeps the number of records for analysts. `pair_id` is a stable hash of
    the day and the pair, the same on every rerun, usable as an alert id.
    `carry`: columns that are functions of the pair (the addresses' keys), kept after the
    table's columns.
    """
    pairs = events.groupBy("event_date", "src_ip", "dest_ip", *carry).agg(
        # The size of a set, not count_distinct: a distinct aggregate makes Spark expand every
        # row and shuffle twice more, and the sets per pair are small.
        (F.count(F.when(F.col("session_key").isNull(), 1)) + F.size(F.collect_set("session_key"))).alias(
            "connection_count"
        ),
        F.min("event_time").alias("first_seen"),
        F.max("event_time").alias("last_seen"),
        F.sum("bytes_in").alias("bytes_in"),
        F.sum("bytes_out").alias("bytes_out"),
        _sorted_set("dest_port").alias("dest_ports"),
        _sorted(F.array_distinct(F.flatten(F.collect_set(app_elements(F.col("app")))))).alias("apps"),
        _sorted_set("source").alias("sources"),
        _sorted_set(device(F.col("dvc"), F.col("source"))).alias("devices"),
        F.count(F.lit(1)).alias("event_count"),
    )
    pair_id = F.sha2(F.concat_ws("|", F.col("event_date").cast("string"), "src_ip", "dest_ip"), 256)
    return pairs.withColumn("pair_id", pair_id).select(
        *[F.col(f.name).cast(f.dataType).alias(f.name) for f in PAIRS_SCHEMA.fields], *carry
    )

"""volume_spike: a source's SMB connections on a day above a robust baseline of its previous days.

Baseline: median and MAD (median absolute deviation) of the source's daily connections over the
covered days of the previous `baseline_days`; a covered day without a row of the source counts
as zero; MAD has a floor of 1, so a flat series still needs k more connections. Mean and
standard deviation were avoided on purpose: sparse, heavy-tailed counts make them unstable.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from smb_pipeline.alerts.shape import shaped, source_days

VOLUME_SPIKE = "volume_spike"


def _baseline_days_column(baselines: Mapping[dt.date, Sequence[dt.date]]) -> F.Column:
    """event_date -> the array of its baseline days, as a literal map (a few dates per processed day)."""
    entries = [item for day, days in sorted(baselines.items())
               for item in (F.lit(day), F.array(*[F.lit(d) for d in days]))]
    return F.element_at(F.create_map(*entries), F.col("event_date"))


def baselines(pairs: DataFrame, history: DataFrame, days: Mapping[dt.date, Sequence[dt.date]]) -> DataFrame:
    """(event_date, src_ip) of the processed `pairs` with `baseline_median`, `baseline_mad` (raw,
    before the floor) over the baseline days `days[event_date]` (only days listed get a row)."""
    if not days:
        return pairs.select("event_date", "src_ip", F.lit(None).cast("double").alias("baseline_median"),
                            F.lit(None).cast("double").alias("baseline_mad")).limit(0)
    targets = pairs.select("event_date", "src_ip").distinct()
    expanded = targets.withColumn("_day", F.explode(_baseline_days_column(days)))
    daily = history.groupBy(F.col("event_date").alias("_day"), "src_ip").agg(F.sum("connection_count").alias("_n"))
    values = expanded.join(daily, ["_day", "src_ip"], "left").withColumn("_n", F.coalesce("_n", F.lit(0)))
    medians = values.groupBy("event_date", "src_ip").agg(F.median("_n").alias("baseline_median"))
    deviations = values.join(medians, ["event_date", "src_ip"]).withColumn(
        "_dev", F.abs(F.col("_n") - F.col("baseline_median")))
    return deviations.groupBy("event_date", "src_ip", "baseline_median").agg(F.median("_dev").alias("baseline_mad"))


def volume_spikes(pairs: DataFrame, history: DataFrame, days: Mapping[dt.date, Sequence[dt.date]], k: float,
                  min_connections: int) -> DataFrame:
    """One alert per (day, source) whose connections exceed median + k * max(MAD, 1) and reach
    `min_connections`; `days` maps each processed day with enough history to its baseline days."""
    stats = baselines(pairs, history, days).withColumn("baseline_mad", F.greatest("baseline_mad", F.lit(1.0)))
    sources = source_days(pairs).join(stats, ["event_date", "src_ip"])
    threshold = F.col("baseline_median") + F.lit(k) * F.col("baseline_mad")
    fired = sources.filter((F.col("connection_count") > threshold) & (F.col("connection_count") >= min_connections))
    return shaped(fired, VOLUME_SPIKE, dest_ip=F.lit(None), is_new_pair=F.lit(None))

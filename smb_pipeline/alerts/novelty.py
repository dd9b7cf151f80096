"""new_pair: a (src, dest) pair with no row in the pair table during the lookback before its day.

Keyed on the pair, not on the source alone: a known partner reaching a new server is new. A
day fires only when the table covers at least `min_history_days` of its lookback; before that
novelty is unknown (null), not true, so that a fresh table does not flag everything.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection

from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

from smb_pipeline.alerts.shape import shaped

NEW_PAIR = "new_pair"


def with_new_pair_flag(pairs: DataFrame, history: DataFrame, lookback_days: int,
                       warm: Collection[dt.date]) -> DataFrame:
    """Add `is_new_pair` to the processed pair-days `pairs`: true when `history` (rows of the pair
    table with event_date, src_ip, dest_ip; it may include the processed days) has no row of the
    pair in the `lookback_days` days before; null on days not in `warm`."""
    keys = ("event_date", "src_ip", "dest_ip")
    wanted = pairs.select("src_ip", "dest_ip").distinct()
    seen = history.select(*keys).join(wanted, ["src_ip", "dest_ip"], "left_semi").unionByName(pairs.select(*keys))
    by_pair = Window.partitionBy("src_ip", "dest_ip").orderBy("event_date")
    previous = seen.distinct().withColumn("_previous", F.lag("event_date").over(by_pair))
    is_new = F.col("_previous").isNull() | (F.datediff(F.col("event_date"), F.col("_previous")) > lookback_days)
    warm_days = [F.lit(day) for day in sorted(warm)]
    is_warm = F.col("event_date").isin(*warm_days) if warm_days else F.lit(False)
    flagged = previous.select(*keys, F.when(is_warm, is_new).alias("is_new_pair"))
    return pairs.drop("is_new_pair").join(flagged, list(keys), "left")


def new_pairs(pairs: DataFrame, directions: Collection[str]) -> DataFrame:
    """Alerts for the pair-days flagged new (`with_new_pair_flag`) in one of `directions`."""
    fired = pairs.filter(F.col("is_new_pair") & F.col("direction").isin(*directions))
    return shaped(fired, NEW_PAIR)

"""risk_score (0..100) and severity of each alert, from `alerts.scoring` (README "Scoring").

risk_score = base[detection] + novelty_bonus (the pair is new; not for new_pair itself, whose
base already says so) + direction_bonus[direction] + fanout_bonus (distinct destinations at
least fanout_bonus_destinations) + volume_bonus (connections at least volume_bonus_connections),
clipped to 0..100. severity: critical, high, medium from their lowest scores; low below.
"""

from __future__ import annotations

from collections.abc import Mapping

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from smb_pipeline.alerts.settings import ScoringConfig


def _lookup(mapping: Mapping[str, int], key: Column) -> Column:
    entries = [item for name, value in sorted(mapping.items()) for item in (F.lit(name), F.lit(value))]
    return F.coalesce(F.element_at(F.create_map(*entries), key), F.lit(0))


def risk_score(scoring: ScoringConfig) -> Column:
    novelty = F.when(F.coalesce(F.col("is_new_pair"), F.lit(False)) & (F.col("detection") != "new_pair"),
                     scoring.novelty_bonus).otherwise(0)
    fanout = F.when(F.coalesce(F.col("distinct_destinations"), F.lit(0)) >= scoring.fanout_bonus_destinations,
                    scoring.fanout_bonus).otherwise(0)
    volume = F.when(F.coalesce(F.col("connection_count"), F.lit(0)) >= scoring.volume_bonus_connections,
                    scoring.volume_bonus).otherwise(0)
    total = _lookup(scoring.base, F.col("detection")) + novelty + fanout + volume
    total = total + F.when(F.col("direction").isNotNull(), _lookup(scoring.direction_bonus, F.col("direction")))\
        .otherwise(0)
    return F.least(F.greatest(total, F.lit(0)), F.lit(100)).cast("int")


def severity(score: Column, scoring: ScoringConfig) -> Column:
    thresholds = scoring.severity
    return (
        F.when(score >= thresholds.critical, F.lit("critical"))
        .when(score >= thresholds.high, F.lit("high"))
        .when(score >= thresholds.medium, F.lit("medium"))
        .otherwise(F.lit("low"))
    )


def with_score(alerts: DataFrame, scoring: ScoringConfig) -> DataFrame:
    """Add `risk_score` and `severity`."""
    scored = alerts.withColumn("risk_score", risk_score(scoring))
    return scored.withColumn("severity", severity(F.col("risk_score"), scoring))

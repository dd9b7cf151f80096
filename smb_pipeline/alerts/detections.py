"""The direction and fan-out detections: smb_inbound_allowed, smb_outbound_allowed, smb_fanout.

Each takes the enriched pair-days of the processed days (smb_pipeline.alerts.classify) and
returns alerts in the common shape (smb_pipeline.alerts.shape). new_pair and volume_spike,
which need history, live in their own modules.
"""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from smb_pipeline.alerts.shape import shaped, source_days

INBOUND = "smb_inbound_allowed"
OUTBOUND = "smb_outbound_allowed"
FANOUT = "smb_fanout"


def inbound_allowed(pairs: DataFrame) -> DataFrame:
    """A pair-day from a public address to a company address: the seed use case."""
    return shaped(pairs.filter(F.col("direction") == "inbound"), INBOUND)


def outbound_allowed(pairs: DataFrame) -> DataFrame:
    """A pair-day from a company address to a public one (NTLM credentials and data leave)."""
    return shaped(pairs.filter(F.col("direction") == "outbound"), OUTBOUND)


def fanout(pairs: DataFrame, min_destinations: int) -> DataFrame:
    """A source reaching at least `min_destinations` distinct destinations on one day: one alert
    per (day, source), `dest_ip` null."""
    sources = source_days(pairs).filter(F.col("distinct_destinations") >= min_destinations)
    return shaped(sources, FANOUT, dest_ip=F.lit(None), is_new_pair=F.lit(None))

"""Event times in text: a zone written in the text wins over the source's configured zone."""

from __future__ import annotations

import datetime as dt

from pyspark.sql.types import StringType

from smb_pipeline.formats.times import any_time_to_utc

# 23:30 in New York on 5 January is 04:30 UTC on the 6th: a wrong reading changes the event's day.
LOCAL_READING = dt.datetime(2026, 1, 6, 4, 30)
ZONED_TEXTS = {
    "2026-01-05 23:30:00Z": dt.datetime(2026, 1, 5, 23, 30),
    "2026-01-05T23:30:00.250+01:00": dt.datetime(2026, 1, 5, 22, 30, 0, 250000),
    "2026-01-05 23:30:00 -0500": dt.datetime(2026, 1, 6, 4, 30),
    "2026-01-05 23:30:00+01": dt.datetime(2026, 1, 5, 22, 30),
    "2026-01-05 23:30:00 UTC": dt.datetime(2026, 1, 5, 23, 30),
    "2026-01-05 23:30:00 GMT+01:00": dt.datetime(2026, 1, 5, 22, 30),
    "2026-01-05 23:30:00 CET": dt.datetime(2026, 1, 5, 22, 30),
    "2026-01-05 23:30:00 Europe/Paris": dt.datetime(2026, 1, 5, 22, 30),
}
ZONELESS_TEXTS = ["2026-01-05 23:30:00", "2026-01-05T23:30:00.000", "2026/01/05 23:30:00", " 2026-01-05 23:30:00\t"]


def _to_utc(spark, texts: list[str], timezone: str) -> dict[str, dt.datetime]:
    frame = spark.createDataFrame([(text,) for text in texts], "t string")
    parsed = frame.select("t", any_time_to_utc(frame.t, StringType(), timezone).alias("utc"))
    return {row.t: row.utc for row in parsed.collect()}


def test_text_with_a_zone_is_read_in_that_zone(spark):
    assert _to_utc(spark, list(ZONED_TEXTS), "America/New_York") == ZONED_TEXTS


def test_text_without_a_zone_is_read_in_the_configured_zone(spark):
    assert _to_utc(spark, ZONELESS_TEXTS, "America/New_York") == dict.fromkeys(ZONELESS_TEXTS, LOCAL_READING)

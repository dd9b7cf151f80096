"""Whole-frame comparisons: every row and every column, with a readable diff when they differ."""

from __future__ import annotations

from pyspark.sql import DataFrame, Row
from pyspark.testing import assertDataFrameEqual


def assert_frame_equal(actual: DataFrame, expected: DataFrame | list[Row], *, ordered: bool = False) -> None:
    """`actual` has exactly the rows of `expected` (in any order unless `ordered`), with its schema
    when `expected` is a DataFrame. pyspark's own comparison, so it also works over Spark Connect."""
    assertDataFrameEqual(actual, expected, checkRowOrder=ordered)

"""Helpers over whole DataFrames that several layers share."""

from __future__ import annotations

from collections.abc import Sequence

from pyspark.sql import DataFrame


def union_all(frames: Sequence[DataFrame]) -> DataFrame:
    """The frames (at least one) as one, matched by column name."""
    union = frames[0]
    for frame in frames[1:]:
        union = union.unionByName(frame)
    return union

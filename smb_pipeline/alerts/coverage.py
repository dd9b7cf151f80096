"""Which days the pair table covers, and how much history each processed day has.

A covered day is one the pipeline processed (it has pairs, or a successful run logged it with
none); novelty and baselines count only those, so that a gap in the data is not read as quiet.
These are small sets of dates, handled on the driver.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable


def window_days(day: dt.date, covered: Collection[dt.date], length: int) -> list[dt.date]:
    """The covered days among the `length` days before `day` (day - length .. day - 1)."""
    first = day - dt.timedelta(days=length)
    return sorted(d for d in covered if first <= d < day)


def warm_days(days: Iterable[dt.date], covered: Collection[dt.date], length: int, min_history: int) -> list[dt.date]:
    """The days with at least `min_history` covered days in their window."""
    return [day for day in days if len(window_days(day, covered, length)) >= min_history]

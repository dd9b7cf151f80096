"""What a run did: counts per source and day, versions written, files skipped, alerts found.

The run writes them, and the run log, the console summary and backfill read them, so they
live here rather than with any of those.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from smb_pipeline.alerts.report import AlertsReport


@dataclass
class SourceCounts:
    """Where one source's rows went (for one day, or summed over the run); the last four add up to
    `rows_read`."""

    source: str
    rows_read: int = 0
    not_allowed_smb: int = 0
    rejected: int = 0
    excluded: int = 0
    aggregated: int = 0

    COUNTERS = ("rows_read", "not_allowed_smb", "rejected", "excluded", "aggregated")

    def add(self, other: SourceCounts) -> None:
        for name in self.COUNTERS:
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass
class RunResult:
    """What a run did, for the summary and the run log."""

    start: dt.date
    end: dt.date
    daily: dict[dt.date, list[SourceCounts]]
    pairs_written: int
    tables: dict[str, str]
    versions: dict[str, int] = field(default_factory=dict)
    elapsed_seconds: float = 0.0
    # Files not readable as Parquet, skipped under `on_corrupt_file: skip`.
    files_skipped: list[str] = field(default_factory=list)
    # Sources without a file in the read window (their counts are zero).
    no_data: list[str] = field(default_factory=list)
    # What the detection run found (None when the runner computed no alerts).
    alerts: AlertsReport | None = None

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def sources(self) -> list[SourceCounts]:
        """Counts per source over all days of the run."""
        totals: dict[str, SourceCounts] = {}
        for counts in self.daily.values():
            for one in counts:
                totals.setdefault(one.source, SourceCounts(one.source)).add(one)
        return list(totals.values())

    def total(self, name: str) -> int:
        return sum(getattr(counts, name) for counts in self.sources)

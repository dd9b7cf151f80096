"""The run's accounting: every row read ends up in exactly one count, or the run stops.

Counts come from two places: the census (a narrow scan of every row's time: rows read per
day) and the staged rows (the prefilter's survivors, each with a status, and the rows kept
after the exclusion). Every read row the main flow did not stage was dropped by the
prefilter: not allowed SMB. All are a few grouped rows per source and day, so bringing them
to the driver is cheap.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from pyspark.sql import DataFrame

from smb_pipeline.config import PipelineConfig
from smb_pipeline.model.results import SourceCounts
from smb_pipeline.model.statuses import STATUS_NOT_SMB, STATUS_REJECTED, STATUS_SMB
from smb_pipeline.run.staging import census, format_context
from smb_pipeline.sources.reader import SourceArchive, reading_inputs
from smb_pipeline.transforms.frames import union_all


def collect_counts(frame: DataFrame) -> dict[tuple, int]:
    """Grouped counts brought to the driver: a few rows per source, day and status, never events."""
    return {tuple(row[:-1]): row[-1] for row in frame.collect()}


def count_rows(archives: Sequence[SourceArchive], config: PipelineConfig, start: dt.date,
               end: dt.date) -> dict[tuple, int]:
    """Census of every source in one job: (source, day, 'rows' | 'implausible') -> count, where
    'implausible' counts the rows whose time is implausible."""
    census_all = union_all([census(archive, format_context(archive, config), start, end) for archive in archives])
    counts: dict[tuple, int] = {}
    with reading_inputs(archives):
        rows = census_all.collect()
    for row in rows:
        if row.event_date is None:  # rows of other days
            continue
        counts[(row.source, row.event_date, "rows")] = row.rows_read
        counts[(row.source, row.event_date, "implausible")] = row.implausible
    return counts


def summarize_counts(
    census_rows: dict[tuple, int],
    status_rows: dict[tuple, int],
    kept_rows: dict[tuple, int],
    sources: Sequence[str],
    days: Sequence[dt.date],
) -> dict[dt.date, list[SourceCounts]]:
    """Per day and source: rows read (census) + statuses of the staged rows + kept rows.

    The rows read that were not staged are the prefilter's drops. More staged rows than rows
    read would mean the census and the main flow disagree on the rows' days, and the run stops.
    """
    daily: dict[dt.date, list[SourceCounts]] = {}
    for day in days:
        daily[day] = []
        for name in sources:
            smb = status_rows.get((name, day, STATUS_SMB), 0)
            kept = kept_rows.get((name, day), 0)
            staged = sum(status_rows.get((name, day, status), 0)
                         for status in (STATUS_SMB, STATUS_NOT_SMB, STATUS_REJECTED))
            read = census_rows.get((name, day, "rows"), 0)
            if staged > read:
                raise RuntimeError(
                    f"source {name!r}, {day}: {read} rows were read but {staged} were classified; "
                    "the census and the main flow disagree on the rows' days (a bug)"
                )
            daily[day].append(
                SourceCounts(
                    source=name,
                    rows_read=read,
                    not_allowed_smb=read - staged + status_rows.get((name, day, STATUS_NOT_SMB), 0),
                    rejected=status_rows.get((name, day, STATUS_REJECTED), 0),
                    excluded=smb - kept,
                    aggregated=kept,
                )
            )
    return daily

"""Backfill: long ranges in batches, through the same code path as the nightly run, resumable.

A day is skipped when its latest successful run read exactly the same files (paths,
sizes, modification times) with the same configuration, unless forced. Killing a
backfill and starting it again therefore resumes where it stopped.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass

from pyspark.sql import SparkSession

from smb_pipeline.config import PipelineConfig
from smb_pipeline.model.dates import days_between
from smb_pipeline.operations.fingerprint import DayInputs, inputs_for_days
from smb_pipeline.operations.runlog import config_hash, last_success_fingerprints, logged_run

log = logging.getLogger("smb_pipeline")


@dataclass
class BackfillProgress:
    total_days: int
    days_done: int = 0
    days_skipped: int = 0
    rows: int = 0
    seconds: float = 0.0

    def line(self, batch: int, batches: int) -> str:
        rate = self.rows / self.seconds if self.seconds else 0.0
        worked = self.days_done - self.days_skipped
        remaining = self.total_days - self.days_done
        eta = self.seconds / worked * remaining if worked else 0.0
        return (f"batch {batch}/{batches}: {self.days_done}/{self.total_days} days done "
                f"({self.days_skipped} unchanged, skipped), {self.rows:,} rows, {rate:,.0f} rows/s, "
                f"ETA {_duration(eta)}")


def _duration(seconds: float) -> str:
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m{secs:02d}s" if hours else f"{minutes}m{secs:02d}s"


def batches(start: dt.date, end: dt.date, batch_days: int) -> Iterator[tuple[dt.date, dt.date]]:
    day = start
    while day <= end:
        last = min(end, day + dt.timedelta(days=batch_days - 1))
        yield day, last
        day = last + dt.timedelta(days=1)


def contiguous_ranges(days: list[dt.date]) -> Iterator[tuple[dt.date, dt.date]]:
    """[d1, d2, d3, d5] -> (d1, d3), (d5, d5): each range is one run."""
    if not days:
        return
    first = previous = days[0]
    for day in days[1:]:
        if day != previous + dt.timedelta(days=1):
            yield first, previous
            first = day
        previous = day
    yield first, previous


def days_to_process(spark: SparkSession, config: PipelineConfig, inputs: Mapping[dt.date, DayInputs],
                    force: bool) -> list[dt.date]:
    """The days of `inputs` whose files or config changed since their last successful run."""
    days = sorted(inputs)
    if force:
        return days
    previous = last_success_fingerprints(spark, config, days[0], days[-1])
    current_config = config_hash(config)
    return [day for day in days if previous.get(day) != (inputs[day].fingerprint, current_config)]


def backfill(spark: SparkSession, config: PipelineConfig, start: dt.date, end: dt.date, batch_days: int = 7,
             force: bool = False, report: Callable[[str], None] = print,
             wait_seconds: float = 0.0) -> BackfillProgress:
    """Process start..end in batches of `batch_days`, reporting a progress line per batch.

    `wait_seconds`: how long each batch waits for another run holding some of its days."""
    if batch_days < 1:
        raise ValueError("batch_days must be at least 1")
    all_batches = list(batches(start, end, batch_days))
    progress = BackfillProgress(total_days=(end - start).days + 1)
    for number, (first, last) in enumerate(all_batches, start=1):
        began = time.monotonic()
        inputs = inputs_for_days(spark, config, days_between(first, last))
        todo = days_to_process(spark, config, inputs, force)
        progress.days_skipped += len(inputs) - len(todo)
        for range_start, range_end in contiguous_ranges(todo):
            result = logged_run(spark, config, range_start, range_end, command="backfill", inputs=inputs,
                                wait_seconds=wait_seconds)
            progress.rows += result.total("rows_read")
        progress.days_done += (last - first).days + 1
        progress.seconds += time.monotonic() - began
        report(progress.line(number, len(all_batches)))
    return progress

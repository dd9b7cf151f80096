"""The nightly run: read each source, normalize, validate, filter, exclude, aggregate, write.

Every row read in the requested days ends up in exactly one bucket of the summary:
not allowed SMB, rejected (with a reason, in `rejected_events`), excluded as company
traffic, or aggregated into `smb_allowed_daily`. A row belongs to the run of its event's
UTC day; a row whose time is unusable belongs to its folder's day.

The path of a row, module by module (docs/architecture.md draws it):
`sources.reader` -> `run.staging` (the format's prefilter and normalizer, `transforms.events`,
`transforms.validate`) -> `run.outputs` (`transforms.subnets`, `transforms.aggregate`,
`run.counts`) -> `run.writes` (`storage.delta_io`), then the alerts step (`alerts.run`).
"""

from __future__ import annotations

import datetime as dt
import logging
import time

from pyspark.sql import Observation, SparkSession
from pyspark.sql import functions as F

from smb_pipeline.alerts.report import AlertsReport
from smb_pipeline.alerts.run import detect_days
from smb_pipeline.config import PipelineConfig
from smb_pipeline.model.dates import days_between
from smb_pipeline.model.results import RunResult
from smb_pipeline.model.schemas import PAIRS_TABLE, REJECTS_TABLE
from smb_pipeline.run.outputs import build_outputs
from smb_pipeline.run.writes import RunControl, write_outputs

log = logging.getLogger("smb_pipeline")


def run_pipeline(spark: SparkSession, config: PipelineConfig, start: dt.date, end: dt.date,
                 control: RunControl | None = None) -> RunResult:
    """Process the UTC days start..end (inclusive) of every source and write both tables."""
    if end < start:
        raise ValueError(f"end {end} is before start {start}")
    control = control or RunControl()
    began = time.monotonic()
    control.checkpoint("computing")
    outputs = build_outputs(spark, config, start, end)
    reports: list[AlertsReport] = []

    def alerts_step() -> None:
        log.info("computing the alerts of %s..%s", start, end)
        reports.append(detect_days(spark, config, start, end, processed=days_between(start, end)))
    # Count the pairs while writing them, rather than in a job of its own.
    try:
        written = Observation("pairs_written")
        pairs = outputs.pairs.observe(written, F.count(F.lit(1)).alias("rows"))
        log.info("writing the pair table and the rejects for %s..%s", start, end)
        versions = write_outputs(spark, config, start, end, pairs, outputs.rejects, control,
                                 alerts_step if config.alerts.enabled else None)
        pairs_written = written.get["rows"]
    finally:
        outputs.release()
    alerts = reports[-1] if reports else AlertsReport(start, end, disabled=True)
    return RunResult(
        start=start,
        end=end,
        daily=outputs.daily,
        pairs_written=pairs_written,
        tables={name: config.output.table_path(name) for name in (PAIRS_TABLE, REJECTS_TABLE)},
        versions=versions,
        elapsed_seconds=time.monotonic() - began,
        files_skipped=outputs.files_skipped,
        no_data=outputs.no_data,
        alerts=alerts,
    )

"""Writing a run's days into its tables: all of them or none, and never another run's commit."""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field

from pyspark.sql import DataFrame, SparkSession

from smb_pipeline.alerts.schema import ALERTS_TABLE
from smb_pipeline.config import PipelineConfig
from smb_pipeline.model.schemas import PAIRS_TABLE, REJECTS_TABLE
from smb_pipeline.storage import commits, delta_io, registration

log = logging.getLogger("smb_pipeline")


@dataclass
class RunControl:
    """How the caller steers a run: the id every commit of the run carries (so that an undo
    finds the run's own commits), `checkpoint(stage)`, called at each safe point, which
    raises to stop the run there (signals, a lost claim), and `protected()`, within which
    nothing may stop the run (an undo; the bookkeeping after the last commit)."""

    run_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    checkpoint: Callable[[str], None] = lambda stage: None
    protected: Callable[[], AbstractContextManager] = nullcontext


def write_outputs(
    spark: SparkSession, config: PipelineConfig, start: dt.date, end: dt.date, pairs: DataFrame, rejects: DataFrame,
    control: RunControl | None = None, alerts_step: Callable[[], None] | None = None,
) -> dict[str, int]:
    """Replace the run's days in both tables (and, with `alerts_step`, in smb_alerts), or in none.

    A failure (or a stop at the safe points between the commits) is undone by a
    compensating commit per table the run committed to: only the run's days, rewritten as
    they were before its commit; other runs' commits on other days stay.
    Returns the version of each table that holds the run's commit.
    """
    control = control or RunControl()
    tables = {name: config.output.table_path(name) for name in (PAIRS_TABLE, REJECTS_TABLE)}
    if alerts_step is not None:
        tables[ALERTS_TABLE] = config.output.table_path(ALERTS_TABLE)
    with commits.commits_tagged(spark, control.run_id):
        try:
            control.checkpoint("before_commits")
            _write_pairs(spark, pairs, tables[PAIRS_TABLE], start, end)
            control.checkpoint("between_commits")
            delta_io.replace_days(rejects, tables[REJECTS_TABLE], start, end)
            if alerts_step is not None:
                control.checkpoint("before_alerts")
                alerts_step()
        except BaseException:
            log.error("write failed or stopped; undoing this run's days %s..%s", start, end)
            with control.protected():
                for path in tables.values():
                    commits.undo_days(spark, path, control.run_id, start, end)
            raise
    # Committed: a stop now would leave the commits in place without an undo; it waits until the run ends.
    with control.protected():
        versions = _run_versions(spark, tables, control.run_id)
        if config.output.database:
            for name, path in tables.items():
                registration.register_table(spark, config.output.database, name, path)
    return versions


def _run_versions(spark: SparkSession, tables: dict[str, str], run_id: str) -> dict[str, int]:
    """Each table's version the run committed, found by the run's tag: a table's latest version
    may already be another run's commit (runs on other days commit concurrently).

    The lookups are independent reads of the tables' logs, mostly driver work (in a fresh JVM,
    Delta's code not yet compiled), while the executors are idle: they run concurrently."""
    with ThreadPoolExecutor(max_workers=len(tables)) as pool:
        found = pool.map(lambda path: commits.run_commit_version(spark, path, run_id), tables.values())
        versions = dict(zip(tables, found, strict=True))
    return {name: version for name, version in versions.items() if version is not None}


def _write_pairs(spark: SparkSession, pairs: DataFrame, path: str, start: dt.date, end: dt.date) -> None:
    """The pair table has its change data feed on: set on an existing table before the run's
    commit (so the undo of the run still finds its data commit last), or at creation."""
    if delta_io.enable_change_feed(spark, path):
        delta_io.replace_days(pairs, path, start, end)
    else:
        delta_io.replace_days(pairs, path, start, end, options={delta_io.CHANGE_FEED: "true"})

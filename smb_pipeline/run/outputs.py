"""What a run writes, computed but not yet written: the pairs, the rejects and the counts."""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from pyspark import StorageLevel
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from smb_pipeline.alerts.classify import with_direction
from smb_pipeline.alerts.run import address_reference
from smb_pipeline.config import PipelineConfig
from smb_pipeline.engine.session import session_settings
from smb_pipeline.model.columns import COMPANY_COLUMN, FILE_COLUMN, ROW_INDEX_COLUMN
from smb_pipeline.model.dates import days_between
from smb_pipeline.model.results import SourceCounts
from smb_pipeline.model.statuses import STATUS_REJECTED, STATUS_SMB
from smb_pipeline.run.counts import collect_counts, count_rows, summarize_counts
from smb_pipeline.run.staging import Staging, stage_sources
from smb_pipeline.sources.reader import SourceArchive, raw_rows, read_source, reading_inputs
from smb_pipeline.storage import delta_io
from smb_pipeline.transforms.aggregate import aggregate_daily_pairs
from smb_pipeline.transforms.events import REJECT_KEYS, kept_events, rejected_keys, rejects_table
from smb_pipeline.transforms.subnets import with_company_flag
from smb_pipeline.transforms.validate import ADDRESS_KEYS

log = logging.getLogger("smb_pipeline")


@dataclass
class RunOutputs:
    """What a run writes, computed but not yet written, and the caches behind it."""

    pairs: DataFrame
    rejects: DataFrame
    daily: dict[dt.date, list[SourceCounts]]
    cached: list[DataFrame]
    files_skipped: list[str] = field(default_factory=list)
    no_data: list[str] = field(default_factory=list)
    temp_views: list[str] = field(default_factory=list)

    def release(self) -> None:
        _release(self.pairs.sparkSession, self.cached, self.temp_views)


def _release(spark: SparkSession, cached: list[DataFrame], temp_views: list[str]) -> None:
    for frame in cached:
        frame.unpersist()
    for name in temp_views:
        spark.catalog.dropTempView(name)


def read_sources(spark: SparkSession, config: PipelineConfig, start: dt.date, end: dt.date) -> list[SourceArchive]:
    """Every configured source's archive for the window, with a warning per source without data
    and per file skipped as unreadable."""
    archives = [read_source(spark, source, start, end) for source in config.sources]
    for archive in archives:
        if archive.no_data:
            log.warning("source %r: no files in the read window (no_data); its counts are zero", archive.config.name)
        for path in archive.files_skipped:
            log.warning("source %r: skipped unreadable file %s (on_corrupt_file: skip)", archive.config.name, path)
    return archives


def build_outputs(spark: SparkSession, config: PipelineConfig, start: dt.date, end: dt.date) -> RunOutputs:
    """Compute the pair table, the rejects and the counts of a run, without writing anything.

    The staged survivors, each flagged as company traffic or not, are persisted: one action
    counts their statuses and the rows kept, and the pair table and the rejects read them
    again. The caller releases them (`RunOutputs.release`) after writing.
    """
    archives = read_sources(spark, config, start, end)
    log.info("counting rows of %d source(s) for %s..%s", len(archives), start, end)
    census_rows, staging = _census_and_staging(archives, config, start, end)

    log.info("normalizing, validating and filtering prefilter survivors")
    cached: list[DataFrame] = []
    temp_views: list[str] = []
    try:
        staged = _persisted(company_flagged(staging.frame, config), cached)
        with reading_inputs(archives):
            status_rows, kept_rows, reject_files = _status_and_kept_counts(staged)
        for check in staging.checks:
            check.verify()
        daily = summarize_counts(census_rows, status_rows, kept_rows, [s.name for s in config.sources],
                                 days_between(start, end))
        kept = kept_events(staged)
        # Grouping within day partitions lets the writer's one-file-per-day repartition reuse
        # this shuffle: one shuffle of the few kept rows instead of two.
        # The addresses' keys from validation ride through the aggregation, so that the direction
        # does not parse every pair's addresses again.
        pairs = aggregate_daily_pairs(kept.repartition(delta_io.PARTITION), carry=ADDRESS_KEYS)
        pairs = with_direction(pairs, address_reference(spark, config), keys=ADDRESS_KEYS)
        skipped = [path for archive in archives for path in archive.files_skipped]
        no_data = [archive.config.name for archive in archives if archive.no_data]
        rejects = rejects_table(staged, _raw_of_rejected_rows(spark, archives, staged, reject_files, temp_views))
        if not any(n for (_, _, status), n in status_rows.items() if status == STATUS_REJECTED):
            # The counts say no row was rejected: the write still replaces the days (a rerun
            # empties them), from an empty relation that Spark plans without reading the cache.
            rejects = rejects.limit(0)
        return RunOutputs(pairs, rejects, daily, cached, skipped, no_data, temp_views)
    except BaseException:
        _release(spark, cached, temp_views)
        raise


def _census_and_staging(archives: list[SourceArchive], config: PipelineConfig, start: dt.date,
                        end: dt.date) -> tuple[dict[tuple, int], Staging]:
    """The census (`run.counts.count_rows`) and the staged rows' plan (`run.staging.stage_sources`).

    The plan is built on a helper thread while the census runs: building it is driver work
    (analysis of a deep plan, about a second in a fresh JVM), the census is the executors'. The
    census stays on the caller's thread, with its job group, tags and signal handling; building
    runs no Spark job. The plan assumes that no source has rows with an implausible time; in the
    rare run whose census finds some, it is built again with those sources.
    """
    with ThreadPoolExecutor(max_workers=1) as pool:
        planned = pool.submit(stage_sources, archives, config, start, end)
        census_rows = count_rows(archives, config, start, end)
        staging = planned.result()
    implausible = {source for (source, _, kind), n in census_rows.items() if kind == "implausible" and n}
    if implausible:
        staging = stage_sources(archives, config, start, end, implausible)
    return census_rows, staging


# The run's cache of staged rows is filled uncompressed: compressing gathers statistics per value
# for every encoding (a Scala hash map per column), 14% of a converged run's samples, for the few
# percent of the rows a run caches (docs/performance.md). Set only while the cache is declared
# (`persist` plans it with a copy of the session's settings), since it applies to every cache
# declared meanwhile.
UNCOMPRESSED_CACHE = {"spark.sql.inMemoryColumnarStorage.compressed": "false"}

# What a run reads of its staged rows: the counts (source, day, status, company, file), the
# pair table (the kept rows' canonical columns and address keys) and the rejects (reason, detail,
# file and row index). The other canonical columns (transport, rule, the vendor's action, ...)
# are for the formats' own tests and analysts' reads of a normalizer; the tables do not hold them.
RUN_COLUMNS = (
    "source", "event_date", "status", COMPANY_COLUMN, FILE_COLUMN, ROW_INDEX_COLUMN,
    "event_time", "src_ip", "dest_ip", *ADDRESS_KEYS, "dest_port", "app", "dvc", "session_key",
    "bytes_in", "bytes_out", "reject_reason", "reject_detail",
)


def company_flagged(staged: DataFrame, config: PipelineConfig) -> DataFrame:
    """The staged rows (`run.staging.stage_sources`), each flagged as company traffic or not as
    the config says, with the columns the run reads (`RUN_COLUMNS`): the rows a run persists and
    counts. Narrowed before the cache, so that the scan decodes no other column of the rows it
    reads and the survivors' stages carry none (Spark prunes them below the stage ends)."""
    return with_company_flag(staged, config.company_subnets, config.exclude_company).select(*RUN_COLUMNS)


def _status_and_kept_counts(staged: DataFrame) -> tuple[dict[tuple, int], dict[tuple, int], dict[str, set[str]]]:
    """(source, day, status) -> rows; (source, day) -> allowed SMB rows that are not company
    traffic; source -> the files with rejected rows. From one grouped count of the staged rows
    (a few groups per source, day and status, and one per file with rejects)."""
    reject_file = F.when(F.col("status") == STATUS_REJECTED, F.col(FILE_COLUMN)).alias("reject_file")
    grouped = collect_counts(staged.groupBy("source", "event_date", "status", COMPANY_COLUMN, reject_file).count())
    status_rows: dict[tuple, int] = {}
    kept_rows: dict[tuple, int] = {}
    reject_files: dict[str, set[str]] = {}
    for (source, day, status, company, file), n in grouped.items():
        status_rows[(source, day, status)] = status_rows.get((source, day, status), 0) + n
        if status == STATUS_SMB and not company:
            kept_rows[(source, day)] = kept_rows.get((source, day), 0) + n
        if file is not None:
            reject_files.setdefault(source, set()).add(file)
    return status_rows, kept_rows, reject_files


def _raw_of_rejected_rows(spark: SparkSession, archives: list[SourceArchive], staged: DataFrame,
                          reject_files: dict[str, set[str]], temp_views: list[str]) -> DataFrame | None:
    """The raw rows of the rejected rows alone: the rows of the files with rejects (the only
    files read), semi-joined with the rejected rows' keys, so that meeting the rejects is cheap.

    The keys are handed over as a temporary view (named in `temp_views`, for the caller to drop):
    the rejects table joins two frames derived from `staged`, and pyspark's Spark Connect client
    before 4.2 fails on a join whose two sides carry the same `Observation` (the staging's row
    checks; SPARK-56322). A frame read from a view carries none; on the server the plan is the
    same. (SQL with the keys frame as an argument nests the plan one level deeper, past the
    client's protobuf depth limit.)
    """
    raw = raw_rows(archives, reject_files)
    if raw is None:
        return None
    name = f"smb_pipeline_rejected_keys_{uuid.uuid4().hex}"
    rejected_keys(staged).createTempView(name)
    temp_views.append(name)
    return raw.join(spark.table(name), on=list(REJECT_KEYS), how="left_semi")


def _persisted(frame: DataFrame, cached: list[DataFrame]) -> DataFrame:
    """Persist `frame` uncompressed (`UNCOMPRESSED_CACHE`) and remember it in `cached`, so that
    whoever owns the list can release it."""
    with session_settings(frame.sparkSession, UNCOMPRESSED_CACHE):  # the cache takes them when declared
        cached.append(frame.persist(StorageLevel.MEMORY_AND_DISK))
    return frame

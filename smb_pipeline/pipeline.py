"""The nightly run: read each source, normalize, validate, filter, exclude, aggregate, write.

Every row read in the requested days ends up in exactly one bucket of the summary:
not allowed SMB, rejected (with a reason, in `rejected_events`), excluded as company
traffic, or aggregated into `smb_allowed_daily`. A row belongs to the run of its event's
UTC day; a row whose time is unusable belongs to its folder's day.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
import uuid
from collections.abc import Callable, Collection, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field

from pyspark import StorageLevel
from pyspark.sql import Column, DataFrame, Observation, SparkSession
from pyspark.sql import functions as F

from smb_pipeline.aggregate import aggregate_daily_pairs
from smb_pipeline.alerts.classify import with_direction
from smb_pipeline.alerts.report import AlertsReport
from smb_pipeline.alerts.run import address_reference, detect_days
from smb_pipeline.alerts.schema import ALERTS_TABLE
from smb_pipeline.codegen import end_codegen_stage
from smb_pipeline.config import PipelineConfig
from smb_pipeline.formats.base import FormatContext, day_literal
from smb_pipeline.reader import (
    FILE_COLUMN,
    FOLDER_DAY_COLUMN,
    MARGIN_DAYS,
    MISSING_COLUMN,
    FileGroup,
    SourceArchive,
    read_source,
    reading_inputs,
    with_file_column,
)
from smb_pipeline.schemas import PAIRS_TABLE, REJECTS_SCHEMA, REJECTS_TABLE
from smb_pipeline.smb_filter import is_allowed_smb
from smb_pipeline.storage import delta_io
from smb_pipeline.subnets import build_subnet_index, exclude_company_traffic
from smb_pipeline.validate import with_validated_fields

log = logging.getLogger("smb_pipeline")

RAW_COLUMN = "_raw"
CANDIDATE_COLUMN = "_candidate"
STATUS_REJECTED = "rejected"
STATUS_NOT_SMB = "not_allowed_smb"
STATUS_SMB = "allowed_smb"


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


def format_context(archive: SourceArchive, config: PipelineConfig) -> FormatContext:
    return FormatContext(
        source=archive.config.name,
        timezone=archive.config.timezone,
        smb_ports=config.smb.ports,
        smb_apps=tuple(sorted(set(config.smb.apps) | archive.format.smb_apps)),
    )


SECONDS_PER_DAY = 86_400


def utc_date(timestamp: Column) -> Column:
    """The UTC day of a timestamp, by arithmetic on its epoch seconds.

    `to_date` goes through java.time for every row (a zone lookup and a LocalDate per call:
    a tenth of the census scan's samples at 50M rows) and follows the session zone; a UTC
    day is whole days of seconds since the epoch. Exact: the epoch seconds of any timestamp
    Spark holds fit a double, and a quotient that is not whole lies at least 1/86,400 from
    the next whole number, far beyond the division's rounding.
    """
    return F.date_from_unix_date(F.floor(F.unix_seconds(timestamp) / SECONDS_PER_DAY).cast("int"))


IMPLAUSIBLE_COLUMN = "_implausible_time"
REASON_MISSING_COLUMN = "missing_column"
REASON_IMPLAUSIBLE_TIME = "implausible_time"


def with_event_date(events: DataFrame, start: dt.date) -> DataFrame:
    """The day that owns a row (`event_date`) and whether its time is implausible.

    A row belongs to its event's UTC day when that day is within `MARGIN_DAYS` of its folder's
    day: exactly the runs that read the folder. Otherwise (1900, 9999, epoch 0, logged too
    late for any run that reads its folder) the time is implausible and the row belongs to its
    folder's day, as does a row without a time (the run's first day if the archive has no day
    folders). So every row of a folder is owned by exactly one run.
    """
    folder = F.col(FOLDER_DAY_COLUMN)
    with_day = events.withColumn("_event_day", utc_date(F.col("event_time")))
    implausible = F.coalesce(F.abs(F.datediff(F.col("_event_day"), folder)) > MARGIN_DAYS, F.lit(False))
    return (
        with_day.withColumn(IMPLAUSIBLE_COLUMN, implausible)
        .withColumn(
            "event_date",
            F.when(F.col(IMPLAUSIBLE_COLUMN), folder).otherwise(
                F.coalesce(F.col("_event_day"), folder, day_literal(start))
            ),
        )
        .drop("_event_day")
    )


def filter_days(events: DataFrame, start: dt.date, end: dt.date) -> DataFrame:
    return events.filter(F.col("event_date").between(day_literal(start), day_literal(end)))


def group_prefilter(archive: SourceArchive, group: FileGroup, context: FormatContext) -> Column:
    """The format's prefilter; every row of files that lack a required column passes, so that
    the main flow rejects them (`missing_column`) instead of counting them as not SMB."""
    if group.missing:
        return F.lit(True)
    return archive.format.prefilter(group.fields, context)


def _union(frames: Sequence[DataFrame]) -> DataFrame:
    union = frames[0]
    for frame in frames[1:]:
        union = union.unionByName(frame)
    return union


def census(archive: SourceArchive, context: FormatContext, start: dt.date, end: dt.date) -> DataFrame:
    """Rows per requested owning day and how many pass the cheap prefilter, from a narrow scan.

    Only the time and prefilter columns are decoded: Spark prunes every other column of
    the normalizer's output. Rows of other days form one group with a null day, which the
    caller drops. A filter on the day would be pushed below the normalization, copying the
    event-time parsing into the filter: text times would be parsed three times per row.
    Each schema group is normalized with its own fields; the groups are unioned after.
    """
    frames = []
    for group in archive.groups:
        flagged = group.frame.withColumn(CANDIDATE_COLUMN, group_prefilter(archive, group, context))
        frames.append(archive.format.normalize(flagged, group.fields, context, (CANDIDATE_COLUMN, FOLDER_DAY_COLUMN)))
    dated = with_event_date(_union(frames), start)
    in_days = F.col("event_date").between(day_literal(start), day_literal(end))
    requested_day = F.when(in_days, F.col("event_date")).alias("event_date")
    return dated.groupBy(F.lit(context.source).alias("source"), requested_day).agg(
        F.count(F.lit(1)).alias("rows_read"),
        F.count(F.when(F.col(CANDIDATE_COLUMN), 1)).alias("candidates"),
        F.count(F.when(~F.col(CANDIDATE_COLUMN) & F.col(IMPLAUSIBLE_COLUMN), 1)).alias("implausible_others"),
    )


def prefilter_survivors(archive: SourceArchive, group: FileGroup, context: FormatContext) -> DataFrame:
    """The rows that can be allowed SMB, in the vendor's own columns (pushed to Parquet where exact).

    The scan's generated code ends at the filter, so that the JIT compiles the loop that
    decodes every row on its own, without the normalization and validation code of the few
    survivors (smb_pipeline.codegen; measured at 10M rows, warm: 6.0 s -> 2.4 s).
    """
    survivors = group.frame.filter(group_prefilter(archive, group, context))
    return end_codegen_stage(with_file_column(survivors))


def _normalized_group(archive: SourceArchive, group: FileGroup, context: FormatContext, rows: DataFrame,
                      keep: tuple[str, ...] = ()) -> DataFrame:
    """`rows` of one schema group (with their file column) in canonical form, each with its raw
    row as JSON, its file and the required column its file lacks (null when none), and `keep`."""
    raw = F.to_json(F.struct(*[F.col(f"`{name}`") for name in group.raw_columns]))
    missing = F.lit(", ".join(group.missing) if group.missing else None).cast("string")
    with_raw = rows.withColumn(RAW_COLUMN, raw).withColumn(MISSING_COLUMN, missing)
    return archive.format.normalize(
        with_raw, group.fields, context, (*keep, RAW_COLUMN, FILE_COLUMN, FOLDER_DAY_COLUMN, MISSING_COLUMN))


def _of_source(frames: Sequence[DataFrame], archive: SourceArchive, context: FormatContext) -> DataFrame:
    """The schema groups' frames as one, tagged with the source and its format."""
    return _union(frames).withColumn("source", F.lit(context.source)).withColumn(
        "vendor_product", F.lit(archive.format.name)
    )


def canonical_candidates(archive: SourceArchive, context: FormatContext) -> DataFrame:
    """Prefilter survivors in canonical form (`_normalized_group`); one normalization per schema group."""
    frames = [_normalized_group(archive, group, context, prefilter_survivors(archive, group, context))
              for group in archive.groups]
    return _of_source(frames, archive, context)


def implausible_others(archive: SourceArchive, context: FormatContext, start: dt.date) -> DataFrame:
    """Rows the prefilter drops whose event time is implausible, in the shape of
    `canonical_candidates`: they are rejected (`implausible_time`), not counted as not SMB.

    Only read for a source whose census found such rows: a second scan of its window, which
    normalizes every row to find them, for what is rare in a healthy archive.
    """
    frames = []
    for group in archive.groups:  # a group missing a column has every row a candidate: none here
        flagged = with_file_column(group.frame.withColumn(CANDIDATE_COLUMN, group_prefilter(archive, group, context)))
        dated = with_event_date(_normalized_group(archive, group, context, flagged, (CANDIDATE_COLUMN,)), start)
        others = dated.filter(~F.col(CANDIDATE_COLUMN) & F.col(IMPLAUSIBLE_COLUMN))
        frames.append(others.drop(CANDIDATE_COLUMN, IMPLAUSIBLE_COLUMN, "event_date"))
    return _of_source(frames, archive, context)


def with_input_rejects(validated: DataFrame) -> DataFrame:
    """Rejects that come from the input rather than a value: a required column missing from the
    row's file, an implausible event time. They take precedence over the value checks."""
    missing = F.col(MISSING_COLUMN).isNotNull()
    implausible = F.col(IMPLAUSIBLE_COLUMN)
    detail_missing = F.format_string("file %s: column %s is missing", F.col(FILE_COLUMN), F.col(MISSING_COLUMN))
    detail_implausible = F.format_string(
        "event time %s is more than %d day(s) from its folder's day %s",
        F.col("event_time").cast("string"), F.lit(MARGIN_DAYS), F.col(FOLDER_DAY_COLUMN).cast("string"),
    )
    return validated.withColumn(
        "reject_detail",
        F.when(missing, detail_missing).when(implausible, detail_implausible).otherwise(F.col("reject_detail")),
    ).withColumn(
        "reject_reason",
        F.when(missing, F.lit(REASON_MISSING_COLUMN)).when(implausible, F.lit(REASON_IMPLAUSIBLE_TIME))
        .otherwise(F.col("reject_reason")),
    )


def with_status(events: DataFrame, ports: Sequence[int], apps: Sequence[str]) -> DataFrame:
    """rejected | not_allowed_smb | allowed_smb, for validated canonical events."""
    smb = is_allowed_smb(F.col("action"), F.col("session_key"), F.col("dest_port"), F.col("app"), ports, apps)
    return events.withColumn(
        "status",
        F.when(F.col("reject_reason").isNotNull(), STATUS_REJECTED).when(smb, STATUS_SMB).otherwise(STATUS_NOT_SMB),
    )


def stage_events(archives: Sequence[SourceArchive], config: PipelineConfig, start: dt.date,
                 end: dt.date, implausible_sources: Collection[str] = ()) -> DataFrame:
    """All sources' candidates of the requested days, validated, each with a status.

    `implausible_sources`: sources whose census found rows with an implausible time that the
    prefilter drops; those rows are staged too (and rejected).
    """
    frames = []
    for archive in archives:
        context = format_context(archive, config)
        candidates = canonical_candidates(archive, context)
        if context.source in implausible_sources:
            candidates = candidates.unionByName(implausible_others(archive, context, start))
        # Normalization ends its generated code here, so that each validation step gets its own,
        # small enough for the JIT (see smb_pipeline.codegen). The days are filtered after it, so
        # that the filter reads the event day rather than a copy of the event-time parsing, and
        # before validation, since filters are not moved across its stage ends.
        normalized = end_codegen_stage(with_event_date(candidates, start))
        validated = with_input_rejects(with_validated_fields(filter_days(normalized, start, end)))
        staged = with_status(validated, config.smb.ports, context.smb_apps)
        # Only a rejected row needs its raw JSON: the persisted frame keeps it for those alone.
        frames.append(staged.withColumn(RAW_COLUMN, F.when(F.col("status") == STATUS_REJECTED, F.col(RAW_COLUMN))))
    return _union(frames)


def rejects_table(staged: DataFrame) -> DataFrame:
    rejects = staged.filter(F.col("status") == STATUS_REJECTED).select(
        "event_date",
        "source",
        F.col("reject_reason").alias("reason"),
        F.col(RAW_COLUMN).alias("raw"),
        F.col("reject_detail").alias("detail"),
        F.col(FILE_COLUMN).alias("file_path"),
    )
    return rejects.select(*[F.col(f.name).cast(f.dataType) for f in REJECTS_SCHEMA.fields])


def _collect_counts(frame: DataFrame) -> dict[tuple, int]:
    """Grouped counts brought to the driver: a few rows per source, day and status, never events."""
    return {tuple(row[:-1]): row[-1] for row in frame.collect()}


def summarize_counts(
    census_rows: dict[tuple, int],
    status_rows: dict[tuple, int],
    kept_rows: dict[tuple, int],
    sources: Sequence[str],
    days: Sequence[dt.date],
) -> dict[dt.date, list[SourceCounts]]:
    """Per day and source: census (rows read, prefilter survivors) + statuses + kept rows.

    Survivors counted by the narrow census scan must equal the rows the main flow
    classified; a difference means a normalizer lost rows, and the run stops.
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
            # Rows the prefilter drops but the main flow stages: their time is implausible.
            candidates = census_rows.get((name, day, "candidates"), 0) + census_rows.get((name, day, "implausible"), 0)
            if candidates != staged:
                raise RuntimeError(
                    f"source {name!r}, {day}: {candidates} rows passed the prefilter but {staged} were "
                    "classified; this is a bug in the format's normalizer (rows would be lost)"
                )
            daily[day].append(
                SourceCounts(
                    source=name,
                    rows_read=read,
                    not_allowed_smb=read - candidates + status_rows.get((name, day, STATUS_NOT_SMB), 0),
                    rejected=status_rows.get((name, day, STATUS_REJECTED), 0),
                    excluded=smb - kept,
                    aggregated=kept,
                )
            )
    return daily


def days_between(start: dt.date, end: dt.date) -> list[dt.date]:
    """start..end inclusive."""
    return [start + dt.timedelta(days=offset) for offset in range((end - start).days + 1)]


@dataclass
class RunOutputs:
    """What a run writes, computed but not yet written, and the caches behind it."""

    pairs: DataFrame
    rejects: DataFrame
    daily: dict[dt.date, list[SourceCounts]]
    cached: list[DataFrame]
    files_skipped: list[str] = field(default_factory=list)
    no_data: list[str] = field(default_factory=list)

    def release(self) -> None:
        for frame in self.cached:
            frame.unpersist()


def count_rows(archives: Sequence[SourceArchive], config: PipelineConfig, start: dt.date,
               end: dt.date) -> dict[tuple, int]:
    """Census of every source in one job: (source, day, 'rows' | 'candidates' | 'implausible') -> count,
    where 'implausible' counts the rows with an implausible time that the prefilter drops.

    The result is a few rows per source and day, so collecting it is cheap.
    """
    census_all = _union([census(archive, format_context(archive, config), start, end) for archive in archives])
    counts: dict[tuple, int] = {}
    with reading_inputs(archives):
        rows = census_all.collect()
    for row in rows:
        if row.event_date is None:  # rows of other days
            continue
        counts[(row.source, row.event_date, "rows")] = row.rows_read
        counts[(row.source, row.event_date, "candidates")] = row.candidates
        counts[(row.source, row.event_date, "implausible")] = row.implausible_others
    return counts


def build_outputs(spark: SparkSession, config: PipelineConfig, start: dt.date, end: dt.date) -> RunOutputs:
    """Compute the pair table, the rejects and the counts of a run, without writing anything.

    The staged survivors and the rows kept after the company exclusion are persisted: each
    feeds both a count and a table, and neither should be computed twice. The caller
    releases them (`RunOutputs.release`) after writing.
    """
    index = build_subnet_index(spark, config.company_subnets)
    archives = [read_source(spark, source, start, end) for source in config.sources]
    for archive in archives:
        if archive.no_data:
            log.warning("source %r: no files in the read window (no_data); its counts are zero", archive.config.name)
        for path in archive.files_skipped:
            log.warning("source %r: skipped unreadable file %s (on_corrupt_file: skip)", archive.config.name, path)
    log.info("counting rows of %d source(s) for %s..%s", len(archives), start, end)
    census_rows = count_rows(archives, config, start, end)

    log.info("normalizing, validating and filtering prefilter survivors")
    cached: list[DataFrame] = []
    try:
        implausible = {source for (source, _, kind), n in census_rows.items() if kind == "implausible" and n}
        staged = _persisted(stage_events(archives, config, start, end, implausible), cached)
        with reading_inputs(archives):
            status_rows = _collect_counts(staged.groupBy("source", "event_date", "status").count())
        smb_events = staged.filter(F.col("status") == STATUS_SMB)
        kept = _persisted(exclude_company_traffic(smb_events, index, config.exclude_company), cached)
        kept_rows = _collect_counts(kept.groupBy("source", "event_date").count())
        daily = summarize_counts(census_rows, status_rows, kept_rows, [s.name for s in config.sources],
                                 days_between(start, end))
        # Grouping within day partitions lets the writer's one-file-per-day repartition reuse
        # this shuffle: one shuffle of the few kept rows instead of two.
        pairs = aggregate_daily_pairs(kept.repartition(delta_io.PARTITION))
        pairs = with_direction(pairs, address_reference(spark, config))
        skipped = [path for archive in archives for path in archive.files_skipped]
        no_data = [archive.config.name for archive in archives if archive.no_data]
        return RunOutputs(pairs, rejects_table(staged), daily, cached, skipped, no_data)
    except BaseException:
        for frame in cached:
            frame.unpersist()
        raise


def _persisted(frame: DataFrame, cached: list[DataFrame]) -> DataFrame:
    """Persist `frame` and remember it in `cached`, so that whoever owns the list can release it."""
    cached.append(frame.persist(StorageLevel.MEMORY_AND_DISK))
    return frame


@dataclass
class RunControl:
    """How the caller steers a run: the id every commit of the run carries (so that an undo
    finds the run's own commits), and `checkpoint(stage)`, called at each safe point, which
    raises to stop the run there (signals, a lost claim)."""

    run_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    checkpoint: Callable[[str], None] = lambda stage: None
    protected: Callable[[], AbstractContextManager] = nullcontext


def write_outputs(
    spark: SparkSession, config: PipelineConfig, start: dt.date, end: dt.date, pairs: DataFrame, rejects: DataFrame,
    control: RunControl | None = None, alerts_step: Callable[[], int | None] | None = None,
) -> dict[str, int]:
    """Replace the run's days in both tables (and, with `alerts_step`, in smb_alerts), or in none.

    A failure (or a stop at the safe points between the commits) is undone by a
    compensating commit per table the run committed to: only the run's days, rewritten as
    they were before its commit; other runs' commits on other days stay.
    """
    control = control or RunControl()
    tables = {name: config.output.table_path(name) for name in (PAIRS_TABLE, REJECTS_TABLE)}
    if alerts_step is not None:
        tables[ALERTS_TABLE] = config.output.table_path(ALERTS_TABLE)
    versions: dict[str, int] = {}
    with delta_io.commits_tagged(spark, control.run_id):
        try:
            control.checkpoint("before_commits")
            versions[PAIRS_TABLE] = _write_pairs(spark, pairs, tables[PAIRS_TABLE], start, end)
            control.checkpoint("between_commits")
            versions[REJECTS_TABLE] = delta_io.replace_days(rejects, tables[REJECTS_TABLE], start, end)
            if alerts_step is not None:
                control.checkpoint("before_alerts")
                alerts_version = alerts_step()
                if alerts_version is not None:
                    versions[ALERTS_TABLE] = alerts_version
        except BaseException:
            log.error("write failed or stopped; undoing this run's days %s..%s", start, end)
            with control.protected():
                for path in tables.values():
                    delta_io.undo_days(spark, path, control.run_id, start, end)
            raise
    if config.output.database:
        for name, path in tables.items():
            delta_io.register_table(spark, config.output.database, name, path)
    return versions


def _write_pairs(spark: SparkSession, pairs: DataFrame, path: str, start: dt.date, end: dt.date) -> int:
    """The pair table has its change data feed on: set on an existing table before the run's
    commit (so the undo of the run still finds its data commit last), or at creation."""
    if delta_io.enable_change_feed(spark, path):
        return delta_io.replace_days(pairs, path, start, end)
    return delta_io.replace_days(pairs, path, start, end, options={delta_io.CHANGE_FEED: "true"})


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

    def alerts_step() -> int | None:
        log.info("computing the alerts of %s..%s", start, end)
        reports.append(detect_days(spark, config, start, end, processed=days_between(start, end)))
        return reports[-1].version
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
        alerts=reports[-1] if reports else AlertsReport(start, end, disabled=True),
    )

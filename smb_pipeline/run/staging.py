"""From a source's archive to its staged rows: census, prefilter, normalize, date, validate, classify.

This is where a row's path is wired, one source and one schema group at a time; the steps
themselves are the formats' normalizers and the pure transforms of `smb_pipeline.transforms`.

Engine-specific measures live here and nowhere else: generated-code stage ends
(`engine.codegen.end_codegen_stage`), so that the JIT compiles the scan's loop, each text
parser's steps and each validation step on their own. They change how fast a plan runs,
never what it computes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace

from pyspark.sql import Column, DataFrame, Observation
from pyspark.sql import functions as F

from smb_pipeline.config import PipelineConfig
from smb_pipeline.engine.codegen import counting_boundary, end_codegen_stage
from smb_pipeline.formats.base import FormatContext
from smb_pipeline.model.columns import (
    CANDIDATE_COLUMN,
    FILE_COLUMN,
    FOLDER_DAY_COLUMN,
    IMPLAUSIBLE_COLUMN,
    MISSING_COLUMN,
    ROW_INDEX_COLUMN,
)
from smb_pipeline.model.dates import day_literal
from smb_pipeline.sources.reader import FileGroup, SourceArchive, with_row_position
from smb_pipeline.transforms.events import filter_days, with_event_date, with_input_rejects, with_status
from smb_pipeline.transforms.frames import union_all
from smb_pipeline.transforms.validate import with_validated_fields


def format_context(archive: SourceArchive, config: PipelineConfig) -> FormatContext:
    """What the source's normalizer needs: its name, time zone and SMB ports and app ids."""
    return FormatContext(
        source=archive.config.name,
        timezone=archive.config.timezone,
        smb_ports=config.smb.ports,
        smb_apps=tuple(sorted(set(config.smb.apps) | archive.format.smb_apps)),
    )


def group_prefilter(archive: SourceArchive, group: FileGroup, context: FormatContext) -> Column:
    """The format's prefilter; every row of files that lack a required column passes, so that
    the main flow rejects them (`missing_column`) instead of counting them as not SMB."""
    if group.missing:
        return F.lit(True)
    return archive.format.prefilter(group.fields, context)


def census(archive: SourceArchive, context: FormatContext, start: dt.date, end: dt.date) -> DataFrame:
    """Rows per requested owning day, and how many of them have an implausible time, from a
    scan of the time columns alone.

    Only what the event time needs is decoded: Spark prunes every other column of the
    normalizer's output. The prefilter's survivors are counted by the main flow, which
    classifies each of them (`RowCheck` sees that none is lost). Rows of other days form one
    group with a null day, which the caller drops. A filter on the day would be pushed below
    the normalization, copying the event-time parsing into the filter: text times would be
    parsed three times per row. Each schema group is normalized with its own fields; the
    groups are unioned after.
    """
    frames = [archive.format.normalize(group.frame, group.fields, context, (FOLDER_DAY_COLUMN,))
              for group in archive.groups]
    dated = with_event_date(union_all(frames), start)
    in_days = F.col("event_date").between(day_literal(start), day_literal(end))
    requested_day = F.when(in_days, F.col("event_date")).alias("event_date")
    return dated.groupBy(F.lit(context.source).alias("source"), requested_day).agg(
        F.count(F.lit(1)).alias("rows_read"),
        F.count(F.when(F.col(IMPLAUSIBLE_COLUMN), 1)).alias("implausible"),
    )


@dataclass(frozen=True)
class RowCheck:
    """The rows one source's normalization takes in and gives out, counted as the main scan runs.

    A normalizer maps each prefilter survivor to one canonical row; one that dropped rows
    would have them counted as not SMB, silently. The counts ride on the stage ends the scan
    has anyway (`end_codegen_stage`), so checking costs no pass of its own.
    """

    source: str
    taken: tuple[Observation, ...]  # per schema group: the prefilter's survivors
    given: Observation  # the canonical rows of all groups

    @classmethod
    def of(cls, archive: SourceArchive) -> RowCheck:
        return cls(archive.config.name, tuple(counting_boundary("survivors") for _ in archive.groups),
                   counting_boundary("normalized"))

    def verify(self) -> None:
        """Raise when the counts differ; call after the action that ran the scan."""
        taken = sum(observation.get["rows"] for observation in self.taken)
        given = self.given.get["rows"]
        if taken != given:
            raise RuntimeError(
                f"source {self.source!r}: {taken} rows passed the prefilter but {given} were normalized; "
                "this is a bug in the format's normalizer (rows would be lost)"
            )


def prefilter_survivors(archive: SourceArchive, group: FileGroup, context: FormatContext,
                        counted: Observation | None = None) -> DataFrame:
    """The rows that can be allowed SMB, in the vendor's own columns (pushed to Parquet where exact).

    The scan's generated code ends at the filter, so that the JIT compiles the loop that
    decodes every row on its own, without the normalization and validation code of the few
    survivors (more than twice as fast; docs/performance.md).
    """
    survivors = group.frame.filter(group_prefilter(archive, group, context))
    return end_codegen_stage(with_row_position(survivors), counted)


def _normalized_group(archive: SourceArchive, group: FileGroup, context: FormatContext, rows: DataFrame,
                      keep: tuple[str, ...] = ()) -> DataFrame:
    """`rows` of one schema group (with their position, `with_row_position`) in canonical form,
    each with its file, row index and folder day, the required column its file lacks (null when
    none), and `keep`.

    Only the columns the normalizer reads are decoded: a rejected row's raw columns are read
    again afterwards (`sources.reader.raw_rows`), so the scan does not decode every column of
    every row for the few that are rejected. A text parser's generated code ends before the
    canonical columns read it (`FormatContext.stage_end`).
    """
    missing = F.lit(", ".join(group.missing) if group.missing else None).cast("string")
    return archive.format.normalize(
        rows.withColumn(MISSING_COLUMN, missing), group.fields, replace(context, stage_end=end_codegen_stage),
        (*keep, FILE_COLUMN, ROW_INDEX_COLUMN, FOLDER_DAY_COLUMN, MISSING_COLUMN))


def _of_source(frames: Sequence[DataFrame], archive: SourceArchive, context: FormatContext) -> DataFrame:
    """The schema groups' frames as one, tagged with the source and its format."""
    return union_all(frames).withColumns({"source": F.lit(context.source),
                                          "vendor_product": F.lit(archive.format.name)})


def canonical_candidates(archive: SourceArchive, context: FormatContext, check: RowCheck | None = None) -> DataFrame:
    """Prefilter survivors in canonical form (`_normalized_group`); one normalization per schema
    group. With `check`, the survivors of each group are counted into it."""
    counters = check.taken if check else (None,) * len(archive.groups)
    frames = [_normalized_group(archive, group, context, prefilter_survivors(archive, group, context, counted))
              for group, counted in zip(archive.groups, counters, strict=True)]
    return _of_source(frames, archive, context)


def implausible_others(archive: SourceArchive, context: FormatContext, start: dt.date) -> DataFrame:
    """Rows the prefilter drops whose event time is implausible, in the shape of
    `canonical_candidates`: they are rejected (`implausible_time`), not counted as not SMB.

    Only read for a source whose census found such rows: a second scan of its window, which
    normalizes every row to find them, for what is rare in a healthy archive.
    """
    frames = []
    for group in archive.groups:  # a group missing a column has every row a candidate: none here
        flagged = with_row_position(group.frame.withColumn(CANDIDATE_COLUMN, group_prefilter(archive, group, context)))
        dated = with_event_date(_normalized_group(archive, group, context, flagged, (CANDIDATE_COLUMN,)), start)
        others = dated.filter(~F.col(CANDIDATE_COLUMN) & F.col(IMPLAUSIBLE_COLUMN))
        frames.append(others.drop(CANDIDATE_COLUMN, IMPLAUSIBLE_COLUMN, "event_date"))
    return _of_source(frames, archive, context)


@dataclass(frozen=True)
class Staging:
    """The staged rows of every source, and the checks to verify once they have been computed."""

    frame: DataFrame
    checks: tuple[RowCheck, ...]


def stage_sources(archives: Sequence[SourceArchive], config: PipelineConfig, start: dt.date,
                  end: dt.date, implausible_sources: Collection[str] = ()) -> Staging:
    """All sources' candidates of the requested days, validated, each with a status.

    `implausible_sources`: sources whose census found rows with an implausible time; those the
    prefilter drops are staged too (and rejected).
    """
    frames = []
    checks = []
    for archive in archives:
        context = format_context(archive, config)
        check = RowCheck.of(archive)
        checks.append(check)
        # Normalization ends its generated code here, and so does each validation step, so that
        # each gets a method small enough for the JIT. The days are filtered after it, so that
        # the filter reads the event day rather than a copy of the event-time parsing, and
        # before validation, since filters are not moved across stage ends.
        normalized = end_codegen_stage(with_event_date(canonical_candidates(archive, context, check), start),
                                       check.given)
        if context.source in implausible_sources:
            others = implausible_others(archive, context, start)
            normalized = normalized.unionByName(end_codegen_stage(with_event_date(others, start)))
        validated = with_validated_fields(filter_days(normalized, start, end), stage_end=end_codegen_stage)
        frames.append(with_status(with_input_rejects(validated), config.smb.ports, context.smb_apps))
    return Staging(union_all(frames), tuple(checks))


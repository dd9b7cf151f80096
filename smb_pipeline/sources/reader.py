"""Reading a source archive: the window's files, grouped by their own schemas, and the columns the core adds.

An archive's schema drifts: a column changes type (int32 ports become text, a timestamp
becomes epoch seconds), an optional column appears, a column is renamed for a day. Reading
the whole archive with one schema (Spark infers it from one file) fails or silently reads
nulls. So a run lists the files of its window's `dt=` folders only (files outside it are
never opened), reads each file's footer, and reads each group of files that share a schema
with that schema and its own resolved `Fields`. The normalizer casts each group to the
canonical types; the groups are unioned after normalization.

Everything goes through public DataFrame APIs (the `binaryFile` source lists the files
without reading them, `spark.read.parquet(file).schema` reads one footer), so it works on
any Hadoop file system and over Spark Connect.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import unquote, urlparse

import pyarrow.parquet as pq
from pyspark.errors import AnalysisException, PySparkException
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import StringType, StructField, StructType

from smb_pipeline.config import SourceConfig
from smb_pipeline.errors import InputError
from smb_pipeline.formats import FORMATS
from smb_pipeline.formats.base import Fields, SourceFormat
from smb_pipeline.model.columns import (
    FILE_COLUMN,
    FOLDER_DAY_COLUMN,
    MARGIN_DAYS,
    PARTITION_COLUMN,
    RAW_COLUMN,
    ROW_INDEX_COLUMN,
)
from smb_pipeline.model.dates import day_literal
from smb_pipeline.transforms.frames import union_all

# Footers are read by concurrent small Spark jobs; more threads than this only queue.
FOOTER_THREADS = 8
# A glob no data file matches: reads a folder's schema-less, empty frame without listing it twice.
_NO_FILE_GLOB = "__smb_pipeline_no_data__"


@dataclass(frozen=True)
class FileGroup:
    """Files of one source that share a schema, read with it."""

    frame: DataFrame
    fields: Fields
    raw_columns: tuple[str, ...]
    files: tuple[str, ...]
    # The required fields' columns absent from these files (their rows are rejected).
    missing: tuple[str, ...] = ()


@dataclass(frozen=True)
class SourceArchive:
    """One source's files in the read window, with its format, grouped by schema."""

    config: SourceConfig
    format: SourceFormat
    groups: tuple[FileGroup, ...]
    partitioned: bool
    files_skipped: tuple[str, ...] = ()
    no_data: bool = False


def read_window(start: dt.date, end: dt.date) -> tuple[dt.date, dt.date]:
    """The folders to read: a day of margin each side, since a folder is the day a log was
    written, and an event at 23:59:59 can be logged into the next day's folder."""
    return start - dt.timedelta(days=MARGIN_DAYS), end + dt.timedelta(days=MARGIN_DAYS)


def list_window_files(spark: SparkSession, source: SourceConfig, start: dt.date,
                      end: dt.date) -> tuple[list[str], bool]:
    """The data files of the window's `dt=` folders (all files if the archive has none), and
    whether it has day folders. Only file metadata is read; a missing path is an InputError."""
    try:
        listing = spark.read.format("binaryFile").load(source.path)
        partitioned = PARTITION_COLUMN in listing.columns
    except AnalysisException as exc:
        raise InputError(f"source {source.name!r}: cannot list {source.path!r}: {_first_line(exc)}") from exc
    if partitioned:
        first, last = read_window(start, end)
        listing = listing.filter(F.col(PARTITION_COLUMN).between(day_literal(first), day_literal(last)))
    return sorted(row.path for row in listing.select("path").collect()), partitioned


def file_schema(spark: SparkSession, path: str) -> StructType | None:
    """One file's schema, from its footer; None when the file cannot be read as Parquet."""
    try:
        return spark.read.parquet(path).schema
    except Exception:  # classic PySpark raises Py4JJavaError for a bad footer, Spark Connect a PySparkException
        return None


def _local_signature(path: str) -> str | None:
    """A local file's column names and types from its footer (pyarrow, milliseconds), or None
    when the file is not local or pyarrow cannot read it (Spark then decides)."""
    parsed = urlparse(path)
    if parsed.scheme != "file":
        return None
    try:
        schema = pq.read_schema(unquote(parsed.path))
    except Exception:  # not local to this process (Spark Connect), or unreadable: Spark decides
        return None
    return "|".join(f"{f.name}:{f.type}:{f.nullable}" for f in schema)


def file_schemas(spark: SparkSession, files: list[str]) -> list[StructType | None]:
    """Each file's Spark schema (None: not readable as Parquet).

    Spark reads the footers, one small job per file, run concurrently; it is the authority on
    the types it will read. Where the files are local to this process (local mode), pyarrow
    first groups them by their footers' columns, and Spark reads one footer per group: a cold
    JVM pays about a second per Spark job on a loaded machine, and a window has a file per
    folder or more.
    """
    keys = [_local_signature(path) or f"file {path}" for path in files]
    representatives = dict(zip(reversed(keys), reversed(files), strict=True))  # the first file of each key
    with ThreadPoolExecutor(max_workers=FOOTER_THREADS) as pool:
        read = dict(zip(representatives, pool.map(lambda path: file_schema(spark, path),
                                                  representatives.values()), strict=True))
    return [read[key] for key in keys]


def read_source(spark: SparkSession, source: SourceConfig, start: dt.date, end: dt.date) -> SourceArchive:
    """Read a source's Parquet files for the days start..end (plus margin), one group per schema."""
    fmt = FORMATS[source.format]
    files, partitioned = list_window_files(spark, source, start, end)
    schemas = file_schemas(spark, files)
    corrupt = tuple(path for path, schema in zip(files, schemas, strict=True) if schema is None)
    if corrupt and source.on_corrupt_file == "fail":
        raise InputError(f"source {source.name!r}: file {corrupt[0]} is not readable Parquet "
                         "(set on_corrupt_file: skip to skip such files)")
    by_schema: dict[str, tuple[StructType, list[str]]] = {}
    for path, schema in zip(files, schemas, strict=True):
        if schema:  # an empty (0-byte) file has no columns and no rows: nothing to read
            by_schema.setdefault(schema.json(), (schema, []))[1].append(path)
    groups = tuple(_group(spark, source, fmt, schema, paths, partitioned) for schema, paths in by_schema.values())
    if groups and set.intersection(*(set(group.missing) for group in groups)):
        # No file of the window has the column: the format or `columns:` is wrong, not the files.
        first = groups[0]
        fmt.resolve(StructType(_schema_of(first)), source.name, source.columns, first.files[0])
    if not groups:
        return SourceArchive(source, fmt, (_empty_group(spark, source, fmt),), partitioned, corrupt, no_data=True)
    return SourceArchive(source, fmt, groups, partitioned, corrupt)


def _group(spark: SparkSession, source: SourceConfig, fmt: SourceFormat, schema: StructType, paths: list[str],
           partitioned: bool) -> FileGroup:
    """Read `paths` with their shared `schema`; `dt` comes from the folder names (basePath)."""
    data_schema = StructType([f for f in schema.fields if f.name != PARTITION_COLUMN])
    missing = fmt.missing_required(data_schema, source.columns)
    fields = fmt.resolve(data_schema, source.name, source.columns, paths[0], strict=False)
    frame = spark.read.schema(data_schema).option("basePath", source.path).parquet(*paths)
    return FileGroup(_with_folder_day(frame, partitioned), fields, tuple(data_schema.fieldNames()), tuple(paths),
                     tuple(missing))


def _schema_of(group: FileGroup) -> list:
    return [f for f in group.frame.schema.fields if f.name in group.raw_columns]


def _empty_group(spark: SparkSession, source: SourceConfig, fmt: SourceFormat) -> FileGroup:
    """A source without files in the window: an empty frame with each field as text, so that the
    shared flow runs unchanged and counts zero."""
    schema = StructType([StructField(source.columns.get(logical, names[0]), StringType())
                         for logical, names in fmt.fields.items()])
    frame = spark.read.schema(schema).option("pathGlobFilter", _NO_FILE_GLOB).parquet(source.path)
    fields = fmt.resolve(schema, source.name, source.columns, source.path)
    return FileGroup(_with_folder_day(frame, False), fields, tuple(schema.fieldNames()), ())


def _with_folder_day(frame: DataFrame, partitioned: bool) -> DataFrame:
    # The file and row index (`with_row_position`) are added only where they are used: a `_metadata`
    # column on the frame makes a scan that reads none of it still fill every metadata field.
    folder_day = F.col(PARTITION_COLUMN).cast("date") if partitioned else F.lit(None).cast("date")
    return frame.withColumn(FOLDER_DAY_COLUMN, folder_day)


def with_row_position(frame: DataFrame) -> DataFrame:
    """Add where each row was read from: its file (`FILE_COLUMN`, also for the rejects table)
    and its index in that file (`ROW_INDEX_COLUMN`), which find the row again (`raw_rows`)."""
    return frame.withColumns({FILE_COLUMN: F.col("_metadata.file_path"),
                              ROW_INDEX_COLUMN: F.col("_metadata.row_index")})


def raw_rows(archives: Sequence[SourceArchive], files: Mapping[str, Collection[str]]) -> DataFrame | None:
    """The vendor columns as JSON (`RAW_COLUMN`) of every row of the files `files` names per
    source, keyed by source, file and row index; None when no file is named.

    The main scan reads only the columns the canonical row needs, so a rejected row's raw
    columns are read again here, from the files that have rejects alone: Spark evaluates the
    filter on the file path against the file listing and opens no other file.
    """
    frames = []
    for archive in archives:
        named = sorted(files.get(archive.config.name, ()))
        if not named:
            continue
        for group in archive.groups:
            rows = with_row_position(group.frame).filter(F.col(FILE_COLUMN).isin(named))
            raw = F.to_json(F.struct(*[F.col(f"`{name}`") for name in group.raw_columns]))
            frames.append(rows.select(F.lit(archive.config.name).alias("source"), FILE_COLUMN, ROW_INDEX_COLUMN,
                                      raw.alias(RAW_COLUMN)))
    return union_all(frames) if frames else None


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


_FILE_IN_ERROR = re.compile(r"(?:reading|read|footer for) file (\S+?)\.?(?:\s|$)", re.IGNORECASE)
_COLUMN_IN_ERROR = re.compile(r"Parquet column (\S+?)\.?(?:\s|$)|column:? \[([^\]]+)\]")
_VALUE_IN_ERROR = re.compile(r"The value (\S+) of the type")


@contextmanager
def reading_inputs(archives: Sequence[SourceArchive]) -> Iterator[None]:
    """Turn Spark's failure to read an input file (corrupt page, type mismatch) into an InputError
    naming source, file, column and value; other errors pass unchanged."""
    try:
        yield
    except Exception as exc:
        error = input_error(exc, archives)
        if error is None:
            raise
        raise error from exc


def input_error(exc: BaseException, archives: Iterable[SourceArchive]) -> InputError | None:
    """Spark's error while reading a source's file, as one line naming source, file, column and
    value (those Spark reports); None when the error is not about an input file."""
    text = str(exc)
    found = _FILE_IN_ERROR.search(text)
    if found is None:
        return None
    path = found.group(1)
    source = next((a.config.name for a in archives for g in a.groups if path in g.files
                   or any(path.endswith(f.split(":", 1)[-1]) for f in g.files)), None)
    parts = [f"source {source!r}" if source else "input", f"file {path}"]
    column = _COLUMN_IN_ERROR.search(text)
    if column:
        parts.append(f"column {column.group(1) or column.group(2)}")
    value = _VALUE_IN_ERROR.search(text)
    if value:
        parts.append(f"value {value.group(1)}")
    condition = exc.getCondition() if isinstance(exc, PySparkException) else None
    return InputError(", ".join(parts) + f": cannot be read ({condition or _first_line(exc)})")

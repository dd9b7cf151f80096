"""File listings through Spark's `binaryFile` source: path, size and modification time of each
file, on any file system Spark reads (local, HDFS, s3a://, abfss://), over Spark Connect too.

Only metadata is read: the source reads a file's bytes only when its `content` column is
selected. Hidden and underscore files and folders are skipped, as in every Spark read.
"""

from __future__ import annotations

from dataclasses import dataclass

from pyspark.errors import AnalysisException
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

_MISSING = ("PATH_NOT_FOUND", "Path does not exist")


@dataclass(frozen=True)
class InputFile:
    path: str
    size: int
    modified_ms: int


def _missing(exc: BaseException) -> bool:
    return any(marker in str(exc) for marker in _MISSING)


def _listing(spark: SparkSession, path: str, recursive: bool, glob: str | None = None) -> DataFrame:
    reader = spark.read.format("binaryFile")
    if recursive:  # every file below, and no partition columns inferred from folder names
        reader = reader.option("recursiveFileLookup", "true")
    if glob:
        reader = reader.option("pathGlobFilter", glob)
    return reader.load(path)


def list_files(spark: SparkSession, path: str) -> list[InputFile]:
    """The data files below `path` (recursively); none when the path does not exist."""
    try:
        rows = (_listing(spark, path, recursive=True)
                .select("path", "length", F.unix_millis("modificationTime").alias("modified_ms"))
                .collect())  # file metadata: a row per file
    except AnalysisException as exc:
        if _missing(exc):
            return []
        raise
    return [InputFile(row.path, row.length, row.modified_ms) for row in rows]


def has_partition_folders(spark: SparkSession, root: str, column: str) -> bool:
    """Whether `root` holds `column=value` folders (Spark's partition discovery; no job runs)."""
    try:
        return column in _listing(spark, root, recursive=False).columns
    except AnalysisException as exc:
        if _missing(exc):
            return False
        raise


def count_files(spark: SparkSession, path: str, glob: str) -> int:
    """How many files named like `glob` are below `path` (0 when it does not exist)."""
    try:
        return _listing(spark, path, recursive=True, glob=glob).select("path").count()
    except AnalysisException as exc:
        if _missing(exc):
            return 0
        raise

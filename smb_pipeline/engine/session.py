"""The one place a SparkSession is built. Everything else receives it as an argument.

A session is either classic (a JVM in this process: local mode, or a cluster under spark-submit)
or a Spark Connect client (`remote="sc://host:port"`), whose server owns Delta's jars and
extension; the library runs the same on both (public APIs only: no SparkContext over Connect).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from pyspark.sql import SparkSession

# Keep in step with delta-spark in setup.py (Delta 4.0.x is built for Spark 4.0.x, Scala 2.13).
DELTA_MAVEN_PACKAGE = "io.delta:delta-spark_2.13:4.0.1"

_BASE_CONF = {
    # Days in every table are UTC days; the session zone must not depend on the machine.
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.extensions": "io.delta.sql.DeltaSparkSessionExtension",
    "spark.sql.catalog.spark_catalog": "org.apache.spark.sql.delta.catalog.DeltaCatalog",
    # Adaptive execution sizes shuffles to the (small) survivor data; 200 fixed partitions was 40% slower.
    "spark.sql.adaptive.enabled": "true",
    "spark.sql.adaptive.coalescePartitions.enabled": "true",
    # Let adaptive execution also resize the shuffles of persisted plans (off by default in 4.0);
    # a third faster on the 2M-row benchmark, same tables (docs/performance.md).
    "spark.sql.optimizer.canChangeCachedPlanOutputPartitioning": "true",
    # Dynamic partition pruning helps joins on a partition column; ours join addresses with small
    # indexes and never a partition column, yet its rule took 7.8 of the pair plan's 7.9 s of
    # optimization in every run (docs/performance.md).
    "spark.sql.optimizer.dynamicPartitionPruning.enabled": "false",
    # A run generates about 100 classes; Spark keeps 100 by default, so every run compiled 46 of
    # them again and the JIT recompiled their code (a static setting: set when the JVM starts).
    "spark.sql.codegen.cache.maxEntries": "1000",
    # pyspark records the Python call site of every DataFrame function call for error messages:
    # five py4j round trips and a walk of the Python stack per call, two thirds of the calls that
    # build a run's plan (docs/performance.md). The run names its own errors (source, file, column).
    "spark.python.sql.dataFrameDebugging.enabled": "false",
    # Spark's console progress bar interleaves with every other line and cannot be read in a log;
    # the command line prints its own progress line (smb_pipeline.cli.progress). A config may turn it on.
    "spark.ui.showConsoleProgress": "false",
    # Spark 4 lower- and upper-cases strings with ICU by default. Its first use in a JVM fills a
    # title-case table by asking ICU about every Unicode code point: about 2.5 s of CPU while
    # the other task threads wait, a fifth of the samples of a fresh run's main scan, and C2
    # compilations that delay the scan's own (docs/performance.md). The run lower-cases actions
    # and application ids, ASCII words, for which both give the same result (one ASCII fast
    # path); the JVM's mappings are what Spark 3 used.
    "spark.sql.icu.caseMappings.enabled": "false",
    # Partition folders are named dt=YYYY-MM-DD; keep them as dates so pruning compares dates.
    "spark.sql.sources.partitionColumnTypeInference.enabled": "true",
    # Spark's own INFO chatter off from the start (what SparkContext.setLogLevel did, as a setting).
    "spark.log.level": "WARN",
}
# The server of a Spark Connect session has its own Delta jars, extension and catalog; a client
# asks for none of them (on Databricks, replacing spark_catalog would bypass Unity Catalog).
_SERVER_OWNED = ("spark.jars.packages", "spark.sql.extensions", "spark.sql.catalog.spark_catalog")


def session_builder(
    app_name: str = "smb_pipeline",
    master: str | None = None,
    spark_conf: Mapping[str, str] | None = None,
    delta_packages: bool = True,
) -> SparkSession.Builder:
    """A builder with Delta configured; composes with any further `.config(...)`.

    `master=None` leaves the master to spark-submit (or the platform); the command line
    passes `local[*]`. With `delta_packages`, Delta's jars are resolved from Maven through
    `spark.jars.packages` (cached in the Ivy cache after the first run); turn it off where
    the platform ships Delta (Databricks, EMR with Delta enabled), or under spark-submit
    where `--packages` already did it.
    """
    builder = SparkSession.builder.appName(app_name)
    if master:
        builder = builder.master(master)
    for key, value in _BASE_CONF.items():
        builder = builder.config(key, value)
    conf = dict(spark_conf or {})
    if delta_packages:
        packages = [p for p in conf.pop("spark.jars.packages", "").split(",") if p]
        if not any(p.startswith("io.delta:delta-spark") for p in packages):
            packages.append(DELTA_MAVEN_PACKAGE)
        builder = builder.config("spark.jars.packages", ",".join(packages))
    for key, value in conf.items():
        builder = builder.config(key, value)
    return builder


def remote_session_builder(remote: str, app_name: str = "smb_pipeline",
                           spark_conf: Mapping[str, str] | None = None) -> SparkSession.Builder:
    """A Spark Connect builder for `sc://host:port[/;param=value]`: our session settings travel as
    the session's SQL settings; static ones the server fixed are skipped silently by pyspark."""
    builder = SparkSession.builder.remote(remote).appName(app_name)
    for key, value in {**_BASE_CONF, **(spark_conf or {})}.items():
        if key not in _SERVER_OWNED:
            builder = builder.config(key, value)
    return builder


def build_spark_session(
    app_name: str = "smb_pipeline",
    master: str | None = None,
    spark_conf: Mapping[str, str] | None = None,
    delta_packages: bool = True,
    remote: str | None = None,
) -> SparkSession:
    """Build (or join) the session for a run: a Spark Connect session when `remote` is given."""
    if remote:
        return remote_session_builder(remote, app_name, spark_conf).getOrCreate()
    return session_builder(app_name, master, spark_conf, delta_packages).getOrCreate()


@contextmanager
def session_settings(spark: SparkSession, settings: Mapping[str, str]) -> Iterator[None]:
    """`settings` for the session within the block; afterwards each is as it was before (unset
    when it was not set), also on an error. They apply to everything the session runs meanwhile,
    so the library scopes them to one operation."""
    previous = {key: spark.conf.get(key, None) for key in settings}
    try:
        for key, value in settings.items():
            spark.conf.set(key, value)
        yield
    finally:
        for key, before in previous.items():
            if before is None:
                spark.conf.unset(key)
            else:
                spark.conf.set(key, before)

"""Ending a generated-code stage on purpose, so that the JIT compiles each stage's loop.

Spark compiles a chain of narrow operators into one Java method per stage. The JVM's JIT does
not compile a method larger than 8,000 bytes of bytecode (`-XX:+DontCompileHugeMethods`, on by
default), and Spark splits a stage's method only in cases our projections never meet. A stage
that validates two addresses and writes their canonical text is about 28 kB, so every
candidate row ran through the JVM's bytecode interpreter, about twice as slow (the figures are
in docs/performance.md).

`CollectMetrics` (what `DataFrame.observe` adds) is an operator without code generation, so a
stage ends below it and a new one starts above it. Rows stream through it, nothing is stored;
the cost is one more row written per boundary and one more class for Janino to compile.
Optimizer rules do not move filters across it: filter rows before the first boundary.
"""

from __future__ import annotations

import itertools

from pyspark.sql import DataFrame, Observation
from pyspark.sql import functions as F

_boundary_ids = itertools.count()
# The name of every boundary's observation starts with this: plans show it on `CollectMetrics`.
BOUNDARY_NAME_PREFIX = "smb_pipeline_codegen_boundary"


def end_codegen_stage(df: DataFrame, counted: Observation | None = None) -> DataFrame:
    """`df`, with the generated code of its narrow operators ended here; with `counted`, the
    rows that pass are counted into it (as `rows`), for free."""
    # Each observation in a plan needs a name of its own; without `counted` nobody reads the count.
    return df.observe(counted or _boundary_name("stage_end"), F.count(F.lit(1)).alias("rows"))


def counting_boundary(purpose: str) -> Observation:
    """An observation for `end_codegen_stage(df, counted=...)`, named like every boundary (so that
    plans show it as one) and unique in the session, since a session runs many plans."""
    return Observation(_boundary_name(purpose))


def _boundary_name(purpose: str) -> str:
    return f"{BOUNDARY_NAME_PREFIX}_{purpose}_{next(_boundary_ids)}"

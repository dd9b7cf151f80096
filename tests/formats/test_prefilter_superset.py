"""Property: for every format, the prefilter keeps every row the normalizer classifies as allowed SMB.

From a few allowed-SMB rows per format, variants are generated one value at a time: padded
and mixed-case text (actions, states, app ids, whole messages), ports inside text with
padding and leading zeros, and every number written as text (ports, codes, epoch times) with
padding and leading zeros. Each variant goes through the real normalizer, validation and
allowed-SMB status; any variant that is allowed SMB must pass the prefilter.
"""

from __future__ import annotations

import re

import pytest
from pyspark.sql import functions as F
from pyspark.sql.types import IntegralType, StringType, StructField, StructType

from smb_pipeline.formats import FORMATS
from smb_pipeline.formats.base import FormatContext
from smb_pipeline.model.statuses import STATUS_SMB
from smb_pipeline.transforms.events import with_status
from smb_pipeline.transforms.validate import with_validated_fields
from tests.formats.seeds import SEEDS

SMB_PORT_TEXT = re.compile(r"(?<!\d)(445|139)(?!\d)")


def _mixed_case(text: str) -> str:
    return "".join(c.upper() if i % 2 else c.lower() for i, c in enumerate(text))


def _text_variants(text: str) -> list[str]:
    """Spellings a normalizer trims, lower-cases or reads as numbers."""
    variants = [f" {text}", f"{text}  ", _mixed_case(text), text.upper(), f"0{text}" if text.isdigit() else text]
    variants.append(SMB_PORT_TEXT.sub(r"0\1", text))  # ports inside messages and tuples
    variants.append(text.replace(",", ", "))  # padded CSV fields
    return [v for v in variants if v != text]


def _as_text_schema(data_type):
    """The schema with every integer written as text (recursively)."""
    if isinstance(data_type, StructType):
        return StructType([StructField(f.name, _as_text_schema(f.dataType), True) for f in data_type.fields])
    return StringType() if isinstance(data_type, IntegralType) else data_type


def _as_text(value, data_type):
    if isinstance(data_type, StructType):
        return None if value is None else {f.name: _as_text(value[f.name], f.dataType) for f in data_type.fields}
    return str(value) if isinstance(data_type, IntegralType) and value is not None else value


def _variants(row: dict, schema: StructType) -> list[dict]:
    """`row` with one text leaf changed at a time, for every text leaf and spelling."""
    found = []
    for field in schema.fields:
        value = row[field.name]
        if isinstance(field.dataType, StructType) and value is not None:
            found += [{**row, field.name: inner} for inner in _variants(value, field.dataType)]
        elif isinstance(field.dataType, StringType) and isinstance(value, str):
            found += [{**row, field.name: variant} for variant in _text_variants(value)]
    return found


def _as_dict(value, data_type):
    """A seed row (tuples or dicts, nested) as dicts keyed by field name."""
    if isinstance(data_type, StructType) and value is not None:
        items = value.items() if isinstance(value, dict) else zip(data_type.fieldNames(), value, strict=True)
        values = dict(items)
        return {f.name: _as_dict(values[f.name], f.dataType) for f in data_type.fields}
    return value


def _staged(spark, name: str, schema: StructType, rows: list[dict]):
    """Each row with its allowed-SMB status from the real normalizer and whether the prefilter keeps it."""
    fmt = FORMATS[name]
    frame = spark.createDataFrame(rows, schema)
    fields = fmt.resolve(frame.schema, "src1", {}, "test")
    context = FormatContext("src1", smb_ports=(139, 445), smb_apps=tuple(sorted(fmt.smb_apps | {"smb"})))
    flagged = frame.withColumn("_row", F.to_json(F.struct(*[F.col(f"`{c}`") for c in frame.columns])))
    flagged = flagged.withColumn("_kept", F.coalesce(fmt.prefilter(fields, context), F.lit(False)))
    normalized = fmt.normalize(flagged, fields, context, ("_kept", "_row"))
    staged = with_status(with_validated_fields(normalized), context.smb_ports, context.smb_apps)
    return staged.select(F.lit(name).alias("format"), F.col("status") == STATUS_SMB, "_kept", "_row")


@pytest.fixture(scope="module")
def outcomes(spark) -> dict[str, tuple[int, int, int, list[str]]]:
    """Per format: (seed rows, allowed SMB variants, of which the prefilter drops, examples),
    from one Spark job over every format's variants."""
    frames, seeds = [], {}
    for name, (ddl, rows) in SEEDS.items():
        schema = spark.createDataFrame([], ddl).schema
        seed_rows = [_as_dict(row, schema) for row in rows]
        text_schema = _as_text_schema(schema)
        text_rows = [_as_text(row, schema) for row in seed_rows]
        seeds[name] = len(seed_rows)
        frames.append(_staged(spark, name, schema, seed_rows + [v for r in seed_rows for v in _variants(r, schema)]))
        frames.append(_staged(spark, name, text_schema,
                              text_rows + [v for r in text_rows for v in _variants(r, text_schema)]))
    union = frames[0]
    for frame in frames[1:]:
        union = union.unionByName(frame)
    smb = F.col("(status = allowed_smb)")
    counts = union.groupBy("format").agg(
        F.count(F.when(smb, 1)).alias("smb"),
        F.count(F.when(smb & ~F.col("_kept"), 1)).alias("dropped"),
        F.slice(F.collect_list(F.when(smb & ~F.col("_kept"), F.col("_row"))), 1, 3).alias("examples"),
    )
    return {row.format: (seeds[row.format], row.smb, row.dropped, row.examples) for row in counts.collect()}


@pytest.mark.parametrize("name", sorted(FORMATS))
def test_prefilter_keeps_every_row_the_normalizer_allows_as_smb(outcomes, name):
    seeds, smb, dropped, examples = outcomes[name]
    # Not vacuous: the seeds, as typed and as text, and some of their variants are allowed SMB.
    assert smb > 2 * seeds, f"{name}: only {smb} allowed SMB row(s) among the variants"
    assert dropped == 0, f"{name}: the prefilter drops {dropped} allowed SMB row(s), e.g. {examples}"

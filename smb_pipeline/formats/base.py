"""The contract every source format fulfils, and the helpers formats share.

A `SourceFormat` is what the reader and the pipeline use. Every shipped one is built by
`smb_pipeline.formats.declarative.declare` from a declaration (`formats/spec.py`), which
derives its three parts:

* `fields`: logical field name -> the vendor's default column name(s). Nested struct
  paths are dotted (`jsonPayload.connection.src_ip`); a flat column whose name itself
  contains dots or hyphens (`id.orig_h`, `source-address`) is found too. Several
  candidates may be listed; the first present in the archive wins. A source's
  `columns:` config replaces the defaults field by field.
* `prefilter(fields, context)`: a cheap predicate on *raw* vendor columns that keeps every
  row the normalizer could classify as allowed SMB (a superset: case, padding, ports as
  text, numeric codes as text), so per-row parsing runs only on its survivors. Its parts
  reach the Parquet scan as pushed filters only where Parquet evaluates them exactly as Spark
  does (an IN on an integer column, a byte search); `Fields.isin` and `Fields.mentions`
  decide that from the column type.
* `normalize(df, fields, context, keep)`: raw survivors -> the canonical columns in
  `CANONICAL_COLUMNS` plus the pass-through columns named in `keep` (use
  `to_canonical`). It runs only on prefilter survivors.

Validation (IPs, ports, time), the exact allowed-SMB filter, the company-subnet
exclusion and the aggregation are the core's job and are the same for every format.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql.types import DataType, IntegralType, StringType, StructType

from smb_pipeline.errors import InputError

if TYPE_CHECKING:
    from smb_pipeline.formats.spec import VendorSpec

# Canonical columns a format produces, before validation, with their types.
# Ports stay text here so that the core can reject a bad value with the value in hand.
CANONICAL_COLUMNS: dict[str, str] = {
    "event_time": "timestamp",
    "src_ip": "string",
    "dest_ip": "string",
    "src_port": "string",
    "dest_port": "string",
    "transport": "string",
    "app": "string",
    "action": "string",  # allowed | blocked | teardown (CIM); null when unknown
    "vendor_action": "string",
    "bytes_in": "bigint",  # server -> client
    "bytes_out": "bigint",  # client -> server
    "dvc": "string",
    "rule": "string",
    "session_id": "string",
    # Non-null when the vendor logs one session in several records (start + end): rows
    # with the same key on the same day count as one connection. Null: the row is one.
    "session_key": "string",
    "direction": "string",  # the vendor's own hint, kept for analysts
}


@dataclass(frozen=True)
class FormatContext:
    """What a normalizer needs to know about its source.

    `stage_end` is applied to a text parser's frame (`spec.Parse`) before the canonical columns
    read it: the run passes the engine's generated-code stage end, so that the parsing and
    the columns that read it are each small enough for the JIT; it does not change the result.
    """

    source: str
    timezone: str = "UTC"
    smb_ports: tuple[int, ...] = (139, 445)
    smb_apps: tuple[str, ...] = ()
    stage_end: Callable[[DataFrame], DataFrame] = field(default=lambda df: df, compare=False, repr=False)


class Fields:
    """Resolves logical field names to the columns of one archive."""

    def __init__(
        self,
        format_name: str,
        source: str,
        resolved: Mapping[str, str | None],
        types: Mapping[str, DataType] | None = None,
    ):
        self.format_name = format_name
        self.source = source
        self._resolved = dict(resolved)
        self._types = dict(types or {})

    def _declared(self, name: str) -> str:
        """`name`, if the format declares it: a misspelt field in a hook fails at once instead of
        reading as an absent (null) column."""
        if name not in self._resolved:
            raise KeyError(f"format {self.format_name!r} declares no field {name!r}")
        return name

    def type(self, name: str) -> DataType | None:
        """The archive's data type for a field, or None when absent."""
        return self._types.get(self._declared(name))

    def isin(self, name: str, values: tuple[int, ...] | list[str] | tuple[str, ...]) -> Column:
        """`name` IN `values` as the normalizers read the column: never stricter than they are.

        * integer column, integer values (ports, codes): a plain IN, pushed to Parquet; exact,
          since the normalizer reads the same integers;
        * text column, integer values: the text read as a number, so that '445 ', ' 445' and
          '0445' match as the normalizer's port and code parsing accept them (not pushed);
        * text values (actions, states): trimmed and case-insensitive (not pushed: Parquet
          compares bytes, and no set of spellings covers every case and padding).
        """
        data_type = self.type(name)
        if data_type is None:
            return F.lit(False)
        column = F.col(self._resolved[name])  # type: ignore[arg-type]
        if all(isinstance(value, int) for value in values):
            if isinstance(data_type, IntegralType):
                return column.isin(list(values))
            return column.try_cast("long").isin(list(values))
        words = sorted({str(value).lower() for value in values})
        normalized = F.lower(F.trim(column.cast("string"))).isin(words)
        if not isinstance(data_type, StringType):
            return normalized
        # The same test, with the exact spelling tried first: most rows of a clean archive carry
        # it, and for them the comparison of bytes spares a trimmed, lower-cased copy per row.
        return column.isin(words) | normalized

    def mentions(self, name: str, values: tuple[str, ...] | list[str] | frozenset[str]) -> Column:
        """Whether an application field names one of `values` in any case, alone or in a list.

        The core matches each comma-separated element, trimmed and lower-cased. This test runs
        on every row, so it is a superset of that built without `lower`: Spark lower-cases text
        one boxed character at a time, which took a fifth of a warm run's CPU when the
        prefilter lower-cased every row's application. A text whose element lower-cases to a
        value holds a short part of that value in one of its spellings (`spelled_parts`), and
        a byte search finds it; Spark pushes the searches to Parquet, which can skip a row group
        whose dictionary holds none.
        """
        if self.type(name) is None or not values:
            return F.lit(False)
        text = F.col(self._resolved[name]).cast("string")  # type: ignore[arg-type]
        ids = _without_superstrings({str(v).lower() for v in values})
        found = F.lit(False)
        other_scripts = sorted(value for value in ids if not value.isascii())
        if other_scripts:  # their case rules are Spark's: its own lower-casing decides
            lowered = F.lower(text)
            for value in other_scripts:
                found = found | lowered.contains(value)
        # Ids that end alike share their spellings: each is looked for once.
        spellings = {spelling for value in ids if value.isascii() for spelling in spelled_parts(value)}
        for spelling in sorted(spellings):
            found = found | text.contains(spelling)
        return found

    def has(self, name: str) -> bool:
        return self._resolved[self._declared(name)] is not None

    def name(self, name: str) -> str | None:
        """The archive's column path for a field, or None when absent."""
        return self._resolved[self._declared(name)]

    def col(self, name: str, cast: str | DataType | None = None) -> Column:
        """The field's column, or a typed null when the archive lacks this optional field."""
        path = self._resolved[self._declared(name)]
        column = F.col(path) if path is not None else F.lit(None)
        if cast is not None:
            column = column.cast(cast)
        return column


def _quote(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


def _lookup(schema: StructType, candidate: str) -> tuple[str, DataType] | None:
    """A column path usable in F.col for a flat or nested field, and its type, if it exists."""
    if candidate in schema.fieldNames():
        return _quote(candidate), schema[candidate].dataType
    parts = candidate.split(".")
    current: DataType = schema
    for part in parts:
        if not isinstance(current, StructType) or part not in current.fieldNames():
            return None
        current = current[part].dataType
    return ".".join(_quote(part) for part in parts), current


@dataclass(frozen=True)
class SourceFormat:
    """One input format: its default columns, cheap prefilter and normalizer."""

    name: str
    fields: Mapping[str, tuple[str, ...]]
    required: frozenset[str]
    prefilter: Callable[[Fields, FormatContext], Column]
    normalize: Callable[[DataFrame, Fields, FormatContext, tuple[str, ...]], DataFrame]
    smb_apps: frozenset[str] = field(default_factory=frozenset)
    description: str = ""
    spec: VendorSpec | None = None  # the declaration it was built from (smb_pipeline.formats.spec)

    def _candidates(self, logical: str, overrides: Mapping[str, str]) -> tuple[str, ...]:
        return (overrides[logical],) if logical in overrides else tuple(self.fields[logical])

    def missing_required(self, schema: StructType, overrides: Mapping[str, str]) -> list[str]:
        """The required fields absent from `schema`, each as the column name(s) looked for."""
        return [
            " or ".join(self._candidates(logical, overrides))
            for logical in self.fields
            if logical in self.required
            and not any(_lookup(schema, c) for c in self._candidates(logical, overrides))
        ]

    def resolve(self, schema: StructType, source: str, overrides: Mapping[str, str], where: str,
                strict: bool = True) -> Fields:
        """Find each field's column in an archive's schema; a missing required one is an InputError
        (with `strict`; otherwise it reads as null, and the caller rejects the rows)."""
        resolved: dict[str, str | None] = {}
        types: dict[str, DataType] = {}
        for logical in self.fields:
            candidates = self._candidates(logical, overrides)
            found = next((hit for hit in (_lookup(schema, c) for c in candidates) if hit), None)
            if found is None and logical in self.required and strict:
                raise InputError(
                    f"source {source!r} ({self.name}): required column {' or '.join(map(repr, candidates))} "
                    f"(field {logical!r}) is missing in {where}; columns present: {', '.join(schema.fieldNames())}"
                )
            resolved[logical] = found[0] if found else None
            if found:
                types[logical] = found[1]
        return Fields(self.name, source, resolved, types)


def to_canonical(df: DataFrame, columns: Mapping[str, Column], keep: tuple[str, ...]) -> DataFrame:
    """Select the canonical columns (typed, missing ones null) plus the core's pass-through columns."""
    unknown = set(columns) - set(CANONICAL_COLUMNS)
    if unknown:
        raise ValueError(f"not canonical columns: {sorted(unknown)}")
    selected = [F.col(_quote(name)) for name in keep]
    for name, type_name in CANONICAL_COLUMNS.items():
        expression = columns.get(name, F.lit(None))
        selected.append(expression.cast(type_name).alias(name))
    return df.select(*selected)


def _without_superstrings(values: set[str]) -> list[str]:
    """`values` less those that contain another one: a text that contains 'ms-ds-smb' contains
    'smb', so looking for 'smb' is enough."""
    return sorted(value for value in values if not any(other != value and other in value for other in values))


# Texts other than an ASCII letter's two cases that Spark's `lower` can turn into it: the Kelvin
# sign, and under a Turkish or Azeri JVM locale the dotted capital I, alone or as I + combining dot.
_OTHER_CASES: dict[str, tuple[str, ...]] = {"k": ("\u212a",), "i": ("\u0130", "I\u0307")}
_PART_LENGTH = 3


def _spellings(text: str) -> list[str]:
    """Every text that lower-cases to `text` (lower-case ASCII): each letter in either case, and
    in the other texts `_OTHER_CASES` lists for it."""
    spellings = [""]
    for char in text:
        cases = {char, char.upper(), *_OTHER_CASES.get(char, ())}
        spellings = [spelling + case for spelling in spellings for case in sorted(cases)]
    return spellings


def spelled_parts(value: str) -> list[str]:
    """The spellings of the part of `value` (lower case) that a text naming it in any case must
    hold: its last `_PART_LENGTH` characters. Each letter doubles the spellings to look for, so
    the part is short; it is the end, since ids of one family share their start ('netbios-ss'
    -> '-ss', '-SS', '-Ss', '-sS', which 'netbios-ns' does not hold)."""
    return _spellings(value[-_PART_LENGTH:])


def raw_variants(values: set[str] | frozenset[str] | tuple[str, ...]) -> list[str]:
    """The vocabulary values, sorted: `Fields.isin` compares them trimmed and in any case."""
    return sorted(set(values))


def smb_prefilter(fields: Fields, context: FormatContext, port: str, names: tuple[str, ...] = (),
                  smb_ids: frozenset[str] = frozenset()) -> Column:
    """"Could be SMB": the port field in the SMB ports, or one of the `names` fields
    (application, service) naming a vendor SMB id or a configured app, in any case or list."""
    ids = sorted(smb_ids | set(context.smb_apps))
    smb = fields.isin(port, context.smb_ports)
    for name in names:
        smb = smb | fields.mentions(name, ids)
    return smb


def session_key(device: Column, session_id: Column) -> Column:
    """`device|session id` for a record of a session the vendor logs more than once; null (the
    record counts on its own) when the record has no session id."""
    return F.when(session_id.isNotNull(), F.concat_ws("|", F.coalesce(device, F.lit("")), session_id))


def port_text(column: Column) -> Column:
    """A port column as text, whatever its archive type (int, long, numeric string)."""
    return F.trim(column.cast("string"))


# IANA protocol numbers of the transports a firewall log names by number.
PROTOCOL_NAMES: dict[int, str] = {1: "icmp", 6: "tcp", 17: "udp", 58: "ipv6-icmp"}


def protocol_name(column: Column) -> Column:
    """A protocol column (IANA number or name, any case) -> lower-case name; unknown numbers stay as text."""
    text = F.lower(F.trim(column.cast("string")))
    mapped = F.lit(None).cast("string")
    for number, name in PROTOCOL_NAMES.items():
        mapped = F.when(text == str(number), F.lit(name)).otherwise(mapped)
    return F.coalesce(mapped, text)

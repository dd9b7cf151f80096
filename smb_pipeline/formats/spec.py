"""Vendors as data: a format declares where each canonical column comes from, its verdict
vocabulary, its SMB ids and its session key (`VendorSpec`); smb_pipeline.formats.declarative
turns that into a `SourceFormat`.

Why: most vendors differ only in names and words. Declaring them once lets one normalizer,
one prefilter and the docs (smb_pipeline/formats/docs.py) read the same declaration, so a
name is written in one place. Code remains only where a format computes or parses text,
as `Computed` columns or a `Parse` hook beside the declaration.

A column entry is one of:

* `"name"`: one logical field; its default column has the same name (what users may
  override under `columns:`);
* `Field("name", "alternative", ...)`: one field whose default column is the first of these
  present in the archive;
* a tuple of the above: several fields, read per row: the first non-null (device, rule,
  session id), or for `app` all of them as a comma list;
* `Computed(reads, build)`: a hook `build(fields, context) -> Column` reading `reads`.

Each canonical column has a standard reading (smb_pipeline.formats.declarative.READERS):
time of any type to UTC, ports as text, protocol numbers as names, application and
direction lower-cased and trimmed, byte counts as bigint. The logical fields, in the order first named in the
declaration, are the format's `fields`: the names users put under `columns:`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Literal

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from smb_pipeline.formats.base import Fields, FormatContext

Hook = Callable[[Fields, FormatContext], Column]


@dataclass(frozen=True)
class Field:
    """A logical field and the default column names looked for, first present wins."""

    name: str
    alternatives: tuple[str, ...] = ()

    def __init__(self, name: str, *alternatives: str):
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "alternatives", alternatives)

    @property
    def columns(self) -> tuple[str, ...]:
        return (self.name, *self.alternatives)


@dataclass(frozen=True)
class Computed:
    """A canonical column computed by code from the fields it `reads` (declared here, so that
    they are fields of the format and show in the docs)."""

    reads: tuple[str | Field, ...]
    build: Hook


@dataclass(frozen=True)
class Parse:
    """Text parsing that yields several canonical columns at once (a syslog message, a CSV,
    a flow tuple). `build(df, fields, context)` may add helper columns to the frame (a regex
    run once per row) and returns it with the canonical columns it `yields`. The frame it
    returns ends a generated-code stage (`FormatContext.stage_end`) before those columns read
    it; a builder whose steps are large on their own ends them with `context.stage_end` too."""

    reads: tuple[str | Field, ...]
    yields: tuple[str, ...]
    build: Callable[[DataFrame, Fields, FormatContext], tuple[DataFrame, Mapping[str, Column]]]


@dataclass(frozen=True)
class Match:
    """Rows whose `field` is one of `values` (compared trimmed, in the verdicts' case)."""

    field: str
    values: frozenset[str]


@dataclass(frozen=True)
class Verdicts:
    """The vendor's words for the verdict in the `action` column: allowed, blocked (or a
    `blocked_pattern`), and session `ends`. An end record is `teardown` when the row has a
    session key; without one it is `end_without_key` (a session logged once is allowed).
    `unless`: rows that carry no verdict whatever their action says (empty capture windows).
    Vendors that write verdicts in capitals compare with `case="upper"`."""

    allowed: frozenset[str] = frozenset()
    blocked: frozenset[str] = frozenset()
    blocked_pattern: str | None = None
    ends: frozenset[str] = frozenset()
    end_without_key: Literal["allowed", "teardown"] = "allowed"
    case: Literal["lower", "upper"] = "lower"
    unless: Match | None = None

    def fold(self, column: Column) -> Column:
        text = F.trim(column)
        return F.upper(text) if self.case == "upper" else F.lower(text)


@dataclass(frozen=True)
class Session:
    """One session in several records: the key is `device|session_id` (device: first non-null
    of `device`); `start` records carry no byte totals, so their bytes are null."""

    device: tuple[str, ...]
    start: Match | None = None


Entry = str | Field | tuple[str | Field, ...] | Computed


@dataclass(frozen=True)
class VendorSpec:
    """Everything a format is, as data (see the module docstring)."""

    name: str
    description: str
    columns: Mapping[str, Entry]
    required: tuple[str, ...]
    smb_apps: frozenset[str] = frozenset()
    verdicts: Verdicts | None = None
    session: Session | None = None
    gate: Match | None = None  # what the prefilter requires besides SMB when the verdict is computed
    parse: Parse | None = None
    prefilter: Hook | None = None  # replaces the derived prefilter where the data cannot say it
    unused: tuple[str, ...] = ()  # fields read by no column but accepted under `columns:`
    fields: dict[str, tuple[str, ...]] = field(init=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "fields", _declared_fields(self))
        problem = _problem(self)
        if problem:
            raise ValueError(f"{self.name}: {problem}")


def _problem(spec: VendorSpec) -> str | None:
    """What makes a declaration unusable, found when the module is imported rather than mid-run."""
    unknown = [name for name in spec.required if name not in spec.fields]
    if unknown:
        return f"required fields not declared: {unknown}"
    port = spec.columns.get("dest_port")
    if spec.prefilter is None and not isinstance(port, (str, Field)):
        return "a derived prefilter needs `dest_port` read from one field"
    if spec.session and spec.session.start and spec.verdicts is None:
        return "start records are matched in the verdicts' case: declare verdicts"
    if spec.session and "session_id" not in spec.columns:
        return "a session key needs `session_id`"
    return None


def _entry_fields(entry: Entry) -> tuple[str | Field, ...]:
    if isinstance(entry, Computed):
        return entry.reads
    if isinstance(entry, tuple):
        return entry
    return (entry,)


def entry_names(entry: Entry) -> tuple[str, ...]:
    """The logical field names an entry reads, in order."""
    return tuple(item.name if isinstance(item, Field) else item for item in _entry_fields(entry))


def _declared_fields(spec: VendorSpec) -> dict[str, tuple[str, ...]]:
    """Logical field -> default columns, in the order first named: columns, parse, verdicts, session."""
    items: list[str | Field] = []
    for entry in spec.columns.values():
        items += _entry_fields(entry)
    items += spec.parse.reads if spec.parse else ()
    for match in (spec.verdicts.unless if spec.verdicts else None, spec.gate):
        items += (match.field,) if match else ()
    if spec.session:
        items += spec.session.device + ((spec.session.start.field,) if spec.session.start else ())
    items += spec.unused
    fields: dict[str, tuple[str, ...]] = {}
    for item in items:
        declared = item if isinstance(item, Field) else Field(item)
        known = fields.setdefault(declared.name, declared.columns)
        if isinstance(item, Field) and known != declared.columns:
            raise ValueError(f"{spec.name}: field {declared.name!r} declared with different columns")
    return fields

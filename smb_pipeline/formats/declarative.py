"""The one normalizer and prefilter of every declared format (smb_pipeline.formats.spec).

Why one: the steps every vendor shares (read a field the standard way for its canonical
column, map the verdict vocabulary, build the session key, null the bytes of start records,
derive the prefilter from the allowed words, the port field and the app fields) are written
once here; a vendor module holds only its declaration and the code that really computes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import partial

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from smb_pipeline.formats.base import (
    Fields,
    FormatContext,
    SourceFormat,
    port_text,
    protocol_name,
    raw_variants,
    session_key,
    smb_prefilter,
    to_canonical,
)
from smb_pipeline.formats.spec import Computed, Entry, Match, VendorSpec, Verdicts, entry_names
from smb_pipeline.formats.times import any_time_to_utc

Reader = Callable[[Fields, str, FormatContext], Column]


def _time(fields: Fields, name: str, context: FormatContext) -> Column:
    return any_time_to_utc(fields.col(name), fields.type(name), context.timezone)


def _as_is(fields: Fields, name: str, context: FormatContext) -> Column:
    return fields.col(name)


def _port(fields: Fields, name: str, context: FormatContext) -> Column:
    return port_text(fields.col(name))


def _protocol(fields: Fields, name: str, context: FormatContext) -> Column:
    return protocol_name(fields.col(name))


def _word(fields: Fields, name: str, context: FormatContext) -> Column:
    return F.lower(F.trim(fields.col(name)))


def _bytes(fields: Fields, name: str, context: FormatContext) -> Column:
    return fields.col(name).try_cast("bigint")


# How one field becomes each canonical column (to_canonical then casts to the canonical type).
READERS: dict[str, Reader] = {
    "event_time": _time,
    "src_ip": _as_is,
    "dest_ip": _as_is,
    "src_port": _port,
    "dest_port": _port,
    "transport": _protocol,
    "app": _word,
    "action": _as_is,
    "vendor_action": _as_is,
    "bytes_in": _bytes,
    "bytes_out": _bytes,
    "dvc": _as_is,
    "rule": _as_is,
    "session_id": _as_is,
    "direction": _word,
}


def _read(canonical: str, entry: Entry, fields: Fields, context: FormatContext) -> Column:
    """One canonical column from its entry: a hook, one field, or several (first non-null;
    for `app`, every name as a comma list, which the core splits)."""
    if isinstance(entry, Computed):
        return entry.build(fields, context)
    names = entry_names(entry)
    if len(names) == 1:
        return READERS[canonical](fields, names[0], context)
    if canonical == "app":
        listed = F.concat_ws(",", *(F.trim(fields.col(name, "string")) for name in names))
        return F.when(listed != "", F.lower(listed))
    return F.coalesce(*(fields.col(name, "string") for name in names))


def _matches(verdicts: Verdicts, fields: Fields, match: Match) -> Column:
    return F.coalesce(verdicts.fold(fields.col(match.field)).isin(*sorted(match.values)), F.lit(False))


def _verdict(verdicts: Verdicts, raw: Column, key: Column | None, fields: Fields) -> Column:
    """The canonical action (allowed | blocked | teardown | null) from the vendor's word."""
    word = verdicts.fold(raw)
    end = F.lit(verdicts.end_without_key) if key is None else F.when(key.isNotNull(), "teardown").otherwise(
        verdicts.end_without_key)
    outcomes: list[tuple[frozenset[str], Column | str]] = [
        (verdicts.allowed, "allowed"), (verdicts.ends, end), (verdicts.blocked, "blocked")]
    clauses: list[tuple[Column, Column | str | None]] = []
    if verdicts.unless:
        clauses.append((_matches(verdicts, fields, verdicts.unless), None))
    clauses += [(word.isin(*sorted(values)), outcome) for values, outcome in outcomes if values]
    if verdicts.blocked_pattern:
        clauses.append((word.rlike(verdicts.blocked_pattern), "blocked"))
    action = F.when(*clauses[0])
    for condition, outcome in clauses[1:]:
        action = action.when(condition, outcome)
    return action


def _parsed(spec: VendorSpec, df: DataFrame, fields: Fields,
            context: FormatContext) -> tuple[DataFrame, Mapping[str, Column]]:
    """The text parser's frame, its generated code ended (`FormatContext.stage_end`), and the
    columns it yields; `df` and none without a parser."""
    if not spec.parse:
        return df, {}
    frame, parsed = spec.parse.build(df, fields, context)
    if set(parsed) != set(spec.parse.yields):
        raise ValueError(f"{spec.name}: the parser yields {sorted(parsed)}, declared {sorted(spec.parse.yields)}")
    return context.stage_end(frame), parsed


def normalize(spec: VendorSpec, df: DataFrame, fields: Fields, context: FormatContext,
              keep: tuple[str, ...]) -> DataFrame:
    """Raw prefilter survivors -> the canonical columns (plus `keep`), as the spec declares."""
    frame, parsed = _parsed(spec, df, fields, context)
    columns = {name: _read(name, entry, fields, context) for name, entry in spec.columns.items()}
    columns.update(parsed)
    key = columns.get("session_key")
    if spec.session:
        devices = [fields.col(name, "string") for name in spec.session.device]
        device = devices[0] if len(devices) == 1 else F.coalesce(*devices)
        key = columns["session_key"] = session_key(device, columns["session_id"].cast("string"))
    if spec.verdicts:
        columns.setdefault("vendor_action", columns["action"])
        columns["action"] = _verdict(spec.verdicts, columns["action"], key, fields)
    if spec.session and spec.session.start and spec.verdicts:
        is_start = _matches(spec.verdicts, fields, spec.session.start)
        for name in ("bytes_in", "bytes_out"):
            if name in columns:
                columns[name] = F.when(~is_start, columns[name])
    return to_canonical(frame, columns, keep)


def allowed_words(spec: VendorSpec) -> frozenset[str]:
    """The verdict words a row the core counts can carry: allowed, and session ends where they
    count (a keyed session, or an end that is allowed on its own)."""
    if spec.verdicts is None:
        return frozenset()
    ends_count = spec.session is not None or spec.verdicts.end_without_key == "allowed"
    return spec.verdicts.allowed | (spec.verdicts.ends if ends_count else frozenset())


def prefilter(spec: VendorSpec, fields: Fields, context: FormatContext) -> Column:
    """"Could be allowed SMB" on raw columns: the port field in the SMB ports or an app field
    naming an SMB id, and an allowed word in the action field (or the `gate`).

    SMB is tested first: it is the rarer condition (a few percent of a firewall's rows, where
    most are allowed), and its port test is an integer comparison, so the text test of the
    verdict runs on the few rows that reach it (docs/performance.md).
    """
    if spec.prefilter:
        return spec.prefilter(fields, context)
    apps = entry_names(spec.columns["app"]) if "app" in spec.columns else ()
    smb = smb_prefilter(fields, context, entry_names(spec.columns["dest_port"])[0], apps, spec.smb_apps)
    action = spec.columns.get("action")
    if spec.verdicts and action is not None and not isinstance(action, Computed):
        return smb & fields.isin(entry_names(action)[0], raw_variants(allowed_words(spec)))
    if spec.gate:
        return smb & fields.isin(spec.gate.field, raw_variants(spec.gate.values))
    return smb


def declare(spec: VendorSpec) -> SourceFormat:
    """The `SourceFormat` (the interface the reader and the pipeline use) of a declaration."""
    return SourceFormat(
        name=spec.name,
        fields=spec.fields,
        required=frozenset(spec.required),
        prefilter=partial(prefilter, spec),
        normalize=partial(normalize, spec),
        smb_apps=spec.smb_apps,
        description=spec.description,
        spec=spec,
    )

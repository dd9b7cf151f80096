"""`smb-pipeline pairs`: the stored pairs of a day or a range, printed as a table, CSV or JSON.

Reads `smb_allowed_daily` only (no recomputation): the "accelerated data" search of the
original use case. Arrays print as `;`-joined text in the table and CSV, as lists in JSON.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Sequence

COLUMNS = ("src_ip", "dest_ip", "connections", "days_seen", "first_seen", "last_seen",
           "bytes_out", "bytes_in", "dest_ports", "apps", "sources", "direction", "src_label", "dest_label")
FORMATS = ("table", "csv", "json")


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        return ";".join(str(v) for v in value)
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ", timespec="seconds")
    return str(value)


def _json_value(value):
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return value


def render_table(rows: Sequence[dict]) -> str:
    """Aligned columns, numbers right-aligned; a header even when there is no row."""
    cells = [list(COLUMNS)] + [[_text(row[c]) for c in COLUMNS] for row in rows]
    widths = [max(len(line[i]) for line in cells) for i in range(len(COLUMNS))]
    numeric = {"connections", "days_seen", "bytes_out", "bytes_in"}
    lines = []
    for line in cells:
        parts = [cell.rjust(w) if COLUMNS[i] in numeric else cell.ljust(w)
                 for i, (cell, w) in enumerate(zip(line, widths, strict=True))]
        lines.append("  ".join(parts).rstrip())
    return "\n".join(lines)


def render_csv(rows: Sequence[dict]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for row in rows:
        writer.writerow([_text(row[c]) for c in COLUMNS])
    return out.getvalue().rstrip("\n")


def render_json(rows: Sequence[dict]) -> str:
    return json.dumps([{c: _json_value(row[c]) for c in COLUMNS} for row in rows], indent=1)


def render(rows: Sequence[dict], fmt: str) -> str:
    return {"table": render_table, "csv": render_csv, "json": render_json}[fmt](rows)


def fetch_pairs(spark, config, start: dt.date, end: dt.date, top: int) -> list[dict] | None:
    """The busiest `top` pairs (all when 0) of start..end, or None when the table does not exist."""
    from smb_pipeline.bi.queries import pairs_between, read_table
    from smb_pipeline.model.schemas import PAIRS_TABLE

    table = read_table(spark, config, PAIRS_TABLE)
    if table is None:
        return None
    frame = pairs_between(table, start, end)
    if top:
        frame = frame.limit(top)
    return [row.asDict() for row in frame.collect()]  # bounded by --top; pairs are an aggregate

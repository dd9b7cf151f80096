"""The short, human-readable summary a run prints."""

from __future__ import annotations

from smb_pipeline.alerts import report as alerts_report
from smb_pipeline.model.results import RunResult, SourceCounts

_COLUMNS = SourceCounts.COUNTERS


def format_summary(result: RunResult) -> str:
    """Days, where every row went (per source and in total), sources without data, skipped files,
    pairs written, time and tables."""
    width = max([len("source"), len("total")] + [len(s.source) for s in result.sources])
    header = f"  {'source':<{width}} " + " ".join(f"{name:>15}" for name in _COLUMNS)
    lines = [
        f"smb_pipeline run: {result.start} .. {result.end} ({result.days} day{'s' * (result.days != 1)})",
        header,
    ]
    for counts in result.sources:
        lines.append(f"  {counts.source:<{width}} " + " ".join(f"{getattr(counts, n):>15,}" for n in _COLUMNS))
    if len(result.sources) > 1:
        lines.append(f"  {'total':<{width}} " + " ".join(f"{result.total(n):>15,}" for n in _COLUMNS))
    for source in result.no_data:
        lines.append(f"no_data: source {source!r} has no files in the read window (counts are zero)")
    if result.files_skipped:
        lines.append(f"files skipped (on_corrupt_file: skip): {len(result.files_skipped)}")
        lines.extend(f"  {path}" for path in result.files_skipped)
    lines.append(f"pairs written: {result.pairs_written:,}")
    lines.append(f"elapsed: {result.elapsed_seconds:.1f} s")
    for name, path in result.tables.items():
        version = result.versions.get(name)
        lines.append(f"table {name}: {path}" + (f" (version {version})" if version is not None else ""))
    lines.extend(alerts_report.summary_lines(result.alerts))
    return "\n".join(lines)


def summary_data(result: RunResult) -> dict:
    """The summary as plain data, for --summary-json: the same counts the table shows."""
    return {
        "start": result.start.isoformat(),
        "end": result.end.isoformat(),
        "days": result.days,
        "sources": [{"source": s.source, **{n: getattr(s, n) for n in _COLUMNS}} for s in result.sources],
        "totals": {name: result.total(name) for name in _COLUMNS},
        "daily": {day.isoformat(): [{"source": s.source, **{n: getattr(s, n) for n in _COLUMNS}} for s in counts]
                  for day, counts in sorted(result.daily.items())},
        "no_data": list(result.no_data),
        "files_skipped": list(result.files_skipped),
        "pairs_written": result.pairs_written,
        "run_seconds": round(result.elapsed_seconds, 3),
        "tables": dict(result.tables),
        "versions": dict(result.versions),
        "alerts": alerts_report.summary_data(result.alerts),
    }

"""What a detection run did, for the run summary: alerts per detection, expired allowlist
entries, and detections that are inactive or warming up."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from smb_pipeline.alerts.settings import DETECTIONS


@dataclass
class AlertsReport:
    start: dt.date
    end: dt.date
    # detection -> (unsuppressed, suppressed)
    counts: dict[str, tuple[int, int]] = field(default_factory=dict)
    inactive: dict[str, str] = field(default_factory=dict)
    warming: dict[str, list[dt.date]] = field(default_factory=dict)
    expired: list[tuple[str, dt.date]] = field(default_factory=list)
    version: int | None = None
    table: str = ""
    disabled: bool = False


def summary_lines(report: AlertsReport | None) -> list[str]:
    if report is None:
        return []
    if report.disabled:
        return ["alerts: disabled (alerts.enabled: false)"]
    lines = [f"alerts {report.start} .. {report.end}:"]
    for name in DETECTIONS:
        if name in report.inactive:
            lines.append(f"  {name:<22} {report.inactive[name]}")
            continue
        unsuppressed, suppressed = report.counts.get(name, (0, 0))
        line = f"  {name:<22} {unsuppressed:>6,} alert(s), {suppressed:,} suppressed"
        if name in report.warming:
            days = report.warming[name]
            span = f"{days[0]}" if len(days) == 1 else f"{days[0]} .. {days[-1]}"
            line += f"; warming up on {len(days)} day(s) ({span}): too little history"
        lines.append(line)
    for entry_id, expires in report.expired:
        lines.append(f"  allowlist entry {entry_id!r} expired on {expires}: it no longer suppresses later days")
    if report.table:
        version = f" (version {report.version})" if report.version is not None else ""
        lines.append(f"table smb_alerts: {report.table}{version}")
    return lines


def summary_data(report: AlertsReport | None) -> dict | None:
    if report is None:
        return None
    return {
        "disabled": report.disabled,
        "detections": {name: {"alerts": c[0], "suppressed": c[1]} for name, c in report.counts.items()},
        "inactive": dict(report.inactive),
        "warming_up": {name: [d.isoformat() for d in days] for name, days in report.warming.items()},
        "expired_allowlist_entries": [{"id": i, "expires": e.isoformat()} for i, e in report.expired],
        "version": report.version,
    }


DEMO_LINES = 20


def alert_lines(spark, path: str, start: dt.date, end: dt.date, config_path: str = "C",
                limit: int = DEMO_LINES) -> list[str]:
    """The alerts of start..end, a line each, most severe first (the `demo` prints them)."""
    from pyspark.sql import functions as F

    from smb_pipeline.storage.delta_io import table_version

    if table_version(spark, path) is None:
        return []
    alerts = spark.read.format("delta").load(path).where(F.col("event_date").between(start, end))
    ordered = alerts.orderBy(F.col("suppressed"), F.col("risk_score").desc(), "event_date", "detection", "src_ip")
    total = alerts.count()
    lines = [f"alerts ({total}, most severe first):"]
    for row in ordered.limit(limit).collect():  # a page of the alerts table
        flag = f" [suppressed by {row.suppressed_by}]" if row.suppressed else ""
        lines.append(f"  {row.event_date} {row.severity:<8} {row.risk_score:>3} {row.detection:<20} "
                     f"{row.src_ip} -> {row.dest_ip or '*'}{flag}")
    if total > limit:
        lines.append(f"  ... {total - limit} more: smb-pipeline alerts --config {config_path} --start {start} "
                     f"--end {end} --include-suppressed")
    return lines

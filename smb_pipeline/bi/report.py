"""`smb-pipeline report`: one self-contained HTML page of a day's findings.

Counts and their change from the day before, the day's open alerts by risk, top pairs, new
pairs, the 30-day trend, rejects per source and reason, and the run's row accounting from
`pipeline_runs`. Only
small aggregates reach the driver (30 trend rows, the top and new pairs, a row per source
and reason); the page carries its style and its SVG charts inline and references nothing
on the network, so it reads offline and travels as an e-mail attachment.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Set as AbstractSet
from html import escape

from smb_pipeline import __version__
from smb_pipeline.alerts.schema import ALERTS_TABLE
from smb_pipeline.bi import charts, queries
from smb_pipeline.bi.catalog import RUNS_TABLE
from smb_pipeline.config import PipelineConfig
from smb_pipeline.model.schemas import PAIRS_TABLE, REJECTS_TABLE

TOP_PAIRS = 20
NEW_PAIRS = 50
ALERTS = 50
COUNTS = (("pairs", "pairs"), ("connections", "connections"), ("distinct_sources", "distinct sources"),
          ("distinct_destinations", "distinct destinations"), ("rejects", "rejected rows"))
STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:24px;color:#222;max-width:1100px}
h1{font-size:22px}h2{font-size:17px;margin-top:28px;border-bottom:1px solid #ddd}
table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #ccc;padding:3px 8px;text-align:left}
th{background:#f3f3f3}td.n{text-align:right;font-variant-numeric:tabular-nums}
.cards{display:flex;gap:12px;flex-wrap:wrap}.card{border:1px solid #ccc;border-radius:6px;padding:8px 14px}
.card b{display:block;font-size:22px}.up{color:#b00}.down{color:#070}.note{color:#666;font-size:13px}
"""


def gather(spark, config: PipelineConfig, day: dt.date) -> dict | None:
    """Every number of the page, as small Python lists; None when the pair table does not exist."""
    pairs = queries.read_table(spark, config, PAIRS_TABLE)
    if pairs is None:
        return None
    rejects = queries.read_table(spark, config, REJECTS_TABLE)
    runs = queries.read_table(spark, config, RUNS_TABLE)
    first = day - dt.timedelta(days=queries.TREND_DAYS - 1)
    trend = [r.asDict() for r in queries.day_counts(pairs, rejects, first, day).collect()]
    fresh = queries.new_pairs(pairs, day)
    alerts = queries.read_table(spark, config, ALERTS_TABLE)
    return {
        "day": day,
        "trend": trend,
        "top_pairs": [r.asDict() for r in queries.pairs_between(pairs, day, day).limit(TOP_PAIRS).collect()],
        "new_pairs": [r.asDict() for r in fresh.limit(NEW_PAIRS).collect()],
        "new_pairs_total": fresh.count(),
        "rejects": [] if rejects is None else [r.asDict() for r in queries.rejects_summary(rejects, day, day)
                                               .collect()],
        "accounting": [] if runs is None else [r.asDict() for r in queries.run_accounting(runs, day).collect()],
        "alerts": None if alerts is None else [r.asDict() for r in queries.alerts_of_day(alerts, day)
                                               .limit(ALERTS).collect()],
        "alert_counts": None if alerts is None else queries.alert_counts(alerts, day).collect()[0].asDict(),
    }


def _counts_of(trend: list[dict], day: dt.date) -> dict:
    for row in trend:
        if row["event_date"] == day:
            return row
    return {key: 0 for key, _ in COUNTS}


def _change(now: int, before: int) -> str:
    if now == before:
        return '<span class="note">no change from the day before</span>'
    css = "up" if now > before else "down"
    percent = f" ({(now - before) / before:+.0%})" if before else ""
    return f'<span class="{css}">{now - before:+,}{percent} from the day before</span>'


def _table(headers: list[str], rows: list[list], numeric: AbstractSet[int] = frozenset()) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join(
        "<tr>" + "".join(f'<td{" class=n" if i in numeric else ""}>{escape(_cell(v))}</td>'
                         for i, v in enumerate(row)) + "</tr>"
        for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    return str(value)


def _cards(data: dict) -> str:
    today = _counts_of(data["trend"], data["day"])
    before = _counts_of(data["trend"], data["day"] - dt.timedelta(days=1))
    cards = [f'<div class="card">{escape(label)}<b>{today[key]:,}</b>{_change(today[key], before[key])}</div>'
             for key, label in COUNTS]
    return f'<div class="cards">{"".join(cards)}</div>'


def _pairs_section(rows: list[dict], columns: list[str]) -> str:
    if not rows:
        return '<p class="note">none</p>'
    return _table(columns, [[row.get(c) for c in columns] for row in rows],
                  {i for i, c in enumerate(columns) if c in ("connections", "connection_count")})


def _accounting(rows: list[dict]) -> str:
    if not rows:
        return '<p class="note">no successful run recorded for this day in pipeline_runs</p>'
    run = rows[0]
    head = (f'<p>run <code>{escape(run["run_id"])}</code> ({escape(run["command"])}), '
            f'{escape(_cell(run["started_at"]))} to {escape(_cell(run["ended_at"]))} UTC</p>')
    columns = ["source", "rows_read", "not_allowed_smb", "rejected", "excluded", "aggregated"]
    total = ["all"] + [sum(row[c] or 0 for row in rows) for c in columns[1:]]
    return head + _table(columns, [[row[c] for c in columns] for row in rows] + [total], {1, 2, 3, 4, 5})


def _alerts_section(data: dict) -> list[str]:
    counts, rows = data.get("alert_counts"), data.get("alerts")
    if counts is None or rows is None:
        return ["<h2>Alerts</h2>", '<p class="note">no smb_alerts table yet</p>']
    total = sum(counts[s] for s in queries.SEVERITIES)
    by_severity = ", ".join(f"{counts[s]:,} {s}" for s in queries.SEVERITIES if counts[s])
    heading = (f"<h2>Alerts: {total:,} open{f' ({by_severity})' if by_severity else ''}, "
               f"{counts['suppressed']:,} suppressed by the allowlist</h2>")
    if not rows:
        return [heading, '<p class="note">no open alert on this day</p>']
    columns = ["severity", "risk_score", "detection", "src_ip", "dest_ip", "connection_count", "reason"]
    note = f'<p class="note">the {ALERTS} riskiest of {total:,}</p>' if total > len(rows) else ""
    return [heading, note + _table(columns, [[row.get(c) for c in columns] for row in rows], {1, 5})]


def render(data: dict, lake: str) -> str:
    """The page, from `gather`'s result."""
    day = data["day"]
    trend = data["trend"]
    rejects = data["rejects"]
    sections = [
        f"<h1>Allowed SMB from outside the company: {day.isoformat()}</h1>",
        f'<p class="note">Tables in {escape(lake)}; smb_pipeline {escape(__version__)}; days are UTC.</p>',
        "<h2>The day in numbers</h2>", _cards(data),
        *_alerts_section(data),
        f"<h2>Top pairs (by connections, at most {TOP_PAIRS})</h2>",
        _pairs_section(data["top_pairs"], ["src_ip", "dest_ip", "connections", "first_seen", "last_seen",
                                           "dest_ports", "apps", "sources"]),
        f"<h2>New pairs: {data['new_pairs_total']:,} not seen on any earlier day</h2>",
        _pairs_section(data["new_pairs"], ["src_ip", "dest_ip", "connection_count", "first_seen", "dest_ports",
                                           "sources"]),
        f"<h2>Trend of the last {queries.TREND_DAYS} days</h2>",
        charts.trend_chart(trend) if trend else '<p class="note">no data in these days</p>',
        _table(["day", "pairs", "connections", "distinct sources", "distinct destinations", "rejects"],
               [[r["event_date"], r["pairs"], r["connections"], r["distinct_sources"], r["distinct_destinations"],
                 r["rejects"]] for r in trend], {1, 2, 3, 4, 5}),
        "<h2>Rejected rows per source and reason</h2>",
        (charts.rejects_chart(rejects) + _table(["source", "reason", "rows"],
                                                 [[r["source"], r["reason"], r["rows"]] for r in rejects], {2}))
        if rejects else '<p class="note">no rejected rows on this day</p>',
        "<h2>Row accounting of the run</h2>", _accounting(data["accounting"]),
    ]
    body = "\n".join(sections)
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f"<title>SMB report {day.isoformat()}</title><style>{STYLE}</style></head>\n<body>\n{body}\n"
            "</body></html>\n")


def build_report(spark, config: PipelineConfig, day: dt.date) -> str | None:
    """The HTML page of `day`, or None when the pair table does not exist."""
    data = gather(spark, config, day)
    return None if data is None else render(data, config.output.path)

"""The catalog views analysts and BI tools query, written once as SQL over two table names.

The same text defines the views in the metastore (`smb.smb_allowed_daily`) and runs over
path-based tables (delta.`/lake/smb_allowed_daily`) in the report, the notebook and the
tests, so every reader sees one definition. "The last N days" counts back from the latest
day in the table, not from today: a nightly table lags the calendar, and a view that turns
empty the morning a run is late helps no one.
"""

from __future__ import annotations

from dataclasses import dataclass

from smb_pipeline.alerts.schema import ALERTS_TABLE
from smb_pipeline.model.schemas import PAIRS_TABLE, REJECTS_TABLE

LATEST_DAYS_DEFAULT = 7
TOP_SOURCES_DAYS = 30
OPEN_ALERTS_DAYS = 7

PAIRS_LATEST_SQL = """
SELECT
  event_date                          AS day,
  src_ip                              AS source_ip,
  dest_ip                             AS destination_ip,
  connection_count                    AS connections,
  first_seen,
  last_seen,
  bytes_out                           AS bytes_to_destination,
  bytes_in                            AS bytes_from_destination,
  array_join(transform(dest_ports, p -> CAST(p AS STRING)), ',') AS destination_ports,
  array_join(apps, ',')               AS applications,
  array_join(sources, ',')            AS log_sources,
  array_join(devices, ',')            AS devices,
  event_count                         AS log_records,
  pair_id
FROM {pairs}
WHERE event_date > date_sub((SELECT max(event_date) FROM {pairs}), {days})
"""

DAILY_TREND_SQL = """
WITH per_day AS (
  SELECT event_date, count(*) AS pairs, sum(connection_count) AS connections,
         count(DISTINCT src_ip) AS distinct_sources, count(DISTINCT dest_ip) AS distinct_destinations
  FROM {pairs} GROUP BY event_date
), rejects_per_day AS (
  SELECT event_date, count(*) AS rejects FROM {rejects} GROUP BY event_date
)
SELECT
  coalesce(p.event_date, r.event_date)       AS day,
  coalesce(p.pairs, 0)                       AS pairs,
  coalesce(p.connections, 0)                 AS connections,
  coalesce(p.distinct_sources, 0)            AS distinct_sources,
  coalesce(p.distinct_destinations, 0)       AS distinct_destinations,
  coalesce(r.rejects, 0)                     AS rejects
FROM per_day p FULL OUTER JOIN rejects_per_day r ON p.event_date = r.event_date
"""

TOP_SOURCES_SQL = """
SELECT
  src_ip                    AS source_ip,
  sum(connection_count)     AS connections,
  count(DISTINCT dest_ip)   AS destinations,
  count(DISTINCT event_date) AS days_seen,
  min(event_date)           AS first_day,
  max(event_date)           AS last_day
FROM {pairs}
WHERE event_date > date_sub((SELECT max(event_date) FROM {pairs}), {top_days})
GROUP BY src_ip
"""

# What a SOC works from: alerts the allowlist did not hide, of the last days of the pair table
# (not of the alerts table: a quiet last day must not bring back a week-old day), riskiest first.
ALERTS_OPEN_SQL = """
SELECT
  event_date                          AS day,
  severity,
  risk_score,
  detection,
  direction,
  src_ip                              AS source_ip,
  src_label                           AS source_label,
  dest_ip                             AS destination_ip,
  dest_label                          AS destination_label,
  connection_count                    AS connections,
  distinct_destinations,
  array_join(transform(dest_ports, p -> CAST(p AS STRING)), ',') AS destination_ports,
  array_join(mitre_techniques, ',')   AS mitre_techniques,
  reason,
  response,
  alert_id
FROM {alerts}
WHERE NOT suppressed
  AND event_date > date_sub((SELECT max(event_date) FROM {pairs}), {open_days})
ORDER BY risk_score DESC, day DESC, source_ip, destination_ip
"""


@dataclass(frozen=True)
class View:
    name: str
    sql: str
    tables: tuple[str, ...]
    columns: tuple[str, ...]


VIEWS = (
    View("smb_pairs_latest", PAIRS_LATEST_SQL, (PAIRS_TABLE,),
         ("day", "source_ip", "destination_ip", "connections", "first_seen", "last_seen", "bytes_to_destination",
          "bytes_from_destination", "destination_ports", "applications", "log_sources", "devices", "log_records",
          "pair_id")),
    View("smb_daily_trend", DAILY_TREND_SQL, (PAIRS_TABLE, REJECTS_TABLE),
         ("day", "pairs", "connections", "distinct_sources", "distinct_destinations", "rejects")),
    View("smb_top_sources", TOP_SOURCES_SQL, (PAIRS_TABLE,),
         ("source_ip", "connections", "destinations", "days_seen", "first_day", "last_day")),
    View("smb_alerts_open", ALERTS_OPEN_SQL, (ALERTS_TABLE, PAIRS_TABLE),
         ("day", "severity", "risk_score", "detection", "direction", "source_ip", "source_label", "destination_ip",
          "destination_label", "connections", "distinct_destinations", "destination_ports", "mitre_techniques",
          "reason", "response", "alert_id")),
)


def quote(name: str) -> str:
    """A SQL identifier in backticks (doubling any backtick inside it)."""
    return "`" + name.replace("`", "``") + "`"


def view_query(view: View, table_refs: dict[str, str], days: int = LATEST_DAYS_DEFAULT) -> str:
    """The view's SELECT over the given table references (catalog names or delta.`path`)."""
    return view.sql.format(pairs=table_refs.get(PAIRS_TABLE), rejects=table_refs.get(REJECTS_TABLE),
                           alerts=table_refs.get(ALERTS_TABLE), days=int(days), top_days=TOP_SOURCES_DAYS,
                           open_days=OPEN_ALERTS_DAYS).strip()


def path_ref(path: str) -> str:
    """A path-based Delta table as a SQL table reference."""
    return f"delta.{quote(path)}"

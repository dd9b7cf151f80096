"""The analysts' path in one Spark session: view SQL, `pairs` in each format, the HTML report.

Expectations come from the Delta tables read with delta-rs, not from the code under test.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re

import pyarrow as pa
import pytest
from deltalake import DeltaTable

from smb_pipeline.alerts.schema import ALERTS_TABLE
from smb_pipeline.bi.views import VIEWS, path_ref, view_query
from smb_pipeline.cli import commands as cli
from smb_pipeline.model.schemas import PAIRS_TABLE, REJECTS_TABLE
from tests.bi_lake import FIRST_DAY, LAST_DAY, expected_new_pairs, expected_pairs, expected_trend


def _view(spark, bi_lake, name: str, days: int = 7):
    view = next(v for v in VIEWS if v.name == name)
    refs = {t: path_ref(str(bi_lake.lake / t)) for t in (PAIRS_TABLE, REJECTS_TABLE, ALERTS_TABLE)}
    frame = spark.sql(view_query(view, refs, days))
    assert tuple(frame.columns) == view.columns
    return [row.asDict() for row in frame.collect()]


def test_daily_trend_view_counts_pairs_connections_sources_and_rejects(spark, bi_lake):
    rows = {row.pop("day"): row for row in _view(spark, bi_lake, "smb_daily_trend")}
    assert rows == expected_trend(bi_lake)
    assert all(row["rejects"] > 0 for row in rows.values())  # the generator writes bad rows every day


def test_pairs_latest_view_keeps_the_last_days_with_friendly_names(spark, bi_lake):
    rows = _view(spark, bi_lake, "smb_pairs_latest", days=2)
    assert {row["day"] for row in rows} == {LAST_DAY - dt.timedelta(days=1), LAST_DAY}
    got = {(r["day"], r["source_ip"], r["destination_ip"]): r["connections"] for r in rows}
    expected = {(r["event_date"], r["src_ip"], r["dest_ip"]): r["connection_count"]
                for r in bi_lake.rows(PAIRS_TABLE) if r["event_date"] >= LAST_DAY - dt.timedelta(days=1)}
    assert got == expected


def test_top_sources_view_sums_the_last_30_days_per_source(spark, bi_lake):
    rows = {row["source_ip"]: row for row in _view(spark, bi_lake, "smb_top_sources")}
    pairs = bi_lake.rows(PAIRS_TABLE)
    for source, row in rows.items():
        mine = [p for p in pairs if p["src_ip"] == source]
        assert row["connections"] == sum(p["connection_count"] for p in mine)
        assert row["destinations"] == len({p["dest_ip"] for p in mine})
        assert row["days_seen"] == len({p["event_date"] for p in mine})
        assert (row["first_day"], row["last_day"]) == (min(p["event_date"] for p in mine),
                                                       max(p["event_date"] for p in mine))
    assert set(rows) == {p["src_ip"] for p in pairs}


def test_alerts_open_view_lists_the_unsuppressed_alerts_of_the_last_7_days_riskiest_first(spark, bi_lake):
    rows = _view(spark, bi_lake, "smb_alerts_open")
    alerts = bi_lake.rows(ALERTS_TABLE)
    latest = max(r["event_date"] for r in bi_lake.rows(PAIRS_TABLE))
    expected = {r["alert_id"]: (r["detection"], r["src_ip"], r["dest_ip"], r["risk_score"]) for r in alerts
                if not r["suppressed"] and r["event_date"] > latest - dt.timedelta(days=7)}
    assert expected, "the lake must have alerts for this test to mean anything"
    assert {r["alert_id"]: (r["detection"], r["source_ip"], r["destination_ip"], r["risk_score"])
            for r in rows} == expected
    scores = [r["risk_score"] for r in rows]
    assert scores == sorted(scores, reverse=True)


def _pairs(capsys, bi_lake, *args) -> str:
    assert cli.main(["pairs", "--config", str(bi_lake.config_path), "--master", "local[2]", *args]) == 0
    return capsys.readouterr().out


def test_pairs_json_of_a_range_sums_the_days_busiest_first(capsys, bi_lake):
    rows = json.loads(_pairs(capsys, bi_lake, "--start", str(FIRST_DAY), "--end", str(LAST_DAY),
                             "--top", "0", "--format", "json"))
    assert {(r["src_ip"], r["dest_ip"]): r["connections"] for r in rows} == expected_pairs(bi_lake, FIRST_DAY,
                                                                                          LAST_DAY)
    counts = [r["connections"] for r in rows]
    assert counts == sorted(counts, reverse=True)
    latest = {}  # the direction and labels of each pair's latest day, from delta-rs
    for row in sorted(bi_lake.rows(PAIRS_TABLE), key=lambda r: r["event_date"]):
        latest[(row["src_ip"], row["dest_ip"])] = (row["direction"], row["src_label"], row["dest_label"])
    assert {(r["src_ip"], r["dest_ip"]): (r["direction"], r["src_label"], r["dest_label"]) for r in rows} == latest
    assert {r["direction"] for r in rows} >= {"inbound"}


def test_pairs_csv_of_a_day_is_the_top_n(capsys, bi_lake):
    rows = list(csv.DictReader(io.StringIO(_pairs(capsys, bi_lake, "--date", str(LAST_DAY), "--top", "3",
                                                  "--format", "csv"))))
    expected = expected_pairs(bi_lake, LAST_DAY, LAST_DAY)
    assert len(rows) == 3
    assert [int(r["connections"]) for r in rows] == sorted(expected.values(), reverse=True)[:3]
    for row in rows:
        assert expected[(row["src_ip"], row["dest_ip"])] == int(row["connections"])
        assert row["days_seen"] == "1" and row["sources"] == "perimeter"


def test_pairs_table_aligns_columns_under_a_header(capsys, bi_lake):
    lines = _pairs(capsys, bi_lake, "--date", str(LAST_DAY)).splitlines()
    expected = expected_pairs(bi_lake, LAST_DAY, LAST_DAY)
    assert lines[0].split()[:3] == ["src_ip", "dest_ip", "connections"]
    assert len(lines) == 1 + min(20, len(expected))
    src, dest, connections = lines[1].split()[:3]
    assert expected[(src, dest)] == int(connections) == max(expected.values())
    end = lines[0].index("connections") + len("connections")
    assert all(line[end - 1].isdigit() and line[end] == " " for line in lines[1:])  # right-aligned


def test_pairs_bad_arguments_exit_2_before_spark(capsys, bi_lake):
    assert cli.main(["pairs", "--config", str(bi_lake.config_path), "--date", "2026-13-01"]) == 2
    assert cli.main(["pairs", "--config", str(bi_lake.config_path), "--start", "2026-11-02"]) == 2
    assert "--start/--end" in capsys.readouterr().err


def _report_day(bi_lake) -> dt.date:
    """The day after the first with the most new pairs, so the new-pairs section has rows to check."""
    days = [FIRST_DAY + dt.timedelta(days=n) for n in range(1, (LAST_DAY - FIRST_DAY).days + 1)]
    day = max(days, key=lambda d: len(expected_new_pairs(bi_lake, d)))
    assert expected_new_pairs(bi_lake, day), "the generated data should have new pairs on some day"
    return day


@pytest.fixture(scope="module")
def report(bi_lake, tmp_path_factory):
    day = _report_day(bi_lake)
    out = tmp_path_factory.mktemp("report") / "report.html"
    assert cli.main(["report", "--config", str(bi_lake.config_path), "--date", str(day), "--out", str(out),
                     "--master", "local[2]"]) == 0
    return day, out


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<svg.*?</svg>|<[^>]+>", " ", html, flags=re.S))


def test_report_shows_the_day_its_change_new_pairs_rejects_and_accounting(bi_lake, report):
    day, out = report
    html = out.read_text()
    text = _text(html)
    trend = expected_trend(bi_lake)
    today, before = trend[day], trend[day - dt.timedelta(days=1)]
    assert f"pairs {today['pairs']:,}" in text and f"connections {today['connections']:,}" in text
    change = today["connections"] - before["connections"]
    assert (f"{change:+,}" if change else "no change") in text.split("connections", 1)[1][:80]
    fresh = expected_new_pairs(bi_lake, day)
    assert f"New pairs: {len(fresh):,} not seen on any earlier day" in text
    for src, dest in fresh:
        assert f"{src} {dest}" in text
    top_src, top_dest = max(expected_pairs(bi_lake, day, day).items(), key=lambda kv: (kv[1], kv[0]))[0]
    assert f"{top_src} {top_dest}" in text
    rejects = [r for r in bi_lake.rows(REJECTS_TABLE) if r["event_date"] == day]
    for reason in {r["reason"] for r in rejects}:
        count = sum(1 for r in rejects if r["reason"] == reason)
        assert f"perimeter {reason} {count}" in text
    run = next(r for r in bi_lake.rows("pipeline_runs") if r["event_date"] == day and r["status"] == "succeeded")
    assert run["run_id"] in text
    assert f"all {run['rows_read']:,} " in text
    assert html.count("<svg") == 2  # trend and rejects charts, inline
    alerts = [r for r in bi_lake.rows(ALERTS_TABLE) if r["event_date"] == day]
    open_alerts = [r for r in alerts if not r["suppressed"]]
    assert open_alerts, "the generated data should raise alerts on the report's day"
    assert f"Alerts: {len(open_alerts):,} open" in text
    assert f"{len(alerts) - len(open_alerts):,} suppressed by the allowlist" in text
    riskiest = max(open_alerts, key=lambda r: r["risk_score"])
    assert f"{riskiest['severity']} {riskiest['risk_score']} {riskiest['detection']}" in text


def test_report_references_nothing_on_the_network(report):
    html = report[1].read_text()
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", html, re.I)
    assert "@import" not in html and "<script" not in html.lower()
    assert not re.search(r"""url\(\s*["']?(?!#)""", html), "only in-page references (url(#clip)) allowed"
    assert not re.search(r"<link\b", html, re.I)


def test_report_renders_in_headless_chromium(report, tmp_path):
    from tests.screenshot import distinct_colours, screenshot

    png = screenshot(report[1], tmp_path)
    assert distinct_colours(png) > 20, "the rendered page looks blank"


def test_registration_is_idempotent_never_writes_and_skips_missing_tables(spark, bi_lake, tmp_path):
    from deltalake import DeltaTable

    from smb_pipeline.bi.catalog import TABLES, register_catalog
    from smb_pipeline.config import load_config

    config = load_config(bi_lake.config_path)
    versions = {t: DeltaTable(str(bi_lake.lake / t)).version() for t in TABLES}
    first = register_catalog(spark, config, "bi_registration")
    assert register_catalog(spark, config, "bi_registration") == first
    assert {t: DeltaTable(str(bi_lake.lake / t)).version() for t in TABLES} == versions
    trend = spark.table("bi_registration.smb_daily_trend").collect()
    assert {row.day: row.pairs for row in trend} == {d: v["pairs"] for d, v in expected_trend(bi_lake).items()}

    empty = config.model_copy(update={"output": config.output.model_copy(update={"path": str(tmp_path)})})
    notes = register_catalog(spark, empty, "bi_registration_empty")
    assert len(notes) == len(TABLES) + len(VIEWS) and all("skipped" in note for note in notes)
    assert spark.sql("SHOW TABLES IN bi_registration_empty").count() == 0


def test_pairs_and_report_exit_3_naming_the_missing_table(capsys, bi_lake, tmp_path):
    import yaml

    document = yaml.safe_load(bi_lake.config_path.read_text())
    document["output"] = {"path": str(tmp_path / "no-lake")}
    config = tmp_path / "empty.yaml"
    config.write_text(yaml.safe_dump(document))
    assert cli.main(["pairs", "--config", str(config), "--date", str(LAST_DAY), "--master", "local[2]"]) == 3
    assert cli.main(["report", "--config", str(config), "--date", str(LAST_DAY), "--out",
                     str(tmp_path / "r.html"), "--master", "local[2]"]) == 3
    err = capsys.readouterr().err
    assert err.count(f"no Delta table at {tmp_path / 'no-lake'}/smb_allowed_daily") == 2
    assert not (tmp_path / "r.html").exists()


@pytest.mark.parametrize("table, change_feed", [
    (PAIRS_TABLE, True), (ALERTS_TABLE, True), (REJECTS_TABLE, False), ("pipeline_runs", False),
    ("pipeline_claims", False),
])
def test_every_table_is_readable_by_delta_rs_with_its_change_feed(spark, bi_lake, table, change_feed):
    path = str(bi_lake.lake / table)
    rows = DeltaTable(path).to_pyarrow_table().num_rows
    assert rows == spark.read.format("delta").load(path).count()
    if change_feed:
        changes = pa.table(DeltaTable(path).load_cdf(starting_version=0).read_all()).to_pylist()
        inserted = [c for c in changes if c["_change_type"] == "insert"]
        assert len(inserted) >= rows > 0  # every current row arrived through the feed


def test_pairs_between_merges_the_days_sets_sorted_without_a_lambda(spark):
    from smb_pipeline.bi.queries import pairs_between
    from smb_pipeline.model.schemas import PAIRS_SCHEMA
    from tests.plans import optimized_plan

    day1, day2 = dt.date(2026, 11, 1), dt.date(2026, 11, 2)
    t1, t2 = dt.datetime(2026, 11, 1, 5, tzinfo=dt.timezone.utc), dt.datetime(2026, 11, 2, 6, tzinfo=dt.timezone.utc)
    rows = [(day1, "203.0.113.5", "10.0.0.5", 2, t1, t1, 10, 20, [445], ["smb"], ["fw-b"], ["d1"], 2, "id1"),
            (day2, "203.0.113.5", "10.0.0.5", 3, t2, t2, 1, 2, [445, 139], ["smb", "netbios-ss"], ["fw-a", "fw-b"],
             ["d1"], 3, "id2")]
    frame = pairs_between(spark.createDataFrame(rows, PAIRS_SCHEMA), day1, day2)
    (pair,) = frame.collect()
    assert (pair.connections, pair.days_seen, pair.dest_ports, pair.apps, pair.sources) == (
        5, 2, [139, 445], ["netbios-ss", "smb"], ["fw-a", "fw-b"])
    assert "lambdafunction" not in optimized_plan(frame)

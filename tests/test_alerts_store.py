"""smb_alerts on disk: schema evolution of the pair table, MERGE idempotence (stable alert_id and
created_at), allowlist changes through `detect`, the JSON-lines export and the change feed."""

from __future__ import annotations

import datetime as dt
import json
import textwrap
import threading

import pytest
from deltalake import DeltaTable as RustTable
from pyspark.sql import functions as F

from smb_pipeline.alerts.classify import with_direction
from smb_pipeline.alerts.run import address_reference, detect_days
from smb_pipeline.cli import commands as cli
from smb_pipeline.config import load_config
from smb_pipeline.model.schemas import PAIRS_SCHEMA
from smb_pipeline.storage import delta_io

D = dt.date(2026, 11, 20)
T = dt.datetime(2026, 11, 20, 8, 0)


def _pair(day, src, dest, n):
    return (day, src, dest, n, T, T, 0, 0, [445], ["smb"], ["perimeter"], ["fw1"], n, f"{day}|{src}|{dest}")


def _config(tmp_path, allowlist: bool):
    lines = [f"sources: [{{name: perimeter, format: cim, path: {tmp_path}/in}}]",
             "company_subnets: ['10.0.0.0/8', {cidr: 10.9.0.0/16, label: files}]",
             f"output: {{path: {tmp_path}/lake}}"]
    if allowlist:
        (tmp_path / "allow.yaml").write_text(textwrap.dedent("""\
            - {id: partner, src: 9.9.9.0/24, dest_ports: [445], reason: partner backup, owner: storage}
            """))
        lines.append("alerts: {allowlist: allow.yaml}")
    path = tmp_path / ("allow.yaml.config" if allowlist else "plain.yaml")
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture(scope="module")
def lake(spark, tmp_path_factory):
    """A pair table whose old day predates the new columns, then a day written with them."""
    tmp = tmp_path_factory.mktemp("alerts_store")
    plain = _config(tmp, allowlist=False)
    config = load_config(plain)
    path = config.output.table_path("smb_allowed_daily")
    old = spark.createDataFrame([_pair(D - dt.timedelta(days=1), "8.8.8.8", "10.9.0.1", 4)], PAIRS_SCHEMA)
    delta_io.replace_days(old, path, D - dt.timedelta(days=1), D - dt.timedelta(days=1))
    new = spark.createDataFrame([_pair(D, "8.8.8.8", "10.9.0.1", 3), _pair(D, "9.9.9.9", "10.0.0.2", 2)],
                                PAIRS_SCHEMA)
    delta_io.enable_change_feed(spark, path)
    delta_io.replace_days(with_direction(new, address_reference(spark, config)), path, D, D)
    return tmp, plain, config


def test_pair_table_gains_direction_columns_and_its_change_feed(spark, lake):
    _, _, config = lake
    path = config.output.table_path("smb_allowed_daily")
    rows = spark.read.format("delta").load(path).orderBy("event_date", "src_ip").select(
        "event_date", "src_ip", "direction", "src_label", "dest_label").collect()
    assert [tuple(r) for r in rows] == [
        (D - dt.timedelta(days=1), "8.8.8.8", None, None, None),  # old partition: null until recomputed
        (D, "8.8.8.8", "inbound", None, "files"),
        (D, "9.9.9.9", "inbound", None, None),
    ]
    assert RustTable(path).metadata().configuration.get("delta.enableChangeDataFeed") == "true"


def _alerts(spark, config):
    table = spark.read.format("delta").load(config.output.table_path("smb_alerts"))
    return {r.src_ip: r for r in table.where(F.col("detection") == "smb_inbound_allowed").collect()}


def test_detect_is_idempotent_and_allowlist_changes_update_in_place(spark, lake, capsys):
    tmp, _, config = lake
    report = detect_days(spark, config, D, D)
    assert report.counts == {"smb_inbound_allowed": (2, 0)}
    assert report.warming == {"new_pair": [D], "volume_spike": [D]}
    first = _alerts(spark, config)
    assert first["8.8.8.8"].dest_label == "files" and first["8.8.8.8"].suppressed is False
    path = config.output.table_path("smb_alerts")
    assert RustTable(path).metadata().partition_columns == ["event_date"]
    assert RustTable(path).metadata().configuration.get("delta.enableChangeDataFeed") == "true"

    rerun = detect_days(spark, config, D, D)
    assert _alerts(spark, config) == first  # ids, created_at and updated_at untouched
    with_allowlist = load_config(_config(tmp, allowlist=True))
    assert cli.main(["detect", "--config", str(tmp / "allow.yaml.config"), "--start", str(D), "--end", str(D),
                     "--master", "local[2]", "--log-file", str(tmp / "log")]) == 0
    assert "smb_inbound_allowed         1 alert(s), 1 suppressed" in capsys.readouterr().out
    after = _alerts(spark, with_allowlist)
    assert (after["9.9.9.9"].suppressed, after["9.9.9.9"].suppressed_by) == (True, "partner")
    assert after["9.9.9.9"].alert_id == first["9.9.9.9"].alert_id
    assert after["9.9.9.9"].created_at == first["9.9.9.9"].created_at
    assert after["9.9.9.9"].updated_at > first["9.9.9.9"].updated_at
    assert after["8.8.8.8"] == first["8.8.8.8"]

    def export(*args):
        assert cli.main(["alerts", "--config", str(tmp / "allow.yaml.config"), *args, "--master", "local[2]",
                         "--log-file", str(tmp / "log")]) == 0
        captured = capsys.readouterr()
        return [json.loads(line) for line in captured.out.splitlines()], captured.err

    by_date, err = export("--date", str(D))
    assert [a["src_ip"] for a in by_date] == ["8.8.8.8"]  # the suppressed one only on request
    assert f"smb_alerts latest version: {delta_io.table_version(spark, path)}" in err
    assert set(by_date[0]) == {f.name for f in spark.read.format("delta").load(path).schema.fields}
    assert by_date[0]["event_date"] == str(D) and by_date[0]["dest_ports"] == [445]
    assert dt.datetime.fromisoformat(by_date[0]["created_at"]).tzinfo is not None
    by_range, _ = export("--start", str(D - dt.timedelta(days=3)), "--end", str(D), "--include-suppressed")
    assert sorted(a["src_ip"] for a in by_range) == ["8.8.8.8", "9.9.9.9"]
    changed, _ = export("--since-version", str(rerun.version), "--include-suppressed")
    assert [(a["src_ip"], a["suppressed_by"]) for a in changed] == [("9.9.9.9", "partner")]
    nothing, _ = export("--since-version", str(delta_io.table_version(spark, path)))
    assert nothing == []


def test_a_failed_run_undoes_its_days_in_smb_alerts_too(spark, lake):
    from smb_pipeline.model.schemas import REJECTS_SCHEMA
    from smb_pipeline.run.writes import RunControl, write_outputs

    tmp, _, config = lake
    alerts_path = config.output.table_path("smb_alerts")
    before = sorted(tuple(r) for r in spark.read.format("delta").load(alerts_path).collect())
    pairs = spark.createDataFrame([_pair(D, "7.7.7.7", "10.0.0.3", 1)], PAIRS_SCHEMA)
    rejects = spark.createDataFrame([], REJECTS_SCHEMA)
    changed = load_config(tmp / "plain.yaml").model_copy(update={"exclude_company": "both"})

    def alerts_then_fail():
        detect_days(spark, changed, D, D)  # commits new alerts for D ...
        raise RuntimeError("driver lost")  # ... then the run fails

    with pytest.raises(RuntimeError, match="driver lost"):
        write_outputs(spark, config, D, D, with_direction(pairs, address_reference(spark, config)), rejects,
                      RunControl(), alerts_then_fail)
    assert sorted(tuple(r) for r in spark.read.format("delta").load(alerts_path).collect()) == before
    restored = spark.read.format("delta").load(config.output.table_path("smb_allowed_daily"))
    assert sorted(r.src_ip for r in restored.where(F.col("event_date") == D).collect()) == ["8.8.8.8", "9.9.9.9"]


def test_two_runs_turning_on_the_change_feed_at_once_both_go_on(spark, tmp_path):
    path = str(tmp_path / "smb_allowed_daily")
    assert not delta_io.enable_change_feed(spark, path)  # no table yet: its creator sets the property
    delta_io.replace_days(spark.createDataFrame([_pair(D, "8.8.8.8", "10.9.0.1", 1)], PAIRS_SCHEMA), path, D, D)
    barrier, outcomes = threading.Barrier(2), []

    def turn_on() -> None:
        barrier.wait()
        try:
            outcomes.append(delta_io.enable_change_feed(spark, path))
        except Exception as exc:  # recorded, not lost in the thread
            outcomes.append(f"{type(exc).__name__}: {str(exc)[:200]}")

    threads = [threading.Thread(target=turn_on) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes == [True, True]
    assert RustTable(path).metadata().configuration.get("delta.enableChangeDataFeed") == "true"

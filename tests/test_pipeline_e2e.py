"""End to end over a generated archive, with expectations computed here, independently of the pipeline.

The expected pair table is derived from the Parquet files with pyarrow and Python's
`ipaddress`, not with any of the code under test.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import ipaddress
import os
import re
import threading
from collections import defaultdict
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from pyspark.sql import functions as F

from smb_pipeline.config import config_from_dict
from smb_pipeline.demo.generate import COMPANY_SUBNETS, generate_cim_archive
from smb_pipeline.engine.session import session_settings
from smb_pipeline.errors import InputError
from smb_pipeline.model.columns import ROW_INDEX_COLUMN
from smb_pipeline.run import outputs
from smb_pipeline.run.outputs import build_outputs
from smb_pipeline.run.pipeline import run_pipeline
from smb_pipeline.run.staging import canonical_candidates, census, format_context, stage_sources
from smb_pipeline.sources import reader
from smb_pipeline.sources.reader import read_source
from smb_pipeline.storage import delta_io
from tests.plans import executed_plan, generated_code, generated_stages, parquet_scans

FIRST_DAY = dt.date(2026, 11, 1)
DAYS = 3
APPS = {"smb", "ms-ds-smb", "netbios-ss"}
NETWORKS = [ipaddress.ip_network(c) for c in COMPANY_SUBNETS]


def _address(text):
    """Python's reading of an address, allowing the zero-padded IPv4 the pipeline reads as decimal."""
    if text is None:
        return None
    text = text.strip()
    if re.fullmatch(r"\d{1,3}(\.\d{1,3}){3}", text):
        text = ".".join(str(int(octet)) for octet in text.split("."))
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if address.version == 6 and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


def _folder_rows(archive: Path):
    for folder in sorted(archive.glob("dt=*")):
        folder_day = dt.date.fromisoformat(folder.name[3:])
        for row in pq.read_table(folder).to_pylist():
            yield folder_day, row


def expected_run(archive: Path, start: dt.date, end: dt.date):
    """Pairs and counts of a run, computed from the files with plain Python."""
    pairs = defaultdict(lambda: {"count": 0, "first": None, "last": None, "bytes_in": 0, "bytes_out": 0})
    counts = defaultdict(int)
    for folder_day, row in _folder_rows(archive):
        when = row["_time"]
        day = when.date() if when is not None else folder_day
        if not start <= day <= end:
            continue
        counts["rows_read"] += 1
        action = (row["action"] or "").lower()
        app = (row["app"] or "").lower()
        port = row["dest_port"]
        if action != "allowed" or not (port in (139, 445) or app in APPS):
            counts["not_allowed_smb"] += 1
            continue
        src, dest = _address(row["src_ip"]), _address(row["dest_ip"])
        if when is None or src is None or dest is None:
            counts["rejected"] += 1
            continue
        if any(src.version == n.version and src in n for n in NETWORKS):
            counts["excluded"] += 1
            continue
        counts["aggregated"] += 1
        pair = pairs[(day, str(src), str(dest))]
        pair["count"] += 1
        naive = when.replace(tzinfo=None)
        pair["first"] = min(pair["first"] or naive, naive)
        pair["last"] = max(pair["last"] or naive, naive)
        pair["bytes_in"] += row["bytes_in"]
        pair["bytes_out"] += row["bytes_out"]
    table = sorted(
        (day, src, dest, p["count"], p["first"], p["last"], p["bytes_in"], p["bytes_out"])
        for (day, src, dest), p in pairs.items()
    )
    return table, dict(counts)


def _config(archive: Path, lake: Path, **extra):
    document = {
        "sources": [{"name": "perimeter", "format": "cim", "path": str(archive)}],
        "company_subnets": list(COMPANY_SUBNETS),
        "output": {"path": str(lake)},
    }
    document.update(extra)
    return config_from_dict(document)


def _pair_rows(spark, lake: Path):
    frame = spark.read.format("delta").load(str(lake / "smb_allowed_daily"))
    return sorted(
        tuple(row)
        for row in frame.select("event_date", "src_ip", "dest_ip", "connection_count", "first_seen", "last_seen",
                                "bytes_in", "bytes_out").collect()
    )


@pytest.fixture(scope="module")
def archive(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("archive") / "cim"
    generate_cim_archive(path, days=DAYS, rows_per_day=1500, seed=11, first_day=FIRST_DAY)
    return path


@pytest.fixture(scope="module")
def full_run(spark, archive, tmp_path_factory):
    lake = tmp_path_factory.mktemp("lake")
    config = _config(archive, lake)
    end = FIRST_DAY + dt.timedelta(days=DAYS - 1)
    return config, lake, run_pipeline(spark, config, FIRST_DAY, end)


def test_pair_table_matches_independent_expectation(spark, archive, full_run):
    _, lake, result = full_run
    expected, _ = expected_run(archive, result.start, result.end)
    assert len(expected) > 10
    assert _pair_rows(spark, lake) == expected
    assert result.pairs_written == len(expected)


def test_summary_accounts_for_every_row(archive, full_run):
    _, _, result = full_run
    _, counts = expected_run(archive, result.start, result.end)
    (source,) = result.sources
    got = {name: getattr(source, name) for name in counts}
    assert got == counts
    assert source.not_allowed_smb + source.rejected + source.excluded + source.aggregated == source.rows_read
    assert min(counts.values()) > 0


def test_rejects_keep_reason_raw_row_and_file(spark, full_run):
    _, lake, result = full_run
    rejects = spark.read.format("delta").load(str(lake / "rejected_events"))
    rows = rejects.collect()
    assert len(rows) == result.sources[0].rejected
    reasons = {row.reason for row in rows}
    assert reasons == {"invalid_src_ip", "invalid_dest_ip", "invalid_time"}
    bad_src = next(row for row in rows if row.reason == "invalid_src_ip" and '"999.1.1.1"' in row.raw)
    assert '"dest_port":445' in bad_src.raw
    assert bad_src.file_path.endswith(".parquet") and "dt=" in bad_src.file_path
    assert "999.1.1.1" in bad_src.detail


def test_one_day_run_assigns_late_rows_by_event_time(spark, archive, tmp_path):
    day = FIRST_DAY + dt.timedelta(days=1)
    run_pipeline(spark, _config(archive, tmp_path), day, day)
    expected, _ = expected_run(archive, day, day)
    assert _pair_rows(spark, tmp_path) == expected
    late = [row for row in expected if row[5].time() >= dt.time(23, 59, 50)]
    assert late, "the archive holds events logged into the next day's folder"


def test_a_config_built_in_code_with_relative_paths_runs_in_its_working_directory(spark, archive, tmp_path,
                                                                                   monkeypatch):
    """Relative paths of a dict config mean paths in Python's working directory, which Spark's
    JVM does not share after a `chdir`, and Delta's SQL names a table only by an absolute path."""
    monkeypatch.chdir(tmp_path)
    config = _config(Path(os.path.relpath(archive, tmp_path)), Path("lake"))
    assert config.output.path == str(tmp_path / "lake")
    day = FIRST_DAY + dt.timedelta(days=1)
    result = run_pipeline(spark, config, day, day)
    assert _pair_rows(spark, tmp_path / "lake") == expected_run(archive, day, day)[0]
    assert result.versions["smb_allowed_daily"] == result.versions["rejected_events"] == 0


def test_rerun_replaces_days_and_gives_the_same_table(spark, archive, tmp_path):
    config = _config(archive, tmp_path)
    end = FIRST_DAY + dt.timedelta(days=DAYS - 1)
    run_pipeline(spark, config, FIRST_DAY, end)
    first = _pair_rows(spark, tmp_path)
    rejects_first = spark.read.format("delta").load(str(tmp_path / "rejected_events")).count()
    run_pipeline(spark, config, FIRST_DAY, end)
    run_pipeline(spark, config, FIRST_DAY, FIRST_DAY)
    assert _pair_rows(spark, tmp_path) == first
    assert spark.read.format("delta").load(str(tmp_path / "rejected_events")).count() == rejects_first
    assert delta_io.table_version(spark, str(tmp_path / "smb_allowed_daily")) == 2


def _clean_copy(archive: Path, day: dt.date, out: Path) -> Path:
    """`day`'s files of `archive` without the rows the pipeline rejects (no time, or an address
    that is none), as one file under `out`."""
    table = pq.read_table(archive / f"dt={day.isoformat()}")
    clean = [i for i, row in enumerate(table.to_pylist())
             if row["_time"] is not None and _address(row["src_ip"]) and _address(row["dest_ip"])]
    (out / f"dt={day.isoformat()}").mkdir(parents=True)
    pq.write_table(table.take(clean), out / f"dt={day.isoformat()}" / "part-0.parquet")
    return out


def test_a_rerun_without_rejected_rows_empties_its_days_rejects_without_reading_the_cache(spark, archive, tmp_path):
    lake = tmp_path / "lake"
    dirty = run_pipeline(spark, _config(archive, lake), FIRST_DAY, FIRST_DAY)
    assert dirty.sources[0].rejected > 0
    config = _config(_clean_copy(archive, FIRST_DAY, tmp_path / "clean"), lake)
    planned = build_outputs(spark, config, FIRST_DAY, FIRST_DAY)
    try:
        plan = executed_plan(planned.rejects)
    finally:
        planned.release()
    assert "LocalTableScan" in plan and "InMemoryTableScan" not in plan
    clean = run_pipeline(spark, config, FIRST_DAY, FIRST_DAY)
    assert clean.sources[0].rejected == 0 and clean.sources[0].aggregated > 0
    assert spark.read.format("delta").load(str(lake / "rejected_events")).count() == 0
    assert clean.versions["rejected_events"] == dirty.versions["rejected_events"] + 1


def test_tables_are_readable_by_delta_rs(full_run, spark):
    from deltalake import DeltaTable

    _, lake, result = full_run
    pairs = DeltaTable(str(lake / "smb_allowed_daily"))
    assert pairs.metadata().partition_columns == ["event_date"]
    table = pairs.to_pyarrow_table()
    assert table.num_rows == result.pairs_written
    assert sum(table.column("connection_count").to_pylist()) == sum(
        r.connection_count for r in spark.read.format("delta").load(str(lake / "smb_allowed_daily")).collect()
    )
    assert DeltaTable(str(lake / "rejected_events")).to_pyarrow_table().num_rows == result.sources[0].rejected


def test_failed_write_leaves_tables_as_they_were(spark, archive, tmp_path, monkeypatch):
    config = _config(archive, tmp_path)
    run_pipeline(spark, config, FIRST_DAY, FIRST_DAY)
    before = _pair_rows(spark, tmp_path)
    versions = {t: delta_io.table_version(spark, str(tmp_path / t)) for t in ("smb_allowed_daily", "rejected_events")}
    real_replace = delta_io.replace_days

    def fail_on_rejects(frame, path, start, end):
        if path.endswith("rejected_events"):
            raise OSError("disk full")
        return real_replace(frame, path, start, end)

    monkeypatch.setattr(delta_io, "replace_days", fail_on_rejects)
    with pytest.raises(OSError, match="disk full"):
        run_pipeline(spark, config, FIRST_DAY, FIRST_DAY + dt.timedelta(days=2))
    assert _pair_rows(spark, tmp_path) == before
    restored = spark.read.format("delta").load(str(tmp_path / "smb_allowed_daily"))
    assert restored.select(F.max("event_date")).first()[0] == FIRST_DAY
    assert delta_io.table_version(spark, str(tmp_path / "rejected_events")) == versions["rejected_events"]


def test_prefilter_pushes_no_text_comparison_and_folders_are_pruned(spark, archive, tmp_path):
    config = _config(archive, tmp_path)
    day = FIRST_DAY + dt.timedelta(days=1)
    source = read_source(spark, config.sources[0], day, day)
    (scan,) = parquet_scans(canonical_candidates(source, format_context(source, config)))
    # Actions and app ids are compared trimmed and in any case, which Parquet cannot do: the
    # prefilter runs in Spark's filter, and no byte-comparing IN reaches the scan.
    assert "In(action," not in scan and "In(app," not in scan, scan
    # Folders are pruned before any file is opened: one day of margin each side.
    folders = sorted({path.split("/")[-2] for group in source.groups for path in group.files})
    assert folders == ["dt=2026-11-01", "dt=2026-11-02", "dt=2026-11-03"]


def test_the_prefilter_lower_cases_without_icu(spark, archive, tmp_path):
    """The session lower-cases with the JVM's mappings: ICU's first use in a JVM costs seconds."""
    config = _config(archive, tmp_path)
    source = read_source(spark, config.sources[0], FIRST_DAY, FIRST_DAY)
    code = "\n".join(generated_code(canonical_candidates(source, format_context(source, config))))
    assert "CollationSupport.Lower.execBinary(" in code  # the action's comparison
    assert "ICU" not in code


@pytest.mark.perf
def test_survivor_validation_is_code_generated(spark, archive, tmp_path):
    """A higher-order function (or any expression without code generation) in a projection makes
    Spark interpret the whole projection; that made validating the survivors the slowest step."""
    config = _config(archive, tmp_path)
    source = read_source(spark, config.sources[0], FIRST_DAY, FIRST_DAY)
    plan = executed_plan(stage_sources([source], config, FIRST_DAY, FIRST_DAY).frame)
    projects = [line.strip() for line in plan.splitlines() if "Project [" in line]
    assert len(projects) > 5, plan
    interpreted = [line[:120] for line in projects if not re.match(r"^(\+- |:- )?\*\(\d+\) Project", line)]
    assert interpreted == [], interpreted


@pytest.mark.perf
@pytest.mark.parametrize("mode", ["source", "both"])
def test_the_rows_a_run_persists_run_compiled_code(spark, archive, tmp_path, mode):
    """Every generated method of the persisted rows' plan stays under the JIT's 8,000 bytes, with
    one company-subnet join (`source`) or two (`both`): the destination's text, the status and
    the join in one stage made an 8,472-byte method, which ran every survivor in the interpreter."""
    config = _config(archive, tmp_path, exclude_company=mode)
    source = read_source(spark, config.sources[0], FIRST_DAY, FIRST_DAY)
    staged = stage_sources([source], config, FIRST_DAY, FIRST_DAY).frame
    stages = generated_stages(outputs.company_flagged(staged, config))
    assert len(stages) >= 6, stages
    assert [(plan.splitlines()[0][:100], size) for plan, size in stages if size >= 8000] == []


@pytest.mark.perf
def test_the_scan_has_generated_code_of_its_own(spark, archive, tmp_path):
    """The loop that decodes every row is compiled apart from the survivors' normalization: in
    one generated class with it, the JIT handled that loop badly (smb_pipeline.engine.codegen)."""
    config = _config(archive, tmp_path)
    source = read_source(spark, config.sources[0], FIRST_DAY, FIRST_DAY)
    stages = generated_stages(stage_sources([source], config, FIRST_DAY, FIRST_DAY).frame)
    (scan_stage,) = [text for text, _ in stages if "FileScan" in text and "CollectMetrics" not in text]
    operators = [line for line in scan_stage.splitlines() if "*(" in line]
    assert all(re.search(r"\*\(\d+\) (Project|Filter|ColumnarToRow)", line) for line in operators), operators
    assert "StructsToJson" not in scan_stage


def test_the_scan_decodes_only_the_columns_the_run_reads(spark, archive, tmp_path):
    """The staged rows are narrowed to what the counts and the tables read before they are cached,
    so the archive's other columns (here `rule` and `transport`) are not decoded for every row."""
    config = _config(archive, tmp_path)
    source = read_source(spark, config.sources[0], FIRST_DAY, FIRST_DAY)
    plan = executed_plan(outputs.company_flagged(stage_sources([source], config, FIRST_DAY, FIRST_DAY).frame,
                                                 config))
    (main_scan,) = [schema for schema in re.findall(r"ReadSchema: struct<([^>]*)>", plan) if "src_ip" in schema]
    read = [field.split(":")[0] for field in main_scan.split(",")]
    assert "rule" not in read and "transport" not in read, read
    assert {"_time", "src_ip", "dest_ip", "src_port", "dest_port", "action", "app"} <= set(read), read


def test_the_run_declares_its_cache_uncompressed_and_leaves_the_session_as_it_was(spark, archive, tmp_path,
                                                                                 monkeypatch):
    """The setting applies to every cache the session declares, so it is set only while the run
    declares its own, not left on a session users may share."""
    key = "spark.sql.inMemoryColumnarStorage.compressed"
    during: list[str | None] = []
    frames = type(spark.range(1))
    persist = frames.persist

    def seen_while_declaring(frame, *args, **kwargs):
        during.append(spark.conf.get(key, None))
        return persist(frame, *args, **kwargs)

    monkeypatch.setattr(frames, "persist", seen_while_declaring)
    assert spark.conf.get(key, None) in (None, "true")  # the session as built: Spark's default
    build_outputs(spark, _config(archive, tmp_path), FIRST_DAY, FIRST_DAY).release()
    assert during == ["false"]
    assert spark.conf.get(key, None) in (None, "true")


def test_a_cache_is_compressed_or_not_as_the_session_said_when_it_was_declared(spark):
    """Why the run sets it around `persist`: Spark plans a cache with a copy of the session's
    settings when it is declared, and fills it later with those."""
    rows = spark.range(50_000).select(F.lit("x" * 100).alias("text"), (F.col("id") % 3).alias("n"))
    sizes = {}
    for setting in ({}, outputs.UNCOMPRESSED_CACHE):
        spark.catalog.clearCache()
        with session_settings(spark, setting):
            cached = rows.persist()
        cached.count()  # filled now, with the setting gone
        sizes[bool(setting)] = sum(rdd.memSize() for rdd in spark.sparkContext._jsc.sc().getRDDStorageInfo())
        cached.unpersist()
    assert sizes[True] > 10 * sizes[False] > 0, sizes


def test_the_staged_rows_plan_is_built_while_the_census_runs(spark, archive, tmp_path, monkeypatch):
    """Building the plan is driver work and the census the executors': the census waits here
    until the plan's building has begun, which a run that builds it after the census never does.
    The census keeps the caller's thread (its job group and tags), the plan is built on another."""
    building = threading.Event()
    census_saw_building: list[bool] = []
    census_threads: list[threading.Thread] = []
    stage, count = outputs.stage_sources, outputs.count_rows

    def staging(*args, **kwargs):
        building.set()
        return stage(*args, **kwargs)

    def census(*args, **kwargs):
        census_saw_building.append(building.wait(timeout=20))
        census_threads.append(threading.current_thread())
        return count(*args, **kwargs)

    monkeypatch.setattr(outputs, "stage_sources", staging)
    monkeypatch.setattr(outputs, "count_rows", census)
    build_outputs(spark, _config(archive, tmp_path), FIRST_DAY, FIRST_DAY).release()
    assert census_saw_building == [True]
    assert census_threads == [threading.current_thread()]


def test_pairs_are_aggregated_and_written_with_one_shuffle(spark, archive, tmp_path):
    """The kept rows are grouped within day partitions, so the writer's one-file-per-day
    repartition reuses that shuffle instead of adding a second one."""
    config = _config(archive, tmp_path)
    outputs = build_outputs(spark, config, FIRST_DAY, FIRST_DAY + dt.timedelta(days=1))
    try:
        plan = executed_plan(outputs.pairs.repartition(delta_io.PARTITION))
    finally:
        outputs.release()
    shuffles = [line for line in plan.splitlines() if "Exchange hashpartitioning(" in line]
    assert len(shuffles) == 1, plan
    assert "hashpartitioning(event_date" in shuffles[0]


def test_a_failure_while_planning_the_outputs_releases_every_cache(spark, archive, tmp_path, monkeypatch):
    def _nothing_cached() -> bool:
        return spark._jsparkSession.sharedState().cacheManager().isEmpty()

    spark.catalog.clearCache()

    def fail(frame, **options):
        raise RuntimeError("planning failed")

    monkeypatch.setattr(outputs, "aggregate_daily_pairs", fail)
    with pytest.raises(RuntimeError, match="planning failed"):
        build_outputs(spark, _config(archive, tmp_path), FIRST_DAY, FIRST_DAY)
    assert _nothing_cached()


def test_a_normalizer_that_loses_rows_stops_the_run(spark, archive, tmp_path, monkeypatch):
    """The census no longer counts the prefilter's survivors: the main scan counts what its
    normalization takes in and gives out, and a difference stops the run before any write."""
    cim = reader.FORMATS["cim"]

    def lossy(frame, fields, context, keep):
        canonical = cim.normalize(frame, fields, context, keep)
        return canonical.filter(F.col("dest_port") != 445) if ROW_INDEX_COLUMN in keep else canonical

    monkeypatch.setitem(reader.FORMATS, "cim", dataclasses.replace(cim, normalize=lossy))
    with pytest.raises(RuntimeError, match=r"rows passed the prefilter but \d+ were normalized"):
        run_pipeline(spark, _config(archive, tmp_path / "lake"), FIRST_DAY, FIRST_DAY)
    assert not (tmp_path / "lake" / "smb_allowed_daily").exists()


def test_census_brings_back_one_group_per_requested_day_and_one_for_the_rest(spark, archive, tmp_path):
    """Garbage times must not send one row per distinct day to the driver."""
    config = _config(archive, tmp_path)
    day = FIRST_DAY + dt.timedelta(days=1)
    source = read_source(spark, config.sources[0], day, day)
    rows = census(source, format_context(source, config), day, day).collect()
    assert sorted((row.event_date for row in rows), key=str) == [day, None]
    assert sum(row.rows_read for row in rows) == sum(group.frame.count() for group in source.groups)


@pytest.mark.perf
def test_only_the_main_scan_reads_file_metadata_and_only_path_and_row_index(spark, archive, tmp_path):
    """A `_metadata` column that nothing reads still made the census scan fill every metadata
    field of every row. The main scan needs the path and the row index (the key by which a
    rejected row's raw JSON is read again), nothing else of `_metadata`."""
    config = _config(archive, tmp_path)
    source = read_source(spark, config.sources[0], FIRST_DAY, FIRST_DAY)
    context = format_context(source, config)
    (census_scan,) = parquet_scans(census(source, context, FIRST_DAY, FIRST_DAY))
    (main_scan,) = parquet_scans(canonical_candidates(source, context))
    assert "file_path" not in census_scan and "row_index" not in census_scan, census_scan
    assert "file_path" in main_scan and "row_index" in main_scan, main_scan
    assert "file_size" not in main_scan and "file_modification_time" not in main_scan, main_scan


def test_missing_required_column_names_source_file_and_column(spark, tmp_path):
    archive = tmp_path / "broken" / "dt=2026-11-01"
    spark.createDataFrame([("1.1.1.1",)], "src_ip string").write.parquet(str(archive))
    config = _config(tmp_path / "broken", tmp_path / "lake")
    with pytest.raises(InputError) as error:
        run_pipeline(spark, config, FIRST_DAY, FIRST_DAY)
    message = str(error.value)
    assert message.startswith("source 'perimeter' (cim): required column '_time'")
    assert ".parquet" in message and message.endswith("columns present: src_ip")


def test_tables_registered_in_the_catalog_when_a_database_is_set(spark, archive, tmp_path):
    config = _config(archive, tmp_path, output={"path": str(tmp_path / "lake"), "database": "smb_e2e"})
    result = run_pipeline(spark, config, FIRST_DAY, FIRST_DAY)
    registered = spark.sql("SELECT count(*) AS n FROM smb_e2e.smb_allowed_daily").first().n
    assert registered == result.pairs_written
    assert spark.sql("SELECT count(*) AS n FROM smb_e2e.rejected_events").first().n == result.sources[0].rejected


@pytest.mark.perf
def test_census_days_come_from_epoch_arithmetic(spark, archive, tmp_path):
    """to_date(_time) ran java.time for every row read (a tenth of the census CPU at 50M rows)."""
    config = _config(archive, tmp_path)
    source = read_source(spark, config.sources[0], FIRST_DAY, FIRST_DAY)
    plan = executed_plan(census(source, format_context(source, config), FIRST_DAY, FIRST_DAY))
    assert "date_from_unix_date" in plan and "unix_seconds(_time" in plan
    assert not re.search(r"cast\(_time#\d+ as date\)", plan), plan


@pytest.mark.perf
def test_a_rerun_reuses_the_generated_classes(spark, archive, tmp_path):
    """Spark keeps 100 generated classes by default and a run generates about as many: each run
    compiled most of them again (96 here), and the JIT started over on their code (engine.session).
    Delta's reading of a new table version may generate a class or two."""
    compilations = spark._jvm.org.apache.spark.metrics.source.CodegenMetrics.METRIC_COMPILATION_TIME()
    config = _config(archive, tmp_path / "lake", alerts={"enabled": False})
    for _ in range(2):  # the first creates the tables, the second replaces their days
        run_pipeline(spark, config, FIRST_DAY, FIRST_DAY)
    before = compilations.getCount()
    run_pipeline(spark, config, FIRST_DAY, FIRST_DAY)
    assert compilations.getCount() - before <= 4, "classes compiled again"

"""`make bench` / `make bench-scale`: the job against a native Spark peer, a lean floor and DuckDB.

Per size: the archive (generated once, then reused); the DuckDB reference twice (fresh
connection, profiled, and again: warm), its top operators printed and a nested-loop plan
refused; then each Spark variant (`bench.spark_runs`: the job, the native peer, the lean
floor) in its own fresh JVM, first run and warm run, the job's and the peer's tables
checked against the reference. Printed: fresh and warm seconds, ratios job/peer and
job/DuckDB, the CPU other users of the machine took meanwhile. `--scale` runs the sizes of
BENCH_SCALE_ROWS and prints each variant's marginal cost per 10M rows.

Environment: BENCH_ROWS (10000000), BENCH_SCALE_ROWS (10000000,50000000), BENCH_DAYS (7),
BENCH_SEED, BENCH_WORK (bench/work), BENCH_DRIVER_MEMORY (4g), BENCH_SPARK_CONF (JSON object
of extra Spark conf, every variant), BENCH_THREADS (2: local[N] and DuckDB threads),
BENCH_PROFILE (1: the job's and the peer's per-stage profile to BENCH_WORK), BENCH_RESULTS
(bench/results.jsonl; empty to not append), BENCH_VARIANTS (job,peer,lean).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb

from bench.archive import BenchArchive, ensure_archive
from bench.measure import BENCH_DIR, CpuShare, RssSampler, machine_facts
from bench.reference_duckdb import ReferenceRun, format_operators, reference_pairs
from bench.tables import compare_pairs, read_delta_pairs

COMPARED_VARIANTS = ("job", "peer")  # the lean floor keeps company sources: a different table
LABELS = {"job": "the job (run_pipeline)", "peer": "native Spark peer", "lean": "lean floor",
          "duckdb": "DuckDB reference"}


@dataclass(frozen=True)
class Settings:
    days: int
    seed: int
    cores: int
    workdir: Path
    driver_memory: str
    extra_conf: dict
    profile: bool
    variants: tuple[str, ...]

    @staticmethod
    def from_env() -> Settings:
        return Settings(
            days=int(os.environ.get("BENCH_DAYS", "7")), seed=int(os.environ.get("BENCH_SEED", "20260105")),
            cores=int(os.environ.get("BENCH_THREADS", "2")),
            workdir=Path(os.environ.get("BENCH_WORK", str(BENCH_DIR / "work"))).resolve(),
            driver_memory=os.environ.get("BENCH_DRIVER_MEMORY", "4g"),
            extra_conf=json.loads(os.environ.get("BENCH_SPARK_CONF", "{}")),
            profile=os.environ.get("BENCH_PROFILE", "1") not in ("", "0"),
            variants=tuple(v for v in os.environ.get("BENCH_VARIANTS", "job,peer,lean").split(",") if v))

    def spark_conf(self) -> dict:
        return {"spark.driver.memory": self.driver_memory, "spark.ui.enabled": "false",
                "spark.ui.showConsoleProgress": "false",
                "spark.sql.warehouse.dir": str(self.workdir / "spark-warehouse"), **self.extra_conf}


def run_duckdb(archive: BenchArchive, cores: int) -> tuple[ReferenceRun, dict]:
    """The reference, profiled (fresh connection), then again unprofiled (warm); raises on a nested loop."""
    cpu = time.process_time()
    fresh = reference_pairs(archive.path, archive.subnets_path, archive.start, archive.end, threads=cores)
    fresh_cpu, cpu = time.process_time() - cpu, time.process_time()
    warm = reference_pairs(archive.path, archive.subnets_path, archive.start, archive.end, threads=cores,
                           profile=False)
    figures = {"fresh_s": round(fresh.seconds, 3), "warm_s": round(warm.seconds, 3),
               "cpu_s": round(fresh_cpu, 2), "warm_cpu_s": round(time.process_time() - cpu, 2),
               "top_operators": [[op.name, round(op.seconds, 3), op.rows, op.detail] for op in fresh.top(5)]}
    return fresh, figures


def run_spark_variant(variant: str, rows: int, settings: Settings) -> dict:
    """`python -m bench.spark_runs VARIANT` in a child process (its own JVM); its JSON figures."""
    out = settings.workdir / f"figures-{variant}-{rows}.json"
    log = settings.workdir / f"log-{variant}-{rows}.txt"
    command = [sys.executable, "-m", "bench.spark_runs", variant, "--rows", str(rows), "--days", str(settings.days),
               "--seed", str(settings.seed), "--work", str(settings.workdir), "--runs", "2",
               "--cores", str(settings.cores), "--conf", json.dumps(settings.spark_conf()), "--json-out", str(out)]
    if settings.profile and variant in COMPARED_VARIANTS:
        command.append("--profile")
    with open(log, "w") as log_file:
        done = subprocess.run(command, stdout=log_file, stderr=subprocess.STDOUT, cwd=BENCH_DIR.parent,
                              env={**os.environ, "TZ": "UTC"})
    if done.returncode != 0:
        raise SystemExit(f"bench: the {variant} run failed (exit {done.returncode}); see {log}")
    return json.loads(out.read_text())


def check_tables(variant: str, runs: list[dict], reference: ReferenceRun) -> int:
    pairs = 0
    for run in runs:
        pairs = compare_pairs(read_delta_pairs(run["table"]), reference.table,
                              label=f"{variant} (run {run['run']})")
    return pairs


def bench_size(rows: int, settings: Settings, facts: dict) -> dict:
    """Every variant at one size: the figures as one results.jsonl line (tables checked)."""
    archive = ensure_archive(settings.workdir, rows, settings.days, settings.seed, threads=settings.cores)
    print(f"archive: {archive.path} ({rows:,} rows, {settings.days} days; "
          f"{'reused' if archive.reused else f'generated in {archive.generated_seconds:.1f} s'})", flush=True)
    line: dict = {"kind": "size", "rows": rows, "days": settings.days, "cores": settings.cores,
                  "timestamp": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
                  "loadavg_at_start": [round(x, 2) for x in os.getloadavg()], "variants": {}}
    with RssSampler() as sampler:
        before = CpuShare.read()
        with sampler.phase("duckdb"):
            reference, line["variants"]["duckdb"] = run_duckdb(archive, settings.cores)
        line["variants"]["duckdb"]["others_cpu_s"] = round(CpuShare.read().others_since(before), 1)
        print(f"DuckDB reference: {reference.seconds:.2f} s; its most expensive operators (EXPLAIN ANALYZE):\n"
              + format_operators(reference.operators), flush=True)
        for variant in settings.variants:
            print(f"{LABELS[variant]}: fresh JVM, then warm ...", flush=True)
            before = CpuShare.read()
            with sampler.phase(variant):
                figures = run_spark_variant(variant, rows, settings)
            runs = figures["runs"]
            entry = {"fresh_s": runs[0]["seconds"], "warm_s": runs[-1]["seconds"],
                     "session_s": figures["session_s"], "cpu_s": runs[0]["jvm_cpu_s"],
                     "jit_compile_s": runs[0]["jit_compile_s"], "warm_cpu_s": runs[-1]["jvm_cpu_s"],
                     "others_cpu_s": round(CpuShare.read().others_since(before), 1)}
            if variant in COMPARED_VARIANTS:
                entry["pairs"] = check_tables(variant, runs, reference)
            line["variants"][variant] = entry
        for name, peak in sampler.phase_peaks.items():
            line["variants"][name]["peak_rss_mb"] = round(peak / 2**20)
    line["pairs"] = reference.table.num_rows
    line["loadavg_at_end"] = [round(x, 2) for x in os.getloadavg()]
    line["ratios"] = ratios(line["variants"])
    line.update({"archive_bytes": sum(p.stat().st_size for p in archive.path.rglob("*.parquet")),
                 "spark_conf": settings.extra_conf, "duckdb": duckdb.__version__, "machine": facts,
                 "note": "shared 2-core machine: see loadavg and others_cpu_s"})
    return line


def ratios(variants: dict) -> dict:
    """job/other, wall time fresh and warm; and in CPU seconds, which other users' load disturbs less."""
    out = {}
    for other in ("peer", "duckdb", "lean"):
        if "job" in variants and other in variants:
            job, them = variants["job"], variants[other]
            for when in ("fresh", "warm"):
                out[f"job/{other} {when}"] = round(job[f"{when}_s"] / them[f"{when}_s"], 2)
            for when, key in (("fresh", "cpu_s"), ("warm", "warm_cpu_s")):
                if job.get(key) and them.get(key):
                    out[f"job/{other} {when} CPU"] = round(job[key] / them[key], 2)
    return out


def format_size(line: dict) -> str:
    rows = [f"\n{line['rows']:,} rows ({line['days']} days), local[{line['cores']}] / DuckDB threads={line['cores']}; "
            f"load average {line['loadavg_at_start']} at start, {line['loadavg_at_end']} at end",
            f"{'':26}{'fresh':>9}{'warm':>9}  {'CPU fresh / warm':>16}{'JIT (fresh)':>12}  {'others CPU':>10}"
            f"  {'peak RSS':>9}"]
    for name, fig in line["variants"].items():
        jit = f"{fig['jit_compile_s']:.1f} s" if "jit_compile_s" in fig else ""
        rows.append(f"{LABELS[name]:26}{fig['fresh_s']:8.2f}s{fig['warm_s']:8.2f}s  "
                    f"{fig['cpu_s']:6.1f} /{fig['warm_cpu_s']:6.1f} s{jit:>12}  "
                    f"{fig['others_cpu_s']:9.1f}s  {fig.get('peak_rss_mb', 0):>6,} MB")
    for name, value in line["ratios"].items():
        rows.append(f"ratio {name:24}{value:8.2f}")
    matched = ", ".join(name for name in COMPARED_VARIANTS if name in line["variants"])
    rows.append(f"tables match the reference: {matched}, both runs ({line['pairs']:,} pair rows)")
    return "\n".join(rows)


def marginal(lines: list[dict]) -> dict:
    """Seconds per extra 10M rows between the smallest and the largest size, per variant and run."""
    small, large = lines[0], lines[-1]
    per = (large["rows"] - small["rows"]) / 10_000_000
    out = {}
    for name in small["variants"]:
        if name in large["variants"]:
            for when in ("fresh", "warm"):
                extra = large["variants"][name][f"{when}_s"] - small["variants"][name][f"{when}_s"]
                out[f"{name} {when}"] = round(extra / per, 3)
    for when in ("fresh", "warm"):
        for other in ("peer", "duckdb"):
            if f"job {when}" in out and out.get(f"{other} {when}"):
                out[f"ratio job/{other} {when}"] = round(out[f"job {when}"] / out[f"{other} {when}"], 2)
    return out


def append_result(line: dict) -> None:
    path = os.environ.get("BENCH_RESULTS", str(BENCH_DIR / "results.jsonl"))
    if path:
        with open(path, "a") as out:
            out.write(json.dumps(line, sort_keys=True) + "\n")
        print(f"appended to {path}")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    os.environ["TZ"] = "UTC"
    time.tzset()
    settings = Settings.from_env()
    settings.workdir.mkdir(parents=True, exist_ok=True)
    facts = machine_facts()
    print(f"machine: {facts['nproc']} cpus, {facts['memory_gb']} GB, {facts['cpu_model']}; "
          f"load average at start {facts['loadavg_at_start']}", flush=True)
    if "--scale" in argv:
        sizes = [int(n) for n in os.environ.get("BENCH_SCALE_ROWS", "10000000,50000000").split(",")]
    else:
        sizes = [int(os.environ.get("BENCH_ROWS", "10000000"))]
    lines = []
    for rows in sizes:
        line = bench_size(rows, settings, facts)
        print(format_size(line), flush=True)
        append_result(line)
        lines.append(line)
    if len(lines) > 1:
        cost = marginal(lines)
        print(f"\nmarginal cost per 10M rows ({lines[0]['rows']:,} -> {lines[-1]['rows']:,}), seconds:")
        for name, value in cost.items():
            print(f"  {name:26}{value:8.2f}")
        append_result({"kind": "scale", "sizes": sizes, "marginal_per_10m": cost, "machine": facts,
                       "timestamp": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")})
    return 0


if __name__ == "__main__":
    sys.exit(main())

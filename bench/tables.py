"""Pair tables compared as multisets: a Spark variant's Delta table against the DuckDB reference."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow as pa

COMPARED = ("event_date", "src_ip", "dest_ip", "connection_count", "first_seen", "last_seen", "bytes_in", "bytes_out")


class BenchMismatch(AssertionError):  # noqa: N818
    """A Spark variant's table and the DuckDB reference differ."""


def read_delta_pairs(table_path: str | Path) -> pa.Table:
    from deltalake import DeltaTable

    return DeltaTable(str(table_path)).to_pyarrow_table(columns=list(COMPARED))


def compare_pairs(spark_pairs: pa.Table, reference: pa.Table, show: int = 5, label: str = "Spark") -> int:
    """Multiset equality of the compared columns (timestamps as epoch µs); raise on a difference."""
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.register("s_raw", spark_pairs)
    con.register("r_raw", reference)
    norm = ("SELECT event_date::DATE AS event_date, src_ip, dest_ip, connection_count::BIGINT AS connection_count, "
            "epoch_us(first_seen) AS first_seen, epoch_us(last_seen) AS last_seen, "
            "bytes_in::BIGINT AS bytes_in, bytes_out::BIGINT AS bytes_out FROM {}")
    con.execute(f"CREATE TEMP TABLE s AS {norm.format('s_raw')}")
    con.execute(f"CREATE TEMP TABLE r AS {norm.format('r_raw')}")
    diff = "SELECT * FROM (SELECT * FROM {} EXCEPT ALL SELECT * FROM {}) ORDER BY ALL LIMIT {}"
    only_spark = con.sql(diff.format("s", "r", show)).fetchall()
    only_ref = con.sql(diff.format("r", "s", show)).fetchall()
    n_spark = con.sql("SELECT count(*) FROM s").fetchall()[0][0]
    n_ref = con.sql("SELECT count(*) FROM r").fetchall()[0][0]
    con.close()
    if only_spark or only_ref or n_spark != n_ref:
        lines = [f"MISMATCH: {label} wrote {n_spark} pair rows, the DuckDB reference has {n_ref}"]
        lines += [f"  only in {label}: {row}" for row in only_spark]
        lines += [f"  only in reference: {row}" for row in only_ref]
        raise BenchMismatch("\n".join(lines))
    return n_spark

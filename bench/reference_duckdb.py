"""The job's semantics, written independently in DuckDB SQL (no smb_pipeline code).

cim rows of the archive's `dt=` folders start-1..end+1; keep lower(action) = 'allowed' and
(dest_port in (139, 445) or lower(app) in ('smb', 'ms-ds-smb', 'netbios-ss')); drop rows
whose src_ip is in any company CIDR; group by (UTC day of _time, src_ip, dest_ip) for the
days start..end: connection_count = count(*) (the bench archive has no session ids),
first_seen/last_seen, bytes sums.

CIDR membership: each *distinct* SMB source is parsed once into its 128-bit number (a
UHUGEINT; IPv4 in the mapped range ::ffff:0:0/96, as the pipeline does) in a materialized
CTE; a CIDR is the closed range [lo, hi] of such numbers; the company sources come from a
range join that DuckDB plans as a piecewise merge join or an IEJoin, never a nested loop.
The first version of this reference wrote `EXISTS (... WHERE iphex(src) BETWEEN lo AND hi)`:
DuckDB planned a block-wise nested-loop join with the parsing inlined in its condition and
re-parsed every source for every CIDR, 10-16x slower than this query (docs/performance.md).
`reference_pairs` therefore profiles the query it runs and refuses a nested-loop plan.

The archive holds canonical text (dotted quads; RFC 5952 IPv6, '::' allowed), so the
address text is used as is for the grouping. Not handled, because the bench never writes
them: dotted IPv4 tails in IPv6 text, zone ids, leading zeros in IPv4 octets.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa

SMB_PORTS = (139, 445)
SMB_APPS = ("smb", "ms-ds-smb", "netbios-ss")
MAPPED = "00000000000000000000ffff"
NESTED_LOOP_OPERATORS = ("NESTED_LOOP_JOIN", "BLOCKWISE_NL_JOIN", "CROSS_PRODUCT")

MACROS = [
    f"""CREATE OR REPLACE TEMP MACRO v4hex(ip) AS
        '{MAPPED}' || array_to_string(list_transform(string_split(ip, '.'),
                                                     lambda o: printf('%02x', o::INTEGER)), '')""",
    """CREATE OR REPLACE TEMP MACRO v6left(ip) AS
        list_filter(string_split(split_part(ip, '::', 1), ':'), lambda g: g <> '')""",
    """CREATE OR REPLACE TEMP MACRO v6right(ip) AS
        list_filter(string_split(split_part(ip, '::', 2), ':'), lambda g: g <> '')""",
    """CREATE OR REPLACE TEMP MACRO v6groups(ip) AS CASE WHEN contains(ip, '::')
        THEN v6left(ip) || list_transform(range(8 - len(v6left(ip)) - len(v6right(ip))), lambda z: '0') || v6right(ip)
        ELSE string_split(ip, ':') END""",
    """CREATE OR REPLACE TEMP MACRO v6hex(ip) AS array_to_string(list_transform(v6groups(lower(ip)),
                                                                                lambda g: lpad(g, 4, '0')), '')""",
    """CREATE OR REPLACE TEMP MACRO ipkey(ip) AS
        ('0x' || CASE WHEN contains(ip, ':') THEN v6hex(ip) ELSE v4hex(ip) END)::UHUGEINT""",
]


class NestedLoopPlan(AssertionError):  # noqa: N818
    """The reference's plan has a nested-loop join or a cross product: it would be unfairly slow."""


def read_cidrs(path: str | Path) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    nets = []
    for line in Path(path).read_text().splitlines():
        text = line.split("#", 1)[0].strip()
        if text:
            nets.append(ipaddress.ip_network(text, strict=True))
    return nets


def cidr_ranges(nets) -> pa.Table:
    """(cidr, lo, hi) with lo/hi as 32 hex digits; SQL casts them to UHUGEINT."""
    def hex128(net, value: int) -> str:
        return MAPPED + f"{value:08x}" if net.version == 4 else f"{value:032x}"

    return pa.table({
        "cidr": [str(n) for n in nets],
        "lo": [hex128(n, int(n.network_address)) for n in nets],
        "hi": [hex128(n, int(n.broadcast_address)) for n in nets],
    })


PAIRS_SQL = """
WITH smb AS MATERIALIZED (
  SELECT CAST(_time AS DATE) AS event_date, src_ip, dest_ip, _time, bytes_in, bytes_out
  FROM read_parquet('{glob}', hive_partitioning = true, hive_types = {{'dt': DATE}})
  WHERE dt BETWEEN DATE '{read_first}' AND DATE '{read_last}'
    AND lower(action) = 'allowed'
    AND (dest_port IN ({ports}) OR lower(app) IN ({apps}))
    AND CAST(_time AS DATE) BETWEEN DATE '{start}' AND DATE '{end}'
), sources AS MATERIALIZED (
  SELECT src_ip, ipkey(src_ip) AS k FROM (SELECT DISTINCT src_ip FROM smb)
), company AS (
  SELECT DISTINCT s.src_ip FROM sources s JOIN cidrs c ON s.k >= c.lo AND s.k <= c.hi
)
SELECT event_date, src_ip, dest_ip,
       count(*)::BIGINT AS connection_count,
       min(_time) AS first_seen, max(_time) AS last_seen,
       sum(bytes_in)::BIGINT AS bytes_in, sum(bytes_out)::BIGINT AS bytes_out
FROM smb ANTI JOIN company USING (src_ip)
GROUP BY event_date, src_ip, dest_ip
"""


@dataclass(frozen=True)
class Operator:
    name: str
    seconds: float
    rows: int
    detail: str


@dataclass(frozen=True)
class ReferenceRun:
    table: pa.Table
    seconds: float  # connect + query + fetch
    operators: tuple[Operator, ...]  # every operator of the profiled plan, most expensive first

    def top(self, n: int = 5) -> tuple[Operator, ...]:
        return self.operators[:n]


def connect(threads: int = 2, memory_limit: str = "4GB") -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute(f"SET threads = {int(threads)}")
    con.execute(f"SET memory_limit = '{memory_limit}'")
    con.execute("SET TimeZone = 'UTC'")  # CAST(timestamptz AS DATE) is then the UTC day
    con.execute("SET enable_progress_bar = false")
    for macro in MACROS:
        con.execute(macro)
    return con


def pairs_sql(archive_path: str | Path, start: dt.date, end: dt.date) -> str:
    return PAIRS_SQL.format(
        glob=f"{Path(archive_path)}/dt=*/*.parquet",
        read_first=(start - dt.timedelta(days=1)).isoformat(),
        read_last=(end + dt.timedelta(days=1)).isoformat(),
        start=start.isoformat(),
        end=end.isoformat(),
        ports=", ".join(str(p) for p in SMB_PORTS),
        apps=", ".join(f"'{a}'" for a in SMB_APPS),
    )


def _operators(node: dict) -> list[Operator]:
    found = []
    for child in node.get("children", []):
        name = child.get("operator_type") or child.get("type") or child.get("name", "?")
        info = child.get("extra_info") or {}
        detail = info.get("Conditions") or info.get("Join Type") or info.get("Function") or ""
        found.append(Operator(str(name), float(child.get("operator_timing", child.get("timing", 0.0)) or 0.0),
                              int(child.get("operator_cardinality", child.get("intermediate_rows", 0)) or 0),
                              " AND ".join(detail) if isinstance(detail, list) else str(detail)))
        found.extend(_operators(child))
    return found


def plan_operators(con: duckdb.DuckDBPyConnection) -> tuple[Operator, ...]:
    """Every operator of the last profiled query, by operator time, most expensive first."""
    profile = json.loads(con.get_profiling_information(format="json"))
    root = {"children": profile.get("operator", profile.get("children", []))}
    if isinstance(root["children"], dict):
        root["children"] = [root["children"]]
    return tuple(sorted(_operators(root), key=lambda op: op.seconds, reverse=True))


def reference_pairs(archive_path: str | Path, subnets_path: str | Path, start: dt.date, end: dt.date,
                    threads: int = 2, profile: bool = True) -> ReferenceRun:
    """The pair table, its wall time and (with `profile`) its operators; raises NestedLoopPlan.

    Profiling costs the query a few percent; the bench reports a second, unprofiled run as
    the warm figure.
    """
    began = time.monotonic()
    con = connect(threads)
    con.register("cidrs_arrow", cidr_ranges(read_cidrs(subnets_path)))
    con.execute("CREATE TEMP TABLE cidrs AS SELECT cidr, ('0x' || lo)::UHUGEINT AS lo, "
                "('0x' || hi)::UHUGEINT AS hi FROM cidrs_arrow")
    if profile:
        con.execute("SET enable_profiling = 'no_output'")
    table = con.sql(pairs_sql(archive_path, start, end)).to_arrow_table()
    seconds = time.monotonic() - began
    operators = plan_operators(con) if profile else ()
    con.close()
    refuse_nested_loops(operators)
    return ReferenceRun(table, seconds, operators)


def refuse_nested_loops(operators) -> None:
    """Raise NestedLoopPlan if the plan joins by a nested loop or a cross product."""
    loops = [op for op in operators if op.name in NESTED_LOOP_OPERATORS]
    if loops:
        raise NestedLoopPlan("the DuckDB reference planned a nested loop: "
                             + "; ".join(f"{op.name} {op.seconds:.2f} s {op.detail}" for op in loops))


def format_operators(operators, n: int = 5) -> str:
    return "\n".join(f"  {op.seconds:7.3f} s  {op.name:24} {op.rows:>12,} rows  {op.detail[:70]}"
                     for op in operators[:n])

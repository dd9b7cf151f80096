"""The job's semantics, written independently in DuckDB SQL (no smb_pipeline code).

cim rows of the archive's `dt=` folders start-1..end+1; keep lower(action) = 'allowed' and
(dest_port in (139, 445) or lower(app) in ('smb', 'ms-ds-smb', 'netbios-ss')); drop rows
whose src_ip is in any company CIDR; group by (UTC day of _time, src_ip, dest_ip) for the
days start..end: connection_count = count(*) (the bench archive has no session ids),
first_seen/last_seen, bytes sums.

CIDR membership: every address becomes 32 lower-case hex digits of its 128 bits (IPv4 in
the mapped range ::ffff:0:0/96, as the pipeline does), parsed with string functions; a
CIDR is the closed range [first, last] of such strings, and fixed-width hex compares like
the numbers. The archive holds canonical text (dotted quads; RFC 5952 IPv6, '::' allowed),
so the address text is used as is for the grouping. Not handled, because the bench never
writes them: dotted IPv4 tails in IPv6 text, zone ids, leading zeros in IPv4 octets.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import time
from pathlib import Path

import duckdb
import pyarrow as pa

SMB_PORTS = (139, 445)
SMB_APPS = ("smb", "ms-ds-smb", "netbios-ss")
MAPPED = "00000000000000000000ffff"

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
    """CREATE OR REPLACE TEMP MACRO iphex(ip) AS CASE WHEN contains(ip, ':') THEN v6hex(ip) ELSE v4hex(ip) END""",
]


def read_cidrs(path: str | Path) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    nets = []
    for line in Path(path).read_text().splitlines():
        text = line.split("#", 1)[0].strip()
        if text:
            nets.append(ipaddress.ip_network(text, strict=True))
    return nets


def cidr_ranges(nets) -> pa.Table:
    def hex128(net, value: int) -> str:
        return MAPPED + f"{value:08x}" if net.version == 4 else f"{value:032x}"

    return pa.table({
        "cidr": [str(n) for n in nets],
        "lo": [hex128(n, int(n.network_address)) for n in nets],
        "hi": [hex128(n, int(n.broadcast_address)) for n in nets],
    })


PAIRS_SQL = """
WITH smb AS (
  SELECT CAST(_time AS DATE) AS event_date, src_ip, dest_ip, _time, bytes_in, bytes_out
  FROM read_parquet('{glob}', hive_partitioning = true, hive_types = {{'dt': DATE}})
  WHERE dt BETWEEN DATE '{read_first}' AND DATE '{read_last}'
    AND lower(action) = 'allowed'
    AND (dest_port IN ({ports}) OR lower(app) IN ({apps}))
    AND CAST(_time AS DATE) BETWEEN DATE '{start}' AND DATE '{end}'
), sources AS (
  SELECT DISTINCT src_ip FROM smb
), company AS (
  SELECT s.src_ip FROM sources s
  WHERE EXISTS (SELECT 1 FROM cidrs c WHERE iphex(s.src_ip) BETWEEN c.lo AND c.hi)
)
SELECT event_date, src_ip, dest_ip,
       count(*)::BIGINT AS connection_count,
       min(_time) AS first_seen, max(_time) AS last_seen,
       sum(bytes_in)::BIGINT AS bytes_in, sum(bytes_out)::BIGINT AS bytes_out
FROM smb ANTI JOIN company USING (src_ip)
GROUP BY event_date, src_ip, dest_ip
"""


def connect(threads: int = 2, memory_limit: str = "4GB") -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute(f"SET threads = {int(threads)}")
    con.execute(f"SET memory_limit = '{memory_limit}'")
    con.execute("SET TimeZone = 'UTC'")  # CAST(timestamptz AS DATE) is then the UTC day
    for macro in MACROS:
        con.execute(macro)
    return con


def reference_pairs(archive_path: str | Path, subnets_path: str | Path, start: dt.date, end: dt.date,
                    threads: int = 2) -> tuple[pa.Table, float]:
    """The pair table, and the wall time (connect + query + fetch)."""
    began = time.monotonic()
    con = connect(threads)
    con.register("cidrs_arrow", cidr_ranges(read_cidrs(subnets_path)))
    con.execute("CREATE TEMP TABLE cidrs AS SELECT * FROM cidrs_arrow")
    sql = PAIRS_SQL.format(
        glob=f"{Path(archive_path)}/dt=*/*.parquet",
        read_first=(start - dt.timedelta(days=1)).isoformat(),
        read_last=(end + dt.timedelta(days=1)).isoformat(),
        start=start.isoformat(),
        end=end.isoformat(),
        ports=", ".join(str(p) for p in SMB_PORTS),
        apps=", ".join(f"'{a}'" for a in SMB_APPS),
    )
    table = con.sql(sql).to_arrow_table()
    con.close()
    return table, time.monotonic() - began

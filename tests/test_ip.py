"""IP canonicalization with Spark expressions, checked against Python's `ipaddress`."""

from __future__ import annotations

import ipaddress
import random
import re

from smb_pipeline.transforms.ip import with_ip_hex, with_ip_text
from tests.plans import jvm_calls


def with_canonical_ip(df, text_column: str, ip_column: str, as_written: bool = True):
    """The canonical text of an address, the way validation computes it: its key, then its text
    (taken as written when it is a canonical dotted quad already; with `as_written` False,
    always built from the key)."""
    quad = "_quad" if as_written else None
    return with_ip_hex(df, text_column, "_hex", quad).transform(with_ip_text, "_hex", ip_column, quad).drop("_hex")


def _python_canonical(text: str | None) -> str | None:
    if text is None:
        return None
    try:
        address = ipaddress.ip_address(text.strip())
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return str(address.ipv4_mapped)
    return str(address)


def _random_ipv6(rng: random.Random) -> str:
    groups = [0 if rng.random() < 0.5 else rng.getrandbits(16) for _ in range(8)]
    address = ipaddress.IPv6Address(int("".join(f"{g:04x}" for g in groups), 16))
    return rng.choice((str(address), address.exploded, address.exploded.upper()))


EDGE_CASES = [
    "10.1.2.3", "0.0.0.0", "255.255.255.255", "256.1.1.1", "1.2.3", "1.2.3.4.5", "a.b.c.d", "",
    "::", "::1", "1::", "2001:DB8::1", "2001:db8:0:0:1:0:0:1", "2001:0db8:0000:0000:0000:0000:0000:0001",
    "1:0:1:1:1:1:1:1", "0:0:1:0:0:0:1:0", "1:2:3:4:5:6:7::", "::2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8:9",
    ":::", "1::2::3", "gggg::1", "12345::1", "::ffff:10.1.2.3", "::ffff:a01:203", "::ffff:0:0",
    "2001:db8::1.2.3.4", "::1.2.3.4", "fe80::1:2:3:4", "ff02::1", " 10.0.0.1 ", "1:2:3:4:5:6:7:8",
    "::FFFF:10.1.2.3", "2001:DB8::1.2.3.4", "::FFFF:A01:203",
]


def test_canonical_ip_matches_python_ipaddress(spark):
    rng = random.Random(5952)
    values = EDGE_CASES + [_random_ipv6(rng) for _ in range(200)]
    values += [".".join(str(rng.randint(0, 255)) for _ in range(4)) for _ in range(50)]
    frame = spark.createDataFrame([(v,) for v in values] + [(None,)], "ip string")
    got = {row.ip: row.canonical for row in with_canonical_ip(frame, "ip", "canonical").collect()}
    mismatches = {v: (got[v], _python_canonical(v)) for v in got if got[v] != _python_canonical(v)}
    assert mismatches == {}


def _expected(text: str) -> str | None:
    """Python's canonical text, with a dotted quad (alone or as an IPv6 tail) read as decimal
    when zero-padded, as the parser reads it and `ipaddress` does not."""
    head, colon, quad = text.rpartition(":")
    if re.fullmatch(r"\d{1,3}(\.\d{1,3}){3}", quad):
        quad = ".".join(str(int(octet)) for octet in quad.split("."))
    return _python_canonical(head + colon + quad)


def test_random_strings_of_address_characters_match_python_ipaddress(spark):
    """The parser checks an address's shape with string functions, not regexes: random strings
    of digits, colons and dots, mostly invalid, find the cases a hand-written check misses."""
    rng = random.Random(4291)
    alphabet = "0123456789abcdefABCDEF:::..."
    values = sorted({"".join(rng.choice(alphabet) for _ in range(rng.randint(1, 24))) for _ in range(3000)})
    frame = spark.createDataFrame([(v,) for v in values], "ip string")
    got = {row.ip: row.canonical for row in with_canonical_ip(frame, "ip", "canonical").collect()}
    assert sum(1 for v in values if got[v] is not None) > 20  # some are valid, so both paths are checked
    assert {v: got[v] for v in values if got[v] != _expected(v)} == {}


def test_zero_padded_ipv4_is_read_as_decimal_and_zone_id_dropped(spark):
    frame = spark.createDataFrame([("010.001.002.003",), ("fe80::1%eth0",)], "ip string")
    assert [r.canonical for r in with_canonical_ip(frame, "ip", "canonical").collect()] == ["10.1.2.3", "fe80::1"]


def test_whitespace_around_an_address_is_ignored_and_inside_it_is_invalid(spark):
    # Java's `$` matches before a final line break: "::1\n" used to pass with a wrong key.
    values = {"10.1.2.3\n": "10.1.2.3", "::1\r\n": "::1", "\t::ffff:10.1.2.3\r": "10.1.2.3",
              "2001:db8::1\n": "2001:db8::1", "10.1.2.3\n4": None, "::1\n:2": None, "2001:db8::\n1": None}
    frame = spark.createDataFrame([(v,) for v in values], "ip string")
    got = {r.ip: r.canonical for r in with_canonical_ip(frame, "ip", "canonical").collect()}
    assert got == values
    hexes = {r.ip: r.hex for r in with_ip_hex(frame, "ip", "hex").collect()}
    assert hexes["::1\r\n"] == "0" * 31 + "1"


def test_a_dotted_quad_is_taken_as_written_only_when_that_is_its_canonical_text(spark):
    rng = random.Random(1918)
    quads = [".".join(rng.choice((str(n), f"{n:03d}", f"{n:02d}")) for n in rng.choices(range(256), k=4))
             for _ in range(300)]
    padded = ["010.001.002.003", "00.1.2.3", "0.0.0.00", "1.2.3.04", "1.2.3.400"]
    values = [*EDGE_CASES, *quads, *padded, "1.2.3.4%eth0", " 10.1.2.3\n"]
    frame = spark.createDataFrame([(v,) for v in values], "ip string")
    taken = with_ip_hex(frame, "ip", "_hex", "taken").select("ip", "taken")
    built = with_canonical_ip(frame, "ip", "canonical", as_written=False).select("ip", "canonical")
    pairs = taken.join(built, "ip").collect()
    assert {r.ip for r in pairs if r.taken is not None} >= {"10.1.2.3", "0.0.0.0", "1.2.3.4%eth0", " 10.1.2.3\n"}
    assert not {r.ip for r in pairs if r.taken is not None} & {"010.001.002.003", "00.1.2.3", "0.0.0.00", "1.2.3.04"}
    assert [r.ip for r in pairs if r.taken is not None and r.taken != r.canonical] == []
    got = {r.ip: r.canonical for r in with_canonical_ip(frame, "ip", "canonical").collect()}
    assert got == {r.ip: r.canonical for r in pairs}


def test_hex_key_orders_like_the_address(spark):
    addresses = ["0.0.0.0", "10.0.0.1", "255.255.255.255", "::", "::1", "2001:db8::1", "ffff::1"]
    frame = spark.createDataFrame([(a,) for a in addresses], "ip string")
    hexes = {r.ip: r.hex for r in with_ip_hex(frame, "ip", "hex").collect()}
    for address in addresses:
        parsed = ipaddress.ip_address(address)
        number = int(parsed) + (0xFFFF << 32 if parsed.version == 4 else 0)
        assert hexes[address] == f"{number:032x}"


def test_an_address_is_parsed_by_a_few_calls_into_the_jvm(spark):
    """Each parsing step reaches the JVM as one SQL expression. Built with pyspark's column
    functions (a call per function and literal), one address's key and text took about 1,400
    calls, and a run's validation a third of a warm run's driver time."""
    frame = spark.createDataFrame([("10.1.2.3",), ("2001:db8::1",)], "ip string")
    canonical, calls = jvm_calls(lambda: with_canonical_ip(frame, "ip", "canonical"))
    assert 0 < calls < 200  # counted where pyspark sends them: classic mode, pinned threads
    assert [r.canonical for r in canonical.collect()] == ["10.1.2.3", "2001:db8::1"]

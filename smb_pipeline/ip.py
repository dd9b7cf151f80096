"""IP addresses as Spark columns: parsing, canonical text, and 128-bit keys for range joins.

Everything here is built from Spark's own expressions (regex, `conv`, higher-order array
functions) so that it runs inside the JVM, vectorised and without Python workers.

An address is held as a 32-digit lower-case hex string of its 128 bits. IPv4 addresses,
including IPv4-mapped IPv6 (`::ffff:10.1.2.3`), live in the mapped range
`::ffff:0:0/96`, so one ordering covers both families and a CIDR is a closed range of
16-byte binaries.
"""

from __future__ import annotations

from collections.abc import Callable

from pyspark.sql import Column
from pyspark.sql import functions as F

IPV4_MAPPED_PREFIX = "00000000000000000000ffff"

_IPV4 = r"^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$"
_IPV4_TAIL = r"^(.*:)(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$"
_IPV6_CHARS = r"^[0-9a-f:]+$"
_HEX_GROUP = r"^[0-9a-f]{1,4}$"


def _let(value: Column, body: Callable[[Column], Column]) -> Column:
    """Bind `value` once and use it many times in `body`.

    Nesting column expressions copies them; a lambda variable keeps the expression tree
    small and the value computed once per row.
    """
    return F.element_at(F.transform(F.array(value), body), 1)


def _octets_hex(octets: list[Column]) -> Column:
    """Hex of four decimal octets, or null when one is above 255."""
    valid = F.lit(True)
    for octet in octets:
        valid = valid & (octet.cast("int") <= 255)
    hex_text = F.concat(*[F.lpad(F.lower(F.hex(octet.cast("int"))), 2, "0") for octet in octets])
    return F.when(valid, hex_text)


def _ipv4_hex(text: Column) -> Column:
    octets = [F.regexp_extract(text, _IPV4, group) for group in range(1, 5)]
    return F.when(text.rlike(_IPV4), F.concat(F.lit(IPV4_MAPPED_PREFIX), _octets_hex(octets)))


def _ipv6_hex(text: Column) -> Column:
    """Expand an IPv6 text (with '::' and an optional dotted IPv4 tail) to 32 hex digits."""
    return _let(_without_ipv4_tail(text), _expand_ipv6)


def _without_ipv4_tail(text: Column) -> Column:
    """Rewrite a dotted IPv4 tail ('::ffff:1.2.3.4') as two hex groups."""
    tail_octets = [F.regexp_extract(text, _IPV4_TAIL, group) for group in range(2, 6)]
    tail_hex = _octets_hex(tail_octets)
    tail_groups = F.concat(F.substring(tail_hex, 1, 4), F.lit(":"), F.substring(tail_hex, 5, 4))
    return F.when(
        text.rlike(_IPV4_TAIL), F.concat(F.regexp_extract(text, _IPV4_TAIL, 1), tail_groups)
    ).otherwise(text)


def _expand_ipv6(hex_only: Column) -> Column:
    halves = F.split(hex_only, "::", -1)
    left = F.when(halves[0] == "", F.array().cast("array<string>")).otherwise(F.split(halves[0], ":", -1))
    right = F.when(F.size(halves) < 2, F.array().cast("array<string>")).otherwise(
        F.when(halves[1] == "", F.array().cast("array<string>")).otherwise(F.split(halves[1], ":", -1))
    )
    missing = 8 - F.size(left) - F.size(right)
    groups = F.when(
        F.size(halves) == 2,
        F.concat(left, F.array_repeat(F.lit("0"), F.greatest(missing, F.lit(0))), right),
    ).otherwise(left)
    well_formed = (
        hex_only.rlike(_IPV6_CHARS)
        & (F.size(halves) <= 2)
        & ((F.size(halves) == 1) | (missing >= 1))
        & (F.size(groups) == 8)
        & F.forall(groups, lambda group: group.rlike(_HEX_GROUP))
    )
    return F.when(well_formed, F.concat_ws("", F.transform(groups, lambda group: F.lpad(group, 4, "0"))))


def ip_hex(ip_text: Column) -> Column:
    """32 hex digits of the address (IPv4 in the mapped range), or null when it is not an IP.

    Decimal IPv4 octets with leading zeros ("010.001.002.003") are read as decimal, as
    firewalls that pad them mean. An IPv6 zone id ("%eth0") is dropped.
    """
    text = F.lower(F.trim(F.regexp_replace(ip_text, r"%[^%]*$", "")))
    # IPv4 (most traffic) stays in plain, code-generated expressions; only IPv6 text goes
    # through the array functions, which Spark evaluates without code generation.
    return F.when(text.contains(":"), _ipv6_hex(text)).otherwise(_ipv4_hex(text))


def is_ipv4_hex(hex_col: Column) -> Column:
    return hex_col.startswith(IPV4_MAPPED_PREFIX)


def _ipv4_text(hex_col: Column) -> Column:
    return F.concat_ws(".", *[F.conv(F.substring(hex_col, 25 + 2 * i, 2), 16, 10) for i in range(4)])


def _compress_zero_run(joined: Column) -> Column:
    """Replace the longest (first, on ties) run of two or more zero groups with '::' (RFC 5952)."""
    def compress(framed: Column) -> Column:
        result = F.substring(framed, 2, 64)
        result = result.substr(F.lit(1), F.length(result) - 1)
        for run in range(2, 9):  # each found run overrides the shorter ones found before it
            pattern = ":" + "0:" * run
            position = F.locate(pattern, framed)
            before = F.when(position > 1, framed.substr(F.lit(2), position - 2)).otherwise(F.lit(""))
            after = framed.substr(position + len(pattern), F.lit(64))
            after = F.when(after == "", F.lit("")).otherwise(after.substr(F.lit(1), F.length(after) - 1))
            result = F.when(position > 0, F.concat(before, F.lit("::"), after)).otherwise(result)
        return result

    return _let(F.concat(F.lit(":"), joined, F.lit(":")), compress)


def _ipv6_text(hex_col: Column) -> Column:
    groups = F.transform(
        F.sequence(F.lit(0), F.lit(7)),
        lambda i: F.regexp_replace(hex_col.substr(i * 4 + 1, F.lit(4)), r"^0{1,3}", ""),
    )
    return _compress_zero_run(F.array_join(groups, ":"))


def ip_text_from_hex(hex_col: Column) -> Column:
    """Canonical text: dotted quad for IPv4 (and IPv4-mapped), RFC 5952 for IPv6.

    Pass a column reference (a materialized hex column): the value is used several times.
    """
    return (
        F.when(hex_col.isNull(), F.lit(None))
        .when(is_ipv4_hex(hex_col), _ipv4_text(hex_col))
        .otherwise(_ipv6_text(hex_col))
    )


def canonical_ip(ip_text: Column) -> Column:
    """Canonical text of an address, or null when it is not an IP."""
    return _let(ip_hex(ip_text), ip_text_from_hex)


def ip_family(hex_col: Column) -> Column:
    """4 or 6 (IPv4-mapped IPv6 counts as 4, like its canonical text)."""
    return F.when(is_ipv4_hex(hex_col), F.lit(4)).otherwise(F.lit(6))


def ip_bucket(hex_col: Column, ipv4_bits: int, ipv6_bits: int) -> Column:
    """The first `ipv4_bits` of an IPv4 address or `ipv6_bits` of an IPv6 one, as a long.

    This is the hash key of the subnet join; the bit counts come from the subnet index.
    """
    ipv4_top32 = F.conv(F.substring(hex_col, 25, 8), 16, 10).cast("long")
    ipv6_top32 = F.conv(F.substring(hex_col, 1, 8), 16, 10).cast("long")
    return F.when(is_ipv4_hex(hex_col), F.shiftright(ipv4_top32, 32 - ipv4_bits)).otherwise(
        F.shiftright(ipv6_top32, 32 - ipv6_bits)
    )

"""IP addresses as Spark columns: parsing, canonical text, and 128-bit keys for range joins.

Everything here is built from Spark's own string and regex expressions, so that it runs in
the JVM without Python workers, and without higher-order functions, so that Spark generates
code for it (one higher-order function in a projection makes Spark interpret the whole
projection, which made the validation of SMB candidates the slowest step of a run).

An address is held as a 32-digit lower-case hex string of its 128 bits. IPv4 addresses,
including IPv4-mapped IPv6 (`::ffff:10.1.2.3`), live in the mapped range
`::ffff:0:0/96`, so one ordering covers both families and a CIDR is a closed range of
16-byte binaries.
"""

from __future__ import annotations

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

IPV4_MAPPED_PREFIX = "00000000000000000000ffff"

_IPV4 = r"^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\z"
_IPV6_CHARS = r"^[0-9a-f:]+\z"
_IPV6_TWO_ELISIONS = r"::.*::|:::"
_IPV6_EIGHT_GROUPS = r"^([0-9a-f]{1,4}:){7}[0-9a-f]{1,4}\z"
_ELISION_MARK = "x"  # not a hex digit, so it cannot clash with a group
# Patterns end in \z, not $: Java's $ also matches before a final line break, which let
# "::1\n" through with a wrong key. Whitespace around an address (CRLF exports) is trimmed first.
_WHITESPACE = " \t\r\n"


def _ipv4_octets(text: Column) -> Column:
    """The four decimal octets of a dotted quad, or null. One regex to check the shape, then a
    plain split: regexes are the costly part of parsing."""
    return F.when(text.rlike(_IPV4), F.split(text, r"\."))


def _ipv4_hex(octets_column: Column) -> Column:
    octets = [F.get(octets_column, index).cast("long") for index in range(4)]
    number = octets[0] * 16777216 + octets[1] * 65536 + octets[2] * 256 + octets[3]
    in_range = octets[0] <= 255
    for octet in octets[1:]:
        in_range = in_range & (octet <= 255)
    return F.when(in_range, F.concat(F.lit(IPV4_MAPPED_PREFIX), F.lpad(F.lower(F.hex(number)), 8, "0")))


def _last_group(text: Column) -> Column:
    """What follows the last ':' (a dotted IPv4 tail such as in '::ffff:1.2.3.4', or a group)."""
    return F.regexp_extract(text, r"[^:]*\z", 0)


def _with_ipv4_tail_as_groups(text: Column, tail: Column, tail_hex: Column) -> Column:
    """'::ffff:1.2.3.4' -> '::ffff:0102:0304'. A tail that is not a valid dotted quad is kept as
    it is, and its dots then fail the IPv6 check."""
    groups = F.concat(F.substring(tail_hex, 25, 4), F.lit(":"), F.substring(tail_hex, 29, 4))
    head = F.left(text, F.length(text) - F.length(tail))
    return F.when(tail_hex.isNotNull(), F.concat(head, groups)).otherwise(text)


def _without_zone_id(text: Column) -> Column:
    return F.when(text.contains("%"), F.regexp_replace(text, r"%[^%]*\z", "")).otherwise(text)


def _marked_elision(text: Column) -> Column:
    """'::' as one marked group: '1::2' -> '1:x:2', '::1' -> 'x:1', '::' -> 'x'."""
    marked = F.replace(text, F.lit("::"), F.lit(f":{_ELISION_MARK}:"))
    marked = F.regexp_replace(marked, f"^:{_ELISION_MARK}", _ELISION_MARK)
    return F.regexp_replace(marked, f"{_ELISION_MARK}:$", _ELISION_MARK)


def _zero_groups(marked: Column) -> Column:
    """How many zero groups the mark stands for: 8 minus the other groups present."""
    colons = F.length(marked) - F.length(F.replace(marked, F.lit(":"), F.lit("")))
    return 8 - colons


def _expanded(marked: Column, zero_groups: Column) -> Column:
    zeros = F.substring(F.repeat(F.lit("0:"), zero_groups), 1, zero_groups * 2 - 1)
    return F.replace(marked, F.lit(_ELISION_MARK), zeros)


def _padded_groups(groups: Column) -> Column:
    """'1:0:ab:...' (eight groups) -> '000100000000ab...': each group left-padded to 4 digits."""
    parts = F.split(groups, ":")
    return F.concat(*[F.lpad(F.get(parts, index), 4, "0") for index in range(8)])


def with_ip_hex(df: DataFrame, text_column: str, hex_column: str) -> DataFrame:
    """Add `hex_column`: 32 hex digits of the address in `text_column` (IPv4 in the mapped
    range), or null when it is not an IP.

    Decimal IPv4 octets with leading zeros ("010.001.002.003") are read as decimal, as
    firewalls that pad them mean. Spaces, tabs and line breaks around the address are ignored;
    inside it they make it invalid. An IPv6 zone id ("%eth0") is dropped; '::' and a dotted
    IPv4 tail are understood.

    Built in steps, each a column of its own: every intermediate value is computed once
    per row, and the expressions stay small enough for Spark to generate code for them
    (nesting them instead multiplies the expression tree).
    """
    steps = ("text", "quad", "quad_octets", "quad_hex", "ipv6", "marked", "zero_groups", "expanded", "ipv6_hex")
    step_columns = [f"_{hex_column}_{step}" for step in steps]
    text, quad, quad_octets, quad_hex, ipv6, marked, zero_groups, expanded, ipv6_hex = step_columns
    is_ipv6 = F.col(text).contains(":")
    staged = (
        df.withColumn(text, F.lower(F.btrim(_without_zone_id(F.col(text_column)), F.lit(_WHITESPACE))))
        # The dotted quad: the whole text of an IPv4 address, the last group of an IPv6 one.
        .withColumn(quad, F.when(is_ipv6, _last_group(F.col(text))).otherwise(F.col(text)))
        .withColumn(quad_octets, _ipv4_octets(F.col(quad)))
        .withColumn(quad_hex, _ipv4_hex(F.col(quad_octets)))
        .withColumn(ipv6, F.when(is_ipv6, _with_ipv4_tail_as_groups(F.col(text), F.col(quad), F.col(quad_hex))))
        .withColumn(marked, _marked_elision(F.col(ipv6)))
        .withColumn(zero_groups, _zero_groups(F.col(marked)))
        .withColumn(expanded, _expanded(F.col(marked), F.col(zero_groups)))
    )
    well_formed_ipv6 = (
        F.col(ipv6).rlike(_IPV6_CHARS)
        & ~F.col(ipv6).rlike(_IPV6_TWO_ELISIONS)
        & (~F.col(ipv6).contains("::") | (F.col(zero_groups) >= 1))
        & F.col(expanded).rlike(_IPV6_EIGHT_GROUPS)
    )
    return (
        staged.withColumn(ipv6_hex, F.when(well_formed_ipv6, _padded_groups(F.col(expanded))))
        .withColumn(hex_column, F.when(F.col(ipv6).isNull(), F.col(quad_hex)).otherwise(F.col(ipv6_hex)))
        .drop(*step_columns)
    )


def is_ipv4_hex(hex_col: Column) -> Column:
    return hex_col.startswith(IPV4_MAPPED_PREFIX)


def _ipv4_text(hex_col: Column) -> Column:
    return F.concat_ws(".", *[F.conv(F.substring(hex_col, 25 + 2 * i, 2), 16, 10) for i in range(4)])


def _longest_zero_run_elided(framed: Column) -> Column:
    """Replace the longest (first, on ties) run of two or more zero groups of ':g:...:g:' with '::'
    (RFC 5952), then drop the framing colons."""
    result = framed
    for run in range(2, 9):  # a longer run, tested later, takes precedence
        pattern = rf"^(.*?):(?:0:){{{run}}}(.*)$"
        result = F.when(framed.rlike(pattern), F.regexp_replace(framed, pattern, "$1::$2")).otherwise(result)
    return F.regexp_replace(result, r"^:(?!:)|(?<!:):$", "")


def _ipv6_framed(hex_col: Column) -> Column:
    """32 hex digits -> ':2001:db8:0:0:0:0:0:1:': groups without leading zeros, framed by colons."""
    groups = F.regexp_replace(hex_col, r"(.{4})(?!$)", "$1:")
    without_leading_zeros = F.regexp_replace(groups, r"(^|:)0{1,3}", "$1")
    return F.concat(F.lit(":"), without_leading_zeros, F.lit(":"))


def with_ip_text(df: DataFrame, hex_column: str, ip_column: str) -> DataFrame:
    """Add `ip_column`: the canonical text of the address in `hex_column` (from `with_ip_hex`):
    a dotted quad for IPv4 (and IPv4-mapped), RFC 5952 for IPv6; null for null.

    The framed IPv6 groups are a column of their own, since the zero-run search reads them
    fifteen times: as one nested expression, that made the generated code too large for the
    JIT to compile.
    """
    hex_col = F.col(hex_column)
    framed = f"_{ip_column}_framed"
    return (
        df.withColumn(framed, F.when(~is_ipv4_hex(hex_col), _ipv6_framed(hex_col)))
        .withColumn(
            ip_column,
            F.when(hex_col.isNull(), F.lit(None))
            .when(is_ipv4_hex(hex_col), _ipv4_text(hex_col))
            .otherwise(_longest_zero_run_elided(F.col(framed))),
        )
        .drop(framed)
    )


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

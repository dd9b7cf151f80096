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
_HEX_DIGITS = "0123456789abcdef"
_IPV6_CHARS = _HEX_DIGITS + ":"
_ELISION_MARK = "x"  # not a hex digit, so it cannot clash with a group
# The pattern ends in \z, not $: Java's $ also matches before a final line break, which let
# "::1\n" through with a wrong key. Whitespace around an address (CRLF exports) is trimmed first.
# IPv6 is checked with string functions: regexes cost several times more per address.
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


def _written_canonically(octets_column: Column) -> Column:
    """No octet of a dotted quad has a leading zero ('10.1.2.3', not '010.001.002.003'): then the
    text is its own canonical form. String tests only: cheaper than writing the text again."""
    padded = [F.get(octets_column, index).startswith("0") & (F.length(F.get(octets_column, index)) > 1)
              for index in range(4)]
    return ~(padded[0] | padded[1] | padded[2] | padded[3])


def _last_group(text: Column) -> Column:
    """What follows the last ':' (a dotted IPv4 tail such as in '::ffff:1.2.3.4', or a group)."""
    return F.substring_index(text, ":", -1)


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
    marked = F.when(marked.startswith(f":{_ELISION_MARK}"), F.right(marked, F.length(marked) - 1)).otherwise(marked)
    return F.when(marked.endswith(f"{_ELISION_MARK}:"), F.left(marked, F.length(marked) - 1)).otherwise(marked)


def _zero_groups(marked: Column) -> Column:
    """How many zero groups the mark stands for: 8 minus the other groups present."""
    colons = F.length(marked) - F.length(F.replace(marked, F.lit(":"), F.lit("")))
    return 8 - colons


def _expanded(marked: Column, zero_groups: Column) -> Column:
    zeros = F.substring(F.repeat(F.lit("0:"), zero_groups), 1, zero_groups * 2 - 1)
    return F.replace(marked, F.lit(_ELISION_MARK), zeros)


def _only_ipv6_chars(text: Column) -> Column:
    return (F.length(text) > 0) & (F.translate(text, _IPV6_CHARS, "") == "")


def _two_elisions(text: Column) -> Column:
    """'::' twice ('1::2::3'), or ':::'."""
    without = F.replace(text, F.lit("::"), F.lit(""))
    return text.contains(":::") | (F.length(text) - F.length(without) > 2)


def _eight_groups(expanded: Column, parts: Column) -> Column:
    """Eight groups of one to four digits: seven colons, no empty group, no five digits in a row
    (`expanded` holds digits and colons only)."""
    digits_as_d = F.translate(expanded, _HEX_DIGITS, "d" * len(_HEX_DIGITS))
    empty_group = expanded.startswith(":") | expanded.endswith(":") | expanded.contains("::")
    return (F.size(parts) == 8) & ~empty_group & ~digits_as_d.contains("ddddd")


def _padded_groups(parts: Column) -> Column:
    """['1', '0', 'ab', ...] (eight groups) -> '000100000000ab...': each left-padded to 4 digits."""
    return F.concat(*[F.lpad(F.get(parts, index), 4, "0") for index in range(8)])


def with_ip_hex(df: DataFrame, text_column: str, hex_column: str, quad_column: str | None = None) -> DataFrame:
    """Add `hex_column`: 32 hex digits of the address in `text_column` (IPv4 in the mapped
    range), or null when it is not an IP.

    With `quad_column`, also add the address's text there when it is a valid dotted quad already
    written canonically (null otherwise), for `with_ip_text(..., quad_column=...)`: most
    firewalls log IPv4 canonically, and building that text again from the key costs more per
    address than parsing it.

    Decimal IPv4 octets with leading zeros ("010.001.002.003") are read as decimal, as
    firewalls that pad them mean. Spaces, tabs and line breaks around the address are ignored;
    inside it they make it invalid. An IPv6 zone id ("%eth0") is dropped; '::' and a dotted
    IPv4 tail are understood.

    Built in steps, each a column of its own: every intermediate value is computed once
    per row, and the expressions stay small enough for Spark to generate code for them
    (nesting them instead multiplies the expression tree).
    """
    steps = ("text", "quad", "quad_octets", "quad_hex", "ipv6", "marked", "zero_groups", "expanded", "parts",
             "ipv6_hex")
    step_columns = [f"_{hex_column}_{step}" for step in steps]
    text, quad, quad_octets, quad_hex, ipv6, marked, zero_groups, expanded, parts, ipv6_hex = step_columns
    is_ipv6 = F.col(text).contains(":")
    staged = (
        df.withColumn(text, F.btrim(_without_zone_id(F.col(text_column)), F.lit(_WHITESPACE)))
        # The dotted quad: the whole text of an IPv4 address, the last group of an IPv6 one.
        .withColumn(quad, F.when(is_ipv6, _last_group(F.col(text))).otherwise(F.col(text)))
        .withColumn(quad_octets, _ipv4_octets(F.col(quad)))
        .withColumn(quad_hex, _ipv4_hex(F.col(quad_octets)))
        # Lower case for IPv6 alone: a dotted quad has no letters (one with letters fails its check anyway).
        .withColumn(ipv6, F.when(is_ipv6, F.lower(_with_ipv4_tail_as_groups(F.col(text), F.col(quad),
                                                                            F.col(quad_hex)))))
        .withColumn(marked, _marked_elision(F.col(ipv6)))
        .withColumn(zero_groups, _zero_groups(F.col(marked)))
        .withColumn(expanded, _expanded(F.col(marked), F.col(zero_groups)))
        .withColumn(parts, F.split(F.col(expanded), ":"))
    )
    well_formed_ipv6 = (
        _only_ipv6_chars(F.col(ipv6))
        & ~_two_elisions(F.col(ipv6))
        & (~F.col(ipv6).contains("::") | (F.col(zero_groups) >= 1))
        & _eight_groups(F.col(expanded), F.col(parts))
    )
    keyed = (
        staged.withColumn(ipv6_hex, F.when(well_formed_ipv6, _padded_groups(F.col(parts))))
        .withColumn(hex_column, F.when(F.col(ipv6).isNull(), F.col(quad_hex)).otherwise(F.col(ipv6_hex)))
    )
    if quad_column:
        canonical = F.col(ipv6).isNull() & F.col(quad_hex).isNotNull() & _written_canonically(F.col(quad_octets))
        keyed = keyed.withColumn(quad_column, F.when(canonical, F.col(text)))
    return keyed.drop(*step_columns)


def is_ipv4_hex(hex_col: Column) -> Column:
    return hex_col.startswith(IPV4_MAPPED_PREFIX)


def _top32(hex_col: Column, first_digit: int) -> Column:
    """Eight hex digits of a key from `first_digit` (1-based) as a number: 25 gives an IPv4 address."""
    return F.conv(F.substring(hex_col, first_digit, 8), 16, 10).cast("long")


def _ipv4_text(hex_col: Column) -> Column:
    """The dotted quad of an IPv4 key: its last 8 digits read once as a number, then each octet
    shifted out (a `conv` per octet cost about twice as much per address)."""
    number = _top32(hex_col, 25)
    return F.concat_ws(".", *[F.shiftright(number, 24 - 8 * i).bitwiseAND(255).cast("string") for i in range(4)])


def _ipv6_groups(hex_col: Column) -> Column:
    """32 hex digits -> the eight groups as an array, without leading zeros ('0db8' -> 'db8')."""
    groups = []
    for index in range(8):
        digits = F.ltrim(F.substring(hex_col, 4 * index + 1, 4), F.lit("0"))
        groups.append(F.when(digits == "", F.lit("0")).otherwise(digits))
    return F.array(*groups)


def _zero_mask(groups: Column) -> Column:
    """'1' per zero group, '0' per other group: '2001:db8:0:0:1:0:0:1' -> '00110110'."""
    return F.concat(*[F.when(F.get(groups, index) == "0", F.lit("1")).otherwise(F.lit("0")) for index in range(8)])


def _longest_zero_run(mask: Column) -> Column:
    """The length of the longest run of two or more zero groups, or 0 (RFC 5952 elides no
    single zero group)."""
    length = F.lit(0)
    for run in range(2, 9):  # a longer run, tested later, takes precedence
        length = F.when(F.instr(mask, "1" * run) > 0, F.lit(run)).otherwise(length)
    return length


def _joined(groups: Column, start: Column, length: Column) -> Column:
    return F.concat_ws(":", F.slice(groups, start, length))


def _ipv6_text(groups: Column, mask: Column, run: Column) -> Column:
    """RFC 5952 text: the first of the longest zero runs replaced by '::'."""
    first = F.instr(mask, F.repeat(F.lit("1"), run))
    after = first + run
    elided = F.concat(_joined(groups, F.lit(1), first - 1), F.lit("::"), _joined(groups, after, 9 - after))
    return F.when(run == 0, _joined(groups, F.lit(1), F.lit(8))).otherwise(elided)


def with_ip_text(df: DataFrame, hex_column: str, ip_column: str, quad_column: str | None = None) -> DataFrame:
    """Add `ip_column`: the canonical text of the address in `hex_column` (from `with_ip_hex`):
    a dotted quad for IPv4 (and IPv4-mapped), RFC 5952 for IPv6; null for null.

    `quad_column` (from `with_ip_hex(..., quad_column=...)`, dropped here): the text where the
    input already was a canonical dotted quad; it is taken as it is.

    IPv6 is built from its groups and a mask of the zero groups, in which plain substring
    searches find the longest zero run (regexes cost far more per address). The groups, the
    mask and the run are columns of their own, each computed once per row.
    """
    hex_col = F.col(hex_column)
    groups, mask, run = (f"_{ip_column}_{step}" for step in ("groups", "mask", "run"))
    text = (F.when(hex_col.isNull(), F.lit(None))
            .when(is_ipv4_hex(hex_col), _ipv4_text(hex_col))
            .otherwise(_ipv6_text(F.col(groups), F.col(mask), F.col(run))))
    return (
        df.withColumn(groups, F.when(~is_ipv4_hex(hex_col), _ipv6_groups(hex_col)))
        .withColumn(mask, F.when(F.col(groups).isNotNull(), _zero_mask(F.col(groups))))
        .withColumn(run, _longest_zero_run(F.col(mask)))
        .withColumn(ip_column, F.coalesce(F.col(quad_column), text) if quad_column else text)
        .drop(groups, mask, run, *([quad_column] if quad_column else []))
    )


def ip_family(hex_col: Column) -> Column:
    """4 or 6 (IPv4-mapped IPv6 counts as 4, like its canonical text)."""
    return F.when(is_ipv4_hex(hex_col), F.lit(4)).otherwise(F.lit(6))


def ip_bucket(hex_col: Column, ipv4_bits: int, ipv6_bits: int) -> Column:
    """The first `ipv4_bits` of an IPv4 address or `ipv6_bits` of an IPv6 one, as a long.

    This is the hash key of the subnet join; the bit counts come from the subnet index.
    """
    return F.when(is_ipv4_hex(hex_col), F.shiftright(_top32(hex_col, 25), 32 - ipv4_bits)).otherwise(
        F.shiftright(_top32(hex_col, 1), 32 - ipv6_bits)
    )

"""IP addresses as Spark columns: parsing, canonical text, and 128-bit keys for range joins.

Everything here is built from Spark's own string and regex expressions, so that it runs in
the JVM without Python workers, and without higher-order functions, so that Spark generates
code for it (one higher-order function in a projection makes Spark interpret the whole
projection, which made the validation of SMB candidates the slowest step of a run).

The parsing steps are written as SQL expressions (`F.expr`), each handed to Spark whole: built
with pyspark's column functions, the two addresses of a run took about 2,600 calls from Python
to the JVM, a third of a warm run's driver time (docs/performance.md); the expressions, and so
the plans, are the same.

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
_ZONE_ID = r"%[^%]*\z"
_DOT = r"\."


def _name(column: str) -> str:
    """A top-level column's name as a SQL identifier (quoted whole: a dot is part of the name)."""
    return "`" + column.replace("`", "``") + "`"


def _text(value: str) -> str:
    """A SQL string literal, raw (`r'...'`): Spark reads no escape in it whatever the session's
    `spark.sql.parser.escapedStringLiterals`, so a regex is written as in Python."""
    if "'" in value:
        raise ValueError(f"no quote in a raw SQL literal: {value!r}")
    return f"r'{value}'"


def _when(condition: str, value: str, otherwise: str | None = None) -> str:
    return f"CASE WHEN {condition} THEN {value}" + (f" ELSE {otherwise}" if otherwise is not None else "") + " END"


def _all(*conditions: str) -> str:
    """`conditions` joined by AND, grouped from the left as pyspark's `&` groups them (the SQL
    parser would balance a long chain), so that the plans are those the column functions made."""
    joined = conditions[0]
    for condition in conditions[1:]:
        joined = f"({joined} AND {condition})"
    return joined


def _any(*conditions: str) -> str:
    """`conditions` joined by OR, grouped from the left (see `_all`)."""
    joined = conditions[0]
    for condition in conditions[1:]:
        joined = f"({joined} OR {condition})"
    return joined


def _ipv4_octets(text: str) -> str:
    """The four decimal octets of a dotted quad, or null. One regex to check the shape, then a
    plain split: regexes are the costly part of parsing."""
    return _when(f"{text} RLIKE {_text(_IPV4)}", f"split({text}, {_text(_DOT)})")


def _octet(octets: str, index: int) -> str:
    return f"get({octets}, {index})"


def _ipv4_hex(octets: str) -> str:
    numbers = [f"CAST({_octet(octets, index)} AS BIGINT)" for index in range(4)]
    number = f"{numbers[0]} * 16777216 + {numbers[1]} * 65536 + {numbers[2]} * 256 + {numbers[3]}"
    in_range = _all(*[f"{value} <= 255" for value in numbers])
    return _when(in_range, f"concat({_text(IPV4_MAPPED_PREFIX)}, lpad(lower(hex({number})), 8, '0'))")


def _written_canonically(octets: str) -> str:
    """No octet of a dotted quad has a leading zero ('10.1.2.3', not '010.001.002.003'): then the
    text is its own canonical form. String tests only: cheaper than writing the text again."""
    padded = [_all(f"startswith({_octet(octets, i)}, '0')", f"length({_octet(octets, i)}) > 1") for i in range(4)]
    return f"NOT {_any(*padded)}"


def _last_group(text: str) -> str:
    """What follows the last ':' (a dotted IPv4 tail such as in '::ffff:1.2.3.4', or a group)."""
    return f"substring_index({text}, ':', -1)"


def _with_ipv4_tail_as_groups(text: str, tail: str, tail_hex: str) -> str:
    """'::ffff:1.2.3.4' -> '::ffff:0102:0304'. A tail that is not a valid dotted quad is kept as
    it is, and its dots then fail the IPv6 check."""
    groups = f"concat(substring({tail_hex}, 25, 4), ':', substring({tail_hex}, 29, 4))"
    head = f"left({text}, length({text}) - length({tail}))"
    return _when(f"{tail_hex} IS NOT NULL", f"concat({head}, {groups})", text)


def _without_zone_id(text: str) -> str:
    return _when(f"contains({text}, '%')", f"regexp_replace({text}, {_text(_ZONE_ID)}, '')", text)


def _marked_elision(text: str) -> str:
    """'::' as one marked group: '1::2' -> '1:x:2', '::1' -> 'x:1', '::' -> 'x'."""
    marked = f"replace({text}, '::', ':{_ELISION_MARK}:')"
    marked = _when(f"startswith({marked}, ':{_ELISION_MARK}')", f"right({marked}, length({marked}) - 1)", marked)
    return _when(f"endswith({marked}, '{_ELISION_MARK}:')", f"left({marked}, length({marked}) - 1)", marked)


def _zero_groups(marked: str) -> str:
    """How many zero groups the mark stands for: 8 minus the other groups present."""
    return f"8 - (length({marked}) - length(replace({marked}, ':', '')))"


def _expanded(marked: str, zero_groups: str) -> str:
    zeros = f"substring(repeat('0:', {zero_groups}), 1, {zero_groups} * 2 - 1)"
    return f"replace({marked}, '{_ELISION_MARK}', {zeros})"


def _only_ipv6_chars(text: str) -> str:
    return _all(f"length({text}) > 0", f"translate({text}, '{_IPV6_CHARS}', '') = ''")


def _two_elisions(text: str) -> str:
    """'::' twice ('1::2::3'), or ':::'."""
    return _any(f"contains({text}, ':::')", f"length({text}) - length(replace({text}, '::', '')) > 2")


def _eight_groups(expanded: str, parts: str) -> str:
    """Eight groups of one to four digits: seven colons, no empty group, no five digits in a row
    (`expanded` holds digits and colons only)."""
    digits_as_d = f"translate({expanded}, '{_HEX_DIGITS}', '{'d' * len(_HEX_DIGITS)}')"
    empty_group = _any(f"startswith({expanded}, ':')", f"endswith({expanded}, ':')", f"contains({expanded}, '::')")
    return _all(f"size({parts}) = 8", f"NOT {empty_group}", f"NOT contains({digits_as_d}, 'ddddd')")


def _padded_groups(parts: str) -> str:
    """['1', '0', 'ab', ...] (eight groups) -> '000100000000ab...': each left-padded to 4 digits."""
    return "concat(" + ", ".join(f"lpad(get({parts}, {index}), 4, '0')" for index in range(8)) + ")"


def _with_steps(df: DataFrame, steps: dict[str, str]) -> DataFrame:
    """Add each step's column in turn (a step reads the columns of the steps before it)."""
    for column, expression in steps.items():
        df = df.withColumn(column, F.expr(expression))
    return df


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
    text, quad, quad_octets, quad_hex, ipv6, marked, zero_groups, expanded, parts, ipv6_hex = map(_name, step_columns)
    is_ipv6 = f"contains({text}, ':')"
    well_formed_ipv6 = _all(
        _only_ipv6_chars(ipv6),
        f"NOT {_two_elisions(ipv6)}",
        _any(f"NOT contains({ipv6}, '::')", f"{zero_groups} >= 1"),
        _eight_groups(expanded, parts),
    )
    expressions = [
        f"btrim({_without_zone_id(_name(text_column))}, {_text(_WHITESPACE)})",
        # The dotted quad: the whole text of an IPv4 address, the last group of an IPv6 one.
        _when(is_ipv6, _last_group(text), text),
        _ipv4_octets(quad),
        _ipv4_hex(quad_octets),
        # Lower case for IPv6 alone: a dotted quad has no letters (one with letters fails its check anyway).
        _when(is_ipv6, f"lower({_with_ipv4_tail_as_groups(text, quad, quad_hex)})"),
        _marked_elision(ipv6),
        _zero_groups(marked),
        _expanded(marked, zero_groups),
        f"split({expanded}, ':')",
        _when(well_formed_ipv6, _padded_groups(parts)),
    ]
    steps_sql = dict(zip(step_columns, expressions, strict=True))
    steps_sql[hex_column] = _when(f"{ipv6} IS NULL", quad_hex, ipv6_hex)
    if quad_column:
        canonical = _all(f"{ipv6} IS NULL", f"{quad_hex} IS NOT NULL", _written_canonically(quad_octets))
        steps_sql[quad_column] = _when(canonical, text)
    return _with_steps(df, steps_sql).drop(*step_columns)


# Two facts about a key, each in the two forms the module needs: a column for the subnet joins
# (`transforms.subnets`, whose conditions name each side's columns) and SQL text for the steps.


def is_ipv4_hex(hex_col: Column) -> Column:
    return hex_col.startswith(IPV4_MAPPED_PREFIX)


def _is_ipv4_key(key: str) -> str:
    """`is_ipv4_hex` as SQL text."""
    return f"startswith({key}, {_text(IPV4_MAPPED_PREFIX)})"


def _top32(hex_col: Column, first_digit: int) -> Column:
    """Eight hex digits of a key from `first_digit` (1-based) as a number: 25 gives an IPv4 address."""
    return F.conv(F.substring(hex_col, first_digit, 8), 16, 10).cast("long")


def _top32_sql(key: str, first_digit: int) -> str:
    """`_top32` as SQL text."""
    return f"CAST(conv(substring({key}, {first_digit}, 8), 16, 10) AS BIGINT)"


def _ipv4_text(key: str) -> str:
    """The dotted quad of an IPv4 key: its last 8 digits read once as a number, then each octet
    shifted out (a `conv` per octet cost about twice as much per address)."""
    number = _top32_sql(key, 25)
    octets = [f"CAST(shiftright({number}, {24 - 8 * i}) & 255 AS STRING)" for i in range(4)]
    return f"concat_ws('.', {', '.join(octets)})"


def _ipv6_groups(key: str) -> str:
    """32 hex digits -> the eight groups as an array, without leading zeros ('0db8' -> 'db8')."""
    groups = []
    for index in range(8):
        digits = f"TRIM(LEADING '0' FROM substring({key}, {4 * index + 1}, 4))"
        groups.append(_when(f"{digits} = ''", "'0'", digits))
    return f"array({', '.join(groups)})"


def _zero_mask(groups: str) -> str:
    """'1' per zero group, '0' per other group: '2001:db8:0:0:1:0:0:1' -> '00110110'."""
    return "concat(" + ", ".join(_when(f"get({groups}, {index}) = '0'", "'1'", "'0'") for index in range(8)) + ")"


def _longest_zero_run(mask: str) -> str:
    """The length of the longest run of two or more zero groups, or 0 (RFC 5952 elides no
    single zero group)."""
    length = "0"
    for run in range(2, 9):  # a longer run, tested later, takes precedence
        length = _when(f"instr({mask}, '{'1' * run}') > 0", str(run), length)
    return length


def _joined(groups: str, start: str, length: str) -> str:
    return f"concat_ws(':', slice({groups}, {start}, {length}))"


def _ipv6_text(groups: str, mask: str, run: str) -> str:
    """RFC 5952 text: the first of the longest zero runs replaced by '::'."""
    first = f"instr({mask}, repeat('1', {run}))"
    after = f"({first} + {run})"
    elided = f"concat({_joined(groups, '1', f'{first} - 1')}, '::', {_joined(groups, after, f'9 - {after}')})"
    return _when(f"{run} = 0", _joined(groups, "1", "8"), elided)


def with_ip_text(df: DataFrame, hex_column: str, ip_column: str, quad_column: str | None = None) -> DataFrame:
    """Add `ip_column`: the canonical text of the address in `hex_column` (from `with_ip_hex`):
    a dotted quad for IPv4 (and IPv4-mapped), RFC 5952 for IPv6; null for null.

    `quad_column` (from `with_ip_hex(..., quad_column=...)`, dropped here): the text where the
    input already was a canonical dotted quad; it is taken as it is.

    IPv6 is built from its groups and a mask of the zero groups, in which plain substring
    searches find the longest zero run (regexes cost far more per address). The groups, the
    mask and the run are columns of their own, each computed once per row.
    """
    step_columns = [f"_{ip_column}_{step}" for step in ("groups", "mask", "run")]
    groups, mask, run = map(_name, step_columns)
    key = _name(hex_column)
    is_ipv4 = _is_ipv4_key(key)
    text = (f"CASE WHEN {key} IS NULL THEN NULL WHEN {is_ipv4} THEN {_ipv4_text(key)} "
            f"ELSE {_ipv6_text(groups, mask, run)} END")
    steps = {
        step_columns[0]: _when(f"NOT {is_ipv4}", _ipv6_groups(key)),
        step_columns[1]: _when(f"{groups} IS NOT NULL", _zero_mask(groups)),
        step_columns[2]: _longest_zero_run(mask),
        ip_column: f"coalesce({_name(quad_column)}, {text})" if quad_column else text,
    }
    return _with_steps(df, steps).drop(*step_columns, *([quad_column] if quad_column else []))


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

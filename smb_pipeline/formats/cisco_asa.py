"""`cisco_asa`: Cisco ASA (and FTD) syslog kept as text: `timestamp`, `host`, `message`.

The message is parsed with Spark's regex functions only. Built (302013 TCP / 302015 UDP)
and access-list `permitted` / `est-allowed` (106100) are allowed; Teardown (302014 /
302016) is the session end and shares its Built line's session key (host|connection id);
Deny (106023 and other 106xxx, 313xxx, 710003) is blocked.
"""

from __future__ import annotations

from collections.abc import Mapping

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from smb_pipeline.formats.base import Fields, FormatContext, port_text, protocol_name
from smb_pipeline.formats.declarative import declare
from smb_pipeline.formats.spec import Computed, Parse, VendorSpec
from smb_pipeline.formats.text import syslog_time

BUILT_IDS = frozenset({"302013", "302015"})
TEARDOWN_IDS = frozenset({"302014", "302016"})
ACL_ID = "106100"
ACL_ALLOWED = frozenset({"permitted", "est-allowed"})
# 106xxx (except 106100, which carries its own verdict), 313xxx and 710003 are denials.
DENY_ID_PATTERN = r"^(106\d{3}|313\d{3}|710003)$"

_ADDR = r"([0-9A-Fa-f.:]+)"
# Built/Teardown: "<verb> [inbound|outbound] [Probe] TCP connection <id> for <if>:<ip>/<port> ... to <if>:<ip>/<port>"
CONNECTION_RE = (
    r"(Built|Teardown) (?:(inbound|outbound) )?(?:Probe )?(TCP|UDP) connection (\d+) "
    rf"for (.+?):{_ADDR}/(\d+)\b.*? to (.+?):{_ADDR}/(\d+)"
)
# 106100: "access-list <acl> <verdict> <proto> <if>/<ip>(<port>) -> <if>/<ip>(<port>)"
ACL_RE = rf"access-list (\S+) (permitted|denied|est-allowed) (\w+) (.+?)/{_ADDR}\((\d+)\) -> (.+?)/{_ADDR}\((\d+)\)"
# 106023 and kin: "Deny <proto> src <if>:<ip>/<port> dst <if>:<ip>/<port>"
DENY_RE = rf"Deny (\w+) src (.+?):{_ADDR}/(\d+) dst (.+?):{_ADDR}/(\d+)"
MESSAGE_ID_RE = r"%(?:ASA|FTD|PIX)-(?:session-)?\d-(\d{6})"


def _group(message: Column, pattern: str, index: int) -> Column:
    """A regex group, null (not '') when the pattern does not match."""
    value = F.regexp_extract(message, pattern, index)
    return F.when(value != "", value)


_MATCH_MARK = "\u0002"
_GROUP_SEPARATOR = "\u0001"


def _all_groups(message: Column, pattern: str, groups: int) -> Column:
    """The groups of the first match of `pattern`, as an array read with `_element`.

    One regex run per row for all groups: `regexp_extract` runs the whole pattern once per
    group, and the message patterns have up to ten. The array's first item is a mark when
    the pattern matched; otherwise the array holds the message alone. A message that holds the
    separator itself (a control character) is left unparsed rather than split wrongly.
    """
    # Only the padding around the match crosses line breaks; the pattern reads as it always did.
    whole_message = rf"^(?s:.*?)(?:{pattern})(?s:.*)\z"
    listed = _GROUP_SEPARATOR.join([_MATCH_MARK] + [f"${index}" for index in range(1, groups + 1)])
    rewritten = F.regexp_replace(message, whole_message, listed)
    return F.when(~message.contains(_GROUP_SEPARATOR), F.split(rewritten, _GROUP_SEPARATOR))


def _matched(groups: Column) -> Column:
    """An `_all_groups` array when its pattern matched, else null."""
    return F.when(F.get(groups, 0) == _MATCH_MARK, groups)


def _element(groups: Column, index: int) -> Column:
    """Group `index` (1-based) of a `_matched` array; null when the pattern did not match
    or the group is empty."""
    value = F.get(groups, index)
    return F.when(value != "", value)


def prefilter_cisco_asa(fields: Fields, context: FormatContext) -> Column:
    """`message IS NOT NULL`, a connection or ACL verb, and an SMB port as the message
    patterns read ports: a whole digit run after '/' or '(', leading zeros allowed.

    The verbs are cheap `contains` tests (case-sensitive, as the patterns are) that run first;
    the port regex runs only on their survivors. Normalize parses the exact port.
    """
    message = fields.col("message")
    ports = "|".join(str(port) for port in context.smb_ports)
    smb_port = message.rlike(rf"[/(]0*({ports})(?!\d)")
    verbs = message.contains("Built ") | message.contains("Teardown ") | message.contains("access-list ")
    return message.isNotNull() & verbs & smb_port


_MSG_ID, _CONNECTION, _ACL, _DENY = "_asa_msg_id", "_asa_connection", "_asa_acl", "_asa_deny"


def _with_matches(df: DataFrame, message: Column) -> DataFrame:
    """Each message pattern run once per row, into a column of its own: the expressions read
    these many times, and inlining them re-ran the regexes (and made the generated code too
    large for the JIT)."""
    matches = {_CONNECTION: (CONNECTION_RE, 10), _ACL: (ACL_RE, 9), _DENY: (DENY_RE, 7)}
    return (
        df.withColumn(_MSG_ID, _group(message, MESSAGE_ID_RE, 1))
        .withColumns({name: _all_groups(message, pattern, groups) for name, (pattern, groups) in matches.items()})
        .withColumns({name: _matched(F.col(name)) for name in matches})
    )


def _conn(index: int) -> Column:
    return _element(F.col(_CONNECTION), index)


def _acl(index: int) -> Column:
    return _element(F.col(_ACL), index)


def _deny(index: int) -> Column:
    return _element(F.col(_DENY), index)


def _action(msg_id: Column) -> Column:
    """The verdict from the message id alone: a Built line whose endpoints do not parse stays
    'allowed' with null IPs, so the core rejects it visibly instead of skipping it."""
    is_acl, verdict = msg_id == ACL_ID, _acl(2)
    return (
        F.when(msg_id.isin(*BUILT_IDS), "allowed")
        .when(msg_id.isin(*TEARDOWN_IDS), "teardown")
        .when(is_acl & verdict.isin(*ACL_ALLOWED), "allowed")
        .when(is_acl & (verdict == "denied"), "blocked")
        .when(msg_id.rlike(DENY_ID_PATTERN), "blocked")
    )


def _endpoints(msg_id: Column, context: FormatContext) -> dict[str, Column]:
    """Client and server of a Built/Teardown, ACL or Deny line.

    Both Built and Teardown list the lower-security side first. Built says who initiated:
    inbound = first endpoint is the client, outbound = first endpoint is the server.
    Teardown does not say: the endpoint on an SMB port (and only it) is taken as the server,
    so the teardown lands on the same (src, dest) as its Built line.
    """
    is_built = msg_id.isin(*BUILT_IDS)
    connection = is_built | msg_id.isin(*TEARDOWN_IDS)
    is_acl = msg_id == ACL_ID
    ip1, port1, ip2, port2 = _conn(6), _conn(7), _conn(9), _conn(10)
    smb_ports = [str(port) for port in context.smb_ports]
    first_is_server = F.when(is_built, _conn(2) == "outbound").otherwise(
        port1.isin(*smb_ports) & ~port2.isin(*smb_ports)
    )

    def pick(from_conn_client: Column, from_conn_server: Column, from_acl: Column, from_deny: Column) -> Column:
        return (
            F.when(connection & first_is_server, from_conn_server)
            .when(connection, from_conn_client)
            .when(is_acl, from_acl)
            .otherwise(from_deny)
        )

    return {
        "src_ip": pick(ip1, ip2, _acl(5), _deny(3)),
        "dest_ip": pick(ip2, ip1, _acl(8), _deny(6)),
        "src_port": port_text(pick(port1, port2, _acl(6), _deny(4))),
        "dest_port": port_text(pick(port2, port1, _acl(9), _deny(7))),
    }


# The canonical columns the text parser yields (the rest come from the declaration).
PARSED = ("src_ip", "dest_ip", "src_port", "dest_port", "transport", "action", "vendor_action", "bytes_out", "rule",
          "session_id", "session_key", "direction")


def _fields(message: Column, host: Column) -> dict[str, Column]:
    """The columns other than the endpoints: verdict, transport, bytes, rule and session."""
    msg_id = F.col(_MSG_ID)
    connection = msg_id.isin(*BUILT_IDS) | msg_id.isin(*TEARDOWN_IDS)
    conn_id = _conn(4)
    word = F.coalesce(_acl(2), _conn(1), _group(message, r"%\S+: (\S+)", 1))
    return {
        "transport": protocol_name(F.coalesce(_conn(3), _acl(3), _deny(1))),
        "action": _action(msg_id),
        "vendor_action": F.concat_ws(":", msg_id, word),
        # ASA reports one total for both directions ("bytes N" on Teardown): it goes to
        # bytes_out, bytes_in stays null, so bytes_in + bytes_out is right; the split is unknown.
        "bytes_out": F.when(msg_id.isin(*TEARDOWN_IDS), _group(message, r" bytes (\d+)", 1).try_cast("bigint")),
        "rule": _acl(1),
        "session_id": F.when(connection, conn_id),
        "session_key": F.when(
            connection & conn_id.isNotNull(), F.concat_ws("|", F.coalesce(host, F.lit("")), conn_id)
        ),
        "direction": _conn(2),
    }


def parse_cisco_asa(df: DataFrame, fields: Fields, context: FormatContext) -> tuple[DataFrame, Mapping[str, Column]]:
    """The message's endpoints, verdict, bytes and session, from the Built/Teardown, ACL or Deny pattern.

    In steps, each ended by `context.stage_end` (the generated code of all of them at once is
    too large for the JIT): the regex matches; the endpoints picked from them; the other
    columns. Each step's columns are helper columns (`_asa_<name>`) that the next ones read.
    """
    message = fields.col("message")
    steps = [_endpoints(F.col(_MSG_ID), context), _fields(message, fields.col("host").cast("string"))]
    parsed = _with_matches(df, message)
    for step in steps:
        helpers = {f"_asa_{name}": value for name, value in step.items()}
        parsed = parsed.transform(context.stage_end).withColumns(helpers)
    return parsed, {name: F.col(f"_asa_{name}") for step in steps for name in step}


CISCO_ASA = declare(VendorSpec(
    name="cisco_asa",
    description="Cisco ASA / FTD syslog kept as text (Built/Teardown/106100/Deny messages)",
    columns={
        "event_time": Computed(("timestamp",), syslog_time("timestamp")),
        "dvc": "host",
    },
    parse=Parse(("message",), PARSED, parse_cisco_asa),
    required=("timestamp", "message"),
    prefilter=prefilter_cisco_asa,
    # ASA connection messages name no application: SMB by port only.
))

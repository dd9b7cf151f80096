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


def _element(groups: Column, index: int) -> Column:
    """Group `index` (1-based) of an `_all_groups` array; null when the pattern did not match
    or the group is empty."""
    value = F.get(groups, index)
    return F.when((F.get(groups, 0) == _MATCH_MARK) & (value != ""), value)


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


# The canonical columns the text parser yields (the rest come from the declaration).
PARSED = ("src_ip", "dest_ip", "src_port", "dest_port", "transport", "action", "vendor_action", "bytes_out", "rule",
          "session_id", "session_key", "direction")


def parse_cisco_asa(df: DataFrame, fields: Fields, context: FormatContext) -> tuple[DataFrame, Mapping[str, Column]]:
    """The message's endpoints, verdict, bytes and session, from the Built/Teardown, ACL or Deny pattern."""
    message = fields.col("message")
    host = fields.col("host").cast("string")
    # Each message pattern runs once per row, into a column of its own: the expressions below
    # read these many times, and inlining them re-ran the regexes (and made the generated code
    # too large for the JIT).
    parsed = (
        df.withColumn("_asa_msg_id", _group(message, MESSAGE_ID_RE, 1))
        .withColumn("_asa_connection", _all_groups(message, CONNECTION_RE, 10))
        .withColumn("_asa_acl", _all_groups(message, ACL_RE, 9))
        .withColumn("_asa_deny", _all_groups(message, DENY_RE, 7))
    )
    msg_id = F.col("_asa_msg_id")

    def conn(index: int) -> Column:
        return _element(F.col("_asa_connection"), index)

    def acl(index: int) -> Column:
        return _element(F.col("_asa_acl"), index)

    def deny(index: int) -> Column:
        return _element(F.col("_asa_deny"), index)

    verb, direction, conn_id = conn(1), conn(2), conn(4)
    ip1, port1, ip2, port2 = conn(6), conn(7), conn(9), conn(10)
    # The verdict comes from the message id alone: a Built line whose endpoints do not parse
    # stays 'allowed' with null IPs, so the core rejects it visibly instead of skipping it.
    is_built = msg_id.isin(*BUILT_IDS)
    is_teardown = msg_id.isin(*TEARDOWN_IDS)
    is_acl = msg_id == ACL_ID
    verdict = acl(2)
    smb_ports = [str(port) for port in context.smb_ports]
    # Both Built and Teardown list the lower-security side first. Built says who initiated:
    # inbound = first endpoint is the client, outbound = first endpoint is the server.
    # Teardown does not say: the endpoint on an SMB port (and only it) is taken as the server,
    # so the teardown lands on the same (src, dest) as its Built line.
    first_is_server = F.when(is_built, direction == "outbound").otherwise(
        port1.isin(*smb_ports) & ~port2.isin(*smb_ports)
    )
    connection = is_built | is_teardown

    def pick(from_conn_client: Column, from_conn_server: Column, from_acl: Column, from_deny: Column) -> Column:
        return (
            F.when(connection & first_is_server, from_conn_server)
            .when(connection, from_conn_client)
            .when(is_acl, from_acl)
            .otherwise(from_deny)
        )

    action = (
        F.when(is_built, "allowed")
        .when(is_teardown, "teardown")
        .when(is_acl & verdict.isin(*ACL_ALLOWED), "allowed")
        .when(is_acl & (verdict == "denied"), "blocked")
        .when(msg_id.rlike(DENY_ID_PATTERN), "blocked")
    )
    word = F.coalesce(verdict, verb, _group(message, r"%\S+: (\S+)", 1))
    return parsed, {
        "src_ip": pick(ip1, ip2, acl(5), deny(3)),
        "dest_ip": pick(ip2, ip1, acl(8), deny(6)),
        "src_port": port_text(pick(port1, port2, acl(6), deny(4))),
        "dest_port": port_text(pick(port2, port1, acl(9), deny(7))),
        "transport": protocol_name(F.coalesce(conn(3), acl(3), deny(1))),
        "action": action,
        "vendor_action": F.concat_ws(":", msg_id, word),
        # ASA reports one total for both directions ("bytes N" on Teardown): it goes to
        # bytes_out, bytes_in stays null, so bytes_in + bytes_out is right; the split is unknown.
        "bytes_out": F.when(is_teardown, _group(message, r" bytes (\d+)", 1).try_cast("bigint")),
        "rule": acl(1),
        "session_id": F.when(connection, conn_id),
        "session_key": F.when(
            connection & conn_id.isNotNull(), F.concat_ws("|", F.coalesce(host, F.lit("")), conn_id)
        ),
        "direction": direction,
    }


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

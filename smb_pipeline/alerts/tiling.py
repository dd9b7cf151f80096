"""Overlapping CIDRs turned into disjoint ones, so that an address matches at most one index row.

With disjoint ranges the classification is a plain broadcast join per side, with no aggregation
to pick among several matches: the pairs keep their partitioning (no shuffle is added to the
pair table's write). CIDRs either nest or are disjoint, which keeps this simple.
"""

from __future__ import annotations

import bisect
import ipaddress
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass
class _Piece:
    network: IpNetwork
    label: str | None


def _subnet_of(inner: IpNetwork, outer: IpNetwork) -> bool:
    return inner.version == outer.version and inner.subnet_of(outer)  # type: ignore[arg-type]  # same family


def _without(outer: IpNetwork, inner: IpNetwork) -> list[IpNetwork]:
    """`outer` minus `inner` (same family, `inner` inside `outer`), as disjoint CIDRs."""
    return list(outer.address_exclude(inner))  # type: ignore[arg-type]  # same family


def _start(piece: _Piece) -> int:
    return int(piece.network.network_address)


def _insert(pieces: list[_Piece], network: IpNetwork, label: str | None) -> None:
    """Add `network` to `pieces` (one family's disjoint pieces, ordered by first address).

    Networks come least specific first, so at most one piece holds `network`: the last one
    starting at or before it. That piece is split around it; a piece equal to it (the rest of an
    earlier split) takes its label. Finding the piece by bisection keeps thousands of company
    subnets fast (a scan of every piece per network grew with the square of their number).
    """
    index = bisect.bisect_right(pieces, int(network.network_address), key=_start) - 1
    holder = pieces[index] if index >= 0 and _subnet_of(network, pieces[index].network) else None
    if holder is None:
        pieces.insert(index + 1, _Piece(network, label))
    elif holder.network == network:
        if label is not None:  # a less specific network left this piece: its label is more specific
            holder.label = label
    else:  # the rest keeps the holder's label
        split = [_Piece(rest, holder.label) for rest in _without(holder.network, network)]
        pieces[index:index + 1] = sorted([*split, _Piece(network, label or holder.label)], key=_start)


def disjoint_labelled(networks: Sequence[IpNetwork], labels: Mapping[str, str]) -> list[tuple[IpNetwork, str | None]]:
    """Disjoint CIDRs covering exactly `networks`, each with the label of the most specific
    labelled network holding it (`labels`: CIDR text -> label)."""
    pieces: dict[int, list[_Piece]] = {4: [], 6: []}
    for network in sorted(set(networks), key=lambda n: (n.prefixlen, n.version, n)):
        _insert(pieces[network.version], network, labels.get(str(network)))
    return [(piece.network, piece.label) for version in (4, 6) for piece in pieces[version]]

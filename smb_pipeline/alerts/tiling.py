"""Overlapping CIDRs turned into disjoint ones, so that an address matches at most one index row.

With disjoint ranges the classification is a plain broadcast join per side, with no aggregation
to pick among several matches: the pairs keep their partitioning (no shuffle is added to the
pair table's write). CIDRs either nest or are disjoint, which keeps this simple.
"""

from __future__ import annotations

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


def _insert(pieces: list[_Piece], network: IpNetwork, label: str | None) -> list[_Piece]:
    same_family = [p for p in pieces if p.network.version == network.version]
    outer = next((p for p in same_family if _subnet_of(network, p.network) and p.network != network), None)
    if outer is not None:  # split the piece that holds it; the rest keeps the outer label
        rest = [_Piece(n, outer.label) for n in _without(outer.network, network)]
        return [p for p in pieces if p is not outer] + rest + [_Piece(network, label or outer.label)]
    inner = [p for p in same_family if _subnet_of(p.network, network)]
    if not inner:
        return [*pieces, _Piece(network, label)]
    if label is not None:  # it covers pieces tiled from a less specific network: its label is more specific
        for piece in inner:
            piece.label = label
    return pieces


def disjoint_labelled(networks: Sequence[IpNetwork], labels: Mapping[str, str]) -> list[tuple[IpNetwork, str | None]]:
    """Disjoint CIDRs covering exactly `networks`, each with the label of the most specific
    labelled network holding it (`labels`: CIDR text -> label)."""
    pieces: list[_Piece] = []
    for network in sorted(set(networks), key=lambda n: (n.prefixlen, n.version, n)):
        pieces = _insert(pieces, network, labels.get(str(network)))
    return [(p.network, p.label) for p in pieces]


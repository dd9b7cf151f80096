"""Disjoint tiling of nested company subnets: same coverage, most specific label wins (no Spark)."""

from __future__ import annotations

import ipaddress
import itertools
import random

from smb_pipeline.alerts.tiling import disjoint_labelled
from smb_pipeline.transforms.subnets import collapsed


def _nets(*cidrs):
    return [ipaddress.ip_network(c) for c in cidrs]


def _label_of(tiles, address):
    address = ipaddress.ip_address(address)
    matches = [(network, label) for network, label in tiles if address in network]
    assert len(matches) <= 1, matches  # disjoint
    return matches[0][1] if matches else "none"


def test_tiles_are_disjoint_cover_the_same_addresses_and_keep_the_most_specific_label():
    networks = _nets("10.0.0.0/8", "10.20.5.0/24", "10.20.0.0/16", "10.20.5.7/32", "2001:db8:c0::/48", "192.168.0.0/16")
    labels = {"10.0.0.0/8": "corp", "10.20.5.0/24": "files", "2001:db8:c0::/48": "v6"}
    tiles = disjoint_labelled(networks, labels)
    for version in (4, 6):
        assert collapsed([n for n, _ in tiles if n.version == version]) == collapsed(
            [n for n in networks if n.version == version])
    assert _label_of(tiles, "10.1.1.1") == "corp"
    assert _label_of(tiles, "10.20.1.1") == "corp"      # 10.20.0.0/16 has no label: its parent's
    assert _label_of(tiles, "10.20.5.1") == "files"
    assert _label_of(tiles, "10.20.5.7") == "files"     # an unlabelled /32 inside keeps the /24's label
    assert _label_of(tiles, "192.168.1.1") is None
    assert _label_of(tiles, "2001:db8:c0::1") == "v6"
    assert _label_of(tiles, "8.8.8.8") == "none"


def test_a_labelled_network_covering_earlier_pieces_relabels_them():
    # /8 split by a /24 first, then a labelled /16 covering that /24's neighbours.
    tiles = disjoint_labelled(_nets("10.0.0.0/8", "10.20.5.0/24", "10.20.0.0/16"),
                              {"10.0.0.0/8": "corp", "10.20.5.0/24": "files", "10.20.0.0/16": "dc1"})
    assert [_label_of(tiles, a) for a in ("10.1.1.1", "10.20.9.9", "10.20.5.5")] == ["corp", "dc1", "files"]


def _random_nested(rng: random.Random, root: str, count: int):
    """`count` CIDRs inside `root`, many nested in one another."""
    base = ipaddress.ip_network(root)
    found = [base]
    while len(found) < count:
        outer = rng.choice([n for n in found if n.prefixlen < base.max_prefixlen])
        extra = rng.randint(1, min(8, base.max_prefixlen - outer.prefixlen))
        found.append(rng.choice(list(outer.subnets(prefixlen_diff=extra))))
    return found


def test_random_nested_subnets_tile_with_the_label_of_the_most_specific_labelled_holder():
    rng = random.Random(7)
    networks = _random_nested(rng, "10.0.0.0/8", 90) + _random_nested(rng, "2001:db8::/32", 60)
    labels = {str(n): f"label{i}" for i, n in enumerate(networks) if rng.random() < 0.4}
    tiles = disjoint_labelled(networks, labels)
    for version in (4, 6):
        family = sorted((n for n, _ in tiles if n.version == version), key=lambda n: int(n.network_address))
        assert all(int(a.broadcast_address) < int(b.network_address) for a, b in itertools.pairwise(family))
        assert collapsed(family) == collapsed([n for n in networks if n.version == version])
    for tile, label in tiles:
        holders = [n for n in networks if n.version == tile.version and tile.subnet_of(n) and str(n) in labels]
        assert label == (labels[str(max(holders, key=lambda n: n.prefixlen))] if holders else None), tile

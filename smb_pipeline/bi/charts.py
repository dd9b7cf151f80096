"""Charts of the daily report, drawn by matplotlib and inlined as SVG text.

SVG keeps the page one self-contained file (no image files, no script, nothing fetched),
sharp at any zoom, and readable in a mail client; text is drawn as paths, so no font has
to be present where the page is opened.
"""

from __future__ import annotations

import io
import os
from collections.abc import Sequence


def _pyplot():
    import matplotlib

    if not os.environ.get("MPLBACKEND"):  # a notebook kernel names its inline backend there
        matplotlib.use("Agg")  # no display: the report is built on servers and in CI
    import matplotlib.pyplot as plt

    return plt


def _svg(figure) -> str:
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    text = buffer.getvalue()
    return text[text.index("<svg"):]  # drop the XML prolog and DOCTYPE (which names a URL)


def trend_chart(days: Sequence[dict]) -> str:
    """The trend figure as inline SVG."""
    plt = _pyplot()
    figure = trend_figure(days)
    try:
        return _svg(figure)
    finally:
        plt.close(figure)


def trend_figure(days: Sequence[dict]):
    """Connections (bars) and pairs (line) per day, rejects per day below; rows as `day_counts` gives."""
    plt = _pyplot()
    from matplotlib.ticker import MaxNLocator

    positions = list(range(len(days)))
    figure, (top, bottom) = plt.subplots(2, 1, figsize=(9, 4.4), sharex=True,
                                         gridspec_kw={"height_ratios": [3, 1]})
    bars = top.bar(positions, [row["connections"] for row in days], color="#4c78a8", label="connections")
    pairs_axis = top.twinx()
    (line,) = pairs_axis.plot(positions, [row["pairs"] for row in days], color="#f58518", marker="o",
                              label="pairs")
    top.set_ylabel("connections")
    pairs_axis.set_ylabel("pairs")
    top.set_title("Allowed SMB from outside the company, per day (UTC)", pad=24)
    top.legend(handles=[bars, line], loc="lower left", bbox_to_anchor=(0, 1.0), ncol=2, fontsize=8,
               frameon=False)
    bottom.bar(positions, [row["rejects"] for row in days], color="#e45756")
    bottom.set_ylabel("rejects")
    pairs_axis.set_ylim(0, max([row["pairs"] for row in days] + [1]) * 1.15)  # pairs from zero, as the bars
    for axis, bins in ((top, 6), (pairs_axis, 6), (bottom, 3)):
        axis.yaxis.set_major_locator(MaxNLocator(nbins=bins, integer=True))
    bottom.set_xticks(positions, [row["event_date"].strftime("%m-%d") for row in days])
    bottom.tick_params(axis="x", rotation=60, labelsize=8)
    return figure


def rejects_chart(rows: Sequence[dict]) -> str:
    """Rejected rows per source and reason, as horizontal bars."""
    plt = _pyplot()
    labels = [f"{row['source']} / {row['reason']}" for row in rows][::-1]
    counts = [row["rows"] for row in rows][::-1]
    figure, axis = plt.subplots(figsize=(9, 0.5 + 0.35 * max(1, len(rows))))
    from matplotlib.ticker import MaxNLocator

    axis.barh(range(len(labels)), counts, color="#e45756", tick_label=labels)
    axis.xaxis.set_major_locator(MaxNLocator(integer=True))
    axis.set_xlabel("rejected rows")
    try:
        return _svg(figure)
    finally:
        plt.close(figure)

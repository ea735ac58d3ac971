"""The report's charts, drawn by matplotlib and inlined as SVG text: one helper per chart kind.

Each returns `<figure id=FID>` holding a caption (the question the plot answers, as HTML text so
it wraps) and the SVG. Every plot area and every data artist carries an id (`FID-plotarea`,
`FID-mark-K`) so a test can find each plot's marks in the SVG and its region on a screenshot.
"""
from __future__ import annotations

import html
import io
import math

import matplotlib
from cycler import cycler
from matplotlib.dates import AutoDateLocator, ConciseDateFormatter
from matplotlib.figure import Figure

# Chromatic colours only: axes, text and grid are grey, so a plot's marks are exactly its
# non-grey pixels on a screenshot.
PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf",
           "#bcbd22", "#393b79")
WIDTH = 11.0  # inches; at the SVG's 72 pt per inch the page shows 1,056 px
STYLE = {
    # Text stays text (the browser draws it from a local font), so the page stays small.
    "svg.fonttype": "none",
    # Clip-path and marker ids are hashes of this salt: the same run gives the same bytes.
    "svg.hashsalt": "fraud-data-engine-report",
    "font.family": "sans-serif", "font.sans-serif": ["DejaVu Sans"], "font.size": 10,
    "axes.prop_cycle": cycler(color=PALETTE),
    "axes.spines.top": False, "axes.spines.right": False,
    "axes.grid": True, "grid.color": "#dddddd", "axes.axisbelow": True,
    "legend.frameon": False,
}
# None drops each key, and with it the date, the creator's address and the whole metadata block.
NO_METADATA = {"Date": None, "Creator": None, "Format": None, "Type": None}
PERCENT = "{x:.0%}"
COUNT = "{x:,.0f}"
LONG_LABEL = 6  # characters; longer category labels on an x axis are slanted so they cannot collide


def _figure(fid: str, title: str, height: float, draw, legend: str, data: dict[str, list[float]]) -> str:
    """Run draw(ax) -> data artists on a fresh figure, place the legend, return the figure's HTML,
    or "" when data (the plotted series) holds no value, so the section says it has no data.

    legend: "right" (outside the axes, for a few labels), "below" (in columns under the x axis,
    for many or long labels) or "none".
    """
    if not any(data.values()):
        return ""
    with matplotlib.rc_context(STYLE):
        fig = Figure(figsize=(WIDTH, height), layout="constrained")
        ax = fig.add_subplot()
        ax.patch.set_gid(f"{fid}-plotarea")
        for k, artist in enumerate(draw(ax)):
            artist.set_gid(f"{fid}-mark-{k}")
        handles, labels = ax.get_legend_handles_labels()
        if legend == "right":
            fig.legend(handles, labels, loc="outside right upper")
        elif legend == "below":
            fig.legend(handles, labels, loc="outside lower center", ncols=_columns(labels))
        buf = io.StringIO()
        fig.savefig(buf, format="svg", metadata=NO_METADATA)
    svg = buf.getvalue()
    return (f'<figure id="{fid}"><figcaption>{html.escape(title)}</figcaption>'
            f'{svg[svg.index("<svg"):]}</figure>')


def _columns(labels: list[str]) -> int:
    """As many legend columns as the widest label allows across the figure (about 6 pt a
    character at 10 px, plus the swatch and the gap)."""
    return max(1, min(len(labels), int(WIDTH * 72 // (6 * max(map(len, labels)) + 40))))


def _category_axis(ax, labels: list[str]) -> None:
    if max(map(len, labels), default=0) > LONG_LABEL:
        ax.set_xticks(range(len(labels)), labels, rotation=30, ha="right", rotation_mode="anchor")
    else:
        ax.set_xticks(range(len(labels)), labels)


def lines(fid: str, title: str, x: list, series: dict[str, list[float]], xlabel: str, ylabel: str,
          yfmt: str = COUNT, ticks: dict[float, str] | None = None, height: float = 3.4) -> str:
    """One line per series over shared x values; x may be dates (then the axis shows dates).

    yfmt: the y tick format; ticks: {x: label} to replace the automatic x ticks.
    """
    def draw(ax):
        marks = [ax.plot(x, values, label=name, lw=1.4)[0] for name, values in series.items()]
        if ticks:
            ax.set_xticks(list(ticks), list(ticks.values()))
        elif hasattr(x[0], "year"):
            locator = AutoDateLocator()
            ax.xaxis.set_major_locator(locator)
            ax.xaxis.set_major_formatter(ConciseDateFormatter(locator))
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        ax.set_ylim(bottom=0)
        ax.yaxis.set_major_formatter(yfmt)
        return marks
    return _figure(fid, title, height, draw, "right" if len(series) > 1 else "none", series)


def bars(fid: str, title: str, labels: list[str], groups: dict[str, list[float]], xlabel: str,
         ylabel: str, yfmt: str = COUNT, height: float = 3.2, yscale: str = "linear") -> str:
    """Grouped vertical bars: one group per label, one bar per series; yfmt: the y tick format,
    yscale: linear or log (for values spanning decades)."""
    def draw(ax):
        ax.set_yscale(yscale)
        width = 0.8 / len(groups)
        marks = []
        for k, (name, values) in enumerate(groups.items()):
            offset = (k - (len(groups) - 1) / 2) * width
            marks.extend(ax.bar([i + offset for i in range(len(labels))], values, width, label=name))
        _category_axis(ax, labels)
        ax.yaxis.set_major_formatter(yfmt)
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        return marks
    return _figure(fid, title, height, draw, "right" if len(groups) > 1 else "none", groups)


def shares(fid: str, title: str, labels: list[str], groups: dict[str, list[float]], xlabel: str) -> str:
    """Stacked horizontal bars of shares that sum to one per label; segments of 8 % and more are
    printed, the labels read along the y axis and the legend sits below in columns."""
    def draw(ax):
        left = [0.0] * len(labels)
        marks = []
        for name, values in groups.items():
            bar = ax.barh(range(len(labels)), values, 0.7, left=left, label=name)
            ax.bar_label(bar, labels=[f"{v:.0%}" if v >= 0.08 else "" for v in values],
                         label_type="center", color="white", fontsize=8)
            marks.extend(bar)
            left = [a + b for a, b in zip(left, values)]
        ax.set_yticks(range(len(labels)), labels)
        ax.invert_yaxis()
        ax.set_xlim(0, 1)
        ax.xaxis.set_major_formatter(PERCENT)
        ax.set_xlabel(xlabel)
        return marks
    legend_rows = math.ceil(len(groups) / _columns(list(groups)))
    return _figure(fid, title, 0.9 + 0.38 * len(labels) + 0.25 * legend_rows, draw, "below", groups)


def log_hist(fid: str, title: str, edges: list[float], series: dict[str, list[float]], xlabel: str,
             ylabel: str) -> str:
    """Histograms as steps over log-spaced bin edges, one per series."""
    def draw(ax):
        marks = [ax.stairs(values, edges, label=name, lw=1.6) for name, values in series.items()]
        ax.set_xscale("log")
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        ax.yaxis.set_major_formatter(PERCENT)
        return marks
    return _figure(fid, title, 3.4, draw, "right", series)

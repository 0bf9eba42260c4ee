"""Figures for tables of results: a heatmap, line plots and scatter plots, written atomically
as PNG.

matplotlib is an optional extra (`pip install 'stilts[plot]'`): tables never need it, and
asking for a figure without it is one line saying what to install. Figures are drawn on a
`matplotlib.figure.Figure` directly (no pyplot): no global state, no display backend.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from stilts.errors import StiltsError
from stilts.store.files import write_bytes

INSTALL = "pip install 'stilts[plot]'"


def figure(width: float, height: float) -> Any:
    try:
        from matplotlib.figure import Figure
    except ImportError:
        raise StiltsError(f"figures need matplotlib: {INSTALL} (or pass --no-plot)") from None
    return Figure(figsize=(width, height))


def heatmap(
    path: Path,
    values: Sequence[Sequence[float]],
    rows: Sequence[str],
    columns: Sequence[str],
    *,
    title: str,
    label: str,
    diverging: bool,
) -> None:
    """A grid of values (NaN: no value), each written in its cell; `diverging` centres the
    colours on zero (gains), otherwise they run from the lowest value to the highest."""
    drawing = figure(max(5.0, 1.2 * len(columns) + 3), 0.5 * len(rows) + 2)
    from matplotlib.colors import Normalize, TwoSlopeNorm

    axes = drawing.add_subplot()
    finite = [v for line in values for v in line if v == v] or [0.0]
    norm: Normalize
    if diverging:
        bound = max(1e-9, *(abs(v) for v in finite))
        norm, cmap = TwoSlopeNorm(0.0, -bound, bound), "RdBu"
    else:
        low, high = min(finite), max(finite)
        norm, cmap = Normalize(low, max(high, low + 1e-9)), "viridis"
    image = axes.imshow(values, cmap=cmap, norm=norm, aspect="auto")
    axes.set_xticks(range(len(columns)), columns, rotation=30, ha="right")
    axes.set_yticks(range(len(rows)), rows)
    for i, line in enumerate(values):
        for j, value in enumerate(line):
            if value == value:  # not NaN
                strong = abs(norm(value) - 0.5) > 0.3  # a dark cell: white text on it
                axes.text(j, i, f"{value:+.1f}" if diverging else f"{value:.1f}",
                          ha="center", va="center", fontsize=8,
                          color="white" if strong else "black")  # fmt: skip
    drawing.colorbar(image, ax=axes, label=label)
    axes.set_title(title, fontsize=9)
    save(drawing, path)


@dataclass(frozen=True)
class Panel:
    """One plot of a line figure: (x, mean y, spread of y) per series name."""

    series: Mapping[str, tuple[Sequence[float], Sequence[float], Sequence[float]]]
    title: str
    x_label: str
    y_label: str
    log_x: bool = False
    references: Mapping[str, float] = field(default_factory=dict)
    """Series name -> a level to compare it with, drawn dashed in the series' colour."""


def lines(path: Path, *panels: Panel) -> None:
    """The panels side by side; in each, one line per series with its spread as a band."""
    drawing = figure(6.0 * len(panels), 4.0)
    for index, panel in enumerate(panels, start=1):
        axes = drawing.add_subplot(1, len(panels), index)
        for name, (x, y, spread) in panel.series.items():
            (line,) = axes.plot(x, y, marker="o", label=name)
            if name in panel.references:
                axes.axhline(panel.references[name], color=line.get_color(), linestyle="--",
                             linewidth=0.8)  # fmt: skip
            low = [m - s for m, s in zip(y, spread, strict=True)]
            high = [m + s for m, s in zip(y, spread, strict=True)]
            axes.fill_between(x, low, high, alpha=0.2)
        if panel.log_x:
            axes.set_xscale("log")
        elif all(float(v).is_integer() for x, _, _ in panel.series.values() for v in x):
            from matplotlib.ticker import MaxNLocator

            axes.xaxis.set_major_locator(MaxNLocator(integer=True))  # counts: no 1.5 tick
        axes.set_xlabel(panel.x_label)
        axes.set_ylabel(panel.y_label)
        axes.set_title(panel.title, fontsize=9)
        axes.legend(fontsize=8)
    save(drawing, path)


def scatter(
    path: Path,
    series: Mapping[str, tuple[Sequence[float], Sequence[float]]],
    *,
    title: str,
    x_label: str,
    y_label: str,
) -> None:
    """One set of points per series name: (x, y), each set in its own colour."""
    drawing = figure(6.0, 4.0)
    axes = drawing.add_subplot()
    for name, (x, y) in series.items():
        axes.scatter(x, y, label=name, s=18, alpha=0.8)
    axes.axhline(0.0, color="grey", linewidth=0.8)
    axes.set_xlabel(x_label)
    axes.set_ylabel(y_label)
    axes.set_title(title, fontsize=9)
    axes.legend(fontsize=8)
    save(drawing, path)


def save(drawing: Any, path: Path) -> None:
    drawing.tight_layout()
    png = io.BytesIO()
    drawing.savefig(png, format="png", dpi=120)
    write_bytes(path, png.getvalue())

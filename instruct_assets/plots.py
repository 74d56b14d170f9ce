"""Figures for MLflow runs, drawn with matplotlib's object API (no pyplot state, no display needed)."""

from collections.abc import Mapping, Sequence


def line_figure(title: str, xlabel: str, series: Mapping[str, tuple[Sequence[float], Sequence[float]]]):
    """One line per series name: (x values, y values)."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=(6, 3.5), layout="constrained")
    axes = figure.subplots()
    for name, (x, y) in series.items():
        axes.plot(list(x), list(y), label=name, linewidth=1.5)
    axes.set_title(title)
    axes.set_xlabel(xlabel)
    axes.grid(alpha=0.3)
    if len(series) > 1:
        axes.legend()
    return figure


def bar_figure(title: str, values: Mapping[str, float], ylabel: str):
    """One bar per name, labelled with its value."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=(max(4, 0.9 * len(values) + 1.5), 3.5), layout="constrained")
    axes = figure.subplots()
    bars = axes.bar(list(values), list(values.values()), color="#4c72b0")
    axes.bar_label(bars, fmt="%.3g", fontsize=8)
    axes.set_title(title)
    axes.set_ylabel(ylabel)
    axes.tick_params(axis="x", labelrotation=30)
    return figure

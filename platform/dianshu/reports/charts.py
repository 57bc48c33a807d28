"""Charts for the printable reports: matplotlib (Agg, no pyplot state, nothing fetched) drawing SVG
that the HTML page embeds inline and the PDF prints as it is.

Bars start at zero on the left axis; a line of another unit gets a real second axis on the right,
auto-ranged with padding (a point value of 207–225 fills its axis instead of lying flat at the top
of one from zero). Both axes carry ticks with thousands separators and their units. Text stays text
(svg.fonttype none) in the CJK font stack, so the page's fonts draw it and a PDF's text holds it;
matplotlib measures with the first CJK font it finds on the machine."""

from __future__ import annotations

import functools
import io
import itertools
import math
import threading
from collections.abc import Sequence
from decimal import Decimal

from markupsafe import Markup

CJK_FONTS = ("Noto Sans CJK SC", "Source Han Sans SC", "WenQuanYi Zen Hei", "Microsoft YaHei", "SimSun")
BAR_COLOUR, LINE_COLOUR = "#5b8fc7", "#c0392b"
# rc_context sets matplotlib's global rcParams: one chart at a time (the API draws in threads).
_LOCK = threading.Lock()


@functools.cache
def _font_stack() -> list[str]:
    """The CJK fonts matplotlib knows first, then the rest of the list, then its own DejaVu Sans
    (Latin and digits). A font installed after matplotlib's font cache was built is found by one
    rescan of the system's font directories (only when no CJK font is known)."""
    import logging

    from matplotlib import font_manager

    # "Failed to find font weight normal for WenQuanYi Zen Hei, now using 500": its only weight.
    logging.getLogger("matplotlib.font_manager").setLevel(logging.ERROR)
    known = {f.name for f in font_manager.fontManager.ttflist}
    if not known & set(CJK_FONTS):
        for path in font_manager.findSystemFonts():
            try:
                font_manager.fontManager.addfont(path)
            except (OSError, RuntimeError, ValueError):
                continue
        known = {f.name for f in font_manager.fontManager.ttflist}
    present = [f for f in CJK_FONTS if f in known]
    return [*present, *(f for f in CJK_FONTS if f not in present), "DejaVu Sans"]


def _thousands():
    from matplotlib import ticker

    class Thousands(ticker.Formatter):
        """Tick labels with thousands separators and as many places as the tick step needs."""

        places = 0

        def set_locs(self, locs):
            super().set_locs(locs)
            steps = [b - a for a, b in itertools.pairwise(locs) if b > a]
            step = min(steps) if steps else 1
            self.places = max(0, math.ceil(-math.log10(step))) if 0 < step < 1 else 0

        def __call__(self, x, pos=None):
            return f"{x:,.{self.places}f}"

    return Thousands()


def bar_line_svg(
    labels: Sequence[str],
    bars: Sequence[Decimal] | None,
    bar_axis: str,
    line: Sequence[Decimal | None] | None = None,
    line_axis: str = "",
    *,
    title: str = "",
    width: float = 7.2,
    height: float = 3.2,
) -> Markup:
    """Bars (from zero, left axis) and/or a line (its own axis, right when there are bars; auto range
    with padding). `bar_axis`/`line_axis`: the axis titles with their units. A None in `line` is a
    gap. Returns an <svg> element (no XML prolog) to put inline in a page (Markup: matplotlib
    escapes the text it writes)."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib import rc_context
    from matplotlib.backends.backend_svg import FigureCanvasSVG
    from matplotlib.figure import Figure

    params = {
        "svg.fonttype": "none",
        "svg.hashsalt": f"dianshu:{title}:{bar_axis}:{line_axis}",
        "font.family": "sans-serif",
        "font.sans-serif": _font_stack(),
        "font.size": 9,
        "axes.unicode_minus": False,
    }
    with _LOCK, rc_context(params):
        fig = Figure(figsize=(max(width, 0.8 * len(labels)), height), layout="constrained")
        ax = fig.add_subplot()
        x = list(range(len(labels)))
        if bars is not None:
            ax.bar(x, [float(v) for v in bars], width=0.6, color=BAR_COLOUR, label=bar_axis, zorder=2)
            ax.set_ylabel(bar_axis, color=BAR_COLOUR)
            ax.yaxis.set_major_formatter(_thousands())
            ax.grid(axis="y", color="#e5e5e5", zorder=0)
            ax.set_ylim(bottom=0)
        if line is not None:
            lax = ax.twinx() if bars is not None else ax
            xs = [i for i, v in zip(x, line, strict=True) if v is not None]
            ys = [float(v) for v in line if v is not None]
            lax.plot(xs, ys, color=LINE_COLOUR, marker="o", linewidth=1.8, label=line_axis, zorder=3)
            lax.margins(y=0.15)
            lax.set_ylabel(line_axis, color=LINE_COLOUR)
            lax.yaxis.set_major_formatter(_thousands())
            if bars is None:
                lax.grid(axis="y", color="#e5e5e5", zorder=0)
        ax.set_xticks(x, list(labels))
        ax.set_xlim(-0.6, len(labels) - 0.4)
        if title:
            ax.set_title(title, fontsize=10)
        out = io.StringIO()
        FigureCanvasSVG(fig).print_svg(out, metadata={"Date": None})
    svg = out.getvalue()
    return Markup(svg[svg.index("<svg") :])  # noqa: S704 (matplotlib's own SVG, its text escaped)

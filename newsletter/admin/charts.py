"""Charts for the admin, drawn on the server: series in, the geometry of an SVG out.

The markup lives in templates/admin/_charts.html, so Jinja escapes every label; this module
only places things and writes the words a screen reader hears instead of the picture."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

# The viewBox: the SVG scales to its box, so these are proportions, not pixels.
WIDTH = 320
LINE_HEIGHT = 150
BAR_STEP = 22  # one horizontal bar and the gap below it
LABEL_MAX = 26  # longer labels are cut in the picture; the table keeps them whole
MARGIN = {"left": 34, "right": 8, "top": 20, "bottom": 24}


@dataclass
class Point:
    x: float
    y: float
    value: int
    label: str


@dataclass
class Line:
    name: str
    css_class: str
    points: list[Point]

    @property
    def path(self) -> str:
        return " ".join(
            f"{'M' if i == 0 else 'L'}{p.x:.1f},{p.y:.1f}" for i, p in enumerate(self.points)
        )


@dataclass
class Tick:
    at: float
    text: str


@dataclass
class LineChart:
    id: str
    title: str
    desc: str
    labels: list[str]
    lines: list[Line]
    x_ticks: list[Tick]
    y_ticks: list[Tick]
    y_title: str
    subject: str  # what the chart is of (a list's name): in its accessible name, not its caption
    width: int = WIDTH
    height: int = LINE_HEIGHT
    margin: dict = field(default_factory=lambda: dict(MARGIN))


@dataclass
class Bar:
    label: str
    short_label: str
    value: int
    y: float
    width: float
    text: str


@dataclass
class BarChart:
    id: str
    title: str
    desc: str
    bars: list[Bar]
    label_width: int
    key: str  # what the labels are, and what the values count: the table's headings
    counted: str
    bar_height: int = BAR_STEP - 6
    width: int = WIDTH + 160

    @property
    def height(self) -> int:
        return len(self.bars) * BAR_STEP + 4


def number(n: int) -> str:
    """12345 as 12,345."""
    return f"{n:,}"


def short(n: int) -> str:
    """An axis tick that fits: 950, 12k, 3.4M."""
    for size, suffix in ((1_000_000, "M"), (1_000, "k")):
        if n >= size:
            scaled = n / size
            if scaled >= 10:
                return f"{round(scaled)}{suffix}"
            return f"{scaled:.1f}".removesuffix(".0") + suffix
    return str(n)


def nice_top(n: int) -> int:
    """The axis's top: the smallest 1, 2 or 5 times a power of ten at or above n (at least
    1, so a chart of zeros still has an axis)."""
    scale = 1
    while True:
        for step in (1, 2, 5):
            if step * scale >= n:
                return step * scale
        scale *= 10


def line_chart(
    id: str,
    title: str,
    labels: list[str],
    series: dict[str, list[int]],
    y_title: str = "",
    subject: str = "",
) -> LineChart:
    """One line per series over the same labels (weeks, hours); a single label sits in the
    middle. Series names double as CSS classes after 'series-'."""
    m = MARGIN
    inner_w = WIDTH - m["left"] - m["right"]
    inner_h = LINE_HEIGHT - m["top"] - m["bottom"]
    top = nice_top(max((max(values, default=0) for values in series.values()), default=0))
    count = len(labels)

    def x_of(i: int) -> float:
        return m["left"] + (inner_w / 2 if count == 1 else inner_w * i / (count - 1))

    def y_of(value: int) -> float:
        return m["top"] + inner_h * (1 - value / top)

    lines = [
        Line(
            name,
            "series-" + name,
            [Point(x_of(i), y_of(v), v, labels[i]) for i, v in enumerate(values)],
        )
        for name, values in series.items()
    ]
    shown = sorted({0, count // 2, count - 1}) if count else []
    return LineChart(
        id=id,
        title=title,
        desc=_line_summary(labels, series),
        labels=labels,
        lines=lines,
        x_ticks=[Tick(x_of(i), labels[i]) for i in shown],
        y_ticks=[Tick(y_of(v), short(v)) for v in _ticks(top)],
        y_title=y_title,
        subject=subject,
    )


def _ticks(top: int) -> list[int]:
    """0, the top, and the half between when it is a whole number (not 2 for a top of 5)."""
    return sorted({0, top} | ({top // 2} if top % 2 == 0 else set()))


def _line_summary(labels: list[str], series: dict[str, list[int]]) -> str:
    if not labels:
        return "No data."
    parts = [
        f"{name}: {number(sum(values))} in all, at most {number(max(values, default=0))}"
        for name, values in series.items()
    ]
    return f"From {labels[0]} to {labels[-1]}. " + "; ".join(parts) + "."


def bar_chart(
    id: str,
    title: str,
    items: Iterable[tuple[str, int]],
    key: str = "Label",
    counted: str = "Count",
    most: int = 8,
) -> BarChart:
    """Horizontal bars, largest first; past `most` the rest are summed as 'others'."""
    items = sorted(items, key=lambda item: (-item[1], item[0]))
    if len(items) > most:
        rest = sum(n for _, n in items[most - 1 :])
        items = items[: most - 1] + [("others", rest)]
    label_width = 150
    room = WIDTH + 160 - label_width - 50  # space after a bar for its number
    top = max((n for _, n in items), default=0) or 1
    bars = [
        Bar(
            label=label,
            short_label=label if len(label) <= LABEL_MAX else label[: LABEL_MAX - 1] + "…",
            value=n,
            y=i * BAR_STEP + 2,
            width=max(room * n / top, 1 if n else 0),
            text=number(n),
        )
        for i, (label, n) in enumerate(items)
    ]
    desc = "; ".join(f"{bar.label}: {bar.text}" for bar in bars) + "." if bars else "No data."
    return BarChart(id, title, desc, bars, label_width, key, counted)

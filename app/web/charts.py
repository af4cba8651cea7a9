"""Small inline SVG charts, drawn on the server: no JavaScript, no assets to fetch."""

from datetime import date
from html import escape

from app.relations.schemas import Point

WIDTH, HEIGHT, PAD = 220, 96, 18


def _x(day: date, start: date, end: date) -> float:
    span = max((end - start).days, 1)
    return PAD + (WIDTH - 2 * PAD) * (day - start).days / span


def series_chart(points: list[Point], title: str) -> str:
    """Each figure as a bar over the time it covers, with its hedge as an error bar:
    a figure that is "more than" X gets an arrow up from X."""
    if not points:
        return ""
    start = min(p.first_day for p in points)
    end = max(p.last_day for p in points)
    # Zero is always in view, above or below: a fall is a negative percent.
    values = [v for p in points for v in (p.value, p.low, p.high) if v is not None]
    top = max(0.0, *values) * 1.15
    bottom = min(0.0, *values) * 1.15
    span = (top - bottom) or 1.0

    def y(value: float) -> float:
        return HEIGHT - PAD - (value - bottom) / span * (HEIGHT - 2 * PAD)

    parts = [
        f'<svg class="chart" role="img" aria-label="{escape(title)}" width="{WIDTH}" '
        f'height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" xmlns="http://www.w3.org/2000/svg">',
        f'<line x1="{PAD}" y1="{y(0):.1f}" x2="{WIDTH - PAD}" y2="{y(0):.1f}" stroke="#bbb"/>',
        f'<text x="{PAD}" y="{HEIGHT - 4}">{start.year}</text>',
        f'<text x="{WIDTH - PAD}" y="{HEIGHT - 4}" text-anchor="end">{end.year}</text>',
    ]
    for p in points:
        x1, x2 = _x(p.first_day, start, end), _x(p.last_day, start, end)
        mid = (x1 + x2) / 2
        parts.append(
            f'<line class="point" x1="{x1:.1f}" y1="{y(p.value):.1f}" x2="{max(x2, x1 + 2):.1f}" '
            f'y2="{y(p.value):.1f}" stroke="#4a7bd0" stroke-width="4"><title>'
            f"{escape(p.text or p.exact)} ({escape(p.label)})</title></line>"
        )
        low = y(p.low) if p.low is not None else y(bottom)
        high = y(p.high) if p.high is not None else PAD
        parts.append(
            f'<line x1="{mid:.1f}" y1="{low:.1f}" x2="{mid:.1f}" y2="{high:.1f}" '
            'stroke="#1d2330" stroke-width="1"/>'
        )
        if p.high is None:
            parts.append(
                f'<path d="M{mid - 4:.1f},{PAD + 6} L{mid:.1f},{PAD} L{mid + 4:.1f},{PAD + 6}" '
                'fill="none" stroke="#1d2330"/>'
            )
    parts.append("</svg>")
    return "".join(parts)

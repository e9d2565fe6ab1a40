"""Tiny inline-SVG charts (no JavaScript, no external assets) for the HTML report."""

from __future__ import annotations

from dataclasses import dataclass, field
from html import escape

import numpy as np
import pandas as pd

PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b"]


@dataclass
class Series:
    label: str
    x: pd.DatetimeIndex | np.ndarray  # datetimes or numbers
    y: np.ndarray
    kind: str = "line"  # line | bars | points
    color: str = ""


@dataclass
class Chart:
    """One chart: series over a shared x axis, optional horizontal bands ``(lo, hi, color)``."""

    title: str
    unit: str = ""
    series: list[Series] = field(default_factory=list)
    bands: list[tuple[float, float, str]] = field(default_factory=list)
    width: int = 1080
    height: int = 220
    y_min: float | None = None
    y_max: float | None = None

    def add(self, label: str, x, y, kind: str = "line", color: str = "") -> Chart:
        y = np.asarray(pd.to_numeric(pd.Series(np.asarray(y)), errors="coerce"), dtype=float)
        color = color or PALETTE[len(self.series) % len(PALETTE)]
        self.series.append(Series(label, x, y, kind, color))
        return self

    # -- rendering ------------------------------------------------------------------------
    def svg(self) -> str:
        left, right, top, bottom = 56, 12, 28, 34
        w, h = self.width - left - right, self.height - top - bottom
        xs = [_num(s.x) for s in self.series]
        ys = [s.y for s in self.series]
        finite = np.concatenate([y[np.isfinite(y)] for y in ys]) if ys else np.array([])
        if not len(finite):
            return self._frame(f'<text x="{left}" y="{top + 20}" class="muted">no data</text>')
        x_all = np.concatenate(xs)
        x0, x1 = float(np.nanmin(x_all)), float(np.nanmax(x_all))
        lo = self.y_min if self.y_min is not None else float(finite.min())
        hi = self.y_max if self.y_max is not None else float(finite.max())
        for b_lo, b_hi, _ in self.bands:
            lo, hi = min(lo, b_lo), max(hi, b_hi)
        if any(s.kind == "bars" for s in self.series):
            lo = min(lo, 0.0)
        pad = (hi - lo) * 0.05 or 1.0
        lo, hi = lo - pad, hi + pad
        x1 = x1 if x1 > x0 else x0 + 1

        def px(x: np.ndarray) -> np.ndarray:
            return left + (x - x0) / (x1 - x0) * w

        def py(y: np.ndarray) -> np.ndarray:
            return top + (hi - y) / (hi - lo) * h

        parts = [self._bands(py, left, w), self._axes(left, top, w, h, lo, hi, x0, x1, py)]
        for s, x in zip(self.series, xs, strict=True):
            parts.append(_draw(s, px(x), py(s.y), py(np.array([max(lo, 0.0)]))[0], w, len(x)))
        parts.append(self._legend(max(left + 200, 24 + 7 * len(self.title + self.unit))))
        return self._frame("".join(parts))

    def _frame(self, body: str) -> str:
        title = escape(self.title + (f" ({self.unit})" if self.unit else ""))
        return (
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{self.width}" '
            f'height="{self.height}" viewBox="0 0 {self.width} {self.height}" role="img">'
            f'<title>{title}</title><rect width="100%" height="100%" fill="#ffffff"/>'
            f'<text x="8" y="18" class="title">{title}</text>{body}</svg>'
        )

    def _bands(self, py, left: int, w: int) -> str:
        out = []
        for b_lo, b_hi, color in self.bands:
            y_top, y_bot = py(np.array([b_hi]))[0], py(np.array([b_lo]))[0]
            out.append(
                f'<rect x="{left}" y="{y_top:.1f}" width="{w}" '
                f'height="{y_bot - y_top:.1f}" fill="{color}" opacity="0.18"/>'
            )
        return "".join(out)

    def _axes(self, left, top, w, h, lo, hi, x0, x1, py) -> str:
        out = [f'<rect x="{left}" y="{top}" width="{w}" height="{h}" fill="none" stroke="#999"/>']
        for v in np.linspace(lo, hi, 5)[1:-1]:
            y = py(np.array([v]))[0]
            out.append(
                f'<line x1="{left}" x2="{left + w}" y1="{y:.1f}" y2="{y:.1f}" '
                f'stroke="#e5e5e5"/><text x="{left - 4}" y="{y + 4:.1f}" '
                f'text-anchor="end" class="tick">{_fmt(v)}</text>'
            )
        for frac in (0.0, 0.5, 1.0):
            x = x0 + frac * (x1 - x0)
            label = escape(_x_label(x, x1 - x0, self.series[0].x))
            anchor = ("start", "middle", "end")[int(frac * 2)]
            out.append(
                f'<text x="{left + frac * w:.1f}" y="{top + h + 16}" '
                f'text-anchor="{anchor}" class="tick">{label}</text>'
            )
        return "".join(out)

    def _legend(self, x: int) -> str:
        out = []
        for s in self.series:
            out.append(
                f'<rect x="{x}" y="9" width="12" height="8" fill="{s.color}"/>'
                f'<text x="{x + 16}" y="17" class="tick">{escape(s.label)}</text>'
            )
            x += 24 + 7 * len(s.label)
        return "".join(out)


def _draw(s: Series, x: np.ndarray, y: np.ndarray, y0: float, w: int, n: int) -> str:
    ok = np.isfinite(y)
    if s.kind == "bars":
        bw = max(1.0, 0.7 * w / max(n, 1))
        return "".join(
            f'<rect x="{xi - bw / 2:.1f}" y="{min(yi, y0):.1f}" width="{bw:.1f}" '
            f'height="{abs(y0 - yi):.1f}" fill="{s.color}"/>'
            for xi, yi in zip(x[ok], y[ok], strict=True)
        )
    if s.kind == "points":
        return "".join(
            f'<circle cx="{xi:.1f}" cy="{yi:.1f}" r="3" fill="{s.color}"/>'
            for xi, yi in zip(x[ok], y[ok], strict=True)
        )
    paths, run = [], []
    for xi, yi, good in zip(x, y, ok, strict=True):
        if good:
            run.append(f"{xi:.1f},{yi:.1f}")
        elif run:
            paths.append(run)
            run = []
    if run:
        paths.append(run)
    return "".join(
        f'<polyline points="{" ".join(p)}" fill="none" stroke="{s.color}" stroke-width="1.6"/>'
        for p in paths
    )


def _num(x) -> np.ndarray:
    if isinstance(x, pd.DatetimeIndex | pd.Series) or np.issubdtype(
        np.asarray(x).dtype, np.datetime64
    ):
        idx = pd.DatetimeIndex(x)
        return (idx.as_unit("ns").asi8 / 1e9).astype(float)
    return np.asarray(x, dtype=float)


def _x_label(x: float, span: float, sample) -> str:
    if isinstance(sample, pd.DatetimeIndex | pd.Series):
        t = pd.Timestamp(x, unit="s", tz="UTC")
        return t.strftime("%H:%M") if span < 2 * 86400 else t.strftime("%Y-%m-%d")
    return _fmt(x)


def _fmt(v: float) -> str:
    return f"{v:.0f}" if abs(v) >= 100 else f"{v:.1f}" if abs(v) >= 10 else f"{v:.2f}"

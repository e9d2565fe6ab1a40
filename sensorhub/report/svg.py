"""Tiny inline-SVG charts (no JavaScript, no external assets) for the HTML report.

Axis ticks are "nice" numbers (1, 2 or 5 × 10^k); time axes tick at round clock or calendar
steps in the athlete's zone (``tz``). A chart can invert its y axis (pace: faster is up) and
format its ticks (``y_fmt``, e.g. min:ss). Everything drawn inside the plot area is clipped
to it, and bars are as wide as the spacing of their x values allows, so nothing leaves the
frame. Legends sit on their own line under the title.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from html import escape

import numpy as np
import pandas as pd

PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b"]
_IDS = itertools.count(1)
# time-axis steps (seconds) and the strftime label each one uses
_TIME_STEPS = [
    (s, "%H:%M:%S" if s < 60 else "%H:%M")
    for s in (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200)
] + [(86400 * d, "%b %d") for d in (1, 2, 7, 14, 28)]


@dataclass
class Series:
    label: str
    x: pd.DatetimeIndex | np.ndarray  # datetimes or numbers
    y: np.ndarray
    kind: str = "line"  # line | bars | points
    color: str = ""


@dataclass
class Chart:
    """One chart: series over a shared x axis, optional horizontal bands ``(lo, hi, color)``.

    ``invert``: larger values lower (pace in s/km: faster runs plot higher); ``y_fmt``: tick
    label of a y value; ``tz``: IANA zone of the time-axis labels; ``x_unit``: caption of
    a numeric x axis.
    """

    title: str
    unit: str = ""
    series: list[Series] = field(default_factory=list)
    bands: list[tuple[float, float, str]] = field(default_factory=list)
    width: int = 1080
    height: int = 220
    y_min: float | None = None
    y_max: float | None = None
    invert: bool = False
    y_fmt: Callable[[float], str] | None = None
    tz: str = "UTC"
    x_unit: str = ""
    x_range: tuple | None = None  # (x0, x1) datetimes or numbers: align stacked charts
    empty: str = "no data"  # what an empty chart says
    y_steps: tuple[float, ...] | None = None  # tick steps to choose from (e.g. seconds)
    markers: list[tuple] = field(default_factory=list)  # (x, label): a dashed vertical line

    def add(self, label: str, x, y, kind: str = "line", color: str = "") -> Chart:
        y = np.asarray(pd.to_numeric(pd.Series(np.asarray(y)), errors="coerce"), dtype=float)
        color = color or PALETTE[len(self.series) % len(PALETTE)]
        self.series.append(Series(label, x, y, kind, color))
        return self

    # -- rendering ------------------------------------------------------------------------
    def svg(self) -> str:
        left, right, top, bottom = 60, 14, 44 if self.series else 28, 34
        w, h = self.width - left - right, self.height - top - bottom
        xs = [_num(s.x) for s in self.series]
        finite = [
            s.y[np.isfinite(s.y) & np.isfinite(x)] for s, x in zip(self.series, xs, strict=False)
        ]
        finite = np.concatenate(finite) if finite else np.array([])
        if not len(finite):
            return self._frame(
                f'<text x="{left}" y="{top + 20}" class="muted">{escape(self.empty)}</text>'
            )
        x_all = np.concatenate(xs)
        x0, x1 = float(np.nanmin(x_all)), float(np.nanmax(x_all))
        half = _bar_half_width(self.series, xs, x1 - x0)
        x0, x1 = x0 - half, x1 + half
        if self.x_range is not None:
            x0, x1 = (float(_num(_as_x(v, self._is_time()))[0]) for v in self.x_range)
        if x1 <= x0:  # one instant: a minute (or one unit) either side
            pad = 60.0 if self._is_time() else 1.0
            x0, x1 = x0 - pad, x1 + pad
        lo, hi = self._y_range(finite)
        ticks = nice_ticks(lo, hi, steps=self.y_steps)
        lo, hi = min(lo, ticks[0]), max(hi, ticks[-1])

        def px(x: np.ndarray) -> np.ndarray:
            return left + (x - x0) / (x1 - x0) * w

        def py(y: np.ndarray) -> np.ndarray:
            frac = (y - lo) / (hi - lo)
            return top + (frac if self.invert else 1 - frac) * h

        clip = f"c{next(_IDS)}"
        inner = [self._bands(py, left, w)]
        base = py(np.array([min(max(lo, 0.0), hi)]))[0]
        for s, x in zip(self.series, xs, strict=True):
            inner.append(_draw(s, px(x), py(s.y), base, px(np.array([x0 + half]))[0] - left))
        parts = [
            f'<clipPath id="{clip}"><rect x="{left}" y="{top}" width="{w}" height="{h}"/>'
            f"</clipPath>",
            self._grid(left, top, w, h, ticks, py),
            self._x_axis(left, top, w, h, x0, x1),
            f'<g clip-path="url(#{clip})">{"".join(inner)}</g>',
            self._markers(px, top, h, left, w),
            self._legend(left, 34),
        ]
        return self._frame("".join(parts))

    def _is_time(self) -> bool:
        return bool(self.series) and _is_time(self.series[0].x)

    def _y_range(self, finite: np.ndarray) -> tuple[float, float]:
        lo = self.y_min if self.y_min is not None else float(finite.min())
        hi = self.y_max if self.y_max is not None else float(finite.max())
        for b_lo, b_hi, _ in self.bands:
            lo, hi = min(lo, b_lo), max(hi, b_hi)
        if any(s.kind == "bars" for s in self.series):
            lo = min(lo, 0.0)
        if hi <= lo:
            lo, hi = lo - (abs(lo) * 0.1 or 1.0), hi + (abs(hi) * 0.1 or 1.0)
        return lo, hi

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
            ys = sorted([py(np.array([b_hi]))[0], py(np.array([b_lo]))[0]])
            height = max(ys[1] - ys[0], 1.5)  # a band of one value is a line
            out.append(
                f'<rect x="{left}" y="{ys[0]:.1f}" width="{w}" '
                f'height="{height:.1f}" fill="{color}" opacity="0.18"/>'
            )
        return "".join(out)

    def _grid(self, left: int, top: int, w: int, h: int, ticks: list[float], py) -> str:
        fmt = self.y_fmt or _fmt_tick(ticks)
        out = [f'<rect x="{left}" y="{top}" width="{w}" height="{h}" fill="none" stroke="#999"/>']
        for v in ticks:
            y = py(np.array([v]))[0]
            if not top - 0.5 <= y <= top + h + 0.5:
                continue
            out.append(
                f'<line x1="{left}" x2="{left + w}" y1="{y:.1f}" y2="{y:.1f}" '
                f'stroke="#e5e5e5"/><text x="{left - 4}" y="{y + 4:.1f}" '
                f'text-anchor="end" class="tick">{escape(fmt(v))}</text>'
            )
        return "".join(out)

    def _x_axis(self, left: int, top: int, w: int, h: int, x0: float, x1: float) -> str:
        ticks = time_ticks(x0, x1, self.tz) if self._is_time() else _numeric_x(x0, x1)
        out = []
        for x, label in ticks:
            xp = left + (x - x0) / (x1 - x0) * w
            anchor = "start" if xp - left < 24 else "end" if left + w - xp < 24 else "middle"
            out.append(
                f'<line x1="{xp:.1f}" x2="{xp:.1f}" y1="{top + h}" y2="{top + h + 4}" '
                f'stroke="#999"/><text x="{xp:.1f}" y="{top + h + 16}" text-anchor="{anchor}" '
                f'class="tick">{escape(label)}</text>'
            )
        if self.x_unit:
            out.append(
                f'<text x="{left + w}" y="{top + h + 30}" text-anchor="end" class="tick">'
                f"{escape(self.x_unit)}</text>"
            )
        return "".join(out)

    def _markers(self, px, top: int, h: int, left: int, w: int) -> str:
        """Dashed vertical lines at ``markers`` inside the plot, labelled at the top."""
        out = []
        for x, label in self.markers:
            xp = float(px(_num(_as_x(x, self._is_time())))[0])
            if not left <= xp <= left + w:
                continue
            anchor = "end" if left + w - xp < 90 else "start"
            dx = -4 if anchor == "end" else 4
            out.append(
                f'<line x1="{xp:.1f}" x2="{xp:.1f}" y1="{top}" y2="{top + h}" stroke="#222" '
                f'stroke-dasharray="4 3" stroke-width="1.2"/><text x="{xp + dx:.1f}" '
                f'y="{top + 12}" text-anchor="{anchor}" class="tick">{escape(label)}</text>'
            )
        return "".join(out)

    def _legend(self, x: int, y: int) -> str:
        out = []
        for s in self.series:
            out.append(
                f'<rect x="{x}" y="{y - 8}" width="12" height="8" fill="{s.color}"/>'
                f'<text x="{x + 16}" y="{y}" class="tick">{escape(s.label)}</text>'
            )
            x += 28 + 7 * len(s.label)
        return "".join(out)


# -- ticks -----------------------------------------------------------------------------------
def nice_ticks(
    lo: float, hi: float, n: int = 5, steps: tuple[float, ...] | None = None
) -> list[float]:
    """About ``n`` round tick values covering ``lo``…``hi``: steps of 1, 2 or 5 × 10^k, or the
    first of ``steps`` (ascending) that gives at most ``n`` intervals (e.g. 15/30/60 s)."""
    if not (np.isfinite(lo) and np.isfinite(hi)) or hi <= lo:
        return [lo]
    raw = (hi - lo) / max(n - 1, 1)
    if steps:
        step = next((s for s in steps if s >= raw * 0.999), steps[-1])
    else:
        mag = 10 ** math.floor(math.log10(raw))
        step = next(m * mag for m in (1, 2, 5, 10) if m * mag >= raw * 0.999)
    first = math.floor(lo / step + 1e-9) * step
    count = math.ceil((hi - first) / step - 1e-9)
    return [round(first + i * step, 10) for i in range(count + 1)]


def time_ticks(x0: float, x1: float, tz: str, n: int = 8) -> list[tuple[float, str]]:
    """Round clock/calendar ticks (epoch seconds, label) between ``x0`` and ``x1`` in ``tz``."""
    span = x1 - x0
    step, fmt = next(((s, f) for s, f in _TIME_STEPS if span / s <= n), _TIME_STEPS[-1])
    t0 = pd.Timestamp(x0, unit="s", tz="UTC").tz_convert(tz)
    if step >= 86400:
        start = t0.normalize()
        if step >= 7 * 86400:  # weeks start on Monday
            start -= pd.Timedelta(days=start.day_of_week)
        times = pd.date_range(start, periods=int(span // step) + 3, freq=f"{step // 86400}D")
    else:
        local = t0.tz_localize(None)
        times = pd.date_range(
            local.floor(f"{step}s"), periods=int(span // step) + 3, freq=f"{step}s"
        )
        times = times.tz_localize(tz, ambiguous="NaT", nonexistent="NaT").dropna()
    out = []
    for t in times:
        x = t.value / 1e9
        if x0 <= x <= x1:
            out.append((x, t.strftime(fmt)))
    return out


def _numeric_x(x0: float, x1: float) -> list[tuple[float, str]]:
    ticks = [t for t in nice_ticks(x0, x1, 8) if x0 <= t <= x1]
    fmt = _fmt_tick(ticks)
    return [(t, fmt(t)) for t in ticks]


def _fmt_tick(ticks: list[float]) -> Callable[[float], str]:
    """Labels with as many decimals as the tick step needs (0.2 → 1, 0.05 → 2)."""
    step = min((b - a for a, b in zip(ticks, ticks[1:], strict=False)), default=1.0) or 1.0
    digits = max(0, -math.floor(math.log10(step) + 1e-9))
    return lambda v: no_minus_zero(f"{v:.{digits}f}")


def no_minus_zero(text: str) -> str:
    """``-0.0`` → ``0.0`` (a rounded tiny negative is no sign)."""
    return text[1:] if text.startswith("-") and not text.strip("-0.") else text


def min_sec(seconds: float) -> str:
    """``295`` → ``4:55`` (pace s/km as min:ss; hours as h:mm:ss)."""
    if not np.isfinite(seconds):
        return "-"
    s = int(round(seconds))
    h, rem = divmod(s, 3600)
    return f"{h}:{rem // 60:02d}:{rem % 60:02d}" if h else f"{rem // 60}:{rem % 60:02d}"


# -- drawing ---------------------------------------------------------------------------------
def _bar_half_width(series: list[Series], xs: list[np.ndarray], span: float) -> float:
    """Half the spacing of bar x values (x units); 0 without bars."""
    bars = [x for s, x in zip(series, xs, strict=True) if s.kind == "bars"]
    if not bars:
        return 0.0
    gaps = np.diff(np.unique(np.concatenate(bars)))
    if len(gaps):
        return float(gaps.min()) / 2
    return 43200.0 if _is_time(series[0].x) else 0.5  # one bar: half a day or half a unit


def _draw(s: Series, x: np.ndarray, y: np.ndarray, y0: float, half_px: float) -> str:
    ok = np.isfinite(y) & np.isfinite(x)
    if s.kind == "bars":
        bw = max(1.0, 1.4 * half_px)
        return "".join(
            f'<rect x="{xi - bw / 2:.1f}" y="{min(yi, y0):.1f}" width="{bw:.1f}" '
            f'height="{abs(y0 - yi):.1f}" fill="{s.color}"/>'
            for xi, yi in zip(x[ok], y[ok], strict=True)
        )
    if s.kind == "points" or ok.sum() == 1:
        return "".join(
            f'<circle cx="{xi:.1f}" cy="{yi:.1f}" r="{2.2 if s.kind == "points" else 3}" '
            f'fill="{s.color}"/>'
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


def _is_time(x) -> bool:
    return (
        isinstance(x, pd.DatetimeIndex | pd.Series)
        and pd.api.types.is_datetime64_any_dtype(x)
        or (isinstance(x, np.ndarray) and np.issubdtype(x.dtype, np.datetime64))
    )


def _as_x(v, time: bool):
    return pd.DatetimeIndex([pd.Timestamp(v)]) if time else np.array([float(v)])


def _num(x) -> np.ndarray:
    if _is_time(x):
        idx = pd.DatetimeIndex(x)
        if idx.tz is None:
            idx = idx.tz_localize("UTC")
        return (idx.as_unit("ns").asi8 / 1e9).astype(float)
    return np.asarray(x, dtype=float)


def route_svg(
    lat: np.ndarray, lon: np.ndarray, width: int = 520, height: int = 360, unit=None
) -> str:
    """The track as an inline SVG polyline (equirectangular, north up; no map tiles), with a
    scale bar in ``unit`` (a :class:`~.units.DistanceUnit`; km when None)."""
    unit_m, unit_name = (unit.metres, unit.name) if unit is not None else (1000.0, "km")
    lat, lon = np.asarray(lat, float), np.asarray(lon, float)
    ok = np.isfinite(lat) & np.isfinite(lon) & (np.abs(lat) <= 90) & (np.abs(lon) <= 180)
    lat, lon = lat[ok], lon[ok]
    if len(lat) < 2:
        return ""
    kx = math.cos(math.radians(float(np.median(lat))))
    x, y = (lon - lon.min()) * kx, lat.max() - lat
    span = max(float(x.max()), float(y.max())) or 1e-9
    pad = 16
    scale = min(
        (width - 2 * pad) / (float(x.max()) or span), (height - 2 * pad) / (float(y.max()) or span)
    )
    px, py = pad + x * scale, pad + y * scale
    across = (width - 2 * pad) / scale * 111_320.0 / unit_m  # units across the drawing width
    bar = nice_ticks(0, across / 4, 2)[1] if across > 0 else 0
    bar_px = bar / across * (width - 2 * pad) if across else 0
    pts = " ".join(f"{a:.1f},{b:.1f}" for a, b in zip(px, py, strict=True))
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img"><title>Route</title>'
        f'<rect width="100%" height="100%" fill="#ffffff"/>'
        f'<polyline points="{pts}" fill="none" stroke="#d62728" stroke-width="2.5" '
        f'stroke-linejoin="round"/>'
        f'<circle cx="{px[0]:.1f}" cy="{py[0]:.1f}" r="5" fill="#2ca02c"/>'
        f'<circle cx="{px[-1]:.1f}" cy="{py[-1]:.1f}" r="5" fill="#222"/>'
        f'<line x1="{pad}" x2="{pad + bar_px:.1f}" y1="{height - 10}" y2="{height - 10}" '
        f'stroke="#222" stroke-width="2"/><text x="{pad}" y="{height - 14}" class="tick">'
        f"{bar:g} {unit_name}</text>"
        f'<text x="{width - pad}" y="{height - 10}" text-anchor="end" class="tick">'
        f"green: start, black: finish, north up</text></svg>"
    )

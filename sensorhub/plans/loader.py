"""Plan files (TOML): parse and validate them, and find the shipped templates.

:func:`parse_plan` is pure (a dict in, a :class:`Plan` out); :func:`_read_toml` is the one
function here that reads a file. Every problem raises :class:`PlanError` with one line naming
the file, the stage and the key, e.g. ``walk-run.toml: stage 2 ('Walk-run 2'): repeat: -1 is
not a whole number ≥ 1``.
"""

from __future__ import annotations

import tomllib
from importlib import resources
from pathlib import Path
from typing import Any

from .model import PainRules, Plan, PlanError, Prescription, ReadinessGate, Rules, Stage

TOP_KEYS = {"name", "title", "description", "sources", "rules", "pain", "stage_defaults", "stages"}
STAGE_KEYS = {"name", "prescription", "repeat", "within_days", "back_to_back", "pain", "tests"}
DEFAULT_KEYS = {"repeat", "within_days", "back_to_back"}
PRESCRIPTION_KEYS = {"text", "run_s", "walk_s", "intervals", "continuous_s"}
TEST_KEYS = {"kind", "metric", "min_lsi_pct", "max_pain"}
RULE_TYPES: dict[str, type] = {
    "max_progressions_per_week": int,
    "flare_window_days": int,
    "rest_days": int,
    "spike_pct": float,
    "asymmetry_tolerance_si_pct": float,
    "test_valid_days": int,
}
PAIN_KEYS = {"during_max", "after_max", "morning_margin", "weekly_worsening"}


class _Where:
    """Builds the one-line error prefix: file, stage, key."""

    def __init__(self, src: str, stage: str | None = None) -> None:
        self.src, self.stage = src, stage

    def at(self, index: int, name: Any) -> _Where:
        label = f"stage {index + 1}" + (f" ({name!r})" if isinstance(name, str) else "")
        return _Where(self.src, label)

    def error(self, key: str, msg: str) -> PlanError:
        parts = [p for p in (self.src, self.stage, key, msg) if p]
        return PlanError(": ".join(parts).replace("\n", " "))


def _table(w: _Where, key: str, v: Any, allowed: set[str]) -> dict[str, Any]:
    if not isinstance(v, dict):
        raise w.error(key, f"{v!r} is not a table")
    unknown = sorted(set(v) - allowed)
    if unknown:
        raise w.error(f"{key}.{unknown[0]}" if key else unknown[0], "unknown key")
    return v


def _int(w: _Where, key: str, v: Any, lo: int = 1) -> int:
    if isinstance(v, bool) or not isinstance(v, int) or v < lo:
        raise w.error(key, f"{v!r} is not a whole number ≥ {lo}")
    return v


def _num(w: _Where, key: str, v: Any, lo: float = 0.0, hi: float | None = None) -> float:
    ok = isinstance(v, int | float) and not isinstance(v, bool) and v >= lo
    if not ok or (hi is not None and v > hi):
        rng = f"in {lo:g}–{hi:g}" if hi is not None else f"≥ {lo:g}"
        raise w.error(key, f"{v!r} is not a number {rng}")
    return float(v)


def _bool(w: _Where, key: str, v: Any) -> bool:
    if not isinstance(v, bool):
        raise w.error(key, f"{v!r} is not true or false")
    return v


def _text(w: _Where, key: str, v: Any) -> str:
    if not isinstance(v, str) or not v.strip():
        raise w.error(key, "must be a non-empty string")
    return v.strip()


def _pain(w: _Where, key: str, raw: Any, base: PainRules) -> PainRules:
    t = _table(w, key, raw, PAIN_KEYS)
    vals = {k: v for k, v in base.__dict__.items()}
    for k, v in t.items():
        if k == "weekly_worsening":
            vals[k] = _bool(w, f"{key}.{k}", v)
        else:
            vals[k] = _num(w, f"{key}.{k}", v, 0, 10)
    return PainRules(**vals)


def _prescription(w: _Where, raw: Any) -> Prescription:
    if raw is None:
        raise w.error("prescription", "missing (every stage needs one)")
    t = _table(w, "prescription", raw, PRESCRIPTION_KEYS)
    if "text" not in t:
        raise w.error("prescription.text", "missing (the prescription in plain words)")
    text = _text(w, "prescription.text", t["text"])
    secs = {
        k: _num(w, f"prescription.{k}", t[k], 1)
        for k in ("run_s", "walk_s", "continuous_s")
        if k in t
    }
    intervals = _int(w, "prescription.intervals", t["intervals"]) if "intervals" in t else None
    if "continuous_s" in secs and ("run_s" in secs or intervals is not None):
        raise w.error("prescription.continuous_s", "cannot be combined with run_s or intervals")
    if "run_s" in secs and intervals is None:
        raise w.error("prescription.intervals", "missing (run_s needs a number of intervals)")
    if intervals is not None and "run_s" not in secs:
        raise w.error("prescription.run_s", "missing (intervals need a run interval length)")
    if not secs:
        raise w.error("prescription", "needs run_s + walk_s + intervals, continuous_s or walk_s")
    return Prescription(text=text, intervals=intervals, **secs)


def _tests(w: _Where, raw: Any) -> tuple[ReadinessGate, ...]:
    if not isinstance(raw, list):
        raise w.error("tests", f"{raw!r} is not a list of tables")
    out = []
    for i, t in enumerate(raw):
        key = f"tests[{i}]"
        _table(w, key, t, TEST_KEYS)
        if "kind" not in t:
            raise w.error(f"{key}.kind", "missing")
        lsi = (
            _num(w, f"{key}.min_lsi_pct", t["min_lsi_pct"], 0, 200) if "min_lsi_pct" in t else None
        )
        pain = _num(w, f"{key}.max_pain", t["max_pain"], 0, 10) if "max_pain" in t else None
        metric = _text(w, f"{key}.metric", t.get("metric", "lsi_pct"))
        out.append(ReadinessGate(_text(w, f"{key}.kind", t["kind"]), lsi, pain, metric))
    return tuple(out)


def _stage(w: _Where, raw: dict[str, Any], defaults: dict[str, Any], pain: PainRules) -> Stage:
    t = _table(w, "", raw, STAGE_KEYS)
    vals = {**defaults, **{k: v for k, v in t.items() if k in DEFAULT_KEYS}}
    within = vals.get("within_days")
    return Stage(
        name=_text(w, "name", t.get("name")),
        prescription=_prescription(w, t.get("prescription")),
        repeat=_int(w, "repeat", vals.get("repeat", 2)),
        within_days=None if within is None else _int(w, "within_days", within),
        back_to_back=_bool(w, "back_to_back", vals.get("back_to_back", False)),
        pain=_pain(w, "pain", t["pain"], pain) if "pain" in t else pain,
        tests=_tests(w, t["tests"]) if "tests" in t else (),
    )


def _rules(w: _Where, raw: Any) -> Rules:
    t = _table(w, "rules", raw, set(RULE_TYPES))
    vals: dict[str, Any] = {}
    for k, v in t.items():
        key = f"rules.{k}"
        vals[k] = _int(w, key, v, 0) if RULE_TYPES[k] is int else _num(w, key, v, 0)
    return Rules(**vals)


def parse_plan(data: dict[str, Any], source: str = "<plan>") -> Plan:
    """Validate a decoded plan file and build the :class:`Plan` (pure; no file access).

    ``source`` names the file in error messages.
    """
    w = _Where(source)
    _table(w, "", data, TOP_KEYS)
    pain = _pain(w, "pain", data["pain"], PainRules()) if "pain" in data else PainRules()
    defaults = _table(w, "stage_defaults", data.get("stage_defaults", {}), DEFAULT_KEYS)
    stages_raw = data.get("stages")
    if not isinstance(stages_raw, list) or not stages_raw:
        raise w.error("stages", "missing (a plan needs at least one [[stages]] table)")
    stages = []
    for i, raw in enumerate(stages_raw):
        sw = w.at(i, raw.get("name") if isinstance(raw, dict) else None)
        if not isinstance(raw, dict):
            raise sw.error("", f"{raw!r} is not a table")
        stages.append(_stage(sw, raw, defaults, pain))
    sources = data.get("sources", [])
    if not isinstance(sources, list) or not all(isinstance(s, str) for s in sources):
        raise w.error("sources", "must be a list of strings")
    name = _text(w, "name", data.get("name", Path(source).stem))
    return Plan(
        name=name,
        title=_text(w, "title", data.get("title", name)),
        stages=tuple(stages),
        rules=_rules(w, data["rules"]) if "rules" in data else Rules(),
        sources=tuple(sources),
        description=str(data.get("description", "")).strip(),
        source=source,
    )


# ------------------------------------------------------------------ the one place with file I/O


def _read_toml(path: Path) -> dict[str, Any]:
    """Read and decode one TOML file (the only file access in sensorhub.plans)."""
    try:
        with open(path, "rb") as f:
            return tomllib.load(f)
    except OSError as e:
        raise PlanError(f"{path}: cannot read: {e.strerror or e}") from None
    except tomllib.TOMLDecodeError as e:
        raise PlanError(f"{path.name}: not valid TOML: {e}") from None


def _template_dir() -> Path:
    return Path(str(resources.files("sensorhub.plans") / "templates"))


def template_names() -> list[str]:
    """Names of the shipped templates (file stems under ``sensorhub/plans/templates``)."""
    return sorted(p.stem for p in _template_dir().glob("*.toml"))


def load_plan(path_or_name: str | Path) -> Plan:
    """A plan from a template name (see :func:`list_templates`) or a TOML file path."""
    p = Path(path_or_name)
    if p.suffix == ".toml" or p.exists() or "/" in str(path_or_name):
        return parse_plan(_read_toml(p), p.name)
    name = str(path_or_name)
    if name not in template_names():
        known = ", ".join(template_names())
        raise PlanError(f"{name}: no such plan template or file (templates: {known})")
    plan = parse_plan(_read_toml(_template_dir() / f"{name}.toml"), f"{name}.toml")
    return Plan(**{**plan.__dict__, "source": name})


def list_templates() -> list[Plan]:
    """Every shipped template, parsed (name, title, stages, sources), sorted by name."""
    return [load_plan(n) for n in template_names()]

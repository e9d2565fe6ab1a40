"""The official FIT profile (``garmin_fit_sdk.Profile``) compiled into small lookup records.

Nothing here is copied by hand: every name, type, scale, offset, unit, component and
subfield comes from the Garmin FIT SDK's generated profile. The compiled form follows the
conventions of fitparse (the project's reference decoder):

* a field with exactly one component uses that component's scale/offset/unit for its own
  value; a field with several components has no scale (the SDK does the same);
* a component is scaled with the component's own scale and offset (not the target's);
* a component accumulates when its target field is marked ``is_accumulated``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from garmin_fit_sdk import Profile

#: Field types whose raw values are seconds since the FIT epoch (UTC 1989-12-31).
DATE_TIME_TYPES = frozenset({"date_time"})
#: FIT epoch as Unix seconds.
FIT_EPOCH_S = 631065600


@dataclass(frozen=True, slots=True)
class Component:
    """One bit-field of a field that expands into another field of the same message."""

    target: int
    scale: float
    offset: float
    bits: int
    bit_offset: int
    accumulate: bool


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """A profile field (or subfield: then ``refs`` says when it applies)."""

    num: int
    name: str
    type: str
    scale: float
    offset: float
    units: str
    components: tuple[Component, ...]
    subfields: tuple[FieldSpec, ...] = ()
    refs: tuple[tuple[int, int], ...] = ()  # (reference field number, raw value)


@dataclass(frozen=True, slots=True)
class MesgSpec:
    """A profile message: its name and fields by number."""

    num: int
    name: str
    fields: dict[int, FieldSpec]


def _first(v: object, default: object) -> object:
    if isinstance(v, list):
        return v[0] if len(v) == 1 else default
    return v if v not in (None, "") else default


def _components(p: dict, fields: dict) -> tuple[Component, ...]:
    comps = []
    bit_offset = 0
    scales, offsets, bits = p.get("scale") or [], p.get("offset") or [], p.get("bits") or []
    for i, target in enumerate(p.get("components") or []):
        nbits = int(bits[i]) if i < len(bits) else 0
        tgt = fields.get(target, {})
        comps.append(
            Component(
                target=int(target),
                scale=float(scales[i]) if i < len(scales) else 1.0,
                offset=float(offsets[i]) if i < len(offsets) else 0.0,
                bits=nbits,
                bit_offset=bit_offset,
                accumulate=bool(tgt.get("is_accumulated", False)),
            )
        )
        bit_offset += nbits
    return tuple(comps)


def _field(num: int, p: dict, fields: dict, refs: tuple = ()) -> FieldSpec:
    has_comp = bool(p.get("components"))
    single = not has_comp or len(p["components"]) == 1
    scale = float(_first(p.get("scale"), 1)) if single else 1.0
    offset = float(_first(p.get("offset"), 0)) if single else 0.0
    units = _first(p.get("units"), "") if single else ""
    subs = tuple(
        _field(num, s, fields, tuple((int(m["num"]), int(m["raw_value"])) for m in s["map"]))
        for s in p.get("sub_fields") or []
    )
    return FieldSpec(
        num=num,
        name=p["name"],
        type=p["type"],
        scale=scale,
        offset=offset,
        units=str(units or ""),
        components=_components(p, fields),
        subfields=subs,
        refs=refs,
    )


@cache
def message(num: int) -> MesgSpec | None:
    """The compiled profile of global message ``num`` (None when the profile lacks it)."""
    p = Profile["messages"].get(num)
    if p is None:
        return None
    fields = p["fields"]
    return MesgSpec(
        num=num,
        name=p["name"],
        fields={int(k): _field(int(k), f, fields) for k, f in fields.items()},
    )


def type_values(type_name: str) -> dict[int, str] | None:
    """Value names of a profile type (``sport`` → {1: 'running', ...}); None for base types."""
    if type_name in DATE_TIME_TYPES or type_name == "local_date_time":
        return None
    return Profile["types"].get(type_name)

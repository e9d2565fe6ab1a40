"""``FitMessages.fields``: a few columns of a message without building its whole frame.

The narrow read must equal the whole frame's columns exactly (values, dtypes, index, order
of ``wanted``) and must leave the lazy frames as they were (nothing built, nothing kept).
"""

from __future__ import annotations

import random
from functools import cache

import pandas as pd
import pytest

import drivers.fit
from drivers.fit import FitError
from drivers.fit import profile as prof
from drivers.fit.fast import _Frames, narrowed
from drivers.fit.profile import Profile
from drivers.fit.walk import Walker
from tests.shared import SHARED, shared_dir

pytestmark = pytest.mark.shared

#: Messages sensorhub.fitmeta reads a few columns of: every column is also read on its own.
META = ("file_id", "device_info", "user_profile", "zones_target", "hr_zone")
CHUNK = 8  # every column is read in a chunk of this many, shuffled


def _corpus() -> list[str]:
    root = SHARED / "fit"
    if not root.exists():
        return ["<missing>"]
    files = (p for p in root.rglob("*") if p.is_file() and p.suffix.lower() == ".fit")
    return sorted(str(p.relative_to(root)) for p in files)


@cache
def _derived(name: str) -> frozenset[str]:
    """Columns of message ``name`` whose values depend on other fields: fields with
    subfields, the subfields, component targets (and theirs), compressed ``timestamp``."""
    mesg = next((m for n in Profile["messages"] if (m := prof.message(n)).name == name), None)
    out = {"timestamp"}
    for spec in mesg.fields.values() if mesg else ():
        for s in (spec, *spec.subfields):
            if s.subfields:
                out |= {s.name, *(sf.name for sf in s.subfields)}
            for comp in s.components:
                t = mesg.fields.get(comp.target)
                if t is not None:
                    out |= {t.name, *(sf.name for sf in t.subfields)}
    return frozenset(out)


def _same(got: pd.DataFrame, want: pd.DataFrame, what: str) -> None:
    assert got.columns.tolist() == want.columns.tolist(), what
    assert got.dtypes.tolist() == want.dtypes.tolist(), what
    if not got.equals(want):  # the full comparison (slow) says where
        pd.testing.assert_frame_equal(got, want, check_exact=True, obj=what)


@pytest.mark.slow
@pytest.mark.parametrize("rel", _corpus())
def test_fields_equal_the_whole_frames_columns(rel: str) -> None:
    data = shared_dir("fit", *rel.split("/")).read_bytes()
    try:
        full = drivers.fit.decode(data)
    except FitError as exc:  # a file with no usable messages (tests/test_fit_corpus.py)
        with pytest.raises(FitError) as again:
            drivers.fit.decode(data)
        assert str(again.value) == str(exc)  # refused the same way each time: nothing to read
        return
    lazy = drivers.fit.decode(data)
    names = list(lazy)
    rng = random.Random(rel)
    for name in names:
        df = full[name]
        cols = df.columns.tolist()
        mixed = rng.sample(cols, len(cols))
        wanted = [("no_such_column", *reversed(cols), cols[0] if cols else "x")]
        wanted += [tuple(mixed[i : i + CHUNK]) for i in range(0, len(mixed), CHUNK)]
        single = cols if name in META else [c for c in cols if c in _derived(name)]
        wanted += [(c,) for c in single]
        ref = {c: df[c] for c in cols}
        for w in wanted:
            got = lazy.fields(name, w)
            what = f"{rel}: {name}{w}"
            assert got.columns.tolist() == [c for c in dict.fromkeys(w) if c in ref], what
            assert got.index.equals(df.index), what
            for c in got.columns:  # column by column: a frame's df[cols] is slow
                s = got[c]
                if not (s.dtype == ref[c].dtype and s.equals(ref[c])):
                    pd.testing.assert_series_equal(s, ref[c], check_exact=True, obj=what)
        assert lazy.pending == names, f"{rel}: fields({name!r}) built a frame"
    assert lazy.fields("no_such_message", ("x",)).empty
    for name in names:  # and the frames built afterwards are the ones the file has
        pd.testing.assert_frame_equal(lazy[name], full[name], check_exact=True)


def test_a_subfield_alone_reads_the_field_it_depends_on() -> None:
    # file_id.garmin_product is product (field 2) when manufacturer (field 1) is garmin
    m = drivers.fit.decode(shared_dir("fit", "3schweinehunde__fit_parser", "with_stryd.fit"))
    got = m.fields("file_id", ("garmin_product",))
    assert got["garmin_product"].tolist() == ["fr235"]
    _same(got, m.frame("file_id")[["garmin_product"]], "file_id.garmin_product")
    buf = shared_dir("fit", "3schweinehunde__fit_parser", "with_stryd.fit").read_bytes()
    layout = Walker(buf).run()
    frames = _Frames(buf, layout)
    (d, _, _), *_ = frames.by_name["file_id"]
    defn = layout.defs[d]
    assert len(defn.fields) > 2
    assert [f.num for f in narrowed(defn, frozenset({"garmin_product"})).fields] == [1, 2]
    assert [f.num for f in narrowed(defn, frozenset({"serial_number"})).fields] == [3]


def test_accumulated_and_compressed_timestamp_columns_alone() -> None:
    # distance accumulates from compressed_speed_distance; timestamps come from the
    # compressed headers of the whole file
    path = shared_dir("fit", "dtcooper__python-fitparse", "compressed-speed-distance.fit")
    whole = drivers.fit.decode(path).frame("record")
    m = drivers.fit.decode(path)
    for w in (("distance",), ("timestamp",), ("speed",), ("timestamp", "distance")):
        got = m.fields("record", w)
        assert got.columns.tolist() == list(w) and len(got) == len(whole) > 100
        _same(got, whole[list(w)], f"record{w}")
        assert "record" in m.pending
    dist = m.fields("record", ("distance",))["distance"].dropna()
    assert len(dist) > 700 and dist.is_monotonic_increasing and dist.iloc[-1] > 10_000


def test_a_built_frame_is_read_as_it_is() -> None:
    m = drivers.fit.decode(shared_dir("fit", "3schweinehunde__fit_parser", "with_stryd.fit"))
    whole = m["device_info"]
    got = m.fields("device_info", ("serial_number", "serial_number", "nope", "device_index"))
    _same(got, whole[["serial_number", "device_index"]], "device_info")
    got["serial_number"] = 0  # a copy: the frame stays as it was
    assert (m["device_info"]["serial_number"] != 0).any()

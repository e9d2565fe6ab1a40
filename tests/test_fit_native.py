"""The optional native walk/CRC (drivers/fit/_walkc.c) must equal the Python code exactly."""

import os

import numpy as np
import pytest

import drivers.fit.crc as crc
import drivers.fit.walk as walk

from .shared import shared_dir


def test_native_module_is_built():
    # the test command installs a C compiler; a silent fallback would hide a broken build
    assert walk._walkc is not None and crc._walkc is not None


@pytest.mark.parametrize("n", [0, 1, 7, 8, 9, 63, 64, 65, 4096, 100_003])
def test_native_crc_equals_the_python_crc(n):
    data = os.urandom(n)
    for start in (0, 1, 0xFFFF):
        assert walk._walkc.crc16(data, start) == crc.crc16_py(data, start)
    assert crc.crc16(data) == crc.crc16_numpy(data)


def _layout(buf: bytes, native: bool):
    saved = walk._walkc
    walk._walkc = saved if native else None
    try:
        out = walk.Walker(buf).run()
    finally:
        walk._walkc = saved
    return out


def test_native_walk_equals_the_python_walk_on_every_corpus_file():
    files = sorted(shared_dir("fit").rglob("*.fit")) + sorted(shared_dir("fit").rglob("*.FIT"))
    assert len(files) > 150
    for path in files:
        buf = path.read_bytes()
        for cut in (len(buf), len(buf) // 2):  # whole and truncated
            a, b = _layout(buf[:cut], True), _layout(buf[:cut], False)
            assert np.array_equal(a.positions, b.positions), path
            assert np.array_equal(a.def_ids, b.def_ids), path
            assert (a.error, a.warnings, a.crc_errors) == (b.error, b.warnings, b.crc_errors), path

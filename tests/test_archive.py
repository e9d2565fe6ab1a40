"""Archive walking: Garmin/Strava-style exports built in tmp_path, bombs, hostile names."""

from __future__ import annotations

import gzip
import io
import struct
import tracemalloc
import zipfile
import zlib
from pathlib import Path

import pytest

from drivers.archive import ArchiveError, Member, iter_members, open_maybe_gz
from tests.shared import shared_dir

MiB = 1 << 20
TWO_GB = 2_000_000_000


def _fits() -> list[Path]:
    d = shared_dir("fit", "GPSBabel__gpsbabel")
    return sorted(d.glob("*.fit"))[:4]


def _ok(members: list[Member]) -> dict[str, bytes]:
    assert all(m.error is None for m in members), [(m.name, m.error) for m in members]
    return {m.name: m.data for m in members}


def test_garmin_style_zip_of_zips(tmp_path: Path) -> None:
    fits = _fits()
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as inner:
        for f in fits:
            inner.write(f, f.name)
    outer = tmp_path / "export.zip"
    part = "DI_CONNECT/DI-Connect-Uploaded-Files/UploadedFiles_0-_Part1.zip"
    with zipfile.ZipFile(outer, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr(part, buf.getvalue())
        zf.writestr("DI_CONNECT/DI-Connect-User/user_profile.json", b"{}")
    got = _ok(list(iter_members(outer)))
    want = {f"export.zip!{part}!{f.name}": f.read_bytes() for f in fits}
    want["export.zip!DI_CONNECT/DI-Connect-User/user_profile.json"] = b"{}"
    assert got == want
    assert {m.suffix for m in iter_members(outer)} == {".fit", ".json"}


def _strava_files(fits: list[Path]) -> dict[str, bytes]:
    gpx = b'<gpx version="1.1" xmlns="http://www.topografix.com/GPX/1/1"/>'
    tcx = b"<TrainingCenterDatabase/>"
    return {
        "activities.csv": b"Activity ID,Filename\n1,activities/1.fit.gz\n",
        "activities/1.fit.gz": gzip.compress(fits[0].read_bytes()),
        "activities/2.gpx": gpx,
        "activities/3.tcx.gz": gzip.compress(tcx),
    }


def _expected(prefix: str, fits: list[Path]) -> dict[str, bytes]:
    return {
        f"{prefix}activities.csv": b"Activity ID,Filename\n1,activities/1.fit.gz\n",
        f"{prefix}activities/1.fit": fits[0].read_bytes(),
        f"{prefix}activities/2.gpx": b'<gpx version="1.1" xmlns="http://www.topografix.com/GPX/1/1"/>',
        f"{prefix}activities/3.tcx": b"<TrainingCenterDatabase/>",
    }


def test_strava_style_zip_and_folder(tmp_path: Path) -> None:
    fits = _fits()
    files = _strava_files(fits)
    archive = tmp_path / "export_123.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    members = list(iter_members(archive))
    assert _ok(members) == _expected("export_123.zip!", fits)
    assert sorted(m.suffix for m in members) == [".csv", ".fit", ".gpx", ".tcx"]

    folder = tmp_path / "export_123"
    for name, data in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(data)
    assert _ok(list(iter_members(folder))) == _expected("export_123/", fits)
    assert open_maybe_gz(folder / "activities/1.fit.gz") == fits[0].read_bytes()
    assert open_maybe_gz(folder / "activities/2.gpx") == files["activities/2.gpx"]


def _zeros_deflate(n_mib: int) -> bytes:
    """Raw deflate of n_mib MiB of zeros, built from one repeated full-flush block (fast)."""
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = c.compress(bytes(MiB)) + c.flush(zlib.Z_FULL_FLUSH)
    return block * n_mib + c.flush()


def _raw_zip(path: Path, name: str, deflated: bytes, size: int, crc: int) -> None:
    """A one-member zip whose header declares ``size`` and ``crc`` (honest or not)."""
    fname = name.encode()
    local = struct.pack(
        "<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0, crc, len(deflated), size, len(fname), 0
    )
    central = struct.pack(
        "<IHHHHHHIIIHHHHHII",
        0x02014B50, 20, 20, 0, 8, 0, 0, crc, len(deflated), size, len(fname), 0, 0, 0, 0, 0, 0,
    )  # fmt: skip
    cd_offset = len(local) + len(fname) + len(deflated)
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 1, 1, len(central) + len(fname), cd_offset, 0)
    path.write_bytes(local + fname + deflated + central + fname + end)


def test_zip_bomb_refused_on_declared_size_and_ratio(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.zip"
    stream = _zeros_deflate(TWO_GB // MiB)  # ~2 MB on disk for ~2 GB of zeros
    _raw_zip(bomb, "zeros.fit", stream, TWO_GB, 0)
    assert bomb.stat().st_size < 4 * MiB
    (m,) = iter_members(bomb, max_member_bytes=64 * MiB)
    assert m.name == "bomb.zip!zeros.fit" and m.data == b""
    assert m.error.startswith("declared size 2000000000 B exceeds the 67108864 B cap")
    (m,) = iter_members(bomb, max_member_bytes=4 * TWO_GB, max_total_bytes=8 * TWO_GB)
    assert m.error.startswith("compression ratio") and "exceeds 200:1" in m.error


def test_zip_bomb_lying_header_stops_at_declared_size_in_bounded_memory(tmp_path: Path) -> None:
    bomb = tmp_path / "liar.zip"
    # Declares 1 MiB with the right CRC for the first MiB; the stream inflates to 2 GB.
    _raw_zip(bomb, "a.fit", _zeros_deflate(TWO_GB // MiB), MiB, zlib.crc32(bytes(MiB)))
    tracemalloc.start()
    (m,) = iter_members(bomb, max_member_bytes=8 * MiB)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert m.error == f"inflates past its declared {MiB} B (zip bomb?)"
    assert peak < 8 * MiB


def test_gzip_bomb_in_zip_and_on_disk(tmp_path: Path) -> None:
    gz = gzip.compress(bytes(64 * MiB), compresslevel=1)
    archive = tmp_path / "s.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("activities/9.fit.gz", gz)
    (m,) = iter_members(archive, max_member_bytes=16 * MiB)
    assert m.name == "s.zip!activities/9.fit" and m.suffix == ".fit"
    assert "gzip" in m.error and "bomb" in m.error
    (tmp_path / "9.fit.gz").write_bytes(gz)
    with pytest.raises(ArchiveError, match=r"^9\.fit: gzip ratio over 200:1"):
        open_maybe_gz(tmp_path / "9.fit.gz")
    (tmp_path / "bad.tcx.gz").write_bytes(gz[:1000])
    with pytest.raises(ArchiveError, match=r"^bad\.tcx: corrupt gzip"):
        open_maybe_gz(tmp_path / "bad.tcx.gz")


def test_path_traversal_and_depth_refused(tmp_path: Path) -> None:
    archive = tmp_path / "evil.zip"
    inner3 = io.BytesIO()
    with zipfile.ZipFile(inner3, "w") as z3:
        z3.writestr("deep.fit", b"x")
    inner2 = io.BytesIO()
    with zipfile.ZipFile(inner2, "w") as z2:
        z2.writestr("c.zip", inner3.getvalue())
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr(zipfile.ZipInfo("../evil.fit"), b"x")
        zf.writestr(zipfile.ZipInfo("/abs.fit"), b"x")
        zf.writestr(zipfile.ZipInfo("a\\..\\..\\win.fit"), b"x")
        zf.writestr(zipfile.ZipInfo("C:/win.fit"), b"x")
        zf.writestr("b.zip", inner2.getvalue())
        zf.writestr("fine.fit", b"ok")
    got = {m.name: m.error for m in iter_members(archive, max_depth=2)}
    for name in ("../evil.fit", "/abs.fit", "a\\..\\..\\win.fit", "C:/win.fit"):
        assert got[f"evil.zip!{name}"] == "unsafe path (absolute or '..'): refused"
    assert got["evil.zip!b.zip!c.zip"] == "nested deeper than 2 zips"
    assert got["evil.zip!fine.fit"] is None
    deep = {m.name: m.error for m in iter_members(archive, max_depth=3)}
    assert deep["evil.zip!b.zip!c.zip!deep.fit"] is None


def test_truncated_and_corrupt_zips_give_one_line(tmp_path: Path) -> None:
    good = tmp_path / "good.zip"
    with zipfile.ZipFile(good, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("a.fit", bytes(range(256)) * 400)
        zf.writestr("b.fit", b"b" * 100)
    data = good.read_bytes()
    cut = tmp_path / "cut.zip"
    cut.write_bytes(data[: len(data) // 2])
    (m,) = iter_members(cut)
    assert m.name == "cut.zip" and m.error.startswith("not a readable zip")
    assert "\n" not in m.error
    # Flip bytes inside the first member's deflate stream: central directory intact.
    bad = bytearray(data)
    bad[60:70] = b"\xff" * 10
    (tmp_path / "flip.zip").write_bytes(bytes(bad))
    got = {m.name: m.error for m in iter_members(tmp_path / "flip.zip")}
    assert got["flip.zip!a.fit"].startswith(("corrupt member", "truncated member"))
    assert got["flip.zip!b.fit"] is None


def test_total_cap_refuses_the_rest(tmp_path: Path) -> None:
    archive = tmp_path / "t.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for i in range(4):
            zf.writestr(f"{i}.fit", bytes([i]) * 1000)
    errors = [m.error for m in iter_members(archive, max_total_bytes=2500)]
    assert errors[:2] == [None, None]
    assert errors[2:] == ["total cap of 2500 B reached: refused"] * 2

"""Activity exports (zip, zip of zips, folders, ``.gz``) → one :class:`Member` at a time.

Garmin Connect exports are a zip holding zips of FIT files; Strava's bulk export is a zip
(or the folder it unpacks to) with ``activities/*.fit.gz|.gpx|.tcx.gz`` and
``activities.csv``. :func:`iter_members` walks all of them the same way, in memory only:

- members are read one at a time, each with a byte cap, so memory is bounded by the caps
  (a nested zip is read into memory only when it fits ``max_member_bytes``);
- a member that cannot be read safely is yielded with ``error`` set and empty ``data``
  (the caller prints ``f"{m.name}: {m.error}"`` and goes on): zip bombs (declared size or
  compression ratio over the caps, or more bytes than declared while streaming), unsafe
  names (absolute, drive letters, ``..``), nesting deeper than ``max_depth``, encrypted or
  corrupt members, and a truncated or non-zip archive (one member named after the archive);
- nothing is ever extracted to disk, so a hostile name can do no harm beyond its error.
"""

from __future__ import annotations

import gzip
import io
import struct
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

MiB = 1 << 20
#: Defaults: a FIT/TCX/GPX file of a very long activity is tens of MB; a Garmin export can
#: hold GBs. Deflate rarely gets past 20:1 on XML (FIT ~3:1); a zero-filled bomb is ~1000:1.
MAX_MEMBER_BYTES = 256 * MiB
MAX_TOTAL_BYTES = 16 * 1024 * MiB
MAX_RATIO = 200.0
MAX_DEPTH = 3
#: Members smaller than this are never refused for their ratio (tiny files compress oddly).
RATIO_FLOOR_BYTES = 1 * MiB
_CHUNK = 1 * MiB


class ArchiveError(ValueError):
    """A file that cannot be read within the caps (raised by :func:`open_maybe_gz`)."""


@dataclass(frozen=True)
class Member:
    """One file of an export.

    Attributes:
        name: ``export.zip!path/in/zip``; nested ``export.zip!inner.zip!a.fit``; a folder's
            file is ``folder/rel/path``; ``.gz`` is removed from the last part.
        suffix: lower-case suffix after removing ``.gz`` (".fit", ".tcx", ".gpx", ".csv"...).
        data: the member's bytes (decompressed); ``b""`` when refused.
        error: why the member was refused, one line, or None.
    """

    name: str
    suffix: str
    data: bytes = b""
    error: str | None = None


@dataclass
class _Budget:
    """Caps of one walk, and the bytes it has read so far."""

    max_member: int
    max_total: int
    max_ratio: float
    max_depth: int
    used: int = 0


def iter_members(
    path: Path,
    *,
    max_member_bytes: int = MAX_MEMBER_BYTES,
    max_total_bytes: int = MAX_TOTAL_BYTES,
    max_ratio: float = MAX_RATIO,
    max_depth: int = MAX_DEPTH,
) -> Iterator[Member]:
    """Every file in ``path`` (a zip, a folder, a ``.gz`` or a plain file), zips opened inside.

    Folders are walked in sorted order, zips in their central directory's order. Nested zips
    count as one level of depth each (an export's inner zips are depth 2). ``max_total_bytes``
    caps all decompressed bytes read in this walk, containers included.
    """
    budget = _Budget(max_member_bytes, max_total_bytes, max_ratio, max_depth)
    path = Path(path)
    if path.is_dir():
        for file in sorted(p for p in path.rglob("*") if p.is_file()):
            rel = file.relative_to(path.parent).as_posix()
            yield from _file(file, rel, budget)
    else:
        yield from _file(path, path.name, budget)


def open_maybe_gz(
    path: Path, *, max_bytes: int = MAX_MEMBER_BYTES, max_ratio: float = MAX_RATIO
) -> bytes:
    """Bytes of a file, gunzipped when it ends in ``.gz``; raises ArchiveError over the caps."""
    path = Path(path)
    size = path.stat().st_size
    if not path.name.lower().endswith(".gz"):
        if size > max_bytes:
            raise ArchiveError(f"{path.name}: {size} B exceeds the {max_bytes} B cap")
        return path.read_bytes()
    with path.open("rb") as fh:
        data, err = _gunzip(fh, size, max_bytes, max_ratio)
    if err:
        raise ArchiveError(f"{path.name[:-3]}: {err}")
    return data


# --- walking ----------------------------------------------------------------------------


def _file(path: Path, name: str, budget: _Budget) -> Iterator[Member]:
    """One file on disk: a zip is opened, a ``.gz`` gunzipped, anything else read."""
    lower = name.lower()
    if lower.endswith(".zip"):
        try:
            with zipfile.ZipFile(path) as zf:
                yield from _zip(zf, name, budget, depth=1)
        except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
            yield _refused(name, f"not a readable zip ({_line(exc)})")
        return
    size = path.stat().st_size
    if lower.endswith(".gz"):
        with path.open("rb") as fh:
            data, err = _gunzip(fh, size, _room(budget), budget.max_ratio)
        yield _member(name[:-3], data, err, budget)
        return
    if size > _room(budget):
        yield _refused(name, f"{size} B exceeds the {_room(budget)} B cap")
        return
    yield _member(name, path.read_bytes(), None, budget)


def _zip(zf: zipfile.ZipFile, prefix: str, budget: _Budget, depth: int) -> Iterator[Member]:
    """Members of an open zip; nested zips recurse from memory."""
    for info in zf.infolist():
        if info.is_dir():
            continue
        name = f"{prefix}!{info.filename}"
        reason = _check(info, budget)
        if reason:
            yield _refused(name, reason)
            continue
        data, err = _read_member(zf, info)
        if err:
            yield _refused(name, err)
            continue
        lower = info.filename.lower()
        if lower.endswith(".gz"):
            data, err = _gunzip(io.BytesIO(data), len(data), _room(budget), budget.max_ratio)
            yield _member(name[:-3], data, err, budget)
        elif lower.endswith(".zip"):
            if depth >= budget.max_depth:
                yield _refused(name, f"nested deeper than {budget.max_depth} zips")
                continue
            budget.used += len(data)  # the inner zip stays in memory while it is walked
            try:
                with zipfile.ZipFile(io.BytesIO(data)) as inner:
                    yield from _zip(inner, name, budget, depth + 1)
            except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
                yield _refused(name, f"not a readable zip ({_line(exc)})")
        else:
            yield _member(name, data, None, budget)


def _check(info: zipfile.ZipInfo, budget: _Budget) -> str | None:
    """Why a member is refused before reading it (name, encryption, declared sizes), or None."""
    raw = info.orig_filename  # as stored, before zipfile's own clean-up
    parts = raw.replace("\\", "/").split("/")
    if raw.startswith(("/", "\\")) or (len(raw) > 1 and raw[1] == ":") or ".." in parts:
        return "unsafe path (absolute or '..'): refused"
    if info.flag_bits & 0x1:
        return "encrypted member: refused"
    if info.file_size > budget.max_member:
        return f"declared size {info.file_size} B exceeds the {budget.max_member} B cap (zip bomb?)"
    if info.file_size > _room(budget):
        return f"total cap of {budget.max_total} B reached: refused"
    ratio = info.file_size / max(info.compress_size, 1)
    if info.file_size > RATIO_FLOOR_BYTES and ratio > budget.max_ratio:
        return f"compression ratio {ratio:.0f}:1 exceeds {budget.max_ratio:.0f}:1 (zip bomb?)"
    return None


def _read_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> tuple[bytes, str | None]:
    """A member's bytes, never more than its declared size + 1 byte in memory."""
    try:
        if info.compress_type == zipfile.ZIP_DEFLATED:
            data, err = _inflate(zf, info)
        else:  # stored (output = input, bounded by the declared size), bzip2, lzma
            with zf.open(info) as fh:
                data = fh.read(info.file_size + 1)
            err = (
                None
                if len(data) == info.file_size
                else f"size {len(data)} B is not the declared {info.file_size} B"
            )
    except (
        zipfile.BadZipFile,
        zlib.error,
        EOFError,
        OSError,
        NotImplementedError,
        ValueError,
    ) as exc:
        return b"", f"corrupt member ({_line(exc)})"
    return (b"", err) if err else (data, None)


def _inflate(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> tuple[bytes, str | None]:
    """Inflate a deflated member from its raw bytes, stopping one byte past its declared size.

    zipfile itself stops at the declared size and then reports a CRC error, which hides a
    member that inflates to more than it declares; inflating here says so plainly.
    """
    fp = zf.fp  # the archive's file object (ZipFile keeps it open while reading)
    fp.seek(info.header_offset)
    head = fp.read(30)
    if len(head) < 30 or head[:4] != b"PK\x03\x04":
        return b"", "corrupt member (bad local header)"
    name_len, extra_len = struct.unpack("<HH", head[26:30])
    fp.seek(info.header_offset + 30 + name_len + extra_len)
    limit, left = info.file_size, info.compress_size
    inflater = zlib.decompressobj(-15)
    chunks, size, crc = [], 0, 0
    while left > 0 and not inflater.eof:
        buf = fp.read(min(_CHUNK, left))
        if not buf:
            return b"", f"truncated member: compressed data ends {left} B early"
        left -= len(buf)
        while buf and not inflater.eof:
            chunk = inflater.decompress(buf, limit + 1 - size)
            size += len(chunk)
            if size > limit:
                return b"", f"inflates past its declared {limit} B (zip bomb?)"
            crc = zlib.crc32(chunk, crc)
            chunks.append(chunk)
            buf = inflater.unconsumed_tail
    if size != limit:
        return b"", f"truncated member: {size} of {limit} B"
    if crc != info.CRC:
        return b"", "corrupt member (CRC mismatch)"
    return b"".join(chunks), None


def _gunzip(
    fh: io.BufferedIOBase, packed: int, cap: int, max_ratio: float
) -> tuple[bytes, str | None]:
    """Gunzip a stream in chunks, stopping past ``cap`` bytes or past ``max_ratio``."""
    chunks, n = [], 0
    try:
        with gzip.GzipFile(fileobj=fh) as gz:
            while True:
                chunk = gz.read(_CHUNK)
                if not chunk:
                    break
                n += len(chunk)
                if n > cap:
                    return b"", f"gzip expands past the {cap} B cap (gzip bomb?)"
                if n > RATIO_FLOOR_BYTES and n > max_ratio * max(packed, 1):
                    return b"", f"gzip ratio over {max_ratio:.0f}:1 (gzip bomb?)"
                chunks.append(chunk)
    except (gzip.BadGzipFile, zlib.error, EOFError, OSError) as exc:
        return b"", f"corrupt gzip ({_line(exc)})"
    return b"".join(chunks), None


# --- small helpers ----------------------------------------------------------------------


def _room(budget: _Budget) -> int:
    """Bytes one more member may have: the member cap, or what is left of the total."""
    return max(0, min(budget.max_member, budget.max_total - budget.used))


def _member(name: str, data: bytes, err: str | None, budget: _Budget) -> Member:
    """A yielded member; its bytes count toward the walk's total."""
    if err:
        return _refused(name, err)
    budget.used += len(data)
    return Member(name=name, suffix=_suffix(name), data=data)


def _refused(name: str, reason: str) -> Member:
    return Member(name=name, suffix=_suffix(name), error=reason)


def _suffix(name: str) -> str:
    last = name.rsplit("!", 1)[-1]
    return PurePosixPath(last.replace("\\", "/")).suffix.lower()


def _line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return (text[0] if text else type(exc).__name__)[:200]


__all__ = [
    "MAX_DEPTH",
    "MAX_MEMBER_BYTES",
    "MAX_RATIO",
    "MAX_TOTAL_BYTES",
    "ArchiveError",
    "Member",
    "iter_members",
    "open_maybe_gz",
]

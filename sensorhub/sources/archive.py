"""Activity exports as inputs: zips (zips of zips), ``.gz`` files, Strava export folders.

Not a source kind of its own: every member goes to the kind that claims its suffix (a
``.fit`` member to the FIT kind...), with the member's bytes, so a file ingested from an
export gives exactly what the same file gives on its own (same sha256, same sessions).
Reading is :mod:`drivers.archive` (streamed member by member, with caps against zip and
gzip bombs); this module only names things:

- an input inside an archive is a path ``<dir>/export.zip!inner/path.fit`` (nested:
  ``export.zip!a.zip!b.fit``; ``.gz`` is removed from the member's last part, as the driver
  does); a ``.gz`` file on disk is its own input (``run.fit.gz``);
- Strava's ``activities.csv`` (at an export's root) carries what the athlete typed in
  (name, RPE, private note); :func:`export_key` is how a CSV ``Filename`` and an ingested
  file are matched.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from pathlib import Path, PurePosixPath

from drivers.archive import ArchiveError, Member, iter_members, open_maybe_gz

from .base import FileSource
from .registry import kind_for

SEP = "!"
STRAVA_CSV = "activities.csv"
ARCHIVE_SUFFIXES = (".zip",)


def is_archive(path: Path) -> bool:
    """A zip file: its members are the inputs."""
    return path.suffix.lower() in ARCHIVE_SUFFIXES


def is_gz(path: Path) -> bool:
    return path.suffix.lower() == ".gz"


def strip_gz(name: str) -> str:
    return name[:-3] if name.lower().endswith(".gz") else name


def member_path(archive: Path, member: Member) -> Path:
    """The input path of a member: the archive's folder joined with the driver's name."""
    return archive.parent / member.name


def split_member(path: Path | str) -> tuple[Path, str] | None:
    """(archive on disk, name inside it) of a member path, or None for a plain file."""
    text = str(path)
    if SEP not in text:
        return None
    outer, _, inner = text.partition(SEP)
    return Path(outer), inner


def inner_path(path: Path | str) -> PurePosixPath:
    """The path a kind sees for a member: its name inside the innermost archive."""
    return PurePosixPath(str(path).rsplit(SEP, 1)[-1])


def takes(kind: FileSource | None) -> bool:
    """Whether members go to ``kind``: any kind but IMU without a placement (an export's
    many CSV files are not IMU recordings unless the user says so with --placement)."""
    return kind is not None and (kind.name != "imu" or getattr(kind, "placement", None))


def member_kind(name: str, kinds: list[FileSource]) -> FileSource | None:
    """The kind that takes a member named ``name`` (suffix after ``.gz`` removal)."""
    kind = kind_for(Path(inner_path(strip_gz(name))), kinds)
    return kind if takes(kind) else None


def list_members(archive: Path, kinds: list[FileSource]) -> list[Path]:
    """Input paths of the members a kind takes (plus ``activities.csv``), without reading
    the leaf members (inner zips are read to list them). A zip that cannot be listed is one
    input (its own path), which :func:`iter_members` reports as one refused member."""
    try:
        with zipfile.ZipFile(archive) as zf:
            names = list(_names(zf, archive.name, depth=1))
    except (zipfile.BadZipFile, OSError, EOFError, ValueError):
        return [archive]
    return [archive.parent / n for n in names if _wanted(n, kinds)]


def _names(zf: zipfile.ZipFile, prefix: str, depth: int) -> Iterator[str]:
    for info in zf.infolist():
        if info.is_dir():
            continue
        name = f"{prefix}{SEP}{info.filename}"
        if info.filename.lower().endswith(".zip") and depth < 3:
            try:
                with zipfile.ZipFile(io.BytesIO(zf.read(info))) as inner:
                    yield from _names(inner, name, depth + 1)
            except (zipfile.BadZipFile, OSError, EOFError, ValueError, RuntimeError):
                yield name
        else:
            yield strip_gz(name)


def _wanted(name: str, kinds: list[FileSource]) -> bool:
    last = inner_path(name)
    return (
        last.name.lower() == STRAVA_CSV
        or last.suffix.lower() == ".zip"
        or bool(member_kind(name, kinds))
    )


def members(archive: Path) -> Iterator[tuple[Path, Member]]:
    """(input path, member) of every member of ``archive``, streamed (one in memory)."""
    for m in iter_members(archive):
        yield member_path(archive, m), m


def read_input(path: Path) -> bytes:
    """The bytes of any input: a file, a ``.gz`` (gunzipped), or a member of an archive
    (found by streaming the archive); ArchiveError / OSError when it cannot be read."""
    found = split_member(path)
    if found is None:
        return open_maybe_gz(path)
    archive, _ = found
    for p, m in members(archive):
        if str(p) == str(path):
            if m.error:
                raise ArchiveError(m.error)
            return m.data
    raise ArchiveError(f"{path}: no longer in {archive}")


def export_key(path: Path | str) -> str:
    """How an ingested file and a Strava CSV ``Filename`` are matched: the last two parts
    of the path inside the export (``activities/123.fit``), ``.gz`` removed, lower case."""
    inner = str(inner_path(strip_gz(str(path)))).replace("\\", "/")
    return "/".join(inner.lower().split("/")[-2:])

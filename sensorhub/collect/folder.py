"""Watch a folder for FIT files (a watch's USB folder, a sync folder) with watchdog.

A file is handed on only once it has stopped growing for ``settle_s`` seconds, so a file
still being copied is never read half-written.
"""

from __future__ import annotations

import queue
import time
from collections.abc import Iterator
from pathlib import Path

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer

SUFFIXES = {".fit"}


class _Handler(FileSystemEventHandler):
    def __init__(self, q: queue.Queue[Path]) -> None:
        self.q = q

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.is_directory or event.event_type not in ("created", "modified", "moved", "closed"):
            return
        path = getattr(event, "dest_path", "") or event.src_path
        path = Path(path.decode() if isinstance(path, bytes) else path)
        if path.suffix.lower() in SUFFIXES:
            self.q.put(path)


class FolderWatcher:
    """Yield settled FIT files below ``folder``: those already there first, then new ones."""

    def __init__(self, folder: str | Path, settle_s: float = 2.0, tick_s: float = 0.5) -> None:
        self.folder = Path(folder)
        self.settle_s = settle_s
        self.tick_s = tick_s
        self.q: queue.Queue[Path] = queue.Queue()
        self.observer = Observer()
        self.observer.schedule(_Handler(self.q), str(self.folder), recursive=True)
        self.observer.start()
        for p in sorted(self.folder.rglob("*")):
            if p.is_file() and p.suffix.lower() in SUFFIXES:
                self.q.put(p)
        # path -> (size, mtime, when that size was first seen)
        self.pending: dict[Path, tuple[int, float, float]] = {}

    def stop(self) -> None:
        self.observer.stop()
        self.observer.join(timeout=5)

    def files(self, until: float | None = None) -> Iterator[Path | None]:
        """Settled paths as they come; ``None`` on every idle tick (for periodic work)."""
        while until is None or time.monotonic() < until:
            try:
                p = self.q.get(timeout=self.tick_s)
                self.pending.setdefault(p, (-1, -1.0, time.monotonic()))
            except queue.Empty:
                pass
            ready = self._settled()
            yield from ready
            if not ready:
                yield None

    def _settled(self) -> list[Path]:
        now, ready = time.monotonic(), []
        for p, (size, mtime, since) in list(self.pending.items()):
            try:
                st = p.stat()
            except FileNotFoundError:
                del self.pending[p]
                continue
            if (st.st_size, st.st_mtime) != (size, mtime):
                self.pending[p] = (st.st_size, st.st_mtime, now)
            elif now - since >= self.settle_s:
                del self.pending[p]
                ready.append(p)
        return ready

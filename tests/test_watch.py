"""Folder watching: files are ingested once they stop growing, never half-written."""

import threading
import time

from sensorhub.collect.folder import FolderWatcher

from .fitbuild import write_run


def test_file_is_handed_on_only_after_it_stops_growing(tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    already = write_run(inbox / "old.fit", range(0, 10))
    data = write_run(tmp_path / "new.fit", range(0, 600)).read_bytes()
    watcher = FolderWatcher(inbox, settle_s=0.6, tick_s=0.05)

    def slow_copy():
        with open(inbox / "new.fit", "wb") as f:
            for i in range(0, len(data), 2048):
                f.write(data[i : i + 2048])
                f.flush()
                time.sleep(0.05)

    seen = []
    copier = threading.Thread(target=slow_copy)
    try:
        start = time.monotonic()
        for p in watcher.files(until=start + 15):
            if p is not None:
                seen.append((p.name, p.stat().st_size))
                if p == already:
                    copier.start()  # the new file starts arriving only now
            if len(seen) == 2:
                break
    finally:
        watcher.stop()
        if copier.is_alive():
            copier.join()
    assert seen[0] == ("old.fit", already.stat().st_size)
    assert seen[1] == ("new.fit", len(data))  # complete, not a prefix


def test_watch_command_ingests_new_files_and_stops_cleanly_on_ctrl_c(tmp_path):
    import os
    import signal
    import subprocess
    import sys

    from sensorhub.store import Journal

    inbox, home = tmp_path / "inbox", tmp_path / "home"
    inbox.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SENSORHUB_")}
    env["SENSORHUB_HOME"] = str(home)
    proc = subprocess.Popen(
        [sys.executable, "-m", "sensorhub.cli", "watch", str(inbox), "--settle", "0.5"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        time.sleep(2)
        write_run(inbox / "run.fit", range(0, 300))
        (inbox / "junk.fit").write_bytes(b"not a fit file at all")
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if (home / "journal.sqlite").exists() and not Journal(
                home / "journal.sqlite"
            ).sessions().empty:
                break
            time.sleep(0.3)
        time.sleep(1.5)
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert len(Journal(home / "journal.sqlite").sessions()) == 1
    assert f"{inbox / 'junk.fit'}: not a FIT file" in err
    assert "Traceback" not in err

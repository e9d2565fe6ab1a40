"""The state dir on a small or read-only filesystem (a tmpfs mounted for the test: root only,
skipped with the reason where mounting is not permitted).

A full disk stops the run with one line (``state dir full: free space in …``), exit 2, no
traceback, no "cannot rollback"; after space is freed the same command gives the result of
a clean run. A state dir that cannot be written gives one line and exit 2 for every command.
"""

from __future__ import annotations

import pytest

from .harness import (
    Mount,
    assert_one_clean_line,
    demo_files,
    env_for,
    invoke,
    read_journal,
    same_journal,
)

FILES = demo_files(8, 4)
FIT = FILES[0]


@pytest.fixture
def mount(tmp_path):
    made: list[Mount] = []

    def make(options: str) -> Mount:
        made.append(Mount(tmp_path / "mnt", options))
        return made[-1]

    yield make
    for m in made:
        m.close()


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    home = tmp_path_factory.mktemp("reference")
    run = invoke("ingest", *FILES, env=env_for(home))
    assert run.code == 0, run.text
    return read_journal(home)


def test_disk_full_is_one_line_and_a_rerun_after_freeing_space_gives_the_reference(
    mount, reference
):
    m = mount("size=512k")
    env = env_for(m.path / "home")
    run = invoke("ingest", *FILES, env=env)
    assert_one_clean_line(run, 2, "state dir full: free space in", str(m.path / "home"))
    assert "cannot rollback" not in run.text
    assert read_journal(m.path / "home")["integrity"] == "ok"

    m.remount("size=64m")
    again = invoke("ingest", *FILES, env=env)
    assert again.code == 0, again.text
    same_journal(read_journal(m.path / "home"), reference)


def test_status_on_a_completely_full_disk_says_why_in_one_line(mount):
    m = mount("size=512k")
    env = env_for(m.path / "home")
    assert invoke("ingest", FIT, env=env).code == 0
    fill_up(m.path / "fill")
    run = invoke("status", env=env)
    if run.code == 0:
        assert "sources       1" in run.out
    else:
        assert_one_clean_line(run, 2, "state dir full")


def fill_up(path) -> None:
    """Write zeros to ``path`` until the filesystem has not one block left."""
    try:
        with open(path, "wb", buffering=0) as f:
            while True:
                f.write(b"\0" * 4096)
    except OSError:
        pass


UNWRITABLE = ["ingest", "sessions", "status"]


def args_of(command: str) -> list:
    return [command, FIT] if command == "ingest" else [command]


@pytest.mark.parametrize("command", UNWRITABLE)
def test_a_state_dir_under_a_file_is_one_line_exit_2(command):
    run = invoke(*args_of(command), env=env_for("/dev/null/x"))
    assert_one_clean_line(run, 2, "state dir", "/dev/null/x")


@pytest.mark.parametrize("command", UNWRITABLE)
def test_a_new_state_dir_on_a_read_only_filesystem_is_one_line_exit_2(command, mount):
    m = mount("size=1m,ro")
    run = invoke(*args_of(command), env=env_for(m.path / "home"))
    assert_one_clean_line(run, 2, "state dir", str(m.path / "home"))


@pytest.mark.parametrize("command", UNWRITABLE)
def test_a_journal_on_a_filesystem_turned_read_only_is_one_line_exit_2(command, mount):
    m = mount("size=4m")
    env = env_for(m.path / "home")
    assert invoke("ingest", FIT, env=env).code == 0
    m.remount("ro")
    run = invoke(*args_of(command), env=env)
    assert_one_clean_line(run, 2, "not writable", str(m.path / "home"))

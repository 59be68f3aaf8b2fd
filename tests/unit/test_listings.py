"""Shadow probes answered from directory listings never miss an entry made since."""

from __future__ import annotations

import os
import time

from zccache.core import manifest


def _age(path, seconds: int) -> None:
    past = time.time_ns() - seconds * 1_000_000_000
    os.utime(path, ns=(past, past))


def test_a_listing_is_kept_while_the_directory_is_unchanged_and_dropped_after(tmp_path):
    listings = manifest._Listings()
    (tmp_path / "a.h").write_text("")
    _age(tmp_path, 100)
    assert listings.names(str(tmp_path), time.time_ns()) == {"a.h"}
    (tmp_path / "b.h").write_text("")  # the directory's mtime moves to now: not yet trusted
    assert listings.names(str(tmp_path), time.time_ns()) is None
    _age(tmp_path, 50)  # settled again, at another time: listed anew
    assert listings.names(str(tmp_path), time.time_ns()) == {"a.h", "b.h"}


def test_absent_directories_files_and_broken_links(tmp_path):
    listings = manifest._Listings()
    assert listings.names(str(tmp_path / "none"), time.time_ns()) == frozenset()
    (tmp_path / "f").write_text("")
    assert listings.names(str(tmp_path / "f"), time.time_ns()) == frozenset()  # a path through a file
    (tmp_path / "dangling.h").symlink_to(tmp_path / "nowhere")
    _age(tmp_path, 100)
    now = time.time_ns()
    assert ("dangling.h" in listings.names(str(tmp_path), now)) == os.path.lexists(tmp_path / "dangling.h") is True
    assert "x.h" not in listings.names(str(tmp_path / "none"), now)

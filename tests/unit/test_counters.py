"""The counters live in the store's database, survive eviction, and take in the
counts an earlier version kept in a stats/ diskcache of their own."""

from __future__ import annotations

import os
import threading

import diskcache

from zccache.core.store import Store


def test_counts_add_up_from_threads_and_survive_eviction(tmp_path):
    store = Store(str(tmp_path), size_limit=64 * 1024)

    def bump() -> None:
        for _ in range(50):
            store.incr("hit.direct")

    threads = [threading.Thread(target=bump) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    store.add_counts({"miss": 3, "hit.direct": 1})
    for i in range(40):  # far past the size limit: results are evicted, counters are not
        store.set(f"r:{i}", {"files": [os.urandom(8192)]})
    store.close()
    again = Store(str(tmp_path), size_limit=64 * 1024)
    assert again.counters() == {"hit.direct": 201, "miss": 3}
    assert again.local.volume() < 200 * 1024
    again.zero()
    assert again.counters() == {}


def test_an_earlier_versions_stats_directory_is_folded_in_once(tmp_path):
    with diskcache.Cache(str(tmp_path / "stats")) as old:
        old.incr("miss", 7)
        old.incr("hit.direct", 2)
    Store(str(tmp_path), size_limit=1 << 20).close()
    assert not (tmp_path / "stats").exists()
    store = Store(str(tmp_path), size_limit=1 << 20)
    assert store.counters() == {"miss": 7, "hit.direct": 2}

"""A cache shared past one machine: real Redis, S3 (moto's server) and WebDAV
(wsgidav) servers started here on free loopback ports, and a real distccd for misses.

Two "machines" are two cache directories and two checkouts at different absolute
paths, sharing one remote."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from support import BIN, DEMO, compile_checked, need, write

pytestmark = pytest.mark.parametrize("zc", ["native"], indirect=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int, proc: subprocess.Popen, what: str) -> None:
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{what} did not start") from None
            time.sleep(0.1)


class Server:
    def __init__(self, command: list[str], port: int, what: str, log: Path, env=None) -> None:
        self.port = port
        self.log = log
        self.proc = subprocess.Popen(command, stdout=log.open("wb"), stderr=subprocess.STDOUT, env=env)
        wait_port(port, self.proc, what)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=30)


@pytest.fixture
def redis(tmp_path) -> Iterator[Server]:
    exe = need("redis-server", "redis-server")
    port = free_port()
    server = Server([exe, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], port,
                    "redis-server", tmp_path / "redis.log")
    yield server
    server.stop()


def redis_cli(server: Server, *args: str) -> str:
    exe = need("redis-cli", "redis-server")
    return subprocess.run([exe, "-p", str(server.port), *args], capture_output=True, check=True).stdout.decode()


@pytest.fixture
def s3(tmp_path) -> Iterator[str]:
    port = free_port()
    env = {**os.environ, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
    server = Server([shutil.which("moto_server", path=BIN) or "moto_server", "-H", "127.0.0.1", "-p", str(port)], port,
                    "moto_server", tmp_path / "moto.log", env)
    import boto3

    boto3.client("s3", endpoint_url=f"http://127.0.0.1:{port}", region_name="us-east-1", aws_access_key_id="testing",
                 aws_secret_access_key="testing").create_bucket(Bucket="zccache")
    yield f"s3://zccache/builds?endpoint=http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def webdav(tmp_path) -> Iterator[str]:
    port = free_port()
    root = tmp_path / "dav"
    root.mkdir()
    server = Server([shutil.which("wsgidav", path=BIN) or "wsgidav", "--host", "127.0.0.1", "--port", str(port),
                     "--root", str(root), "--auth", "anonymous"], port, "wsgidav", tmp_path / "wsgidav.log")
    yield f"webdav+http://127.0.0.1:{port}/cache"
    server.stop()


@pytest.fixture
def memcached(tmp_path) -> Iterator[str]:
    port = free_port()
    as_root = ["-u", "root"] if os.geteuid() == 0 else []  # memcached refuses root without saying so
    server = Server([need("memcached", "memcached"), *as_root, "-l", "127.0.0.1", "-p", str(port), "-U", "0",
                     "-m", "64", "-I", "8m"], port, "memcached", tmp_path / "memcached.log")
    yield f"memcached://127.0.0.1:{port}/builds"
    server.stop()


AZURITE_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="  # its fixed key


@pytest.fixture
def azblob(tmp_path) -> Iterator[str]:
    """Azure Blob through Azurite, Microsoft's emulator (npm; .ci/run installs it)."""
    port = free_port()
    exe = shutil.which("azurite-blob")
    if exe is None:
        pytest.fail("azurite-blob not found: npm install -g azurite (.ci/run does)")
    server = Server([exe, "--blobHost", "127.0.0.1", "--blobPort", str(port), "--location", str(tmp_path / "azurite"),
                     "--silent", "--skipApiVersionCheck"], port, "azurite", tmp_path / "azurite.log")
    endpoint = f"http://127.0.0.1:{port}/devstoreaccount1"
    from azure.storage.blob import BlobServiceClient

    BlobServiceClient(endpoint, credential={"account_name": "devstoreaccount1", "account_key": AZURITE_KEY}
                      ).create_container("zccache")
    yield f"azblob://zccache/builds?endpoint={endpoint}&account_name=devstoreaccount1&account_key={AZURITE_KEY}"
    server.stop()


@pytest.fixture
def gcs(tmp_path) -> Iterator[str]:
    """Google Cloud Storage through gcp-storage-emulator (PyPI)."""
    port = free_port()
    server = Server([shutil.which("gcp-storage-emulator", path=BIN) or "gcp-storage-emulator", "start", "--host",
                     "127.0.0.1", "--port", str(port), "--in-memory", "--default-bucket", "zccache"], port,
                    "gcp-storage-emulator", tmp_path / "gcs.log")
    yield (f"gcs://zccache/builds?endpoint=http://127.0.0.1:{port}&allow_anonymous=true&disable_vm_metadata=true"
           "&disable_config_load=true")
    server.stop()


def machine(zc, tmp_path: Path, name: str, remote: str, **extra: str) -> dict[str, str]:
    """A second machine's settings: its own cache directory (and daemon)."""
    env = {"ZCCACHE_CACHE_DIR": str(tmp_path / f"cache-{name}"), "ZCCACHE_REMOTE": remote,
           "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", **extra}
    return env


def stats(zc, env) -> dict:
    done = zc.run("stats", "--json", cwd="/", env=env)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def stop(zc, env) -> None:
    zc.run("stop", cwd="/", env=env)  # flushes what the daemon writes in the background


def compile_ok(zc, cwd: Path, env, source: str = "a.c") -> bytes:
    return compile_checked(zc, cwd, source, env)


def cmake_build(zc, source: Path, env) -> None:
    cmake = shutil.which("cmake", path=BIN) or "cmake"
    build = source / "build"
    launch = [f"-DCMAKE_{lang}_COMPILER_LAUNCHER={zc.command}" for lang in ("C", "CXX")]
    full = {**zc.env, **env}
    assert subprocess.run([cmake, "-G", "Ninja", "-S", str(source), "-B", str(build), *launch], env=full,
                          capture_output=True).returncode == 0
    done = subprocess.run([cmake, "--build", str(build), "-j", "2"], env=full, capture_output=True)
    assert done.returncode == 0, done.stdout[-3000:]


def test_second_machine_builds_from_redis(zc, tmp_path, redis):
    """The bundled CMake project built on machine A (checkout /…/a/src), then on
    machine B (another checkout path, an empty cache directory): every compile of B
    is a result fetched from Redis, and B's programs are A's, byte for byte."""
    remote = f"redis://127.0.0.1:{redis.port}/0"
    sources = {}
    for name in ("a", "b"):
        sources[name] = tmp_path / name / "src"
        shutil.copytree(DEMO, sources[name])
    env_a = machine(zc, tmp_path, "a", remote, ZCCACHE_BASEDIR=str(sources["a"]))
    env_b = machine(zc, tmp_path, "b", remote, ZCCACHE_BASEDIR=str(sources["b"]))
    cmake_build(zc, sources["a"], env_a)
    stop(zc, env_a)
    a = stats(zc, env_a)
    assert a["hits"] == 0 and a["misses"] > 20 and a["remote"]["writes"] >= 2 * a["misses"]  # results and manifests
    cli = need("redis-cli", "redis-server")
    results = [k for k in redis_cli(redis, "--raw", "keys", "*").split() if "/r/" in k]
    heads = {subprocess.run([cli, "-p", str(redis.port), "--raw", "getrange", k, "36", "39"], capture_output=True,
                            check=True).stdout[:4] for k in results}
    assert results and heads == {b"ZC1z"}  # sealed (36 bytes), then a zstd frame: compressed on the wire as on disk
    cmake_build(zc, sources["b"], env_b)
    b = stats(zc, env_b)
    assert (b["hits"], b["misses"]) == (a["misses"], 0)
    assert b["remote"]["results_fetched"] == b["hits"]  # 100 % remote hits
    for program in ("app/zdemo", "tools/zcheck"):
        assert (sources["b"] / "build" / program).read_bytes() == (sources["a"] / "build" / program).read_bytes()
    stop(zc, env_b)  # the local copies of remote hits (written on a thread of the daemon's) are in by then
    shutil.rmtree(sources["b"] / "build")
    alone = {**env_b, "ZCCACHE_REMOTE": ""}
    cmake_build(zc, sources["b"], alone)
    again = stats(zc, alone)
    assert (again["hits"] - b["hits"], again["misses"]) == (a["misses"], 0)
    stop(zc, alone)


@pytest.mark.parametrize("backend", ["s3", "webdav", "memcached", "azblob", "gcs"])
def test_second_machine_hits_through_every_listed_backend(zc, tmp_path, backend, request):
    remote = request.getfixturevalue(backend)
    for name in ("a", "b"):
        write(tmp_path / name / "a.c", '#include "h.h"\nint a(void) { return V; }\n')
        write(tmp_path / name / "h.h", "#define V 7\n")
    env_a = machine(zc, tmp_path, "a", remote, ZCCACHE_BASEDIR=str(tmp_path / "a"))
    env_b = machine(zc, tmp_path, "b", remote, ZCCACHE_BASEDIR=str(tmp_path / "b"))
    compile_ok(zc, tmp_path / "a", env_a)
    stop(zc, env_a)
    compile_ok(zc, tmp_path / "b", env_b)
    b = stats(zc, env_b)
    assert (b["hits"], b["remote"]["results_fetched"]) == (1, 1)
    write(tmp_path / "b" / "h.h", "#define V 8\n")  # B's header differs: the shared manifest does not match
    compile_ok(zc, tmp_path / "b", env_b)
    assert stats(zc, env_b)["misses"] == 1
    stop(zc, env_b)


def test_readonly_consumer_never_writes(zc, tmp_path, redis):
    remote = f"redis://127.0.0.1:{redis.port}/0"
    write(tmp_path / "a.c", "int a(void) { return 1; }\n")
    write(tmp_path / "b.c", "int b(void) { return 2; }\n")
    trusted = machine(zc, tmp_path, "trusted", remote)
    compile_ok(zc, tmp_path, trusted)
    stop(zc, trusted)
    keys = redis_cli(redis, "dbsize")
    consumer = machine(zc, tmp_path, "ci", remote, ZCCACHE_REMOTE_READONLY="1")
    compile_ok(zc, tmp_path, consumer)  # a remote hit
    compile_ok(zc, tmp_path, consumer, "b.c")  # a miss: stored locally only
    stop(zc, consumer)
    assert redis_cli(redis, "dbsize") == keys
    s = stats(zc, consumer)
    assert (s["hits"], s["misses"], s["remote"]["writes"]) == (1, 1, 0)


def test_server_killed_or_stopped_mid_build(zc, tmp_path, redis):
    """Redis killed while a -j2 CMake build runs: the build succeeds with the
    compiler's objects. Then a server that stops answering (SIGSTOP): each request
    waits out its timeout until the breaker stops asking."""
    remote = f"redis://127.0.0.1:{redis.port}/0"
    source = tmp_path / "src"
    shutil.copytree(DEMO, source)
    env = machine(zc, tmp_path, "a", remote, ZCCACHE_REMOTE_TIMEOUT="0.5")
    cmake = shutil.which("cmake", path=BIN) or "cmake"
    launch = [f"-DCMAKE_{lang}_COMPILER_LAUNCHER={zc.command}" for lang in ("C", "CXX")]
    full = {**zc.env, **env}
    assert subprocess.run([cmake, "-G", "Ninja", "-S", str(source), "-B", str(source / "build"), *launch], env=full,
                          capture_output=True).returncode == 0
    build = subprocess.Popen([cmake, "--build", str(source / "build"), "-j", "2"], env=full, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT)
    time.sleep(1.0)
    redis.stop()
    out, _ = build.communicate(timeout=600)
    assert build.returncode == 0, out[-3000:]
    assert b"Traceback" not in out
    ran = subprocess.run([str(source / "build" / "app" / "zdemo")], capture_output=True)
    plain = tmp_path / "plain"
    assert subprocess.run([cmake, "-G", "Ninja", "-S", str(source), "-B", str(plain)], capture_output=True,
                          env=zc.env).returncode == 0
    assert subprocess.run([cmake, "--build", str(plain)], capture_output=True, env=zc.env).returncode == 0
    assert ran.stdout == subprocess.run([str(plain / "app" / "zdemo")], capture_output=True).stdout
    stop(zc, env)

    # a server that accepts and never answers
    hung = socket.socket()
    hung.bind(("127.0.0.1", 0))
    hung.listen(64)
    env = machine(zc, tmp_path, "b", f"redis://127.0.0.1:{hung.getsockname()[1]}/0", ZCCACHE_REMOTE_TIMEOUT="0.5")
    try:
        for i in range(6):
            write(tmp_path / "a.c", f"int a(void) {{ return {i}; }}\n")
            compile_ok(zc, tmp_path, env)
        s = stats(zc, env)
        assert s["misses"] == 6 and s["remote"]["breaker_opened"] >= 1 and s["remote"]["skipped"] >= 1
        assert s["remote"]["errors"] <= 3 + 2  # the three that open the breaker (and a write or two)
    finally:
        stop(zc, env)
        hung.close()


def test_corrupted_values_and_a_wrong_secret_are_misses(zc, tmp_path, redis):
    remote = f"redis://127.0.0.1:{redis.port}/0"
    write(tmp_path / "a.c", "int a(void) { return 1; }\n")
    writer = machine(zc, tmp_path, "w", remote, ZCCACHE_REMOTE_SECRET="team-secret")
    compile_ok(zc, tmp_path, writer)
    stop(zc, writer)
    # another secret: every value is refused
    other = machine(zc, tmp_path, "x", remote, ZCCACHE_REMOTE_SECRET="not-the-secret")
    compile_ok(zc, tmp_path, other)
    s = stats(zc, other)
    assert (s["hits"], s["misses"]) == (0, 1) and s["remote"]["rejected"] >= 1
    stop(zc, other)
    # the right secret, but each value damaged on the server (one byte of its end flipped)
    for key in redis_cli(redis, "--raw", "keys", "*").split():
        if "/r/" in key or "/m/" in key:
            value = subprocess.run([need("redis-cli", "redis-server"), "-p", str(redis.port), "--raw", "getrange", key,
                                    "0", "-2"], capture_output=True, check=True).stdout[:-1]
            subprocess.run([need("redis-cli", "redis-server"), "-p", str(redis.port), "-x", "set", key],
                           input=value + b"!", capture_output=True, check=True)
    reader = machine(zc, tmp_path, "r", remote, ZCCACHE_REMOTE_SECRET="team-secret")
    compile_ok(zc, tmp_path, reader)
    s = stats(zc, reader)
    assert (s["hits"], s["misses"]) == (0, 1) and s["remote"]["rejected"] >= 1
    stop(zc, reader)


def test_misses_compile_on_distcc(zc, tmp_path):
    """ZCCACHE_PREFIX=distcc: a miss's compile goes to a real distccd on loopback;
    the object is the local compiler's; the hit that follows never leaves the
    machine (the daemon counts no new job)."""
    distccd = need("distccd", "distcc")
    distcc = need("distcc", "distcc")
    port = free_port()
    log = tmp_path / "distccd.err"
    user = ["--user", "nobody"] if os.geteuid() == 0 else []
    proc = subprocess.Popen([distccd, "--daemon", "--no-detach", "--port", str(port), "--listen", "127.0.0.1",
                             "--allow", "127.0.0.1", "--log-stderr", "--log-level", "info", *user],
                            stderr=log.open("wb"))
    try:
        wait_port(port, proc, "distccd")
        env = {"ZCCACHE_PREFIX": distcc, "DISTCC_HOSTS": f"127.0.0.1:{port}", "DISTCC_FALLBACK": "0"}
        write(tmp_path / "a.c", "int a(void) { return 42; }\n")
        compile_ok(zc, tmp_path, env)
        jobs = log.read_bytes().count(b"COMPILE_OK")
        assert jobs == 1, log.read_text()
        (tmp_path / "a.o").unlink()
        compile_ok(zc, tmp_path, env)
        assert zc.stats()["hits"] == 1
        assert log.read_bytes().count(b"COMPILE_OK") == jobs
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)


DIR_TIER = '''
import os

from zccache.core.hookspecs import hookimpl


class DirTier:
    """A shared directory as a tier (an NFS mount, say): one file per key."""

    name = "dir"

    def __init__(self, root):
        self.root = root

    def get(self, key):
        try:
            with open(os.path.join(self.root, key.replace(":", "-")), "rb") as f:
                return f.read()
        except FileNotFoundError:
            return None

    def put(self, key, value):
        os.makedirs(self.root, exist_ok=True)
        with open(os.path.join(self.root, key.replace(":", "-")), "wb") as f:
            f.write(value)


@hookimpl
def zccache_storage_tiers(config):
    root = os.environ.get("DIR_TIER")
    return [DirTier(root)] if root else []
'''


def test_a_tier_from_a_plugin(zc, tmp_path):
    """A third-party tier, installed as an entry point of the group "zccache", is
    asked after the local store like the built-in ones: a second machine hits."""
    site = tmp_path / "site"
    write(site / "dir_tier.py", DIR_TIER)
    write(site / "dir_tier-1.0.dist-info" / "METADATA", "Metadata-Version: 2.1\nName: dir-tier\nVersion: 1.0\n")
    write(site / "dir_tier-1.0.dist-info" / "entry_points.txt", "[zccache]\ndir_tier = dir_tier\n")
    shared = tmp_path / "shared"
    write(tmp_path / "a.c", "int a(void) { return 3; }\n")
    for name in ("a", "b"):
        env = {"PYTHONPATH": str(site), "DIR_TIER": str(shared), "ZCCACHE_CACHE_DIR": str(tmp_path / f"cache-{name}")}
        compile_ok(zc, tmp_path, env)
        stop(zc, env)
        assert any(shared.iterdir())
    s = stats(zc, env)
    assert (s["hits"], s["remote"]["results_fetched"]) == (1, 1)


def test_a_value_copied_to_another_key_is_refused(zc, tmp_path, redis):
    """Each result on the server replaced by another (sound) result's value: a second
    machine must get misses and the compiler's objects, never the other object."""
    remote = f"redis://127.0.0.1:{redis.port}/0"
    write(tmp_path / "a.c", "int a(void) { return 1; }\n")
    write(tmp_path / "b.c", "int a(void) { return 2; }\n")
    writer = machine(zc, tmp_path, "w", remote)
    for source in ("a.c", "b.c"):
        compile_ok(zc, tmp_path, writer, source)
    stop(zc, writer)
    cli = need("redis-cli", "redis-server")
    results = [k for k in redis_cli(redis, "--raw", "keys", "*").split() if "/r/" in k]
    assert len(results) == 2
    values = [subprocess.run([cli, "-p", str(redis.port), "--raw", "get", k], capture_output=True,
                             check=True).stdout[:-1] for k in results]
    for key, value in zip(results, reversed(values)):  # swapped
        subprocess.run([cli, "-p", str(redis.port), "-x", "set", key], input=value, capture_output=True, check=True)
    reader = machine(zc, tmp_path, "r", remote)
    for source in ("a.c", "b.c"):
        compile_ok(zc, tmp_path, reader, source)  # the compiler's bytes, each
    s = stats(zc, reader)
    assert (s["hits"], s["misses"]) == (0, 2) and s["remote"]["rejected"] >= 2
    stop(zc, reader)


def test_a_result_asked_ahead_is_read_once_from_the_remote(zc, tmp_path, redis):
    """The daemon's store asks the remote for a result while the engine checks the
    headers (Store.prefetch); get() then takes that answer, not a second read, and
    the local level keeps its copy."""
    from zccache.core.config import Config
    from zccache.core.plugins import make_manager
    from zccache.core.store import Store
    from zccache.core.tiers import attach

    def store_of(name: str) -> Store:
        config = Config.from_env({"ZCCACHE_CACHE_DIR": str(tmp_path / name),
                                  "ZCCACHE_REMOTE": f"redis://127.0.0.1:{redis.port}/0"})
        store = Store.for_config(config)
        attach(store, make_manager(), config, lambda text: pytest.fail(text))
        return store

    writer = store_of("w")
    value = {"files": [["obj", b"o" * 3000, False]], "stdout": b"", "stderr": b""}
    writer.set("r:ahead", value)
    writer.close()  # its remote writes flushed
    reader = store_of("r")
    reader.read_ahead()
    reader.prefetch("r:ahead")
    reader.prefetch("r:absent")
    reader._pending["r:ahead"].result(timeout=30)  # the remote answered
    redis_cli(redis, "flushall")  # what get() hands back now can only be the answer asked ahead
    assert reader.get("r:ahead") == value
    assert reader.get("r:absent") is None
    counts = reader.counters()
    assert (counts["remote.result_hits"], counts["remote.requests"]) == (1, 2)  # r:absent asked once too
    reader.close()  # its local copies written
    assert Store.for_config(Config.from_env({"ZCCACHE_CACHE_DIR": str(tmp_path / "r")})).get("r:ahead") == value

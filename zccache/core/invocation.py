"""The typed values that cross module lines: what is run, and what came of it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol


class Memo(Protocol):
    """A small persistent key/value memo the engine lends to tool families."""

    def get(self, key: str) -> Any | None: ...

    def set(self, key: str, value: Any) -> None: ...


@dataclass(frozen=True)
class RunResult:
    """One real run of the tool, with what it told us about its inputs."""

    returncode: int
    stdout: bytes
    stderr: bytes
    # Every file the tool read besides the sources (headers), as the tool named
    # them; None when the run could not tell, which makes the result uncacheable.
    inputs: list[str] | None = None
    why_no_inputs: str = ""
    # Environment variables the run read, with their values (None: read while unset).
    env_inputs: dict[str, str | None] = field(default_factory=dict)
    # Files read as data by a program behind the compiler proper (the assembler's
    # .incbin and .include): recorded by content like headers, never scanned as text.
    data_inputs: list[str] = field(default_factory=list)
    # Paths at which a new file would have been read instead (earlier places on the
    # assembler's search path): recorded as shadow probes.
    absent: list[str] = field(default_factory=list)
    # What the run appended to an output it does not own (Invocation.appended), by
    # role; None when it wrote nothing there.
    appended: dict[str, bytes | None] = field(default_factory=dict)


@dataclass(frozen=True)
class SearchPath:
    """Where the tool looks for the files it reads, in order; the system part too.
    Each directory as the tool was given it: relative to the cwd, or absolute (a
    manifest entry keeps the two apart: manifest.Places)."""

    order: list[str]
    system: list[str]


class ToolFamily(Protocol):
    """What the engine needs from a tool family (gcc/clang, rustc ...).

    The family knows its tool's command line; the engine knows keys, manifests and
    the store. A family is returned inside the Invocation its classify hook made.
    """

    name: str

    def describe_tool(self, tool: str, env: Mapping[str, str]) -> bytes:
        """Bytes that identify the tool beyond its binary (version, target)."""
        ...

    def execute(self, inv: Invocation) -> RunResult:
        """Run the real tool for a miss, finding out which files it read."""
        ...

    def search_dirs(self, inv: Invocation, memo: Memo) -> SearchPath:
        """Directories searched for the inputs, in search order (for shadowing)."""
        ...

    def preprocess(self, inv: Invocation) -> RunResult:
        """The preprocessed text as stdout, for preprocessor-mode keys."""
        ...

    # Optional, looked up with getattr:
    #   tool_programs(tool, env) -> list[str]: programs the tool runs (a wrapper's
    #     compiler, cc1, as), whose stat signatures guard the memoised identity.
    #   unlisted_inputs(inv, headers, dirs, hashes) -> (present, absent): files the
    #     run may have read that its dependency output does not name (recorded by
    #     content), and paths where a new file would change the result (probed).
    #   action: "compile" (the default), "link" or "exec": statistics count them apart.
    #   still(inv) -> bool: whether classifying inv's command again would give inv
    #     (what classify read besides the command is unchanged); the daemon then
    #     serves the command again without classifying it (plans.py).


@dataclass
class Invocation:
    """A cacheable run of a tool: what to run, and what its result depends on."""

    family: ToolFamily
    tool: str  # absolute path of the real tool
    args: list[str]  # what the tool is run with (response files expanded)
    cwd: str
    env: Mapping[str, str]
    key_args: list[str]  # normalised args: output names out
    sources: list[str]  # hashed by content; paths as given, relative to cwd
    outputs: dict[str, str]  # role -> path of every file the run writes
    key_env: dict[str, str] = field(default_factory=dict)
    hash_cwd: bool = False  # the output embeds the working directory (debug info)
    # The source may be preprocessed to key on; False for languages with no preprocessor.
    can_preprocess: bool = True
    # __DATE__/__TIME__ give reproducible results (SOURCE_DATE_EPOCH is in the key).
    time_macros_ok: bool = False
    details: Any = None  # the family's own parse of the command line
    umask: int | None = None  # the client's, when a daemon runs the tool for it
    prefix: tuple[str, ...] = ()  # what a miss's compile runs under (ZCCACHE_PREFIX: distcc, icecc)
    # (real prefix, logical prefix) pairs under which the tool itself rewrites every
    # path it writes into its outputs (gcc's -ffile-prefix-map): paths below a real
    # prefix enter keys and manifests in their logical form, so that two builds in
    # different temporary directories share results.
    path_map: list[tuple[str, str]] = field(default_factory=list)
    relocatable: frozenset[str] = frozenset()  # output roles whose text names real paths (depfiles)
    # Files whose content, or absence, joins the key before any lookup: inputs the
    # tool opens by a name derived from its arguments (profile feedback data).
    key_files: list[str] = field(default_factory=list)
    # The inputs are source text, scanned for time macros and ``.incbin``; False for
    # links, whose objects and libraries hold those bytes without meaning them.
    text_inputs: bool = True
    # Inputs the run rewrites in place (ranlib's archive, the archive ``ar r`` adds
    # to): their content before the run is in the key, their change during it expected.
    in_place: frozenset[str] = frozenset()
    # The run names every file the assembler read (RunResult.data_inputs): text
    # that makes the assembler read a file by name needs no refusal.
    asm_listed: bool = False
    # Output roles the tool appends to rather than writes (gcc's DEPENDENCIES_OUTPUT
    # file): a hit appends the stored bytes, as the tool would have.
    appended: frozenset[str] = frozenset()
    # Output roles the tool may leave unwritten (lld-link's import library, written only
    # when the image exports something): stored as absent, and a hit leaves the file alone.
    optional: frozenset[str] = frozenset()
    # The output streams a hit replays (and the store keeps); a miss shows both.
    streams: frozenset[str] = frozenset({"stdout", "stderr"})
    # Direct keys already made from this Invocation's fields, by (tool identity,
    # source hashes, extras): shared by the copies of one classification the daemon
    # keeps (plans.py), whose key fields are the same; None where nothing is kept.
    direct_keys: dict[tuple, str] | None = field(default=None, compare=False, repr=False)

    @property
    def command(self) -> list[str]:
        return [self.tool, *self.args]

    def logical(self, path: str) -> str:
        """path with a mapped real prefix replaced by a marked logical one."""
        for real, new in self.path_map:
            if path == real or path.startswith(real + "/"):
                return f"\0{new}\0{path[len(real):]}"
        return path

    def physical(self, path: str) -> str | None:
        """The real path for a logical one (None when no current mapping has it)."""
        if not path.startswith("\0"):
            return path
        _, new, rest = path.split("\0", 2)
        for real, mapped in self.path_map:
            if mapped == new:
                return real + rest
        return None


@dataclass(frozen=True)
class Passthrough:
    """A run the cache must not touch; ``reason`` is counted in the statistics."""

    reason: str
    tool: str | None = None  # resolved tool path, when known
    action: str = "compile"  # or "link": what the run was, for the statistics


@dataclass(frozen=True)
class Batch:
    """One command line that the tool treats as several independent runs."""

    parts: list[Invocation]


@dataclass(frozen=True)
class Outcome:
    """What came of one run, for statistics, journals and observers."""

    kind: str  # "hit" | "miss" | "passthrough" | "failed"
    reason: str = ""  # passthrough reason, miss detail, or hit mode ("direct"/"preprocessed")
    returncode: int = 0
    key: str | None = None
    seconds: float = 0.0
    action: str = "compile"  # or "link" (links, archives), or "exec" (zccache exec)
    why: str = ""  # a miss: what differed from the nearest cached entry (miss_reasons.py)

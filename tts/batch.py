"""Batch synthesis from a manifest: one audio file per line, resumable, shardable over processes.

    tts-say --manifest lines.tsv --out-dir out/              # out/<id>.wav for every line
    torchrun --nproc-per-node 4 -m tts.say --manifest lines.jsonl --out-dir out/   # 4 disjoint shards
    tts-say --manifest lines.jsonl --out-dir out/ --shard 2/3                      # the 2nd of 3 shards

Manifests (chosen by extension, UTF-8; blank lines and lines starting with `#` are skipped):
- `.tsv` / `.txt`: `id<TAB>text`, exactly one tab per line; a first line `id<TAB>text` is a header.
- `.jsonl` / `.ndjson`: one object per line, `{"id": "a1", "text": "...", "pace": 1.1, "seed": 3}`; every
  other key must be a `SynthesisConfig` field (a per-line setting, over the caller's settings).
Ids become file names, so they must be safe ones: ASCII letters, digits, `-`, `_`, `.`, not starting or
ending with `.`, no `..`, at most 120 characters, not a Windows device name (CON, NUL, COM1...), and unique
ignoring case (so two ids never share a file on a case-insensitive file system). Every problem of the
manifest is a `ManifestError` (a `ValueError`) naming its line, raised before anything is synthesised.

Running: each id of this process's shard is written to `<out_dir>/<id>.<format>` by
`Pipeline.speak_to_file` (into `<id>.<format>.partial`, renamed when complete), so a file under its final
name is always complete and a rerun skips every id whose file exists (resume after a crash or kill;
nothing is rewritten; delete a file to redo it). A failed id (unspeakable text, a synthesis error) is
logged and the run goes on. `report.jsonl` in the output folder (`report.shard-I-of-N.jsonl` with
shards, so processes never share a file) gets one line per id handled in the run, appended across runs.

Shards: an id belongs to shard `blake2b(id) mod N`, a function of the id alone, so the split is the same
in every process and machine whatever the order of the manifest, and stays the same when lines are added
or removed (a grown manifest never moves a finished id to another shard: no two processes ever write
the same file). Counts are balanced statistically (within a few percent for thousands of lines), not
exactly; files are not all the same length anyway.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import re
import sys
import time
import traceback
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Final, TextIO

from tts.core.audio_files import audio_format
from tts.runtime.settings import SynthesisConfig

if TYPE_CHECKING:
    from tts.runtime.pipeline import Pipeline

#: manifest kind by file extension
MANIFEST_KINDS: Final = MappingProxyType({".tsv": "tsv", ".txt": "tsv", ".jsonl": "jsonl", ".ndjson": "jsonl"})
MAX_ID_LENGTH: Final = 120
_SAFE_ID: Final = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9._-]*")
#: names Windows reserves for devices, with or without an extension
RESERVED_NAMES: Final = frozenset(["CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"]
                                  + [f"{d}{i}" for d in ("COM", "LPT") for i in range(1, 10)])
SETTING_NAMES: Final = frozenset(f.name for f in dataclasses.fields(SynthesisConfig))
#: manifest problems shown in one error message (the rest are counted)
SHOWN_PROBLEMS: Final = 5
STATUSES: Final = ("ok", "skipped", "failed")


class ManifestError(ValueError):
    """A manifest that cannot be run: `problems` lists `(line, message)`; line 0 = the file as a whole."""

    def __init__(self, source: str, problems: Sequence[tuple[int, str]]):
        self.source = source
        self.problems = tuple(problems)
        shown = [f"line {line}: {message}" if line else message for line, message in problems[:SHOWN_PROBLEMS]]
        more = len(problems) - SHOWN_PROBLEMS
        tail = f" (and {more} more problem{'s' if more > 1 else ''})" if more > 0 else ""
        super().__init__(f"{source}: " + "; ".join(shown) + tail)


@dataclass(frozen=True)
class Entry:
    """One manifest line: the file id, the text, per-line settings (`SynthesisConfig` fields), its line."""

    id: str
    text: str
    settings: Mapping[str, Any] = field(default_factory=dict)
    line: int = 0

    def __post_init__(self) -> None:
        object.__setattr__(self, "settings", MappingProxyType(dict(self.settings)))

    @property
    def words(self) -> int:
        return len(self.text.split())


# ----------------------------------------------------------------------------------------------------
# Reading and checking manifests
# ----------------------------------------------------------------------------------------------------
def id_problem(entry_id: Any) -> str | None:
    """Why `entry_id` is not a safe file name, or None when it is."""
    if not isinstance(entry_id, str):
        return f"id must be a string, got {type(entry_id).__name__}"
    shown = repr(entry_id if len(entry_id) <= 60 else entry_id[:57] + "...")
    if not entry_id:
        return "id is empty"
    if len(entry_id) > MAX_ID_LENGTH:
        return f"id {shown} is longer than {MAX_ID_LENGTH} characters"
    if not _SAFE_ID.fullmatch(entry_id) or ".." in entry_id or entry_id.endswith("."):
        return (f"id {shown} is not a safe file name (use ASCII letters, digits, '-', '_' and '.', not starting "
                "or ending with '.', no '..')")
    if entry_id.split(".")[0].upper() in RESERVED_NAMES:
        return f"id {shown} is a reserved device name on Windows"
    return None


def check_settings(settings: Mapping[str, Any], base: SynthesisConfig | None = None) -> SynthesisConfig:
    """The config `settings` give over `base` (default: `SynthesisConfig()`); ValueError for unknown names
    or bad values."""
    unknown = sorted(set(settings) - SETTING_NAMES)
    if unknown:
        raise ValueError(f"unknown setting(s) {', '.join(map(repr, unknown))}; known: {', '.join(sorted(SETTING_NAMES))}")
    try:
        return (base or SynthesisConfig()).replace(**settings)
    except TypeError as exc:
        raise ValueError(str(exc)) from None


def check_entries(entries: Sequence[Entry], source: str = "manifest", settings: Mapping[str, Any] | None = None,
                  pipe: Pipeline | None = None) -> None:
    """Everything that can be checked before synthesis, every problem with its line: safe and unique ids,
    text present, settings (the caller's `settings` with each line's over them) valid — against `pipe`'s
    voice and vocoders when given. Raises `ManifestError`."""
    problems: list[tuple[int, str]] = []
    seen: dict[str, Entry] = {}
    base = pipe.config if pipe is not None else None
    for entry in entries:
        problem = id_problem(entry.id)
        if problem is None:
            earlier = seen.get(entry.id.casefold())
            if earlier is not None:
                same = "" if earlier.id == entry.id else f" (as {earlier.id!r}, ignoring case)"
                problem = f"duplicate id {entry.id!r}: already on line {earlier.line}{same}"
            else:
                seen[entry.id.casefold()] = entry
        if problem is None and not (isinstance(entry.text, str) and entry.text.strip()):
            problem = "text is empty"
        if problem is None:
            try:
                config = check_settings({**(settings or {}), **entry.settings}, base)
                if pipe is not None and (config.vocoder or pipe.default_vocoder) not in pipe.vocoder_names:
                    problem = (f"vocoder {config.vocoder!r} is not available for this voice; "
                               f"available: {', '.join(pipe.vocoder_names)}")
            except ValueError as exc:
                problem = str(exc)
        if problem is not None:
            problems.append((entry.line, problem))
    if problems:
        raise ManifestError(source, problems)


def manifest_kind(path: str | os.PathLike) -> str:
    suffix = Path(path).suffix.lower()
    if suffix not in MANIFEST_KINDS:
        raise ValueError(f"manifest {path}: unknown kind {suffix or '(no extension)'!r}; "
                         f"use one of {', '.join(MANIFEST_KINDS)}")
    return MANIFEST_KINDS[suffix]


def read_manifest(path: str | os.PathLike) -> list[Entry]:
    """Read and check a manifest file (kind by extension); `ManifestError` (a ValueError) names each bad line."""
    path = Path(path)
    kind = manifest_kind(path)
    if path.is_dir():
        raise ValueError(f"cannot read manifest {path}: it is a folder")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ValueError(f"cannot read manifest {path}: {exc.strerror or exc}") from None
    return parse_manifest(data, kind, source=str(path))


def parse_manifest(data: str | bytes, kind: str, source: str = "manifest") -> list[Entry]:
    """Entries of a manifest's content (`kind` "tsv" or "jsonl"), checked as `check_entries` does."""
    if kind not in ("tsv", "jsonl"):
        raise ValueError(f"unknown manifest kind {kind!r}: use 'tsv' or 'jsonl'")
    if isinstance(data, str):
        data = data.encode("utf-8")
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    entries: list[Entry] = []
    problems: list[tuple[int, str]] = []
    header_allowed = kind == "tsv"
    # split on "\n" only: str.splitlines() would also split at U+2028, which JSON strings may contain raw
    for number, raw in enumerate(data.split(b"\n"), start=1):
        try:
            line = raw.decode("utf-8").rstrip("\r")
        except UnicodeDecodeError as exc:
            problems.append((number, f"not UTF-8 text (byte {exc.start + 1} of the line)"))
            continue
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        try:
            if header_allowed and line.strip().lower().split("\t") == ["id", "text"]:
                header_allowed = False
                continue
            header_allowed = False
            entries.append(_parse_tsv(line, number) if kind == "tsv" else _parse_json(line, number))
        except ValueError as exc:
            problems.append((number, str(exc)))
    if not problems and not entries:
        problems.append((0, "no entries (every line is blank or a comment)"))
    try:
        check_entries(entries, source)
    except ManifestError as exc:
        problems.extend(exc.problems)
    if problems:
        raise ManifestError(source, sorted(problems, key=lambda p: p[0]))
    return entries


def _parse_tsv(line: str, number: int) -> Entry:
    fields = line.split("\t")
    if len(fields) != 2:
        found = "no tab" if len(fields) == 1 else f"{len(fields)} tab-separated columns"
        raise ValueError(f"expected id<TAB>text, found {found}")
    return Entry(fields[0].strip(), fields[1].strip(), line=number)


def _parse_json(line: str, number: int) -> Entry:
    def no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        record = dict(pairs)
        if len(record) < len(pairs):
            seen: set[str] = set()
            twice = next(key for key, _ in pairs if key in seen or seen.add(key))
            raise ValueError(f"key {twice!r} appears twice")
        return record

    try:
        record = json.loads(line, object_pairs_hook=no_duplicate_keys)
    except json.JSONDecodeError as exc:
        raise ValueError(f"bad JSON: {exc.msg} (column {exc.colno})") from None
    except RecursionError:
        raise ValueError("bad JSON: nested too deeply") from None
    if not isinstance(record, dict):
        raise ValueError(f"expected a JSON object, got {type(record).__name__}")
    missing = [key for key in ("id", "text") if key not in record]
    if missing:
        raise ValueError(f"missing {' and '.join(map(repr, missing))}")
    entry_id, text = record.pop("id"), record.pop("text")
    if isinstance(entry_id, int) and not isinstance(entry_id, bool):
        entry_id = str(entry_id)
    if not isinstance(text, str):
        raise ValueError(f"text must be a string, got {type(text).__name__}")
    return Entry(entry_id, text.strip(), record, line=number)


# ----------------------------------------------------------------------------------------------------
# Shards
# ----------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Shard:
    """Shard `index` (0-based, as torchrun's RANK) of `count`; printed 1-based ("2/4") as `--shard` takes it."""

    index: int = 0
    count: int = 1

    def __post_init__(self) -> None:
        for name in ("index", "count"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int):
                raise ValueError(f"shard {name} must be an integer, got {value!r}")
        if self.count < 1 or not 0 <= self.index < self.count:
            raise ValueError(f"shard index {self.index} is not in 0..{self.count - 1} (count {self.count})")

    @property
    def label(self) -> str:
        return f"{self.index + 1}/{self.count}"

    @property
    def report_name(self) -> str:
        return "report.jsonl" if self.count == 1 else f"report.shard-{self.index + 1}-of-{self.count}.jsonl"

    def contains(self, entry_id: str) -> bool:
        return shard_of(entry_id, self.count) == self.index

    def select(self, entries: Iterable[Entry]) -> list[Entry]:
        return [entry for entry in entries if self.contains(entry.id)]


def shard_of(entry_id: str, count: int) -> int:
    """The shard (0-based) an id belongs to among `count`: blake2b of its UTF-8 bytes, mod `count`
    (the same in every process, unlike Python's salted `hash`)."""
    digest = hashlib.blake2b(entry_id.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big") % count


def shard(entries: Iterable[Entry], index: int, count: int) -> list[Entry]:
    """The entries of shard `index` (0-based) of `count`, in manifest order; the shards are disjoint and
    together hold every entry."""
    return Shard(index, count).select(entries)


def parse_shard(spec: str) -> Shard:
    """`--shard I/N`: shard I of N, numbered from 1 as Jest's and Playwright's `--shard` ("1/4" .. "4/4")."""
    match = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", spec or "")
    if match is None:
        raise ValueError(f"--shard {spec!r}: expected I/N, e.g. 1/4 (shards are numbered 1..N)")
    number, count = int(match.group(1)), int(match.group(2))
    if count < 1 or not 1 <= number <= count:
        raise ValueError(f"--shard {spec}: I must be in 1..N (shards are numbered from 1; RANK 0 is shard 1/N)")
    return Shard(number - 1, count)


def shard_from_environment(environ: Mapping[str, str] | None = None) -> Shard | None:
    """The shard torchrun (or any launcher) gives this process: RANK (0-based) of WORLD_SIZE; None when
    neither is set. One without the other, or values that are not a valid rank, are a ValueError."""
    env = os.environ if environ is None else environ
    rank, world = env.get("RANK"), env.get("WORLD_SIZE")
    if rank is None and world is None:
        return None
    if rank is None or world is None:
        missing = "RANK" if rank is None else "WORLD_SIZE"
        raise ValueError(f"{'WORLD_SIZE' if rank is None else 'RANK'} is set but {missing} is not; set both or neither")
    try:
        index, count = int(rank.strip()), int(world.strip())
    except ValueError:
        raise ValueError(f"RANK={rank!r} and WORLD_SIZE={world!r} must be integers") from None
    if count < 1 or not 0 <= index < count:
        raise ValueError(f"RANK={index} is not in 0..WORLD_SIZE-1 (WORLD_SIZE={count})")
    return Shard(index, count)


def resolve_shard(spec: str | Shard | None = None, environ: Mapping[str, str] | None = None) -> Shard:
    """`--shard` when given (it wins over the environment), else RANK/WORLD_SIZE, else the whole manifest."""
    if isinstance(spec, Shard):
        return spec
    if spec is not None:
        return parse_shard(spec)
    return shard_from_environment(environ) or Shard()


# ----------------------------------------------------------------------------------------------------
# Running
# ----------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class EntryResult:
    """One line of the report."""

    id: str
    status: str  # "ok" | "skipped" | "failed"
    line: int = 0
    file: str | None = None  # the audio file's name in the output folder (None: failed)
    seconds: float | None = None  # audio written in this run (None: skipped or failed)
    words: int = 0  # words of the input text
    warnings: tuple[str, ...] = ()
    error: str | None = None
    synthesis_seconds: float | None = None
    normalized: str | None = None

    def to_dict(self) -> dict[str, Any]:
        record = dataclasses.asdict(self)
        record["warnings"] = list(self.warnings)
        record["finished"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
        return record


@dataclass(frozen=True)
class BatchReport:
    """What a run did with its shard: one result per entry, in manifest order, and where the report went."""

    results: tuple[EntryResult, ...]
    report_path: Path
    shard: Shard
    wall_seconds: float  # how long the run took

    def count(self, status: str) -> int:
        return sum(1 for result in self.results if result.status == status)

    ok = property(lambda self: self.count("ok"))
    skipped = property(lambda self: self.count("skipped"))
    failed = property(lambda self: self.count("failed"))

    @property
    def failed_ids(self) -> list[str]:
        return [result.id for result in self.results if result.status == "failed"]

    @property
    def audio_seconds(self) -> float:
        return sum(result.seconds or 0.0 for result in self.results)

    @property
    def exit_status(self) -> int:
        """0 when every entry is ok or skipped, 1 when any failed."""
        return 1 if self.failed else 0

    def summary(self) -> str:
        where = f"shard {self.shard.label}" if self.shard.count > 1 else "batch"
        return (f"{where}: {self.ok} ok, {self.skipped} skipped, {self.failed} failed of {len(self.results)} "
                f"({self.audio_seconds:.1f} s of audio in {self.wall_seconds:.1f} s); report: {self.report_path}")


def output_path(out_dir: str | os.PathLike, entry_id: str, format: str = "wav") -> Path:
    return Path(out_dir) / f"{entry_id}.{audio_format(format).name}"


def prepare_out_dir(out_dir: str | os.PathLike) -> Path:
    """Create the output folder if needed and check it is writable (ValueError otherwise)."""
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise ValueError(f"--out-dir {out}: not a folder")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ValueError(f"--out-dir {out}: cannot create it ({exc.strerror or exc})") from None
    if not os.access(out, os.W_OK | os.X_OK):
        raise ValueError(f"--out-dir {out}: not writable")
    return out


def run_manifest(pipe: Pipeline, entries: Sequence[Entry], out_dir: str | os.PathLike, *, format: str = "wav",
                 shard: Shard | None = None, settings: Mapping[str, Any] | None = None, progress: bool | None = None,
                 keep_going: bool = True, quiet: bool = False, verbose: bool = False, stream: TextIO | None = None,
                 source: str = "manifest") -> BatchReport:
    """Synthesise this shard's entries (all of them without `shard`) into `out_dir/<id>.<format>`.

    Ids whose file exists are skipped. `settings` apply to every line, each line's own over them. The
    entries are checked first (`check_entries` against `pipe`: ManifestError naming `source`, nothing
    synthesised). A failure is reported and the run goes on (with `keep_going=False` it is re-raised
    once recorded); Ctrl-C stops the run at once (`SynthesisInterrupted`, the current file removed).
    `progress`: a tqdm bar with ETA on `stream` (default stderr) — None: only when it is a terminal.
    `quiet` prints only failures; `verbose` adds one line per id with its warnings (and tracebacks).
    """
    stream = sys.stderr if stream is None else stream
    fmt = audio_format(format).name
    shard = shard or Shard()
    check_entries(entries, source, settings, pipe)
    out = prepare_out_dir(out_dir)
    mine = shard.select(entries)
    report_path = out / shard.report_name
    started = time.perf_counter()
    results: list[EntryResult] = []
    pending = {entry.id for entry in mine if not output_path(out, entry.id, fmt).exists()}
    show = not quiet and (progress if progress is not None else _is_terminal(stream))

    from tqdm import tqdm

    desc = f"shard {shard.label}" if shard.count > 1 else "batch"

    def say(message: str) -> None:
        tqdm.write(message, file=stream)

    with _report_file(report_path) as report, tqdm(total=len(pending), unit="file", desc=desc, file=stream,
                                                 disable=not show, dynamic_ncols=True, leave=False) as bar:
        for entry in mine:
            path = output_path(out, entry.id, fmt)
            error: Exception | None = None
            if path.exists():  # finished by an earlier run (or, since this one started, by another)
                result = EntryResult(entry.id, "skipped", entry.line, path.name, words=entry.words)
            else:
                result, error = _synthesize(pipe, entry, path, fmt, {**(settings or {}), **entry.settings})
            results.append(result)
            report(result)
            if entry.id in pending:
                bar.update(1)
                failures = sum(r.status == "failed" for r in results)
                if failures:
                    bar.set_postfix_str(f"{failures} failed", refresh=False)
            if error is not None:
                if verbose:
                    say("".join(traceback.format_exception(type(error), error, error.__traceback__)).rstrip())
                say(f"failed: {entry.id} (line {entry.line}): {result.error}")
                if not keep_going:
                    raise error
            elif verbose and result.status == "ok":
                say(f"ok: {entry.id}: {result.seconds:.2f} s of audio in {result.synthesis_seconds:.2f} s")
                for warning in result.warnings:
                    say(f"warning: {entry.id}: {' '.join(warning.split())}")
    batch = BatchReport(tuple(results), report_path, shard, time.perf_counter() - started)
    if not quiet:
        say(batch.summary())
    return batch


def _synthesize(pipe: Pipeline, entry: Entry, path: Path, fmt: str,
                settings: Mapping[str, Any]) -> tuple[EntryResult, Exception | None]:
    start = time.perf_counter()
    try:
        recording = pipe.speak_to_file(entry.text, path, format=fmt, **settings)
    except Exception as exc:  # unspeakable text, a synthesis error: this id failed, the run goes on
        message = str(exc) if isinstance(exc, ValueError) and str(exc) else f"{type(exc).__name__}: {exc}"
        return EntryResult(entry.id, "failed", entry.line, words=entry.words, error=" ".join(message.split()),
                           synthesis_seconds=round(time.perf_counter() - start, 3)), exc
    return EntryResult(entry.id, "ok", entry.line, path.name, seconds=round(recording.duration, 3),
                       words=entry.words, warnings=tuple(recording.warnings),
                       synthesis_seconds=round(recording.timing.synthesis_seconds, 3),
                       normalized=recording.normalized), None


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


@contextmanager
def _report_file(path: Path) -> Iterator[Callable[[EntryResult], None]]:
    """Append to the report one flushed line per id: a kill loses at most the line being written, and a
    line cut by a kill is ended first so that every later line stays readable."""
    with open(path, "a+b") as file:  # appends go to the end wherever the file position is
        size = file.seek(0, os.SEEK_END)
        if size and file.seek(size - 1) is not None and file.read(1) != b"\n":
            file.write(b"\n")

        def write(result: EntryResult) -> None:
            file.write((json.dumps(result.to_dict(), ensure_ascii=False) + "\n").encode("utf-8"))
            file.flush()

        yield write


# ----------------------------------------------------------------------------------------------------
# The command line's entry points
# ----------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class BatchJob:
    """A checked manifest run, ready for a pipeline: made by `prepare_batch` before any model loads."""

    manifest: Path
    entries: tuple[Entry, ...]
    out_dir: Path
    format: str
    shard: Shard
    settings: Mapping[str, Any] = field(default_factory=dict)


def prepare_batch(manifest_path: str | os.PathLike, out_dir: str | os.PathLike, *, format: str = "wav",
                  shard: str | Shard | None = None, settings: Mapping[str, Any] | None = None,
                  environ: Mapping[str, str] | None = None) -> BatchJob:
    """Every check that needs no model (manifest, ids, settings with `settings` under each line's,
    format, shard from `shard` ("I/N") or RANK/WORLD_SIZE, output folder created and writable): a
    ValueError (ManifestError for the manifest, naming lines) before anything loads."""
    fmt = audio_format(format).name
    chosen = resolve_shard(shard, environ)
    entries = read_manifest(manifest_path)
    check_entries(entries, str(manifest_path), settings)
    out = prepare_out_dir(out_dir)
    return BatchJob(Path(manifest_path), tuple(entries), out, fmt, chosen, MappingProxyType(dict(settings or {})))


def run_batch(pipe: Pipeline, job: BatchJob, *, quiet: bool = False, verbose: bool = False,
              progress: bool | None = None, stream: TextIO | None = None) -> BatchReport:
    """Run a prepared job on `pipe` (the voice's vocoders and defaults checked first: ManifestError)."""
    return run_manifest(pipe, job.entries, job.out_dir, format=job.format, shard=job.shard, settings=job.settings,
                        progress=progress, quiet=quiet, verbose=verbose, stream=stream, source=str(job.manifest))


def main_from_cli(pipe: Pipeline, manifest_path: str | os.PathLike, out_dir: str | os.PathLike, *,
                  format: str = "wav", shard: str | None = None, settings: Mapping[str, Any] | None = None,
                  quiet: bool = False, verbose: bool = False, progress: bool | None = None,
                  environ: Mapping[str, str] | None = None) -> int:
    """`prepare_batch` + `run_batch` in one call; returns the exit status (0 all ok or skipped, 1 some
    failed). Bad input raises ValueError before synthesis (the CLI's exit status 2)."""
    job = prepare_batch(manifest_path, out_dir, format=format, shard=shard, settings=settings, environ=environ)
    return run_batch(pipe, job, quiet=quiet, verbose=verbose, progress=progress).exit_status

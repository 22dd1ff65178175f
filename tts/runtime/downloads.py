"""Downloadable voices (`tts.runtime.catalog`) fetched into a cache that users can trust.

    ensure_voice("nvidia-ljspeech")  ->  ~/.cache/tts/nvidia-ljspeech/   (a normal voice folder)

* Cache: `$TTS_HOME`, else `$XDG_CACHE_HOME/tts`, else `~/.cache/tts`; one folder per voice. A voice is
  cached when its folder has its voice.yaml and every weight file; then nothing touches the network.
* `$TTS_MIRROR` (e.g. `http://127.0.0.1:8000`) replaces the scheme and host of every URL (a path in
  it is put in front of the URL's path): mirrors, air-gapped sites, tests.
* Transfers follow redirects, go to `<file>.part`, are checked against Content-Length and renamed
  atomically. A cut transfer resumes with `Range` (a few retries with back-off within a run, and the
  `.part` is kept for the next run); a server that ignores `Range` (200 instead of 206) or answers 416
  makes the file start over.
* Before a file enters the cache it must load with the project's safe loaders (`weights_only`: plain
  tensors, never code) and have the catalogue's layout and architecture (hence every key and shape). A
  file that fails is deleted, never cached, and the `DownloadError` says so.
* A file lock per voice (and per file): two processes never download the same file twice or write
  into each other's files; the second waits and then finds the voice cached.
* Progress bars on stderr (tqdm), shown when stderr is a terminal unless `quiet`.

Errors are `DownloadError`s whose message is one line naming the URL (or file) and how to place the
files by hand.
"""
from __future__ import annotations

import datetime
import hashlib
import http.client
import json
import os
import re
import socket
import ssl
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, Callable, Mapping, NamedTuple
from urllib.parse import urlsplit, urlunsplit

import yaml
from filelock import FileLock, Timeout

from tts.core.serialization import CheckpointError, brief, read_checkpoint
from tts.runtime.catalog import CATALOG, DownloadableVoice, RemoteFile, find_downloadable
from tts.tacotron2 import load_tacotron2
from vocoder import VOCODERS

HOME_ENV = "TTS_HOME"
MIRROR_ENV = "TTS_MIRROR"
#: the voice folder format of `tts.runtime.voices` (which builds on this module, hence no import)
VOICE_FILE = "voice.yaml"
MODEL_CARD_FILE = "MODEL_CARD.md"
USER_AGENT = "tacoglow (https://pypi.org/project/tacoglow/) urllib"
#: transfer defaults: attempts after the first one that made no progress, first back-off, socket timeout
RETRIES = 4
BACKOFF_S = 1.0
TIMEOUT_S = 30.0
_CHUNK = 1 << 20
_RETRY_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})


class DownloadError(CheckpointError):
    """A voice could not be downloaded, or a downloaded or hand-placed file was refused. The message is
    one line: the URL or file, what went wrong, and how to place the files by hand."""


# ------------------------------------------------------------------------------------------ locations
def cache_dir() -> Path:
    """Where downloaded voices live: `$TTS_HOME`, else `$XDG_CACHE_HOME/tts`, else `~/.cache/tts`."""
    home = os.environ.get(HOME_ENV)
    if home:
        return Path(home).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg) if xdg and os.path.isabs(xdg) else Path.home() / ".cache"  # the XDG spec ignores relative paths
    return base / "tts"


def voice_cache_dir(name: str) -> Path:
    return cache_dir() / name


def mirror_url(url: str) -> str:
    """`url` with its scheme and host replaced by `$TTS_MIRROR`'s (unchanged when it is unset)."""
    mirror = os.environ.get(MIRROR_ENV, "").strip()
    if not mirror:
        return url
    m = urlsplit(mirror if "://" in mirror else f"http://{mirror}")
    if m.scheme not in ("http", "https") or not m.netloc:
        raise DownloadError(f"${MIRROR_ENV}={mirror!r} is not an http(s) address such as http://127.0.0.1:8000")
    u = urlsplit(url)
    return urlunsplit((m.scheme, m.netloc, m.path.rstrip("/") + u.path, u.query, ""))


# ------------------------------------------------------------------------------------------ catalogue view
class VoiceListing(NamedTuple):
    """What a voice list or menu shows about a downloadable voice."""

    name: str
    description: str
    size_bytes: int
    size_text: str  # "about 594 MB"
    licence: str
    cached: bool
    directory: Path  # where it is (or will be) cached


def downloadable_voices() -> list[VoiceListing]:
    """Every catalogue voice, in catalogue order, with whether it is cached."""
    return [VoiceListing(v.name, v.description, v.size_bytes, v.size_text, v.licence, is_cached(v.name),
                         voice_cache_dir(v.name)) for v in CATALOG]


def cached_voices() -> dict[str, Path]:
    """The catalogue voices that are cached, by name (folders usable as `--voice` / `from_pretrained`)."""
    return {v.name: voice_cache_dir(v.name) for v in CATALOG if is_cached(v.name)}


def is_cached(name: str | DownloadableVoice) -> bool:
    """True when the voice's folder holds its voice.yaml and every weight file (no network needed)."""
    voice = _voice(name)
    return _complete(voice_cache_dir(voice.name), voice)


def _complete(folder: Path, voice: DownloadableVoice) -> bool:
    return (folder / VOICE_FILE).is_file() and all((folder / f.filename).is_file() for f in voice.files)


def _voice(name: str | DownloadableVoice) -> DownloadableVoice:
    if isinstance(name, DownloadableVoice):
        return name
    voice = find_downloadable(name)
    if voice is None:
        known = ", ".join(v.name for v in CATALOG)
        raise ValueError(f"no downloadable voice named {name!r} (known: {known})")
    return voice


def manual_hint(voice: DownloadableVoice, remote: RemoteFile | None = None) -> str:
    """How to do without the downloader, in one sentence."""
    folder = voice_cache_dir(voice.name)
    what = (f"save {remote.url} as {folder / remote.filename}" if remote is not None
            else f"save {' and '.join(f.url for f in voice.files)} into {folder}/")
    return f"to place the files by hand, {what} and run again, or pass checkpoint files with --tacotron2/--waveglow"


# ------------------------------------------------------------------------------------------ the voice
def ensure_voice(name: str | DownloadableVoice, *, quiet: bool = False, progress: bool | None = None,
                 retries: int = RETRIES, backoff: float = BACKOFF_S, timeout: float = TIMEOUT_S) -> Path:
    """The voice's cached folder, downloading and checking whatever is missing first.

    A cached voice returns at once without any network access. Otherwise the voice's lock is taken
    (another process downloading the same voice is waited for), files placed by hand are checked,
    missing ones downloaded and checked, and voice.yaml + MODEL_CARD.md are written last.
    `quiet`: no messages, no progress bars; `progress`: force the bars on/off (None: when stderr is a
    terminal). Raises `DownloadError` (one line) and `ValueError` for an unknown name.
    """
    voice = _voice(name)
    folder = voice_cache_dir(voice.name)
    if _complete(folder, voice):
        return folder
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DownloadError(f"cannot create the voice cache folder {folder} ({exc.strerror or exc}); "
                            f"set ${HOME_ENV} to a writable folder") from None
    with _locked(folder / ".lock", f"another process is downloading {voice.name}; waiting for it", quiet):
        if _complete(folder, voice):
            return folder
        missing = [f for f in voice.files if not (folder / f.filename).is_file()]
        if missing:
            size = sum(f.approx_bytes for f in missing)
            _say(quiet, f"downloading voice {voice.name} (about {_mb(size)}) into {folder}")
        checked: dict[str, dict[str, Any]] = {}
        for remote in voice.files:
            dest = folder / remote.filename
            if dest.is_file():  # placed by hand, or kept by a run that stopped before voice.yaml
                try:
                    checked[remote.filename] = verify_file(dest, remote)
                except CheckpointError as exc:
                    raise DownloadError(f"{dest} is not the expected {remote.role} file of {voice.name} "
                                        f"({_without_path(exc, dest)}); delete or replace it") from None
                continue

            def verify(path: Path, remote: RemoteFile = remote) -> None:
                checked[remote.filename] = verify_file(path, remote)

            download_file(remote.url, dest, verify=verify, quiet=quiet, progress=progress, retries=retries,
                          backoff=backoff, timeout=timeout, hint=manual_hint(voice, remote))
            if remote.filename not in checked:  # brought in meanwhile by a plain `download_file` elsewhere
                checked[remote.filename] = verify_file(dest, remote)
        _write_voice_folder(folder, voice, checked)
    _say(quiet, f"voice {voice.name} is ready in {folder}")
    return folder


def verify_file(path: str | os.PathLike, remote: RemoteFile) -> dict[str, Any]:
    """Check a file against its catalogue entry; returns {url, sha256, bytes} for the provenance.

    The file is read with `weights_only=True` (plain tensors: a pickle that would run code is refused,
    not run), must have the declared layout, and must load with the project's loader into a model
    whose hyper-parameters are the catalogue's (strict loading: every key and shape). Raises
    `CheckpointError` with the reason.
    """
    path = Path(path)
    digest = _sha256(path)
    if remote.sha256 and digest != remote.sha256.lower():
        raise CheckpointError(f"{path}: its SHA-256 is {digest}, expected {remote.sha256.lower()}")
    _check_layout(read_checkpoint(path), remote, path)
    if remote.role == "tacotron2":
        model = load_tacotron2(path)
    else:
        model = VOCODERS.load(remote.role, path)
    config = getattr(model, "config", None)
    wrong = []
    for key, expected in remote.architecture.items():
        actual = getattr(config, key, None)
        accepted = expected if isinstance(expected, tuple) else (expected,)
        if actual not in accepted:
            wrong.append(f"{key} = {actual!r}, expected {' or '.join(map(repr, accepted))}")
    if wrong:
        raise CheckpointError(f"{path}: not the expected {remote.role} architecture ({'; '.join(wrong)})")
    return {"url": remote.url, "sha256": digest, "bytes": path.stat().st_size}


def _check_layout(obj: Any, remote: RemoteFile, path: Path) -> None:
    if remote.layout == "dle":
        state_dict = obj.get("state_dict") if isinstance(obj, Mapping) else None
        config = obj.get("config") if isinstance(obj, Mapping) else None
        if not (isinstance(config, Mapping) and isinstance(state_dict, Mapping)):
            found = f"a dict with keys {sorted(map(str, obj))[:6]}" if isinstance(obj, Mapping) else type(obj).__name__
            raise CheckpointError(f"{path}: expected a DeepLearningExamples checkpoint (a dict with 'config' and "
                                  f"'state_dict'), found {found}")


def _write_voice_folder(folder: Path, voice: DownloadableVoice, checked: Mapping[str, Mapping[str, Any]]) -> None:
    """MODEL_CARD.md, then voice.yaml (written last, atomically: its presence marks the voice cached)."""
    document = {
        "name": voice.name,
        "description": voice.description,
        "language": voice.language,
        "tacotron2": voice.file("tacotron2").filename,
        "vocoders": {f.role: f.filename for f in voice.files if f.role != "tacotron2"},
        "default_vocoder": voice.default_vocoder,
        "synthesis": dict(voice.synthesis),
        "audio": dict(voice.audio),
        "provenance": {
            "downloaded_by": "tts.runtime.downloads (checked: plain tensors, expected layout and architecture)",
            "downloaded_at": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "homepage": voice.homepage,
            "licence": voice.licence,
            "credit": voice.credit,
            "files": {name: dict(info) for name, info in checked.items()},
        },
    }
    if not document["vocoders"]:
        del document["vocoders"]
    try:
        _write_atomically(folder / MODEL_CARD_FILE, voice.model_card)
        _write_atomically(folder / VOICE_FILE, yaml.safe_dump(document, sort_keys=False, allow_unicode=True))
    except OSError as exc:
        raise DownloadError(f"cannot write the voice folder {folder} ({exc.strerror or exc})") from None


def _write_atomically(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


# ------------------------------------------------------------------------------------------ one file
def download_file(url: str, dest: str | os.PathLike, *, verify: Callable[[Path], Any] | None = None,
                  quiet: bool = False, progress: bool | None = None, retries: int = RETRIES,
                  backoff: float = BACKOFF_S, timeout: float = TIMEOUT_S, hint: str = "") -> Path:
    """Fetch `url` (through `$TTS_MIRROR`) to `dest` unless `dest` exists; returns `dest`.

    Under a lock on `dest`: download to `dest.part` (resuming what is there), check the byte count,
    run `verify(part)` (raising `CheckpointError`/`ValueError` refuses the file: it is deleted), then
    rename atomically. `hint` is appended to error messages (how to place the file by hand).
    """
    dest = Path(dest)
    source = mirror_url(url)
    waiting = f"another process is downloading {dest.name}; waiting for it"
    with _locked(dest.with_name(f".{dest.name}.lock"), waiting, quiet):
        if dest.is_file():
            return dest
        part = dest.with_name(dest.name + ".part")
        _fetch(source, part, quiet=quiet, progress=progress, retries=retries, backoff=backoff, timeout=timeout,
               hint=hint)
        if verify is not None:
            try:
                verify(part)
            except (CheckpointError, ValueError) as exc:
                _remove(part)
                _remove(_meta_path(part))
                raise DownloadError(f"refused {source}: {_without_path(exc, part)}; the file was deleted and "
                                    "not cached" + (f"; {hint}" if hint else "")) from None
        os.replace(part, dest)
        _remove(_meta_path(part))
    return dest


class _Cut(Exception):
    """The transfer stopped before the announced end (connection closed, reset or timed out)."""


def _fetch(url: str, part: Path, *, quiet: bool, progress: bool | None, retries: int, backoff: float,
           timeout: float, hint: str) -> None:
    """Bring `part` to the complete file at `url`: resume, retry with back-off, start over when needed."""
    meta = _read_meta(part, url)
    failures = 0  # consecutive attempts that brought no new bytes
    started_over = False
    suffix = f"; {hint}" if hint else ""
    while True:
        offset = part.stat().st_size if part.exists() else 0
        if offset and meta.get("url") != url:  # a leftover of another URL: never mix two files
            _remove(part)
            offset = 0
        headers = {"User-Agent": USER_AGENT, "Accept-Encoding": "identity"}
        if offset:
            headers["Range"] = f"bytes={offset}-"
            if meta.get("validator"):
                headers["If-Range"] = meta["validator"]  # changed on the server: the whole new file (200)
        try:
            response = urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=timeout)
        except urllib.error.HTTPError as exc:
            content_range = exc.headers.get("Content-Range", "") if exc.headers else ""
            exc.close()
            if exc.code == 416 and offset:
                if _range_total(content_range) == offset:
                    return  # the .part is already the whole file
                if started_over:
                    raise DownloadError(f"cannot download {url}: the server refuses every range "
                                        f"(HTTP 416){suffix}") from None
                _remove(part)  # a stale or oversized .part: start over
                started_over = True
                continue
            if exc.code in _RETRY_STATUS and failures < retries:
                failures += 1
                _sleep(backoff, failures)
                continue
            raise DownloadError(f"cannot download {url}: HTTP {exc.code} {exc.reason}{suffix}") from None
        except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
            if _transient(exc) and failures < retries:
                failures += 1
                _sleep(backoff, failures)
                continue
            raise DownloadError(f"cannot download {url}: {_describe(exc, timeout)}{suffix}") from None

        with response:
            if offset and response.status == 206:
                start = _range_start(response.headers.get("Content-Range", ""))
                if start != offset:  # another range than asked for: do not splice it in
                    _remove(part)
                    failures += 1
                    if failures > retries:
                        raise DownloadError(f"cannot download {url}: the server answered another byte range "
                                            f"than asked for{suffix}")
                    continue
                total = _range_total(response.headers.get("Content-Range", ""))
                mode = "ab"
            else:  # the whole file: a first request, a server that ignores Range, or a changed file
                offset, mode = 0, "wb"
                length = response.headers.get("Content-Length")
                total = int(length) if length and length.isdigit() else None
            meta = {"url": url, "validator": response.headers.get("ETag") or response.headers.get("Last-Modified"),
                    "total": total}
            _write_meta(part, meta)
            try:
                received = _stream(response, part, mode, offset, total, quiet, progress)
            except _Cut:
                received = part.stat().st_size - offset if part.exists() else 0
            except OSError as exc:  # the local disk, not the network
                raise DownloadError(f"cannot write {part} ({exc.strerror or exc})") from None
        size = part.stat().st_size
        if total is None or size == total:
            return
        if size > total:
            _remove(part)
            raise DownloadError(f"cannot download {url}: received {size} bytes, more than the announced "
                                f"{total}{suffix}")
        failures = 0 if received > 0 else failures + 1  # a cut that brought bytes is progress: resume at once
        if failures > retries:
            raise DownloadError(f"cannot download {url}: the transfer stopped at {size} of {total} bytes "
                                f"{retries + 1} times in a row; run again to resume from {part.name}{suffix}")
        _sleep(backoff, failures)


def _stream(response, part: Path, mode: str, offset: int, total: int | None, quiet: bool,
            progress: bool | None) -> int:
    """Append the body to `part`; returns the bytes received. A network failure raises `_Cut`."""
    show = not quiet and (sys.stderr.isatty() if progress is None else progress)
    bar = None
    if show:
        from tqdm import tqdm

        bar = tqdm(total=total, initial=offset, unit="B", unit_scale=True, unit_divisor=1024, desc=part.name[:-5],
                   file=sys.stderr, leave=False, dynamic_ncols=True)
    received = 0
    try:
        with open(part, mode) as f:
            while True:
                try:
                    block = response.read(_CHUNK)
                except (OSError, http.client.HTTPException) as exc:  # reset, timeout, IncompleteRead
                    raise _Cut() from exc
                if not block:
                    break
                f.write(block)
                received += len(block)
                if bar is not None:
                    bar.update(len(block))
            f.flush()
            os.fsync(f.fileno())
    finally:
        if bar is not None:
            bar.close()
    return received


# ------------------------------------------------------------------------------------------ helpers
class _locked:
    """A `filelock.FileLock`, announcing the wait when another process holds it."""

    def __init__(self, path: Path, waiting: str, quiet: bool):
        self.lock, self.waiting, self.quiet = FileLock(str(path)), waiting, quiet

    def __enter__(self) -> "_locked":
        try:
            self.lock.acquire(timeout=0)
        except Timeout:
            _say(self.quiet, self.waiting)
            self.lock.acquire()
        except OSError as exc:
            raise DownloadError(f"cannot create the lock file {self.lock.lock_file} ({exc.strerror or exc})") from None
        return self

    def __exit__(self, *exc_info) -> None:
        self.lock.release()


def _meta_path(part: Path) -> Path:
    return part.with_name(part.name + ".json")


def _read_meta(part: Path, url: str) -> dict[str, Any]:
    """What the last run knew about the `.part` (its URL and validator), so a later run resumes safely."""
    try:
        meta = json.loads(_meta_path(part).read_text(encoding="utf-8"))
        return meta if isinstance(meta, dict) else {}
    except (OSError, ValueError):
        return {"url": url} if part.exists() else {}  # a .part without a record: trust its name


def _write_meta(part: Path, meta: Mapping[str, Any]) -> None:
    _meta_path(part).write_text(json.dumps(dict(meta)), encoding="utf-8")


def _remove(path: Path) -> None:
    try:
        path.unlink()
    except FileNotFoundError:
        pass


def _range_start(content_range: str) -> int | None:
    match = re.match(r"\s*bytes\s+(\d+)-\d+/", content_range or "")
    return int(match.group(1)) if match else None


def _range_total(content_range: str) -> int | None:
    match = re.search(r"/(\d+)\s*$", content_range or "")
    return int(match.group(1)) if match else None


def _transient(exc: BaseException) -> bool:
    """Worth another try: timeouts, resets, 'remote closed'; not: refused connections, unknown hosts,
    certificate failures (offline or misconfigured: retrying only delays the message)."""
    reason = exc.reason if isinstance(exc, urllib.error.URLError) and isinstance(exc.reason, BaseException) else exc
    if isinstance(reason, (ConnectionRefusedError, socket.gaierror, ssl.SSLCertVerificationError)):
        return False
    return isinstance(reason, (TimeoutError, ConnectionError, http.client.HTTPException, ssl.SSLError))


def _describe(exc: BaseException, timeout: float) -> str:
    reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
    if isinstance(reason, ConnectionRefusedError):
        return "connection refused (no server answers there; offline?)"
    if isinstance(reason, socket.gaierror):
        return "the host name cannot be resolved (offline?)"
    if isinstance(reason, TimeoutError):
        return f"no answer within {timeout:g} s"
    text = reason.strerror if isinstance(reason, OSError) and reason.strerror else str(reason)
    return brief(f"{reason.__class__.__name__}: {text}" if text else reason.__class__.__name__)


def _without_path(exc: BaseException, path: Path) -> str:
    text = " ".join(str(exc).split())
    return text[len(str(path)) + 2:] if text.startswith(f"{path}: ") else text


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(_CHUNK), b""):
            h.update(block)
    return h.hexdigest()


def _sleep(backoff: float, failures: int) -> None:
    time.sleep(min(backoff * 2 ** max(failures - 1, 0), 30.0))


def _mb(n_bytes: int) -> str:
    return f"{n_bytes / 1e6:,.0f} MB" if n_bytes >= 1e6 else f"{n_bytes / 1e3:,.0f} kB"


def _say(quiet: bool, message: str) -> None:
    if not quiet:
        print(message, file=sys.stderr, flush=True)

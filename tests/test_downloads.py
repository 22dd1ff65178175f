"""The voice downloader against a real HTTP server on 127.0.0.1 (http.server in a thread; no outside
network). `TTS_MIRROR` points the catalogue's NGC URLs at it; `TTS_HOME` at a temporary cache.

The files served are full-size random weights in DeepLearningExamples' checkpoint format, made here:
{'epoch', 'config', 'state_dict'} with `module.` prefixes and fp16 tensors, saved in the legacy (2019)
torch format; WaveGlow in the per-layer `cond_layers` layout with 256 WN channels (88 M parameters,
176 MB). Most transport tests use a voice of the Tacotron 2 file alone (56 MB, Griffin-Lim), so that
each check loads one model; the whole voice is fetched by the slow tests.
"""
from __future__ import annotations

import json
import os
import pickle
import re
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import torch
import yaml

from tts.runtime import downloads
from tts.runtime.catalog import CATALOG, catalog, find_downloadable
from tts.runtime.downloads import DownloadError, download_file, ensure_voice, is_cached, verify_file
from tts.runtime.voices import VoiceError, load_voice_config, resolve_voice_dir

REPO = Path(__file__).resolve().parents[1]
REFERENCE = Path(__file__).resolve().parents[2] / "shared" / "reference"
NVIDIA = find_downloadable("nvidia-ljspeech")
TACOTRON2, WAVEGLOW = NVIDIA.file("tacotron2"), NVIDIA.file("waveglow")
#: a voice of the Tacotron 2 file alone: one model to check per download
SMALL = NVIDIA.replace(name="nvidia-tacotron2-only", files=(TACOTRON2,), default_vocoder="griffin-lim")


# ------------------------------------------------------------------------------------------ the files
def dle_tacotron2_file(path: Path) -> None:
    from tts.tacotron2 import Tacotron2

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        model = Tacotron2()  # NVIDIA's full size
    config = {**model.config.to_dict(), "mask_padding": False, "max_decoder_steps": 1000, "gate_threshold": 0.5,
              "decoder_no_early_stopping": False}
    state = {"module." + k: (v.half() if v.is_floating_point() else v) for k, v in model.state_dict().items()}
    full_keys = REFERENCE / "tacotron2_full_keys.json"
    if full_keys.exists():  # NVIDIA's full-size keys and shapes (BN's num_batches_tracked besides)
        listed = {k: list(v) for k, v in json.loads(full_keys.read_text()).items()}
        ours = {k.removeprefix("module."): list(v.shape) for k, v in state.items()}
        assert {k: v for k, v in ours.items() if k in listed} == listed
    torch.save({"epoch": 1500, "config": config, "state_dict": state}, path, _use_new_zipfile_serialization=False)


def dle_waveglow_file(path: Path) -> None:
    from vocoder import WaveGlow, WaveGlowConfig

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        model = WaveGlow(WaveGlowConfig(wn_n_channels=256))
    C = model.config.wn_n_channels
    state = {}
    for key, value in model.state_dict().items():  # DLE keeps one conditioning conv per layer
        if ".cond_layer." in key:
            for i, part in enumerate(value.split(2 * C)):
                state["module." + key.replace(".cond_layer.", f".cond_layers.{i}.")] = part.half()
        else:
            state["module." + key] = value.half()
    dle_keys = REFERENCE / "waveglow_full_keys_dle_layout.json"
    if dle_keys.exists():  # the keys and shapes read off DLE's own model
        listed = json.loads(dle_keys.read_text())
        assert {k.removeprefix("module."): list(v.shape) for k, v in state.items()} == {
            k: list(v) if isinstance(v, (list, tuple)) else v for k, v in listed.items()}
    config = {"n_mel_channels": 80, "n_flows": 12, "n_group": 8, "n_early_every": 4, "n_early_size": 2,
              "WN_config": {"n_layers": 8, "kernel_size": 3, "n_channels": C}}
    torch.save({"epoch": 1000, "config": config, "state_dict": state}, path, _use_new_zipfile_serialization=False)


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, bytes]:
    """The served files by name: both NVIDIA files, made once for the module."""
    folder = tmp_path_factory.mktemp("served")
    dle_tacotron2_file(folder / TACOTRON2.filename)
    dle_waveglow_file(folder / WAVEGLOW.filename)
    return {p.name: p.read_bytes() for p in folder.iterdir()}


# ------------------------------------------------------------------------------------------ the server
@dataclass
class Behaviour:
    files: dict[str, bytes]
    redirect: bool = False  # the API path answers 302 to /blob/<name>, as NGC does
    cut_after: int | None = None  # close the connection after this many body bytes ...
    cuts: int = 0  # ... for this many responses
    fail_after_cut: int | None = None  # then answer with this status
    ignore_range: bool = False
    status: int | None = None  # answer every request with this status
    gate: threading.Event | None = None  # hold responses until set
    log: list = field(default_factory=list)  # (path, Range header, status, body bytes sent)

    @property
    def sent(self) -> int:
        return sum(entry[3] for entry in self.log)

    def gets(self, status: int | None = None) -> list:
        return [e for e in self.log if status is None or e[2] == status]


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):  # quiet
        pass

    def do_GET(self):
        b: Behaviour = self.server.behaviour
        if b.gate is not None:
            b.gate.wait(60)
        name = self.path.rsplit("/", 1)[-1]
        rng = self.headers.get("Range")
        if b.status is not None or (b.fail_after_cut is not None and b.cuts == 0 and b.log):
            return self._answer(b, b.status or b.fail_after_cut, rng)
        if b.redirect and not self.path.startswith("/blob/"):
            b.log.append((self.path, rng, 302, 0))
            self.send_response(302)
            self.send_header("Location", f"/blob/{name}?signature=abc")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        name = name.split("?")[0]
        data = b.files.get(name)
        if data is None:
            return self._answer(b, 404, rng)
        start, status = 0, 200
        match = re.fullmatch(r"bytes=(\d+)-", rng or "")
        if match and not b.ignore_range:
            start = int(match.group(1))
            if start >= len(data):
                b.log.append((self.path, rng, 416, 0))
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{len(data)}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            status = 206
        body = memoryview(data)[start:]
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("ETag", '"v1"')
        if status == 206:
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        if b.cuts > 0 and b.cut_after is not None:
            b.cuts -= 1
            body = body[: b.cut_after]
        entry = [self.path, rng, status, 0]
        b.log.append(entry)  # logged before the client can see the answer (tests read the log right after)
        self.end_headers()
        try:
            for i in range(0, len(body), 1 << 20):
                block = body[i: i + (1 << 20)]
                entry[3] += len(block)  # counted before it can arrive
                self.wfile.write(block)
        except (BrokenPipeError, ConnectionResetError):
            pass
        self.close_connection = True

    def _answer(self, b: Behaviour, status: int, rng) -> None:
        b.log.append((self.path, rng, status, 0))
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()


@pytest.fixture
def server(files):
    """A running server; tests change `server.behaviour`. TTS_MIRROR points at it."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    httpd.behaviour = Behaviour(dict(files))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    httpd.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    yield httpd
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(autouse=True)
def cache(tmp_path, monkeypatch, request):
    monkeypatch.setenv("TTS_HOME", str(tmp_path / "cache"))
    for proxy in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(proxy, raising=False)
    if "server" in request.fixturenames:
        monkeypatch.setenv("TTS_MIRROR", request.getfixturevalue("server").url)
    return tmp_path / "cache"


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fetch_tacotron2(dest: Path, **kwargs) -> Path:
    kwargs.setdefault("backoff", 0.0)
    kwargs.setdefault("quiet", True)
    return download_file(TACOTRON2.url, dest, verify=lambda p: verify_file(p, TACOTRON2), **kwargs)


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith((".part", ".json", ".tmp")))


# ------------------------------------------------------------------------------------------ locations
def test_cache_location_and_mirror(monkeypatch, tmp_path):
    monkeypatch.delenv("TTS_HOME")
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    assert downloads.cache_dir() == Path.home() / ".cache" / "tts"
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert downloads.voice_cache_dir("nvidia-ljspeech") == tmp_path / "xdg" / "tts" / "nvidia-ljspeech"
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/ignored")
    assert downloads.cache_dir() == Path.home() / ".cache" / "tts"
    monkeypatch.setenv("TTS_HOME", str(tmp_path / "home"))
    assert downloads.cache_dir() == tmp_path / "home"

    url = TACOTRON2.url
    monkeypatch.delenv("TTS_MIRROR", raising=False)
    assert downloads.mirror_url(url) == url
    monkeypatch.setenv("TTS_MIRROR", "http://127.0.0.1:8000")
    assert downloads.mirror_url(url) == "http://127.0.0.1:8000" + url[len("https://api.ngc.nvidia.com"):]
    monkeypatch.setenv("TTS_MIRROR", "https://mirror.example/models/")
    assert downloads.mirror_url(url).startswith("https://mirror.example/models/v2/models/nvidia/")
    monkeypatch.setenv("TTS_MIRROR", "ftp://nope")
    with pytest.raises(DownloadError, match="TTS_MIRROR"):
        downloads.mirror_url(url)


def test_catalogue_is_data_with_what_a_menu_shows(cache):
    voices = catalog()
    assert list(voices) == ["nvidia-ljspeech", "nvidia-ljspeech-fp32"]
    fp16, fp32 = voices.values()
    assert [f.filename for f in fp16.files] == ["nvidia_tacotron2pyt_fp16_20190427", "nvidia_waveglowpyt_fp16_20190427"]
    assert [f.filename for f in fp32.files] == ["nvidia_tacotron2pyt_fp32_20190427", "nvidia_waveglowpyt_fp32_20190427"]
    assert all("/versions/19.09.0/files/" in f.url for v in CATALOG for f in v.files)
    assert fp16.default_vocoder == "waveglow" and fp16.synthesis["sigma"] == 0.666
    listing = downloads.downloadable_voices()
    assert [(v.name, v.cached) for v in listing] == [("nvidia-ljspeech", False), ("nvidia-ljspeech-fp32", False)]
    assert listing[0].size_text.startswith("about ") and "LJ Speech" in listing[0].licence
    assert listing[0].directory == cache / "nvidia-ljspeech"
    assert downloads.cached_voices() == {}
    with pytest.raises(ValueError, match="no downloadable voice named 'nope'"):
        ensure_voice("nope")


# ------------------------------------------------------------------------------------------ transfers
def test_download_follows_a_redirect(server, tmp_path, files):
    server.behaviour.redirect = True
    dest = fetch_tacotron2(tmp_path / TACOTRON2.filename)
    assert dest.read_bytes() == files[TACOTRON2.filename]
    assert [e[2] for e in server.behaviour.log] == [302, 200]
    assert server.behaviour.log[1][0].startswith("/blob/")
    assert leftovers(tmp_path) == []


def test_a_cut_transfer_resumes_with_range_in_the_same_run(server, tmp_path, files):
    size = len(files[TACOTRON2.filename])
    server.behaviour.cut_after, server.behaviour.cuts = int(0.4 * size), 1
    dest = fetch_tacotron2(tmp_path / TACOTRON2.filename)
    assert dest.read_bytes() == files[TACOTRON2.filename]
    log = server.behaviour.log
    assert [(e[1], e[2]) for e in log] == [(None, 200), (f"bytes={int(0.4 * size)}-", 206)]
    assert server.behaviour.sent <= 1.6 * size


def test_a_cut_transfer_resumes_in_the_next_run(server, tmp_path, files):
    size = len(files[TACOTRON2.filename])
    b = server.behaviour
    b.cut_after, b.cuts, b.fail_after_cut = int(0.3 * size), 1, 503  # cut, then the server is down
    dest = tmp_path / TACOTRON2.filename
    with pytest.raises(DownloadError, match=r"HTTP 503") as error:
        fetch_tacotron2(dest, retries=1)
    assert "\n" not in str(error.value)
    part = tmp_path / (TACOTRON2.filename + ".part")
    assert part.stat().st_size == int(0.3 * size) and not dest.exists()
    b.fail_after_cut = None  # back up: the next run asks for the rest only
    b.log.clear()
    fetch_tacotron2(dest)
    assert dest.read_bytes() == files[TACOTRON2.filename]
    assert [(e[1], e[2]) for e in b.log] == [(f"bytes={int(0.3 * size)}-", 206)]
    assert int(0.3 * size) + b.sent <= 1.6 * size
    assert leftovers(tmp_path) == []


def test_a_server_that_ignores_range_makes_the_file_start_over(server, tmp_path, files):
    data = files[TACOTRON2.filename]
    dest = tmp_path / TACOTRON2.filename
    Path(str(dest) + ".part").write_bytes(data[: len(data) // 3])  # left by an earlier run
    server.behaviour.ignore_range = True
    fetch_tacotron2(dest)
    assert dest.read_bytes() == data
    assert [(e[1], e[2]) for e in server.behaviour.log] == [(f"bytes={len(data) // 3}-", 200)]


def test_416_starts_over_or_finds_the_part_complete(server, tmp_path, files):
    data = files[TACOTRON2.filename]
    dest = tmp_path / TACOTRON2.filename
    part = Path(str(dest) + ".part")
    part.write_bytes(data + b"junk")  # longer than the file: 416, then the whole file again
    fetch_tacotron2(dest)
    assert dest.read_bytes() == data
    assert [e[2] for e in server.behaviour.log] == [416, 200]

    dest.unlink()
    part.write_bytes(data)  # complete but never checked (a run stopped during the check)
    server.behaviour.log.clear()
    fetch_tacotron2(dest)
    assert dest.read_bytes() == data
    assert [e[2] for e in server.behaviour.log] == [416] and server.behaviour.sent == 0


def tiny_dle_tacotron2() -> bytes:
    """A valid DLE checkpoint of the wrong (small) architecture."""
    import io

    from tts.tacotron2 import Tacotron2, Tacotron2Config

    torch.manual_seed(0)
    model = Tacotron2(Tacotron2Config(symbols_embedding_dim=16, encoder_embedding_dim=16, decoder_rnn_dim=24,
                                      attention_rnn_dim=20, prenet_dim=12, attention_dim=8, postnet_embedding_dim=12))
    buffer = io.BytesIO()
    torch.save({"epoch": 1, "config": model.config.to_dict(),
                "state_dict": {"module." + k: v for k, v in model.state_dict().items()}}, buffer)
    return buffer.getvalue()


@pytest.mark.parametrize("kind", ["truncated", "html", "wrong-architecture"])
def test_a_corrupt_file_is_refused_not_cached_and_a_good_download_then_succeeds(server, cache, files, kind):
    good = files[TACOTRON2.filename]
    bad = {"truncated": good[: len(good) // 2],
           "html": b"<!DOCTYPE html><html><body>Sign in to continue</body></html>",
           "wrong-architecture": tiny_dle_tacotron2()}[kind]
    server.behaviour.files[TACOTRON2.filename] = bad
    with pytest.raises(DownloadError) as error:
        ensure_voice(SMALL, quiet=True, backoff=0)
    message = str(error.value)
    assert message.startswith(f"refused {server.url}/v2/models/nvidia/tacotron2_pyt_ckpt_amp/")
    assert "deleted and not cached" in message and "\n" not in message
    expected = {"truncated": "truncated", "html": "not a PyTorch checkpoint",
                "wrong-architecture": "tacotron2 architecture (symbols_embedding_dim = 16, expected 512"}
    assert expected[kind] in message, message
    folder = cache / SMALL.name
    assert not is_cached(SMALL) and leftovers(folder) == [] and not (folder / TACOTRON2.filename).exists()

    server.behaviour.files[TACOTRON2.filename] = good
    assert ensure_voice(SMALL, quiet=True) == folder
    assert is_cached(SMALL) and (folder / TACOTRON2.filename).read_bytes() == good


class Exploit:
    """Unpickling this runs `touch <marker>`."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return os.system, (f"touch {self.marker}",)


@pytest.mark.parametrize("container", ["raw-pickle", "torch-zip", "torch-legacy"])
def test_a_malicious_pickle_is_never_run_and_not_cached(server, cache, tmp_path, container):
    marker = tmp_path / "pwned"
    payload = {"config": {}, "state_dict": {"x": torch.zeros(1)}, "epoch": Exploit(marker)}
    if container == "raw-pickle":
        data = pickle.dumps(payload, protocol=2)
    else:
        path = tmp_path / "evil.pt"
        torch.save(payload, path, _use_new_zipfile_serialization=container == "torch-zip")
        data = path.read_bytes()
    server.behaviour.files[TACOTRON2.filename] = data
    with pytest.raises(DownloadError, match="pickled Python objects.*deleted and not cached"):
        ensure_voice(SMALL, quiet=True, backoff=0)
    assert not marker.exists()
    assert not is_cached(SMALL) and list((cache / SMALL.name).glob("nvidia_*")) == []


def test_404_names_the_url_and_the_manual_route(server, cache):
    server.behaviour.status = 404
    with pytest.raises(DownloadError) as error:
        ensure_voice(SMALL, quiet=True, backoff=0)
    message = str(error.value)
    assert message.startswith(f"cannot download {server.url}/v2/models/nvidia/tacotron2_pyt_ckpt_amp/versions/"
                              "19.09.0/files/nvidia_tacotron2pyt_fp16_20190427: HTTP 404")
    assert f"save {TACOTRON2.url} as {cache / SMALL.name / TACOTRON2.filename}" in message
    assert "--tacotron2/--waveglow" in message and "\n" not in message
    assert len(server.behaviour.log) == 1  # a 404 is not retried


def test_a_closed_port_is_one_clear_error_naming_the_url(monkeypatch, tmp_path, capsys):
    port = closed_port()
    monkeypatch.setenv("TTS_MIRROR", f"http://127.0.0.1:{port}")
    start = time.monotonic()
    with pytest.raises(DownloadError) as error:
        ensure_voice("nvidia-ljspeech", quiet=True)
    assert time.monotonic() - start < 10  # refused: reported at once, not retried
    message = str(error.value)
    assert message.startswith(f"cannot download http://127.0.0.1:{port}/v2/models/nvidia/tacotron2_pyt_ckpt_amp/")
    assert "connection refused" in message and "\n" not in message

    from tts.say import main

    capsys.readouterr()
    assert main(["--voice", "nvidia-ljspeech", "Hello.", "-o", str(tmp_path / "out.wav")]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith(f"error: cannot download http://127.0.0.1:{port}/v2/") and "Traceback" not in "".join(err)
    assert not (tmp_path / "out.wav").exists()


def test_files_placed_by_hand_are_checked_and_used_without_network(monkeypatch, cache, files):
    monkeypatch.setenv("TTS_MIRROR", f"http://127.0.0.1:{closed_port()}")
    folder = cache / SMALL.name
    folder.mkdir(parents=True)
    (folder / TACOTRON2.filename).write_bytes(files[TACOTRON2.filename])
    assert ensure_voice(SMALL, quiet=True) == folder
    voice = load_voice_config(folder)
    assert voice.default_vocoder == "griffin-lim" and voice.tacotron2.name == TACOTRON2.filename

    (folder / "voice.yaml").unlink()  # a wrong file placed by hand is named, not used, not deleted
    (folder / TACOTRON2.filename).write_bytes(b"not a checkpoint")
    with pytest.raises(DownloadError, match="is not the expected tacotron2 file.*delete or replace it"):
        ensure_voice(SMALL, quiet=True)
    assert (folder / TACOTRON2.filename).exists()


def test_resolve_voice_dir_knows_downloadable_names(server, cache, tmp_path, monkeypatch):
    with pytest.raises(VoiceError, match="not downloaded yet"):
        resolve_voice_dir("nvidia-ljspeech", download=False)
    assert server.behaviour.log == []
    monkeypatch.chdir(tmp_path)  # a folder of that name in the working directory still wins
    (tmp_path / "nvidia-ljspeech").mkdir()
    assert resolve_voice_dir("nvidia-ljspeech") == Path("nvidia-ljspeech")
    assert resolve_voice_dir("no-such-voice") == Path("no-such-voice")  # unchanged: not found later
    assert resolve_voice_dir("default").name == "default"


# ------------------------------------------------------------------------------------------ whole voice
def forbid_network(monkeypatch) -> None:
    def refuse(*args, **kwargs):
        raise AssertionError(f"network access: {args[1:] if args else kwargs}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


@pytest.mark.slow
def test_whole_voice_downloads_once_then_never_touches_the_network(server, cache, files, monkeypatch, tmp_path, capsys):
    server.behaviour.redirect = True
    folder = ensure_voice("nvidia-ljspeech", quiet=True)
    assert folder == cache / "nvidia-ljspeech" and is_cached("nvidia-ljspeech")
    assert [e[2] for e in server.behaviour.log] == [302, 200, 302, 200]
    for remote in NVIDIA.files:
        assert (folder / remote.filename).read_bytes() == files[remote.filename]
    assert sorted(p.name for p in folder.iterdir() if not p.name.startswith(".")) == sorted(
        ["MODEL_CARD.md", "voice.yaml", TACOTRON2.filename, WAVEGLOW.filename])
    voice = load_voice_config(folder)
    assert voice.default_vocoder == "waveglow" and set(voice.vocoders) == {"waveglow"}
    assert voice.synthesis == {"sigma": 0.666, "denoise": 0.01}
    provenance = yaml.safe_load((folder / "voice.yaml").read_text())["provenance"]
    assert set(provenance["files"]) == {TACOTRON2.filename, WAVEGLOW.filename}
    assert all(len(f["sha256"]) == 64 for f in provenance["files"].values())
    assert "LJ Speech" in (folder / "MODEL_CARD.md").read_text()
    assert downloads.cached_voices() == {"nvidia-ljspeech": folder}

    # cached: no request reaches any server (the mirror now points at a closed port, sockets refuse)
    requests = len(server.behaviour.log)
    monkeypatch.setenv("TTS_MIRROR", f"http://127.0.0.1:{closed_port()}")
    forbid_network(monkeypatch)
    from tts.runtime.pipeline import Pipeline
    from tts.say import main

    pipe = Pipeline.from_pretrained("nvidia-ljspeech")
    assert pipe.default_vocoder == "waveglow" and pipe.name == "nvidia-ljspeech"
    speech = pipe.speak("Hi.", seed=0, max_decoder_steps=3, max_retries=0, denoise=0.0)
    assert speech.audio.size > 0
    out = tmp_path / "nv.wav"
    code = main(["--voice", "nvidia-ljspeech", "Hi.", "-o", str(out), "--max-decoder-steps", "3", "--max-retries", "0",
                 "--denoise", "0", "--seed", "0", "-q"])
    assert code == 0, capsys.readouterr().err
    assert out.stat().st_size > 44
    assert len(server.behaviour.log) == requests


CHILD = """
import pathlib, sys
from tts.runtime.catalog import find_downloadable
from tts.runtime.downloads import ensure_voice
nvidia = find_downloadable("nvidia-ljspeech")
voice = nvidia.replace(name="nvidia-tacotron2-only", files=nvidia.files[:1], default_vocoder="griffin-lim")
pathlib.Path(sys.argv[1]).touch()
print(ensure_voice(voice, quiet=False, progress=False))
"""


@pytest.mark.slow
def test_two_processes_download_once_and_both_succeed(server, cache, files, tmp_path):
    gate = threading.Event()
    server.behaviour.gate = gate  # nothing is served before both processes are about to ask
    env = {**os.environ, "TTS_HOME": str(cache), "TTS_MIRROR": server.url, "OMP_NUM_THREADS": "1",
           "PYTHONPATH": str(REPO)}
    markers = [tmp_path / f"started{i}" for i in range(2)]
    children = [subprocess.Popen([sys.executable, "-c", CHILD, str(m)], env=env, cwd=REPO, stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True) for m in markers]
    deadline = time.monotonic() + 60
    while not all(m.exists() for m in markers) and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.5)
    gate.set()
    results = [child.communicate(timeout=120) for child in children]
    assert [child.returncode for child in children] == [0, 0], results
    folder = cache / SMALL.name
    assert {out.strip() for out, _ in results} == {str(folder)}
    assert len(server.behaviour.gets(200)) == 1  # one download
    assert any("waiting for it" in err for _, err in results)  # the other one waited for it
    assert (folder / TACOTRON2.filename).read_bytes() == files[TACOTRON2.filename]
    assert leftovers(folder) == []

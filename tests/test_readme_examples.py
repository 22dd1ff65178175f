"""Every fenced ```python and ```bash / ```shell / ```sh example in README.md runs, with small inputs, so the
README cannot drift from the code.

- `parse_readme(path)` reads the README when the tests are collected: one case per fenced block, named after the
  nearest heading and the block's index under it (`command-line-0`, `control-and-timing-1`, ...). A new example
  is a new case with nothing to add here, unless it cannot run in the suite.
- Each block runs in a fresh temporary working directory. A shell block runs line by line (`\\` continuations
  joined, comments dropped), each line with `bash -e -o pipefail`, as written unless PLANS says otherwise for that
  line. A Python block runs as a script in a subprocess; a `print(...)  # "text"` in it must print that line.
  Placeholders for the files the examples name (`chapter.txt`, `lines.tsv`, NVIDIA's checkpoint names, ...) are
  made first; see PLACEHOLDERS.
- NOT_RUNNABLE lists the blocks that cannot run here, with the reason; PLANS says what is skipped, replaced or
  substituted inside the others (each with its reason) and which of the README's claims are checked afterwards.
- `table_problems` fails the suite when a table entry names a block or a line that is no longer in the README, or
  when a block holds a line that must not run as written here (pip, apt, torchrun, downloads, servers, training,
  CUDA, other hosts than loopback) and no table entry says what to do with it.

Every example sees the same environment (`example_env`): `python` / `python3` are this interpreter, `aplay` a
stub that keeps what it is sent (the checks read it), TTS_HOME and XDG_CACHE_HOME inside the working directory,
TTS_MIRROR a closed loopback port (nothing can be downloaded), TTS_VOICE_DIR and TTS_API_KEY unset (the shipped
default voice speaks: one sentence takes a second on a CPU), one torch thread. Servers listen on free 127.0.0.1
ports, are asked for HTTP 200 and stopped.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
README = REPO / "README.md"
PYTHON_LANGUAGES = {"python", "py"}
SHELL_LANGUAGES = {"bash", "shell", "sh"}
#: seconds for one shell line or one Python block
LINE_TIMEOUT = 60
#: seconds for a server to answer 200
SERVER_TIMEOUT = 60


# -------------------------------------------------------------------------------------------------
# the README
# -------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Block:
    id: str          # "<heading slug>-<index under that heading>"
    heading: str
    language: str    # "python" or "shell"
    code: str
    line: int        # README line of the opening fence

    @property
    def commands(self) -> list[str]:
        return shell_commands(self.code) if self.language == "shell" else []


def slug(heading: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", heading.lower().replace("'", "")).strip("-") or "top"


def parse_readme(path: Path = README) -> list[Block]:
    """The fenced Python and shell blocks of a Markdown file, in order."""
    blocks: list[Block] = []
    counts: dict[str, int] = {}
    heading, fence, body, start, language = "top", None, [], 0, ""
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if fence is None:
            opening = re.match(r"^ {0,3}(`{3,}|~{3,})\s*([\w+-]*)", line)
            if opening:
                fence, language, body, start = opening.group(1), opening.group(2).lower(), [], number
            elif re.match(r"^#{1,6}\s", line):
                heading = line.lstrip("#").strip()
        elif re.fullmatch(rf"\s*{re.escape(fence[0])}{{{len(fence)},}}\s*", line):
            kind = "python" if language in PYTHON_LANGUAGES else "shell" if language in SHELL_LANGUAGES else None
            if kind:
                key = slug(heading)
                index = counts.get(key, 0)
                counts[key] = index + 1
                blocks.append(Block(f"{key}-{index}", heading, kind, "\n".join(body) + "\n", start))
            fence = None
        else:
            body.append(line)
    return blocks


def strip_comment(line: str) -> str:
    """The line without its shell comment (a `#` after white space, outside quotes)."""
    quote = None
    for i, char in enumerate(line):
        if quote:
            if char == quote:
                quote = None
        elif char in "'\"":
            quote = char
        elif char == "#" and (i == 0 or line[i - 1].isspace()):
            return line[:i].rstrip()
    return line.rstrip()


def shell_commands(code: str) -> list[str]:
    """A shell block's command lines: continuations joined, comments and blank lines dropped."""
    commands, pending = [], ""
    for raw in code.splitlines():
        line = strip_comment(raw)
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        command, pending = (pending + line).strip(), ""
        if command:
            commands.append(command)
    return commands


def key(command: str) -> str:
    """How the tables name a line: the command with its white space collapsed."""
    return " ".join(command.split())


# -------------------------------------------------------------------------------------------------
# what to do with each block
# -------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Run:
    """Run the line after `subs` ((old, new) pairs; `{server}` = the port of the block's last server).
    `help=True`: run it with `--help` appended instead, and require each of its `--options` in the help."""
    why: str = ""
    subs: tuple[tuple[str, str], ...] = ()
    status: int = 0                 # the exit status it must have
    expect: str = ""                # text its output (stdout and stderr) must contain
    help: bool = False


@dataclass(frozen=True)
class Skip:
    why: str


@dataclass(frozen=True)
class Serve:
    """A server: start it after `subs` (`{port}` = a free port), wait for HTTP 200 on each path, stop it when the
    next server starts or the block ends. Later lines reach it as `{server}`."""
    why: str
    paths: tuple[str, ...] = ("/",)
    subs: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Plan:
    lines: dict[str, Run | Skip | Serve] = field(default_factory=dict)  # shell lines by key(); others run
    files: tuple[str, ...] = ()      # PLACEHOLDERS made in the working directory first
    server: str = ""                 # Python: started first on `{port}` (waited for on /health)
    subs: tuple[tuple[str, str], ...] = ()  # Python: replacements in the code (`{port}` = that server's)
    check: Callable[[Path, dict[str, str]], None] | None = None  # the README's claims, checked afterwards
    needs: tuple[str, ...] = ()      # modules that must import, else the case is skipped (an optional extra)
    slow: bool = False
    why: str = ""


#: blocks that cannot run in the suite: id -> (text the block must still contain, why)
NOT_RUNNABLE = {
    "test-0": ("python3 -m pytest -q",
               "runs the whole suite, this module included: recursive, and many minutes; CI runs exactly this"),
    "nvidias-voice-0": ("nvidia-ljspeech",
                        ("downloads NVIDIA's checkpoints (about 594 MB) from NGC; the download code is tested on "
                         "loopback by tests/test_downloads.py")),
    "nvidias-voice-1": ("nvidia-ljspeech", "the same download, from the library"),
    "speed-on-a-cpu-compiled-int8-kernels-onnx-0": ("nvidia-ljspeech",
                                                    ("the same download; the int8 paths it prints are tested on "
                                                     "random full-size-layout weights by tests/test_overlap.py")),
}

PIP = Skip("pip install: changes this environment and needs the network")
TO_THE_SERVER = Run("against the server started by the line above: 127.0.0.1:8000 becomes its free port",
                    subs=(("127.0.0.1:8000", "127.0.0.1:{server}"),))
REFUSES = Run("hours of training: run where there is no corpus, it must refuse and print the command that builds "
              "it, as the README says (recipes/ is linked into the working directory)",
              status=2, expect="python3 recipes/default_voice/build_corpus.py --jobs 2")
BENCH = Run("minutes on full-size random weights: run with --help instead, which must list each option the line "
            "uses", help=True)


# ----- claims checked after a block ----------------------------------------------------------------
def audio(path: Path, min_seconds: float = 0.2) -> tuple:
    import soundfile

    assert path.is_file(), f"{path.name} was not written"
    data, rate = soundfile.read(str(path))
    assert len(data) / rate >= min_seconds, f"{path.name}: {len(data) / rate:.2f} s of audio"
    return data, rate


def aplay_calls(directory: Path) -> list[tuple[list[str], bytes]]:
    """What the aplay stub was given: (arguments, standard input) per call, in order."""
    calls = sorted((directory / ".aplay").glob("*.args"))
    return [(path.read_text().split("\n")[:-1], path.with_suffix(".raw").read_bytes()) for path in calls]


def check_hello(d: Path, out: dict[str, str]) -> None:
    audio(d / "hello.wav")


def check_command_line(d: Path, out: dict[str, str]) -> None:
    for name in ("out.wav", "out.flac", "chapter.ogg"):
        audio(d / name)
    audio(d / "nv.wav", min_seconds=0.0)
    first = out[key("python -m tts.say 'Dr. Smith paid $12.50 on Jan. 5th at 3:30 pm.' -o out.wav")]
    # "A one-line summary (duration, chunks, real-time factor) goes to stderr"
    assert re.search(r"wrote out\.wav: [\d.]+ s of audio, \d+ chunk\(s\), .*real time", first), first
    chapter = out[key("tts-say --file chapter.txt -o chapter.ogg")]
    assert "2 chunk(s)" in chapter, chapter  # two sentences, two chunks
    [(arguments, stream)] = aplay_calls(d)
    assert arguments == [] and stream[:4] == b"RIFF" and stream[8:12] == b"WAVE" and len(stream) > 10_000
    listing = out[key("tts-say --list-vocoders ; tts-say --list-voices")]
    for name in ("griffin-lim", "waveglow", "wavernn", "flowavenet", "default", "nvidia-ljspeech"):
        assert re.search(rf"^{name}\s", listing, re.MULTILINE), (name, listing)
    # "tts-say --list-voices shows every voice and whether it is cached" (TTS_HOME is empty here)
    assert re.search(r"^nvidia-ljspeech\s.*download", listing, re.MULTILINE), listing


def check_library(d: Path, out: dict[str, str]) -> None:
    audio(d / "hello.wav")
    lines = out["python"].strip().splitlines()
    duration, rtf, *_ = lines[0].split()
    assert float(duration) > 1 and float(rtf) > 0, lines[0]
    streamed = [line for line in lines if re.match(r"^\d+\.\d\d s  ", line)]
    assert len(streamed) == 2, lines  # "sentence by sentence": two sentences, two chunks


def check_control(d: Path, out: dict[str, str]) -> None:
    for name in ("up.wav", "w.wav", "chapter.mp3"):
        audio(d / name)
    cues = (d / "chapter.srt").read_text(encoding="utf-8")
    assert cues.startswith("1\n") and cues.count(" --> ") >= 2, cues
    report = [json.loads(line) for line in (d / "out" / "report.jsonl").read_text().splitlines()]
    assert {row["id"]: row["status"] for row in report} == {"tsv1": "ok", "tsv2": "ok"}, report
    # "two disjoint shards": between them the two processes did each id of lines.jsonl once
    shards = [json.loads(line) for n in (1, 2) for line in
              (d / "out" / f"report.shard-{n}-of-2.jsonl").read_text().splitlines()]
    assert sorted((row["id"], row["status"]) for row in shards) == [("json1", "ok"), ("json2", "ok")], shards
    for name in ("tsv1.flac", "tsv2.flac", "json1.wav", "json2.wav"):
        audio(d / "out" / name)


def check_onnx(d: Path, out: dict[str, str]) -> None:
    for name in ("tacotron2_encoder.onnx", "tacotron2_decoder_iter.onnx", "tacotron2_postnet.onnx", "voice.yaml"):
        assert (d / "onnx" / "default" / name).is_file(), name
    audio(d / "onnx.wav")


def check_timing(d: Path, out: dict[str, str]) -> None:
    lines = out["python"].splitlines()
    words = [line.split() for line in lines if re.match(r"^\s*\d+\.\d\d\s+\d+\.\d\d ", line)]
    assert [w[2] for w in words] == ["Hello", "there.", "How", "are", "you?"], lines  # one per written word
    starts = [float(w[0]) for w in words]
    assert starts == sorted(starts) and all(float(w[0]) < float(w[1]) for w in words), lines
    vtt = (d / "hello.vtt").read_text(encoding="utf-8")
    assert vtt.startswith("WEBVTT")
    cue_text = [line for line in vtt.splitlines()[1:] if line and "-->" not in line and not line.isdigit()]
    assert cue_text and all(len(line) <= 42 for line in cue_text), cue_text  # "cues of at most 42 characters"


def check_server(d: Path, out: dict[str, str]) -> None:
    audio(d / "hello.wav")
    assert (d / "hello.wav").read_bytes()[:4] == b"RIFF"  # "response_format": "wav"
    [(arguments, stream)] = aplay_calls(d)
    assert arguments == ["-r", "24000", "-f", "S16_LE", "-c", "1"], arguments
    assert len(stream) % 2 == 0 and len(stream) > 2 * 24000 * 0.5, len(stream)  # 16-bit, over half a second


def check_openai(d: Path, out: dict[str, str]) -> None:
    audio(d / "hello.mp3")
    pcm = (d / "long.pcm").read_bytes()
    assert len(pcm) % 2 == 0 and len(pcm) > 2 * 24000 * 2, len(pcm)  # 16-bit mono 24 kHz, over 2 s


def check_training(d: Path, out: dict[str, str]) -> None:
    assert list((d / "runs" / "my" / "checkpoints").glob("tacotron2_step*.pt")), "no checkpoint from my.yaml"


def check_evaluation(d: Path, out: dict[str, str]) -> None:
    scored = out[key("python -m tts.evaluate --voice default --sentences recipes/default_voice/sentences/heldout.txt")]
    assert re.search(r"WER [\d.]+%", scored) and "DNSMOS SIG" in scored, scored


PLANS: dict[str, Plan] = {
    "install-and-speak-0": Plan(
        lines={'pip install torch && pip install -e ".[dev]"': PIP}, check=check_hello),
    "install-and-speak-1": Plan(
        lines={"pip install .": PIP, 'pip install "git+https://<host>/<owner>/<repo>.git"': PIP,
               "pip install tacoglow-0.2.0-py3-none-any.whl": PIP},
        check=check_hello),
    "command-line-0": Plan(
        files=("chapter.txt", "nvidia-checkpoints"),
        lines={
            'tts-say "To a pipe." -o - | aplay': Run("aplay is a stub that keeps the stream (no sound card here); "
                                                     "it must be a WAV stream"),
            "tts-say --tacotron2 tacotron2_statedict.pt --waveglow waveglow_256channels.pt \"NVIDIA's checkpoints.\" "
            "-o nv.wav": Run("the two files are placeholders: tiny random weights in NVIDIA's layouts (the real ones "
                             "are downloads of hundreds of MB)"),
        },
        check=check_command_line, slow=True),
    "python-library-0": Plan(check=check_library),
    "control-and-timing-0": Plan(
        files=("chapter.txt", "lines.tsv", "lines.jsonl"),
        lines={
            "torchrun --nproc-per-node 2 -m tts.say --manifest lines.jsonl --out-dir out/": Run(
                "torchrun starts processes: replaced by the two it would start, one after the other, with the "
                "RANK / WORLD_SIZE it sets",
                subs=(("torchrun --nproc-per-node 2 -m tts.say --manifest lines.jsonl --out-dir out/",
                       ("for rank in 0 1; do RANK=$rank LOCAL_RANK=$rank WORLD_SIZE=2 "
                        "python -m tts.say --manifest lines.jsonl --out-dir out/; done")),)),
        },
        check=check_control, slow=True),
    "control-and-timing-1": Plan(check=check_timing),
    "web-app-0": Plan(
        lines={
            "tts-app": Serve("on a free port instead of 7860 (--port appended); / must answer 200",
                             subs=(("tts-app", "tts-app --port {port}"),)),
            "python app.py --voice default --host 0.0.0.0 --port 8080 --max-chars 2000": Serve(
                "from the clone (app.py is linked into the working directory); loopback and a free port instead of "
                "0.0.0.0:8080; / must answer 200",
                subs=(("--host 0.0.0.0", "--host 127.0.0.1"), ("--port 8080", "--port {port}"))),
        },
        files=("app.py",), needs=("gradio",), slow=True),
    "nvidia-checkpoints-0": Plan(
        files=("nvidia-checkpoints",),
        why="tacotron2_statedict.pt and waveglow_256channels.pt are placeholders: tiny random weights in NVIDIA's "
            "layouts"),
    "http-server-openai-compatible-0": Plan(
        files=("path/to/voice",),
        lines={
            'pip install -e ".[server]"': PIP,
            "tts-server": Serve("on a free port (--port appended); /health and / (the web app) must answer 200",
                                paths=("/health", "/"), subs=(("tts-server", "tts-server --port {port}"),)),
            "tts-server --host 0.0.0.0 --port 8000 --voice default --voice path/to/voice --workers 2 --queue 8 "
            "--max-chars 4096 --timeout 300 [--threads N] [--no-ui]": Serve(
                "loopback and a free port; the optional [--threads N] [--no-ui] given as --threads 1 --no-ui; "
                "path/to/voice is a copy of the tests' tiny voice; /health and /v1/audio/voices must answer 200",
                paths=("/health", "/v1/audio/voices"),
                subs=(("--host 0.0.0.0", "--host 127.0.0.1"), ("--port 8000", "--port {port}"),
                      ("[--threads N] [--no-ui]", "--threads 1 --no-ui"))),
            'curl http://127.0.0.1:8000/v1/audio/speech -H "Content-Type: application/json" -d \'{"model": "tts-1", '
            '"voice": "alloy", "input": "Hello from the server.", "response_format": "wav"}\' -o hello.wav':
                TO_THE_SERVER,
            'curl -sN http://127.0.0.1:8000/v1/audio/speech -d \'{"input": "Played as it is made.", '
            '"response_format": "pcm"}\' | aplay -r 24000 -f S16_LE -c 1': Run(
                TO_THE_SERVER.why + "; aplay is a stub that keeps the stream", subs=TO_THE_SERVER.subs),
        },
        check=check_server, needs=("fastapi", "uvicorn"), slow=True),
    "http-server-openai-compatible-1": Plan(
        server="tts-server --port {port} --no-ui --workers 1",
        subs=(("127.0.0.1:8000", "127.0.0.1:{port}"),),
        why="a tts-server with the default voice is started first; 127.0.0.1:8000 becomes its free port",
        check=check_openai, needs=("fastapi", "uvicorn", "openai"), slow=True),
    "training-0": Plan(
        files=("recipes", "my.yaml", "nvidia-checkpoints"),
        lines={
            "python3 recipes/default_voice/build_corpus.py --jobs 2": Skip(
                "needs Festival's SLT voice (apt) and minutes of 2 cores; tests/test_build_corpus.py tests it"),
            "python -m tts.train --config recipes/default_voice/tacotron2_small.yaml --run-dir runs/default_voice "
            "--resume auto": REFUSES,
            "python -m tts.train --config my.yaml --warm-start tacotron2_statedict.pt": Run(
                "my.yaml is a placeholder (a tiny model, a 4-clip corpus of tones, one step) and "
                "tacotron2_statedict.pt tiny random weights of that model in NVIDIA's layout"),
            "torchrun --nproc_per_node 4 -m tts.train --config my.yaml --run-dir runs/x --resume auto": Skip(
                "torchrun: four DDP processes; tests/test_ddp.py trains with DDP on two CPU processes"),
            "python -m vocoder.train --config recipes/default_voice/waveglow_small.yaml --run-dir runs/waveglow "
            "--resume auto": REFUSES,
            "python -m vocoder.train --config recipes/vocoders/wavernn_small.yaml --run-dir runs/wavernn": REFUSES,
            "python -m vocoder.train --config recipes/vocoders/flowavenet_small.yaml --run-dir runs/flowavenet":
                REFUSES,
            "bash recipes/default_voice/train.sh": Skip("starts the default voice's hours-long run in the background"),
            "MODEL=waveglow_lp bash recipes/default_voice/train.sh": REFUSES,
            "python3 recipes/default_voice/dump_gta.py": REFUSES,
        },
        check=check_training, slow=True),
    "evaluation-0": Plan(
        files=("evaluation-inputs",),
        lines={
            'pip install -e ".[eval]"': PIP,
            "python -m tts.evaluate --voice default --sentences recipes/default_voice/sentences/heldout.txt": Run(
                "recipes/default_voice/sentences/heldout.txt is a one-sentence placeholder (the real 65 take "
                "minutes); Whisper and DNSMOS run"),
            "python -m tts.evaluate --wavs data/default_voice/wavs --metadata data/default_voice/heldout.csv": Run(
                "data/default_voice is a placeholder (one clip of the default voice, its heldout.csv row); "
                "--no-dnsmos appended: the line above already runs DNSMOS (4 s more on 2 busy cores); Whisper "
                "scores the clip", expect="WER",
                subs=(("--metadata data/default_voice/heldout.csv",
                       "--metadata data/default_voice/heldout.csv --no-dnsmos"),)),
        },
        check=check_evaluation, needs=("faster_whisper", "speechmos"), slow=True),
    "benchmarks-0": Plan(lines={
        "python bench/tacotron2_speed.py": BENCH,
        "python bench/vocoder_speed.py": BENCH,
        "python bench/vocoder_compare.py": BENCH,
        "python bench/pipeline_speed.py --voice default": BENCH,
    }, files=("bench",)),
    "benchmarks-1": Plan(lines={
        "python bench/under_load.py": BENCH,
        "python bench/soak.py --minutes 10": BENCH,
    }, files=("bench",)),
    "speed-on-a-cpu-compiled-int8-kernels-onnx-1": Plan(check=check_onnx, needs=("onnx", "onnxruntime"), slow=True),
}

#: lines that must not run as written here: each needs a PLANS entry (or its block one in NOT_RUNNABLE)
MUST_BE_LISTED = [
    (r"\bpip3? install\b", "pip install"),
    (r"\bapt(-get)?\s", "apt"),
    (r"\bsudo\b", "sudo"),
    (r"\btorchrun\b|torch\.distributed", "torchrun / several processes"),
    (r"--download\b|nvidia-ljspeech", "a download"),
    (r"https?://(?!127\.0\.0\.1[:/]|localhost[:/])", "a host other than loopback"),
    (r"0\.0\.0\.0", "listening on every interface"),
    (r"(^|[;&|]\s*)(tts-app|tts-server)\b|python3? (app\.py|-m tts\.(server|app))\b", "a server (runs until stopped)"),
    (r"127\.0\.0\.1:\d+|localhost:\d+", "a server to talk to"),
    (r"\b(tts|vocoder)\.train\b|train\.sh|build_corpus", "training"),
    (r"\bcuda\b", "CUDA"),
]


def unlisted_reasons(text: str) -> list[str]:
    return [why for pattern, why in MUST_BE_LISTED if re.search(pattern, text)]


def table_problems(blocks: list[Block], plans: dict[str, Plan] = PLANS,
                   not_runnable: dict[str, tuple[str, str]] = NOT_RUNNABLE) -> list[str]:
    """Table entries whose block or line is gone, and lines that may not run as written yet have no entry."""
    problems = []
    by_id = {block.id: block for block in blocks}
    for block_id, (marker, _) in not_runnable.items():
        if block_id not in by_id:
            problems.append(f"{block_id}: listed as not runnable, but the README has no such block")
        elif marker not in by_id[block_id].code:
            problems.append(f"{block_id}: listed as not runnable for {marker!r}, which it no longer holds: re-check")
    for block_id, plan in plans.items():
        if block_id not in by_id:
            problems.append(f"{block_id}: has a plan, but the README has no such block")
            continue
        if block_id in not_runnable:
            problems.append(f"{block_id}: both planned and listed as not runnable")
        commands = {key(command) for command in by_id[block_id].commands}
        problems += [f"{block_id}: the plan names a line that is no longer in the block: {line!r}"
                     for line in plan.lines if line not in commands]
    for block in blocks:
        if block.id in not_runnable:
            continue
        plan = plans.get(block.id)
        if block.language == "python":
            reasons = unlisted_reasons(block.code)
            if reasons and plan is None:
                problems.append(f"{block.id} (README line {block.line}): neither runnable nor listed ("
                                f"{', '.join(reasons)}): add it to PLANS or NOT_RUNNABLE")
            continue
        for command in block.commands:
            reasons = unlisted_reasons(command)
            if reasons and key(command) not in (plan.lines if plan else {}):
                problems.append(f"{block.id} (README line {block.line}): {command!r} is neither runnable nor listed "
                                f"({', '.join(reasons)}): add it to PLANS or NOT_RUNNABLE")
    return problems


# -------------------------------------------------------------------------------------------------
# placeholders for the files the examples name
# -------------------------------------------------------------------------------------------------
SENTENCE = "The sun rose over the quiet harbour."


def _chapter(d: Path, request) -> None:
    (d / "chapter.txt").write_text("The ship left the harbour at dawn. By noon the coast was gone.\n",
                                   encoding="utf-8")


def _lines_tsv(d: Path, request) -> None:
    (d / "lines.tsv").write_text("tsv1\tThe first line.\ntsv2\tAnd the second one.\n", encoding="utf-8")


def _lines_jsonl(d: Path, request) -> None:
    rows = [{"id": "json1", "text": "One more line."}, {"id": "json2", "text": "The last one.", "pace": 1.2}]
    (d / "lines.jsonl").write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")


def _nvidia_checkpoints(d: Path, request) -> None:
    """NVIDIA's file names, tiny random models: Tacotron 2 as NVIDIA/tacotron2's `{"state_dict", "iteration"}`,
    WaveGlow as a DeepLearningExamples-style bare state dict. The Tacotron 2 stops after a few decoder steps (its
    stop gate's bias is raised), so NVIDIA's plain loop does not run 1000 of them."""
    import torch
    from conftest import tiny_tacotron2, tiny_waveglow

    if not (d / "tacotron2_statedict.pt").exists():
        state = tiny_tacotron2(1).state_dict()
        state["decoder.gate_layer.linear_layer.bias"].fill_(2.0)
        torch.save({"state_dict": state, "iteration": 0}, d / "tacotron2_statedict.pt")
        torch.save(tiny_waveglow().state_dict(), d / "waveglow_256channels.pt")


def _my_yaml(d: Path, request) -> None:
    """A Tacotron 2 config for the conftest's tiny model (so NVIDIA-layout tiny weights warm-start it), one step
    on four short tone clips."""
    import numpy as np
    import soundfile
    import yaml
    from conftest import TINY_TACOTRON2

    rate, words = 22050, ["alpha", "beta", "gamma", "delta", "echo"]
    (d / "corpus" / "wavs").mkdir(parents=True)
    rows = []
    for i in range(4):
        text = " ".join(words[i:i + 2])
        t = np.arange(int(rate * 0.5)) / rate
        soundfile.write(d / "corpus" / "wavs" / f"c{i}.wav", (0.3 * np.sin(2 * np.pi * (200 + 50 * i) * t))
                        .astype(np.float32), rate, subtype="PCM_16")
        rows.append(f"c{i}|{text.capitalize()}.|{text}")
    (d / "corpus" / "metadata.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    config = {
        "model": {**TINY_TACOTRON2, "n_frames_per_step": 1},
        "data": {"corpus": "corpus", "cache_dir": "cache/mels", "batch_size": 2, "val_size": 1,
                 "precompute_workers": 1},
        "train": {"steps": 1, "checkpoint_every": 1, "validate_every": 1000, "log_every": 1, "num_threads": 1},
    }
    (d / "my.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")


def _voice_copy(d: Path, request) -> None:
    shutil.copytree(request.getfixturevalue("tiny_voice_dir"), d / "path" / "to" / "voice")


def _link(name: str) -> Callable:
    def make(d: Path, request) -> None:
        (d / name).symlink_to(REPO / name, target_is_directory=(REPO / name).is_dir())
    return make


def _evaluation_inputs(d: Path, request) -> None:
    """One held-out sentence for --voice, one clip of it (spoken by the default voice) for --wavs."""
    from tts import Pipeline

    sentences = d / "recipes" / "default_voice" / "sentences"
    sentences.mkdir(parents=True)
    (sentences / "heldout.txt").write_text(SENTENCE + "\n", encoding="utf-8")
    corpus = d / "data" / "default_voice"
    (corpus / "wavs").mkdir(parents=True)
    Pipeline.from_pretrained().speak(SENTENCE, seed=0).save(corpus / "wavs" / "h0001.wav")
    (corpus / "heldout.csv").write_text(f"h0001|{SENTENCE}|the sun rose over the quiet harbour.\n", encoding="utf-8")


PLACEHOLDERS: dict[str, Callable] = {
    "chapter.txt": _chapter,                    # two sentences
    "lines.tsv": _lines_tsv,                    # two ids
    "lines.jsonl": _lines_jsonl,                # two ids, one with a SynthesisConfig field
    "nvidia-checkpoints": _nvidia_checkpoints,  # tacotron2_statedict.pt, waveglow_256channels.pt
    "my.yaml": _my_yaml,                        # with corpus/ beside it
    "path/to/voice": _voice_copy,               # the tests' tiny voice
    "recipes": _link("recipes"),                # the repository's recipes/, read only by the lines that use it
    "bench": _link("bench"),
    "app.py": _link("app.py"),                  # the clone's launcher
    "evaluation-inputs": _evaluation_inputs,
}


# -------------------------------------------------------------------------------------------------
# running
# -------------------------------------------------------------------------------------------------
APLAY_STUB = """#!/bin/sh
# stands in for ALSA's aplay: keeps its arguments and what it is sent
name="$APLAY_DIR/$(date +%s%N)"
for argument in "$@"; do printf '%s\\n' "$argument"; done > "$name.args"
cat > "$name.raw"
"""


def example_env(d: Path) -> dict[str, str]:
    bin_dir = d / ".bin"
    bin_dir.mkdir(exist_ok=True)
    (d / ".aplay").mkdir(exist_ok=True)
    stubs = {"python": f'#!/bin/sh\nexec "{sys.executable}" "$@"\n', "aplay": APLAY_STUB}
    stubs["python3"] = stubs["python"]
    for command, module in (("tts-say", "tts.say"), ("tts-app", "tts.app"), ("tts-server", "tts.server")):
        if shutil.which(command) is None:  # not installed: the module it runs
            stubs[command] = f'#!/bin/sh\nexec "{sys.executable}" -m {module} "$@"\n'
    for name, text in stubs.items():
        (bin_dir / name).write_text(text)
        (bin_dir / name).chmod(0o755)
    env = {name: value for name, value in os.environ.items()
           if name not in ("TTS_VOICE_DIR", "TTS_API_KEY", "RANK", "WORLD_SIZE", "LOCAL_RANK", "PYTEST_CURRENT_TEST")}
    env.update({
        "PATH": f"{bin_dir}{os.pathsep}{env.get('PATH', '')}",
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")])),
        "APLAY_DIR": str(d / ".aplay"),
        "TTS_HOME": str(d / ".cache" / "tts"), "XDG_CACHE_HOME": str(d / ".cache"),
        "TTS_MIRROR": "http://127.0.0.1:9",  # the discard port: a download fails at once, on loopback
        "NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost",
        "GRADIO_ANALYTICS_ENABLED": "False", "HF_HUB_OFFLINE": "1",
        "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "TTS_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1",
    })
    return env


def run_process(args: list[str], d: Path, env: dict[str, str], timeout: float = LINE_TIMEOUT) -> tuple[int, str]:
    """Exit status and output (stdout then stderr); the whole process group is killed past the timeout."""
    process = subprocess.Popen(args, cwd=d, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               start_new_session=True)
    try:
        out, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        out, err = process.communicate()
        return -1, f"timed out after {timeout} s\n" + (out + err).decode("utf-8", "replace")
    return process.returncode, (out.decode("utf-8", "replace") + err.decode("utf-8", "replace"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def substitute(text: str, subs: tuple[tuple[str, str], ...], ports: dict[str, int]) -> str:
    for old, new in subs:
        assert old in text, f"substitution {old!r} does not apply to {text!r}"
        text = text.replace(old, new)
    for name, port in ports.items():
        text = text.replace("{" + name + "}", str(port))
    return text


class Server:
    def __init__(self, command: str, d: Path, env: dict[str, str], port: int, paths: tuple[str, ...]):
        self.command, self.port, self.log = command, port, d / f".server-{port}.log"
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen(["bash", "-c", "exec " + command], cwd=d, env=env, stdout=log,
                                            stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + SERVER_TIMEOUT
        for path in paths:
            while True:
                status = self.get(path)
                if status == 200:
                    break
                assert self.process.poll() is None, f"{command!r} exited ({self.process.returncode}):\n{self.output()}"
                assert time.monotonic() < deadline, f"{command!r}: {path} answered {status} after " \
                                                    f"{SERVER_TIMEOUT} s:\n{self.output()}"
                time.sleep(0.3)

    def get(self, path: str) -> int | None:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=5) as response:
                return response.status
        except urllib.error.HTTPError as error:
            return error.code
        except (urllib.error.URLError, OSError):
            return None

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-3000:]

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


def printed_claims(code: str) -> list[str]:
    """What a Python block says its prints print: `print(x)   # "the output"`."""
    return re.findall(r'^\s*print\(.*\)\s*#\s*"(.+)"\s*$', code, re.MULTILINE)


def run_block(block: Block, plan: Plan, d: Path, request=None) -> dict[str, str]:
    """Run one README block in the working directory `d`; fails the test on the first line that does not do what
    the README says. Returns each line's output (by key(); "python" for a Python block)."""
    for name in plan.files:
        PLACEHOLDERS[name](d, request)
    env = example_env(d)
    outputs: dict[str, str] = {}
    servers: list[Server] = []
    try:
        if block.language == "python":
            ports = {}
            if plan.server:
                ports["port"] = free_port()
                servers.append(Server(substitute(plan.server, (), ports), d, env, ports["port"], ("/health",)))
            (d / "example.py").write_text(substitute(block.code, plan.subs, ports), encoding="utf-8")
            started = time.monotonic()
            status, output = run_process([sys.executable, "example.py"], d, env)
            print(f"{time.monotonic() - started:5.1f} s  {block.id} (Python)")
            assert status == 0, f"README line {block.line}, {block.id} (Python) exited {status}:\n{output[-4000:]}"
            for claim in printed_claims(block.code):
                assert claim in output.splitlines(), f"{block.id}: the README says it prints {claim!r}:\n{output}"
            outputs["python"] = output
            return outputs
        ports: dict[str, int] = {}
        for command in block.commands:
            action = plan.lines.get(key(command), Run())
            if isinstance(action, Skip):
                continue
            if isinstance(action, Serve):
                for server in servers:
                    server.stop()
                ports["port"] = ports["server"] = free_port()
                started = time.monotonic()
                servers.append(Server(substitute(command, action.subs, ports), d, env, ports["port"], action.paths))
                print(f"{time.monotonic() - started:5.1f} s  {servers[-1].command}  (answering)")
                continue
            line = substitute(command, action.subs, ports)
            if action.help:
                line += " --help"
            started = time.monotonic()
            status, output = run_process(["bash", "-e", "-o", "pipefail", "-c", line], d, env)
            print(f"{time.monotonic() - started:5.1f} s  {line}")
            assert status == action.status, (f"README line {block.line}, {block.id}: {line!r} exited {status} "
                                             f"(expected {action.status}):\n{output[-4000:]}")
            assert action.expect in output, f"{line!r}: {action.expect!r} not in its output:\n{output[-4000:]}"
            if action.help:
                missing = [option for option in re.findall(r"(?<!\S)--[\w-]+", command) if option not in output]
                assert not missing, f"{command!r}: options not in its --help: {missing}"
            outputs[key(command)] = output
    finally:
        for server in servers:
            server.stop()
    return outputs


# -------------------------------------------------------------------------------------------------
# the tests
# -------------------------------------------------------------------------------------------------
BLOCKS = parse_readme()


def test_the_tables_match_the_readme():
    assert len(BLOCKS) >= 10
    assert not table_problems(BLOCKS), "\n".join(table_problems(BLOCKS))


@pytest.mark.parametrize("block", [
    pytest.param(block, id=block.id, marks=[pytest.mark.slow] if PLANS.get(block.id, Plan()).slow else [])
    for block in BLOCKS])
def test_readme_example(block: Block, tmp_path: Path, request):
    if block.id in NOT_RUNNABLE:
        pytest.skip(f"README {block.id} is not runnable here: {NOT_RUNNABLE[block.id][1]}")
    plan = PLANS.get(block.id, Plan())
    problems = table_problems([block], {block.id: plan} if block.id in PLANS else {}, {})
    assert not problems, "\n".join(problems)
    for module in plan.needs:
        pytest.importorskip(module, reason=f"{block.id} needs {module} (an optional extra)")
    outputs = run_block(block, plan, tmp_path, request)
    if plan.check:
        plan.check(tmp_path, outputs)


# ----- the tests above catch a README that drifts --------------------------------------------------
def _copy(tmp_path: Path, old: str, new: str, count: int = 1) -> Path:
    text = README.read_text(encoding="utf-8")
    assert old in text, old
    path = tmp_path / "README.md"
    path.write_text(text.replace(old, new, count), encoding="utf-8")
    return path


def test_a_broken_option_in_an_example_fails(tmp_path):
    broken = {b.id: b for b in parse_readme(_copy(tmp_path, "-o hello.wav", "--outfile hello.wav"))}
    block = broken["install-and-speak-0"]
    assert "--outfile hello.wav" in block.code
    (tmp_path / "run").mkdir()
    with pytest.raises(AssertionError, match=r"(?s)--outfile hello\.wav.* exited 2.*unrecognized arguments: --outfile"):
        run_block(block, PLANS["install-and-speak-0"], tmp_path / "run")


def test_a_misspelled_keyword_in_a_python_example_fails(tmp_path):
    broken = {b.id: b for b in parse_readme(_copy(tmp_path, "seed=1, pace=1.1", "seed=1, paec=1.1"))}
    (tmp_path / "run").mkdir()
    with pytest.raises(AssertionError, match=r"(?s)python-library-0 \(Python\) exited 1.*paec"):
        run_block(broken["python-library-0"], PLANS["python-library-0"], tmp_path / "run")


def test_gone_changed_and_unlisted_blocks_are_reported(tmp_path):
    text = README.read_text(encoding="utf-8")
    nvidia = re.search(r"```bash\ntts-say --voice nvidia-ljspeech.*?```\n", text, re.DOTALL).group(0)
    text = text.replace(nvidia, "")                                       # a listed block gone
    text = text.replace("-o - | aplay", "-o - | paplay")                  # a planned line changed
    text += "\n## Extras\n\n```sh\npip install tacoglow[extra]\ncurl https://example.com/x -o x\n```\n"  # new, unlisted
    path = tmp_path / "README.md"
    path.write_text(text, encoding="utf-8")
    problems = "\n".join(table_problems(parse_readme(path)))
    assert "nvidias-voice-1: listed as not runnable, but the README has no such block" in problems  # ids moved up
    assert "nvidia-checkpoints" not in problems
    assert "command-line-0: the plan names a line that is no longer in the block: 'tts-say \"To a pipe.\"" in problems
    assert "extras-0" in problems and "'pip install tacoglow[extra]' is neither runnable nor listed (pip install)" \
        in problems and "a host other than loopback" in problems


def test_the_parser_reads_fences_headings_continuations_and_comments(tmp_path):
    path = tmp_path / "README.md"
    path.write_text("# T\n\n## A b's (c)\n\n```bash\necho 'a # b' \\\n  --x   # note\n\n# only a comment\nls\n```\n"
                    "```text\nnot code\n```\n```python\nprint(1)\n```\n## Next\n~~~sh\ntrue\n~~~\n", encoding="utf-8")
    blocks = parse_readme(path)
    assert [(b.id, b.language, b.line) for b in blocks] == [("a-bs-c-0", "shell", 5), ("a-bs-c-1", "python", 15),
                                                            ("next-0", "shell", 19)]
    assert blocks[0].commands == ["echo 'a # b'    --x", "ls"] and blocks[1].code == "print(1)\n"
    assert printed_claims('print(x)  # "a, b."\nprint(y)  # a comment\n') == ["a, b."]
    control = {b.id: b for b in BLOCKS}["control-and-timing-1"]
    assert printed_claims(control.code) == ["call five five five, zero one two three."]

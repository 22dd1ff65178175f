"""One error contract for the benches and the default voice's recipe scripts: bad input (a missing or
corrupt file, a bad argument value, a missing corpus) is exactly one `error: ...` line on stderr and exit
status 2, other failures one such line and exit status 1, never a traceback unless --verbose; --help
shows the defaults. Every case fails before any model is built, so each subprocess is cheap."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
MISSING = "no-such-dir/no-such-file"  # relative to the temporary working directory: never there

BENCHES = ["normalize_speed", "pipeline_speed", "server_load", "soak", "vocoder_compare", "waveglow_compact_step",
           "word_timestamps", "same_audio", "vocoder_speed", "tacotron2_speed"]
RECIPES = ["build_corpus", "export_voice", "eval_vocoder", "dump_gta", "arpabet_warm_start", "fit_pitch"]
SCRIPTS = {**{name: REPO / "bench" / f"{name}.py" for name in BENCHES},
           **{name: REPO / "recipes" / "default_voice" / f"{name}.py" for name in RECIPES}}

BAD_INPUT = [
    ("normalize_speed", ["--repeats", "0"]),
    ("normalize_speed", ["--baseline", MISSING]),
    ("pipeline_speed", ["--seconds", "-1"]),
    ("pipeline_speed", ["--skip-full-size"]),
    ("pipeline_speed", ["--paths", "plain,bogus"]),
    ("server_load", ["--clients", "1,x"]),
    ("server_load", ["--url", "ftp://example.invalid"]),
    ("soak", ["--every", "0"]),
    ("vocoder_compare", ["--vocoders", "no-such-vocoder"]),
    ("vocoder_compare", ["--wav", MISSING]),
    ("vocoder_compare", ["--kw", "waveglow-sigma"]),
    ("waveglow_compact_step", ["--steps", "0"]),
    ("word_timestamps", ["--sentences", MISSING]),
    ("same_audio", ["--compare", MISSING, MISSING]),
    ("same_audio", ["--compare", "corrupt.npz", "corrupt.npz"]),
    ("same_audio", ["--voice", "default", "--out", f"{MISSING}/fingerprint.npz"]),
    ("build_corpus", ["--jobs", "0"]),
    ("build_corpus", ["--prepare-from", MISSING]),
    ("build_corpus", ["--sentences", "empty", "--quiet"]),
    ("build_corpus", ["--fetch", "--sources-json", MISSING]),
    ("build_corpus", ["--fetch", "--sources-json", "corrupt.npz"]),
    ("export_voice", ["--checkpoint", MISSING]),
    ("export_voice", ["--average", "0"]),
    ("export_voice", ["--run-dir", MISSING]),
    ("export_voice", ["--sigma", "0.8"]),
    ("export_voice", ["--vocoder", MISSING, "--sigma", "0.8"]),
    ("export_voice", ["--checkpoint", "corrupt.pt", "--vocoder", "corrupt.pt", "--sigma", "0.8"]),
    ("export_voice", ["--checkpoint", "corrupt.pt", "--vocoder", "corrupt.pt", "--sigma", "-1"]),
    ("export_voice", ["--checkpoint", "corrupt.pt", "--vocoder", "corrupt.pt", "--sigma", "0.8", "--denoise", "0.9"]),
    ("export_voice", ["--mel-match", "6"]),
    ("export_voice", ["--checkpoint", "corrupt.pt", "--vocoder", "corrupt.pt", "--sigma", "0", "--mel-match", "-1"]),
    ("eval_vocoder", ["--griffin-lim", "--corpus", MISSING]),
    ("eval_vocoder", ["--griffin-lim", "--sigma", "x"]),
    ("eval_vocoder", ["--griffin-lim", "--mel-match", "1.5"]),
    ("eval_vocoder", ["--griffin-lim", "--mel-match", "51"]),
    ("eval_vocoder", []),
    ("vocoder_speed", ["--checkpoint", MISSING]),
    ("vocoder_speed", ["--seconds", "-1"]),
    ("vocoder_speed", ["--configs", "plain,bogus"]),
    ("tacotron2_speed", ["--frames", "0"]),
    ("tacotron2_speed", ["--paths", "plain,bogus"]),
    ("dump_gta", ["--corpus", MISSING]),
    ("dump_gta", ["--batch-size", "0"]),
    ("dump_gta", ["--pronouncing-dictionary", MISSING]),
    ("export_voice", ["--pronouncing-dictionary", MISSING]),
    ("arpabet_warm_start", ["--checkpoint", MISSING, "--out", "x.pt"]),
    ("arpabet_warm_start", ["--out", "x.pt"]),
    ("export_voice", ["--vocoder-average", "2"]),
    ("fit_pitch", ["--checkpoint", MISSING, "--out", "x.pt"]),
    ("fit_pitch", ["--checkpoint", "corrupt.pt", "--out", "x.pt", "--corpus", MISSING]),
    ("fit_pitch", ["--checkpoint", "corrupt.pt", "--out", "x.pt", "--gta-fraction", "2"]),
    ("fit_pitch", ["--checkpoint", "corrupt.pt", "--out", "x.pt", "--steps", "0"]),
]


def run_script(name: str, args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    (cwd / "corrupt.npz").write_bytes(b"not an archive\n")
    (cwd / "corrupt.pt").write_bytes(b"not a checkpoint\n")
    (cwd / "empty").mkdir(exist_ok=True)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "TTS_GUTENBERG_URL")}
    return subprocess.run([sys.executable, str(SCRIPTS[name]), *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=120, check=False)


def assert_one_error_line(done: subprocess.CompletedProcess, code: int) -> str:
    lines = done.stderr.strip().splitlines()
    assert done.returncode == code, done.stderr
    assert len(lines) == 1 and lines[0].startswith("error: "), done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    return lines[0]


@pytest.mark.parametrize("name, args", BAD_INPUT, ids=[f"{n}:{' '.join(a)}" for n, a in BAD_INPUT])
def test_bad_input_is_one_error_line_and_exit_2(name, args, tmp_path):
    assert_one_error_line(run_script(name, args, tmp_path), 2)


def test_every_script_has_a_bad_input_case():
    assert {name for name, _ in BAD_INPUT} == set(SCRIPTS)


def test_messages_name_the_problem(tmp_path):
    line = assert_one_error_line(run_script("eval_vocoder", ["--griffin-lim", "--corpus", MISSING], tmp_path), 2)
    assert line.startswith("error: missing corpus: no ") and "heldout.csv" in line
    line = assert_one_error_line(run_script("vocoder_compare", ["--wav", MISSING], tmp_path), 2)
    assert line == f"error: --wav {MISSING}: no such file"
    # the one case that imports torch: the project's checkpoint loaders refuse the file (CheckpointError)
    line = assert_one_error_line(run_script("export_voice", ["--checkpoint", "corrupt.pt", "--out", "v"], tmp_path), 2)
    assert "corrupt.pt" in line and not (tmp_path / "v").exists()


def test_vocoder_speed_names_the_bench_for_a_compact_checkpoint(tmp_path):
    shipped = REPO / "checkpoints" / "default" / "waveglow.pt"  # the default voice's compact WaveGlow
    line = assert_one_error_line(run_script("vocoder_speed", ["--checkpoint", str(shipped)], tmp_path), 2)
    assert "a compact WaveGlow" in line and f"vocoder_compare.py --checkpoint waveglow={shipped}" in line


def test_other_failures_exit_1(tmp_path):
    with socket.socket() as s:  # a port nobody listens on: the bench cannot reach "its" server
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    line = assert_one_error_line(run_script("server_load", ["--url", f"http://127.0.0.1:{port}"], tmp_path), 1)
    assert line.startswith("error: ConnectError: ")


@pytest.mark.parametrize("name, args", [("same_audio", ["--compare", MISSING, MISSING]),
                                        ("export_voice", ["--checkpoint", MISSING])])
def test_verbose_shows_the_traceback(name, args, tmp_path):
    done = run_script(name, [*args, "--verbose"], tmp_path)
    assert done.returncode == 2
    assert "Traceback (most recent call last)" in done.stderr
    assert done.stderr.strip().splitlines()[-1].startswith("error: ")


@pytest.mark.parametrize("name", sorted(SCRIPTS))
def test_help_shows_defaults(name, tmp_path):
    done = run_script(name, ["--help"], tmp_path)
    assert done.returncode == 0 and not done.stderr, done.stderr
    assert "(default" in done.stdout and "--verbose" in done.stdout

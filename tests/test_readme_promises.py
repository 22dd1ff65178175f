"""Promises the README makes about manners, each checked the way a user meets it: the app and the
trainers refuse bad arguments with one line, the library is quiet and documents itself, the CLI draws
a progress bar only when asked or on a terminal, and the benches' --json is one object per line."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def _run(args: list[str], cwd: Path = REPO, timeout: float = 240) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(REPO), OMP_NUM_THREADS="1")
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, env=env, cwd=cwd,
                          timeout=timeout, check=False)


def _one_error_line(result: subprocess.CompletedProcess, *fragments: str) -> None:
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "error: " in lines[0] and "Traceback" not in result.stderr, result.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


@pytest.mark.slow
def test_the_app_refuses_a_bad_port_and_a_missing_gpu_in_one_line():
    _one_error_line(_run(["app.py", "--port", "99999"]), "--port must be between 1 and 65535")
    _one_error_line(_run(["-m", "tts.app", "--device", "cuda"]), "CUDA is not available", "--device cpu")


@pytest.mark.parametrize("trainer", ["tts.train", "vocoder.train"])
def test_the_trainers_refuse_a_missing_config_in_one_line(trainer, tmp_path):
    _one_error_line(_run(["-m", trainer, "--config", str(tmp_path / "nope.yaml"), "--run-dir", str(tmp_path / "r")]),
                    "config file not found")
    assert not (tmp_path / "r").exists()


def test_the_library_documents_its_public_names():
    import pydoc

    import tts

    assert {"Pipeline", "Speech", "SynthesisConfig", "load_tacotron2"} <= set(dir(tts))
    assert all(not name.startswith("_") for name in tts.__all__)
    text = pydoc.render_doc(tts)
    assert "Pipeline" in text and "load_tacotron2" in text


def test_no_progress_bar_on_a_pipe_unless_asked(tiny_voice_dir, tmp_path):
    text = "One sentence. And another one."
    plain = _run(["-m", "tts.say", text, "-o", str(tmp_path / "a.wav"), "--voice", str(tiny_voice_dir),
                  "--max-decoder-steps", "8"])
    assert plain.returncode == 0, plain.stderr
    assert "speaking:" not in plain.stderr and plain.stderr.strip().splitlines()[-1].startswith("wrote ")
    asked = _run(["-m", "tts.say", text, "-o", str(tmp_path / "b.wav"), "--voice", str(tiny_voice_dir),
                  "--max-decoder-steps", "8", "--progress"])
    assert asked.returncode == 0 and "speaking:" in asked.stderr, asked.stderr


def test_bench_json_is_one_object_per_line_with_the_same_keys():
    result = _run(["bench/vocoder_compare.py", "--vocoders", "griffin-lim", "--seconds", "0.5", "--repeats", "1",
                   "--json"])
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert rows and all(isinstance(row, dict) for row in rows)
    assert len({tuple(sorted(row)) for row in rows}) == 1
    assert any(row.get("vocoder") == "griffin-lim" or "griffin-lim" in json.dumps(row) for row in rows)


def test_the_install_section_works_beyond_this_machine():
    """The install note once pinned the torch build of the machines it was written on; it must name the
    CPU index for machines without a GPU and pin no torch version, and list every extra pyproject has."""
    import re
    import tomllib

    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Install and speak", 1)[1].split("\n## ", 1)[0]
    assert "--index-url https://download.pytorch.org/whl/cpu" in section
    assert not re.search(r"torch==\d", section)
    extras = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]["optional-dependencies"]
    for extra in extras:
        assert f"[{extra}]" in section, f"README's install section does not list the [{extra}] extra"

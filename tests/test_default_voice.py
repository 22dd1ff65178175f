"""The voice shipped in checkpoints/default loads with no download and speaks (README's `say` command)."""
import subprocess
import sys
from pathlib import Path

import numpy as np
import soundfile

from tts.runtime.voices import default_voice_dir

REPO = Path(__file__).resolve().parents[1]


def test_shipped_voice_is_the_default_and_small(monkeypatch):
    monkeypatch.delenv("TTS_VOICE_DIR", raising=False)
    default = default_voice_dir()
    assert default.resolve() == (REPO / "checkpoints" / "default").resolve()  # the checkout's, in an editable install
    weights = default / "tacotron2.pt"
    assert weights.is_file() and weights.stat().st_size < 40 * 2**20
    assert (default / "voice.yaml").is_file() and (default / "MODEL_CARD.md").is_file()


def test_readme_say_command_writes_speech(tmp_path):
    out = tmp_path / "hello.wav"
    env = {k: v for k, v in __import__("os").environ.items() if k != "TTS_VOICE_DIR"}
    run = subprocess.run([sys.executable, "-m", "tts.say", "Hello world.", "-o", str(out)], cwd=tmp_path,
                         capture_output=True, text=True, timeout=600, env=env)
    assert run.returncode == 0, run.stderr
    audio, rate = soundfile.read(out, dtype="float32")
    assert rate == 22050
    assert 0.3 < len(audio) / rate < 5.0  # "hello world" stops on its own: well under max_decoder_steps
    assert np.isfinite(audio).all() and np.abs(audio).max() > 0.01

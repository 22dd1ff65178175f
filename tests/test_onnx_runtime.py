"""The ONNX runtime through the pipeline and the CLI: a voice folder written by `python -m tts.export_onnx
--voice` loads with `Pipeline.from_pretrained(..., runtime="onnx")` (and its files with
`from_checkpoints`) and speaks what the PyTorch pipeline speaks; `tts-say --runtime onnx`; one-line
errors for a folder without graphs, graphs without the ONNX runtime, and a missing [onnx] extra."""
from __future__ import annotations

import importlib.util

import numpy as np
import pytest
import soundfile

pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")

from tests.conftest import TINY_SYNTHESIS, tiny_tacotron2
from tests.test_onnx import small_waveglow
from tts.core.onnx import OnnxUnavailable
from tts.export_onnx import main as export_main
from tts.runtime.pipeline import Pipeline
from tts.runtime.voices import VoiceError, save_voice
from tts.say import main as say_main


@pytest.fixture(scope="module")
def voices(tmp_path_factory):
    """(a PyTorch voice with a WaveGlow, the folder `python -m tts.export_onnx --voice ... --int8` wrote)"""
    root = tmp_path_factory.mktemp("onnx-voices")
    torch_voice, onnx_voice = root / "torch", root / "onnx"
    save_voice(torch_voice, tiny_tacotron2(1), vocoders={"waveglow": small_waveglow()}, default_vocoder="waveglow",
               synthesis=TINY_SYNTHESIS)
    assert export_main(["--voice", str(torch_voice), "--out", str(onnx_voice), "--int8"]) == 0
    return torch_voice, onnx_voice


def test_an_exported_voice_folder_speaks_like_the_pytorch_voice(voices):
    torch_voice, onnx_voice = voices
    reference = Pipeline.from_pretrained(torch_voice, device="cpu")
    pipe = Pipeline.from_pretrained(onnx_voice, runtime="onnx")
    assert pipe.paths.runtime == "onnx" and pipe.default_vocoder == "waveglow"
    assert pipe.describe()[:3] == [f"runtime: onnx (onnxruntime, graphs in {onnx_voice})",
                                   "tacotron2: onnxruntime, decoder step float32",
                                   "waveglow: onnxruntime, waveglow.onnx (float32)"]
    assert pipe.describe()[-1] == "stage overlap: off: the Tacotron 2 is not a PyTorch model (ONNX runtime)"
    for settings in ({"sigma": 0.0, "denoise": 0.01}, {"sigma": 0.6, "prenet_dropout": 0.5}):
        want = reference.speak("Hello there. Two sentences.", seed=2, **settings)
        got = pipe.speak("Hello there. Two sentences.", seed=2, **settings)
        assert got.audio.shape == want.audio.shape
        assert float(np.abs(got.audio - want.audio).max()) <= 1e-3  # the same seeds draw the same numbers
    # the same files through from_checkpoints; quantize="int8" picks onnxruntime's int8 graphs
    q = Pipeline.from_checkpoints(onnx_voice, onnx_voice / "waveglow.onnx", runtime="onnx", quantize="int8")
    assert q.describe()[1:3] == ["tacotron2: onnxruntime, decoder step int8", "waveglow: onnxruntime, waveglow.int8.onnx (int8)"]
    assert np.isfinite(q.speak("Hello.", seed=1).audio).all()


def test_runtime_mismatches_and_a_missing_extra_are_one_line_errors(voices, monkeypatch):
    torch_voice, onnx_voice = voices
    with pytest.raises(VoiceError, match=r"has no ONNX graphs \(no tacotron2.json\); write them with "
                                         r"`python -m tts.export_onnx --voice"):
        Pipeline.from_pretrained(torch_voice, runtime="onnx")
    with pytest.raises(VoiceError, match=r"is an exported ONNX graph: load it with runtime='onnx'"):
        Pipeline.from_pretrained(onnx_voice)
    with pytest.raises(ValueError, match="runtime must be one of torch, onnx"):
        Pipeline.from_pretrained(torch_voice, runtime="tensorrt")
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "onnxruntime" else real_find_spec(name, *a))
    with pytest.raises(OnnxUnavailable, match=r"needs the \[onnx\] extra: onnxruntime is not installed "
                                              r"\(pip install 'tacoglow\[onnx\]'\)"):
        Pipeline.from_pretrained(onnx_voice, runtime="onnx")


def test_the_cli_runs_the_onnx_runtime_and_checks_it_first(voices, tmp_path, capsys, monkeypatch):
    torch_voice, onnx_voice = voices
    out = tmp_path / "onnx.wav"
    code = say_main(["Hello there.", "-o", str(out), "--voice", str(onnx_voice), "--runtime", "onnx", "-v",
                     "--seed", "1"])
    err = capsys.readouterr().err
    assert code == 0, err
    assert "runtime: onnx (onnxruntime" in err and "waveglow: onnxruntime, waveglow.onnx (float32)" in err
    assert soundfile.read(out)[0].size > 0
    for args, message in [
        (["--voice", str(torch_voice), "--runtime", "onnx"], f"error: --voice: {torch_voice} has no ONNX graphs"),
        (["--voice", str(onnx_voice)], f"error: --voice: {onnx_voice / 'tacotron2.json'} is an exported ONNX graph"),
        (["--tacotron2", str(onnx_voice), "--runtime", "onnx", "--waveglow", str(onnx_voice / "waveglow.onnx")], None),
        (["--tacotron2", str(onnx_voice / "tacotron2.json")], "error: --tacotron2: "),
    ]:
        code = say_main(["Hi.", "-o", str(tmp_path / "x.wav"), *args])
        err = capsys.readouterr().err
        if message is None:
            assert code == 0, err
        else:
            assert code == 2 and err.startswith(message) and err.count("\n") == 1, err
    with pytest.raises(SystemExit) as exit_info:
        say_main(["Hi.", "-o", str(tmp_path / "x.wav"), "--runtime", "tensorrt"])
    assert exit_info.value.code == 2
    capsys.readouterr()
    # without onnxruntime the option fails at once, before torch or a model loads
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "onnxruntime" else real_find_spec(name, *a))
    code = say_main(["Hi.", "-o", str(tmp_path / "x.wav"), "--voice", str(onnx_voice), "--runtime", "onnx"])
    assert code == 2
    assert capsys.readouterr().err == ("error: --runtime onnx: onnxruntime is not installed "
                                       "(pip install 'tacoglow[onnx]')\n")

"""Stage overlap (`tts.runtime.overlap`, `SynthesisConfig.overlap`): WaveGlow vocodes while Tacotron 2
decodes. At sigma = 0 the audio is the sequential audio (SNR >= 60 dB with float32 WaveGlow); seeded
noise is reproducible; overlap off is exactly the sequential path; retries, pace, early-closed streams
and unsupported vocoders behave. Also the one place that decides precision and overlap
(`tts.core.device`), and the compiled kernels' fallback through the pipeline and CLI."""
from __future__ import annotations

import math
import os
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
import torch

from tests.conftest import TINY_SYNTHESIS, tiny_tacotron2
from tests.test_waveglow import tiny_waveglow
from tts.core.device import choose_decoder_int8, choose_overlap, choose_quantization
from tts.runtime.overlap import OverlapSchedule
from tts.runtime.pipeline import Pipeline
from tts.runtime.planning import decoder_step_budget, derive_seed, plan_text
from tts.runtime.settings import SynthesisConfig
from vocoder.griffin_lim import GriffinLim
from vocoder.waveglow import WaveGlow, WaveGlowConfig

REPO = Path(__file__).resolve().parents[1]
TEXT = "Hello there, this is a test. And here is a second sentence."
#: small blocks, so that the tiny voice's 40-frame chunks are vocoded in several pieces with seams
SCHEDULE = OverlapSchedule(mel_block_frames=4, first_chunk_frames=8, chunk_frames=12, context_frames=8)


def snr(reference: np.ndarray, estimate: np.ndarray) -> float:
    noise = np.sum((reference.astype(np.float64) - estimate) ** 2)
    return math.inf if noise == 0 else 10 * math.log10(np.sum(reference.astype(np.float64) ** 2) / noise)


@pytest.fixture(scope="module")
def pipe() -> Pipeline:
    """Tiny Tacotron 2 (never stops: 40 frames a chunk) with a float32 WaveGlow whose couplings are not
    the identity, and Griffin-Lim."""
    config = SynthesisConfig(max_decoder_steps=40, max_retries=0, denoise=0.01)
    pipeline = Pipeline(tiny_tacotron2(1), {"waveglow": tiny_waveglow(0).prepare_for_inference(),
                                           "griffin-lim": GriffinLim(n_iters=2, nnls_iters=2)},
                        default_vocoder="waveglow", config=config, name="overlap")
    pipeline.overlap_schedule = SCHEDULE
    return pipeline


def test_overlap_at_sigma_zero_is_the_sequential_audio(pipe):
    off = pipe.speak(TEXT, seed=3, sigma=0.0, overlap=False)
    on = pipe.speak(TEXT, seed=3, sigma=0.0, overlap=True)
    assert len(on.chunks) == len(off.chunks) == 2 and on.audio.shape == off.audio.shape
    assert snr(off.audio, on.audio) >= 60
    assert not np.array_equal(off.chunks[0].audio, on.chunks[0].audio)  # the overlapped path did run
    for a, b in zip(off.chunks, on.chunks):
        assert a.audio.shape == b.audio.shape and snr(a.audio, b.audio) >= 60
        np.testing.assert_allclose(a.mel, b.mel, atol=1e-4)  # infer_blocks' postnet windows: float rounding
        assert (a.pieces, a.retries, a.warnings, a.pause_after) == (b.pieces, b.retries, b.warnings, b.pause_after)
        assert [w.text for w in a.words] == [w.text for w in b.words]
    streamed = list(pipe.stream(TEXT, seed=3, sigma=0.0, overlap=True))
    assert all(np.array_equal(s.audio, c.audio) for s, c in zip(streamed, on.chunks))


def test_overlap_with_retries_pace_and_pitch_is_the_sequential_audio(pipe):
    """A failed chunk is retried as without overlap and its final mel vocoded whole; so is a chunk said
    at another pace or pitch (its mel is resampled in time)."""
    for settings in ({"max_retries": 1}, {"pace": 1.25}, {"pitch": 2.0, "volume": 0.8}):
        off = pipe.speak(TEXT, seed=4, sigma=0.0, overlap=False, **settings)
        on = pipe.speak(TEXT, seed=4, sigma=0.0, overlap=True, **settings)
        assert [c.retries for c in on.chunks] == [c.retries for c in off.chunks]
        assert [c.pieces for c in on.chunks] == [c.pieces for c in off.chunks]
        assert on.audio.shape == off.audio.shape and snr(off.audio, on.audio) >= 60, settings
    assert off.chunks[0].retries == 0 and pipe.speak(TEXT, seed=4, max_retries=1, overlap=True).chunks[0].retries == 1


def test_seeded_noise_with_overlap_is_reproducible_and_overlap_off_is_unchanged(pipe):
    """sigma > 0: overlap draws the noise per 16-frame tile from the chunk's seed (another draw than
    WaveGlow.synthesize's), the same on every run; overlap off is exactly the sequential pipeline."""
    on = [pipe.speak(TEXT, seed=5, sigma=0.6, overlap=True).audio for _ in range(2)]
    off = pipe.speak(TEXT, seed=5, sigma=0.6, overlap=False).audio
    assert np.array_equal(on[0], on[1]) and not np.array_equal(on[0], off)
    assert np.array_equal(off, pipe.speak(TEXT, seed=5, sigma=0.6).audio)  # auto: off for this voice

    # overlap off is the sequential computation, step by step as it always was
    cfg = pipe.settings(seed=5, sigma=0.6, denoise=0.0)
    planned = plan_text("Hello there.").chunks[0]
    steps = decoder_step_budget(len(planned.ids), 1, cfg.max_decoder_steps, cfg.max_frames_per_symbol)
    mel = pipe.tacotron2.infer(torch.tensor([planned.ids]), max_decoder_steps=steps, seed=derive_seed(5, 0),
                               warn=False).mel
    want = pipe._vocoder("waveglow")(mel, clip=False, sigma=0.6, seed=derive_seed(5, 0, 2_000_003)).clamp(-1, 1)
    got = pipe.speak("Hello there.", seed=5, sigma=0.6, denoise=0.0, overlap=False).audio
    np.testing.assert_array_equal(got, want[0].numpy())


def test_unseeded_overlap_draws_from_the_global_generator(pipe):
    torch.manual_seed(11)
    a = pipe.speak("Hello there.", sigma=0.6, overlap=True, seed=-1).audio
    torch.manual_seed(11)
    b = pipe.speak("Hello there.", sigma=0.6, overlap=True, seed=-1).audio
    assert np.array_equal(a, b) and not np.array_equal(a, pipe.speak("Hello there.", sigma=0.6, overlap=True,
                                                                       seed=-1).audio)


def test_closing_an_overlapped_stream_early_stops_its_worker(pipe):
    chunks = pipe.stream("One sentence here. Another one there. And a third.", seed=1, overlap=True)
    first = next(chunks)
    assert first.index == 0 and first.audio.size
    chunks.close()
    assert not [t for t in threading.enumerate() if t.name.startswith("tacoglow-vocoder")]


def test_overlap_setting_is_validated_and_an_unusable_request_is_a_warning(pipe):
    with pytest.raises(ValueError, match="overlap must be true, false or unset"):
        SynthesisConfig(overlap="yes")
    speech = pipe.speak("Hello there.", vocoder="griffin-lim", overlap=True, seed=1)
    assert any("overlap=True has no effect: the griffin-lim vocoder (GriffinLim) cannot vocode a mel block by block" in w
               for w in speech.warnings)
    assert pipe.describe(overlap=True)[-1] == "stage overlap: on, as requested"
    assert "off" in pipe.describe()[-1]  # auto: no compiled int8 kernels on this float32 voice


def test_the_one_place_that_decides_precision_and_overlap():
    cpu, cuda = torch.device("cpu"), torch.device("cuda")
    assert choose_quantization("auto", device=cpu, dtype=None, runtime="torch", waveglow_channels=256)[0] == "int8"
    for kwargs in ({"device": cuda}, {"dtype": torch.bfloat16}, {"runtime": "onnx"}, {"waveglow_channels": 64},
                   {"waveglow_channels": None}):
        base = {"device": cpu, "dtype": None, "runtime": "torch", "waveglow_channels": 256}
        assert choose_quantization("auto", **{**base, **kwargs})[0] is None, kwargs
    assert choose_quantization(None, device=cpu, dtype=None, runtime="torch", waveglow_channels=256) == (None, "as requested")
    with pytest.raises(ValueError, match="quantize must be"):
        choose_quantization("int4", device=cpu, dtype=None, runtime="torch", waveglow_channels=256)
    asked = []
    assert choose_decoder_int8("auto", None, lambda: asked.append(1) or "")[0] is False and not asked  # no probe
    assert choose_decoder_int8("auto", "int8", lambda: "") == (True, "the fastest measured decoder on a CPU")
    assert choose_decoder_int8("auto", "int8", lambda: "no compiler")[1].endswith("unavailable: no compiler")
    assert choose_overlap(None, supported="")[0] is False  # the measured default (bench/pipeline_speed.py)
    assert choose_overlap(True, supported="") == (True, "on, as requested")
    assert choose_overlap(False, supported="") == (False, "off, as requested")
    assert choose_overlap(True, supported="no WaveGlow") == (False, "off: no WaveGlow")


# ---------------------------------------------------------------------------------------------- kernels
def _wide_waveglow_voice(directory: Path) -> Path:
    """A voice whose WaveGlow is as wide as WaveGlow-256 (so the automatic CPU path picks int8), with
    few flows and layers to stay small."""
    from tts.runtime.voices import save_voice

    torch.manual_seed(0)
    waveglow = WaveGlow(WaveGlowConfig(n_flows=2, n_early_every=4, wn_n_layers=2, wn_n_channels=256))
    with torch.no_grad():
        for wn in waveglow.WN:
            wn.end.weight.normal_(0, 0.01)
    save_voice(directory, tiny_tacotron2(1), vocoders={"waveglow": waveglow.eval()}, default_vocoder="waveglow",
               synthesis=TINY_SYNTHESIS)
    return directory


def test_without_the_compiled_kernels_the_pipeline_falls_back_and_says_so(tmp_path):
    """TACOGLOW_NO_COMPILE=1 (a fresh process, as a machine without a compiler): int8 WaveGlow in
    pure PyTorch, the decoder in float32, both named by --verbose; the audio is written."""
    voice, out = _wide_waveglow_voice(tmp_path / "voice"), tmp_path / "out.wav"
    env = {**os.environ, "TACOGLOW_NO_COMPILE": "1", "TTS_NUM_THREADS": "2"}
    env.pop("PYTHONPATH", None)
    result = subprocess.run([sys.executable, "-m", "tts.say", "Hi there.", "-o", str(out), "--voice", str(voice),
                             "-v", "--device", "cpu", "--seed", "1"], cwd=REPO, env=env, capture_output=True,
                            text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stderr
    assert "waveglow: int8, pure-PyTorch fallback: $TACOGLOW_NO_COMPILE is set" in result.stderr
    assert ("tacotron2: decoder float32, fast loop (the compiled int8 decoder is unavailable: "
            "$TACOGLOW_NO_COMPILE is set)") in result.stderr
    assert "stage overlap: off: measured slower than one stage after the other" in result.stderr
    assert "compiling" not in result.stderr and out.stat().st_size > 44


def test_with_the_compiled_kernels_the_pipeline_names_them(tmp_path):
    from vocoder.waveglow.int8 import verified_kernel

    if verified_kernel() is None:
        pytest.skip("no compiled WN kernel on this machine")
    pipe = Pipeline.from_pretrained(_wide_waveglow_voice(tmp_path / "voice"), device="cpu")
    lines = pipe.describe()
    assert any(line.startswith("waveglow: int8 + compiled WN kernel (the fastest measured CPU path") for line in lines)
    float_pipe = Pipeline.from_pretrained(tmp_path / "voice", device="cpu", quantize=None)
    assert any(line.startswith("waveglow: float32, packed WN (as requested)") for line in float_pipe.describe())
    a = pipe.speak("Hi there.", seed=1, sigma=0.0).audio
    b = float_pipe.speak("Hi there.", seed=1, sigma=0.0).audio
    assert a.shape == b.shape and snr(b, a) > 25


def test_a_kernel_build_is_announced_on_stderr(monkeypatch, capsys):
    """A first build takes a minute: one line on stderr says so; a cached library loads silently, and
    TACOGLOW_NO_COMPILE builds nothing (the pure-PyTorch paths run)."""
    from torch.utils import cpp_extension

    from tts.core import kernels

    monkeypatch.setattr(cpp_extension, "load_inline", lambda name, **kwargs: f"module {name}")
    monkeypatch.setenv("TACOGLOW_NO_COMPILE", "1")
    assert kernels.compile_kernel("tacoglow_test", "// source", "a test kernel") == (
        None, "$TACOGLOW_NO_COMPILE is set")
    monkeypatch.setenv("TACOGLOW_NO_COMPILE", "0")
    monkeypatch.setattr(kernels.platform, "machine", lambda: "x86_64")
    monkeypatch.setattr(kernels, "is_built", lambda name: False)
    module, reason = kernels.compile_kernel("tacoglow_test", "// source", "a test kernel")
    assert module.startswith("module tacoglow_test_") and reason == ""
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("tacoglow: compiling a test kernel for this CPU")
    monkeypatch.setattr(kernels, "is_built", lambda name: True)
    kernels.compile_kernel("tacoglow_test", "// source", "a test kernel")
    assert capsys.readouterr().err == ""

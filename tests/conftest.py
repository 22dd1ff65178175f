"""Shared fixtures: tiny random-weight voices, built once per test session in a temporary folder.

Random weights never learn when to stop, so the tiny Tacotron 2 gets a strongly negative stop-gate
bias: every chunk runs to `max_decoder_steps`, which makes mel lengths predictable (the tests pass
small limits). With `gate_threshold=0` the same model stops after its first decoder step.
"""
from __future__ import annotations

import socket

import pytest
import torch

#: a Tacotron 2 small enough that a 24-step decode takes milliseconds
TINY_TACOTRON2 = dict(
    symbols_embedding_dim=16, encoder_embedding_dim=16, encoder_kernel_size=3, encoder_n_convolutions=1,
    decoder_rnn_dim=32, prenet_dim=16, attention_rnn_dim=32, attention_dim=8, attention_location_n_filters=4,
    attention_location_kernel_size=3, postnet_embedding_dim=16, postnet_kernel_size=3, postnet_n_convolutions=2,
)
TINY_WAVEGLOW = dict(n_flows=2, n_group=8, n_early_every=4, n_early_size=2, wn_n_layers=1, wn_n_channels=8,
                     wn_kernel_size=3)
#: voice.yaml synthesis defaults of the tiny voices: short decodes, no retries unless a test asks
TINY_SYNTHESIS = {"max_decoder_steps": 24, "max_retries": 0}


def pytest_configure(config):
    # Every test runs single-threaded. Small tensors on a busy 2-core machine: a second intra-op
    # thread only adds contention (the tiny voices' Griffin-Lim ran ~100x slower with 2 threads than
    # with 1 under load; WaveRNN's recurrent loops 10-50x).
    torch.set_num_threads(1)
    # the pipeline records "reached max_decoder_steps" in Speech.warnings; the model's own
    # RuntimeWarning would only repeat it for every tiny-voice chunk
    config.addinivalue_line("filterwarnings", r"ignore:Tacotron2\.infer:RuntimeWarning")


def tiny_tacotron2(n_frames_per_step: int = 1, seed: int = 0):
    from tts.tacotron2 import Tacotron2, Tacotron2Config

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = Tacotron2(Tacotron2Config(n_frames_per_step=n_frames_per_step, **TINY_TACOTRON2))
    with torch.no_grad():
        model.decoder.gate_layer.linear_layer.bias.fill_(-20.0)
    return model.eval()


def tiny_waveglow(seed: int = 0):
    from vocoder.waveglow import WaveGlow, WaveGlowConfig

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = WaveGlow(WaveGlowConfig(**TINY_WAVEGLOW))
    return model.eval()


@pytest.fixture(scope="session")
def tiny_voice_dir(tmp_path_factory):
    """r = 1 Tacotron 2 with a tiny WaveGlow; Griffin-Lim is the default vocoder."""
    from tts.runtime.voices import save_voice

    directory = tmp_path_factory.mktemp("voices") / "tiny"
    save_voice(directory, tiny_tacotron2(1), vocoders={"waveglow": tiny_waveglow()}, default_vocoder="griffin-lim",
               description="random weights, for tests", synthesis=TINY_SYNTHESIS,
               provenance={"made_by": "tests/conftest.py"})
    return directory


@pytest.fixture(scope="session")
def tiny_voice_dir_r2(tmp_path_factory):
    """r = 2 Tacotron 2 (two frames per decoder step), Griffin-Lim only."""
    from tts.runtime.voices import save_voice

    directory = tmp_path_factory.mktemp("voices") / "tiny-r2"
    save_voice(directory, tiny_tacotron2(2, seed=1), synthesis=TINY_SYNTHESIS)
    return directory


@pytest.fixture(scope="session")
def tiny_pipeline(tiny_voice_dir):
    from tts.runtime.pipeline import Pipeline

    return Pipeline.from_pretrained(tiny_voice_dir, device="cpu")


@pytest.fixture(scope="session")
def fast_pipeline():
    """The cheapest pipeline: tiny Tacotron 2, 8 decoder steps, 2 Griffin-Lim iterations, no denoiser."""
    from tts.runtime.pipeline import Pipeline
    from tts.runtime.settings import SynthesisConfig
    from vocoder.griffin_lim import GriffinLim

    config = SynthesisConfig(max_decoder_steps=8, max_retries=0, denoise=0.0)
    return Pipeline(tiny_tacotron2(1), {"griffin-lim": GriffinLim(n_iters=2, nnls_iters=2)}, config=config,
                    name="fast")


@pytest.fixture
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]

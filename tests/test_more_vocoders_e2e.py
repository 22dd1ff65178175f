"""WaveRNN and FloWaveNet plug in behind the registry: saved in a voice, picked by name in the
pipeline and the CLI, with no vocoder-specific code in either."""
import subprocess
import sys

import numpy as np
import pytest
import soundfile
import torch
from conftest import TINY_SYNTHESIS, tiny_tacotron2


@pytest.fixture(scope="module")
def voice_with_all_vocoders(tmp_path_factory):
    from tts.runtime.voices import save_voice
    from vocoder import FloWaveNet, FloWaveNetConfig, WaveRNN, WaveRNNConfig

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        wavernn = WaveRNN(WaveRNNConfig(rnn_dims=32, fc_dims=16, res_channels=16, res_blocks=1, aux_dims=8)).eval()
        flowavenet = FloWaveNet(FloWaveNetConfig(n_blocks=3, n_flows=3, n_layers=2, channels=8, block_per_split=2,
                                                 prior_layers=1))
        audio = 0.1 * torch.randn(1, 8 * 256)
        flowavenet.initialize_actnorm(torch.randn(1, 80, 9), audio)  # trainers do this on their first batch
        flowavenet.eval()
    directory = tmp_path_factory.mktemp("voices") / "all"
    save_voice(directory, tiny_tacotron2(1), vocoders={"wavernn": wavernn, "flowavenet": flowavenet},
               default_vocoder="griffin-lim", synthesis=TINY_SYNTHESIS)
    return directory


@pytest.mark.parametrize("name", ["wavernn", "flowavenet"])
def test_pipeline_speaks_with_each_vocoder(voice_with_all_vocoders, name):
    from tts import Pipeline

    pipe = Pipeline.from_pretrained(voice_with_all_vocoders)
    assert {"wavernn", "flowavenet", "griffin-lim"} <= set(pipe.vocoder_names)
    speech = pipe.speak("Hi.", vocoder=name, seed=0, max_decoder_steps=4, denoise=0.0)
    assert speech.audio.dtype == np.float32 and len(speech.audio) > 0
    assert np.isfinite(speech.audio).all() and np.abs(speech.audio).max() <= 1.0


def test_cli_selects_wavernn(voice_with_all_vocoders, tmp_path):
    out = tmp_path / "w.wav"
    run = subprocess.run([sys.executable, "-m", "tts.say", "Hi.", "-o", str(out), "--voice", str(voice_with_all_vocoders),
                          "--vocoder", "wavernn", "--max-decoder-steps", "4", "--denoise", "0", "--quiet"],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    audio, rate = soundfile.read(out)
    assert rate == 22050 and len(audio) > 0


def test_temperature_reaches_flowavenet_and_is_settable_like_sigma(voice_with_all_vocoders):
    from tts import Pipeline

    pipe = Pipeline.from_pretrained(voice_with_all_vocoders)
    kwargs = dict(vocoder="flowavenet", seed=0, max_decoder_steps=4, denoise=0.0)
    cold = pipe.speak("Hi.", temperature=0.0, **kwargs)
    warm = pipe.speak("Hi.", temperature=1.0, **kwargs)
    default = pipe.speak("Hi.", **kwargs)
    assert not np.array_equal(cold.audio, warm.audio)  # the latent scale changes the audio
    assert not any("temperature" in w for w in cold.warnings + warm.warnings)
    assert np.array_equal(default.audio, pipe.speak("Hi.", temperature=0.8, **kwargs).audio)  # FloWaveNet's own 0.8
    with pytest.raises(ValueError, match="temperature"):
        pipe.speak("Hi.", temperature=-1.0, **kwargs)

"""Mel matching (`vocoder.mel_match`): a vocoder's audio given the mel's band energies, its phase kept;
and the `mel_match` synthesis setting through the pipeline (with and without stage overlap), CLI and
validation."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from tests.conftest import tiny_tacotron2
from tests.test_waveglow import tiny_waveglow
from tts.core.audio import DEFAULT_AUDIO, istft, mel_spectrogram, stft
from tts.runtime.overlap import OverlapSchedule
from tts.runtime.pipeline import Pipeline
from tts.runtime.settings import SynthesisConfig
from vocoder.denoiser import Denoiser
from vocoder.mel_match import match_mel

RATE, HOP = 22050, 256


def speech_like(seconds: float = 1.0, seed: int = 0) -> torch.Tensor:
    """A 140 Hz harmonic tone with a falling envelope plus a little noise: [1, N]."""
    generator = torch.Generator().manual_seed(seed)
    t = torch.arange(int(seconds * RATE)) / RATE
    tone = sum(0.3 / k * torch.sin(2 * math.pi * 140 * k * t) for k in range(1, 30))
    return (tone + 0.01 * torch.randn(t.shape, generator=generator))[None] * 0.5


def mel_of(audio: torch.Tensor) -> torch.Tensor:
    return mel_spectrogram(audio)[:, :, : audio.shape[1] // HOP]


def mel_distance(audio: torch.Tensor, mel: torch.Tensor) -> float:
    return (mel_of(audio) - mel).abs().mean().item()


def test_zero_passes_return_the_audio_itself():
    audio = speech_like()
    assert match_mel(audio, mel_of(audio), 0) is audio


def test_audio_that_already_has_the_mel_is_unchanged():
    audio = speech_like()
    matched = match_mel(audio, mel_of(audio), 6)
    assert matched.shape == audio.shape and matched.dtype == audio.dtype
    assert (matched - audio).abs().max() < 1e-4 * audio.abs().max()


def test_a_wrong_envelope_is_corrected_and_more_passes_get_closer():
    target = mel_of(speech_like(seed=1))
    # the right fine structure with a tilted, too quiet envelope: high bands 10x too loud, all 4x too quiet
    wrong = stft(speech_like(seed=2))
    tilt = torch.linspace(0.1, 2.5, wrong.shape[1])[:, None]
    audio = istft(wrong * tilt, length=int(RATE))
    distances = [mel_distance(match_mel(audio, target, n), target) for n in (0, 1, 3, 6)]
    assert distances[0] > 0.5
    assert distances[1] < distances[0] / 3
    assert distances[3] <= distances[2] + 1e-3 <= distances[1] + 2e-3
    assert distances[3] < 0.1


def test_the_correction_after_resynthesis_lands_closer_than_one_round():
    """The inverse STFT of the gain-modified spectrogram averages overlapping frames, pulling the envelope
    back part of the way; measuring the resynthesised audio again and correcting it gets closer than any
    number of passes on the first spectrogram alone."""
    from vocoder.mel_match import _bands, _resynthesised_with_gains

    target = mel_of(speech_like(seed=4))
    wrong = stft(speech_like(seed=5))
    audio = istft(wrong * torch.linspace(2.0, 0.2, wrong.shape[1])[:, None], length=int(RATE))
    one_round = mel_distance(_resynthesised_with_gains(audio, target.exp(), 30, _bands(DEFAULT_AUDIO, audio.device),
                                                         DEFAULT_AUDIO), target)
    corrected = mel_distance(match_mel(audio, target, 6), target)
    assert corrected < 0.9 * one_round  # measured: 0.033 vs 0.039


def test_the_phase_is_the_vocoders():
    """A gain per band changes magnitudes, never where the waveform's energy sits in time: the matched
    audio stays strongly correlated with its input (a phase change would decorrelate it)."""
    audio = speech_like(seed=3)
    target = mel_of(audio) + 1.0  # e times louder everywhere: the gains are e, the waveform the same shape
    matched = match_mel(audio, target, 6)
    correlation = np.corrcoef(matched[0].numpy(), audio[0].numpy())[0, 1]
    assert correlation > 0.999
    assert matched.abs().max() / audio.abs().max() == pytest.approx(math.e, rel=0.05)


def test_content_above_the_top_mel_band_is_kept_not_cut():
    """The mel says nothing above mel_fmax (8 kHz): those bins take the top band's gain, not 0."""
    t = torch.arange(RATE) / RATE
    audio = speech_like() + 0.05 * torch.sin(2 * math.pi * 9500 * t)[None]
    matched = match_mel(audio, mel_of(audio) - 0.5, 3)  # everything a little quieter
    bin_9500 = round(9500 / RATE * 1024)
    before, after = stft(audio).abs()[0, bin_9500].mean(), stft(matched).abs()[0, bin_9500].mean()
    assert 0.4 < (after / before).item() < 0.8  # about exp(-0.5) = 0.61, like the bands below


def test_batches_are_matched_item_by_item():
    audio = torch.cat([speech_like(seed=4), 0.2 * speech_like(seed=5)])
    target = torch.cat([mel_of(speech_like(seed=6)), mel_of(speech_like(seed=7))])
    batched = match_mel(audio, target, 4)
    for i in range(2):
        torch.testing.assert_close(batched[i:i + 1], match_mel(audio[i:i + 1], target[i:i + 1], 4),
                                   atol=1e-5, rtol=1e-4)
    single = match_mel(audio[0], target[0], 4)  # [N] with [n_mels, T]
    torch.testing.assert_close(single, batched[0], atol=1e-5, rtol=1e-4)


@pytest.mark.parametrize("audio_shape, mel_shape, iterations, message", [
    ((1, 2560), (1, 80, 10), -1, "iterations must be >= 0"),
    ((1, 2560), (2, 80, 10), 2, "expected audio"),
    ((1, 1, 2560), (1, 80, 10), 2, "expected audio"),
])
def test_bad_arguments_are_refused(audio_shape, mel_shape, iterations, message):
    with pytest.raises(ValueError, match=message):
        match_mel(torch.zeros(audio_shape), torch.zeros(mel_shape), iterations)


@pytest.fixture(scope="module")
def pipe() -> Pipeline:
    config = SynthesisConfig(max_decoder_steps=40, max_retries=0, denoise=0.0, sigma=0.0)
    pipeline = Pipeline(tiny_tacotron2(1), {"waveglow": tiny_waveglow(0).prepare_for_inference()},
                        default_vocoder="waveglow", config=config, name="mel-match")
    pipeline.overlap_schedule = OverlapSchedule(mel_block_frames=4, first_chunk_frames=8, chunk_frames=12,
                                                context_frames=8)
    return pipeline


def test_the_pipeline_matches_the_vocoders_unclipped_output_before_the_denoiser(pipe):
    """vocoder -> mel matching -> denoiser -> clip; the setting is a voice default like any other."""
    speech = pipe.speak("Hello there.", seed=2, mel_match=4, denoise=0.02)
    plain = pipe.speak("Hello there.", seed=2, denoise=0.02)
    mel = torch.from_numpy(speech.chunks[0].mel)[None]
    vocoder = pipe._vocoder("waveglow")
    raw = vocoder(mel, clip=False, sigma=0.0)
    expected = Denoiser(vocoder)(match_mel(raw, mel, 4), strength=0.02).clamp(-1, 1)[0].numpy()
    np.testing.assert_allclose(speech.audio, expected, atol=1e-5)
    assert not np.allclose(speech.audio, plain.audio, atol=1e-3)
    assert mel_distance(torch.from_numpy(speech.audio)[None], mel) < mel_distance(
        torch.from_numpy(plain.audio)[None], mel)


def test_overlap_gives_the_sequential_matched_audio(pipe):
    off = pipe.speak("Hello there, a test. And a second one.", seed=3, mel_match=6, overlap=False)
    on = pipe.speak("Hello there, a test. And a second one.", seed=3, mel_match=6, overlap=True)
    assert on.audio.shape == off.audio.shape
    noise = np.sum((off.audio.astype(np.float64) - on.audio) ** 2)
    assert 10 * math.log10(np.sum(off.audio.astype(np.float64) ** 2) / noise) >= 50


@pytest.mark.parametrize("value", [-1, 51, 1.5, True, "6"])
def test_bad_mel_match_values_are_refused(pipe, value):
    with pytest.raises(ValueError, match="mel_match must be an integer in"):
        pipe.speak("Fine text.", mel_match=value)


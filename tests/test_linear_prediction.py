"""Linear prediction from the mel (vocoder/waveglow/linear_prediction.py) and the compact WaveGlow that
whitens its audio with it: Levinson against a direct solve, exact inversion, the log-determinant against
the Jacobian, whitening of a known all-pole process, and the flow built around it."""
import numpy as np
import pytest
import scipy.signal
import torch

from tts.core.audio import DEFAULT_AUDIO, mel_spectrogram
from vocoder import CompactWaveGlow, CompactWaveGlowConfig, WaveGlowLoss, load_waveglow, save_waveglow
from vocoder.waveglow import linear_prediction as lp

HOP = DEFAULT_AUDIO.hop_length
LP_TINY = CompactWaveGlowConfig(n_flows=4, n_group=64, n_early_every=2, n_early_size=8, wn_n_layers=2,
                                wn_n_channels=16, lp_order=8)


def all_pole_speech(n: int, seed: int = 0) -> torch.Tensor:
    """A speech-like test signal: pulses and noise through two resonances, with a silent gap and a
    loudness ramp, [1, n] float32."""
    rng = np.random.default_rng(seed)
    excitation = 0.02 * rng.standard_normal(n)
    excitation[:: 120] += 1.0  # a 184 Hz pulse train
    a = np.poly([0.97 * np.exp(1j * 0.09), 0.97 * np.exp(-1j * 0.09), 0.9 * np.exp(1j * 0.5), 0.9 * np.exp(-1j * 0.5)])
    x = scipy.signal.lfilter([1.0], a.real, excitation)
    x *= np.linspace(0.2, 1.0, n)
    x[n // 3: n // 2] *= 1e-3  # near-silence
    return torch.from_numpy(0.3 * x / np.abs(x).max()).float()[None]


def test_levinson_solves_the_normal_equations():
    rng = np.random.default_rng(1)
    r = np.correlate(s := rng.standard_normal(400), s, "full")[399:399 + 7]  # a positive-definite sequence
    a, error = lp.levinson(torch.from_numpy(r)[None])
    toeplitz = np.array([[r[abs(i - j)] for j in range(6)] for i in range(6)])
    direct = np.linalg.solve(toeplitz, -r[1:7])
    assert a[0, 0] == 1.0
    np.testing.assert_allclose(a[0, 1:].numpy(), direct, rtol=1e-9, atol=1e-12)
    assert float(error[0]) == pytest.approx(r[0] + np.dot(direct, r[1:7]), rel=1e-9)


def test_colour_inverts_whiten_exactly():
    x = all_pole_speech(40 * HOP).repeat(2, 1)
    x[1] = x[1].flip(0)
    predictor = lp.predictor(mel_spectrogram(x), DEFAULT_AUDIO, 16)
    residual, _ = lp.whiten(x, predictor, HOP)
    assert (lp.colour(residual, predictor, HOP) - x).abs().max() < 1e-6
    # the synthesis length (frames * hop samples): the last half hop keeps the last frame's filter
    mel = mel_spectrogram(x)[:, :, :40]
    predictor = lp.predictor(mel, DEFAULT_AUDIO, 16)
    residual, _ = lp.whiten(x, predictor, HOP)
    assert (lp.colour(residual, predictor, HOP) - x).abs().max() < 1e-6


def test_log_determinant_matches_the_jacobian():
    x = 0.1 * torch.randn(1, 700, dtype=torch.float64)
    predictor = lp.predictor(mel_spectrogram(x.float()), DEFAULT_AUDIO, 6)
    jacobian = torch.autograd.functional.jacobian(lambda v: lp.whiten(v, predictor, HOP)[0], x)[0, :, 0, :]
    assert torch.equal(jacobian, torch.tril(jacobian))  # causal: each residual sees only the past
    _, log_det = lp.whiten(x, predictor, HOP)
    assert float(log_det.sum()) == pytest.approx(float(torch.linalg.slogdet(jacobian)[1]), rel=1e-9)


def test_the_mels_predictor_whitens_speech_like_audio():
    """The residual is far flatter than the signal and has about unit variance whatever the loudness:
    the envelope and the level come from the mel."""
    x = all_pole_speech(120 * HOP)
    predictor = lp.predictor(mel_spectrogram(x), DEFAULT_AUDIO, 16)
    residual, _ = lp.whiten(x, predictor, HOP)

    def flatness(v: np.ndarray) -> float:
        power = np.abs(np.fft.rfft(v * np.hanning(v.size))) ** 2 + 1e-20
        return float(np.exp(np.mean(np.log(power))) / np.mean(power))

    loud = slice(90 * HOP, 110 * HOP)
    assert flatness(residual[0, loud].numpy()) > 20 * flatness(x[0, loud].numpy())
    quiet = residual[0, 45 * HOP: 55 * HOP].std()  # inside the near-silent gap (1/1000 of the level)
    assert 0.2 < float(quiet) < 5 and 0.2 < float(residual[0, loud].std()) < 5


def test_config_validation_and_old_configs():
    assert CompactWaveGlowConfig.from_dict(LP_TINY.to_dict()) == LP_TINY
    old = {k: v for k, v in LP_TINY.to_dict().items() if k != "lp_order"}  # a checkpoint from before the field
    assert CompactWaveGlowConfig.from_dict(old).lp_order == 0
    with pytest.raises(ValueError, match="lp_order"):
        CompactWaveGlowConfig(lp_order=-1)


def random_lp_compact(seed: int = 0) -> CompactWaveGlow:
    torch.manual_seed(seed)
    model = CompactWaveGlow(LP_TINY)
    with torch.no_grad():
        for wn in model.WN:
            wn.end.weight.normal_(0, 0.05)
    return model


@pytest.mark.parametrize("prepared", [False, True])
def test_flow_with_linear_prediction_inverts_and_counts_the_filter(prepared):
    from tests.test_waveglow_compact import latent_as_noise

    model = random_lp_compact()
    audio = all_pole_speech(16 * HOP)
    mel = mel_spectrogram(audio)
    with torch.no_grad():
        z, log_s, log_det_w = model(mel, audio)
        if prepared:
            model.prepare_for_inference()
        back = model.infer_from_noise(mel, latent_as_noise(model, z), sigma=1.0)
    assert (back - audio).abs().max() < 1e-5
    # the loss is the audio's NLL: the filter's log-determinant is one of the summed log-scales
    _, filter_log_det = lp.whiten(audio, model.predictor(mel), HOP)
    assert torch.equal(log_s[0], filter_log_det)
    without = WaveGlowLoss(1.0)((z, log_s[1:], log_det_w))
    with_filter = WaveGlowLoss(1.0)((z, log_s, log_det_w))
    assert float(without - with_filter) == pytest.approx(float(filter_log_det.mean()), rel=1e-5)


def frame_energy_db(audio: torch.Tensor) -> np.ndarray:
    frames = audio[0, : audio.shape[1] // HOP * HOP].reshape(-1, HOP)
    return 10 * np.log10(frames.pow(2).mean(1).numpy() + 1e-12)


def test_an_untrained_lp_flow_follows_the_mels_loudness():
    """Every coupling the identity (as initialised): without prediction the flow's samples are
    white noise at one level; with it they rise and fall with the mel (silence stays silent)."""
    audio = all_pole_speech(100 * HOP)
    mel = mel_spectrogram(audio)[:, :, :100]
    target = frame_energy_db(audio)
    plain = CompactWaveGlow(CompactWaveGlowConfig(**{**LP_TINY.to_dict(), "lp_order": 0})).prepare_for_inference()
    with_lp = CompactWaveGlow(LP_TINY).prepare_for_inference()
    r_plain = np.corrcoef(target, frame_energy_db(plain.synthesize(mel, sigma=1.0, seed=0)))[0, 1]
    r_lp = np.corrcoef(target, frame_energy_db(with_lp.synthesize(mel, sigma=1.0, seed=0)))[0, 1]
    assert r_lp > 0.9 and abs(r_plain) < 0.3


def test_checkpoint_keeps_the_predictor(tmp_path):
    model = random_lp_compact()
    path = save_waveglow(model, tmp_path / "lp.pt", {"step": 3})
    loaded = load_waveglow(path)
    assert loaded.config.lp_order == 8
    mel = mel_spectrogram(all_pole_speech(12 * HOP))[:, :, :12]
    expected = model.prepare_for_inference().synthesize(mel, sigma=0.6, seed=0)
    assert torch.allclose(loaded.synthesize(mel, sigma=0.6, seed=0), expected, atol=1e-6)


def test_history_whitens_a_segment_as_inside_its_clip():
    """A segment cut from inside a clip, given the samples before it, gets the residual the clip's own
    samples predict; without them it is taken to start after silence. The log-determinant is the same."""
    x = all_pole_speech(40 * HOP)
    predictor = lp.predictor(mel_spectrogram(x), DEFAULT_AUDIO, 16)
    start = 10 * HOP
    segment = x[:, start:]
    tail = lp.Predictor(predictor.a[:, 10:], predictor.log_gain[:, 10:])  # the segment's frames
    inside, log_det = lp.whiten(segment, tail, HOP, history=x[:, start - 40:start])
    cold, cold_log_det = lp.whiten(segment, tail, HOP)
    whole, _ = lp.whiten(x, predictor, HOP)
    torch.testing.assert_close(inside, whole[:, start:], rtol=1e-5, atol=1e-5)
    assert (cold[:, :16] - whole[:, start:start + 16]).abs().max() > 0.1  # zeros are not the clip's samples
    torch.testing.assert_close(cold[:, 16:], whole[:, start + 16:], rtol=1e-5, atol=1e-5)
    assert torch.equal(log_det, cold_log_det)
    with pytest.raises(ValueError, match="history of 8 samples"):
        lp.whiten(segment, tail, HOP, history=x[:, start - 8:start])

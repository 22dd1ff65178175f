"""Pulse excitation of the compact WaveGlow (vocoder/waveglow/excitation.py): the pitch tracker, the
pulse finder and the pulse train on signals whose pulses are known; the flow conditioned on pulses
(inversion, the pulses change the flow, a warm start without pulses starts unchanged, checkpoints); the
pitch predictor learning F0; and `vocoder.train` with `data.excitation_dir` on a tiny corpus."""
from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest
import soundfile
import torch
import yaml

from tests.test_gta import TINY_COMPACT, write_vocoder_config
from tests.test_linear_prediction import all_pole_speech
from tests.test_training import make_corpus
from tts.core.audio import DEFAULT_AUDIO, mel_spectrogram
from vocoder import CompactWaveGlow, CompactWaveGlowConfig, load_waveglow, save_waveglow
from vocoder.waveglow import excitation
from vocoder.waveglow.compact import count_macs_per_sample

SR, HOP = DEFAULT_AUDIO.sampling_rate, DEFAULT_AUDIO.hop_length
PULSE_TINY = CompactWaveGlowConfig(n_flows=4, n_group=64, n_early_every=2, n_early_size=8, wn_n_layers=2,
                                   wn_n_channels=16, lp_order=8, pulse_excitation=True, pitch_channels=16,
                                   pitch_layers=2, pitch_kernel_size=3)
RECIPE = Path(__file__).resolve().parents[1] / "recipes" / "default_voice" / "extract_excitation.py"


def harmonic_tone(f0: float, seconds: float, seed: int = 0) -> np.ndarray:
    """A voiced-speech-like tone: 12 harmonics of f0 with falling amplitudes and a little noise."""
    t = np.arange(int(SR * seconds)) / SR
    x = sum(np.sin(2 * np.pi * f0 * h * t) / h for h in range(1, 13))
    return 0.2 * x / np.abs(x).max() + 0.002 * np.random.default_rng(seed).standard_normal(t.size)


def test_track_pitch_finds_f0_and_leaves_noise_and_silence_unvoiced():
    rng = np.random.default_rng(0)
    audio = np.concatenate([harmonic_tone(180.0, 1.0), 0.1 * rng.standard_normal(SR // 2), np.zeros(SR // 2)])
    f0 = excitation.track_pitch(audio, SR, HOP)
    assert f0.shape == (len(audio) // HOP + 1,)
    tone, noise, silence = f0[4:80], f0[92:124], f0[136:]
    assert (tone > 0).mean() > 0.95 and np.median(tone[tone > 0]) == pytest.approx(180.0, rel=0.02)
    assert (noise > 0).mean() < 0.1 and not silence.any()


def test_find_pulses_recovers_a_jittered_pulse_train():
    rng = np.random.default_rng(1)
    n = 60 * HOP
    true = np.cumsum(120 + rng.integers(-3, 4, size=200))
    true = true[(true > 10 * HOP) & (true < 50 * HOP)]  # voiced frames 10-49 only
    residual = 0.3 * rng.standard_normal(n)
    residual[true] += 6.0
    f0 = np.zeros(61)
    f0[10:50] = SR / 120
    found = excitation.find_pulses(residual, f0, SR, HOP)
    assert set(true) <= set(found)  # every pulse, each at its sample
    extra = sorted(set(found) - set(true))
    assert len(extra) <= 2 and all(e < true[0] or e > true[-1] for e in extra)  # at most at the voicing edges


def test_pulse_f0_is_the_rate_of_the_pulses_at_each_voiced_frame():
    pulses = np.concatenate([np.arange(10 * HOP, 30 * HOP, 100), np.arange(30 * HOP, 50 * HOP, 140)])
    f0 = np.zeros(61)
    f0[10:50] = 200.0  # YIN's guess, wrong in both halves
    f0[55:58] = 180.0  # voiced, but no pulses there: YIN's F0 stays
    rate = excitation.pulse_f0(pulses, f0, SR, HOP)
    assert (rate[:10] == 0).all() and (rate[50:55] == 0).all() and (rate[58:] == 0).all()
    np.testing.assert_allclose(rate[12:28], SR / 100)
    np.testing.assert_allclose(rate[32:48], SR / 140)
    np.testing.assert_allclose(rate[55:58], 180.0)  # the last interval is 2.5+ periods away: a gap
    np.testing.assert_allclose(excitation.pulse_f0(pulses[:1], f0, SR, HOP), f0)  # no interval at all
    fast = excitation.pulse_f0(np.arange(10 * HOP, 20 * HOP, 20), f0, SR, HOP)  # 1.1 kHz: clipped
    assert fast[12] == excitation.F0_MAX


def test_pulse_shape_is_the_waveform_at_each_pulse_times_the_frames_gain():
    shape = excitation.PulseShape(80, 5)
    with torch.no_grad():
        shape.scaled_waveform.copy_(torch.tensor([1.0, 2.0, 3.0, 4.0, 5.0]) / shape.WAVEFORM_SCALE)
        shape.gain.bias.fill_(float(np.log(2.0)))
    pulses = torch.zeros(1, 4 * HOP)
    pulses[0, [100, 600]] = 1.0
    out = shape(pulses, torch.zeros(1, 80, 5), HOP)[0]
    expected = torch.zeros(4 * HOP)
    expected[98:103] = 2 * torch.tensor([1.0, 2.0, 3.0, 4.0, 5.0])  # centred on the pulse
    expected[598:603] = 2 * torch.tensor([1.0, 2.0, 3.0, 4.0, 5.0])
    torch.testing.assert_close(out, expected)


def test_pulse_train_places_one_pulse_per_period_in_voiced_frames_only():
    f0 = torch.tensor([[0.0] * 5 + [200.0] * 20 + [0.0] * 5 + [100.0] * 10])
    n = f0.shape[1] * HOP
    pulses = excitation.pulse_train(f0, n, HOP, SR)[0]
    where = torch.nonzero(pulses)[:, 0]
    frame = (where + HOP // 2) // HOP
    assert bool((f0[0, frame.clamp(max=39)] > 0).all())  # nothing in unvoiced frames
    first = where[frame < 30]
    assert int(first[0]) == 5 * HOP - HOP // 2  # a voiced stretch starts with a pulse
    gaps = torch.diff(first).float()
    assert gaps.min() >= 110 and gaps.max() <= 111  # 22050 / 200 = 110.25 samples
    second = torch.diff(where[frame >= 30]).float()
    assert second.min() >= 220 and second.max() <= 221
    assert pulses.sum() == len(where) and set(pulses.unique().tolist()) == {0.0, 1.0}


def random_pulse_compact(seed: int = 0, shape_taps: int = 0, shape_channels: int = 0) -> CompactWaveGlow:
    """PULSE_TINY with random (not identity) couplings, pulse layers and mean pulse shape, so all are
    exercised."""
    torch.manual_seed(seed)
    model = CompactWaveGlow(CompactWaveGlowConfig(**{**PULSE_TINY.to_dict(), "pulse_shape_taps": shape_taps,
                                                     "pulse_shape_channels": shape_channels}))
    with torch.no_grad():
        for wn in model.WN:
            wn.end.weight.normal_(0, 0.05)
            wn.pulse_layer.weight.normal_(0, 0.5)
        if shape_taps:
            model.pulse_shape.scaled_waveform.normal_(0, 0.1)
            model.pulse_shape.gain.weight.normal_(0, 0.01)
        if shape_channels:
            model.pulse_shape.variation[2].weight.normal_(0, 0.1)
    return model


@pytest.mark.parametrize("prepared, shape_taps, shape_channels", [(False, 0, 0), (True, 0, 0), (False, 9, 0),
                                                                 (True, 9, 0), (True, 9, 8)])
def test_flow_with_pulses_inverts_and_uses_them(prepared, shape_taps, shape_channels):
    from tests.test_waveglow_compact import latent_as_noise

    model = random_pulse_compact(shape_taps=shape_taps, shape_channels=shape_channels)
    audio = all_pole_speech(16 * HOP)
    mel = mel_spectrogram(audio)
    with torch.no_grad():
        placed = excitation.pulse_train(model.pitch.f0(mel), audio.shape[1], HOP, SR)
        z, _, _ = model(mel, audio)  # the pitch predictor places the pulses, as at synthesis
        z_given, _, _ = model(mel, audio, pulses=placed)
        other = torch.zeros_like(placed)
        other[:, ::97] = 1.0
        z_other, _, _ = model(mel, audio, pulses=other)
        if prepared:
            model.prepare_for_inference()
        back = model.infer_from_noise(mel, latent_as_noise(model, z), sigma=1.0)
    assert torch.equal(z, z_given)
    assert (z_other - z).abs().max() > 0.05  # the flows are conditioned on the pulses
    assert (back - audio).abs().max() < 1e-5


def test_pitch_loss_comes_back_with_f0_and_gets_gradients():
    model = random_pulse_compact()
    audio = all_pole_speech(16 * HOP)
    mel = mel_spectrogram(audio)
    f0 = torch.full((1, mel.shape[2]), 184.0)
    out = model(mel, audio, pulses=excitation.pulse_train(f0, audio.shape[1], HOP, SR), f0=f0)
    assert len(out) == 4 and out[3].dim() == 0 and float(out[3].detach()) > 0
    out[3].backward()
    assert all(p.grad is not None for p in model.pitch.parameters())
    assert all(wn.pulse_layer.weight.grad is None for wn in model.WN)  # the pitch loss is the predictor's alone
    with pytest.raises(ValueError, match="pulses of 100 samples for audio of 4096"):
        model(mel, audio, pulses=torch.zeros(1, 100))


def test_pitch_predictor_learns_f0_and_voicing_from_mels():
    torch.manual_seed(0)
    predictor = excitation.PitchPredictor(80, 32, 2, 3)
    mels, targets = [], []
    for i, f0 in enumerate((110.0, 150.0, 200.0, 260.0)):
        audio = np.concatenate([np.zeros(SR // 4), harmonic_tone(f0, 0.75, seed=i)])
        mels.append(mel_spectrogram(torch.from_numpy(audio).float()))
        targets.append(torch.from_numpy(excitation.track_pitch(audio, SR, HOP)).float())
    frames = min(m.shape[1] for m in mels)
    mel, target = torch.stack([m[:, :frames] for m in mels]), torch.stack([t[:frames] for t in targets])
    optimizer = torch.optim.Adam(predictor.parameters(), lr=3e-3)
    first = float(predictor.loss(mel, target).detach())
    for _ in range(300):
        optimizer.zero_grad()
        loss = predictor.loss(mel, target)
        loss.backward()
        optimizer.step()
    assert float(loss.detach()) < 0.1 * first
    with torch.no_grad():
        predicted = predictor.f0(mel)
    voiced = target > 0
    assert float(((predicted > 0) == voiced).float().mean()) > 0.95
    both = voiced & (predicted > 0)
    assert float((predicted[both] / target[both] - 1).abs().median()) < 0.05


def test_checkpoint_keeps_the_pulse_excitation(tmp_path):
    model = random_pulse_compact()
    loaded = load_waveglow(save_waveglow(model, tmp_path / "pulse.pt", {"step": 3}))
    assert loaded.config.pulse_excitation and loaded.config.pitch_channels == 16
    mel = mel_spectrogram(all_pole_speech(12 * HOP))[:, :, :12]
    expected = model.prepare_for_inference().synthesize(mel, sigma=0.6, seed=0)
    assert torch.allclose(loaded.synthesize(mel, sigma=0.6, seed=0), expected, atol=1e-6)
    assert count_macs_per_sample(PULSE_TINY) < 1.5 * count_macs_per_sample(
        CompactWaveGlowConfig(**{**PULSE_TINY.to_dict(), "pulse_excitation": False}))


def test_config_validation():
    with pytest.raises(ValueError, match="pitch_kernel_size odd"):
        CompactWaveGlowConfig(pulse_excitation=True, pitch_kernel_size=4)
    with pytest.raises(ValueError, match="pulse_shape_taps must be 0, or odd with pulse_excitation"):
        CompactWaveGlowConfig(pulse_shape_taps=9)
    with pytest.raises(ValueError, match="pulse_shape_taps must be 0, or odd"):
        CompactWaveGlowConfig(pulse_excitation=True, pulse_shape_taps=8)
    with pytest.raises(ValueError, match="pulse_shape_channels must be 0, or positive with pulse_shape_taps"):
        CompactWaveGlowConfig(pulse_excitation=True, pulse_shape_channels=8)
    assert not CompactWaveGlowConfig().pulse_excitation  # old checkpoints' configs: no pulses


def test_warm_start_adds_pulse_excitation_and_starts_unchanged(tmp_path):
    from tts.core.serialization import CheckpointError
    from vocoder.train import warm_start

    torch.manual_seed(0)
    plain_config = CompactWaveGlowConfig(**{**PULSE_TINY.to_dict(), "pulse_excitation": False})
    plain = CompactWaveGlow(plain_config)
    with torch.no_grad():
        for wn in plain.WN:
            wn.end.weight.normal_(0, 0.05)
    path = save_waveglow(plain, tmp_path / "plain.pt", {"step": 7})
    grown = CompactWaveGlow(PULSE_TINY)
    warm_start(grown, path, "waveglow_compact")
    mel = mel_spectrogram(all_pole_speech(12 * HOP))[:, :, :12]
    expected = plain.prepare_for_inference().synthesize(mel, sigma=0.6, seed=0)
    assert torch.allclose(grown.prepare_for_inference().synthesize(mel, sigma=0.6, seed=0), expected, atol=1e-6)
    wider = CompactWaveGlow(CompactWaveGlowConfig(**{**PULSE_TINY.to_dict(), "wn_n_channels": 32}))
    with pytest.raises(CheckpointError, match="wn_n_channels: 32 vs 16"):
        warm_start(wider, path, "waveglow_compact")
    # a model with pulses gains the mean pulse shape, and starts unchanged too
    shaped = CompactWaveGlow(CompactWaveGlowConfig(**{**PULSE_TINY.to_dict(), "pulse_shape_taps": 9}))
    source = random_pulse_compact()
    warm_start(shaped, save_waveglow(source, tmp_path / "source.pt", {"step": 2}), "waveglow_compact")
    expected = source.prepare_for_inference().synthesize(mel, sigma=0.6, seed=0)
    assert torch.allclose(shaped.prepare_for_inference().synthesize(mel, sigma=0.6, seed=0), expected, atol=1e-6)
    # ... and its per-frame variation
    varied = CompactWaveGlow(CompactWaveGlowConfig(**{**PULSE_TINY.to_dict(), "pulse_shape_taps": 9,
                                                      "pulse_shape_channels": 8}))
    source = random_pulse_compact(shape_taps=9)
    warm_start(varied, save_waveglow(source, tmp_path / "shaped.pt", {"step": 2}), "waveglow_compact")
    expected = source.prepare_for_inference().synthesize(mel, sigma=0.6, seed=0)
    assert torch.allclose(varied.prepare_for_inference().synthesize(mel, sigma=0.6, seed=0), expected, atol=1e-6)
    pulsed = save_waveglow(CompactWaveGlow(PULSE_TINY), tmp_path / "pulsed.pt", {"step": 1})
    with pytest.raises(CheckpointError, match="pulse_excitation: False vs True"):
        warm_start(CompactWaveGlow(plain_config), pulsed, "waveglow_compact")  # pulses are not dropped silently


def run_extract(*args) -> int:
    spec = importlib.util.spec_from_file_location("extract_excitation", RECIPE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.main([str(a) for a in args])


@pytest.fixture(scope="module")
def corpus_with_excitation(tmp_path_factory) -> Path:
    corpus = make_corpus(tmp_path_factory.mktemp("corpus"))
    assert run_extract("--corpus", corpus, "--lp-order", 8, "--quiet") == 0
    return corpus


def test_extract_writes_every_clip_and_resumes(corpus_with_excitation, tmp_path, capsys):
    files = sorted((corpus_with_excitation / "excitation").glob("*.npz"))
    assert len(files) == 17  # 16 clips and the held-out one
    with np.load(files[0]) as data:
        f0, yin, pulses = data["f0"], data["yin_f0"], data["pulses"]
    assert f0.dtype == yin.dtype == np.float32 and pulses.dtype == np.int64 and (f0 > 0).mean() > 0.5
    assert len(pulses) > 0 and np.all(np.diff(pulses) > 0)
    np.testing.assert_array_equal(f0, excitation.pulse_f0(pulses, yin, SR, HOP).astype(np.float32))
    stamps = [f.stat().st_mtime_ns for f in files]
    with np.load(files[1]) as data:  # an older version's file: YIN's F0 as f0, no yin_f0
        np.savez(files[1], f0=data["yin_f0"], pulses=data["pulses"])
    assert run_extract("--corpus", corpus_with_excitation, "--quiet") == 0
    assert files[0].stat().st_mtime_ns == stamps[0]  # kept, not redone
    with np.load(files[1]) as data:  # redone
        assert "yin_f0" in data.files
    assert run_extract("--corpus", tmp_path / "nowhere", "--quiet") == 2
    assert "error: corpus not found" in capsys.readouterr().err


def test_segments_carry_their_pulses_and_f0(corpus_with_excitation):
    from tts.training.data import read_all_clips
    from vocoder.train import AudioMelCollate, AudioSegments

    clips = read_all_clips(corpus_with_excitation)
    data = AudioSegments(clips, DEFAULT_AUDIO, 2048, seed=5, context=8,
                         excitation_dir=corpus_with_excitation / "excitation")
    batch = AudioMelCollate(DEFAULT_AUDIO, context=8)([data[i] for i in range(4)])
    assert batch.pulses.shape == (4, 2048) and batch.f0.shape == (4, 2048 // HOP + 1)
    assert batch.history.shape == (4, 8) and batch.mel.shape[2] == 2048 // HOP + 1
    for i in range(4):
        _, start, _ = data.segment(i)
        assert start % HOP == 0
        with np.load(corpus_with_excitation / "excitation" / f"{clips[i].id}.npz") as saved:
            inside = saved["pulses"][(saved["pulses"] >= start) & (saved["pulses"] < start + 2048)] - start
            f0 = saved["f0"][start // HOP: start // HOP + 2048 // HOP + 1]
        assert torch.nonzero(batch.pulses[i])[:, 0].tolist() == inside.tolist()
        np.testing.assert_array_equal(batch.f0[i, : len(f0)].numpy(), f0)


@pytest.mark.parametrize("content", [b"", b"PK\x03\x04 not a zip", b"pickled or not, not an npz"])
def test_a_corrupt_excitation_file_is_one_clear_error(corpus_with_excitation, tmp_path, content):
    from tts.training.data import read_all_clips
    from vocoder.train import AudioSegments

    clips = read_all_clips(corpus_with_excitation)[:1]
    (tmp_path / f"{clips[0].id}.npz").write_bytes(content)
    data = AudioSegments(clips, DEFAULT_AUDIO, 2048, seed=5, excitation_dir=tmp_path)
    with pytest.raises(ValueError, match=rf"{clips[0].id}.npz: cannot read the clip's pitch and pulses .*extract_excitation"):
        data[0]


def test_training_with_pulse_excitation_logs_both_losses(corpus_with_excitation, tmp_path, capsys):
    from tests.test_training import logged_losses
    from vocoder.train import load_config, run_training

    cfg = write_vocoder_config(tmp_path / "v.yaml", corpus_with_excitation,
                               excitation_dir=str(corpus_with_excitation / "excitation"))
    data = yaml.safe_load(cfg.read_text())
    data["model"] = {**TINY_COMPACT, "lp_order": 8, "pulse_excitation": True, "pitch_channels": 16,
                     "pitch_layers": 2, "pulse_shape_taps": 9}
    data["train"]["validate_every"] = 3
    cfg.write_text(yaml.safe_dump(data))
    trainer = run_training(["--config", str(cfg), "--run-dir", str(tmp_path / "run")])
    assert trainer.step == 3 and sorted(logged_losses(tmp_path / "run")) == [1, 2, 3]
    rows = [json.loads(line) for line in (tmp_path / "run" / "train_log.jsonl").read_text().splitlines()]
    steps = [r for r in rows if "loss" in r]
    assert all(r["loss"] == pytest.approx(r["nll"] + r["pitch_loss"], rel=1e-5) for r in steps)
    assert any("val_pitch_loss" in r for r in rows)
    assert load_waveglow(trainer.run.latest()).config.pulse_excitation
    # the mean pulse shape starts at the residual's mean around the pulses (then trains 3 steps at 1e-3)
    assert "mean pulse shape initialised from" in capsys.readouterr().out
    assert float(trainer.model.pulse_shape.scaled_waveform.detach().abs().max()) > 0.01
    # one without the other is refused before training
    data["data"].pop("excitation_dir")
    cfg.write_text(yaml.safe_dump(data))
    with pytest.raises(ValueError, match="pulse_excitation needs data.excitation_dir"):
        load_config(cfg)
    data["model"] = {**TINY_COMPACT, "lp_order": 8}
    data["data"]["excitation_dir"] = str(corpus_with_excitation / "excitation")
    cfg.write_text(yaml.safe_dump(data))
    with pytest.raises(ValueError, match="only for model.pulse_excitation"):
        load_config(cfg)


def run_fit_pitch(*args) -> int:
    spec = importlib.util.spec_from_file_location("fit_pitch", RECIPE.parent / "fit_pitch.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.main([str(a) for a in args])


def test_fit_pitch_refits_the_predictor_alone(corpus_with_excitation, tmp_path, capsys):
    torch.manual_seed(0)
    source = save_waveglow(CompactWaveGlow(PULSE_TINY), tmp_path / "in.pt")
    gta = tmp_path / "gta"  # the ground-truth mels, shifted, as a stand-in GTA folder
    gta.mkdir()
    for wav in (corpus_with_excitation / "wavs").glob("*.wav"):
        audio = torch.from_numpy(soundfile.read(wav, dtype="float32")[0])
        np.save(gta / f"{wav.stem}.npy", (mel_spectrogram(audio) + 0.1).numpy().astype(np.float16))
    out = tmp_path / "out" / "refit.pt"
    assert run_fit_pitch("--checkpoint", source, "--out", out, "--corpus", corpus_with_excitation, "--mels", gta,
                         "--steps", 40, "--batch-size", 4, "--frames", 16, "--keep-out", 3, "--quiet") == 0
    before, after = (float(v) for v in capsys.readouterr().out.split("kept out: ")[1].split(";")[0].split(" -> "))
    assert after < before
    old, new = torch.load(source, weights_only=True), torch.load(out, weights_only=True)
    changed = {k for k in old["state_dict"] if not torch.equal(old["state_dict"][k], new["state_dict"][k])}
    assert changed and all(k.startswith("pitch.") for k in changed)  # the predictor and nothing else
    assert new["extra"]["pitch_refit"] == {"source": "in.pt", "steps": 40, "gta_fraction": 0.5}
    assert isinstance(load_waveglow(out), CompactWaveGlow)

    def refused(*args) -> str:
        assert run_fit_pitch("--out", tmp_path / "x.pt", "--corpus", corpus_with_excitation, "--quiet", *args) == 2
        err = capsys.readouterr().err
        assert err.startswith("error: ") and err.count("\n") == 1
        return err

    assert "no such file" in refused("--checkpoint", tmp_path / "missing.pt")
    plain = save_waveglow(CompactWaveGlow(CompactWaveGlowConfig(**{**PULSE_TINY.to_dict(), "pulse_excitation": False})),
                          tmp_path / "plain.pt")
    assert "not a compact WaveGlow with a pitch predictor" in refused("--checkpoint", plain, "--gta-fraction", "0",
                                                                      "--keep-out", "3")
    assert "GTA mel folder not found" in refused("--checkpoint", source, "--mels", tmp_path / "nowhere")
    assert "--keep-out 64 are needed" in refused("--checkpoint", source, "--gta-fraction", "0")

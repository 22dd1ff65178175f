"""The compact WaveGlow (SqueezeWave-style): invertibility, log-determinants, the centred mel
interpolation, config round trip, its own checkpoint format, and the training step."""
import math

import pytest
import torch

from tts.core.audio import mel_spectrogram
from vocoder import (
    VOCODERS,
    CompactWaveGlow,
    CompactWaveGlowConfig,
    Denoiser,
    WaveGlowLoss,
    load_waveglow,
    save_waveglow,
)
from vocoder.waveglow.compact import GatedTanh, count_macs_per_sample, upsample_frames

TINY = CompactWaveGlowConfig(n_flows=4, n_group=64, n_early_every=2, n_early_size=8, wn_n_layers=2,
                             wn_n_channels=16, wn_dilation_cycle=2)


def tiny_compact(seed: int = 0, config: CompactWaveGlowConfig = TINY) -> CompactWaveGlow:
    """Random weights with the zero-initialised `end` layers randomised, so no coupling is the identity."""
    torch.manual_seed(seed)
    model = CompactWaveGlow(config)
    with torch.no_grad():
        for wn in model.WN:
            wn.end.weight.normal_(0, 0.05)
            wn.end.bias.normal_(0, 0.05)
    return model


def latent_as_noise(model: CompactWaveGlow, z: torch.Tensor) -> list[torch.Tensor]:
    """Cut the training pass's z [B, T, g] (early outputs first) into `draw_noise`'s order."""
    cfg = model.config
    early = [k for k in range(cfg.n_flows) if cfg.is_early_output(k)]
    parts = list(z.split([cfg.n_early_size] * len(early) + [z.shape[2] - cfg.n_early_size * len(early)], dim=2))
    return [parts[-1]] + parts[:-1][::-1]


def test_default_size_is_squeezewave_128s():
    cfg = CompactWaveGlowConfig()
    model = CompactWaveGlow(cfg)
    assert sum(p.numel() for p in model.parameters()) == pytest.approx(7.18e6, rel=0.01)
    assert count_macs_per_sample(cfg) == pytest.approx(47e3, rel=0.02)  # SqueezeWave's notebook: ~47 k
    assert cfg.flow_channels() == [128, 128, 112, 112, 96, 96, 80, 80, 64, 64, 48, 48]


def test_config_round_trip_and_validation():
    assert CompactWaveGlowConfig.from_dict(TINY.to_dict()) == TINY
    assert TINY.dilations() == [1, 2]
    with pytest.raises(ValueError, match="unknown"):
        CompactWaveGlowConfig.from_dict({"n_group": 64, "upsample": True})
    with pytest.raises(ValueError, match="even"):
        CompactWaveGlowConfig(n_group=63)
    with pytest.raises(ValueError, match="no channels"):
        CompactWaveGlowConfig(n_group=32, n_early_size=16, n_early_every=1, n_flows=4)
    with pytest.raises(ValueError, match="divide the hop"):
        CompactWaveGlow(CompactWaveGlowConfig(n_group=96, n_early_size=8))


@pytest.mark.parametrize("prepared", [False, True])
def test_infer_inverts_the_training_pass(prepared):
    model = tiny_compact()
    mel = torch.randn(2, 80, 9) - 4
    audio = 0.1 * torch.randn(2, 8 * 256)
    with torch.no_grad():
        z, _, _ = model(mel, audio)
        if prepared:
            model.prepare_for_inference()
        audio_back = model.infer_from_noise(mel, latent_as_noise(model, z), sigma=1.0)
    assert audio_back.shape == audio.shape
    assert (audio_back - audio).abs().max() < 1e-5


def test_sigma_zero_is_deterministic_and_seed_leaves_global_rng():
    model = tiny_compact().prepare_for_inference()
    mel = torch.randn(1, 80, 6) - 4
    a = model.synthesize(mel, sigma=0.0, seed=1)
    b = model.synthesize(mel, sigma=0.0, seed=2)
    assert torch.equal(a, b)
    torch.manual_seed(5)
    before = torch.rand(1)
    torch.manual_seed(5)
    c = model.synthesize(mel, sigma=0.6, seed=3)
    assert torch.equal(torch.rand(1), before)
    assert torch.equal(c, model.synthesize(mel, sigma=0.6, seed=3))
    assert c.shape == (1, 6 * 256)


def test_log_determinant_matches_autograd_jacobian():
    """log p(x) of the flow = log N(z) + sum log s + sum log|det W| must equal the exact Jacobian's."""
    cfg = CompactWaveGlowConfig(n_flows=2, n_group=4, n_early_every=4, n_early_size=0, wn_n_layers=1,
                                wn_n_channels=4, n_mel_channels=80)
    model = tiny_compact(config=cfg).double()
    model.hop = 8  # two flow steps per "frame": a small exact Jacobian (32 samples)
    mel = torch.randn(1, 80, 4, dtype=torch.float64)
    x = 0.1 * torch.randn(1, 32, dtype=torch.float64)

    def flow(v):
        return model(mel, v[None])[0].reshape(-1)

    jac = torch.autograd.functional.jacobian(flow, x[0])
    _, log_s, log_det_w = model(mel, x)
    total = float((sum(s.sum() for s in log_s) + sum(log_det_w)).detach())
    assert total == pytest.approx(float(torch.linalg.slogdet(jac)[1]), abs=1e-8)


def test_upsampling_puts_each_step_at_its_samples_centre():
    cond = torch.tensor([[[0.0], [4.0], [8.0]]])  # [B=1, frames=3, C=1]
    out = upsample_frames(cond, steps=4, hop=256, group=128)[0, :, 0]
    # steps centred on samples 64, 192, 320, 448: frame positions 0.25, 0.75, 1.25, 1.75
    assert out.tolist() == pytest.approx([1.0, 3.0, 5.0, 7.0])
    held = upsample_frames(cond[:, :2], steps=4, hop=256, group=128)[0, :, 0]
    assert held.tolist() == pytest.approx([1.0, 3.0, 4.0, 4.0])  # no frame after the last: held
    with pytest.raises(ValueError, match="cannot condition"):
        upsample_frames(cond, steps=8, hop=256, group=128)


def test_gated_tanh_gradient():
    x = torch.randn(2, 5, 8, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda v: GatedTanh.apply(v, 4), (x,))
    y = torch.randn(3, 4, 6)
    expected = torch.tanh(y[..., :3]) * torch.sigmoid(y[..., 3:])
    assert torch.allclose(GatedTanh.apply(y, 3), expected, atol=1e-6)


def test_checkpoint_round_trip_and_registry(tmp_path):
    model = tiny_compact()
    path = save_waveglow(model, tmp_path / "compact.pt", {"step": 7})
    loaded = load_waveglow(path)
    assert isinstance(loaded, CompactWaveGlow) and loaded.inference_ready
    assert loaded.config == TINY
    mel = torch.randn(1, 80, 5) - 4
    reference = model.prepare_for_inference().synthesize(mel, sigma=0.6, seed=0)
    assert torch.allclose(loaded.synthesize(mel, sigma=0.6, seed=0), reference, atol=1e-6)
    through_registry = VOCODERS.load("waveglow", path)
    assert isinstance(through_registry, CompactWaveGlow)
    with pytest.raises(ValueError, match="compact"):
        load_waveglow(path, quantize="int8")
    # the denoiser works with it (bias from an all-zero mel at sigma 0)
    out = Denoiser(loaded)(loaded(mel, sigma=0.6, seed=0)[0], strength=0.05)
    assert out.shape == (5 * 256,) and torch.isfinite(out).all()


def test_average_is_the_mean_of_the_stored_weights_ready_for_inference(tmp_path):
    from vocoder.waveglow.checkpoint import average_waveglow

    models = [tiny_compact(seed) for seed in (1, 2, 3)]
    paths = [save_waveglow(m, tmp_path / f"step{i}.pt") for i, m in enumerate(models)]
    states = [m.state_dict() for m in models]  # weight norm as stored: (g, v)
    expected = CompactWaveGlow(TINY)
    expected.load_state_dict({k: sum(s[k] for s in states) / 3 for k in states[0]})
    expected.prepare_for_inference()
    averaged = average_waveglow(paths)
    assert isinstance(averaged, CompactWaveGlow) and averaged.inference_ready
    mel = torch.randn(1, 80, 6) - 4
    torch.testing.assert_close(averaged.synthesize(mel, sigma=0.0, seed=0), expected.synthesize(mel, sigma=0.0, seed=0))
    torch.testing.assert_close(average_waveglow(paths[1:2]).synthesize(mel, sigma=0.0, seed=0),
                               load_waveglow(paths[1]).synthesize(mel, sigma=0.0, seed=0))
    other = save_waveglow(tiny_compact(4, CompactWaveGlowConfig(**{**TINY.to_dict(), "n_flows": 2})), tmp_path / "o.pt")
    with pytest.raises(ValueError, match="only checkpoints of one run can be averaged"):
        average_waveglow([paths[0], other])
    with pytest.raises(ValueError, match="at least one"):
        average_waveglow([])


def test_remove_weightnorm_and_infer_names():
    model = tiny_compact()
    mel = torch.randn(1, 80, 4) - 4
    before = model.synthesize(mel, sigma=0.0, seed=0)
    assert CompactWaveGlow.remove_weightnorm(model) is model and model.inference_ready
    assert torch.allclose(model.synthesize(mel, sigma=0.0, seed=0), before, atol=1e-5)
    torch.manual_seed(0)
    a = model.infer(mel, sigma=0.5)
    torch.manual_seed(0)
    assert torch.equal(a, model.infer(mel, sigma=0.5))


def test_training_step_lowers_the_loss_on_one_batch():
    torch.manual_seed(0)
    model = CompactWaveGlow(TINY)
    t = torch.arange(4096) / 22050
    audio = torch.stack([0.3 * torch.sin(2 * math.pi * f * t) for f in (150.0, 220.0)])
    mel = mel_spectrogram(audio)
    assert mel.shape[2] == 4096 // 256 + 1
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    losses = []
    for _ in range(15):
        loss = WaveGlowLoss(1.0)(model(mel, audio))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(float(loss.detach()))
    assert losses[-1] < losses[0] - 0.5

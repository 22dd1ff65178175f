"""WaveGlow: NVIDIA's parameter layout, exact invertibility and log-determinants, noise order,
seeding, and agreement of the fast inference paths (folded, bf16, chunked) with the plain one."""
import json
import math
from pathlib import Path

import pytest
import torch

from vocoder import VOCODERS, WaveGlow, WaveGlowConfig, WaveGlowLoss
from vocoder.waveglow import accelerate

REFERENCE = Path(__file__).resolve().parents[2] / "shared" / "reference"
TINY = WaveGlowConfig(n_flows=4, n_group=8, n_early_every=2, n_early_size=2, wn_n_layers=2, wn_n_channels=16, wn_kernel_size=3)


def tiny_waveglow(seed: int = 0, config: WaveGlowConfig = TINY) -> WaveGlow:
    """A small WaveGlow whose zero-initialised `end` convs are randomised, so the couplings are not the identity."""
    torch.manual_seed(seed)
    model = WaveGlow(config)
    with torch.no_grad():
        for wn in model.WN:
            wn.end.weight.normal_(0, 0.05)
            wn.end.bias.normal_(0, 0.05)
        model.upsample.weight.mul_(3.0)
    return model


def speechlike_mel(frames: int, batch: int = 1, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.randn(batch, 80, frames, generator=g) - 5.0


@pytest.mark.skipif(not (REFERENCE / "waveglow_full_keys.json").exists(), reason="reference key list not available")
def test_full_size_state_dict_matches_nvidia_keys_and_shapes():
    reference = json.loads((REFERENCE / "waveglow_full_keys.json").read_text())
    model = WaveGlow()
    state = model.state_dict()
    assert list(state) == list(reference)  # same keys, same order
    assert {k: list(v.shape) for k, v in state.items()} == reference
    assert sum(v.numel() for v in state.values()) == 87_879_272
    # inference mode keeps the same checkpoint layout
    model.prepare_for_inference()
    assert {k: list(v.shape) for k, v in model.state_dict().items()} == reference


def test_config_dict_forms():
    config = WaveGlowConfig(wn_n_channels=512)
    assert WaveGlowConfig.from_dict(config.to_dict()) == config
    dle = {"n_mel_channels": 80, "n_flows": 12, "n_group": 8, "n_early_every": 4, "n_early_size": 2,
           "WN_config": {"n_layers": 8, "kernel_size": 3, "n_channels": 512}}
    assert WaveGlowConfig.from_dict(dle) == config
    assert WaveGlowConfig().flow_channels() == [8] * 4 + [6] * 4 + [4] * 4
    with pytest.raises(ValueError, match="unknown"):
        WaveGlowConfig.from_dict({"n_flow": 12})
    with pytest.raises(ValueError):
        WaveGlowConfig(n_group=7)
    with pytest.raises(ValueError):
        WaveGlowConfig(n_group=4, n_early_size=2, n_early_every=1)


def test_flow_inverts_training_forward_exactly():
    """Running the flows backwards on the z that the training pass produced gives the audio back."""
    model = tiny_waveglow(1)
    mel = speechlike_mel(6)
    audio = 0.3 * torch.randn(1, 6 * 256)
    with torch.no_grad():
        z, _, _ = model(mel, audio)
    assert z.shape == (1, 8, 6 * 256 // 8)
    # z = [early(k=2) 2ch, remaining 6ch]... for TINY: channels 8,8,6,6 -> z = [2 early, 6 final]
    noise = [z[:, 2:], z[:, :2]]  # inference order: final channels first, then the early outputs walking down
    with torch.no_grad():
        restored = model._infer(mel, noise, sigma=1.0)
    assert torch.allclose(restored, audio, atol=1e-5)


def test_loss_is_the_flow_negative_log_likelihood():
    """(sum z^2/2 - log|det dz/dx|) / numel, with the log-determinant checked against autograd."""
    torch.manual_seed(0)
    config = WaveGlowConfig(n_flows=2, n_group=4, n_early_every=1, n_early_size=0, wn_n_layers=2, wn_n_channels=8)
    model = tiny_waveglow(2, config).double()
    mel = speechlike_mel(1).double()
    x = 0.3 * torch.randn(1, 16, dtype=torch.float64)

    def z_of(x_flat):
        return model(mel, x_flat.reshape(1, 16))[0].reshape(-1)

    z, log_s, log_det_W = model(mel, x)
    jacobian = torch.autograd.functional.jacobian(z_of, x.reshape(-1))
    log_det = torch.linalg.slogdet(jacobian)[1]
    expected = (0.5 * (z * z).sum() - log_det) / z.numel()
    loss = WaveGlowLoss(sigma=1.0)((z, log_s, log_det_W))
    assert torch.allclose(loss, expected, atol=1e-9)
    sigma = 0.7
    loss_sigma = WaveGlowLoss(sigma=sigma)((z, log_s, log_det_W))
    assert torch.allclose(loss_sigma, ((z * z).sum() / (2 * sigma**2) - log_det) / z.numel(), atol=1e-9)


def test_noise_order_and_shapes_follow_the_reference():
    model = WaveGlow()  # 12 flows, early outputs before flows 4 and 8
    noise = model.draw_noise(2, 32 * 5, torch.device("cpu"))
    assert [tuple(z.shape) for z in noise] == [(2, 4, 160), (2, 2, 160), (2, 2, 160)]
    torch.manual_seed(7)
    expected = [torch.randn(2, 4, 160), torch.randn(2, 2, 160), torch.randn(2, 2, 160)]
    torch.manual_seed(7)
    again = model.draw_noise(2, 160, torch.device("cpu"))
    assert all(torch.equal(a, b) for a, b in zip(expected, again))


def test_seed_reproduces_global_seed_and_leaves_rng_untouched():
    model = tiny_waveglow(3).prepare_for_inference()
    mel = speechlike_mel(5)
    torch.manual_seed(11)
    expected = model.synthesize(mel, sigma=0.6)
    state = torch.get_rng_state()
    seeded = model.synthesize(mel, sigma=0.6, seed=11)
    assert torch.equal(state, torch.get_rng_state())
    assert torch.equal(seeded, expected)
    assert not torch.equal(model.synthesize(mel, sigma=0.6, seed=12), expected)
    assert seeded.shape == (1, 5 * 256) and seeded.dtype == torch.float32


def test_sigma_zero_is_deterministic_and_batch_independent():
    model = tiny_waveglow(4).prepare_for_inference()
    mel = speechlike_mel(7, batch=2)
    a = model.synthesize(mel, sigma=0.0)
    b = model.synthesize(mel, sigma=0.0)
    assert torch.equal(a, b)
    single = model.synthesize(mel[1:], sigma=0.0)
    assert torch.allclose(a[1:], single, atol=1e-6)
    with pytest.raises(ValueError):
        model.synthesize(mel, sigma=-1.0)


def test_prepared_and_accelerated_paths_equal_plain_reference_path():
    """Folded weight norm + cached float64 inverses (+ the packed WNs of `accelerate`, with and without
    Winograd) == weight norm and fp32 inverse per call."""
    plain = tiny_waveglow(5)
    plain.eval()
    prepared = tiny_waveglow(5).prepare_for_inference()
    assert prepared.wn_runner is None
    fast = accelerate(tiny_waveglow(5))
    no_winograd = accelerate(tiny_waveglow(5), winograd=False)
    assert fast.wn_runner is not None and fast.quantize is None
    mel = speechlike_mel(9, batch=2)
    for sigma in (0.0, 0.8):
        a = plain.synthesize(mel, sigma=sigma, seed=1)
        for model in (prepared, fast, no_winograd):
            b = model.synthesize(mel, sigma=sigma, seed=1)
            assert (a - b).abs().max() < 1e-5, sigma


def test_bfloat16_path_close_to_fp32_and_keeps_convinv_fp32():
    fp32 = accelerate(tiny_waveglow(6))
    bf16 = accelerate(tiny_waveglow(6)).to(torch.bfloat16)
    assert all(c.conv.weight.dtype == torch.float32 for c in bf16.convinv)
    assert bf16.WN[0].in_layers[0].weight.dtype == torch.bfloat16
    mel = speechlike_mel(9)
    a = fp32.synthesize(mel, sigma=0.0)
    b = bf16.synthesize(mel, sigma=0.0)
    assert b.dtype == torch.float32
    snr = 10 * math.log10(a.pow(2).sum() / (a - b).pow(2).sum())
    assert snr > 30, snr  # measured 47.6 dB on this tiny model (38.8 dB on full-size WaveGlow-256)


def test_chunked_equals_unchunked():
    """With overlap beyond the tiny model's receptive field, chunking changes nothing but rounding."""
    model = accelerate(tiny_waveglow(7))
    mel = speechlike_mel(30, batch=2)
    whole = model.synthesize(mel, sigma=0.7, seed=5)
    for chunk, overlap in [(8, 6), (13, 8), (29, 4)]:
        chunked = model.synthesize(mel, sigma=0.7, seed=5, chunk_frames=chunk, overlap_frames=overlap)
        assert chunked.shape == whole.shape
        assert (chunked - whole).abs().max() < 1e-5, (chunk, overlap)
    with pytest.raises(ValueError):
        model.synthesize(mel, chunk_frames=4, overlap_frames=8)


def test_train_mode_restores_weight_norm():
    model = tiny_waveglow(8)
    keys = list(model.state_dict())
    mel = speechlike_mel(4)
    before = model.synthesize(mel, sigma=0.0)
    model.prepare_for_inference()
    assert not model.training and model.WN[0].start.folded
    model.train()
    assert model.training and not model.WN[0].start.folded
    assert list(model.state_dict()) == keys
    assert any(n.endswith("weight_g") for n, p in model.named_parameters() if p.requires_grad)
    assert torch.allclose(model.synthesize(mel, sigma=0.0), before, atol=1e-5)


def test_vocoder_interface():
    model = tiny_waveglow(9).prepare_for_inference()
    mel = speechlike_mel(3)
    audio = model(mel, sigma=0.0)
    assert audio.shape == (1, 3 * 256) and audio.dtype == torch.float32
    assert audio.abs().max() <= 1.0
    assert model(mel[0], sigma=0.0).shape == (1, 768)
    with pytest.raises(ValueError):
        model(torch.zeros(1, 40, 3))
    assert "waveglow" in VOCODERS.names() and VOCODERS.get("waveglow").needs_weights


def random_folded_wn(seed: int, steps: int, n_in: int = 3, n_cond: int = 24, n_layers: int = 7, channels: int = 16):
    """A WN with every parameter perturbed (the zero-initialised `end` too), its output on random
    audio/conditioning of `steps` time steps, then weight norm folded: (wn, audio [n_in, T],
    spect [n_cond, T], expected [2 n_in, T])."""
    from vocoder.waveglow import WN

    torch.manual_seed(seed)
    wn = WN(n_in_channels=n_in, n_cond_channels=n_cond, n_layers=n_layers, n_channels=channels, kernel_size=3)
    with torch.no_grad():
        for p in wn.parameters():
            p.add_(0.1 * torch.randn_like(p))
        audio, spect = torch.randn(1, n_in, steps), torch.randn(1, n_cond, steps)
        expected = wn(audio, spect)[0]
        for module in wn.modules():
            if hasattr(module, "fold"):
                module.fold()
    return wn, audio[0], spect[0], expected


@pytest.mark.parametrize("steps", [1, 5, 40, 130])
def test_packed_wn_equals_wn_module_including_edges(steps):
    """The packed inference WN (folded skip/end and start, in-place GEMM taps) == WN.forward, also
    when the input is shorter than the dilation (taps entirely in the zero padding)."""
    from vocoder.waveglow.packed import PackedWN

    wn, audio, spect, expected = random_folded_wn(steps, steps)
    with torch.no_grad():
        for winograd in (False, True):
            packed = PackedWN(wn, winograd=winograd)(audio, spect)
            assert torch.allclose(packed, expected, atol=1e-5), (winograd, (packed - expected).abs().max())

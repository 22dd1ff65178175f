"""FloWaveNet: invertibility, log-determinant, ActNorm initialisation, sampling, training, checkpoints."""
import math

import pytest
import torch

from tts.core.audio import AudioSettings, mel_spectrogram
from tts.core.serialization import CheckpointError
from vocoder.flowavenet import (
    ActNorm,
    FloWaveNet,
    FloWaveNetConfig,
    ZeroConv1d,
    load_flowavenet,
    save_flowavenet,
    squeeze,
    swap_halves,
    unsqueeze,
)

HOP = 256


def tiny(**overrides) -> FloWaveNetConfig:
    values = dict(n_blocks=3, n_flows=3, n_layers=2, channels=8, block_per_split=2, prior_layers=1)
    values.update(overrides)
    return FloWaveNetConfig(**values)


def lively(model: FloWaveNet, seed: int = 0) -> FloWaveNet:
    """Non-identity couplings (zero-initialised output convs get weights) and non-trivial ActNorms."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, ZeroConv1d):
                for p in (m.conv.weight, m.conv.bias, m.scale):
                    p.copy_(torch.randn(p.shape, generator=gen, dtype=p.dtype) * 0.1)
            elif isinstance(m, ActNorm):
                m.loc.copy_(torch.randn(m.loc.shape, generator=gen, dtype=m.loc.dtype) * 0.3)
                m.log_scale.copy_(torch.randn(m.log_scale.shape, generator=gen, dtype=m.loc.dtype) * 0.3)
                m.initialized.fill_(True)
    return model


def toy_pair(frames: int = 2, batch: int = 2, dtype=torch.float32, seed: int = 0):
    gen = torch.Generator().manual_seed(seed)
    mel = (torch.randn(batch, 80, frames, generator=gen) * 2 - 6).to(dtype)
    audio = (torch.randn(batch, frames * HOP, generator=gen) * 0.3).to(dtype)
    return mel, audio


def invert(model: FloWaveNet, mel: torch.Tensor, zs: list[torch.Tensor]) -> torch.Tensor:
    """x from the latents `encode` returned, through the blocks' reverse passes."""
    conds = model.block_conditions(model.conditioning(mel))
    x, split_parts = zs[-1], list(zs[:-1])
    for k in reversed(range(model.config.n_blocks)):
        block, (cond, parity) = model.blocks[k], conds[k]
        eps = None
        if block.prior is not None:
            mean, log_sd = block._prior(x, cond, parity)
            eps = (split_parts.pop() - mean) * torch.exp(-log_sd)
        x = block.reverse(x, cond, parity, eps)
    return x.squeeze(1)


# --------------------------------------------------------------------------- pieces


def test_squeeze_layout_and_inverse():
    x = torch.arange(8.0).view(1, 1, 8)
    s = squeeze(x)
    assert s[0].tolist() == [[0, 2, 4, 6], [1, 3, 5, 7]]  # channel 2c + p = samples 2t + p
    y = torch.randn(2, 3, 16)
    assert torch.equal(unsqueeze(squeeze(y)), y)
    with pytest.raises(ValueError):
        squeeze(torch.zeros(1, 1, 5))


def test_actnorm_data_dependent_initialisation():
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(4, 3, 500, generator=gen) * torch.tensor([0.5, 2.0, 7.0]).view(1, 3, 1) + torch.tensor([3.0, -1.0, 0.2]).view(1, 3, 1)
    norm = ActNorm(3)
    norm.eval()
    y, _ = norm(x)
    assert not bool(norm.initialized) and torch.equal(y, x)  # eval mode never initialises
    norm.train()
    y, logdet = norm(x)
    assert bool(norm.initialized)
    per_channel = y.transpose(0, 1).reshape(3, -1)
    assert torch.allclose(per_channel.mean(1), torch.zeros(3), atol=1e-5)
    assert torch.allclose(per_channel.std(1), torch.ones(3), atol=1e-4)
    assert torch.allclose(logdet, torch.full((4,), -500 * float(torch.log(per_channel.new_tensor([0.5, 2.0, 7.0])).sum())), rtol=0.05)
    loc = norm.loc.clone()
    norm(x * 10 + 5)  # later batches train the parameters, they do not re-initialise them
    assert torch.equal(norm.loc, loc)
    assert torch.allclose(norm.reverse(y), x, atol=1e-5)


def test_whole_model_initialises_every_actnorm_on_the_first_training_batch():
    model = FloWaveNet(tiny())
    mel, audio = toy_pair()
    assert not model.actnorm_initialized
    model.eval()
    model.loss_terms(mel, audio)
    assert not model.actnorm_initialized
    model.initialize_actnorm(mel, audio)
    assert model.actnorm_initialized and not model.training
    first = model.blocks[0].flows[0].actnorm  # its input is the squeezed audio: zero mean, unit variance out
    y, _ = first(squeeze(audio.unsqueeze(1)))
    assert torch.allclose(y.mean(dim=(0, 2)), torch.zeros(2), atol=1e-5)
    assert torch.allclose(y.transpose(0, 1).reshape(2, -1).std(1), torch.ones(2), atol=1e-4)


def test_config_validation_and_published_size():
    assert FloWaveNetConfig.from_dict(tiny().to_dict()) == tiny()
    with pytest.raises(ValueError, match="2\\^n_blocks"):
        FloWaveNetConfig(n_blocks=9)
    with pytest.raises(ValueError, match="multiply"):
        FloWaveNetConfig(upsample_scales=(16, 8))
    with pytest.raises(ValueError, match="unknown"):
        FloWaveNetConfig.from_dict({"n_block": 8})
    with torch.device("meta"):  # shapes only: the paper's 182.6 M parameters
        model = FloWaveNet(FloWaveNetConfig())
    assert round(sum(p.numel() for p in model.parameters()) / 1e6, 1) == 182.6
    assert FloWaveNetConfig().is_split(3) and not FloWaveNetConfig().is_split(7)


# --------------------------------------------------------------------------- flow properties


@pytest.mark.parametrize("half", [True, False])
def test_forward_then_inverse_reconstructs_the_audio(half):
    model = lively(FloWaveNet(tiny(half_conditioning=half, n_flows=3))).eval()
    mel, audio = toy_pair()
    with torch.no_grad():
        zs, _, _ = model.encode(mel, audio)
        assert [z.shape for z in zs] == [(2, 2, 128), (2, 4, 64)]  # split after block 2 of 3
        assert (invert(model, mel, zs) - audio).abs().max() < 1e-4


def test_half_conditioning_equals_the_authors_mel_swapping():
    """The authors' code swaps the mel's halves at every change of order and conditions each
    coupling on the first half; tracking the parity instead must give the same latents."""
    model = lively(FloWaveNet(tiny(n_flows=3))).eval()  # odd: the parity carries across blocks
    mel, audio = toy_pair()
    with torch.no_grad():
        cond, x, expected = model.conditioning(mel), audio.unsqueeze(1), []
        for block in model.blocks:
            x, cond = squeeze(x), squeeze(cond)
            for flow in block.flows:
                y, _ = flow.actnorm(x)
                y, _ = flow.coupling(y, cond.chunk(2, dim=1)[0])
                x, cond = swap_halves(y), swap_halves(cond)
            if block.prior is not None:
                x, z = x.chunk(2, dim=1)
                mean, log_sd = block.prior(x, cond).chunk(2, dim=1)
                expected.append((z - mean) * torch.exp(-log_sd))
        zs, _, _ = model.encode(mel, audio)
        conds = model.block_conditions(model.conditioning(mel))
        x_kept = model.blocks[2].reverse(zs[-1], *conds[2])  # block 1's kept half, back from the final latent
        mean, log_sd = model.blocks[1]._prior(x_kept, *conds[1])
    assert torch.allclose(zs[-1], x, atol=1e-6)
    assert torch.allclose((zs[0] - mean) * torch.exp(-log_sd), expected[0], atol=1e-5)


def test_logdet_equals_the_brute_force_jacobian():
    model = lively(FloWaveNet(tiny(n_blocks=2, n_flows=2, block_per_split=1, channels=4))).double().eval()
    mel, audio = toy_pair(frames=1, batch=1, dtype=torch.float64)

    def latents(x: torch.Tensor) -> torch.Tensor:
        zs, _, _ = model.encode(mel, x[None])
        return torch.cat([z.flatten() for z in zs])

    jacobian = torch.autograd.functional.jacobian(latents, audio[0], vectorize=True)
    assert jacobian.shape == (HOP, HOP)
    sign, logabsdet = torch.linalg.slogdet(jacobian)
    with torch.no_grad():
        _, _, logdet = model.encode(mel, audio)
    assert sign != 0
    assert float(logdet[0]) == pytest.approx(float(logabsdet), rel=1e-9, abs=1e-9)
    assert abs(float(logabsdet)) > 1.0  # a non-volume-preserving map was checked


def test_sampling_runs_the_flow_backwards_from_temperature_scaled_noise():
    """Encoding a sample gives back the noise it was drawn from: the final latent is the first
    draw × T, and the split part is the prior's mean + sd × (second draw × T)."""
    model = lively(FloWaveNet(tiny())).eval()
    mel, _ = toy_pair()
    audio = model.synthesize(mel, temperature=0.7, seed=5)
    assert audio.shape == (2, 2 * HOP)
    gen = torch.Generator().manual_seed(5)
    final = torch.randn(2, model.out_channels, 2 * HOP // 8, generator=gen) * 0.7
    eps = torch.randn(2, 2, 2 * HOP // 4, generator=gen) * 0.7
    with torch.no_grad():
        x, cond, parity = audio.unsqueeze(1), model.conditioning(mel), 0
        for block in model.blocks[:2]:  # block 1 (0-based) factors out half of its channels
            block_parity = parity
            x, cond, z, _, _ = block(x, cond, parity)
            parity = block.parity_after(parity)
        mean, log_sd = model.blocks[1]._prior(x, cond, block_parity)
        zs, _, _ = model.encode(mel, audio)
    assert (zs[-1] - final).abs().max() < 1e-4
    assert torch.equal(zs[0], z)
    assert ((z - mean) * torch.exp(-log_sd) - eps).abs().max() < 1e-3


def test_synthesize_shapes_temperature_and_seed():
    model = lively(FloWaveNet(tiny())).eval()
    mel, _ = toy_pair(frames=3)
    a = model(mel, temperature=0.8, seed=1)
    assert a.shape == (2, 3 * HOP) and a.dtype == torch.float32 and a.abs().max() <= 1
    assert torch.equal(a, model(mel, temperature=0.8, seed=1))
    assert not torch.equal(a, model(mel, temperature=0.8, seed=2))
    assert torch.equal(model(mel, temperature=0.0, seed=1), model(mel, temperature=0.0, seed=2))
    assert model(mel[0]).shape == (1, 3 * HOP)
    with pytest.raises(ValueError, match="temperature"):
        model(mel, temperature=-1.0)
    assert model.to(torch.float64)(mel, seed=1).dtype == torch.float32


# --------------------------------------------------------------------------- training


def test_adam_steps_lower_the_nll_on_a_toy_signal():
    torch.manual_seed(0)
    model = FloWaveNet(tiny()).train()
    t = torch.arange(3 * HOP) / 22050
    audio = torch.stack([0.3 * torch.sin(2 * math.pi * f * t) for f in (220.0, 330.0)])
    mel = mel_spectrogram(audio)  # T + 1 frames, as the trainer gives
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    losses = []
    for _ in range(15):
        terms = model(mel, audio)
        optimizer.zero_grad()
        terms["loss"].backward()
        optimizer.step()
        losses.append(float(terms["loss"].detach()))
    assert model.actnorm_initialized
    assert float(terms["bits_per_dim"].detach()) == pytest.approx(losses[-1] / math.log(2))
    assert max(losses[-3:]) < losses[0] - 0.5  # nats per sample
    assert model.training_loss(mel, audio).dim() == 0
    with pytest.raises(ValueError, match="does not match"):
        model.training_loss(mel, audio[:, :-1])


# --------------------------------------------------------------------------- checkpoints and settings


def test_checkpoint_round_trip(tmp_path):
    model = lively(FloWaveNet(tiny()))
    path = save_flowavenet(model, tmp_path / "f.pt", extra={"step": 3})
    loaded = load_flowavenet(path)
    assert loaded.config == model.config and loaded.audio == model.audio and not loaded.training
    for (k, a), (k2, b) in zip(model.state_dict().items(), loaded.state_dict().items()):
        assert k == k2 and torch.equal(a, b)
    mel, _ = toy_pair()
    assert torch.equal(model.eval()(mel, seed=3), loaded(mel, seed=3))
    assert load_flowavenet(path, dtype=torch.float64).blocks[0].flows[0].actnorm.loc.dtype == torch.float64


def test_checkpoint_errors(tmp_path):
    with pytest.raises(ValueError, match="never initialised"):
        save_flowavenet(FloWaveNet(tiny()), tmp_path / "raw.pt")
    with pytest.raises(CheckpointError, match="not found"):
        load_flowavenet(tmp_path / "missing.pt")
    (tmp_path / "bad.pt").write_bytes(b"PK\x03\x04 truncated")
    with pytest.raises(CheckpointError):
        load_flowavenet(tmp_path / "bad.pt")
    path = save_flowavenet(lively(FloWaveNet(tiny())), tmp_path / "f.pt")
    ckpt = torch.load(path, weights_only=True)
    ckpt["model"] = "wavernn"
    torch.save(ckpt, tmp_path / "other.pt")
    with pytest.raises(CheckpointError, match="expected a 'flowavenet'"):
        load_flowavenet(tmp_path / "other.pt")
    ckpt["model"] = "flowavenet"
    ckpt["config"]["channels"] = 16
    torch.save(ckpt, tmp_path / "mismatch.pt")
    with pytest.raises(CheckpointError, match="invalid FloWaveNet checkpoint"):
        load_flowavenet(tmp_path / "mismatch.pt")


def test_mel_settings_and_sample_rate():
    model = FloWaveNet(tiny())
    assert model.sample_rate == 22050 and model.name == "flowavenet"
    model.check_mel_settings(AudioSettings())
    with pytest.raises(ValueError, match="mel settings differ"):
        model.check_mel_settings(AudioSettings(mel_fmin=125.0))
    with pytest.raises(ValueError, match="does not match"):
        FloWaveNet(tiny(n_mel_channels=40))

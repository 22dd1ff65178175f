"""WaveRNN: 16-bit dual softmax, generation vs teacher forcing, folding, subscale order, pruning, checkpoints."""
import math

import pytest
import torch

from tts.core.audio import AudioSettings, mel_spectrogram
from tts.core.serialization import CheckpointError
from vocoder.wavernn import (
    WaveRNN,
    WaveRNNConfig,
    block_prune_mask,
    combine_16bit,
    crossfade_windows,
    fold_segments,
    load_wavernn,
    prune_schedule,
    save_wavernn,
    split_16bit,
    subscale_merge,
    subscale_schedule,
    subscale_split,
    unfold_segments,
)
from vocoder.wavernn.model import interpolate_frames
from vocoder.wavernn.sampling import torch_threads

HOP = 256


SUBSCALE = dict(subscale_factor=4, subscale_horizon=3, subscale_past=2, subscale_context_dims=8)


def tiny(**overrides) -> WaveRNNConfig:
    values = dict(rnn_dims=32, fc_dims=16, res_channels=16, res_blocks=1, aux_dims=8)
    values.update(overrides)
    return WaveRNNConfig(**values)


def lively(model: WaveRNN, seed: int = 0, std: float = 0.4) -> WaveRNN:
    """Random weights large enough that every input visibly moves the output distributions."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.randn(p.shape, generator=gen, dtype=p.dtype) * std)
    return model


def toy_mel(frames: int = 3, batch: int = 2, seed: int = 0, dtype=torch.float32) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed)
    return (torch.randn(batch, 80, frames, generator=gen) * 2 - 6).to(dtype)


def inverse_cdf(logits: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
    cdf = torch.softmax(logits, dim=-1).cumsum(dim=-1)
    return (cdf < u[..., None]).sum(dim=-1).clamp(max=255)


# --------------------------------------------------------------------------- representation


def test_16bit_split_and_combine_are_inverse():
    s = torch.arange(65536)
    coarse, fine = s // 256, s % 256
    audio = combine_16bit(coarse, fine)
    assert audio.min() == -1.0 and audio.max() == 32767 / 32768
    c2, f2 = split_16bit(audio)
    assert torch.equal(c2, coarse) and torch.equal(f2, fine)
    c, f = split_16bit(torch.tensor([-2.0, 0.0, 1.0]))  # clamped, never wrapped
    assert c.tolist() == [0, 128, 255] and f.tolist() == [0, 0, 255]


def test_config_validation_and_dict_round_trip():
    cfg = tiny(prune_target=0.5, **SUBSCALE)
    assert WaveRNNConfig.from_dict(cfg.to_dict()) == cfg
    with pytest.raises(ValueError, match="even"):
        tiny(rnn_dims=33)
    with pytest.raises(ValueError, match="prune_block"):
        tiny(prune_target=0.5, prune_block=(5, 1))
    with pytest.raises(ValueError, match="divide hop_length"):
        tiny(subscale_factor=3)
    with pytest.raises(ValueError, match="unknown"):
        WaveRNNConfig.from_dict({"rnn_dim": 3})
    with pytest.raises(ValueError, match="does not match"):
        WaveRNN(tiny(n_mel_channels=40))


# --------------------------------------------------------------------------- generation


@pytest.mark.parametrize("subscale", [False, True])
@pytest.mark.parametrize("batched", [True, False])
def test_generation_shapes_range_and_seed(subscale, batched):
    model = WaveRNN(tiny(**(SUBSCALE if subscale else {}))).eval()
    mel = toy_mel(frames=3)
    kw = dict(batched=batched, target=200, overlap=40)
    a = model(mel, seed=1, **kw)
    assert a.shape == (2, 3 * HOP) and a.dtype == torch.float32
    assert torch.isfinite(a).all() and a.abs().max() <= 1.0
    assert torch.equal(a, model(mel, seed=1, **kw))
    assert not torch.equal(a, model(mel, seed=2, **kw))
    assert model(mel[0], seed=1, **kw).shape == (1, 3 * HOP)  # [80, T] is accepted


def test_bad_generation_arguments():
    plain = WaveRNN(tiny()).eval()
    with pytest.raises(ValueError, match="subscale"):
        plain(toy_mel(), subscale=True)
    with pytest.raises(ValueError, match="temperature"):
        plain(toy_mel(), temperature=0.0)
    with pytest.raises(ValueError, match="expected a mel"):
        plain(torch.zeros(1, 40, 3))
    with pytest.raises(ValueError, match="target"):
        plain(toy_mel(), target=0)


def test_sample_loop_thread_count_is_restored():
    before = torch.get_num_threads()
    with torch_threads(before + 1):
        assert torch.get_num_threads() == before + 1
    assert torch.get_num_threads() == before
    with pytest.raises(RuntimeError, match="inside"), torch_threads(before + 1):
        raise RuntimeError("inside")
    assert torch.get_num_threads() == before
    model = WaveRNN(tiny()).eval()
    mel = toy_mel(frames=1, batch=1)
    assert torch.equal(model(mel, seed=5, threads=None), model(mel, seed=5, threads=before))
    with pytest.raises(ValueError, match="threads"):
        model(toy_mel(), threads=0)


@pytest.mark.parametrize("subscale", [False, True])
def test_generation_samples_what_teacher_forcing_predicts(subscale):
    """Every sample drawn by the fast loop is the inverse-CDF sample of the teacher-forced
    distribution at the same position, with the same uniform: loop == model (float64)."""
    model = lively(WaveRNN(tiny(**(SUBSCALE if subscale else {}))).double().eval())
    mel = toy_mel(frames=2, batch=1, dtype=torch.float64)
    with torch.inference_mode():
        audio = model.synthesize(mel, batched=False, seed=7)
        logits_c, logits_f, coarse, fine = model.teacher_forced_logits(mel, audio)
    u = torch.rand(1, 2 * HOP, 2, generator=torch.Generator().manual_seed(7), dtype=torch.float64)
    assert torch.equal(inverse_cdf(logits_c, u[..., 0]), coarse)
    assert torch.equal(inverse_cdf(logits_f, u[..., 1]), fine)
    assert coarse.unique().numel() > 20  # a non-degenerate distribution was sampled


@pytest.mark.parametrize("subscale", [False, True])
def test_torchscript_and_sparse_loops_match_eager_dense(subscale):
    cfg = tiny(prune_target=0.75, prune_start=0, prune_steps=1, **(SUBSCALE if subscale else {}))
    model = lively(WaveRNN(cfg)).double().eval()
    model.update_pruning(1, force=True)
    mel = toy_mel(dtype=torch.float64)
    kw = dict(seed=3, target=128, overlap=32)
    eager = model(mel, jit=False, sparse=False, **kw)
    assert torch.equal(eager, model(mel, jit=True, sparse=False, **kw))
    assert torch.equal(eager, model(mel, jit=True, sparse=True, **kw))


# --------------------------------------------------------------------------- folding


@pytest.mark.parametrize("target,overlap", [(100, 20), (128, 0), (7, 3), (1000, 50), (5000, 10), (1, 1)])
def test_fold_then_unfold_reconstructs_the_signal(target, overlap):
    x = torch.randn(2, 1000, dtype=torch.float64)
    segments = fold_segments(x, target, overlap)
    n = segments.shape[0] // 2
    assert segments.shape == (2 * n, target + 2 * overlap)
    assert n * (target + overlap) + overlap >= 1000 > (n - 1) * (target + overlap) + overlap or n == 1
    for k in range(n):  # segment k is the signal from k * (target + overlap) on
        start = k * (target + overlap)
        stop = min(1000, start + target + 2 * overlap)
        assert torch.equal(segments.view(2, n, -1)[:, k, : stop - start], x[:, start:stop])
    assert torch.allclose(unfold_segments(segments, 2, overlap, 1000), x, atol=1e-12)


def test_interpolation_hits_frame_centres_and_is_linear_between():
    frames = torch.randn(2, 5, 3, dtype=torch.float64)
    up = interpolate_frames(frames, 4)
    assert up.shape == (2, 20, 3)
    assert torch.equal(up[:, ::4], frames)  # frame f is centred on sample 4 f
    assert torch.allclose(up[:, 2], (frames[:, 0] + frames[:, 1]) / 2)
    assert torch.allclose(up[:, 17:], frames[:, 4:].expand(2, 3, 3))  # the last frame is held


def test_fold_keeps_feature_dimensions_and_rejects_bad_sizes():
    x = torch.randn(1, 50, 3)
    assert fold_segments(x, 10, 5).shape[1:] == (20, 3)
    with_next = fold_segments(x, 10, 5, extra=1)  # one step of right context per segment
    assert with_next.shape[1:] == (21, 3) and torch.equal(with_next[1, :20], fold_segments(x, 10, 5)[1])
    assert torch.equal(with_next[0, 20], x[0, 20])
    with pytest.raises(ValueError):
        fold_segments(x, 0, 5)
    with pytest.raises(ValueError):
        fold_segments(x, 10, -1)


def test_crossfade_windows_sum_to_one_after_a_silent_warmup():
    fade_in, fade_out = crossfade_windows(11, torch.float64)
    assert torch.allclose(fade_in + fade_out, torch.ones(11, dtype=torch.float64))
    assert torch.all(fade_in[:5] == 0) and torch.all(fade_in[5:] > 0) and torch.all(fade_in < 1)
    assert torch.all(torch.diff(fade_in) >= 0)


# --------------------------------------------------------------------------- subscale


def test_subscale_split_orders_samples_by_phase():
    x = torch.arange(16)[None]
    sub = subscale_split(x, 4)
    assert sub[0, 1].tolist() == [1, 5, 9, 13]
    assert torch.equal(subscale_merge(sub), x)
    with pytest.raises(ValueError):
        subscale_split(torch.zeros(1, 10), 4)


@pytest.mark.parametrize("factor,horizon,length", [(4, 3, 10), (8, 1, 5), (16, 16, 40)])
def test_subscale_schedule_respects_every_dependency(factor, horizon, length):
    step = subscale_schedule(factor, length, horizon)
    assert int(step.max()) + 1 == length + (factor - 1) * horizon  # L/S + (S-1) F steps in all
    for b in range(factor):
        assert step[b].unique().numel() == length  # one sample per sub-tensor and step
        for i in range(length):
            if i:
                assert step[b, i - 1] < step[b, i]  # own past
            visible = min(length, i + horizon)  # earlier sub-tensors up to i + F - 1
            if b:
                assert int(step[:b, :visible].max()) < int(step[b, i])


def test_subscale_parallel_generation_equals_sequential_order():
    """Staggered sub-tensors (L/S + (S-1)F steps) give exactly the samples of generating the
    sub-tensors one after another: the schedule never reads a sample before it exists."""
    model = lively(WaveRNN(tiny(**SUBSCALE))).double().eval()
    mel = toy_mel(dtype=torch.float64)
    kw = dict(seed=11, target=64, overlap=16)
    parallel = model(mel, **kw)
    assert torch.equal(parallel, model(mel, subscale=False, **kw))


@pytest.mark.parametrize("subscale", [False, True])
def test_teacher_forcing_sees_only_samples_generated_earlier(subscale):
    """Changing sample p may move only logits of samples generated after it (plus the fine logits
    at p, which see c_p): the masked input matrix and the subscale context window are causal with
    respect to the generation schedule. Subscale: earlier sub-tensors never see later ones, and
    the context path is live (the next sub-tensor moves inside its window before its own past)."""
    cfg = tiny(**(SUBSCALE if subscale else {}))
    model = lively(WaveRNN(cfg)).double().eval()
    mel = toy_mel(frames=1, batch=1, dtype=torch.float64)
    audio = torch.rand(1, HOP, generator=torch.Generator().manual_seed(0), dtype=torch.float64) * 1.6 - 0.8
    p = 101
    changed = audio.clone()
    changed[0, p] = -audio[0, p]
    with torch.no_grad():
        c0, f0, _, _ = model.teacher_forced_logits(mel, audio)
        c1, f1, _, _ = model.teacher_forced_logits(mel, changed)
    moved_c = (c0 - c1).abs().amax(-1)[0] > 1e-12
    moved_f = (f0 - f1).abs().amax(-1)[0] > 1e-12
    n = torch.arange(HOP)
    if subscale:
        s = cfg.subscale_factor
        step = subscale_merge(subscale_schedule(s, HOP // s, cfg.subscale_horizon)[None])[0]
        b, i = p % s, p // s
        assert not moved_c[n % s < b].any()
        first_seen = (n % s == b + 1) & (n // s == i - cfg.subscale_horizon + 1)  # window of (b+1, i-F+1) reaches i
        assert moved_c[first_seen].all()
    else:
        step = n
    later = step > step[p]
    assert not moved_c[~later].any()
    assert not moved_f[~(later | (n == p))].any()
    assert moved_f[p] and moved_c[later].any()


# --------------------------------------------------------------------------- pruning


def test_prune_schedule_is_zhu_gupta_cubic():
    kw = dict(target=0.9, start=100, steps=1000)
    assert prune_schedule(0, **kw) == 0.0 and prune_schedule(100, **kw) == 0.0
    assert prune_schedule(600, **kw) == pytest.approx(0.9 * (1 - 0.5**3))
    assert prune_schedule(1100, **kw) == pytest.approx(0.9) and prune_schedule(5000, **kw) == pytest.approx(0.9)
    values = [prune_schedule(t, **kw) for t in range(0, 1200, 50)]
    assert values == sorted(values)


def test_block_mask_prunes_the_smallest_blocks():
    w = torch.arange(1, 33, dtype=torch.float32).repeat(32, 1).t().contiguous()  # row r has magnitude r + 1
    mask = block_prune_mask(w, 0.5, (16, 1))
    assert mask[:16].sum() == 0 and mask[16:].sum() == 16 * 32
    mask = block_prune_mask(torch.randn(32, 32), 0.75, (4, 4))
    blocks = mask.reshape(8, 4, 8, 4).mean(dim=(1, 3))
    assert set(blocks.unique().tolist()) <= {0.0, 1.0} and blocks.mean() == 0.25


def test_pruning_hits_the_target_sparsity_at_the_schedule_end():
    cfg = tiny(prune_target=0.8, prune_block=(16, 1), prune_start=2, prune_steps=8, prune_every=2)
    model = WaveRNN(cfg)
    gen = torch.Generator().manual_seed(0)
    history = []
    for step in range(16):
        with torch.no_grad():  # stand-in for optimizer updates between mask updates
            model.gru.weight_hh_l0.add_(torch.randn(model.gru.weight_hh_l0.shape, generator=gen) * 0.05)
        model.update_pruning(step)
        history.append(model.sparsity)
    assert history[:2] == [0.0, 0.0]
    assert history == sorted(history)  # pruned blocks stay pruned
    hidden = cfg.rnn_dims
    n_blocks = hidden // 16 * hidden
    assert history[-1] == pytest.approx(math.floor(0.8 * n_blocks) / n_blocks)
    for gate in range(3):  # every gate matrix at the target, in whole 16x1 blocks
        m = model.prune_mask[gate * hidden : (gate + 1) * hidden]
        blocks = m.reshape(hidden // 16, 16, hidden).mean(dim=1)
        assert set(blocks.unique().tolist()) <= {0.0, 1.0}
        assert 1 - blocks.mean() == pytest.approx(math.floor(0.8 * n_blocks) / n_blocks)
    pruned = model.prune_mask == 0
    assert torch.all(model._gru_weights()["weight_hh_l0"][pruned] == 0)  # the forward pass never sees them
    model.update_pruning(16)  # a mask update also zeroes the stored weights
    assert torch.all(model.gru.weight_hh_l0[pruned] == 0)


# --------------------------------------------------------------------------- training


def toy_batch(frames: int = 3, batch: int = 2):
    t = torch.arange(frames * HOP) / 22050
    audio = torch.stack([0.1 * torch.sin(2 * math.pi * f * t) for f in (220.0, 330.0)[:batch]])
    return mel_spectrogram(audio), audio  # T + 1 frames, as the trainer gives


@pytest.mark.parametrize("overrides", [dict(prune_target=0.5, prune_start=0, prune_steps=10, prune_every=2), SUBSCALE])
def test_adam_steps_lower_the_loss_on_a_toy_signal(overrides):
    torch.manual_seed(0)
    model = WaveRNN(tiny(**overrides)).train()
    mel, audio = toy_batch()
    optimizer = torch.optim.Adam(model.parameters(), lr=2e-2)
    losses = []
    for _ in range(12):
        loss = model.training_loss(mel, audio)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(float(loss.detach()))
    assert losses[0] == pytest.approx(2 * math.log(256), rel=0.05)  # two near-uniform 256-way softmaxes
    assert max(losses[-2:]) < 0.85 * losses[0]
    assert int(model.train_step) == 12
    if model.config.prune_target:
        assert model.sparsity == pytest.approx(0.5)
        terms = model(mel, audio)
        assert set(terms) == {"loss", "coarse_nll", "fine_nll"}


def test_training_pair_is_checked():
    model = WaveRNN(tiny())
    mel, audio = toy_batch()
    with pytest.raises(ValueError, match="does not match"):
        model.training_loss(mel, audio[:, :-1])
    with pytest.raises(ValueError, match="expected mel"):
        model.training_loss(mel[:1], audio)


# --------------------------------------------------------------------------- checkpoints and settings


def test_checkpoint_round_trip(tmp_path):
    model = lively(WaveRNN(tiny(prune_target=0.5, **SUBSCALE)))
    model.train_step += 7
    path = save_wavernn(model, tmp_path / "wavernn.pt", extra={"note": "test"})
    loaded = load_wavernn(path)
    assert loaded.config == model.config and loaded.audio == model.audio and not loaded.training
    assert int(loaded.train_step) == 7
    for (k, a), (k2, b) in zip(model.state_dict().items(), loaded.state_dict().items()):
        assert k == k2 and torch.equal(a, b)
    mel = toy_mel()
    assert torch.equal(model.eval()(mel, seed=4, target=128, overlap=32), loaded(mel, seed=4, target=128, overlap=32))
    wide = load_wavernn(path, dtype=torch.float64)
    assert wide.O1.weight.dtype == torch.float64 and wide(mel, seed=4).dtype == torch.float32


def test_checkpoint_errors(tmp_path):
    with pytest.raises(CheckpointError, match="not found"):
        load_wavernn(tmp_path / "missing.pt")
    garbage = tmp_path / "garbage.pt"
    garbage.write_bytes(b"\x00not a checkpoint" * 10)
    with pytest.raises(CheckpointError):
        load_wavernn(garbage)
    plain = tmp_path / "plain.pt"
    torch.save({"state_dict": {}}, plain)
    with pytest.raises(CheckpointError, match="not a project checkpoint"):
        load_wavernn(plain)
    path = save_wavernn(WaveRNN(tiny()), tmp_path / "w.pt")
    ckpt = torch.load(path, weights_only=True)
    ckpt["model"] = "waveglow"
    torch.save(ckpt, tmp_path / "other.pt")
    with pytest.raises(CheckpointError, match="expected a 'wavernn'"):
        load_wavernn(tmp_path / "other.pt")
    ckpt["model"] = "wavernn"
    ckpt["config"]["rnn_dims"] = 64
    torch.save(ckpt, tmp_path / "mismatch.pt")
    with pytest.raises(CheckpointError, match="invalid WaveRNN checkpoint"):
        load_wavernn(tmp_path / "mismatch.pt")


def test_mel_settings_and_sample_rate():
    model = WaveRNN(tiny())
    assert model.sample_rate == 22050 and model.name == "wavernn"
    model.check_mel_settings(AudioSettings())
    with pytest.raises(ValueError, match="mel settings differ"):
        model.check_mel_settings(AudioSettings(mel_fmax=7600.0))


def test_bfloat16_weights_still_give_exact_16bit_audio():
    model = WaveRNN(tiny()).to(torch.bfloat16).eval()
    audio = model(toy_mel(frames=1, batch=1), seed=0)
    assert audio.dtype == torch.float32 and torch.isfinite(audio).all()
    assert torch.equal(audio, combine_16bit(*split_16bit(audio)))

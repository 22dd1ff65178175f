"""Tacotron 2 model: training contract, batched inference, stop rule, RNG order, fast loop."""
import warnings

import pytest
import torch
import torch.nn.functional as F

from tts.tacotron2 import Prenet, Tacotron2, Tacotron2Config
from tts.tacotron2.checks import attention_failure_reasons

TINY = dict(symbols_embedding_dim=16, encoder_embedding_dim=16, decoder_rnn_dim=24, attention_rnn_dim=20,
            prenet_dim=12, attention_dim=8, attention_location_n_filters=4, attention_location_kernel_size=5,
            postnet_embedding_dim=12, postnet_n_convolutions=3)


def tiny(seed: int = 0, **overrides) -> Tacotron2:
    torch.manual_seed(seed)
    return Tacotron2(Tacotron2Config(**{**TINY, **overrides})).eval()


def texts(lengths, seed=1):
    g = torch.Generator().manual_seed(seed)
    batch = torch.zeros(len(lengths), max(lengths), dtype=torch.long)
    for i, n in enumerate(lengths):
        batch[i, :n] = torch.randint(1, 148, (n,), generator=g)
    return batch, torch.tensor(lengths)


# -------------------------------------------------------------------------------------------------
# config
# -------------------------------------------------------------------------------------------------
def test_config_round_trip_and_validation():
    c = Tacotron2Config(**TINY, n_frames_per_step=2)
    assert Tacotron2Config.from_dict(c.to_dict()) == c
    with pytest.raises(ValueError, match="unknown Tacotron2Config entries"):
        Tacotron2Config.from_dict({**c.to_dict(), "gate_threshold": 0.5})
    assert Tacotron2Config.from_dict({**c.to_dict(), "gate_threshold": 0.5}, ignore_unknown=True) == c
    with pytest.raises(ValueError, match="n_frames_per_step"):
        Tacotron2Config(n_frames_per_step=0)
    with pytest.raises(ValueError, match="odd"):
        Tacotron2Config(encoder_kernel_size=4)
    with pytest.raises(ValueError, match="symbols_embedding_dim"):
        Tacotron2Config(symbols_embedding_dim=256)


# -------------------------------------------------------------------------------------------------
# teacher-forced forward (training contract)
# -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("r", [1, 2])
def test_forward_shapes_and_padding_mask(r):
    model = tiny(n_frames_per_step=r).train()
    text, text_lengths = texts([9, 6, 4])
    T_out = 8
    mels = torch.randn(3, 80, T_out)
    mel_lengths = torch.tensor([8, 5, 3])
    out = model(text, text_lengths, mels, mel_lengths)
    assert out.mel.shape == out.mel_postnet.shape == (3, 80, T_out)
    assert out.gate.shape == (3, T_out)
    assert out.alignments.shape == (3, T_out // r, 9)
    for b, n in enumerate(mel_lengths.tolist()):
        assert torch.all(out.mel[b, :, n:] == 0) and torch.all(out.mel_postnet[b, :, n:] == 0)
        assert torch.all(out.gate[b, n:] == 1e3) and torch.all(out.gate[b, :n].abs() < 1e3)
        assert torch.all(out.mel[b, :, :n] != 0)
    # attention is a distribution over each item's own text only
    assert torch.allclose(out.alignments.sum(-1), torch.ones(3, T_out // r), atol=1e-5)
    for b, n in enumerate(text_lengths.tolist()):
        assert torch.all(out.alignments[b, :, n:] == 0)
    (out.mel.sum() + out.mel_postnet.sum() + out.gate[out.gate < 1e3].sum()).backward()
    assert model.decoder.attention_rnn.weight_ih.grad is not None and model.embedding.weight.grad is not None


def test_forward_is_teacher_forced():
    """Frame t's prediction may depend on ground-truth frames < t only (r = 2: on earlier groups)."""
    model = tiny(n_frames_per_step=2)
    text, text_lengths = texts([7])
    mels = torch.randn(1, 80, 8)
    changed = mels.clone()
    changed[:, :, 4:] += 1.0  # groups 2 and 3
    kw = dict(text=text, text_lengths=text_lengths, mel_lengths=torch.tensor([8]))
    torch.manual_seed(0)
    a = model(mels=mels, **kw)
    torch.manual_seed(0)
    b = model(mels=changed, **kw)
    assert torch.equal(a.mel[:, :, :6], b.mel[:, :, :6])  # groups 0-2 read go frame, groups 0, 1
    assert not torch.equal(a.mel[:, :, 6:], b.mel[:, :, 6:])


def test_forward_rejects_bad_shapes():
    model = tiny(n_frames_per_step=2)
    text, lengths = texts([5])
    with pytest.raises(ValueError, match="multiple of n_frames_per_step"):
        model(text, lengths, torch.zeros(1, 80, 7), torch.tensor([7]))
    with pytest.raises(ValueError, match=r"\[B, 80, T_out\]"):
        model(text, lengths, torch.zeros(1, 40, 8), torch.tensor([8]))


# -------------------------------------------------------------------------------------------------
# inference
# -------------------------------------------------------------------------------------------------
def gate_probs_alone(model, text, n, steps):
    """sigmoid(gate) per frame for one item decoded alone, without stopping."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = model.infer(text[None, :n], prenet_dropout=0.0, gate_threshold=1.0, max_decoder_steps=steps)
    return torch.sigmoid(out.gate[0])


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("fast", [False, True])
def test_batched_inference_equals_one_by_one(fast):
    model = tiny(seed=3)
    lengths = [11, 4, 8]
    text, text_lengths = texts(lengths, seed=4)
    steps = 30
    # choose a threshold at which the three items stop at three different steps
    probs = [gate_probs_alone(model, text[b], n, steps) for b, n in enumerate(lengths)]

    def stops(th):
        return tuple(int((p > th).nonzero()[0]) + 1 if bool((p > th).any()) else steps for p in probs)

    candidates = sorted(torch.cat(probs).tolist())
    threshold = next((th for th in candidates if len(set(stops(th))) == 3 and max(stops(th)) < steps), None)
    assert threshold is not None, "test setup: no threshold separates the items"
    kw = dict(prenet_dropout=0.0, gate_threshold=threshold, max_decoder_steps=steps, fast=fast)
    batch = model.infer(text, text_lengths, **kw)
    assert batch.mel_lengths.tolist() == list(stops(threshold))
    assert batch.mel.shape == (3, 80, max(stops(threshold)))
    assert not batch.reached_max_steps.any()
    silence = model.audio.silence_level
    for b, n in enumerate(lengths):
        alone = model.infer(text[b : b + 1, :n], **kw)
        T = int(alone.mel_lengths[0])
        assert T == int(batch.mel_lengths[b])
        torch.testing.assert_close(batch.mel[b, :, :T], alone.mel[0], atol=2e-5, rtol=1e-4)
        torch.testing.assert_close(batch.gate[b, :T], alone.gate[0], atol=2e-5, rtol=1e-4)
        torch.testing.assert_close(batch.alignments[b, :T, :n], alone.alignments[0], atol=2e-5, rtol=1e-4)
        assert torch.all(batch.alignments[b, :, n:] == 0)  # never attends to padding
        assert torch.all(batch.mel[b, :, T:] == silence)
        assert torch.all(batch.alignments[b, T:] == 0)


def test_padded_single_item_equals_unpadded():
    model = tiny()
    text, _ = texts([6])
    padded = torch.cat([text, torch.zeros(1, 4, dtype=torch.long)], 1)
    kw = dict(prenet_dropout=0.0, gate_threshold=1.0, max_decoder_steps=6)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a = model.infer(text, **kw)
        b = model.infer(padded, torch.tensor([6]), **kw)
    assert torch.equal(a.mel, b.mel) and b.alignments.shape == (1, 6, 6)


def test_stop_after_first_step_keeps_the_stop_frame():
    model = tiny()
    with torch.no_grad():
        model.decoder.gate_layer.linear_layer.bias.fill_(100.0)
    text, lengths = texts([7, 3])
    out = model.infer(text, lengths)
    assert out.mel_lengths.tolist() == [1, 1]
    assert out.mel.shape == (2, 80, 1)
    assert not out.reached_max_steps.any()
    assert torch.all(torch.sigmoid(out.gate) > 0.5)


@pytest.mark.parametrize("r", [1, 2])
def test_never_stopping_sets_flag_and_warns(r):
    model = tiny(n_frames_per_step=r)
    with torch.no_grad():
        model.decoder.gate_layer.linear_layer.bias.fill_(-100.0)
    text, lengths = texts([5, 3])
    with pytest.warns(RuntimeWarning, match=r"item\(s\) \[0, 1\] reached max_decoder_steps=7"):
        out = model.infer(text, lengths, max_decoder_steps=7)
    assert out.reached_max_steps.tolist() == [True, True]
    assert out.mel_lengths.tolist() == [7 * r, 7 * r]
    assert out.mel.shape == (2, 80, 7 * r) and out.alignments.shape == (2, 7, 5)


def test_only_the_item_that_never_stops_is_flagged():
    model = tiny(seed=5)
    text, lengths = texts([9, 7], seed=6)
    probs = [gate_probs_alone(model, text[b], n, 20) for b, n in enumerate(lengths.tolist())]
    if probs[0].max() < probs[1].max():  # item 0 must be the one whose gate goes higher
        text, lengths, probs = text.flip(0), lengths.flip(0), probs[::-1]
    above = probs[0][probs[0] > probs[1].max()]
    assert above.numel(), "test setup: item 0's gate never exceeds item 1's"
    th = (float(probs[1].max()) + float(above.min())) / 2  # item 1 never exceeds this, item 0 does
    with pytest.warns(RuntimeWarning, match=r"item\(s\) \[1\]"):
        out = model.infer(text, lengths, prenet_dropout=0.0, gate_threshold=th, max_decoder_steps=20)
    assert out.reached_max_steps.tolist() == [False, True]
    assert int(out.mel_lengths[0]) == int((probs[0] > th).nonzero()[0]) + 1
    assert int(out.mel_lengths[1]) == 20


def test_r2_inference_shapes_and_stop_inside_group():
    model = tiny(n_frames_per_step=2)
    with torch.no_grad():  # frame 0 of each group never stops, frame 1 always does
        model.decoder.gate_layer.linear_layer.bias.copy_(torch.tensor([-100.0, 100.0]))
    text, lengths = texts([6, 4])
    out = model.infer(text, lengths)
    assert out.mel_lengths.tolist() == [2, 2] and out.mel.shape == (2, 80, 2) and out.alignments.shape == (2, 1, 6)
    with torch.no_grad():
        model.decoder.gate_layer.linear_layer.bias.copy_(torch.tensor([100.0, -100.0]))
    out = model.infer(text, lengths)
    assert out.mel_lengths.tolist() == [1, 1] and out.mel.shape == (2, 80, 1)


def test_input_validation():
    model = tiny()
    with pytest.raises(ValueError, match="symbol ids"):
        model.infer(torch.tensor([[1, 500]]))
    with pytest.raises(ValueError, match="text_lengths"):
        model.infer(torch.tensor([[1, 2]]), torch.tensor([3]))
    with pytest.raises(ValueError, match="prenet_dropout"):
        model.infer(torch.tensor([[1, 2]]), prenet_dropout=1.0)
    with pytest.raises(ValueError, match="non-empty"):
        model.infer(torch.zeros(1, 0, dtype=torch.long))


# -------------------------------------------------------------------------------------------------
# randomness: prenet dropout at inference, seeds, RNG order
# -------------------------------------------------------------------------------------------------
def test_seed_reproducible_and_global_rng_untouched():
    model = tiny()
    text, _ = texts([8])
    kw = dict(gate_threshold=1.0, max_decoder_steps=10)
    torch.manual_seed(123)
    before = torch.get_rng_state()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a = model.infer(text, seed=7, **kw)
        b = model.infer(text, seed=7, **kw)
        c = model.infer(text, seed=8, **kw)
        assert torch.equal(torch.get_rng_state(), before)
        torch.manual_seed(7)
        d = model.infer(text, **kw)  # caller-seeded global RNG = seed argument
        e = model.infer(text, prenet_dropout=0.0, **kw)
    assert torch.equal(a.mel, b.mel) and torch.equal(a.mel, d.mel)
    assert not torch.allclose(a.mel, c.mel)
    assert not torch.allclose(a.mel, e.mel)  # dropout is on by default


def test_prenet_draws_like_f_dropout_layer_by_layer():
    prenet = Prenet(80, [12, 12])
    x = torch.randn(3, 80)
    torch.manual_seed(11)
    ours = prenet(x, 0.5)
    torch.manual_seed(11)
    ref = x
    for layer in prenet.layers:  # the reference's Prenet.forward
        ref = F.dropout(F.relu(ref @ layer.linear_layer.weight.T), p=0.5, training=True)
    assert torch.equal(ours, ref)
    assert torch.equal(prenet(x, 0.0), F.relu(F.relu(x @ prenet.layers[0].linear_layer.weight.T)
                                             @ prenet.layers[1].linear_layer.weight.T))


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("fast", [False, True])
def test_inference_rng_order_matches_reference_loop(fast):
    """With the caller seeding the global RNG, infer draws per step: prenet layer 1 mask, layer 2 mask."""
    model = tiny(seed=2)
    text, _ = texts([7])
    steps = 9
    torch.manual_seed(42)
    out = model.infer(text, gate_threshold=1.0, max_decoder_steps=steps, fast=fast)

    torch.manual_seed(42)
    dec = model.decoder
    with torch.no_grad():
        memory = model.encode(text, None)
        processed = dec.attention_layer.memory_layer(memory)
        state = dec.initial_state(memory)
        frame = torch.zeros(1, 80)
        frames = []
        for _ in range(steps):
            x = frame
            for layer in dec.prenet.layers:
                x = F.dropout(F.relu(layer(x)), p=0.5, training=True)
            frame, _, state = dec.decode(x, state, memory, processed, None)
            frames.append(frame)
        mel = torch.stack(frames, 2)
        mel = mel + model.postnet(mel)
    torch.testing.assert_close(out.mel, mel, atol=1e-5, rtol=1e-4)


# -------------------------------------------------------------------------------------------------
# fast loop
# -------------------------------------------------------------------------------------------------
@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("r", [1, 3])
def test_fast_loop_equals_plain_loop(r):
    model = tiny(seed=4, n_frames_per_step=r)
    text, lengths = texts([10, 6], seed=9)
    for dropout in (0.0, 0.5):
        kw = dict(prenet_dropout=dropout, seed=3, gate_threshold=0.6, max_decoder_steps=25)
        plain = model.infer(text, lengths, fast=False, **kw)
        fast = model.infer(text, lengths, fast=True, **kw)
        assert torch.equal(plain.mel_lengths, fast.mel_lengths)
        torch.testing.assert_close(fast.mel, plain.mel, atol=5e-5, rtol=1e-4)
        torch.testing.assert_close(fast.gate, plain.gate, atol=5e-5, rtol=1e-4)
        torch.testing.assert_close(fast.alignments, plain.alignments, atol=5e-5, rtol=1e-4)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_fast_loop_follows_weight_changes():
    """The fused weights are cached on the model; changing a parameter must rebuild them."""
    model = tiny(seed=4)
    text, _ = texts([8])
    kw = dict(prenet_dropout=0.0, gate_threshold=1.0, max_decoder_steps=6)
    before = model.infer(text, **kw).mel
    with torch.no_grad():
        model.decoder.decoder_rnn.weight_hh.mul_(1.5)
    after = model.infer(text, **kw).mel
    assert not torch.allclose(before, after)
    torch.testing.assert_close(after, model.infer(text, fast=False, **kw).mel, atol=5e-5, rtol=1e-4)
    model.load_state_dict(tiny(seed=5).state_dict())
    torch.testing.assert_close(model.infer(text, **kw).mel, model.infer(text, fast=False, **kw).mel,
                               atol=5e-5, rtol=1e-4)


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
def test_gemv_packed_and_fallback_paths_agree(monkeypatch, dtype):
    from tts.tacotron2.fast import GEMV as _GEMV

    g = torch.Generator().manual_seed(0)
    weight, bias = torch.randn(64, 40, generator=g), torch.randn(64, generator=g)
    x = torch.randn(3, 40, generator=g).to(dtype)
    want = torch.addmm(bias.to(dtype), x, weight.to(dtype).t()).float()
    tol = dict(atol=1e-4, rtol=1e-4) if dtype == torch.float32 else dict(atol=0.1, rtol=2e-2)
    packed = _GEMV(weight, bias, dtype)
    if dtype == torch.float32 and torch.backends.mkldnn.is_available():
        assert packed.packed is not None  # the fast layout is really used where oneDNN exists
    torch.testing.assert_close(packed(x).float(), want, **tol)

    def unavailable(*args, **kwargs):
        raise RuntimeError("no oneDNN")

    monkeypatch.setattr(torch.ops.mkldnn, "_reorder_linear_weight", unavailable)
    fallback = _GEMV(weight, bias, dtype)
    assert fallback.packed is None
    torch.testing.assert_close(fallback(x).float(), want, atol=0, rtol=0)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_bfloat16_loop_is_close_to_float32():
    model = tiny(seed=4)
    text, _ = texts([10])
    kw = dict(prenet_dropout=0.0, gate_threshold=1.0, max_decoder_steps=15)
    ref = model.infer(text, fast=False, **kw).mel
    bf = model.infer(text, dtype=torch.bfloat16, **kw).mel
    assert bf.dtype == torch.float32 and bf.shape == ref.shape
    assert (bf - ref).abs().mean() < 0.05 * ref.abs().mean()


# -------------------------------------------------------------------------------------------------
# attention failure heuristic
# -------------------------------------------------------------------------------------------------
def alignment_from_positions(positions, L):
    a = torch.full((len(positions), L), 0.02)
    a[torch.arange(len(positions)), torch.tensor(positions)] = 1.0
    return a / a.sum(1, keepdim=True)


def test_attention_failure_heuristic_on_synthetic_alignments():
    L = 40
    good = [min(L - 1, t // 5) for t in range(215)]  # 5 frames per symbol, a short tail at the end
    assert attention_failure_reasons(alignment_from_positions(good, L), L) == []
    # r = 2: half the steps, same heuristic in frames
    assert attention_failure_reasons(alignment_from_positions(good[::2], L), L, frames_per_step=2) == []

    cut_short = good[:100]  # decoder stopped at symbol 19 of 40
    assert any("did not reach the end" in s for s in attention_failure_reasons(alignment_from_positions(cut_short, L), L))

    repeat = good[:150] + [min(L - 1, t // 5) for t in range(60, 300)]  # jumps from 29 back to 12
    assert any("jumped back" in s for s in attention_failure_reasons(alignment_from_positions(repeat, L), L))

    stuck = good[:50] + [10] * 150 + good[50:]
    assert any("stalled" in s for s in attention_failure_reasons(alignment_from_positions(stuck, L), L))

    skip = good[:60] + [min(L - 1, t // 5) for t in range(120, 215)]  # 11 -> 24
    assert any("skipped ahead" in s for s in attention_failure_reasons(alignment_from_positions(skip, L), L))

    diffuse = torch.softmax(0.1 * torch.randn(215, L), 1)
    diffuse[torch.arange(215), torch.tensor(good)] += 0.05
    assert any("diffuse" in s for s in attention_failure_reasons(diffuse / diffuse.sum(1, keepdim=True), L))

    babble = good + [L - 1] * 200  # reached the end, then kept going for 200 frames
    assert any("kept talking" in s for s in attention_failure_reasons(alignment_from_positions(babble, L), L))

    assert attention_failure_reasons(torch.zeros(0, L), L) == ["no frames"]

    # the first decoder step attends from a zero context and may peak anywhere: not a failure
    stray_start = [33] + good[1:]
    assert attention_failure_reasons(alignment_from_positions(stray_start, L), L) == []
    # ... but a jump a few steps in still is
    late_skip = good[:3] + [33] + good[4:]
    assert any("skipped ahead" in s for s in attention_failure_reasons(alignment_from_positions(late_skip, L), L))


def test_infer_flags_failed_attention():
    model = tiny()  # untrained: attention does not move through the text
    text, _ = texts([30])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = model.infer(text, prenet_dropout=0.0, gate_threshold=1.0, max_decoder_steps=40)
    assert out.attention_failed.tolist() == [True] and out.failure_reasons[0]


# -------------------------------------------------------------------------------------------------
# training loop: the backprop-friendly teacher forcing equals the reference's step-by-step loop
# -------------------------------------------------------------------------------------------------
def _forward_backward(model, loop_name, batch, seed, precision=None):
    """loop_name: "stepwise" (the reference's loop) or "for_backprop" (tts.tacotron2.fast's)."""
    import tts.tacotron2.model
    from tts.tacotron2.fast import teacher_forced_for_backprop

    loops = {"stepwise": lambda decoder, *args: decoder._teacher_forced_stepwise(*args),
             "for_backprop": teacher_forced_for_backprop}
    text, text_lengths, mels, mel_lengths = batch
    model.zero_grad(set_to_none=True)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(tts.tacotron2.model, "teacher_forced_for_backprop", loops[loop_name])
        torch.manual_seed(seed)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=precision == "bf16"):
            out = model(text, text_lengths, mels, mel_lengths)
            valid = out.gate < 1e3
            loss = (out.mel.float().pow(2).mean() + out.mel_postnet.float().pow(2).mean()
                    + out.gate.float()[valid].sigmoid().mean() + (out.alignments.float() * torch.rand_like(out.alignments.float())).sum())
        loss.backward()
    grads = {n: p.grad.clone() for n, p in model.named_parameters()}
    return out, grads


@pytest.mark.parametrize("r", [1, 2])
def test_backprop_loop_equals_stepwise_loop_with_gradients(r):
    model = tiny(n_frames_per_step=r).train()
    text, text_lengths = texts([9, 6, 4])
    T_out = 12
    batch = (text, text_lengths, torch.randn(3, 80, T_out), torch.tensor([12, 10, 6]))
    ref, ref_grads = _forward_backward(model, "stepwise", batch, seed=3)
    new, new_grads = _forward_backward(model, "for_backprop", batch, seed=3)
    for a, b in zip(ref, new):  # same dropout draws in the same order -> same outputs
        torch.testing.assert_close(b, a, rtol=1e-4, atol=2e-5)
    for name, g in ref_grads.items():
        torch.testing.assert_close(new_grads[name], g, rtol=1e-3, atol=2e-5, msg=name)
    assert ref_grads["decoder.attention_rnn.weight_hh"].abs().sum() > 0


def test_backprop_loop_under_bf16_autocast_is_close_and_gradients_are_float32():
    model = tiny(n_frames_per_step=2).train()
    text, text_lengths = texts([9, 5])
    batch = (text, text_lengths, torch.randn(2, 80, 10), torch.tensor([10, 8]))
    _, ref_grads = _forward_backward(model, "stepwise", batch, seed=5, precision="bf16")
    _, new_grads = _forward_backward(model, "for_backprop", batch, seed=5, precision="bf16")
    for name in ("decoder.attention_rnn.weight_hh", "decoder.decoder_rnn.weight_ih", "decoder.linear_projection.linear_layer.weight"):
        a, b = ref_grads[name], new_grads[name]
        assert b.dtype == torch.float32
        cos = F.cosine_similarity(a.flatten(), b.flatten(), dim=0)
        assert cos > 0.98, (name, cos)


def test_eval_and_no_grad_forward_use_the_reference_loop(monkeypatch):
    """Validation (eval) and no-grad teacher forcing keep NVIDIA's step-by-step computation."""
    import tts.tacotron2.model
    from tts.tacotron2.fast import teacher_forced_for_backprop

    model = tiny(n_frames_per_step=1)
    text, text_lengths = texts([7])
    calls = []

    def spy(decoder, *args):
        calls.append(1)
        return teacher_forced_for_backprop(decoder, *args)

    monkeypatch.setattr(tts.tacotron2.model, "teacher_forced_for_backprop", spy)
    model(text, text_lengths, torch.randn(1, 80, 6), torch.tensor([6]))
    model.train()
    with torch.no_grad():
        model(text, text_lengths, torch.randn(1, 80, 6), torch.tensor([6]))
    assert not calls
    model(text, text_lengths, torch.randn(1, 80, 6), torch.tensor([6]))
    assert calls

"""NVIDIA's API names on the project's models give NVIDIA's results: `WaveGlow.infer(spect, sigma=1.0)`,
`WaveGlow.remove_weightnorm(model)`, `Tacotron2.inference(inputs)` (NVIDIA's 4-tuple) and DLE's
`Tacotron2.infer(inputs, input_lengths)` unpacking.

The references below restate NVIDIA's algorithms (NVIDIA/waveglow `glow.py` `WaveGlow.infer`,
NVIDIA/tacotron2 `model.py` `Tacotron2.inference`, as described in shared/reference/NVIDIA_FORMATS.md §5,
§7) with plain tensor operations on NVIDIA's state_dict layout, sharing no code with the models: weight
norm as g * v / ||v||, LSTM cells written out, the random numbers drawn in NVIDIA's order (prenet
dropout masks per step; WaveGlow's noise with `randn`, which equals `FloatTensor.normal_()` on CPU).
Fixtures: random weights of the tiny configurations, and full-size DeepLearningExamples files (fp16,
`module.` prefixes, per-layer conditioning) read through the project's loaders.
"""
from __future__ import annotations

import inspect
import warnings

import pytest
import torch
import torch.nn.functional as F

from tts.tacotron2 import Tacotron2, Tacotron2Config, load_tacotron2
from vocoder import WaveGlow, WaveGlowConfig, load_waveglow

TOL = dict(atol=1e-5, rtol=1e-5)
TINY_WAVEGLOW = WaveGlowConfig(n_flows=4, n_group=8, n_early_every=2, n_early_size=2, wn_n_layers=3, wn_n_channels=8)
TINY_TACOTRON2 = dict(symbols_embedding_dim=16, encoder_embedding_dim=16, encoder_n_convolutions=2, decoder_rnn_dim=24,
                      attention_rnn_dim=20, prenet_dim=12, attention_dim=8, attention_location_n_filters=4,
                      attention_location_kernel_size=5, postnet_embedding_dim=12, postnet_n_convolutions=3,
                      encoder_kernel_size=3, postnet_kernel_size=3)


# ------------------------------------------------------------------------------------------ WaveGlow
def reference_waveglow_infer(sd: dict, cfg: WaveGlowConfig, spect: torch.Tensor, sigma: float = 1.0) -> torch.Tensor:
    """NVIDIA's `WaveGlow.infer(spect, sigma)` on a fused-layout (g, v) state_dict."""
    g = cfg.n_group

    def weight(prefix):
        v, gain = sd[prefix + ".weight_v"].float(), sd[prefix + ".weight_g"].float()
        return gain * v / v.norm(dim=(1, 2), keepdim=True)

    def wn(k, audio, cond_in):
        C, p = cfg.wn_n_channels, f"WN.{k}."
        h = F.conv1d(audio, weight(p + "start"), sd[p + "start.bias"].float())
        cond = F.conv1d(cond_in, weight(p + "cond_layer"), sd[p + "cond_layer.bias"].float())
        out = 0
        for i in range(cfg.wn_n_layers):
            d = 2 ** i
            x = F.conv1d(h, weight(f"{p}in_layers.{i}"), sd[f"{p}in_layers.{i}.bias"].float(), dilation=d,
                         padding=(cfg.wn_kernel_size * d - d) // 2) + cond[:, 2 * C * i: 2 * C * (i + 1)]
            acts = torch.tanh(x[:, :C]) * torch.sigmoid(x[:, C:])
            rs = F.conv1d(acts, weight(f"{p}res_skip_layers.{i}"), sd[f"{p}res_skip_layers.{i}.bias"].float())
            if i < cfg.wn_n_layers - 1:
                h = h + rs[:, :C]
                out = out + rs[:, C:]
            else:
                out = out + rs
        return F.conv1d(out, sd[p + "end.weight"].float(), sd[p + "end.bias"].float())

    up = F.conv_transpose1d(spect, sd["upsample.weight"].float(), sd["upsample.bias"].float(), stride=256)
    up = up[:, :, :-(1024 - 256)]
    B = up.size(0)
    up = up.unfold(2, g, g).permute(0, 2, 1, 3).contiguous().view(B, up.size(2) // g, -1).permute(0, 2, 1)
    audio = sigma * torch.randn(B, cfg.n_remaining_channels, up.size(2))
    for k in reversed(range(cfg.n_flows)):
        n_half = audio.size(1) // 2
        a0, a1 = audio[:, :n_half], audio[:, n_half:]
        out = wn(k, a0, up)
        s, b = out[:, n_half:], out[:, :n_half]
        audio = torch.cat([a0, (a1 - b) / torch.exp(s)], 1)
        W = sd[f"convinv.{k}.conv.weight"].squeeze().float()
        audio = F.conv1d(audio, W.inverse()[..., None])
        if k % cfg.n_early_every == 0 and k > 0:
            audio = torch.cat((sigma * torch.randn(B, cfg.n_early_size, up.size(2)), audio), 1)
    return audio.permute(0, 2, 1).contiguous().view(B, -1)


def random_waveglow(config: WaveGlowConfig = TINY_WAVEGLOW, seed: int = 0) -> WaveGlow:
    torch.manual_seed(seed)
    model = WaveGlow(config)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.05 * torch.randn_like(p))  # every tensor non-trivial, the zero-initialised `end` included
    return model


MEL = torch.randn(2, 80, 6, generator=torch.Generator().manual_seed(1)) - 4


def test_waveglow_infer_is_nvidias_infer_default_sigma_one():
    assert inspect.signature(WaveGlow.infer).parameters["sigma"].default == 1.0
    model = random_waveglow()
    sd = {k: v.clone() for k, v in model.state_dict().items()}
    for sigma in (None, 0.6, 0.0):
        kwargs = {} if sigma is None else {"sigma": sigma}
        torch.manual_seed(5)
        expected = reference_waveglow_infer(sd, TINY_WAVEGLOW, MEL, **kwargs)
        torch.manual_seed(5)
        got = model.infer(MEL, **kwargs)
        assert got.shape == (2, 6 * 256) and got.dtype == torch.float32
        torch.testing.assert_close(got, expected, **TOL)
        after_ours = torch.rand(3)  # the global RNG advanced by exactly NVIDIA's draws
        torch.manual_seed(5)
        reference_waveglow_infer(sd, TINY_WAVEGLOW, MEL, **kwargs)
        assert torch.equal(after_ours, torch.rand(3))


def test_remove_weightnorm_is_static_returns_the_model_and_keeps_the_output():
    model = random_waveglow(seed=1)
    sd = {k: v.clone() for k, v in model.state_dict().items()}
    assert isinstance(inspect.getattr_static(WaveGlow, "remove_weightnorm"), staticmethod)
    assert WaveGlow.remove_weightnorm(model) is model
    assert model.inference_ready and not model.training
    torch.manual_seed(2)
    expected = reference_waveglow_infer(sd, TINY_WAVEGLOW, MEL, sigma=0.666)
    torch.manual_seed(2)
    torch.testing.assert_close(model.infer(MEL, sigma=0.666), expected, **TOL)
    # NVIDIA's usage: `waveglow = waveglow.remove_weightnorm(waveglow)` on the instance
    assert model.remove_weightnorm(model) is model


def dle_waveglow_state(model: WaveGlow) -> dict:
    """DeepLearningExamples' layout: per-layer `cond_layers.i` (2C outputs each), fp16, `module.` prefixes."""
    C, L = model.config.wn_n_channels, model.config.wn_n_layers
    out = {}
    for key, value in model.state_dict().items():
        if ".cond_layer." in key:
            for i, part in enumerate(value.split(2 * C)):
                out["module." + key.replace(".cond_layer.", f".cond_layers.{i}.")] = part.half()
        else:
            out["module." + key] = value.half()
    assert sum(".cond_layers." in k for k in out) == 3 * L * model.config.n_flows
    return out


def test_full_size_dle_fp16_waveglow_file_infers_as_nvidia(tmp_path):
    config = WaveGlowConfig()  # 12 flows, 8 layers, 256 channels
    torch.manual_seed(3)
    model = WaveGlow(config)
    with torch.no_grad():  # couplings that are not the identity, audio in a speech-like range
        for wn in model.WN:
            wn.end.weight.normal_(0, 0.02)
            wn.end.bias.normal_(0, 0.02)
    path = tmp_path / "nvidia_waveglowpyt_fp16_20190427"
    dle_config = {"n_mel_channels": 80, "n_flows": 12, "n_group": 8, "n_early_every": 4, "n_early_size": 2,
                  "WN_config": {"n_layers": 8, "kernel_size": 3, "n_channels": 256}}
    torch.save({"epoch": 1000, "config": dle_config, "state_dict": dle_waveglow_state(model)}, path,
               _use_new_zipfile_serialization=False)
    loaded = WaveGlow.remove_weightnorm(load_waveglow(path))
    rounded = {k: v.half().float() for k, v in model.state_dict().items()}  # what the fp16 file holds
    mel = MEL[:1, :, :3]
    torch.manual_seed(9)
    expected = reference_waveglow_infer(rounded, config, mel, sigma=0.6)
    torch.manual_seed(9)
    torch.testing.assert_close(loaded.infer(mel, sigma=0.6), expected, **TOL)


# ------------------------------------------------------------------------------------------ Tacotron 2
def reference_tacotron2_inference(sd: dict, c: Tacotron2Config, inputs: torch.Tensor, max_decoder_steps: int,
                                  gate_threshold: float = 0.5):
    """NVIDIA's `Tacotron2.inference(inputs)` (batch of one, eval mode) on its state_dict."""
    sd = {k: v.float() if v.is_floating_point() else v for k, v in sd.items()}

    def conv_bn(x, p, k):
        x = F.conv1d(x, sd[p + ".0.conv.weight"], sd[p + ".0.conv.bias"], padding=(k - 1) // 2)
        return F.batch_norm(x, sd[p + ".1.running_mean"], sd[p + ".1.running_var"], sd[p + ".1.weight"],
                            sd[p + ".1.bias"], training=False, eps=1e-5)

    def lstm_cell(x, h, cell, p):
        gates = x @ sd[p + ".weight_ih"].T + sd[p + ".bias_ih"] + h @ sd[p + ".weight_hh"].T + sd[p + ".bias_hh"]
        i, f, g, o = gates.chunk(4, 1)
        cell = torch.sigmoid(f) * cell + torch.sigmoid(i) * torch.tanh(g)
        return torch.sigmoid(o) * torch.tanh(cell), cell

    def linear(x, p, bias=True):
        return F.linear(x, sd[p + ".linear_layer.weight"], sd[p + ".linear_layer.bias"] if bias else None)

    # encoder: convolutions (dropout off in eval), then a bidirectional LSTM over the whole text
    x = F.embedding(inputs, sd["embedding.weight"]).transpose(1, 2)
    for i in range(c.encoder_n_convolutions):
        x = F.relu(conv_bn(x, f"encoder.convolutions.{i}", c.encoder_kernel_size))
    x = x.transpose(1, 2)[0]  # [T_in, C]
    half = c.encoder_embedding_dim // 2
    directions = []
    for suffix, order in (("", range(x.size(0))), ("_reverse", reversed(range(x.size(0))))):
        h, cell, outs = torch.zeros(1, half), torch.zeros(1, half), {}
        p = "encoder.lstm"
        w = {n: sd[f"{p}.{n}_l0{suffix}"] for n in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")}
        for t in order:
            gates = x[t:t + 1] @ w["weight_ih"].T + w["bias_ih"] + h @ w["weight_hh"].T + w["bias_hh"]
            i, f, g, o = gates.chunk(4, 1)
            cell = torch.sigmoid(f) * cell + torch.sigmoid(i) * torch.tanh(g)
            h = torch.sigmoid(o) * torch.tanh(cell)
            outs[t] = h
        directions.append(torch.cat([outs[t] for t in range(x.size(0))]))
    memory = torch.cat(directions, 1)[None]  # [1, T_in, C]

    processed = linear(memory, "decoder.attention_layer.memory_layer", bias=False)
    T_in = memory.size(1)
    att_h = att_c = torch.zeros(1, c.attention_rnn_dim)
    dec_h = dec_c = torch.zeros(1, c.decoder_rnn_dim)
    weights = weights_cum = torch.zeros(1, T_in)
    context = torch.zeros(1, c.encoder_embedding_dim)
    frame = torch.zeros(1, c.n_mel_channels)
    mels, gates, alignments = [], [], []
    while True:
        x = frame
        for i in range(2):  # the prenet: dropout 0.5 always on
            x = F.dropout(F.relu(linear(x, f"decoder.prenet.layers.{i}", bias=False)), p=0.5, training=True)
        att_h, att_c = lstm_cell(torch.cat((x, context), -1), att_h, att_c, "decoder.attention_rnn")
        cat = torch.cat((weights[:, None], weights_cum[:, None]), 1)
        loc = F.conv1d(cat, sd["decoder.attention_layer.location_layer.location_conv.conv.weight"],
                       padding=(c.attention_location_kernel_size - 1) // 2)
        loc = linear(loc.transpose(1, 2), "decoder.attention_layer.location_layer.location_dense", bias=False)
        query = linear(att_h[:, None], "decoder.attention_layer.query_layer", bias=False)
        energies = linear(torch.tanh(query + loc + processed), "decoder.attention_layer.v", bias=False).squeeze(-1)
        weights = F.softmax(energies, dim=1)
        context = torch.bmm(weights[:, None], memory).squeeze(1)
        weights_cum = weights_cum + weights
        dec_h, dec_c = lstm_cell(torch.cat((att_h, context), -1), dec_h, dec_c, "decoder.decoder_rnn")
        h = torch.cat((dec_h, context), 1)
        frame = linear(h, "decoder.linear_projection")
        gate = linear(h, "decoder.gate_layer")
        mels.append(frame)
        gates.append(gate)
        alignments.append(weights)
        if torch.sigmoid(gate.data) > gate_threshold:
            break
        if len(mels) == max_decoder_steps:
            break
    mel = torch.stack(mels).transpose(0, 1).transpose(1, 2)  # [1, n_mel, T]
    post = mel
    for i in range(c.postnet_n_convolutions):
        post = conv_bn(post, f"postnet.convolutions.{i}", c.postnet_kernel_size)
        if i < c.postnet_n_convolutions - 1:
            post = torch.tanh(post)
    return mel, mel + post, torch.stack(gates).transpose(0, 1), torch.stack(alignments).transpose(0, 1)


def random_tacotron2(seed: int = 0, gate_bias: float | None = None, **dims) -> Tacotron2:
    torch.manual_seed(seed)
    model = Tacotron2(Tacotron2Config(**dims))
    with torch.no_grad():
        for name, buf in model.named_buffers():  # non-trivial batch-norm statistics
            if name.endswith("running_mean"):
                buf.normal_(0, 0.1)
            elif name.endswith("running_var"):
                buf.uniform_(0.5, 1.5)
        if gate_bias is not None:
            model.decoder.gate_layer.linear_layer.bias.fill_(gate_bias)
    return model.eval()


TEXT = torch.tensor([[5, 20, 40, 11, 60, 7, 9, 30, 44]])


@pytest.mark.parametrize("gate_bias, steps", [(None, 40), (-30.0, 12), (30.0, 12)])
def test_tacotron2_inference_is_nvidias_four_tuple(gate_bias, steps):
    model = random_tacotron2(seed=1, gate_bias=gate_bias, **TINY_TACOTRON2)
    sd = {k: v.clone() for k, v in model.state_dict().items()}
    torch.manual_seed(7)
    expected = reference_tacotron2_inference(sd, model.config, TEXT, max_decoder_steps=steps)
    torch.manual_seed(7)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        got = model.inference(TEXT, max_decoder_steps=steps)
    assert isinstance(got, tuple) and len(got) == 4
    mel, mel_postnet, gate, alignments = got
    T = expected[0].size(2)
    assert mel.shape == mel_postnet.shape == (1, 80, T)
    assert gate.shape == (1, T, 1) and alignments.shape == (1, T, TEXT.size(1))
    for ours, theirs in zip(got, expected):
        torch.testing.assert_close(ours, theirs, **TOL)
    if gate_bias == 30.0:
        assert T == 1  # the stop frame is kept
    if gate_bias == -30.0:
        assert T == steps and any("max_decoder_steps" in str(w.message) for w in caught)
    else:
        assert not caught
    # the RNG advanced exactly as NVIDIA's loop advances it
    torch.manual_seed(7)
    reference_tacotron2_inference(sd, model.config, TEXT, max_decoder_steps=steps)
    after_reference = torch.rand(2)
    torch.manual_seed(7)
    model.inference(TEXT, max_decoder_steps=steps)
    assert torch.equal(torch.rand(2), after_reference)


def test_tacotron2_inference_takes_one_text_and_1d_ids():
    model = random_tacotron2(seed=2, gate_bias=-30.0, **TINY_TACOTRON2)
    torch.manual_seed(0)
    a = model.inference(TEXT[0], max_decoder_steps=3)
    torch.manual_seed(0)
    b = model.inference(TEXT, max_decoder_steps=3)
    assert all(torch.equal(x, y) for x, y in zip(a, b))
    with pytest.raises(ValueError, match="batch of 1"):
        model.inference(TEXT.repeat(2, 1))


def test_full_size_dle_fp16_tacotron2_file_infers_as_nvidia(tmp_path):
    model = random_tacotron2(seed=4)  # NVIDIA's full-size hyper-parameters
    c = model.config
    dle_config = {**{k: v for k, v in c.to_dict().items()}, "mask_padding": False, "max_decoder_steps": 1000,
                  "gate_threshold": 0.5, "decoder_no_early_stopping": False}
    state = {"module." + k: (v.half() if v.is_floating_point() else v) for k, v in model.state_dict().items()}
    path = tmp_path / "nvidia_tacotron2pyt_fp16_20190427"
    torch.save({"epoch": 1500, "config": dle_config, "state_dict": state}, path, _use_new_zipfile_serialization=False)
    loaded = load_tacotron2(path)
    rounded = {k: (v.half().float() if v.is_floating_point() else v) for k, v in model.state_dict().items()}
    torch.manual_seed(3)
    expected = reference_tacotron2_inference(rounded, c, TEXT, max_decoder_steps=4)
    torch.manual_seed(3)
    got = loaded.inference(TEXT, max_decoder_steps=4)
    for ours, theirs in zip(got, expected):
        torch.testing.assert_close(ours, theirs, **TOL)


def test_infer_takes_dle_argument_order_and_unpacks_like_dle():
    model = random_tacotron2(seed=5, gate_bias=-30.0, **TINY_TACOTRON2)
    ids = torch.tensor([[5, 20, 40, 11, 60, 7], [9, 30, 44, 12, 0, 0]])
    lengths = torch.tensor([6, 4])
    kw = dict(max_decoder_steps=5, prenet_dropout=0.0, warn=False)
    out = model.infer(ids, lengths, **kw)  # DLE: infer(inputs, input_lengths)
    mel, mel_lengths, alignments = out  # DLE: `mel, _, _ = tacotron2.infer(sequences, lengths)`
    assert mel is out.mel and mel_lengths is out.mel_lengths and alignments is out.alignments
    assert mel.shape[:2] == (2, 80) and mel_lengths.tolist() == [5, 5]
    # each text of the padded batch comes out as it does alone (DLE masks the padding too)
    for b in range(2):
        alone = model.infer(ids[b:b + 1, : int(lengths[b])], **kw)
        torch.testing.assert_close(out.mel[b:b + 1], alone.mel, atol=1e-5, rtol=1e-5)

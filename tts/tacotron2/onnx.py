"""Tacotron 2 as three ONNX graphs, split as NVIDIA's DeepLearningExamples split it for TensorRT and
Triton (encoder, one decoder step, postnet), and a model that runs them with onnxruntime.

    export_tacotron2_onnx(model, "out")          # out/tacotron2_{encoder,decoder_iter,postnet}.onnx
                                                 # + out/tacotron2.json (config, audio, text settings)
    model = load_tacotron2("out", runtime="onnx")   # an `OnnxTacotron2`
    out = model.infer(ids, lengths, seed=0)      # a `Tacotron2Inference`, as `Tacotron2.infer` returns

Graphs (B items, T_in symbols, float32):
* `tacotron2_encoder`: text [B, T_in] int64, text_lengths [B] int64 -> memory [B, T_in, 512],
  processed_memory [B, T_in, 128] (the attention's memory projection, once per utterance). The
  bidirectional LSTM runs as two one-directional LSTMs, the backward one on each item's symbols
  reversed within its length, so padded batches need no packed sequences.
* `tacotron2_decoder_iter`: decoder_input [B, 80 r], prenet_mask_1, prenet_mask_2 [B, 256] (the
  prenet's dropout masks, 0 or 1 / (1 - p), drawn by the caller with torch's generator as `F.dropout`
  draws them, so that a seed gives PyTorch's output), the 7 recurrent states (attention_hidden,
  attention_cell, decoder_hidden, decoder_cell, attention_weights, attention_weights_cum,
  attention_context), memory, processed_memory, mask [B, T_in] bool (True = padding) ->
  decoder_output [B, 80 r], gate_prediction [B, r] and the 7 new states (names with an `out_` prefix).
* `tacotron2_postnet`: mel [B, 80, T], valid [B, 1, T] (1 on an item's frames) -> mel_postnet
  = mel + postnet(mel), each item seeing zeros past its end.

`OnnxTacotron2.infer` loops over decoder steps in Python with `Tacotron2.infer`'s stop rule, step
budget, seed semantics and failure checks. `quantize_tacotron2_onnx` writes onnxruntime's dynamic
int8 decoder step (`infer(..., dtype=torch.int8)` uses it). Needs the `[onnx]` extra.
"""
from __future__ import annotations

import json
import warnings
from pathlib import Path

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from tts.core.audio import AudioSettings
from tts.core.onnx import onnx_session
from tts.tacotron2.checks import StopTracker, attention_failure_reasons
from tts.tacotron2.model import Tacotron2, Tacotron2Config, Tacotron2Inference, lengths_to_mask

FORMAT = "tacoglow-onnx-tacotron2"
OPSET = 17
FILES = {"encoder": "tacotron2_encoder.onnx", "decoder_iter": "tacotron2_decoder_iter.onnx",
         "postnet": "tacotron2_postnet.onnx"}
STATES = ["attention_hidden", "attention_cell", "decoder_hidden", "decoder_cell", "attention_weights",
          "attention_weights_cum", "attention_context"]


class EncoderGraph(nn.Module):
    """`Tacotron2.encode` plus the memory projection, for export."""

    def __init__(self, model: Tacotron2):
        super().__init__()
        self.embedding, self.convolutions = model.embedding, model.encoder.convolutions
        self.memory_layer = model.decoder.attention_layer.memory_layer
        lstm = model.encoder.lstm
        self.forward_lstm = nn.LSTM(lstm.input_size, lstm.hidden_size, batch_first=True)
        self.backward_lstm = nn.LSTM(lstm.input_size, lstm.hidden_size, batch_first=True)
        with torch.no_grad():
            for name in ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"):
                getattr(self.forward_lstm, name).copy_(getattr(lstm, name))
                getattr(self.backward_lstm, name).copy_(getattr(lstm, name + "_reverse"))

    def forward(self, text: Tensor, text_lengths: Tensor) -> tuple[Tensor, Tensor]:
        x = self.embedding(text).transpose(1, 2)  # [B, C, T]
        positions = torch.arange(text.shape[1], device=text.device)[None, :]
        valid = positions < text_lengths[:, None]  # [B, T]
        for conv in self.convolutions:
            x = F.relu(conv(x * valid[:, None, :].to(x.dtype)))
        x = x.transpose(1, 2)  # [B, T, C]
        forward_out = self.forward_lstm(x)[0]
        # each item's valid symbols reversed in place (padding stays): an involution
        order = torch.where(valid, text_lengths[:, None] - 1 - positions, positions)
        reversed_x = torch.gather(x, 1, order[:, :, None].expand(-1, -1, x.shape[2]))
        backward_out = self.backward_lstm(reversed_x)[0]
        backward_out = torch.gather(backward_out, 1, order[:, :, None].expand(-1, -1, backward_out.shape[2]))
        memory = torch.cat((forward_out, backward_out), 2) * valid[:, :, None].to(x.dtype)
        return memory, self.memory_layer(memory)


def _lstm_cell(x: Tensor, h: Tensor, c: Tensor, cell: nn.LSTMCell) -> tuple[Tensor, Tensor]:
    gates = F.linear(x, cell.weight_ih, cell.bias_ih) + F.linear(h, cell.weight_hh, cell.bias_hh)
    i, f, g, o = gates.chunk(4, 1)
    c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
    return torch.sigmoid(o) * torch.tanh(c), c


class DecoderIterGraph(nn.Module):
    """`Decoder.decode` for one step (eval mode) with the prenet's dropout masks as inputs."""

    def __init__(self, model: Tacotron2):
        super().__init__()
        self.decoder = model.decoder

    def forward(self, decoder_input, prenet_mask_1, prenet_mask_2, attention_hidden, attention_cell, decoder_hidden,
                decoder_cell, attention_weights, attention_weights_cum, attention_context, memory, processed_memory,
                mask):
        d = self.decoder
        layers = d.prenet.layers
        x = F.relu(layers[0](decoder_input)) * prenet_mask_1
        x = F.relu(layers[1](x)) * prenet_mask_2
        att_h, att_c = _lstm_cell(torch.cat((x, attention_context), 1), attention_hidden, attention_cell, d.attention_rnn)
        att = d.attention_layer
        weights_cat = torch.stack((attention_weights, attention_weights_cum), 1)
        energies = att.v(torch.tanh(att.query_layer(att_h)[:, None, :] + att.location_layer(weights_cat)
                                    + processed_memory))[:, :, 0]
        energies = torch.where(mask, torch.full_like(energies, -float("inf")), energies)
        weights = torch.softmax(energies, 1)
        context = torch.bmm(weights[:, None, :], memory)[:, 0, :]
        dec_h, dec_c = _lstm_cell(torch.cat((att_h, context), 1), decoder_hidden, decoder_cell, d.decoder_rnn)
        h = torch.cat((dec_h, context), 1)
        return (d.linear_projection(h), d.gate_layer(h), att_h, att_c, dec_h, dec_c, weights,
                attention_weights_cum + weights, context)


class PostnetGraph(nn.Module):
    def __init__(self, model: Tacotron2):
        super().__init__()
        self.postnet = model.postnet

    def forward(self, mel: Tensor, valid: Tensor) -> Tensor:
        return mel + self.postnet(mel * valid, valid)


def _export(graph: nn.Module, args: tuple, path: Path, inputs: list[str], outputs: list[str], dynamic: dict, opset: int):
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # the TorchScript-based exporter announces its deprecation
        torch.onnx.export(graph.eval(), args, str(path), dynamo=False, opset_version=opset, input_names=inputs,
                          output_names=outputs, dynamic_axes=dynamic)


def export_tacotron2_onnx(model: Tacotron2, out_dir: str | Path, opset: int = OPSET) -> dict[str, Path]:
    """Write the three graphs of `model` (float32, eval) and `tacotron2.json` into `out_dir`."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    model = model.float().cpu().eval()
    c = model.config
    B, T_in, C, A = 1, 7, c.encoder_embedding_dim, c.attention_dim
    text, lengths = torch.randint(1, c.n_symbols, (B, T_in)), torch.full((B,), T_in, dtype=torch.long)
    _export(EncoderGraph(model), (text, lengths), out / FILES["encoder"], ["text", "text_lengths"],
            ["memory", "processed_memory"], {"text": {0: "batch", 1: "symbols"}, "text_lengths": {0: "batch"},
                                             "memory": {0: "batch", 1: "symbols"},
                                             "processed_memory": {0: "batch", 1: "symbols"}}, opset)
    sizes = {"attention_hidden": c.attention_rnn_dim, "attention_cell": c.attention_rnn_dim,
             "decoder_hidden": c.decoder_rnn_dim, "decoder_cell": c.decoder_rnn_dim, "attention_weights": T_in,
             "attention_weights_cum": T_in, "attention_context": C}
    n_out = c.n_mel_channels * c.n_frames_per_step
    args = (torch.randn(B, n_out), torch.ones(B, c.prenet_dim), torch.ones(B, c.prenet_dim),
            *[torch.rand(B, sizes[s]) for s in STATES], torch.randn(B, T_in, C), torch.randn(B, T_in, A),
            torch.zeros(B, T_in, dtype=torch.bool))
    inputs = ["decoder_input", "prenet_mask_1", "prenet_mask_2", *STATES, "memory", "processed_memory", "mask"]
    outputs = ["decoder_output", "gate_prediction", *[f"out_{s}" for s in STATES]]
    dynamic = {name: {0: "batch"} for name in inputs + outputs}
    for name in ("attention_weights", "attention_weights_cum", "out_attention_weights", "out_attention_weights_cum",
                 "memory", "processed_memory", "mask"):
        dynamic[name][1] = "symbols"
    _export(DecoderIterGraph(model), args, out / FILES["decoder_iter"], inputs, outputs, dynamic, opset)
    mel = torch.randn(B, c.n_mel_channels, 9)
    _export(PostnetGraph(model), (mel, torch.ones(B, 1, 9)), out / FILES["postnet"], ["mel", "valid"], ["mel_postnet"],
            {"mel": {0: "batch", 2: "frames"}, "valid": {0: "batch", 2: "frames"},
             "mel_postnet": {0: "batch", 2: "frames"}}, opset)
    manifest = {"format": FORMAT, "version": 1, "config": c.to_dict(), "audio": model.audio.to_dict(),
                "text_settings": model.text_settings, "files": FILES, "opset": opset}
    (out / "tacotron2.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    return {name: out / file for name, file in FILES.items()}


def quantize_tacotron2_onnx(out_dir: str | Path) -> Path:
    """onnxruntime's dynamic int8 quantization of the exported decoder step (its MatMuls), beside it."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    source = Path(out_dir) / FILES["decoder_iter"]
    target = source.with_name(source.stem + ".int8.onnx")
    quantize_dynamic(str(source), str(target), weight_type=QuantType.QInt8)
    return target


class OnnxTacotron2(nn.Module):
    """The exported graphs run by onnxruntime, usable where the pipeline uses a `Tacotron2`: `config`,
    `audio`, `text_settings`, `infer(...)` -> `Tacotron2Inference` (same settings and seeds). `dtype`
    torch.int8 uses the int8 decoder step if it was exported; other dtypes run the float32 graphs."""

    def __init__(self, path: str | Path, threads: int | None = None):
        super().__init__()
        path = Path(path)
        self.directory = path if path.is_dir() else path.parent
        manifest_path = self.directory / "tacotron2.json"
        if not manifest_path.is_file():
            raise FileNotFoundError(f"{manifest_path} is missing: export with `python -m tts.export_onnx`")
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        if manifest.get("format") != FORMAT:
            raise ValueError(f"{manifest_path} is not a Tacotron 2 ONNX manifest")
        self.config = Tacotron2Config.from_dict(manifest["config"])
        self.audio = AudioSettings.from_dict(manifest["audio"])
        self.text_settings = manifest.get("text_settings")
        self.checkpoint_extra: dict = {}
        self.files = {name: self.directory / file for name, file in manifest["files"].items()}
        self.threads = threads
        self._sessions: dict[str, object] = {}
        # the pipeline reads the device from the first parameter; the graphs run on the CPU
        self.device_anchor = nn.Parameter(torch.zeros(0), requires_grad=False)

    def session(self, name: str):
        if name not in self._sessions:
            path = self.files.get(name) or self.directory / name
            if not path.is_file():
                raise FileNotFoundError(f"{path} is missing (export with --int8 for the int8 decoder step)")
            self._sessions[name] = onnx_session(path, self.threads)
        return self._sessions[name]

    @torch.inference_mode()
    def infer(self, text: Tensor, text_lengths: Tensor | None = None, *, gate_threshold: float = 0.5,
              max_decoder_steps: int = 1000, prenet_dropout: float = 0.5, seed: int | None = None,
              fast: bool = True, dtype: torch.dtype | None = None, warn: bool = True) -> Tacotron2Inference:
        """As `Tacotron2.infer` (`fast` has no effect; `dtype` torch.int8: the int8 decoder step)."""
        if not 0.0 <= prenet_dropout < 1.0:
            raise ValueError(f"prenet_dropout must be in [0, 1), got {prenet_dropout}")
        if max_decoder_steps < 1:
            raise ValueError(f"max_decoder_steps must be >= 1, got {max_decoder_steps}")
        text, text_lengths = Tacotron2._check_text(self, text, text_lengths)
        decoder = "tacotron2_decoder_iter.int8.onnx" if dtype == torch.int8 else "decoder_iter"
        if seed is None:
            return self._infer(text.cpu(), text_lengths, gate_threshold, max_decoder_steps, prenet_dropout, decoder, warn)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            return self._infer(text.cpu(), text_lengths, gate_threshold, max_decoder_steps, prenet_dropout, decoder, warn)

    def _infer(self, text, text_lengths, gate_threshold, max_steps, p, decoder, warn) -> Tacotron2Inference:
        c = self.config
        r, n_mel, P = c.n_frames_per_step, c.n_mel_channels, c.prenet_dim
        B, T_in = text.shape
        memory, processed = self.session("encoder").run(None, {"text": text.numpy(), "text_lengths": text_lengths.numpy()})
        invalid = (~lengths_to_mask(text_lengths, T_in)).numpy()
        zeros = {"attention_hidden": c.attention_rnn_dim, "attention_cell": c.attention_rnn_dim,
                 "decoder_hidden": c.decoder_rnn_dim, "decoder_cell": c.decoder_rnn_dim, "attention_weights": T_in,
                 "attention_weights_cum": T_in, "attention_context": c.encoder_embedding_dim}
        feed = {s: torch.zeros(B, n).numpy() for s, n in zeros.items()}
        feed.update(memory=memory, processed_memory=processed, mask=invalid)
        feed["decoder_input"] = torch.zeros(B, n_mel * r).numpy()
        session = self.session(decoder)
        frames, gates, alignments = [], [], []
        stops = StopTracker(B, r, gate_threshold)
        for step in range(max_steps):
            for k in (1, 2):  # F.dropout's masks, drawn in the reference's order
                mask = torch.empty(B, P).bernoulli_(1 - p).div_(1 - p) if p > 0 else torch.ones(B, P)
                feed[f"prenet_mask_{k}"] = mask.numpy()
            out = session.run(None, feed)
            frame, gate = torch.from_numpy(out[0]), torch.from_numpy(out[1])
            feed.update(zip(STATES, out[2:]))
            feed["decoder_input"] = out[0]
            frames.append(frame)
            gates.append(gate)
            alignments.append(torch.from_numpy(out[6]))
            if stops.update(step, gate):
                break
        S = len(frames)
        frames_t = torch.stack(frames, 1).reshape(B, S * r, n_mel).transpose(1, 2)
        gates_t, align_t = torch.stack(gates, 1).reshape(B, S * r), torch.stack(alignments, 1)
        reached_max = stops.stop_frame < 0
        mel_lengths = torch.where(reached_max, stops.n_steps * r, stops.stop_frame)
        T_max = int(mel_lengths.max())
        frames_t, gates_t, align_t = frames_t[:, :, :T_max], gates_t[:, :T_max], align_t[:, : (T_max + r - 1) // r]
        valid = lengths_to_mask(mel_lengths, T_max)
        mel = torch.from_numpy(self.session("postnet").run(None, {
            "mel": frames_t.contiguous().numpy(), "valid": valid[:, None, :].float().numpy()})[0])
        if not bool(valid.all()):
            mel = mel.masked_fill(~valid[:, None, :], self.audio.silence_level)
            gates_t = gates_t.masked_fill(~valid, 1e3)
            align_t = align_t * lengths_to_mask(stops.n_steps, align_t.size(1))[:, :, None].float()
        reasons = [attention_failure_reasons(align_t[b, : int(stops.n_steps[b])], int(text_lengths[b]), r) for b in range(B)]
        if warn and bool(reached_max.any()):
            warnings.warn(f"OnnxTacotron2.infer: item(s) {reached_max.nonzero().flatten().tolist()} reached "
                          f"max_decoder_steps={max_steps} without predicting a stop", RuntimeWarning, stacklevel=4)
        return Tacotron2Inference(mel=mel.float(), mel_lengths=mel_lengths.long(), gate=gates_t.float(),
                                  alignments=align_t.float(), reached_max_steps=reached_max,
                                  attention_failed=torch.tensor([bool(x) for x in reasons]), failure_reasons=reasons)

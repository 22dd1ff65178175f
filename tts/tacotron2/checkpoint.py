"""Load Tacotron 2 weights from any of the layouts in circulation; save the project's own format.

Layouts accepted by `load_tacotron2` (all read with `torch.load(weights_only=True)`):
* NVIDIA/tacotron2 training checkpoint: {'iteration', 'state_dict', 'optimizer', 'learning_rate'}
* NVIDIA's published `tacotron2_statedict.pt`: {'state_dict': ...} (maybe more bookkeeping keys)
* a bare state_dict
* DeepLearningExamples: {'state_dict' with `module.` / `module.1.` prefixes, 'config': constructor kwargs,
  'epoch', 'optimizer', ...}, possibly fp16 tensors
* the project format (`tts.serialization`, model "tacotron2": config + audio settings + extra).

NVIDIA checkpoints store no hyper-parameters, so the model's dimensions are read off the tensor shapes.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import torch

from tts.core.audio import DEFAULT_AUDIO, AudioSettings
from tts.core.serialization import (
    CheckpointError,
    expect_project_model,
    is_project_checkpoint,
    make_project_checkpoint,
    mean_state_dict,
    read_checkpoint,
    save_project_checkpoint,
    strip_prefixes,
    unsafe_pickle_global,
)
from tts.tacotron2.model import Tacotron2, Tacotron2Config

MODEL_NAME = "tacotron2"
# Keys every Tacotron 2 state_dict has, whatever its sizes; used to recognise one.
_CORE_KEYS = (
    "embedding.weight",
    "encoder.lstm.weight_ih_l0",
    "decoder.attention_rnn.weight_hh",
    "decoder.decoder_rnn.weight_hh",
    "decoder.prenet.layers.0.linear_layer.weight",
    "decoder.attention_layer.query_layer.linear_layer.weight",
    "decoder.attention_layer.location_layer.location_conv.conv.weight",
    "decoder.linear_projection.linear_layer.weight",
    "decoder.gate_layer.linear_layer.weight",
    "postnet.convolutions.0.0.conv.weight",
)


def _few(keys: Iterable[str], n: int = 5, sort: bool = True) -> str:
    keys = sorted(keys) if sort else list(keys)
    return ", ".join(keys[:n]) + (f", ... ({len(keys)} in all)" if len(keys) > n else "")


def _count(state_dict: Mapping[str, Any], pattern: str) -> int:
    regex = re.compile(pattern)
    return len({m.group(1) for k in state_dict if (m := regex.fullmatch(k))})


def config_from_state_dict(state_dict: Mapping[str, torch.Tensor]) -> Tacotron2Config:
    """Read every dimension of the architecture off the tensor shapes (NVIDIA stores no hparams)."""
    def shape(key: str) -> tuple[int, ...]:
        return tuple(state_dict[key].shape)

    n_symbols, emb_dim = shape("embedding.weight")
    enc_out, enc_in, enc_k = shape("encoder.convolutions.0.0.conv.weight")
    post_out, n_mel, post_k = shape("postnet.convolutions.0.0.conv.weight")
    proj_out = shape("decoder.linear_projection.linear_layer.weight")[0]
    if proj_out % n_mel:
        raise ValueError(f"linear projection has {proj_out} outputs, not a multiple of {n_mel} mel channels")
    n_filters, _, loc_k = shape("decoder.attention_layer.location_layer.location_conv.conv.weight")
    return Tacotron2Config(
        n_symbols=n_symbols,
        symbols_embedding_dim=emb_dim,
        encoder_kernel_size=enc_k,
        encoder_n_convolutions=_count(state_dict, r"encoder\.convolutions\.(\d+)\.0\.conv\.weight"),
        encoder_embedding_dim=enc_out,
        n_frames_per_step=proj_out // n_mel,
        decoder_rnn_dim=shape("decoder.decoder_rnn.weight_hh")[1],
        prenet_dim=shape("decoder.prenet.layers.0.linear_layer.weight")[0],
        attention_rnn_dim=shape("decoder.attention_rnn.weight_hh")[1],
        attention_dim=shape("decoder.attention_layer.query_layer.linear_layer.weight")[0],
        attention_location_n_filters=n_filters,
        attention_location_kernel_size=loc_k,
        postnet_embedding_dim=post_out,
        postnet_kernel_size=post_k,
        postnet_n_convolutions=_count(state_dict, r"postnet\.convolutions\.(\d+)\.0\.conv\.weight"),
        n_mel_channels=n_mel,
    )


def _as_float32(state_dict: Mapping[str, Any]) -> dict[str, torch.Tensor]:
    """fp16/bf16 (DLE AMP) or fp64 tensors -> fp32; integer buffers (num_batches_tracked) unchanged."""
    return {k: (v.float() if torch.is_tensor(v) and v.is_floating_point() else v) for k, v in state_dict.items()}


def _looks_like_state_dict(obj: Any) -> bool:
    return isinstance(obj, Mapping) and len(obj) > 0 and all(isinstance(k, str) for k in obj) and all(
        torch.is_tensor(v) for v in obj.values())


def _extract(obj: Any, path: str | Path) -> tuple[dict[str, torch.Tensor], Mapping[str, Any] | None]:
    """-> (state_dict without DDP prefixes, DLE constructor config or None)."""
    if isinstance(obj, Mapping) and "state_dict" in obj:
        state_dict, config = obj["state_dict"], obj.get("config")
        if not _looks_like_state_dict(state_dict):
            raise CheckpointError(f"{path}: 'state_dict' entry is not a mapping of names to tensors")
    elif _looks_like_state_dict(obj):
        state_dict, config = obj, None
    else:
        what = f"a dict with keys {_few(map(str, obj))}" if isinstance(obj, Mapping) else type(obj).__name__
        raise CheckpointError(f"{path}: expected a Tacotron 2 checkpoint (a state_dict, or a dict with a "
                              f"'state_dict' entry), found {what}")
    if config is not None and not isinstance(config, Mapping):
        raise CheckpointError(f"{path}: 'config' entry is a {type(config).__name__}, expected a dict")
    return _as_float32(strip_prefixes(state_dict)), config


def _adapt_gate(state_dict: dict[str, torch.Tensor], r: int) -> None:
    """NVIDIA's code keeps ONE gate unit even when r > 1; this model predicts one per frame. Give every
    frame of the group the reference's gate: decoding stops at the same step as the reference's, but
    that step keeps one frame instead of r (the stop frame is the group's first frame over the
    threshold). Repeating keeps every frame's gate trainable, which is what a warm start needs."""
    w, b = "decoder.gate_layer.linear_layer.weight", "decoder.gate_layer.linear_layer.bias"
    if r > 1 and w in state_dict and state_dict[w].size(0) == 1:
        state_dict[w] = state_dict[w].repeat(r, 1)
        state_dict[b] = state_dict[b].repeat(r)


def tacotron2_from_state_dict(state_dict: Mapping[str, torch.Tensor], config: Tacotron2Config | None = None,
                              audio: AudioSettings | None = None, source: str | Path = "state_dict") -> Tacotron2:
    """Build a Tacotron2 (eval mode) holding `state_dict`; dimensions from `config` or the shapes."""
    state_dict = dict(state_dict)
    missing = [k for k in _CORE_KEYS if k not in state_dict]
    if missing:
        unexpected = [k for k in state_dict if not k.startswith(("embedding.", "encoder.", "decoder.", "postnet."))]
        hint = " (this looks like a WaveGlow vocoder)" if any(k.startswith(("WN.", "upsample.")) for k in state_dict) else ""
        raise CheckpointError(
            f"{source}: not a Tacotron 2 state_dict{hint}; expected NVIDIA Tacotron 2 parameter names, "
            f"missing keys: {_few(missing, sort=False)}" + (f"; unexpected keys: {_few(unexpected)}" if unexpected else ""))
    try:
        config = config or config_from_state_dict(state_dict)
    except (ValueError, IndexError, KeyError) as exc:
        raise CheckpointError(f"{source}: cannot derive the Tacotron 2 dimensions from the tensor shapes: {exc}") from exc
    _adapt_gate(state_dict, config.n_frames_per_step)
    if audio is None:
        audio = DEFAULT_AUDIO if config.n_mel_channels == DEFAULT_AUDIO.n_mel_channels else AudioSettings(
            n_mel_channels=config.n_mel_channels)
    model = Tacotron2(config, audio)
    expected = model.state_dict()
    missing = [k for k in expected if k not in state_dict]
    unexpected = [k for k in state_dict if k not in expected]
    wrong = [f"{k} {tuple(state_dict[k].shape)} != {tuple(v.shape)}" for k, v in expected.items()
             if k in state_dict and state_dict[k].shape != v.shape]
    if missing or unexpected or wrong:
        parts = [f"missing keys: {_few(missing)}" if missing else "",
                 f"unexpected keys: {_few(unexpected)}" if unexpected else "",
                 f"shape mismatches: {_few(wrong, 3)}" if wrong else ""]
        raise CheckpointError(f"{source}: state_dict does not match a Tacotron 2 with {config}: "
                              + "; ".join(p for p in parts if p))
    model.load_state_dict(state_dict, strict=True)
    return model.eval()


def _read(path: str | Path, map_location: Any = "cpu") -> Any:
    """read_checkpoint (weights_only), with the message for pickled objects rephrased: such files are
    refused, never unpickled, so torch's advice to pass weights_only=False is not repeated. Only a real
    pickle of arbitrary objects is called one; a corrupt file or another file type is reported as such."""
    try:
        return read_checkpoint(path, map_location=map_location)
    except CheckpointError as exc:
        if unsafe_pickle_global(exc.__cause__) is not None:
            raise CheckpointError(f"{path}: holds pickled Python objects, which are not loaded for safety; "
                                  "expected a Tacotron 2 checkpoint made of plain tensors") from exc
        raise CheckpointError(f"{exc}; expected a Tacotron 2 checkpoint") from exc


def load_tacotron2(path: str | Path, map_location: Any = "cpu", runtime: str = "torch") -> Tacotron2:
    """Load any supported Tacotron 2 checkpoint (see module docstring) into an eval-mode model.
    `runtime="onnx"`: `path` is a folder written by `python -m tts.export_onnx` (or its tacotron2.json),
    run by onnxruntime (`tts.tacotron2.onnx.OnnxTacotron2`, with the same `infer`).

    Sets `model.audio` (the project format's settings, NVIDIA's defaults otherwise), `model.text_settings`
    (the project format's `extra['text_settings']`, else None) and `model.checkpoint_extra`.
    """
    if runtime not in ("torch", "onnx"):
        raise ValueError(f"runtime must be 'torch' or 'onnx', got {runtime!r}")
    if runtime == "onnx":
        from tts.tacotron2.onnx import OnnxTacotron2

        return OnnxTacotron2(path)
    obj = _read(path, map_location)
    if is_project_checkpoint(obj):
        expect_project_model(obj, MODEL_NAME, path)
        try:
            config = Tacotron2Config.from_dict(obj.get("config") or {})
            audio = AudioSettings.from_dict(obj.get("audio"))
        except (TypeError, ValueError) as exc:
            raise CheckpointError(f"{path}: invalid Tacotron 2 config or audio settings: {exc}") from exc
        state_dict, _ = _extract(obj, path)
        model = tacotron2_from_state_dict(state_dict, config, audio, source=path)
        extra = dict(obj.get("extra") or {})
    else:
        state_dict, dle_config = _extract(obj, path)
        config = None
        if dle_config is not None:
            try:
                config = Tacotron2Config.from_dict(dle_config, ignore_unknown=True)
            except (TypeError, ValueError) as exc:
                raise CheckpointError(f"{path}: invalid 'config' entry: {exc}") from exc
        model = tacotron2_from_state_dict(state_dict, config, source=path)
        extra = {k: obj[k] for k in ("iteration", "epoch", "learning_rate") if isinstance(obj, Mapping) and k in obj}
    text_settings = extra.get("text_settings")
    model.text_settings = dict(text_settings) if isinstance(text_settings, Mapping) else None
    model.checkpoint_extra = extra
    return model


def average_tacotron2(paths: Iterable[str | Path], map_location: Any = "cpu") -> Tacotron2:
    """Checkpoint averaging: one model whose weights are the mean of several checkpoints' (float32).

    Averaging the last few checkpoints of one run smooths out the step-to-step noise of a constant
    learning rate, much as a lower learning rate would, at no training cost (Polyak averaging done
    after the fact; see recipes/default_voice/export_voice.py --average). The checkpoints must share
    one model config and mel definition; the result keeps the last one's `audio`, `text_settings`
    and `checkpoint_extra`, with `checkpoint_extra["averaged"]` naming the sources.
    """
    paths = list(paths)
    if not paths:
        raise ValueError("average_tacotron2 needs at least one checkpoint")
    models = [load_tacotron2(p, map_location) for p in paths]
    last = models[-1]
    for path, model in zip(paths, models):
        if model.config != last.config or model.audio != last.audio:
            raise ValueError(f"{path}: its model config or mel settings differ from {paths[-1]}'s; "
                             "only checkpoints of one run can be averaged")
    states = [m.state_dict() for m in models]
    averaged = mean_state_dict(states)
    last.load_state_dict(averaged)
    last.checkpoint_extra = {**last.checkpoint_extra, "averaged": [Path(p).name for p in paths]}
    return last


def save_tacotron2(model: Tacotron2, path: str | Path, extra: Mapping[str, Any] | None = None) -> Path:
    """Write the project format (atomically). `model.text_settings`, if set, is stored as
    `extra['text_settings']` unless `extra` brings its own."""
    merged: dict[str, Any] = {}
    if getattr(model, "text_settings", None):
        merged["text_settings"] = dict(model.text_settings)
    merged.update(extra or {})
    ckpt = make_project_checkpoint(MODEL_NAME, model.config.to_dict(), model.state_dict(), model.audio, merged)
    return save_project_checkpoint(path, ckpt)


def warm_start_state_dict(model: Tacotron2, state_dict: Mapping[str, Any] | str | Path,
                          ignore: Iterable[str] = ("embedding.weight",)) -> list[str]:
    """Copy matching weights from a checkpoint (any layout above, a path, or a state_dict) into `model`.

    Keys in `ignore` are skipped when their shape differs (e.g. the embedding when the symbol set
    differs) and keep the model's initialisation; any other missing, unexpected or differently shaped
    key raises CheckpointError (never a silent partial load). Returns the skipped keys.
    """
    source: str | Path = "state_dict"
    if isinstance(state_dict, (str, Path)):
        source = state_dict
        state_dict = _read(state_dict)
    if is_project_checkpoint(state_dict):
        expect_project_model(state_dict, MODEL_NAME, source)
    sd, _ = _extract(state_dict, source)
    _adapt_gate(sd, model.config.n_frames_per_step)
    target = model.state_dict()
    ignore = set(ignore)
    skipped = [k for k in target if k in ignore and (k not in sd or sd[k].shape != target[k].shape)]
    missing = [k for k in target if k not in sd and k not in ignore]
    unexpected = [k for k in sd if k not in target]
    wrong = [f"{k} {tuple(sd[k].shape)} != {tuple(v.shape)}" for k, v in target.items()
             if k in sd and k not in ignore and sd[k].shape != v.shape]
    if missing or unexpected or wrong:
        parts = [f"missing keys: {_few(missing)}" if missing else "",
                 f"unexpected keys: {_few(unexpected)}" if unexpected else "",
                 f"shape mismatches: {_few(wrong, 3)}" if wrong else ""]
        raise CheckpointError(f"{source}: cannot warm-start this Tacotron 2: " + "; ".join(p for p in parts if p))
    load = {k: (sd[k] if k in sd and k not in skipped else v) for k, v in target.items()}
    model.load_state_dict(load, strict=True)
    return skipped

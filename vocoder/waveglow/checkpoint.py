"""Loading WaveGlow weights from every layout in the wild, and saving the project's own format.

Accepted inputs (`load_waveglow`):
  (a) NVIDIA/waveglow training checkpoints: `{'model': <pickled glow.WaveGlow>, 'iteration', ...}`,
      including the oldest `glow_old.WaveGlow` ones with separate `res_layers`/`skip_layers`/
      `cond_layers`. These are pickled Python objects; they are read with `RestrictedUnpickler`,
      which maps the few known class names to inert record objects and refuses every other global,
      so no code from the file ever runs and no module named `glow` is needed. Weights come from
      `weight_g`/`weight_v` (the pickled `.weight` attribute is stale, NVIDIA_FORMATS.md 1.10).
  (b) DeepLearningExamples / 2019 state_dicts: `module.` prefixes, per-layer `WN.k.cond_layers.i`,
      optional `config` with `WN_config`. Converted to (c) by concatenating along dim 0 (weight norm
      is per output channel, so concatenating g, v and bias is exact).
  (c) the current fused layout as a plain state_dict (or under 'state_dict' / 'model').
  (d) the project's own format (`tts.serialization`, model "waveglow").
"""
from __future__ import annotations

import pickle
import re
import warnings
import zipfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

import torch

from tts.core.audio import DEFAULT_AUDIO, AudioSettings
from tts.core.serialization import (
    CheckpointError,
    brief,
    expect_project_model,
    is_project_checkpoint,
    make_project_checkpoint,
    mean_state_dict,
    read_checkpoint,
    save_project_checkpoint,
    strip_prefixes,
)
from vocoder.waveglow.compact import MODEL_NAME as COMPACT_NAME
from vocoder.waveglow.compact import CompactWaveGlow, CompactWaveGlowConfig
from vocoder.waveglow.fast import set_quantization
from vocoder.waveglow.model import WaveGlow, WaveGlowConfig

# ---------------------------------------------------------------------------------------------
# restricted unpickling of NVIDIA's pickled modules


class PickledObject:
    """Inert stand-in for an instance of a class named in a pickle: it only records its state.

    Subclasses are made per class name (`pickle_global` = "module.Name"). `dump_patches` keeps
    torch's legacy loader from writing patch files when it compares container sources."""

    pickle_global = ""
    dump_patches = False

    def __init__(self, *args, **kwargs):  # only reached through REDUCE; NEWOBJ skips __init__
        self.__dict__["_pickle_args"] = args

    def __setstate__(self, state):
        if isinstance(state, tuple) and len(state) == 2:  # (dict, slots dict)
            state = {**(state[0] or {}), **(state[1] or {})}
        if not isinstance(state, dict):
            raise pickle.UnpicklingError(f"unexpected state for {self.pickle_global}: {type(state).__name__}")
        self.__dict__.update(state)

    def __repr__(self) -> str:
        return f"<pickled {self.pickle_global}>"


#: classes of NVIDIA/waveglow (glow.py, glow_old.py) and DLE (waveglow/model.py) pickles, and the
#: torch modules inside them: unpickled as inert PickledObject records
RECORDED_CLASSES = MappingProxyType({
    "glow": frozenset({"WaveGlow", "WN", "Invertible1x1Conv"}),
    "glow_old": frozenset({"WaveGlow", "WN", "Invertible1x1Conv"}),
    "waveglow.model": frozenset({"WaveGlow", "WN", "Invertible1x1Conv"}),
    "torch.nn.modules.conv": frozenset({"Conv1d", "ConvTranspose1d"}),
    "torch.nn.modules.container": frozenset({"ModuleList"}),
    "torch.nn.utils.weight_norm": frozenset({"WeightNorm"}),
})


def _no_backend():
    """torch <= 1.0 pickled each module's `_backend` as a call of this; nothing to restore."""
    return


def _safe_globals() -> dict[tuple[str, str], Any]:
    """Data constructors that run no user code: tensor/parameter rebuilds, containers, dtypes."""
    import collections

    import torch._utils as tu

    allowed: dict[tuple[str, str], Any] = {
        ("collections", "OrderedDict"): collections.OrderedDict,
        ("builtins", "set"): set,
        ("__builtin__", "set"): set,
        ("builtins", "frozenset"): frozenset,
        ("__builtin__", "frozenset"): frozenset,
        ("torch._utils", "_rebuild_tensor"): tu._rebuild_tensor,
        ("torch._utils", "_rebuild_tensor_v2"): tu._rebuild_tensor_v2,
        ("torch._utils", "_rebuild_parameter"): tu._rebuild_parameter,
        ("torch.nn.parameter", "Parameter"): torch.nn.Parameter,
        ("torch", "Size"): torch.Size,
        ("torch", "device"): torch.device,
        ("torch.nn.backends.thnn", "_get_thnn_function_backend"): _no_backend,
    }
    if hasattr(tu, "_rebuild_parameter_with_state"):
        allowed[("torch._utils", "_rebuild_parameter_with_state")] = tu._rebuild_parameter_with_state
    for name in dir(torch):
        if isinstance(getattr(torch, name, None), torch.dtype):
            allowed[("torch", name)] = getattr(torch, name)
    return allowed


class RestrictedUnpickler(pickle.Unpickler):
    """`find_class` resolves only known names: WaveGlow/torch module classes become PickledObject
    records, a short list of data constructors resolves to the real thing, anything else raises."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._safe = _safe_globals()
        self._records: dict[str, type] = {}

    def find_class(self, module: str, name: str):
        if (module, name) in self._safe:
            return self._safe[(module, name)]
        if name in RECORDED_CLASSES.get(module, ()):
            key = f"{module}.{name}"
            if key not in self._records:
                self._records[key] = type(name, (PickledObject,), {"pickle_global": key, "__module__": __name__})
            return self._records[key]
        raise pickle.UnpicklingError(f"refusing to load global {module}.{name}: not part of a WaveGlow checkpoint")


class _RestrictedPickleModule:
    """What `torch.load(pickle_module=...)` needs: `Unpickler` and `load` (the legacy format reads
    its header with `pickle_module.load`), both restricted."""

    __name__ = "restricted_pickle"
    Unpickler = RestrictedUnpickler

    @staticmethod
    def load(file, **kwargs):
        return RestrictedUnpickler(file, **kwargs).load()


def load_pickled_checkpoint(path: str | Path, map_location: Any = "cpu") -> Any:
    """Read a torch checkpoint that contains pickled WaveGlow modules, without executing any code
    from it (zip and legacy torch serialization). Unknown globals raise CheckpointError."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch's SourceChangeWarning / missing-source warnings
            return torch.load(path, map_location=map_location, pickle_module=_RestrictedPickleModule, weights_only=False)
    except pickle.UnpicklingError as exc:
        raise CheckpointError(f"{path}: {exc}") from exc
    except (RuntimeError, EOFError, zipfile.BadZipFile, OSError, ValueError, AttributeError, IndexError, KeyError, TypeError) as exc:
        raise CheckpointError(f"{path}: corrupt or truncated checkpoint ({exc.__class__.__name__}: {brief(exc)})") from exc


def record_state_dict(obj: PickledObject, prefix: str = "") -> dict[str, torch.Tensor]:
    """The state_dict of a recorded module tree: `_parameters` and `_buffers`, recursively.

    Weight-normed convs keep `weight_g`/`weight_v` in `_parameters`; their plain `weight` is an
    attribute outside it (stale in NVIDIA's pickles) and is therefore never read."""
    out: dict[str, torch.Tensor] = {}
    state = obj.__dict__
    for group in ("_parameters", "_buffers"):
        for name, value in (state.get(group) or {}).items():
            if value is not None:
                out[prefix + name] = value.detach()
    for name, child in (state.get("_modules") or {}).items():
        if isinstance(child, PickledObject):
            out.update(record_state_dict(child, prefix + name + "."))
    return out


# ---------------------------------------------------------------------------------------------
# layouts

_WEIGHT_NORMED = re.compile(
    r"^WN\.\d+\.(start|cond_layer|cond_layers\.\d+|in_layers\.\d+|res_skip_layers\.\d+|res_layers\.\d+|skip_layers\.\d+)\.weight$"
)
_TACOTRON_KEYS = ("embedding.weight", "encoder.", "decoder.", "postnet.")


def _count(state_dict: Mapping[str, Any], prefix: str) -> int:
    """Number of consecutive indices i with a key starting with f'{prefix}{i}.'."""
    n = 0
    while any(k.startswith(f"{prefix}{n}.") for k in state_dict):
        n += 1
    return n


def to_fused_layout(state_dict: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Convert layouts (a) and (b) (and weight-norm-removed weights) to NVIDIA's current layout (c)."""
    sd = dict(state_dict)
    # weights saved after remove_weightnorm: back to (g, v) with g = ||w|| per output channel
    for key in [k for k in sd if _WEIGHT_NORMED.match(k)]:
        base = key[: -len("weight")]
        if base + "weight_v" not in sd:
            w = sd.pop(key)
            sd[base + "weight_g"] = torch.linalg.vector_norm(w.float(), dim=tuple(range(1, w.dim())), keepdim=True).to(w.dtype)
            sd[base + "weight_v"] = w
    suffixes = ("weight_g", "weight_v", "bias")
    for k in range(_count(sd, "WN.")):
        p = f"WN.{k}."
        n_cond = _count(sd, p + "cond_layers.")
        if n_cond:  # (a), (b): one conditioning conv per layer -> one fused conv
            for s in suffixes:
                sd[f"{p}cond_layer.{s}"] = torch.cat([sd.pop(f"{p}cond_layers.{i}.{s}") for i in range(n_cond)])
        n_skip = _count(sd, p + "skip_layers.")
        if n_skip:  # (a): separate residual (all but the last layer) and skip convs -> [res; skip]
            for i in range(n_skip):
                for s in suffixes:
                    parts = [sd.pop(f"{p}res_layers.{i}.{s}")] if i < n_skip - 1 else []
                    parts.append(sd.pop(f"{p}skip_layers.{i}.{s}"))
                    sd[f"{p}res_skip_layers.{i}.{s}"] = torch.cat(parts)
    return sd


def infer_config(sd: Mapping[str, torch.Tensor], alternate_halves: bool = False) -> WaveGlowConfig:
    """Hyper-parameters from the tensor shapes of a fused-layout state_dict."""
    try:
        n_mel = sd["upsample.weight"].shape[0]
        n_flows = _count(sd, "WN.")
        channels = [sd[f"convinv.{k}.conv.weight"].shape[0] for k in range(n_flows)]
        drops = [k for k in range(1, n_flows) if channels[k] != channels[k - 1]]
        n_early_every = drops[0] if drops else n_flows
        n_early_size = channels[0] - channels[drops[0]] if drops else 2
        config = WaveGlowConfig(
            n_mel_channels=n_mel,
            n_flows=n_flows,
            n_group=channels[0],
            n_early_every=n_early_every,
            n_early_size=n_early_size,
            wn_n_layers=_count(sd, "WN.0.in_layers."),
            wn_n_channels=sd["WN.0.start.weight_v"].shape[0],
            wn_kernel_size=sd["WN.0.in_layers.0.weight_v"].shape[2],
            alternate_halves=alternate_halves,
        )
    except (KeyError, IndexError, ValueError) as exc:
        raise CheckpointError(f"cannot infer the WaveGlow configuration from the tensor shapes ({exc})") from exc
    if config.flow_channels() != channels:
        raise CheckpointError(f"flow channel sizes {channels} do not fit any WaveGlow configuration")
    return config


# ---------------------------------------------------------------------------------------------
# public API


def _looks_like_tacotron(keys) -> bool:
    return any(k.startswith(_TACOTRON_KEYS) for k in keys)


def _tensor_dict(obj: Any) -> bool:
    return isinstance(obj, Mapping) and len(obj) > 0 and all(torch.is_tensor(v) for v in obj.values())


def read_waveglow_checkpoint(path: str | Path, map_location: Any = "cpu"
                             ) -> tuple[WaveGlowConfig | CompactWaveGlowConfig, AudioSettings, dict]:
    """(config, audio settings, fused-layout state_dict) from any supported file; a compact WaveGlow
    (project format only) comes with a `CompactWaveGlowConfig`."""
    try:
        ckpt = read_checkpoint(path, map_location)
    except CheckpointError as exc:
        if not isinstance(exc.__cause__, pickle.UnpicklingError):
            raise
        ckpt = load_pickled_checkpoint(path, map_location)  # pickled modules: NVIDIA/waveglow (a)

    if is_project_checkpoint(ckpt):
        compact = ckpt.get("model") == COMPACT_NAME
        expect_project_model(ckpt, COMPACT_NAME if compact else "waveglow", path)
        try:
            config = (CompactWaveGlowConfig if compact else WaveGlowConfig).from_dict(ckpt["config"])
            audio = AudioSettings.from_dict(ckpt.get("audio"))
        except (KeyError, TypeError, ValueError) as exc:
            raise CheckpointError(f"{path}: bad WaveGlow config in project checkpoint ({exc})") from exc
        return config, audio, dict(ckpt["state_dict"])

    config_hint, alternate_halves = None, False
    if isinstance(ckpt, Mapping) and isinstance(ckpt.get("model"), PickledObject):
        model = ckpt["model"]
        if not model.pickle_global.endswith(".WaveGlow"):
            raise CheckpointError(f"{path}: 'model' is a pickled {model.pickle_global}, not a WaveGlow")
        # glow_old.WaveGlow (2018) alternates the coupling halves on odd flows
        alternate_halves = model.pickle_global.startswith("glow_old.")
        state_dict = record_state_dict(model)
    elif isinstance(ckpt, Mapping) and _tensor_dict(ckpt.get("state_dict")):
        state_dict = dict(ckpt["state_dict"])
        config_hint = ckpt.get("config")  # DLE: constructor kwargs with WN_config
    elif isinstance(ckpt, Mapping) and _tensor_dict(ckpt.get("model")):
        state_dict = dict(ckpt["model"])
    elif _tensor_dict(ckpt):
        state_dict = dict(ckpt)
    else:
        kind = type(ckpt).__name__
        keys = list(ckpt)[:8] if isinstance(ckpt, Mapping) else []
        raise CheckpointError(f"{path}: not a WaveGlow checkpoint (a {kind} with keys {keys})")

    state_dict = strip_prefixes(state_dict)
    if "upsample.weight" not in state_dict:
        if _looks_like_tacotron(state_dict):
            raise CheckpointError(f"{path}: this is a Tacotron 2 checkpoint, not a WaveGlow vocoder")
        raise CheckpointError(f"{path}: not a WaveGlow checkpoint (no 'upsample.weight'; keys: {list(state_dict)[:8]})")
    try:
        state_dict = to_fused_layout(state_dict)
    except (KeyError, RuntimeError) as exc:  # a layer missing from one of the old layouts, mismatched shapes
        raise CheckpointError(f"{path}: incomplete or inconsistent WaveGlow weights ({exc.__class__.__name__}: {exc})") from exc
    if isinstance(config_hint, Mapping):
        try:
            config = WaveGlowConfig.from_dict(config_hint)
        except (TypeError, ValueError) as exc:
            raise CheckpointError(f"{path}: bad WaveGlow config ({exc})") from exc
    else:
        config = infer_config(state_dict, alternate_halves)
    return config, DEFAULT_AUDIO, state_dict


def load_waveglow(
    path: str | Path,
    map_location: Any = "cpu",
    device: torch.device | str | None = None,
    dtype: torch.dtype | None = None,
    quantize: str | None = None,
    runtime: str = "torch",
) -> WaveGlow | CompactWaveGlow:
    """A WaveGlow ready for inference (weight norm folded, inverses cached, eval mode) from any
    supported checkpoint, the compact variant (`vocoder.waveglow.compact`) included. `runtime="onnx"`:
    `path` is a graph written by `python -m tts.export_onnx` (waveglow.onnx or its folder), run by
    onnxruntime (`vocoder.waveglow.onnx.OnnxWaveGlow`; `quantize="int8"` picks its int8 graph). `dtype` (e.g. torch.bfloat16) applies to the WNs and the upsampler; the
    invertible 1x1 convolutions stay float32. `quantize="int8"` (float32, CPU) runs the WNs' large
    products on int8 operands (`vocoder.waveglow.int8`): the fastest CPU path (SNR ~40 dB vs float32)."""
    if runtime not in ("torch", "onnx"):
        raise ValueError(f"runtime must be 'torch' or 'onnx', got {runtime!r}")
    if runtime == "onnx":
        from vocoder.waveglow.onnx import OnnxWaveGlow

        return OnnxWaveGlow(path, quantize=quantize)
    if quantize is not None and dtype not in (None, torch.float32):
        raise ValueError(f"quantize={quantize!r} runs around float32 weights; do not combine it with dtype={dtype}")
    config, audio, state_dict = read_waveglow_checkpoint(path, map_location)
    if isinstance(config, CompactWaveGlowConfig) and quantize is not None:
        raise ValueError(f"quantize={quantize!r} is for full-size WaveGlow; {path} is a compact WaveGlow")
    try:
        model = (CompactWaveGlow if isinstance(config, CompactWaveGlowConfig) else WaveGlow)(config, audio)
    except ValueError as exc:
        raise CheckpointError(f"{path}: unsupported WaveGlow configuration ({exc})") from exc
    missing, unexpected = _load_strict(model, state_dict)
    if missing or unexpected:
        raise CheckpointError(
            f"{path}: weights do not match the WaveGlow configuration {config}: "
            f"missing or mismatched {missing[:6]}{'...' if len(missing) > 6 else ''}, "
            f"unexpected {unexpected[:6]}{'...' if len(unexpected) > 6 else ''}"
        )
    if device is not None:
        model.to(device=device)
    model.prepare_for_inference()
    if dtype is not None:
        model.to(dtype=dtype)
    return model if isinstance(model, CompactWaveGlow) else set_quantization(model, quantize)


def average_waveglow(paths: Iterable[str | Path], map_location: Any = "cpu") -> WaveGlow | CompactWaveGlow:
    """Checkpoint averaging for a vocoder: one model, ready for inference like `load_waveglow`'s, whose
    weights are the mean of several checkpoints' (float32; the (g, v) of weight norm averaged as stored,
    the invertible 1x1 convolutions' inverses computed from the mean). As for Tacotron 2
    (`average_tacotron2`), the checkpoints must be of one run: one config, one mel definition."""
    paths = list(paths)
    if not paths:
        raise ValueError("average_waveglow needs at least one checkpoint")
    read = [read_waveglow_checkpoint(p, map_location) for p in paths]
    config, audio, last = read[-1]
    for path, (other_config, other_audio, state_dict) in zip(paths, read):
        if other_config != config or other_audio != audio or set(state_dict) != set(last):
            raise ValueError(f"{path}: its model config, mel settings or weights differ from {paths[-1]}'s; "
                             "only checkpoints of one run can be averaged")
    averaged = mean_state_dict([state_dict for _, _, state_dict in read])
    model = (CompactWaveGlow if isinstance(config, CompactWaveGlowConfig) else WaveGlow)(config, audio)
    missing, unexpected = _load_strict(model, averaged)
    if missing or unexpected:
        raise CheckpointError(f"{paths[-1]}: weights do not match its configuration ({(missing + unexpected)[:6]})")
    model.prepare_for_inference()
    return model if isinstance(model, CompactWaveGlow) else set_quantization(model, None)


def _load_strict(model: WaveGlow, state_dict: Mapping[str, torch.Tensor]) -> tuple[list[str], list[str]]:
    expected = model.state_dict()
    missing = [k for k in expected if k not in state_dict]
    unexpected = [k for k in state_dict if k not in expected]
    wrong = [f"{k} {tuple(state_dict[k].shape)} != {tuple(v.shape)}" for k, v in expected.items() if k in state_dict and state_dict[k].shape != v.shape]
    if missing or unexpected or wrong:
        return missing + wrong, unexpected
    model.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in state_dict.items()}, strict=True)
    return [], []


def save_waveglow(model: WaveGlow | CompactWaveGlow, path: str | Path, extra: Mapping[str, Any] | None = None) -> Path:
    """Write the project's format (weights_only-loadable, atomic). Weight norm is saved as (g, v)
    whether or not the model was prepared for inference, so the file loads in any mode."""
    state_dict = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    name = COMPACT_NAME if isinstance(model, CompactWaveGlow) else "waveglow"
    checkpoint = make_project_checkpoint(name, model.config.to_dict(), state_dict, model.audio, extra)
    return save_project_checkpoint(path, checkpoint)

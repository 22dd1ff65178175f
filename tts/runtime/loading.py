"""Loading a pipeline's models: the runtime that runs them (PyTorch, or the exported graphs in
onnxruntime), the precision of each stage, and one line per decision for `tts-say --verbose`.

The decisions themselves are `tts.core.device`'s (`choose_quantization`, `choose_decoder_int8`); this
module gathers what they depend on (is the WaveGlow full-size? does the compiled decoder kernel work
here?) and applies them. A full-size WaveGlow on a CPU gets int8 products (compiled WN kernel, or the
pure-PyTorch int8 path where it cannot be built) and, with its compiled kernel, an int8 Tacotron 2
decoder; every other voice loads as before, and nothing is compiled for it.
"""
from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import torch

from tts.core.device import (
    QUANTIZE_AUTO,
    check_quantize,
    check_runtime,
    choose_decoder_int8,
    choose_quantization,
    parse_dtype,
)
from tts.core.onnx import onnx_folder_problem, require_onnxruntime
from tts.tacotron2 import Tacotron2, load_tacotron2
from vocoder import VOCODERS
from vocoder.waveglow import WaveGlow, load_waveglow, set_quantization


class RuntimeMismatch(ValueError):
    """The models given do not suit the runtime asked for (no ONNX graphs for "onnx", graphs for "torch")."""


@dataclass(frozen=True)
class ModelPaths:
    """How a pipeline's models run: decided once when they are loaded."""

    runtime: str = "torch"
    #: `Tacotron2.infer(dtype=...)`: None (float32), torch.bfloat16 or torch.int8
    decoder_dtype: torch.dtype | None = None
    #: one line per stage and decision, for `--verbose` (`Pipeline.describe`)
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class LoadedModels:
    tacotron2: torch.nn.Module
    vocoders: dict[str, torch.nn.Module]
    paths: ModelPaths


def load_models(tacotron2: str | os.PathLike, vocoders: Mapping[str, str | os.PathLike], *, device: torch.device,
                dtype: torch.dtype | str | None = None, quantize: str | None = QUANTIZE_AUTO,
                runtime: str = "torch") -> LoadedModels:
    """Tacotron 2 and the vocoders that need weights, by registry name, ready for `Pipeline`.

    runtime "torch": the project's models; "onnx": the graphs of `python -m tts.export_onnx` (the
    WaveGlow too; other vocoders with weights still load in PyTorch). `quantize`: "auto" (the fastest
    measured path for full-size WaveGlow voices on a CPU, else float), "int8" (WaveGlow's products in
    int8) or None (float). `dtype`: the models' float dtype (None: float32)."""
    check_quantize(quantize)
    check_runtime(runtime)
    problem = onnx_folder_problem(tacotron2, runtime)
    if problem:
        raise RuntimeMismatch(problem)
    torch_dtype = parse_dtype(dtype)
    if runtime == "onnx":
        return _load_onnx(Path(tacotron2), vocoders, device, quantize)
    if quantize == "int8" and device.type != "cpu":
        raise ValueError(f"quantize={quantize!r} is a CPU path; the device is {device}")
    model = load_tacotron2(tacotron2, map_location="cpu").to(device)
    loaded = {name: _load_vocoder(name, path, device, torch_dtype, quantize) for name, path in vocoders.items()}
    waveglow = loaded.get("waveglow")
    channels = waveglow.config.wn_n_channels if isinstance(waveglow, WaveGlow) else None
    waveglow_quantize, why = choose_quantization(quantize, device=device, dtype=torch_dtype, runtime="torch",
                                                 waveglow_channels=channels)
    notes = ["runtime: torch"]
    if quantize == QUANTIZE_AUTO and waveglow_quantize == "int8":
        try:
            set_quantization(waveglow, "int8")
        except RuntimeError as exc:  # a torch without CPU int8 products: float32 stays
            waveglow_quantize, why = None, str(exc)
    if waveglow is not None:
        notes.append(f"waveglow: {_describe_waveglow(waveglow)} ({why})")
    use_int8, decoder_why = choose_decoder_int8(quantize, waveglow_quantize, _decoder_kernel_reason)
    decoder_dtype = torch_dtype if torch_dtype == torch.bfloat16 else None
    if use_int8 and isinstance(model, Tacotron2):
        from tts.tacotron2.fast import fast_weights
        from tts.tacotron2.int8 import step_kernel_runs

        fused = fast_weights(model, torch.int8)  # fuses and quantizes the weights once, now
        if step_kernel_runs(fused):
            decoder_dtype, line = torch.int8, "decoder int8 + compiled decoder-step kernel"
        elif fused.att_rnn.uses_kernel and fused.dec_rnn.uses_kernel:
            decoder_dtype, line = torch.int8, "decoder int8, compiled GEMVs in a Python step loop"
        else:
            line = "decoder float32, fast loop (the int8 decoder kernel does not support this model's shapes)"
        notes.append(f"tacotron2: {line} ({decoder_why})" if decoder_dtype == torch.int8 else f"tacotron2: {line}")
    else:
        name = "bfloat16" if decoder_dtype == torch.bfloat16 else "float32"
        notes.append(f"tacotron2: decoder {name}, fast loop ({'as requested' if torch_dtype else decoder_why})")
    return LoadedModels(model, loaded, ModelPaths("torch", decoder_dtype, tuple(notes)))


def _load_vocoder(name: str, path, device: torch.device, dtype: torch.dtype | None,
                  quantize: str | None) -> torch.nn.Module:
    """A registered vocoder; an explicit quantize="int8" applies to WaveGlow (float32 around its int8
    products); "auto" is applied by `load_models` once the WaveGlow's size is known."""
    if quantize != "int8" or name != "waveglow":
        return VOCODERS.load(name, path, device=device, dtype=dtype)
    return VOCODERS.load(name, path, device=device, quantize=quantize)


def _decoder_kernel_reason() -> str:
    """"" when the compiled int8 decoder kernel works here (may compile it), else why not."""
    from tts.tacotron2.int8 import gemv_kernel_unavailable_reason

    return gemv_kernel_unavailable_reason()


def _describe_waveglow(model: torch.nn.Module) -> str:
    """The WaveGlow's precision and WN implementation, e.g. "int8 + compiled WN kernel"."""
    if not isinstance(model, WaveGlow):
        return f"{type(model).__name__}, {str(getattr(model, 'dtype', torch.float32)).replace('torch.', '')}"
    if getattr(model, "quantize", None) != "int8":
        return f"{str(model.dtype).replace('torch.', '')}, packed WN"
    runner = model.packed_wns()[0]  # builds the int8 WNs now (and the kernel, once per machine)
    if runner.uses_kernel:
        return "int8 + compiled WN kernel"
    from vocoder.waveglow.int8 import wn_kernel_unavailable_reason

    reason = wn_kernel_unavailable_reason() or "the kernel does not support this WN's width"
    return f"int8, pure-PyTorch fallback: {reason}"


def _load_onnx(tacotron2: Path, vocoders: Mapping[str, str | os.PathLike], device: torch.device,
               quantize: str | None) -> LoadedModels:
    """The exported graphs in onnxruntime (CPU). quantize "int8": onnxruntime's int8 WaveGlow graph (and
    its int8 decoder step, when it was exported); "auto" and None: the float32 graphs."""
    require_onnxruntime()
    if device.type != "cpu":
        raise ValueError(f"the ONNX runtime runs on the CPU; the device is {device}")
    graphs = "int8" if quantize == "int8" else None
    model = load_tacotron2(tacotron2, runtime="onnx")
    int8_decoder = graphs == "int8" and (model.directory / "tacotron2_decoder_iter.int8.onnx").is_file()
    loaded: dict[str, torch.nn.Module] = {}
    notes = [f"runtime: onnx (onnxruntime, graphs in {model.directory})",
             f"tacotron2: onnxruntime, decoder step {'int8' if int8_decoder else 'float32'}"]
    for name, path in vocoders.items():
        if name == "waveglow":
            loaded[name] = load_waveglow(path, runtime="onnx", quantize=graphs)
            notes.append(f"waveglow: onnxruntime, {Path(loaded[name].path).name} ({graphs or 'float32'})")
        else:  # the export writes WaveGlow only; another vocoder of the voice keeps its PyTorch weights
            loaded[name] = VOCODERS.load(name, path, device=device)
            notes.append(f"{name}: torch, float32 (no ONNX graph)")
    return LoadedModels(model, loaded, ModelPaths("onnx", torch.int8 if int8_decoder else None, tuple(notes)))

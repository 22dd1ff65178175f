"""WaveGlow as one ONNX graph (mel + noise in, audio out) and a vocoder that runs it with onnxruntime.

    export_waveglow_onnx(model, "out/waveglow.onnx")   # + out/waveglow.onnx.json (config, audio settings)
    vocoder = load_waveglow("out/waveglow.onnx", runtime="onnx")   # an `OnnxWaveGlow`
    audio = vocoder.synthesize(mel, sigma=0.6, seed=0)   # == WaveGlow.synthesize(mel, 0.6, 0) within ~1e-4

Graph inputs: `mel` [B, 80, T] float32 and `z` [B, 8, T * 256 / 8] float32, the noise already
multiplied by sigma, channels in `WaveGlow.draw_noise`'s order (z first, then each early output's
noise); output `audio` [B, T * 256] (unclipped; the denoiser runs outside, in PyTorch). The flows
are unrolled; the WNs are NVIDIA's convolutions with weight norm folded, the upsampler a
ConvTranspose1d. `OnnxWaveGlow` draws the noise exactly as `WaveGlow.synthesize` does, so the same
seed gives the same audio up to float rounding. `quantize_waveglow_onnx` writes onnxruntime's dynamic
int8 variant (`waveglow.int8.onnx`; `load_waveglow(..., runtime="onnx", quantize="int8")`).
Needs the `[onnx]` extra (onnx, onnxruntime).
"""
from __future__ import annotations

import json
import warnings
from pathlib import Path
from types import MappingProxyType

import torch
from torch import nn

from tts.core.audio import AudioSettings
from tts.core.defaults import DEFAULT_SIGMA
from tts.core.onnx import onnx_session
from tts.core.vocoder import Vocoder
from vocoder.waveglow.layers import check_synthesis_input
from vocoder.waveglow.model import UPSAMPLE_STRIDE, WaveGlow, WaveGlowConfig

FORMAT = "tacoglow-onnx-waveglow"
OPSET = 17


class WaveGlowGraph(nn.Module):
    """`WaveGlow._infer` written for export: (mel, sigma-scaled noise) -> audio, batch-first shapes only."""

    def __init__(self, model: WaveGlow):
        super().__init__()
        if not model.inference_ready:
            raise ValueError("prepare the WaveGlow for inference (weight norm folded) before exporting it")
        self.model = model
        cfg = model.config
        self.sizes = [cfg.n_remaining_channels] + [cfg.n_early_size for k in reversed(range(cfg.n_flows)) if cfg.is_early_output(k)]

    def forward(self, mel: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        m, cfg = self.model, self.model.config
        B, n_mel, T = mel.shape
        spect = m.upsample(mel)[:, :, : T * UPSAMPLE_STRIDE]
        # [B, n_mel, N] -> [B, n_mel, N / g, g] -> [B, n_mel, g, N / g] -> [B, n_mel * g, N / g]
        spect = spect.reshape(B, n_mel, -1, cfg.n_group).permute(0, 1, 3, 2).reshape(B, n_mel * cfg.n_group, -1)
        noise = torch.split(z, self.sizes, 1)
        audio, early = noise[0], iter(noise[1:])
        for k in reversed(range(cfg.n_flows)):
            audio_0, audio_1 = m._split(audio, k)
            output = m.WN[k](audio_0, spect)
            n_half = audio_0.shape[1]
            audio_1 = (audio_1 - output[:, :n_half]) / torch.exp(output[:, n_half:])
            audio = m.convinv[k].reverse(m._merge(audio_0, audio_1, k))
            if cfg.is_early_output(k):
                audio = torch.cat([next(early), audio], 1)
        return audio.transpose(1, 2).reshape(B, -1)


def export_waveglow_onnx(model: WaveGlow, path: str | Path, opset: int = OPSET) -> Path:
    """Write `model` (a `WaveGlow`, float32, prepared for inference) as `path` (+ `path`.json)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    model = model.float().cpu().eval()
    if not model.inference_ready:
        model.prepare_for_inference()
    graph = WaveGlowGraph(model).eval()
    mel = torch.randn(1, model.config.n_mel_channels, 12) - 5
    z = torch.randn(1, sum(graph.sizes), 12 * UPSAMPLE_STRIDE // model.config.n_group)
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # the TorchScript-based exporter announces its deprecation
        torch.onnx.export(graph, (mel, z), str(path), dynamo=False, opset_version=opset, input_names=["mel", "z"],
                          output_names=["audio"], dynamic_axes={"mel": {0: "batch", 2: "frames"},
                                                                "z": {0: "batch", 2: "steps"},
                                                                "audio": {0: "batch", 1: "samples"}})
    manifest = {"format": FORMAT, "version": 1, "config": model.config.to_dict(), "audio": model.audio.to_dict(),
                "noise_channels": graph.sizes, "opset": opset}
    Path(str(path) + ".json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    return path


def quantize_waveglow_onnx(path: str | Path) -> Path:
    """onnxruntime's dynamic int8 quantization of an exported WaveGlow: `<name>.int8.onnx` beside it."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    path = Path(path)
    out = path.with_name(path.stem + ".int8.onnx")
    quantize_dynamic(str(path), str(out), weight_type=QuantType.QInt8)
    return out


def _manifest(path: Path) -> dict:
    manifest_path = Path(str(path) + ".json")
    if not manifest_path.is_file():
        raise FileNotFoundError(f"{manifest_path} is missing: export with `python -m tts.export_onnx`")
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    if manifest.get("format") != FORMAT:
        raise ValueError(f"{manifest_path} is not a WaveGlow ONNX manifest")
    return manifest


class OnnxWaveGlow(Vocoder):
    """A WaveGlow graph run by onnxruntime, usable where the pipeline uses a `WaveGlow`:
    `synthesize(mel, sigma, seed)` and `vocoder(mel, clip=..., sigma=..., seed=...)`; the denoiser works
    with it (`deterministic_kwargs`)."""

    name = "waveglow"
    needs_weights = True
    deterministic_kwargs = MappingProxyType({"sigma": 0.0})
    quantize = None

    def __init__(self, path: str | Path, quantize: str | None = None, threads: int | None = None):
        path = Path(path)
        if path.is_dir():
            path = path / "waveglow.onnx"
        manifest = _manifest(path)
        super().__init__(AudioSettings.from_dict(manifest["audio"]))
        self.config = WaveGlowConfig.from_dict(manifest["config"])
        self.noise_channels = list(manifest["noise_channels"])
        if quantize not in (None, "int8"):
            raise ValueError(f"quantize must be None or 'int8', got {quantize!r}")
        graph = path if quantize is None else path.with_name(path.stem + ".int8.onnx")
        if not graph.is_file():
            raise FileNotFoundError(f"{graph} is missing (export with --int8 for the int8 graph)")
        self.path, self.quantize = graph, quantize
        self.session = onnx_session(graph, threads)

    def synthesize(self, mel: torch.Tensor, sigma: float = DEFAULT_SIGMA, seed: int | None = None) -> torch.Tensor:
        """mel [B, 80, T] -> audio [B, T * 256] (float32, unclipped), noise as `WaveGlow.synthesize` draws it."""
        check_synthesis_input(mel, self.config.n_mel_channels, sigma)
        B, _, T = mel.shape
        steps = T * UPSAMPLE_STRIDE // self.config.n_group
        generator = None if seed is None else torch.Generator().manual_seed(seed)
        noise = [torch.randn((B, c, steps), generator=generator) for c in self.noise_channels]
        z = (sigma * torch.cat(noise, 1)).numpy()
        audio = self.session.run(None, {"mel": mel.detach().float().cpu().contiguous().numpy(), "z": z})[0]
        return torch.from_numpy(audio).to(mel.device)

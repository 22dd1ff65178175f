"""Loading WaveGlow checkpoints of every layout, through a restricted unpickler that runs no code.

NVIDIA-style pickles are built here from throwaway classes whose module is `glow` / `glow_old`;
that module exists in sys.modules only while saving, so loading must not import it.
"""
import contextlib
import os
import sys
import types
import warnings
from pathlib import Path

import pytest
import torch
from torch import nn

from tts.core.serialization import (
    CheckpointError,
    make_project_checkpoint,
    save_project_checkpoint,
)
from vocoder import VOCODERS, WaveGlow, WaveGlowConfig, load_waveglow, save_waveglow
from vocoder.waveglow.checkpoint import read_waveglow_checkpoint

CONFIG = WaveGlowConfig(n_flows=4, n_group=8, n_early_every=2, n_early_size=2, wn_n_layers=3, wn_n_channels=8)


def reference_model(alternate_halves: bool = False, seed: int = 0) -> WaveGlow:
    torch.manual_seed(seed)
    config = WaveGlowConfig(**{**CONFIG.to_dict(), "alternate_halves": alternate_halves})
    model = WaveGlow(config)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.05 * torch.randn_like(p))  # every tensor non-trivial, `end` included
    return model


def reference_audio(model: WaveGlow, mel: torch.Tensor) -> torch.Tensor:
    return model.synthesize(mel, sigma=0.6, seed=3)


MEL = torch.randn(1, 80, 6, generator=torch.Generator().manual_seed(1)) - 4


# ------------------------------------------------------------------ layouts (a) and (b) from (c)
def split_layout(state: dict, per_layer_cond: bool, separate_res_skip: bool) -> dict:
    """Fused layout (c) -> (b) (per-layer cond_layers) and/or (a) (separate res/skip layers)."""
    out = dict(state)
    L, C = CONFIG.wn_n_layers, CONFIG.wn_n_channels
    for k in range(CONFIG.n_flows):
        p = f"WN.{k}."
        for s in ("weight_g", "weight_v", "bias"):
            if per_layer_cond:
                fused = out.pop(f"{p}cond_layer.{s}")
                for i, part in enumerate(fused.split(2 * C)):
                    out[f"{p}cond_layers.{i}.{s}"] = part
            if separate_res_skip:
                for i in range(L):
                    res_skip = out.pop(f"{p}res_skip_layers.{i}.{s}")
                    if i < L - 1:
                        out[f"{p}res_layers.{i}.{s}"], out[f"{p}skip_layers.{i}.{s}"] = res_skip.split(C)
                    else:
                        out[f"{p}skip_layers.{i}.{s}"] = res_skip
    return out


# ------------------------------------------------------------------ NVIDIA-style pickles
def make_classes(module_name: str) -> types.SimpleNamespace:
    """nn.Module subclasses that pickle as `<module_name>.WaveGlow` etc. (bodies are ours, not NVIDIA's)."""
    classes = {}
    for name in ("WaveGlow", "WN", "Invertible1x1Conv"):
        cls = type(name, (nn.Module,), {"__module__": module_name, "__qualname__": name})
        classes[name] = cls
    return types.SimpleNamespace(**classes)


def weight_normed(conv: nn.Conv1d) -> nn.Conv1d:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        return torch.nn.utils.weight_norm(conv)  # the hook-based API NVIDIA's modules were pickled with


def nvidia_module_tree(layout_state: dict, wg, wn_cls, inv_cls, per_layer_cond: bool, separate_res_skip: bool) -> nn.Module:
    """A module tree shaped like NVIDIA's pickled WaveGlow, loaded with `layout_state` (g/v), so
    that every weight-normed conv keeps a stale `.weight` attribute, as in NVIDIA's checkpoints."""
    L, C, K = CONFIG.wn_n_layers, CONFIG.wn_n_channels, CONFIG.wn_kernel_size
    top = wg()
    top.upsample = nn.ConvTranspose1d(80, 80, 1024, stride=256)
    top.WN, top.convinv = nn.ModuleList(), nn.ModuleList()
    for channels in CONFIG.flow_channels():
        inv = inv_cls()
        inv.conv = nn.Conv1d(channels, channels, 1, bias=False)
        top.convinv.append(inv)
        wn = wn_cls()
        wn.n_layers, wn.n_channels = L, C
        wn.in_layers = nn.ModuleList(
            weight_normed(nn.Conv1d(C, 2 * C, K, dilation=2**i, padding=(K * 2**i - 2**i) // 2)) for i in range(L)
        )
        if separate_res_skip:
            wn.res_layers = nn.ModuleList(weight_normed(nn.Conv1d(C, C, 1)) for _ in range(L - 1))
            wn.skip_layers = nn.ModuleList(weight_normed(nn.Conv1d(C, C, 1)) for _ in range(L))
        else:
            wn.res_skip_layers = nn.ModuleList(
                weight_normed(nn.Conv1d(C, 2 * C if i < L - 1 else C, 1)) for i in range(L)
            )
        if per_layer_cond:
            wn.cond_layers = nn.ModuleList(weight_normed(nn.Conv1d(640, 2 * C, 1)) for _ in range(L))
        else:
            wn.cond_layer = weight_normed(nn.Conv1d(640, 2 * C * L, 1))
        wn.start = weight_normed(nn.Conv1d(channels // 2, C, 1))
        wn.end = nn.Conv1d(C, channels, 1)
        top.WN.append(wn)
    top.n_flows, top.n_group = CONFIG.n_flows, CONFIG.n_group
    top.n_early_every, top.n_early_size = CONFIG.n_early_every, CONFIG.n_early_size
    top.n_remaining_channels = CONFIG.n_remaining_channels
    top.load_state_dict(layout_state, strict=True)
    return top


@contextlib.contextmanager
def fake_modules(*names):
    """Register throwaway modules only while saving; they are gone before anything is loaded."""
    created = {name: make_classes(name) for name in names}
    for name, classes in created.items():
        module = types.ModuleType(name)
        module.__dict__.update(vars(classes))
        sys.modules[name] = module
    try:
        yield created
    finally:
        for name in names:
            del sys.modules[name]


def save_nvidia_pickle(path, model: WaveGlow, *, old: bool, legacy_format: bool, per_layer_cond: bool = False):
    """NVIDIA/waveglow train.py's checkpoint dict around a pickled module tree."""
    layout = split_layout(model.state_dict(), per_layer_cond=per_layer_cond or old, separate_res_skip=old)
    with fake_modules("glow", "glow_old") as mods:
        top_mod = mods["glow_old"] if old else mods["glow"]
        tree = nvidia_module_tree(layout, top_mod.WaveGlow, top_mod.WN, mods["glow"].Invertible1x1Conv,
                                  per_layer_cond=per_layer_cond or old, separate_res_skip=old)
        stale = tree.WN[0].start.weight
        assert not torch.allclose(stale, tree.WN[0].start.weight_g * tree.WN[0].start.weight_v / tree.WN[0].start.weight_v.norm(dim=(1, 2), keepdim=True))
        checkpoint = {"model": tree, "iteration": 7, "optimizer": {"state": {}, "param_groups": []}, "learning_rate": 1e-4}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # legacy save: "Couldn't retrieve source code"
            torch.save(checkpoint, path, _use_new_zipfile_serialization=not legacy_format)
    assert "glow" not in sys.modules and "glow_old" not in sys.modules


# ------------------------------------------------------------------ tests
@pytest.mark.parametrize("legacy_format", [False, True], ids=["zip", "legacy"])
def test_nvidia_pickle_current_layout(tmp_path, legacy_format):
    model = reference_model()
    path = tmp_path / "waveglow_10000"
    save_nvidia_pickle(path, model, old=False, legacy_format=legacy_format)
    loaded = load_waveglow(path)
    assert loaded.config == CONFIG and not loaded.training and loaded.inference_ready
    assert torch.allclose(reference_audio(loaded, MEL), reference_audio(model, MEL), atol=1e-5)


def test_nvidia_pickle_2019_layout_per_layer_cond(tmp_path):
    model = reference_model()
    path = tmp_path / "waveglow_256channels.pt"
    save_nvidia_pickle(path, model, old=False, legacy_format=True, per_layer_cond=True)
    assert torch.allclose(reference_audio(load_waveglow(path), MEL), reference_audio(model, MEL), atol=1e-5)


def test_nvidia_glow_old_pickle_separate_layers_and_alternating_halves(tmp_path):
    """waveglow_old.pt: glow_old.WaveGlow + glow_old.WN (res/skip/cond per layer), legacy format."""
    model = reference_model(alternate_halves=True)
    path = tmp_path / "waveglow_old.pt"
    save_nvidia_pickle(path, model, old=True, legacy_format=True)
    loaded = load_waveglow(path)
    assert loaded.config.alternate_halves
    assert torch.allclose(reference_audio(loaded, MEL), reference_audio(model, MEL), atol=1e-5)


def test_dle_state_dict_with_module_prefix_and_config(tmp_path):
    model = reference_model()
    layout = split_layout(model.state_dict(), per_layer_cond=True, separate_res_skip=False)
    config = {"n_mel_channels": 80, "n_flows": 4, "n_group": 8, "n_early_every": 2, "n_early_size": 2,
              "WN_config": {"n_layers": 3, "kernel_size": 3, "n_channels": 8}}
    path = tmp_path / "nvidia_waveglowpyt_fp16_20190427"
    # DLE AMP checkpoints hold fp16 tensors
    torch.save({"epoch": 1000, "config": config, "state_dict": {"module." + k: v.half() for k, v in layout.items()}}, path)
    loaded = load_waveglow(path)
    fp16_weights = reference_model()
    fp16_weights.load_state_dict({k: v.half().float() for k, v in model.state_dict().items()})
    assert torch.allclose(reference_audio(loaded, MEL), reference_audio(fp16_weights, MEL), atol=1e-5)


def test_plain_state_dicts_and_project_format(tmp_path):
    model = reference_model()
    expected = reference_audio(model, MEL)
    torch.save(model.state_dict(), tmp_path / "bare.pt")
    torch.save({"state_dict": model.state_dict(), "iteration": 1}, tmp_path / "wrapped.pt")
    save_waveglow(model, tmp_path / "project.pt", extra={"note": "test"})
    # a prepared (weight-norm folded, bf16-cast) model saves the same layout
    prepared = load_waveglow(tmp_path / "project.pt")
    save_waveglow(prepared, tmp_path / "project_again.pt")
    for name in ("bare.pt", "wrapped.pt", "project.pt", "project_again.pt"):
        assert torch.allclose(reference_audio(load_waveglow(tmp_path / name), MEL), expected, atol=1e-5), name
    project = torch.load(tmp_path / "project.pt", weights_only=True)
    assert project["model"] == "waveglow" and project["extra"] == {"note": "test"}
    assert set(project["state_dict"]) == set(model.state_dict())
    via_registry = VOCODERS.load("waveglow", tmp_path / "project.pt", dtype=torch.bfloat16)
    assert via_registry.WN[0].start.weight.dtype == torch.bfloat16
    assert all(c.conv.weight.dtype == torch.float32 for c in via_registry.convinv)


def test_config_inferred_from_shapes(tmp_path):
    model = reference_model()
    config, _, _ = read_waveglow_checkpoint(_save(tmp_path / "c.pt", model.state_dict()))
    assert config == CONFIG


def _save(path, obj):
    torch.save(obj, path)
    return path


class Exploit:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


@pytest.mark.parametrize("legacy_format", [False, True], ids=["zip", "legacy"])
def test_malicious_pickle_is_refused_without_running(tmp_path, legacy_format):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.pt"
    torch.save({"model": Exploit(marker), "iteration": 1}, path, _use_new_zipfile_serialization=not legacy_format)
    with pytest.raises(CheckpointError, match=r"system"):
        load_waveglow(path)
    assert not marker.exists()


def test_malicious_global_inside_a_glow_pickle_is_refused(tmp_path):
    marker = tmp_path / "pwned"
    model = reference_model()
    path = tmp_path / "evil_glow.pt"
    layout = model.state_dict()
    with fake_modules("glow", "glow_old") as mods:
        tree = nvidia_module_tree(layout, mods["glow"].WaveGlow, mods["glow"].WN, mods["glow"].Invertible1x1Conv, False, False)
        tree.payload = Exploit(marker)
        torch.save({"model": tree}, path)
    with pytest.raises(CheckpointError, match="refusing to load global"):
        load_waveglow(path)
    assert not marker.exists()


def test_bad_files_give_clear_errors(tmp_path):
    model = reference_model()
    good = tmp_path / "good.pt"
    save_nvidia_pickle(good, model, old=False, legacy_format=False)
    data = good.read_bytes()
    cases = {
        "truncated_zip": data[: len(data) // 2],
        "garbage": os.urandom(4096),
        "empty": b"",
    }
    legacy = tmp_path / "legacy.pt"
    save_nvidia_pickle(legacy, model, old=False, legacy_format=True)
    cases["truncated_legacy"] = legacy.read_bytes()[: legacy.stat().st_size // 2]
    for name, content in cases.items():
        path = tmp_path / name
        path.write_bytes(content)
        with pytest.raises(CheckpointError):
            load_waveglow(path)
    with pytest.raises(CheckpointError, match="not found"):
        load_waveglow(tmp_path / "missing.pt")


def test_tacotron2_files_are_rejected(tmp_path):
    tacotron_state = {"embedding.weight": torch.zeros(148, 4), "encoder.convolutions.0.0.conv.weight": torch.zeros(4, 4, 5)}
    path = _save(tmp_path / "tacotron2_statedict.pt", {"state_dict": tacotron_state, "iteration": 0})
    with pytest.raises(CheckpointError, match="Tacotron 2"):
        load_waveglow(path)
    project = tmp_path / "tacotron2.pt"
    save_project_checkpoint(project, make_project_checkpoint("tacotron2", {}, tacotron_state, model_audio()))
    with pytest.raises(CheckpointError, match="tacotron2"):
        load_waveglow(project)


def test_mismatched_weights_are_reported(tmp_path):
    state = reference_model().state_dict()
    del state["WN.1.start.bias"]
    state["WN.0.in_layers.0.weight_v"] = torch.zeros(3, 3, 3)
    path = _save(tmp_path / "broken.pt", state)
    with pytest.raises(CheckpointError, match="WN.1.start.bias"):
        load_waveglow(path)


def model_audio():
    from tts.core.audio import DEFAULT_AUDIO

    return DEFAULT_AUDIO


REFERENCE = str(Path(__file__).resolve().parents[2] / "shared" / "reference")


@pytest.mark.skipif(not os.path.exists(f"{REFERENCE}/waveglow_full_keys_dle_layout.json"), reason="reference key lists not available")
def test_full_size_dle_key_list_converts_to_nvidia_fused_keys():
    """The real 938-key DLE layout (shapes only, meta tensors) converts to the 686-key fused layout."""
    import json

    from vocoder.waveglow.checkpoint import infer_config, to_fused_layout

    with open(f"{REFERENCE}/waveglow_full_keys_dle_layout.json") as f:
        dle = json.load(f)
    with open(f"{REFERENCE}/waveglow_full_keys.json") as f:
        fused = json.load(f)
    state = {"module." + k: torch.empty(shape, device="meta") for k, shape in dle.items()}
    from tts.core.serialization import strip_prefixes

    converted = to_fused_layout(strip_prefixes(state))
    assert {k: list(v.shape) for k, v in converted.items()} == fused
    assert infer_config(converted) == WaveGlowConfig()

"""`train.compile` (`vocoder.waveglow.compiled`): the compact WaveGlow's coupling networks compiled for
training give the eager model's loss and gradients, synthesis stays eager, checkpoints are unchanged,
and the trainer runs, validates and checkpoints with it. Compiling takes tens of seconds: slow tests."""
from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch
import yaml

from tests.test_training import logged_losses, make_corpus
from vocoder import load_waveglow
from vocoder.waveglow.compiled import TrainingCompiled, compile_couplings


def test_compile_is_refused_for_other_models():
    with pytest.raises(TypeError, match="compact WaveGlow only, not Linear"):
        compile_couplings(torch.nn.Linear(2, 2))


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    return make_corpus(tmp_path_factory.mktemp("corpus"))


def write_config(path: Path, corpus: Path, vocoder: str = "waveglow_compact", compile_=True) -> Path:
    model = {"n_flows": 4, "n_group": 64, "n_early_every": 2, "n_early_size": 8, "wn_n_layers": 2,
             "wn_n_channels": 16}
    cfg = {
        "vocoder": vocoder,
        "model": model if vocoder == "waveglow_compact" else {},
        "data": {"corpus": str(corpus), "segment_length": 4096, "batch_size": 4, "val_size": 2},
        "optimizer": {"lr": 1e-3},
        "train": {"steps": 2, "checkpoint_every": 2, "validate_every": 2, "log_every": 1, "num_threads": 1,
                  "sample_seconds": 0.2, "compile": compile_},
    }
    path.write_text(yaml.safe_dump(cfg), encoding="utf-8")
    return path


@pytest.mark.slow
def test_compiled_training_matches_eager_training_and_synthesis_stays_eager(tmp_path, corpus):
    """One compilation (tens of seconds): the trainer with train.compile logs the eager run's losses
    (step 2's after an update by step 1's gradients), validates, checkpoints the same format, and the
    compiled model synthesizes through the eager path, bit for bit."""
    from vocoder.train import run_training

    compiled = run_training(["--config", str(write_config(tmp_path / "c.yaml", corpus)), "--run-dir",
                             str(tmp_path / "compiled")])
    run_training(["--config", str(write_config(tmp_path / "e.yaml", corpus, compile_=False)), "--run-dir",
                  str(tmp_path / "eager")])
    want, got = logged_losses(tmp_path / "eager"), logged_losses(tmp_path / "compiled")
    assert compiled.step == 2 and sorted(got) == [1, 2] and all(math.isfinite(v) for v in got.values())
    assert got == pytest.approx(want, rel=1e-4)
    assert (tmp_path / "compiled" / "plots" / "sample_step0000002.wav").is_file()
    checkpoint = tmp_path / "compiled" / "checkpoints" / "waveglow_compact_step0000002.pt"
    reloaded = load_waveglow(checkpoint)
    assert type(reloaded).__name__ == "CompactWaveGlow"
    model = compiled.model
    assert all(isinstance(wn.forward, TrainingCompiled) for wn in model.WN)
    assert model.state_dict().keys() == reloaded.state_dict().keys()
    twin = type(model)(model.config)  # eager, the same weights
    twin.load_state_dict(model.state_dict())
    model.eval(), twin.eval()
    mel = torch.randn(1, 80, 20) - 4
    assert torch.equal(model.synthesize(mel, sigma=0.5, seed=3), twin.synthesize(mel, sigma=0.5, seed=3))


@pytest.mark.parametrize("vocoder, value", [("waveglow", True), ("waveglow_compact", "yes"),
                                            ("waveglow_compact", 1)])
def test_compile_must_be_a_boolean_and_only_for_the_compact_waveglow(tmp_path, corpus, vocoder, value):
    from vocoder.train import load_config

    cfg = write_config(tmp_path / "v.yaml", corpus, vocoder, value)
    with pytest.raises(ValueError, match="train.compile must be true or false, and true only for waveglow_compact"):
        load_config(cfg)

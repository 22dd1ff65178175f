"""`python -m vocoder.train` with `vocoder: wavernn` and `vocoder: flowavenet`: the same trainer,
run directory, checkpoints and exact resume as WaveGlow (tests/test_training.py), on the same tiny
synthetic corpus with tiny models, so each test takes seconds on one CPU core."""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import yaml

from tests.test_training import logged_losses, make_corpus

TINY = {
    # pruning starts at step 2 and reaches 50% at step 6: the trainer must advance it
    "wavernn": {"rnn_dims": 32, "fc_dims": 16, "res_channels": 16, "res_blocks": 1, "aux_dims": 8,
                "prune_target": 0.5, "prune_block": [16, 1], "prune_start": 2, "prune_steps": 4, "prune_every": 2},
    "flowavenet": {"n_blocks": 3, "n_flows": 2, "n_layers": 2, "channels": 8, "block_per_split": 2,
                   "prior_layers": 1},
}
# WaveRNN's teacher-forced GRU runs sample by sample: short segments keep its steps fast
SEGMENT = {"wavernn": 768, "flowavenet": 2048}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    return make_corpus(tmp_path_factory.mktemp("corpus"))


def write_config(path: Path, corpus: Path, vocoder: str, segment_length: int | None = None, **train) -> Path:
    cfg = {
        "vocoder": vocoder,
        "model": TINY[vocoder],
        "data": {"corpus": str(corpus), "segment_length": segment_length or SEGMENT[vocoder], "batch_size": 4, "val_size": 2},
        "optimizer": {"lr": 3e-3, "grad_clip": 4.0},
        "train": {"steps": 8, "checkpoint_every": 4, "validate_every": 8, "log_every": 1, "num_threads": 1,
                  "sample_seconds": 0.1, **train},
    }
    path.write_text(yaml.safe_dump(cfg), encoding="utf-8")
    return path


def load_checkpoint(vocoder: str, path: Path):
    from vocoder import load_flowavenet, load_wavernn

    return {"wavernn": load_wavernn, "flowavenet": load_flowavenet}[vocoder](path)


@pytest.mark.parametrize("vocoder", ["wavernn", "flowavenet"])
def test_training_lowers_loss_checkpoints_and_resumes_exactly(tmp_path, corpus, vocoder, monkeypatch):
    from vocoder import FloWaveNet
    from vocoder.train import run_training

    init_calls = []
    original_init = FloWaveNet.initialize_actnorm

    def counting_init(self, mel, audio):
        init_calls.append(tuple(audio.shape))
        return original_init(self, mel, audio)

    monkeypatch.setattr(FloWaveNet, "initialize_actnorm", counting_init)
    cfg = write_config(tmp_path / "v.yaml", corpus, vocoder)
    straight, split = tmp_path / "straight", tmp_path / "split"
    trainer = run_training(["--config", str(cfg), "--run-dir", str(straight)])
    assert trainer.name == vocoder and trainer.step == 8
    losses = logged_losses(straight)
    assert sorted(losses) == list(range(1, 9)) and all(math.isfinite(v) for v in losses.values())
    assert np.mean([losses[s] for s in (6, 7, 8)]) < np.mean([losses[s] for s in (1, 2, 3)])
    assert [p.name for p in sorted((straight / "checkpoints").glob("*.pt"))] == [
        f"{vocoder}_step0000004.pt", f"{vocoder}_step0000008.pt"]
    assert (straight / "latest").read_text().strip() == f"checkpoints/{vocoder}_step0000008.pt"
    assert (straight / "plots" / "sample_step0000008.wav").is_file()

    model = load_checkpoint(vocoder, straight / "checkpoints" / f"{vocoder}_step0000008.pt")
    assert type(model).__name__ == type(trainer.model).__name__ and not model.training
    for key, value in TINY[vocoder].items():
        got = getattr(model.config, key)
        assert (list(got) if isinstance(got, tuple) else got) == value, key
    if vocoder == "wavernn":
        # pruning advanced inside the training calls: 8 steps counted, 50% of the blocks masked
        assert int(model.train_step) == 8 and model.sparsity == pytest.approx(0.5)
    else:
        assert model.actnorm_initialized and init_calls == [(4, SEGMENT[vocoder])]  # explicit, on the first batch

    run_training(["--config", str(cfg), "--run-dir", str(split), "--max-steps", "5"])
    init_calls.clear()
    resumed = run_training(["--config", str(cfg), "--run-dir", str(split), "--resume", "auto"])
    assert resumed.step == 8 and init_calls == []  # a resumed FloWaveNet keeps its trained ActNorm
    again = logged_losses(split)
    assert sorted(again) == list(range(1, 9))
    for step in losses:
        assert again[step] == pytest.approx(losses[step], abs=1e-5), step


@pytest.mark.parametrize("vocoder", ["wavernn", "flowavenet"])
def test_segment_length_must_be_whole_frames(tmp_path, corpus, vocoder):
    from vocoder.train import run_training

    cfg = write_config(tmp_path / "v.yaml", corpus, vocoder, segment_length=2000)
    with pytest.raises(ValueError, match=r"segment_length \(2000\) must be a multiple of the hop length \(256\)"):
        run_training(["--config", str(cfg), "--run-dir", str(tmp_path / "run")])
    cfg = write_config(tmp_path / "v.yaml", corpus, vocoder, segment_length=512)  # whole frames, too short
    with pytest.raises(ValueError, match=r"segment_length \(512\) must be more than filter_length / 2"):
        run_training(["--config", str(cfg), "--run-dir", str(tmp_path / "run")])
    assert not (tmp_path / "run").exists()


def test_config_errors_name_the_problem(tmp_path, corpus):
    from vocoder.train import load_config, run_training

    cfg = write_config(tmp_path / "v.yaml", corpus, "wavernn", precision="bf16")
    with pytest.raises(ValueError, match="WaveRNN trains in fp32"):
        run_training(["--config", str(cfg), "--run-dir", str(tmp_path / "run")])
    data = yaml.safe_load(cfg.read_text())
    data["vocoder"] = "melgan"
    cfg.write_text(yaml.safe_dump(data))
    with pytest.raises(ValueError, match="unknown vocoder 'melgan'.*wavernn"):
        load_config(cfg)
    data["vocoder"] = "flowavenet"  # a WaveRNN model section under the FloWaveNet switch
    cfg.write_text(yaml.safe_dump(data))
    with pytest.raises(ValueError, match="unknown FloWaveNetConfig entries"):
        load_config(cfg)
    # no `vocoder` key: WaveGlow, as before the switch existed
    del data["vocoder"], data["model"]
    cfg.write_text(yaml.safe_dump(data))
    assert load_config(cfg)["vocoder"] == "waveglow"

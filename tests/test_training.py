"""Training code: data pipeline, guided attention, Tacotron 2 / WaveGlow trainers, exact resume.

Everything runs on a tiny synthetic corpus (a few short tone/noise clips) and tiny models, so each
training test takes seconds on one CPU core.
"""
from __future__ import annotations

import json
import math
import os
from pathlib import Path

import numpy as np
import pytest
import soundfile
import torch
import yaml

from tts.core.audio import AudioSettings
from tts.core.plotting import plot_alignment, plot_mel
from tts.tacotron2.train import guided_attention_loss
from tts.training.data import (
    BucketBatchSampler,
    MelCache,
    TextMelCollate,
    load_or_make_split,
    precompute,
    read_filelist,
    read_ljspeech,
    split_validation,
)

SR = 22050
WORDS = ["alpha", "beta", "gamma", "delta", "echo", "foxtrot", "golf", "hotel"]

TINY_TACOTRON = {
    "symbols_embedding_dim": 32, "encoder_embedding_dim": 32, "encoder_n_convolutions": 1,
    "attention_rnn_dim": 64, "decoder_rnn_dim": 64, "prenet_dim": 32, "attention_dim": 16,
    "attention_location_n_filters": 4, "attention_location_kernel_size": 7,
    "postnet_embedding_dim": 32, "postnet_n_convolutions": 2, "n_frames_per_step": 2,
}
TINY_WAVEGLOW = {"n_flows": 4, "n_group": 8, "n_early_every": 2, "n_early_size": 2, "wn_n_layers": 2,
                 "wn_n_channels": 16}


def make_corpus(root: Path, n: int = 16) -> Path:
    """LJSpeech layout: chirps with a little noise, 0.25 s per word; one held-out clip."""
    rng = np.random.default_rng(0)
    (root / "wavs").mkdir(parents=True)
    rows = []
    for i in range(n + 1):
        k = 2 + i % 3
        text = " ".join(WORDS[(i + j) % len(WORDS)] for j in range(k))
        t = np.arange(int(SR * 0.25 * k)) / SR
        audio = 0.3 * np.sin(2 * np.pi * (180 + 40 * (i % 5)) * t * (1 + t)) + 0.01 * rng.standard_normal(t.size)
        soundfile.write(root / "wavs" / f"c{i:03d}.wav", audio.astype(np.float32), SR, subtype="PCM_16")
        rows.append(f"c{i:03d}|{text.capitalize()}.|{text}")
    (root / "metadata.csv").write_text("\n".join(rows[:n]) + "\n", encoding="utf-8")
    (root / "heldout.csv").write_text(rows[n] + "\n", encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    return make_corpus(tmp_path_factory.mktemp("corpus"))


def write_config(path: Path, corpus: Path, cache: Path, **train) -> Path:
    cfg = {
        "model": TINY_TACOTRON,
        "data": {"corpus": str(corpus), "cache_dir": str(cache), "batch_size": 4, "val_size": 2,
                 "precompute_workers": 1},
        "optimizer": {"lr": 3e-3, "decay_start": 0, "decay_half_life": 1000},
        "train": {"steps": 10, "checkpoint_every": 4, "validate_every": 1000, "log_every": 1, "keep_last": 2,
                  "num_threads": 1, **train},
    }
    path.write_text(yaml.safe_dump(cfg), encoding="utf-8")
    return path


def logged_losses(run_dir: Path) -> dict[int, float]:
    records = [json.loads(line) for line in (run_dir / "train_log.jsonl").read_text().splitlines()]
    return {r["step"]: r["loss"] for r in records if "loss" in r}


# --------------------------------------------------------------------------- data


def test_ljspeech_reader_uses_normalized_text_and_drops_heldout(corpus):
    items = read_ljspeech(corpus)
    assert len(items) == 16
    assert items[0].text == "alpha beta" and items[0].wav == corpus / "wavs" / "c000.wav"
    assert "c016" not in {u.id for u in items}
    # a held-out sentence is dropped by text too, whatever its id in metadata.csv
    held_text = (corpus / "heldout.csv").read_text().split("|")[2].strip()
    with open(corpus / "metadata.csv", "a") as f:
        f.write(f"dup001|x|{held_text}\n")
    try:
        assert "dup001" not in {u.id for u in read_ljspeech(corpus)}
    finally:
        lines = (corpus / "metadata.csv").read_text().splitlines()[:-1]
        (corpus / "metadata.csv").write_text("\n".join(lines) + "\n")


def test_filelist_reader(tmp_path, corpus):
    filelist = tmp_path / "list.txt"
    filelist.write_text(f"{corpus}/wavs/c000.wav|Hello there.\n{corpus}/wavs/c001.wav|Second one.\n")
    items = read_filelist(filelist)
    assert [(u.id, u.text) for u in items] == [("c000", "Hello there."), ("c001", "Second one.")]
    filelist.write_text("no separator here\n")
    with pytest.raises(ValueError, match="path\\|text"):
        read_filelist(filelist)


def test_validation_split_is_fixed_and_stored(tmp_path):
    ids = [f"u{i}" for i in range(50)]
    val = split_validation(ids, 5, seed=3)
    assert val == split_validation(list(reversed(ids)), 5, seed=3)  # order of the corpus does not matter
    assert val != split_validation(ids, 5, seed=4)
    stored = load_or_make_split(tmp_path, ids, 5, seed=3)
    assert stored == val
    # once stored, a grown corpus or another seed keeps the same validation clips
    assert load_or_make_split(tmp_path, ids + ["new"], 7, seed=9) == val
    with pytest.raises(ValueError):
        split_validation(ids[:3], 3, seed=0)


def test_mel_cache_is_keyed_by_settings_and_refreshes_stale_clips(tmp_path, corpus):
    items = read_ljspeech(corpus)[:3]
    cache = MelCache(tmp_path, AudioSettings())
    assert precompute(cache, items, workers=1, progress=False) == 3
    assert precompute(cache, items, workers=1, progress=False) == 0
    mel = cache.load(items[0])
    assert mel.shape[0] == 80 and cache.frames(items[0]) == mel.shape[1]
    other = MelCache(tmp_path, AudioSettings(mel_fmax=7600.0))
    assert other.root != cache.root and not other.is_fresh(items[0])
    future = cache.path(items[1]).stat().st_mtime + 10
    os.utime(items[1].wav, (future, future))  # the wav changed after its mel was cached
    assert precompute(cache, items, workers=1, progress=False) == 1


def test_collate_pads_to_multiple_of_r_with_gate_targets():
    batch = [(torch.tensor([5, 6]), torch.full((80, 5), 1.0)), (torch.tensor([7, 8, 9, 10]), torch.full((80, 3), 2.0))]
    out = TextMelCollate(n_frames_per_step=2, mel_pad_value=-11.5)(batch)
    assert out.text.tolist() == [[7, 8, 9, 10], [5, 6, 0, 0]]  # longest text first, 0-padded
    assert out.text_lengths.tolist() == [4, 2]
    assert out.mel_lengths.tolist() == [3, 5]
    assert out.mels.shape == (2, 80, 6)
    assert torch.all(out.mels[0, :, :3] == 2.0) and torch.all(out.mels[0, :, 3:] == -11.5)
    assert torch.all(out.mels[1, :, :5] == 1.0) and torch.all(out.mels[1, :, 5:] == -11.5)
    assert out.gate.tolist() == [[0, 0, 1, 1, 1, 1], [0, 0, 0, 0, 1, 1]]


def test_bucket_sampler_deterministic_covering_and_rank_partitioned():
    lengths = [int(x) for x in np.random.default_rng(1).integers(10, 500, size=103)]
    sampler = BucketBatchSampler(lengths, 8, seed=5, bucket_batches=4)
    epoch0 = list(sampler)
    assert sorted(i for b in epoch0 for i in b) == list(range(103))  # every clip once (drop_last False)
    assert epoch0 == BucketBatchSampler(lengths, 8, seed=5, bucket_batches=4).batches_of_epoch(0)
    sampler.set_epoch(1)
    assert list(sampler) != epoch0
    # batches come from length buckets: far less padding than random batches
    spread = np.mean([max(lengths[i] for i in b) - min(lengths[i] for i in b) for b in epoch0])
    assert spread < 150
    # resume mid-epoch
    sampler.set_epoch(0, start_batch=3)
    assert list(sampler) == epoch0[3:] and len(sampler) == len(epoch0) - 3
    # two ranks: disjoint, equal counts, identical across instances
    r0 = BucketBatchSampler(lengths, 8, seed=5, drop_last=True, rank=0, world_size=2).batches_of_epoch(2)
    r1 = BucketBatchSampler(lengths, 8, seed=5, drop_last=True, rank=1, world_size=2).batches_of_epoch(2)
    assert len(r0) == len(r1) == 6
    assert not {i for b in r0 for i in b} & {i for b in r1 for i in b}
    with pytest.raises(ValueError):
        BucketBatchSampler(lengths, 8, rank=2, world_size=2)


# --------------------------------------------------------------------------- guided attention


def reference_guided_attention(a: np.ndarray, n_text: int, n_dec: int, g: float) -> float:
    """Tachibana et al.'s formula, written out cell by cell."""
    total = 0.0
    for t in range(n_dec):
        for n in range(n_text):
            w = 1.0 - math.exp(-((n / n_text - t / n_dec) ** 2) / (2 * g * g))
            total += a[t, n] * w
    return total / (n_text * n_dec)


def test_guided_attention_diagonal_vs_antidiagonal():
    n_text, n_dec, g = 12, 30, 0.2
    diag = np.zeros((n_dec, n_text), np.float32)
    anti = np.zeros((n_dec, n_text), np.float32)
    for t in range(n_dec):
        diag[t, min(n_text - 1, round(t * n_text / n_dec))] = 1.0
        anti[t, n_text - 1 - min(n_text - 1, round(t * n_text / n_dec))] = 1.0
    # batch of two, padded further than either item: padding cells must not count
    a = torch.full((2, n_dec + 4, n_text + 3), 0.7)
    a[0, :n_dec, :n_text] = torch.from_numpy(diag)
    a[1, :n_dec, :n_text] = torch.from_numpy(anti)
    lengths, steps = torch.tensor([n_text, n_text]), torch.tensor([n_dec, n_dec])
    got_diag = float(guided_attention_loss(a[:1], lengths[:1], steps[:1], g))
    got_anti = float(guided_attention_loss(a[1:], lengths[1:], steps[1:], g))
    assert got_diag == pytest.approx(reference_guided_attention(diag, n_text, n_dec, g), rel=1e-5)
    assert got_anti == pytest.approx(reference_guided_attention(anti, n_text, n_dec, g), rel=1e-5)
    assert got_diag < 0.005 < 0.05 < got_anti
    both = float(guided_attention_loss(a, lengths, steps, g))
    assert both == pytest.approx((got_diag + got_anti) / 2, rel=1e-5)


# --------------------------------------------------------------------------- plots


def test_plots_are_images_with_origin_bottom_left():
    alignment = torch.eye(20)  # decoder step t attends symbol t
    image = plot_alignment(alignment)
    assert image.mode == "RGB" and image.width >= 20 and image.height >= 20
    px = np.asarray(image).astype(int).sum(axis=2)
    # bright at (first step, first symbol) = bottom-left, dark at top-left
    assert px[-1, 0] > px[0, 0]
    mel = torch.linspace(-11, 2, 80)[:, None].repeat(1, 50)  # loud at high mels
    mel_px = np.asarray(plot_mel(mel)).astype(int).sum(axis=2)
    assert mel_px[0, 0] > mel_px[-1, 0]
    with pytest.raises(ValueError):
        plot_mel(torch.zeros(3, 4, 5, 6))


# --------------------------------------------------------------------------- Tacotron 2 training


def test_tacotron2_training_lowers_loss_and_writes_run(tmp_path, corpus):
    from tts import load_tacotron2
    from tts.tacotron2.train import run_training

    cfg = write_config(tmp_path / "c.yaml", corpus, tmp_path / "cache", steps=16, checkpoint_every=8,
                       validate_every=8)
    run_dir = tmp_path / "run"
    run_training(["--config", str(cfg), "--run-dir", str(run_dir)])
    losses = logged_losses(run_dir)
    assert len(losses) == 16 and all(math.isfinite(v) for v in losses.values())
    first, last = np.mean([losses[s] for s in (1, 2, 3)]), np.mean([losses[s] for s in (14, 15, 16)])
    assert last < 0.7 * first
    ckpts = sorted((run_dir / "checkpoints").glob("*.pt"))
    assert [p.name for p in ckpts] == ["tacotron2_step0000008.pt", "tacotron2_step0000016.pt"]
    assert (run_dir / "latest").read_text().strip() == "checkpoints/tacotron2_step0000016.pt"
    assert (run_dir / "checkpoints" / "tacotron2_step0000016.yaml").is_file()
    assert (run_dir / "plots" / "alignment_step0000016.png").is_file()
    assert len((run_dir / "val_ids.txt").read_text().split()) == 2
    model = load_tacotron2(ckpts[-1])
    assert model.config.n_frames_per_step == 2 and model.config.decoder_rnn_dim == 64
    assert model.checkpoint_extra["step"] == 16


def test_tacotron2_resume_continues_the_same_loss_curve(tmp_path, corpus):
    from tts.tacotron2.train import run_training

    cfg = write_config(tmp_path / "c.yaml", corpus, tmp_path / "cache", checkpoint_every=5, validate_every=5)
    straight, split = tmp_path / "straight", tmp_path / "split"
    run_training(["--config", str(cfg), "--run-dir", str(straight), "--max-steps", "11"])
    run_training(["--config", str(cfg), "--run-dir", str(split), "--max-steps", "7"])  # stops mid-epoch
    run_training(["--config", str(cfg), "--run-dir", str(split), "--max-steps", "11", "--resume", "auto"])
    a, b = logged_losses(straight), logged_losses(split)
    assert sorted(a) == sorted(b) == list(range(1, 12))
    for step in a:
        assert b[step] == pytest.approx(a[step], abs=1e-6), step


def test_resume_applies_an_edited_learning_rate_schedule_and_says_so(tmp_path, corpus, capsys):
    """Loading the optimizer / scheduler state must not silently bring back the checkpoint's schedule."""
    from tts.tacotron2.train import run_training

    cfg = write_config(tmp_path / "c.yaml", corpus, tmp_path / "cache", checkpoint_every=6, validate_every=100)
    run_dir = tmp_path / "run"
    run_training(["--config", str(cfg), "--run-dir", str(run_dir), "--max-steps", "6"])
    edited = yaml.safe_load(cfg.read_text())
    edited["optimizer"].update(lr=1e-3, decay_half_life=2)
    cfg.write_text(yaml.safe_dump(edited), encoding="utf-8")
    capsys.readouterr()
    run_training(["--config", str(cfg), "--run-dir", str(run_dir), "--max-steps", "9", "--resume", "auto"])
    err = capsys.readouterr().err
    assert "optimizer settings changed" in err and "lr: 0.003 -> 0.001" in err and "decay_half_life: 1000 -> 2" in err

    records = [json.loads(line) for line in (run_dir / "train_log.jsonl").read_text().splitlines()]
    lr = {r["step"]: r["lr"] for r in records if "lr" in r}
    for step in range(1, 7):
        assert lr[step] == pytest.approx(3e-3 * 0.5 ** (step / 1000)), step
    for step in range(7, 10):
        assert lr[step] == pytest.approx(1e-3 * 0.5 ** (step / 2)), step

    capsys.readouterr()  # an unchanged config resumes without the notice
    run_training(["--config", str(cfg), "--run-dir", str(run_dir), "--max-steps", "10", "--resume", "auto"])
    assert "optimizer settings changed" not in capsys.readouterr().err


def test_embedding_learning_rate_scale_is_its_own_group_and_refuses_a_changed_run(tmp_path, corpus):
    from tts.tacotron2.train import run_training
    from tts.training.loop import make_optimizer

    model = torch.nn.Sequential()
    model.add_module("embedding", torch.nn.Embedding(4, 2))
    model.add_module("layer", torch.nn.Linear(2, 2))
    settings = {"lr": 1e-3, "betas": [0.9, 0.999], "eps": 1e-6, "weight_decay": 0.0, "decay_start": 0,
                "decay_half_life": 0, "final_lr": 1e-5}
    optimizer, _ = make_optimizer(model, settings, {"embedding.": 10.0})
    assert [g["lr"] for g in optimizer.param_groups] == [1e-3, pytest.approx(1e-2)]
    assert optimizer.param_groups[1]["params"] == [model.embedding.weight] and len(optimizer.param_groups[0]["params"]) == 2
    assert len(make_optimizer(model, settings, {"embedding.": 1.0})[0].param_groups) == 1  # a factor of 1: no group
    with pytest.raises(ValueError, match="no parameter's name starts with 'encoder.'"):
        make_optimizer(model, settings, {"encoder.": 2.0})

    cfg = write_config(tmp_path / "c.yaml", corpus, tmp_path / "cache", checkpoint_every=3, validate_every=100)
    run_dir = tmp_path / "run"
    run_training(["--config", str(cfg), "--run-dir", str(run_dir), "--max-steps", "3"])
    edited = yaml.safe_load(cfg.read_text())
    edited["optimizer"]["embedding_lr_scale"] = 10.0
    cfg.write_text(yaml.safe_dump(edited), encoding="utf-8")
    with pytest.raises(ValueError, match="2 parameter groups in this config and 1 in the checkpoint"):
        run_training(["--config", str(cfg), "--run-dir", str(run_dir), "--max-steps", "4", "--resume", "auto"])
    fresh = tmp_path / "fresh"  # a new run with the scale trains
    run_training(["--config", str(cfg), "--run-dir", str(fresh), "--max-steps", "2"])
    assert sorted(logged_losses(fresh)) == [1, 2]


def test_sigterm_saves_a_checkpoint_and_the_resume_continues_the_curve(tmp_path, corpus, monkeypatch):
    """`kill` (SIGTERM) mid-run: the step in flight finishes, a checkpoint is written at that step
    (not only at checkpoint_every), the process returns normally and resuming loses nothing."""
    import signal

    from tts.tacotron2.train import run_training
    from tts.training import loop as training_utils

    cfg = write_config(tmp_path / "c.yaml", corpus, tmp_path / "cache", checkpoint_every=100, validate_every=100)
    straight, killed = tmp_path / "straight", tmp_path / "killed"
    run_training(["--config", str(cfg), "--run-dir", str(straight), "--max-steps", "9"])

    original_step = training_utils.Trainer.train_step

    def step_then_signal(self, batch):
        if self.step == 5:  # during the 6th step
            signal.raise_signal(signal.SIGTERM)
        return original_step(self, batch)

    handler_before = signal.getsignal(signal.SIGTERM)
    with monkeypatch.context() as m:
        m.setattr(training_utils.Trainer, "train_step", step_then_signal)
        run_training(["--config", str(cfg), "--run-dir", str(killed), "--max-steps", "9"])
    assert signal.getsignal(signal.SIGTERM) is handler_before
    assert [p.name for p in (killed / "checkpoints").glob("*.pt")] == ["tacotron2_step0000006.pt"]
    assert max(logged_losses(killed)) == 6

    run_training(["--config", str(cfg), "--run-dir", str(killed), "--max-steps", "9", "--resume", "auto"])
    a, b = logged_losses(straight), logged_losses(killed)
    assert sorted(a) == sorted(b) == list(range(1, 10))
    for step in a:
        assert b[step] == pytest.approx(a[step], abs=1e-6), step


def test_tacotron2_bf16_autocast_runs(tmp_path, corpus):
    from tts.tacotron2.train import run_training

    cfg = write_config(tmp_path / "c.yaml", corpus, tmp_path / "cache", precision="bf16", steps=3)
    run_training(["--config", str(cfg), "--run-dir", str(tmp_path / "run")])
    assert all(math.isfinite(v) for v in logged_losses(tmp_path / "run").values())


def test_mix_decoder_inputs_swaps_whole_groups_at_the_rate_asked():
    from tts.tacotron2.train import mix_decoder_inputs, sampling_probability

    torch.manual_seed(0)
    mels, predicted = torch.zeros(64, 3, 200), torch.ones(64, 3, 200)
    mixed = mix_decoder_inputs(mels, predicted, 0.25, 2)
    own = mixed[:, 0, :]
    assert torch.equal(mixed, own[:, None, :].expand_as(mixed))  # every band of a frame from the same source
    assert torch.equal(own[:, 0::2], own[:, 1::2])  # a group of r = 2 frames is swapped whole
    assert abs(own.mean().item() - 0.25) < 0.03
    assert torch.equal(mix_decoder_inputs(mels, predicted, 0.0, 2), mels)
    assert torch.equal(mix_decoder_inputs(mels, predicted, 1.0, 2), predicted)
    assert sampling_probability(0, 0.3, 100) == 0.0 and sampling_probability(50, 0.3, 100) == pytest.approx(0.15)
    assert sampling_probability(500, 0.3, 100) == 0.3 and sampling_probability(0, 0.3, 0) == 0.3
    with pytest.raises(ValueError, match="scheduled_sampling"):
        sampling_probability(0, 1.5, 0)


def test_decoder_inputs_default_to_the_targets_and_feed_the_decoder():
    from tts.tacotron2 import Tacotron2, Tacotron2Config

    torch.manual_seed(0)
    model = Tacotron2(Tacotron2Config(**TINY_TACOTRON)).eval()
    text, lengths = torch.randint(1, 40, (2, 9)), torch.tensor([9, 7])
    mels, mel_lengths = torch.randn(2, 80, 12), torch.tensor([12, 10])

    def run(**kw):  # the prenet's dropout is on in eval mode too: the same masks for every call
        torch.manual_seed(1)
        with torch.no_grad():
            return model(text, lengths, mels, mel_lengths, **kw)

    plain, same, other = run(), run(decoder_inputs=mels.clone()), run(decoder_inputs=torch.zeros_like(mels))
    assert torch.equal(plain.mel_postnet, same.mel_postnet)
    assert torch.equal(plain.mel[:, :, :2], other.mel[:, :, :2])  # the first step reads the go frame either way
    assert not torch.allclose(plain.mel[:, :, 2:10], other.mel[:, :, 2:10])
    with pytest.raises(ValueError, match="decoder_inputs"):
        model(text, lengths, mels, mel_lengths, decoder_inputs=mels[:, :, :10])


def test_scheduled_sampling_training_runs_and_logs_its_rate(tmp_path, corpus):
    from tts.tacotron2.train import run_training

    cfg = write_config(tmp_path / "c.yaml", corpus, tmp_path / "cache", steps=4,
                       scheduled_sampling={"p": 0.5, "ramp_steps": 4})
    run_training(["--config", str(cfg), "--run-dir", str(tmp_path / "run")])
    records = [json.loads(line) for line in (tmp_path / "run" / "train_log.jsonl").read_text().splitlines()]
    rates = [r.get("sampling_p") for r in records if "loss" in r]
    assert all(math.isfinite(r["loss"]) for r in records if "loss" in r)
    assert rates[0] is None or rates[0] == pytest.approx(0.0)  # step 0 of the ramp: plain teacher forcing
    assert rates[-1] == pytest.approx(0.375)  # the 4th step (step index 3) of a 4-step ramp to 0.5
    bad = write_config(tmp_path / "bad.yaml", corpus, tmp_path / "cache", scheduled_sampling={"p": 2.0, "ramp_steps": 0})
    with pytest.raises(ValueError, match="scheduled_sampling"):
        run_training(["--config", str(bad), "--run-dir", str(tmp_path / "r2")])


def test_config_errors_are_clear(tmp_path, corpus):
    from tts.tacotron2.train import run_training

    cfg = write_config(tmp_path / "c.yaml", corpus, tmp_path / "cache")
    data = yaml.safe_load(cfg.read_text())
    data["train"]["stepz"] = 3
    cfg.write_text(yaml.safe_dump(data))
    with pytest.raises(ValueError, match="stepz"):
        run_training(["--config", str(cfg)])
    cfg = write_config(tmp_path / "c.yaml", corpus, tmp_path / "cache", precision="fp16")
    with pytest.raises(ValueError, match="fp16"):
        run_training(["--config", str(cfg), "--run-dir", str(tmp_path / "r"), "--device", "cpu"])


@pytest.mark.parametrize("trainer", ["tts.tacotron2.train", "vocoder.train"])
def test_a_missing_corpus_is_refused_before_the_run_folder_is_made(tmp_path, trainer):
    import importlib

    run_training = importlib.import_module(trainer).run_training
    cfg = (write_config if trainer.startswith("tts") else write_waveglow_config)(
        tmp_path / "c.yaml", tmp_path / "no_corpus", *(() if trainer == "vocoder.train" else (tmp_path / "cache",)))
    with pytest.raises(ValueError, match="corpus not found.*build_corpus.py"):
        run_training(["--config", str(cfg), "--run-dir", str(tmp_path / "run")])
    assert not (tmp_path / "run").exists()


# --------------------------------------------------------------------------- WaveGlow training


def write_waveglow_config(path: Path, corpus: Path, **train) -> Path:
    cfg = {
        "model": TINY_WAVEGLOW,
        "data": {"corpus": str(corpus), "segment_length": 2048, "batch_size": 4, "val_size": 2},
        "optimizer": {"lr": 1e-3},
        "train": {"steps": 12, "checkpoint_every": 6, "validate_every": 12, "log_every": 1, "num_threads": 1,
                  "sample_seconds": 0.3, **train},
    }
    path.write_text(yaml.safe_dump(cfg), encoding="utf-8")
    return path


def test_waveglow_training_lowers_loss_and_resumes_exactly(tmp_path, corpus):
    from vocoder.train import run_training

    cfg = write_waveglow_config(tmp_path / "w.yaml", corpus)
    straight, split = tmp_path / "straight", tmp_path / "split"
    run_training(["--config", str(cfg), "--run-dir", str(straight)])
    losses = logged_losses(straight)
    assert np.mean([losses[s] for s in (10, 11, 12)]) < np.mean([losses[s] for s in (1, 2, 3)])
    assert (straight / "plots" / "sample_step0000012.wav").is_file()
    run_training(["--config", str(cfg), "--run-dir", str(split), "--max-steps", "6"])
    run_training(["--config", str(cfg), "--run-dir", str(split), "--resume", "auto"])
    resumed = logged_losses(split)
    for step in losses:
        assert resumed[step] == pytest.approx(losses[step], abs=1e-6), step
    from vocoder import load_waveglow

    vocoder = load_waveglow(straight / "checkpoints" / "waveglow_step0000012.pt")
    assert vocoder.config.n_flows == 4


def test_warm_start_from_nvidia_layout_skips_a_different_embedding(tmp_path, corpus):
    from tts.tacotron2 import Tacotron2, Tacotron2Config
    from tts.tacotron2.train import run_training

    torch.manual_seed(7)
    source = Tacotron2(Tacotron2Config(**{**TINY_TACOTRON, "n_symbols": 150}))
    nvidia = tmp_path / "checkpoint_100"  # NVIDIA/tacotron2's train.py layout
    torch.save({"iteration": 100, "state_dict": source.state_dict(), "learning_rate": 1e-3}, nvidia)
    cfg = write_config(tmp_path / "c.yaml", corpus, tmp_path / "cache", steps=1, checkpoint_every=1)
    trainer = run_training(["--config", str(cfg), "--run-dir", str(tmp_path / "run"), "--warm-start", str(nvidia)])
    trained = trainer.model.state_dict()
    assert trained["embedding.weight"].shape[0] == 148
    # one Adam step moves each weight by about the learning rate at most
    delta = (trained["decoder.linear_projection.linear_layer.weight"]
             - source.state_dict()["decoder.linear_projection.linear_layer.weight"]).abs().max()
    assert float(delta) < 0.01

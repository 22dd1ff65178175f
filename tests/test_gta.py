"""Stage 2 of a vocoder: ground-truth-aligned (GTA) mels of a Tacotron 2 (recipes/default_voice/dump_gta.py)
and `vocoder.train` with `data.mel_dir` and `--warm-start`, on the tiny synthetic corpus of
tests/test_training.py with tiny models (seconds each, one CPU core)."""
from __future__ import annotations

import importlib.util
import json
import math
from pathlib import Path

import numpy as np
import pytest
import soundfile
import torch
import yaml

from tests.test_training import TINY_TACOTRON, logged_losses, make_corpus
from tts.core.audio import AudioSettings, load_wav, mel_spectrogram, n_frames
from tts.training.data import read_all_clips, write_mel_dir_manifest

RECIPE = Path(__file__).resolve().parents[1] / "recipes" / "default_voice" / "dump_gta.py"
SETTINGS = AudioSettings()
HOP = SETTINGS.hop_length
TINY_COMPACT = {"n_flows": 4, "n_group": 32, "n_early_every": 2, "n_early_size": 4, "wn_n_layers": 2,
                "wn_n_channels": 16}


def _load_dump_gta():
    spec = importlib.util.spec_from_file_location("dump_gta", RECIPE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


dump_gta = _load_dump_gta()


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    return make_corpus(tmp_path_factory.mktemp("corpus"))


def tiny_tacotron2(path: Path, r: int, seed: int = 0) -> Path:
    from tts.tacotron2 import Tacotron2, Tacotron2Config, save_tacotron2

    torch.manual_seed(seed)
    save_tacotron2(Tacotron2(Tacotron2Config(**{**TINY_TACOTRON, "n_frames_per_step": r})), path)
    return path


def run_dump(capsys, *args) -> tuple[int, str]:
    code = dump_gta.main([*map(str, args), "--quiet"])
    return code, capsys.readouterr().err


def gt_mel(wav: Path) -> torch.Tensor:
    return mel_spectrogram(load_wav(wav, SETTINGS), SETTINGS)  # what the trainers compute


# --------------------------------------------------------------------------- dump_gta.py


@pytest.mark.parametrize("r", [1, 2])
def test_dump_writes_one_float16_mel_per_clip_with_the_ground_truth_frame_count(tmp_path, corpus, capsys, r):
    ckpt = tiny_tacotron2(tmp_path / "t2.pt", r)
    out = tmp_path / "gta"
    code, err = run_dump(capsys, "--corpus", corpus, "--tacotron2", ckpt, "--out", out, "--batch-size", 5)
    assert code == 0, err
    clips = read_all_clips(corpus)
    assert len(clips) == 17 and clips[-1].id == "c016"  # the held-out clip is dumped too
    assert sorted(p.stem for p in out.glob("*.npy")) == sorted(u.id for u in clips)
    assert not list(out.glob(".*"))  # no temporary file left
    for u in clips:
        mel = np.load(out / f"{u.id}.npy")
        frames = n_frames(soundfile.info(str(u.wav)).frames, SETTINGS)
        assert mel.dtype == np.float16 and mel.shape == (80, frames) and np.isfinite(mel).all()
    if r == 2:  # the corpus has odd frame counts: padded to a multiple of r, then trimmed
        assert any(np.load(out / f"{u.id}.npy").shape[1] % 2 for u in clips)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["audio"] == SETTINGS.to_dict() and manifest["n_frames_per_step"] == r
    assert manifest["count"] == 17 and manifest["complete"] and manifest["prenet_dropout"] == 0.5
    assert len(manifest["checkpoint_sha256"]) == 16 and manifest["checkpoint"] == str(ckpt)
    assert manifest["frames"]["c000"] == np.load(out / "c000.npy").shape[1]


def test_teacher_forcing_is_the_trainers_forward_and_independent_of_the_batch(tmp_path, corpus):
    from frontend import text_to_sequence
    from tts.tacotron2 import load_tacotron2
    from tts.training.data import TextMelCollate

    model = load_tacotron2(tiny_tacotron2(tmp_path / "t2.pt", 2)).eval()
    clips = read_all_clips(corpus)[:4]
    items = [(torch.tensor(text_to_sequence(u.text, normalize=True)), gt_mel(u.wav)) for u in clips]
    alone = next(item for item in items if item[1].shape[1] % 2 == 0)  # no padding at all
    batch = TextMelCollate(2)([alone])
    torch.manual_seed(5)
    ours = dump_gta.teacher_forced_mels(model, batch.text, batch.text_lengths, batch.mels, batch.mel_lengths, 0.5)
    torch.manual_seed(5)  # the same prenet masks: the model's training call, in eval mode
    with torch.no_grad():
        reference = model(batch.text, batch.text_lengths, batch.mels, batch.mel_lengths).mel_postnet
    torch.testing.assert_close(ours, reference)
    # without prenet noise an item's GTA mel does not depend on what it is batched with
    items.sort(key=lambda item: -len(item[0]))
    together = TextMelCollate(2)(items)
    batched = dump_gta.teacher_forced_mels(model, together.text, together.text_lengths, together.mels,
                                           together.mel_lengths, 0.0)
    for row, item in enumerate(items):
        one = TextMelCollate(2)([item])
        single = dump_gta.teacher_forced_mels(model, one.text, one.text_lengths, one.mels, one.mel_lengths, 0.0)
        frames = item[1].shape[1]
        torch.testing.assert_close(batched[row, :, :frames], single[0, :, :frames], atol=1e-4, rtol=1e-4)


def test_dump_resumes_and_refuses_bad_input(tmp_path, corpus, capsys):
    ckpt = tiny_tacotron2(tmp_path / "t2.pt", 2)
    out = tmp_path / "gta"
    code, err = run_dump(capsys, "--corpus", corpus, "--tacotron2", ckpt, "--out", out, "--limit", 6)
    assert code == 0 and len(list(out.glob("*.npy"))) == 6, err
    assert not json.loads((out / "manifest.json").read_text())["complete"]
    (out / "c002.npy").unlink()
    kept = {p.name: p.stat().st_mtime_ns for p in out.glob("*.npy")}
    code, err = run_dump(capsys, "--corpus", corpus, "--tacotron2", ckpt, "--out", out)
    assert code == 0 and "12 GTA mels written, 5 already there" in err, err
    assert {p.name: p.stat().st_mtime_ns for p in out.glob("*.npy") if p.name in kept} == kept
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["count"] == 17 and manifest["complete"] and len(manifest["frames"]) == 17

    other = tiny_tacotron2(tmp_path / "other.pt", 2, seed=1)  # another checkpoint into the same folder
    code, err = run_dump(capsys, "--corpus", corpus, "--tacotron2", other, "--out", out)
    assert code == 2 and err.startswith("error: ") and "checkpoint_sha256" in err and err.count("\n") == 1
    code, err = run_dump(capsys, "--corpus", tmp_path / "nowhere", "--tacotron2", ckpt)
    assert code == 2 and err.startswith("error: corpus not found") and err.count("\n") == 1
    code, err = run_dump(capsys, "--corpus", corpus, "--tacotron2", tmp_path / "missing.pt")
    assert code == 2 and "missing.pt: no such file" in err and err.count("\n") == 1
    (tmp_path / "junk.pt").write_bytes(b"not a checkpoint")
    code, err = run_dump(capsys, "--corpus", corpus, "--tacotron2", tmp_path / "junk.pt", "--out", tmp_path / "x")
    assert code == 2 and err.startswith("error: ") and err.count("\n") == 1
    with pytest.raises(SystemExit) as exc:
        dump_gta.main(["--batch-size", "0"])
    assert exc.value.code == 2


# --------------------------------------------------------------------------- vocoder.train with data.mel_dir


def write_gt_mel_dir(mel_dir: Path, corpus: Path, settings: AudioSettings = SETTINGS) -> Path:
    """Ground-truth mels in a mel folder: the mel_dir path must then reproduce the computed path."""
    mel_dir.mkdir()
    for u in read_all_clips(corpus):
        np.save(mel_dir / f"{u.id}.npy", gt_mel(u.wav).numpy())
    write_mel_dir_manifest(mel_dir, {"audio": settings.to_dict()})
    return mel_dir


def test_mel_dir_segments_line_up_with_the_computed_mels(tmp_path, corpus):
    from vocoder.train import AudioMelCollate, MelDirSegments

    mel_dir = write_gt_mel_dir(tmp_path / "gt", corpus)
    clips = read_all_clips(corpus)
    collate = AudioMelCollate(SETTINGS)
    for segment in (4096, 4000, 16384):  # 4000: not whole frames; 16384: longer than every clip (padded)
        data = MelDirSegments(clips, SETTINGS, segment, seed=3, mel_dir=mel_dir)
        starts = set()
        for epoch in range(3):
            data.set_epoch(epoch)
            batch = collate([data[i] for i in range(len(clips))])
            computed = collate([audio for audio, _ in (data[i] for i in range(len(clips)))])  # the computed path
            assert batch.mel.shape == computed.mel.shape == (len(clips), 80, segment // HOP + 1)
            torch.testing.assert_close(batch.audio, computed.audio)
            for i, u in enumerate(clips):
                wav = load_wav(u.wav, SETTINGS).numpy()
                n, audio = wav.size, batch.audio[i].numpy()
                # the segment's audio starts at a multiple of the hop ...
                k = next(k for k in range((max(n - segment, 0)) // HOP + 1)
                         if np.array_equal(wav[k * HOP:k * HOP + segment], audio[:min(segment, n)]))
                starts.add(k)
                full = np.load(mel_dir / f"{u.id}.npy")
                got, want = batch.mel[i].numpy(), computed.mel[i].numpy()
                # ... its frames are the clip's frames k, k + 1, ... (silence past the clip's last one) ...
                have = min(got.shape[1], full.shape[1] - k)
                np.testing.assert_array_equal(got[:, :have], full[:, k:k + have])
                assert (got[:, have:] == np.float32(SETTINGS.silence_level)).all()
                # ... and equal the segment's computed mel wherever the STFT window stays inside the
                # segment and the clip (the edges differ: reflect padding there, real samples here)
                inner = slice(0 if k == 0 else 2, min(segment, n - k * HOP) // HOP - 1)
                np.testing.assert_allclose(got[:, inner], want[:, inner], atol=2e-4)
                if n >= segment:
                    assert inner.stop - inner.start >= segment // HOP - 4
        assert len(starts) > 3 or segment == 16384


def test_a_fraction_of_the_segments_reads_the_folder_and_the_rest_the_ground_truth(tmp_path, corpus):
    from vocoder.train import AudioMelCollate, MelDirSegments

    folder = tmp_path / "shifted"  # the ground truth + 1: which source a segment took is plain to see
    folder.mkdir()
    clips = read_all_clips(corpus)
    for u in clips:
        np.save(folder / f"{u.id}.npy", gt_mel(u.wav).numpy() + 1.0)
    write_mel_dir_manifest(folder, {"audio": SETTINGS.to_dict()})
    collate = AudioMelCollate(SETTINGS)
    every = MelDirSegments(clips, SETTINGS, 4096, seed=3, mel_dir=write_gt_mel_dir(tmp_path / "gt", corpus))
    half = MelDirSegments(clips, SETTINGS, 4096, seed=3, mel_dir=folder, fraction=0.5)
    picks = []
    for epoch in range(4):
        every.set_epoch(epoch)
        half.set_epoch(epoch)
        truth = collate([every[i] for i in range(len(clips))]).mel
        mixed = collate([half[i] for i in range(len(clips))]).mel
        for i in range(len(clips)):
            from_folder = half.reads_folder(i)
            picks.append(from_folder)
            torch.testing.assert_close(mixed[i], truth[i] + float(from_folder), atol=1e-4, rtol=0)
    assert 0.25 < np.mean(picks) < 0.75  # both sources, about half each
    with pytest.raises(ValueError, match=r"must be in \(0, 1\]"):
        MelDirSegments(clips, SETTINGS, 4096, seed=3, mel_dir=folder, fraction=0.0)


def write_vocoder_config(path: Path, corpus: Path, **data) -> Path:
    cfg = {
        "vocoder": "waveglow_compact",
        "model": TINY_COMPACT,
        "data": {"corpus": str(corpus), "segment_length": 4096, "batch_size": 4, "val_size": 2, **data},
        "optimizer": {"lr": 1e-3},
        "train": {"steps": 3, "checkpoint_every": 3, "validate_every": 1000, "log_every": 1, "num_threads": 1,
                  "sample_seconds": 0.2},
    }
    path.write_text(yaml.safe_dump(cfg), encoding="utf-8")
    return path


def test_training_on_gta_mels_runs_and_validates(tmp_path, corpus, capsys):
    from vocoder.train import run_training

    out = tmp_path / "gta"
    assert run_dump(capsys, "--corpus", corpus, "--tacotron2", tiny_tacotron2(tmp_path / "t2.pt", 2),
                    "--out", out)[0] == 0
    cfg = write_vocoder_config(tmp_path / "v.yaml", corpus, mel_dir=str(out), val_mel_dir=True,
                               mel_dir_fraction=0.75)  # a quarter of the segments on ground-truth mels
    data = yaml.safe_load(cfg.read_text())
    data["train"]["validate_every"] = 3
    cfg.write_text(yaml.safe_dump(data))
    trainer = run_training(["--config", str(cfg), "--run-dir", str(tmp_path / "run")])
    losses = logged_losses(tmp_path / "run")
    assert trainer.step == 3 and sorted(losses) == [1, 2, 3] and all(math.isfinite(v) for v in losses.values())
    assert (tmp_path / "run" / "plots" / "sample_step0000003.wav").is_file()
    assert f"mels 75% from {out}, the rest computed from the audio" in capsys.readouterr().out


def test_mel_dir_is_refused_when_made_otherwise_or_incomplete(tmp_path, corpus):
    from vocoder.train import load_config, run_training

    def refused(mel_dir: Path, match: str, **data) -> None:
        cfg = write_vocoder_config(tmp_path / "v.yaml", corpus, mel_dir=str(mel_dir), **data)
        with pytest.raises(ValueError, match=match):
            run_training(["--config", str(cfg), "--run-dir", str(tmp_path / "run")])
        assert not (tmp_path / "run" / "checkpoints").exists() or not any((tmp_path / "run" / "checkpoints").iterdir())

    other = write_gt_mel_dir(tmp_path / "fmax", corpus, AudioSettings(mel_fmax=7600.0))
    refused(other, r"other audio settings than this config's .*mel_fmax: 8000.0 vs 7600.0")
    mel_dir = write_gt_mel_dir(tmp_path / "gt", corpus)
    (mel_dir / "c005.npy").unlink()
    refused(mel_dir, r"no mel for 1 of \d+ clips, e.g. c005")
    np.save(mel_dir / "c005.npy", np.zeros((80, 3), np.float32))
    refused(mel_dir, r"1 mels do not have their clip's ground-truth frame count.*c005 \(3 vs")
    (mel_dir / "manifest.json").unlink()
    refused(mel_dir, "no manifest.json")
    refused(tmp_path / "nowhere", "mel folder not found")
    cfg = write_vocoder_config(tmp_path / "v.yaml", corpus, val_mel_dir=True)
    with pytest.raises(ValueError, match="val_mel_dir needs data.mel_dir"):
        load_config(cfg)
    cfg = write_vocoder_config(tmp_path / "v.yaml", corpus, mel_dir_fraction=0.5)
    with pytest.raises(ValueError, match="mel_dir_fraction needs data.mel_dir"):
        load_config(cfg)
    for bad in (0, 1.5, "half", True):
        cfg = write_vocoder_config(tmp_path / "v.yaml", corpus, mel_dir=str(tmp_path), mel_dir_fraction=bad)
        with pytest.raises(ValueError, match="mel_dir_fraction must be a number in"):
            load_config(cfg)


def test_warm_start_loads_the_weights_and_starts_at_step_0(tmp_path, corpus, capsys):
    from tts.core.serialization import CheckpointError, read_checkpoint
    from vocoder.train import main, run_training

    stage1 = write_vocoder_config(tmp_path / "s1.yaml", corpus)
    run_training(["--config", str(stage1), "--run-dir", str(tmp_path / "s1"), "--max-steps", "2"])
    checkpoint = tmp_path / "s1" / "checkpoints" / "waveglow_compact_step0000002.pt"
    source = read_checkpoint(checkpoint)["state_dict"]
    stage2 = write_vocoder_config(tmp_path / "s2.yaml", corpus, mel_dir=str(write_gt_mel_dir(tmp_path / "gt", corpus)))
    data = yaml.safe_load(stage2.read_text())
    data["train"]["seed"] = 99  # another initialisation: only the warm start can bring the weights close
    data["optimizer"]["lr"] = 1e-4
    stage2.write_text(yaml.safe_dump(data))
    warm = run_training(["--config", str(stage2), "--run-dir", str(tmp_path / "s2"), "--max-steps", "1",
                         "--warm-start", str(checkpoint)])
    assert "warm start from" in capsys.readouterr().out
    assert warm.step == 1 and sorted(logged_losses(tmp_path / "s2")) == [1]
    assert len(warm.optimizer.state) and all(int(s["step"]) == 1 for s in warm.optimizer.state.values())
    cold = run_training(["--config", str(stage2), "--run-dir", str(tmp_path / "cold"), "--max-steps", "1"])

    def distance(model) -> float:
        return max(float((v.float() - source[k].float()).abs().max()) for k, v in model.state_dict().items())

    assert distance(warm.model) < 2e-3 < distance(cold.model) - 0.05  # one Adam step: about lr per weight
    # a run folder stands for its newest checkpoint
    by_folder = run_training(["--config", str(stage2), "--run-dir", str(tmp_path / "s2b"), "--max-steps", "1",
                              "--warm-start", str(tmp_path / "s1")])
    assert distance(by_folder.model) < 2e-3
    data["model"] = {**TINY_COMPACT, "wn_n_channels": 8}
    stage2.write_text(yaml.safe_dump(data))
    with pytest.raises(CheckpointError, match=r"model config differs.*wn_n_channels: 8 vs 16"):
        run_training(["--config", str(stage2), "--run-dir", str(tmp_path / "s3"), "--max-steps", "1",
                      "--warm-start", str(checkpoint)])
    assert main(["--config", str(stage2), "--run-dir", str(tmp_path / "s4"),
                 "--warm-start", str(tmp_path / "missing.pt")]) == 2


@pytest.mark.parametrize("with_mel_dir", [False, True])
def test_segments_carry_the_samples_before_them_for_the_linear_predictor(tmp_path, corpus, with_mel_dir):
    """context = lp_order: each batch item's history is the clip's samples just before its segment (zeros
    before the clip's start), and the segment and its mel are what they are without a context."""
    from vocoder.train import AudioMelCollate, AudioSegments, MelDirSegments

    clips = read_all_clips(corpus)
    mel_dir = write_gt_mel_dir(tmp_path / "gt", corpus) if with_mel_dir else None

    def dataset(context: int, random_offsets: bool):
        if mel_dir is not None:
            return MelDirSegments(clips, SETTINGS, 2048, seed=5, mel_dir=mel_dir, context=context,
                                  random_offsets=random_offsets)
        return AudioSegments(clips, SETTINGS, 2048, seed=5, context=context, random_offsets=random_offsets)

    plain, with_context = AudioMelCollate(SETTINGS), AudioMelCollate(SETTINGS, context=16)
    seen_inside = seen_at_start = False
    for epoch, random_offsets in [(0, True), (1, True), (2, True), (0, False)]:  # False: every clip's start
        a, b = dataset(0, random_offsets), dataset(16, random_offsets)
        a.set_epoch(epoch)
        b.set_epoch(epoch)
        without = plain([a[i] for i in range(len(clips))])
        batch = with_context([b[i] for i in range(len(clips))])
        assert without.history is None and batch.history.shape == (len(clips), 16)
        torch.testing.assert_close(batch.audio, without.audio)
        torch.testing.assert_close(batch.mel, without.mel)
        for i, u in enumerate(clips):
            start = b.segment(i)[1]
            wav = load_wav(u.wav, SETTINGS)
            expected = torch.nn.functional.pad(wav[max(0, start - 16):start], (16 - min(start, 16), 0))
            torch.testing.assert_close(batch.history[i], expected)
            seen_inside |= start >= 16
            seen_at_start |= start == 0
    assert seen_inside and seen_at_start


def test_dump_reads_a_phone_checkpoints_words_as_phones(tmp_path, corpus, capsys):
    from frontend import text_to_sequence
    from frontend.arpabet import PronouncingDictionary, mix_arpabet
    from tts.tacotron2 import Tacotron2, Tacotron2Config, save_tacotron2

    torch.manual_seed(0)
    model = Tacotron2(Tacotron2Config(**{**TINY_TACOTRON, "n_frames_per_step": 2}))
    model.text_settings = {"frontend": "frontend.text_to_sequence", "normalize": True, "symbols": "nvidia-148",
                           "arpabet": {"dictionary": "lexicon.txt", "p_train": 0.5}}
    ckpt = save_tacotron2(model, tmp_path / "phones.pt")
    clips = read_all_clips(corpus)
    words = sorted({w.strip(".,?!").lower() for u in clips for w in u.text.split() if w.strip(".,?!").isalpha()})
    lexicon = tmp_path / "lexicon.txt"
    lexicon.write_text("".join(f"{w} {' '.join(['AH0'] * len(w))}\n" for w in words[:5]))
    code, err = run_dump(capsys, "--corpus", corpus, "--tacotron2", ckpt, "--out", tmp_path / "a")
    assert code == 2 and "trained to read phones: give its --pronouncing-dictionary" in err

    seen = []
    original = dump_gta.teacher_forced_mels

    def spy(model, text, *rest):
        seen.extend(row[row > 0].tolist() for row in text)
        return original(model, text, *rest)

    dump_gta.teacher_forced_mels = spy
    try:
        code, err = run_dump(capsys, "--corpus", corpus, "--tacotron2", ckpt, "--out", tmp_path / "gta",
                             "--pronouncing-dictionary", lexicon)
    finally:
        dump_gta.teacher_forced_mels = original
    assert code == 0, err
    d = PronouncingDictionary.read(lexicon)
    expected = [text_to_sequence(mix_arpabet(__import__("frontend").normalize(u.text), d), normalize=False)
                for u in clips]
    assert sorted(map(tuple, seen)) == sorted(map(tuple, expected))
    assert any(text_to_sequence(u.text, normalize=True) not in seen for u in clips)  # some words became phones
    assert json.loads((tmp_path / "gta" / "manifest.json").read_text())["pronouncing_dictionary_sha256"]

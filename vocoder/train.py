"""Train a neural vocoder (WaveGlow, the compact WaveGlow, WaveRNN or FloWaveNet) on random audio
segments of an LJSpeech-layout corpus or NVIDIA filelist.

    python -m vocoder.train --config recipes/default_voice/waveglow_compact.yaml \\
        [--run-dir runs/default_voice_waveglow_compact] [--resume auto|PATH] [--max-steps N]
    python -m vocoder.train --config recipes/vocoders/wavernn_small.yaml --run-dir runs/wavernn
    python -m vocoder.train --config recipes/vocoders/flowavenet_small.yaml --run-dir runs/flowavenet
    torchrun --nproc_per_node 2 -m vocoder.train --config ...     # DDP (gloo on CPU, nccl on CUDA)

The top-level config key `vocoder` (waveglow | waveglow_compact | wavernn | flowavenet; default
waveglow) picks the
model; `model` holds that model's config fields. Each step draws one `segment_length`-sample segment
per clip (clips shorter than that are zero-padded, as NVIDIA's mel2samp), computes its mel with
`tts.core.audio.mel_spectrogram` (the same definition Tacotron 2 predicts) and minimises the model's
negative log-likelihood: `WaveGlowLoss` (sigma `loss.sigma`) for WaveGlow, the model's own
`loss_terms` (through the module call, so DDP sees the pass) for WaveRNN and FloWaveNet.
Segment offsets are drawn from (seed, epoch, clip), so a resumed run sees the same segments.
Checkpoints, `latest`, `train_log.jsonl` and resume work as in `tts.train` (shared Trainer);
validation also writes a synthesized sample (`plots/sample_stepN.wav`) and its mel error.

`data.mel_dir` (default null: mels computed from the audio) names a folder of per-clip mels
(`<id>.npy`, e.g. a Tacotron 2's ground-truth-aligned mels from recipes/default_voice/dump_gta.py):
a segment then takes its frames from there. Its offset is a multiple of the hop length, so the
segment's audio [start, start + N) and its frames start / hop ... start / hop + N // hop (frame i
centred on sample hop i of the clip) line up exactly as the computed mel of the segment would; the
folder's manifest must record this config's audio settings and every clip. Validation stays on
ground-truth mels (comparable across stages) unless `data.val_mel_dir: true`.
`--warm-start PATH` (a fresh run only) copies the weights of a checkpoint of the same model and
config (a stage-1 training checkpoint, say) and starts at step 0 with a fresh optimizer.
"""
from __future__ import annotations

import argparse
import copy
import sys
from pathlib import Path
from typing import Any, Callable, Mapping, NamedTuple, Sequence

import numpy as np
import soundfile
import torch
from torch.utils.data import DataLoader, Dataset

from tts.core.audio import AudioSettings, load_wav, mel_spectrogram, n_frames
from tts.core.config import load_yaml, merge_config
from tts.core.device import autocast
from tts.core.plotting import plot_mel, side_by_side
from tts.core.serialization import CheckpointError, expect_project_model, is_project_checkpoint, read_checkpoint
from tts.training import loop as tu
from tts.training import session
from tts.training.data import (
    BucketBatchSampler,
    Utterance,
    check_mel_dir,
    load_or_make_split,
    read_corpus,
)
from vocoder.flowavenet import FloWaveNet, FloWaveNetConfig, save_flowavenet
from vocoder.waveglow import (
    DEFAULT_SIGMA,
    CompactWaveGlow,
    CompactWaveGlowConfig,
    WaveGlow,
    WaveGlowConfig,
    WaveGlowLoss,
    read_waveglow_checkpoint,
    save_waveglow,
)
from vocoder.wavernn import WaveRNN, WaveRNNConfig, save_wavernn

DEFAULTS: dict[str, Any] = {
    "vocoder": "waveglow",  # waveglow | wavernn | flowavenet (see VOCODER_KINDS)
    "model": {},  # that vocoder's config fields (WaveGlowConfig defaults: NVIDIA's 256-channel model)
    "audio": {},  # AudioSettings fields
    "data": {
        "corpus": None,
        "segment_length": 16000,  # samples per training segment (NVIDIA: 16000)
        "batch_size": 12,
        "val_size": 8,
        "num_workers": 0,
        "mel_dir": None,  # folder of per-clip mels (<id>.npy) to train on instead of computed ones
        "val_mel_dir": False,  # validate on mel_dir's mels too (default: ground-truth mels)
    },
    "optimizer": {
        "lr": 1e-4,
        "betas": [0.9, 0.999],
        "eps": 1e-8,
        "weight_decay": 0.0,
        "grad_clip": None,  # NVIDIA does not clip; a number clips the global norm
        "decay_start": 0,
        "decay_half_life": 0,  # 0 = constant learning rate (NVIDIA)
        "final_lr": 1e-4,
    },
    "loss": {"sigma": 1.0},  # WaveGlow only
    "train": {
        "steps": 100000,
        "checkpoint_every": 2000,
        "validate_every": 2000,
        "log_every": 10,
        "keep_last": 5,
        "seed": 1234,
        "precision": "fp32",
        "device": "auto",
        "num_threads": None,
        "max_bad_steps": 20,
        "run_dir": None,
        "sample_sigma": DEFAULT_SIGMA,  # noise scale of WaveGlow's validation sample
        "sample_seconds": 4.0,  # length cap of the validation sample
    },
}


# --------------------------------------------------------------------------- data


class AudioSegments(Dataset):
    """Random fixed-length segments of clips; the offset depends only on (seed, epoch, clip index).

    With `context` > 0 each item is the `context` samples before the segment (zeros before the clip's
    start), then the segment: what a vocoder whose first layer looks back (the compact WaveGlow's
    linear predictor) needs, so a segment cut from the middle of a clip is not taken to start in silence."""

    def __init__(self, items: Sequence[Utterance], settings: AudioSettings, segment_length: int, seed: int,
                 random_offsets: bool = True, context: int = 0):
        self.items = list(items)
        self.settings = settings
        self.segment_length = segment_length
        self.seed = seed
        self.random_offsets = random_offsets
        self.context = context
        self.epoch = 0
        self.infos = [soundfile.info(str(u.wav)) for u in self.items]

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, index: int) -> torch.Tensor:
        return self.segment(index)[0]

    def offset(self, index: int, n: int) -> int:
        """Where the segment of clip `index` (n samples long) starts: uniform over the clip."""
        rng = np.random.default_rng([self.seed, self.epoch, index])
        return int(rng.integers(0, n - self.segment_length + 1))

    def segment(self, index: int) -> tuple[torch.Tensor, int, int]:
        """(the `context` samples before the segment and the segment, zero-padded to context +
        segment_length; the segment's start; the clip's length in samples)."""
        info, seg = self.infos[index], self.segment_length
        whole = None
        if info.samplerate == self.settings.sampling_rate:
            n = info.frames
        else:  # another rate: resample the whole clip, then cut
            whole = load_wav(self.items[index].wav, self.settings)
            n = whole.numel()
        start = self.offset(index, n) if n > seg and self.random_offsets else 0
        first = max(0, start - self.context)
        if whole is None:
            data, _ = soundfile.read(str(self.items[index].wav), start=first, stop=start + seg, dtype="float32",
                                     always_2d=True)
            audio = torch.from_numpy(np.ascontiguousarray(data.mean(axis=1)))
        else:
            audio = whole[first:start + seg]
        before = self.context - (start - first)  # zeros for the context before the clip's first sample
        return torch.nn.functional.pad(audio, (before, self.context + seg - before - audio.numel())), start, n


class MelDirSegments(AudioSegments):
    """AudioSegments whose mels are read from `<mel_dir>/<id>.npy` ([n_mels, frames] of the whole clip,
    frame j centred on sample hop j: a GTA dump) instead of computed from the segment.

    The offset is a multiple of the hop length (hop * k, k drawn from (seed, epoch, clip)), so frame
    k + i of the clip's mel is centred on sample hop i of the segment, exactly where the computed
    path's frame i is (`mel_spectrogram` of the segment: centred frames, frame i on sample hop i).
    The segment gets the computed path's frame count, segment_length // hop + 1: the vocoders
    condition the last samples on the frame after them (the compact WaveGlow interpolates between
    frames i and i + 1; WaveGlow's transposed convolution, 4 frames wide, leaves the last frame to
    samples past the segment, which it trims). Those frames always exist
    in the clip's mel when the clip is at least one segment long (k + N // hop <= n // hop); for a
    shorter clip, zero-padded like the computed path, the frames past its mel are the silence level
    (the log-mel of the zeros there). The one difference from the computed path is at the segment's
    edges: its frames 0-1 and the last 2 (the STFT window reaches 2 hops) see the clip's real samples
    beyond the segment, not the computed path's reflect padding, i.e. what the vocoder sees at synthesis."""

    def __init__(self, items: Sequence[Utterance], settings: AudioSettings, segment_length: int, seed: int,
                 mel_dir: str | Path, random_offsets: bool = True, context: int = 0):
        super().__init__(items, settings, segment_length, seed, random_offsets, context)
        self.mel_dir = Path(mel_dir)

    def offset(self, index: int, n: int) -> int:
        """A multiple of the hop length, uniform over the clip's whole frames."""
        hop = self.settings.hop_length
        rng = np.random.default_rng([self.seed, self.epoch, index])
        return hop * int(rng.integers(0, (n - self.segment_length) // hop + 1))

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        audio, start, n = self.segment(index)
        seg, hop = self.segment_length, self.settings.hop_length
        path = self.mel_dir / f"{self.items[index].id}.npy"
        clip_mel = np.load(path, mmap_mode="r")
        if clip_mel.shape[1] != n_frames(n, self.settings):
            raise ValueError(f"{path}: {clip_mel.shape[1]} frames, but its clip's ground-truth mel has "
                             f"{n_frames(n, self.settings)}")
        want = seg // hop + 1
        frames = torch.from_numpy(np.array(clip_mel[:, start // hop:start // hop + want], dtype=np.float32))
        frames = torch.nn.functional.pad(frames, (0, want - frames.shape[1]), value=self.settings.silence_level)
        return audio, frames


class AudioMelBatch(NamedTuple):
    mel: torch.Tensor  # [B, n_mels, segment_length // hop + 1]
    audio: torch.Tensor  # [B, segment_length]
    history: torch.Tensor | None = None  # [B, context]: the samples before each segment (`AudioSegments`)

    def to(self, device: torch.device) -> "AudioMelBatch":
        history = None if self.history is None else self.history.to(device)
        return AudioMelBatch(self.mel.to(device), self.audio.to(device), history)


class AudioMelCollate:
    """Stack segments and compute their mels in one batched STFT; (audio, mel) pairs (`MelDirSegments`)
    keep their mels. The first `context` samples of each item are its history, not part of the segment."""

    def __init__(self, settings: AudioSettings, context: int = 0):
        self.settings = settings
        self.context = context

    def __call__(self, segments: Sequence[torch.Tensor | tuple[torch.Tensor, torch.Tensor]]) -> AudioMelBatch:
        mel = None
        if segments and isinstance(segments[0], tuple):
            mel = torch.stack([m for _, m in segments])
            segments = [a for a, _ in segments]
        both = torch.stack(list(segments))
        history, audio = both[:, : self.context], both[:, self.context:]
        if mel is None:
            mel = mel_spectrogram(audio, self.settings)
        return AudioMelBatch(mel, audio, history if self.context else None)


# --------------------------------------------------------------------------- setup


class VocoderKind(NamedTuple):
    """What the trainer needs to know about one trainable vocoder."""

    model: type  # Vocoder subclass: Model(config, audio)
    config: type  # its config dataclass (with from_dict / to_dict)
    save: Callable[..., Any]  # save_fn(model, path, extra): the project checkpoint format


VOCODER_NAMES = ("waveglow", "waveglow_compact", "wavernn", "flowavenet")
#: vocoders trained by WaveGlow's loss (negative log-likelihood under N(0, sigma^2))
WAVEGLOW_LOSS = ("waveglow", "waveglow_compact")


def vocoder_kind(name: str) -> VocoderKind:
    """The (model, config, save function) of a `vocoder:` config value."""
    kinds = {
        "waveglow": VocoderKind(WaveGlow, WaveGlowConfig, save_waveglow),
        "waveglow_compact": VocoderKind(CompactWaveGlow, CompactWaveGlowConfig, save_waveglow),
        "wavernn": VocoderKind(WaveRNN, WaveRNNConfig, save_wavernn),
        "flowavenet": VocoderKind(FloWaveNet, FloWaveNetConfig, save_flowavenet),
    }
    if name not in kinds:
        raise ValueError(f"unknown vocoder {name!r} in the config's `vocoder` key; trainable: {', '.join(VOCODER_NAMES)}")
    return kinds[name]


def load_config(path: str | Path) -> dict[str, Any]:
    cfg = merge_config(DEFAULTS, load_yaml(path))
    name = cfg["vocoder"]
    model_config = vocoder_kind(name).config.from_dict(cfg["model"] or {})  # unknown model keys fail here
    segment = cfg["data"]["segment_length"]
    settings = AudioSettings.from_dict(cfg["audio"])
    if segment <= settings.filter_length // 2:  # the STFT's reflect padding needs more samples
        raise ValueError(f"data.segment_length ({segment}) must be more than filter_length / 2 "
                         f"({settings.filter_length // 2})")
    if name in WAVEGLOW_LOSS:
        if segment % model_config.n_group:
            raise ValueError(f"data.segment_length ({segment}) must be a multiple of n_group ({model_config.n_group})")
    else:
        # both model whole frames: the teacher-forced pass / the squeezes need T * hop samples
        hop = settings.hop_length
        if segment % hop:
            raise ValueError(f"data.segment_length ({segment}) must be a multiple of the hop length ({hop}) "
                             f"for {name}, e.g. {max(1, round(segment / hop)) * hop}")
    if cfg["data"]["val_mel_dir"] and not cfg["data"]["mel_dir"]:
        raise ValueError("data.val_mel_dir needs data.mel_dir (the folder of mels to validate on)")
    if name == "wavernn" and cfg["train"]["precision"] != "fp32":
        raise ValueError(f"train.precision {cfg['train']['precision']!r}: WaveRNN trains in fp32 only (its "
                         "recurrent pass and 16-bit dual softmax are unvalidated in reduced precision); set "
                         "train.precision: fp32")
    return cfg


def build_model(cfg: Mapping[str, Any]):
    kind = vocoder_kind(cfg["vocoder"])
    return kind.model(kind.config.from_dict(cfg["model"] or {}), AudioSettings.from_dict(cfg["audio"]))


def waveglow_loss(model_output, sigma: float) -> torch.Tensor:
    """WaveGlowLoss in fp32 whatever precision the flows ran in."""
    z, log_s, log_det_w = model_output
    return WaveGlowLoss(sigma)((z.float(), [s.float() for s in log_s], [d.float() for d in log_det_w]))


def batch_losses(model: torch.nn.Module, batch: AudioMelBatch, cfg: Mapping[str, Any]) -> dict[str, torch.Tensor]:
    """{"loss": scalar, other terms...} of one batch; `model` may be the DDP wrapper (it is called,
    not its methods, so DDP sees the pass). WaveRNN and FloWaveNet return their terms themselves."""
    if cfg["vocoder"] in WAVEGLOW_LOSS:
        history = {} if batch.history is None else {"history": batch.history}  # the compact WaveGlow's predictor
        return {"loss": waveglow_loss(model(batch.mel, batch.audio, **history), float(cfg["loss"]["sigma"]))}
    return model(batch.mel, batch.audio)


def sample_kwargs(cfg: Mapping[str, Any]) -> dict[str, Any]:
    """Synthesis arguments of the validation sample (seeded, so samples of a run compare)."""
    t = cfg["train"]
    sigma = {"sigma": float(t["sample_sigma"])}
    extra = {"waveglow": sigma, "waveglow_compact": sigma, "wavernn": {}, "flowavenet": {"temperature": 0.8}}
    return {**extra[cfg["vocoder"]], "seed": int(t["seed"])}


@torch.no_grad()
def validate(model, loader: DataLoader, val_items: Sequence[Utterance], cfg: Mapping[str, Any], step: int,
             device: torch.device, run: tu.RunDirectory, mel_dir: str | Path | None = None) -> dict[str, Any]:
    """Loss on fixed segments (the start of each validation clip), then a synthesized sample of the
    first clip (`plots/sample_stepN.wav`, see `sample_kwargs`) and the mean |log-mel difference| between
    it and the clip's ground-truth mel. The sample is made from that mel, or from the clip's mel in
    `mel_dir` when given (data.val_mel_dir)."""
    t = cfg["train"]
    settings = model.audio
    was_training = model.training
    model.eval()
    total, count = 0.0, 0
    with autocast(t["precision"], device):
        for batch in loader:
            batch = batch.to(device)
            total += float(batch_losses(model, batch, cfg)["loss"]) * batch.audio.size(0)
            count += batch.audio.size(0)
    audio = load_wav(val_items[0].wav, settings)[: int(t["sample_seconds"] * settings.sampling_rate)]
    target = mel_spectrogram(audio, settings)[None].to(device)
    source = target
    if mel_dir is not None:
        source = torch.from_numpy(np.load(Path(mel_dir) / f"{val_items[0].id}.npy")[:, : target.size(2)])
        source = source.float()[None].to(device)
    vocoder = copy.deepcopy(model).prepare_for_inference()  # folding weight norm must not touch the trained model
    sample = vocoder(source, **sample_kwargs(cfg))[0].cpu()
    soundfile.write(str(run.plots / f"sample_step{step:07d}.wav"), sample.numpy(), settings.sampling_rate,
                    subtype="PCM_16")
    resynth = mel_spectrogram(sample, settings)[:, : target.size(2)]
    side_by_side([plot_mel(target[0].cpu()), plot_mel(resynth, vmin=float(target.min()), vmax=float(target.max()))]
                 ).save(run.plots / f"mel_step{step:07d}.png")
    model.train(was_training)
    return {"val_loss": total / count, "val_sample_mel_l1": float((resynth - target[0].cpu()).abs().mean())}


def warm_start(model: torch.nn.Module, path: str | Path, name: str) -> None:
    """Copy the weights of the checkpoint at `path` into `model` (vocoder `name`): a project checkpoint
    of the same vocoder (a training run's or an exported one; for WaveGlow also NVIDIA's files) whose
    model config and audio settings equal the model's; a training run's folder stands for its newest
    checkpoint. Refuses anything else with one CheckpointError;
    nothing but the weights is taken (no optimizer state, no step)."""
    path = Path(path)
    if path.is_dir():  # a run folder: its newest checkpoint
        path = tu.RunDirectory(path, name).latest() or path / "checkpoints"
    if not path.is_file():
        raise CheckpointError(f"--warm-start: checkpoint not found: {path}")
    if name in WAVEGLOW_LOSS:
        config, audio, state_dict = read_waveglow_checkpoint(path)
    else:
        ckpt = read_checkpoint(path)
        if not is_project_checkpoint(ckpt):
            raise CheckpointError(f"--warm-start {path}: not a {name} checkpoint of this project")
        expect_project_model(ckpt, name, path)
        try:
            config = vocoder_kind(name).config.from_dict(ckpt.get("config") or {})
            audio = AudioSettings.from_dict(ckpt.get("audio"))
        except (TypeError, ValueError) as exc:
            raise CheckpointError(f"--warm-start {path}: bad config or audio settings ({exc})") from exc
        state_dict = ckpt["state_dict"]
    if type(config) is not type(model.config):
        raise CheckpointError(f"--warm-start {path}: holds a {type(config).__name__} model, this run trains "
                              f"{name} ({type(model.config).__name__})")
    if config != model.config:
        mine, theirs = model.config.to_dict(), config.to_dict()
        diff = [f"{k}: {mine.get(k)} vs {theirs.get(k)}" for k in sorted(set(mine) | set(theirs)) if mine.get(k) != theirs.get(k)]
        raise CheckpointError(f"--warm-start {path}: its model config differs from this run's "
                              f"(run vs checkpoint: {'; '.join(diff)})")
    diff = model.audio.differences(audio)
    if diff:
        raise CheckpointError(f"--warm-start {path}: its audio settings differ from this run's "
                              f"(run vs checkpoint: {'; '.join(diff)})")
    target = model.state_dict()
    bad = sorted(set(target) ^ set(state_dict))
    bad += [k for k in target if k in state_dict and state_dict[k].shape != target[k].shape]
    if bad:
        raise CheckpointError(f"--warm-start {path}: its weights do not fit this model ({', '.join(bad[:5])})")
    model.load_state_dict({k: v.to(target[k].dtype) for k, v in state_dict.items()}, strict=True)


# --------------------------------------------------------------------------- entry point


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = session.make_parser("python -m vocoder.train", __doc__,
                            "YAML config (keys: vocoder; sections: model, audio, data, optimizer, loss, train)")
    p.add_argument("--warm-start", help="initialise the weights from a checkpoint of the same vocoder, model config "
                                        "and audio settings (e.g. a stage-1 run's checkpoint); the optimizer starts "
                                        "fresh at step 0. Ignored when resuming")
    return p.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    return session.run_cli(run_training, argv, "python -m vocoder.train")


def run_training(argv: Sequence[str] | None = None) -> tu.Trainer:
    """`main` without the exit code: returns the finished Trainer."""
    args = parse_args(argv)
    cfg = load_config(args.config)
    with session.training_session(args, cfg, cfg["vocoder"]) as run_session:
        return train(cfg, args, run_session.run, run_session.device, run_session.dist_info)


def train(cfg: dict[str, Any], args: argparse.Namespace, run: tu.RunDirectory, device: torch.device,
          dist_info: tu.DistInfo) -> tu.Trainer:

    t, d = cfg["train"], cfg["data"]
    name = cfg["vocoder"]
    settings = AudioSettings.from_dict(cfg["audio"])
    if not d["corpus"]:
        raise ValueError("data.corpus is not set in the config")
    items = read_corpus(d["corpus"])
    ids = [u.id for u in items]
    if dist_info.is_main:
        load_or_make_split(run.root, ids, d["val_size"], t["seed"])
    tu.barrier(dist_info)
    val_ids = set(load_or_make_split(run.root, ids, d["val_size"], t["seed"]))
    missing = [u for u in items if not u.wav.is_file()]
    if missing:
        raise ValueError(f"{len(missing)} audio files are missing, e.g. {missing[0].wav}")
    train_items = [u for u in items if u.id not in val_ids]
    val_items = [u for u in items if u.id in val_ids]
    segment = int(d["segment_length"])
    context = int((cfg["model"] or {}).get("lp_order", 0))  # samples the linear predictor looks back
    mel_dir, val_mel_dir = d["mel_dir"], d["mel_dir"] if d["val_mel_dir"] else None
    if mel_dir:  # refused here, before any model is built, if made otherwise or incomplete
        check_mel_dir(mel_dir, settings, train_items + (val_items if val_mel_dir else []))
        train_set = MelDirSegments(train_items, settings, segment, int(t["seed"]), mel_dir, context=context)
    else:
        train_set = AudioSegments(train_items, settings, segment, int(t["seed"]), context=context)
    if val_mel_dir:
        val_set = MelDirSegments(val_items, settings, segment, int(t["seed"]), val_mel_dir, random_offsets=False,
                                 context=context)
    else:
        val_set = AudioSegments(val_items, settings, segment, int(t["seed"]), random_offsets=False, context=context)

    tu.seed_everything(t["seed"])  # identical initial weights on every rank
    model = build_model(cfg).to(device)
    optimizer, scheduler = tu.make_optimizer(model, cfg["optimizer"])
    # clips of equal weight: the bucketing sampler with equal lengths is a seeded, rank-partitioned shuffle
    sampler = BucketBatchSampler([1] * len(train_set), int(d["batch_size"]), seed=int(t["seed"]), drop_last=True,
                                 rank=dist_info.rank, world_size=dist_info.world_size)
    collate = AudioMelCollate(settings, context)
    loader = DataLoader(train_set, batch_sampler=sampler, collate_fn=collate, num_workers=d["num_workers"],
                        generator=torch.Generator().manual_seed(int(t["seed"])))
    val_loader = DataLoader(val_set, batch_size=int(d["batch_size"]), collate_fn=collate)

    def loss_fn(train_model: torch.nn.Module, batch: AudioMelBatch, step: int) -> dict[str, torch.Tensor]:
        return batch_losses(train_model, batch, cfg)

    def validate_fn(step: int) -> dict[str, Any]:
        return validate(model, val_loader, val_items, cfg, step, device, run, val_mel_dir)

    resume_path = tu.resolve_resume(args.resume, run)
    warm = getattr(args, "warm_start", None)
    if name == "flowavenet" and resume_path is None and not warm:
        # ActNorm's data-dependent init, explicitly and before the DDP wrapper (which then broadcasts
        # rank 0's values); the sampler's first batch is read directly, leaving the loader untouched
        first = collate([train_set[i] for i in sampler.batches_of_epoch(0)[0]]).to(device)
        model.initialize_actnorm(first.mel, first.audio)
    trainer = tu.Trainer(name=name, model=model, optimizer=optimizer, scheduler=scheduler, loader=loader,
                         sampler=sampler, run=run, cfg=cfg, device=device, dist_info=dist_info, loss_fn=loss_fn,
                         save_fn=vocoder_kind(name).save, validate_fn=validate_fn if val_items else None)
    def fresh_start() -> None:
        if warm:
            warm_start(model, warm, name)
            if dist_info.is_main:
                from tqdm import tqdm

                tqdm.write(f"warm start from {warm}: weights only, fresh optimizer, step 0")

    summary = (f"{name}: {sum(p.numel() for p in model.parameters()) / 1e6:.2f} M parameters; "
               f"{len(train_set)} train / {len(val_set)} val clips; segments of {segment} samples; "
               f"mels {'from ' + str(mel_dir) if mel_dir else 'computed from the audio'} "
               f"(validation: {'from ' + str(val_mel_dir) if val_mel_dir else 'ground truth'}); "
               f"{t['precision']} on {device} x {dist_info.world_size}")
    return session.start(trainer, resume_path, summary, fresh_start)


if __name__ == "__main__":
    sys.exit(main())

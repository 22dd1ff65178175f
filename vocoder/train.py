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

from tts.core.audio import AudioSettings, load_wav, mel_spectrogram
from tts.core.config import load_yaml, merge_config
from tts.core.device import autocast
from tts.core.plotting import plot_mel, side_by_side
from tts.training import loop as tu
from tts.training import session
from tts.training.data import (
    BucketBatchSampler,
    Utterance,
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
    """Random fixed-length segments of clips; the offset depends only on (seed, epoch, clip index)."""

    def __init__(self, items: Sequence[Utterance], settings: AudioSettings, segment_length: int, seed: int,
                 random_offsets: bool = True):
        self.items = list(items)
        self.settings = settings
        self.segment_length = segment_length
        self.seed = seed
        self.random_offsets = random_offsets
        self.epoch = 0
        self.infos = [soundfile.info(str(u.wav)) for u in self.items]

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, index: int) -> torch.Tensor:
        info, seg = self.infos[index], self.segment_length
        if info.samplerate == self.settings.sampling_rate:
            n = info.frames
            start = 0
            if n > seg and self.random_offsets:
                start = int(np.random.default_rng([self.seed, self.epoch, index]).integers(0, n - seg + 1))
            data, _ = soundfile.read(str(self.items[index].wav), start=start, stop=start + seg, dtype="float32",
                                     always_2d=True)
            audio = torch.from_numpy(np.ascontiguousarray(data.mean(axis=1)))
        else:  # another rate: resample the whole clip, then cut
            audio = load_wav(self.items[index].wav, self.settings)
            n = audio.numel()
            start = 0
            if n > seg and self.random_offsets:
                start = int(np.random.default_rng([self.seed, self.epoch, index]).integers(0, n - seg + 1))
            audio = audio[start:start + seg]
        return torch.nn.functional.pad(audio, (0, seg - audio.numel()))


class AudioMelBatch(NamedTuple):
    mel: torch.Tensor  # [B, n_mels, segment_length // hop + 1]
    audio: torch.Tensor  # [B, segment_length]

    def to(self, device: torch.device) -> "AudioMelBatch":
        return AudioMelBatch(self.mel.to(device), self.audio.to(device))


class AudioMelCollate:
    """Stack segments and compute their mels in one batched STFT."""

    def __init__(self, settings: AudioSettings):
        self.settings = settings

    def __call__(self, segments: Sequence[torch.Tensor]) -> AudioMelBatch:
        audio = torch.stack(list(segments))
        return AudioMelBatch(mel_spectrogram(audio, self.settings), audio)


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
        return {"loss": waveglow_loss(model(batch.mel, batch.audio), float(cfg["loss"]["sigma"]))}
    return model(batch.mel, batch.audio)


def sample_kwargs(cfg: Mapping[str, Any]) -> dict[str, Any]:
    """Synthesis arguments of the validation sample (seeded, so samples of a run compare)."""
    t = cfg["train"]
    sigma = {"sigma": float(t["sample_sigma"])}
    extra = {"waveglow": sigma, "waveglow_compact": sigma, "wavernn": {}, "flowavenet": {"temperature": 0.8}}
    return {**extra[cfg["vocoder"]], "seed": int(t["seed"])}


@torch.no_grad()
def validate(model, loader: DataLoader, val_items: Sequence[Utterance], cfg: Mapping[str, Any], step: int,
             device: torch.device, run: tu.RunDirectory) -> dict[str, Any]:
    """Loss on fixed segments (the start of each validation clip), then a synthesized sample of the
    first clip (`plots/sample_stepN.wav`, see `sample_kwargs`) and the mean |log-mel difference| to it."""
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
    vocoder = copy.deepcopy(model).prepare_for_inference()  # folding weight norm must not touch the trained model
    sample = vocoder(target, **sample_kwargs(cfg))[0].cpu()
    soundfile.write(str(run.plots / f"sample_step{step:07d}.wav"), sample.numpy(), settings.sampling_rate,
                    subtype="PCM_16")
    resynth = mel_spectrogram(sample, settings)[:, : target.size(2)]
    side_by_side([plot_mel(target[0].cpu()), plot_mel(resynth, vmin=float(target.min()), vmax=float(target.max()))]
                 ).save(run.plots / f"mel_step{step:07d}.png")
    model.train(was_training)
    return {"val_loss": total / count, "val_sample_mel_l1": float((resynth - target[0].cpu()).abs().mean())}


# --------------------------------------------------------------------------- entry point


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = session.make_parser("python -m vocoder.train", __doc__,
                            "YAML config (keys: vocoder; sections: model, audio, data, optimizer, loss, train)")
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
    train_set = AudioSegments(train_items, settings, segment, int(t["seed"]))
    val_set = AudioSegments(val_items, settings, segment, int(t["seed"]), random_offsets=False)

    tu.seed_everything(t["seed"])  # identical initial weights on every rank
    model = build_model(cfg).to(device)
    optimizer, scheduler = tu.make_optimizer(model, cfg["optimizer"])
    # clips of equal weight: the bucketing sampler with equal lengths is a seeded, rank-partitioned shuffle
    sampler = BucketBatchSampler([1] * len(train_set), int(d["batch_size"]), seed=int(t["seed"]), drop_last=True,
                                 rank=dist_info.rank, world_size=dist_info.world_size)
    collate = AudioMelCollate(settings)
    loader = DataLoader(train_set, batch_sampler=sampler, collate_fn=collate, num_workers=d["num_workers"],
                        generator=torch.Generator().manual_seed(int(t["seed"])))
    val_loader = DataLoader(val_set, batch_size=int(d["batch_size"]), collate_fn=collate)

    def loss_fn(train_model: torch.nn.Module, batch: AudioMelBatch, step: int) -> dict[str, torch.Tensor]:
        return batch_losses(train_model, batch, cfg)

    def validate_fn(step: int) -> dict[str, Any]:
        return validate(model, val_loader, val_items, cfg, step, device, run)

    resume_path = tu.resolve_resume(args.resume, run)
    if name == "flowavenet" and resume_path is None:
        # ActNorm's data-dependent init, explicitly and before the DDP wrapper (which then broadcasts
        # rank 0's values); the sampler's first batch is read directly, leaving the loader untouched
        first = collate([train_set[i] for i in sampler.batches_of_epoch(0)[0]]).to(device)
        model.initialize_actnorm(first.mel, first.audio)
    trainer = tu.Trainer(name=name, model=model, optimizer=optimizer, scheduler=scheduler, loader=loader,
                         sampler=sampler, run=run, cfg=cfg, device=device, dist_info=dist_info, loss_fn=loss_fn,
                         save_fn=vocoder_kind(name).save, validate_fn=validate_fn if val_items else None)
    summary = (f"{name}: {sum(p.numel() for p in model.parameters()) / 1e6:.2f} M parameters; "
               f"{len(train_set)} train / {len(val_set)} val clips; segments of {segment} samples; "
               f"{t['precision']} on {device} x {dist_info.world_size}")
    return session.start(trainer, resume_path, summary)


if __name__ == "__main__":
    sys.exit(main())

"""Train Tacotron 2 on an LJSpeech-layout corpus or NVIDIA filelist.

    python -m tts.train --config recipes/default_voice/tacotron2_small.yaml \\
        [--run-dir runs/default_voice] [--resume auto|PATH] [--warm-start NVIDIA_CKPT] [--max-steps N]

    # several processes / GPUs / nodes (DistributedDataParallel; gloo on CPU, nccl on CUDA):
    torchrun --nproc_per_node 2 -m tts.train --config ... --run-dir ...

The run directory receives `checkpoints/tacotron2_stepNNNNNNN.pt` (project format, loadable with
`tts.load_tacotron2`; training state in `extra`) with the YAML config beside each, a `latest`
pointer, `train_log.jsonl` (one JSON record per logged step / validation), `val_ids.txt` (the fixed
validation split) and `plots/` (alignment and mel images per validation). `--resume auto`
continues from `latest` with the exact same loss curve as an uninterrupted run (CPU, fp32).

Loss = MSE(mel) + MSE(postnet mel) over real (unpadded) frames + BCE-with-logits stop gate over
real frames + w(step) * guided attention (Tachibana et al. 2017), whose weight w decays so the
model leans on it only while learning to align.

Optional parallel scheduled sampling (Duckworth et al. 2019, arXiv 1906.04331; `train.scheduled_sampling`):
a first teacher-forced pass without gradients predicts every frame group; the decoder then reads its
own prediction instead of the recorded group at each step with probability p, so it learns from
inputs like the ones it feeds itself at synthesis (teacher forcing never shows it its own errors).
"""
from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path
from typing import Any, Mapping, Sequence

import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader

from frontend.arpabet import PronouncingDictionary
from tts.core.audio import AudioSettings
from tts.core.config import load_yaml, merge_config
from tts.core.device import autocast
from tts.core.plotting import plot_alignment, plot_mel, side_by_side
from tts.tacotron2.checkpoint import save_tacotron2, warm_start_state_dict
from tts.tacotron2.model import Tacotron2, Tacotron2Config
from tts.training import loop as tu
from tts.training import session
from tts.training.data import (
    ArpabetMixing,
    BucketBatchSampler,
    MelCache,
    TextMelBatch,
    TextMelCollate,
    TextMelDataset,
    audio_frames,
    encode_texts,
    load_or_make_split,
    precompute,
    read_corpus,
)

DEFAULTS: dict[str, Any] = {
    "model": {},  # Tacotron2Config fields (defaults: NVIDIA's full-size model)
    "audio": {},  # AudioSettings fields (defaults: NVIDIA's mel definition)
    "data": {
        "corpus": None,  # LJSpeech-layout folder or `path|text` filelist
        "cache_dir": "cache/mels",  # mel cache root (a sub-folder per audio-settings hash)
        "batch_size": 16,
        "max_frames": 1000,  # drop clips longer than this many mel frames (~11.6 s)
        "max_chars": 300,  # drop texts longer than this many symbols
        "val_size": 32,  # clips held out for validation (fixed once per run dir)
        "bucket_batches": 8,  # batches per length bucket
        "num_workers": 0,  # DataLoader workers (mels come from the cache: loading is cheap)
        "mel_pad_value": 0.0,  # NVIDIA pads with 0; the loss is masked, so it only feeds post-end steps
        "precompute_workers": None,  # processes for the mel cache (None = one per core)
        # representation mixing (frontend.arpabet): a CMUdict-format pronouncing dictionary, and the
        # probability that a dictionary word is read as its phones in training (validation: always)
        "arpabet_dictionary": None,
        "p_arpabet": 0.5,
    },
    "optimizer": {
        "lr": 1e-3,
        "betas": [0.9, 0.999],
        "eps": 1e-6,
        "weight_decay": 1e-6,
        "grad_clip": 1.0,
        "decay_start": 50000,  # constant lr until this step (the paper: 50k) ...
        "decay_half_life": 10000,  # ... then halve every this many steps (0 = never decay) ...
        "final_lr": 1e-5,  # ... but never below this
        "embedding_lr_scale": 1.0,  # the symbol embedding's learning rate is lr times this (its own Adam group)
    },
    "loss": {
        "gate_pos_weight": None,  # BCE pos_weight for the (rare) stop frames; None = 1
        "guided_attention": {"weight": 1.0, "sigma": 0.2, "decay_start": 0, "half_life": 0},
    },
    "train": {
        "steps": 100000,
        "checkpoint_every": 1000,
        "validate_every": 1000,
        "log_every": 10,
        "keep_last": 5,
        "seed": 1234,
        "precision": "fp32",  # fp32 | bf16 (autocast, CPU or CUDA) | fp16 (CUDA, with loss scaling)
        "device": "auto",
        "num_threads": None,  # torch intra-op threads (None = torch's default)
        "max_bad_steps": 20,  # abort after this many consecutive non-finite losses
        # parallel scheduled sampling: the share p of decoder steps that read the model's own prediction,
        # reached linearly over ramp_steps (0 = at once); p 0 = plain teacher forcing
        "scheduled_sampling": {"p": 0.0, "ramp_steps": 0},
        "run_dir": None,  # default: runs/<config file stem>
    },
}


# --------------------------------------------------------------------------- losses


def guided_attention_weights(text_lengths: torch.Tensor, decoder_lengths: torch.Tensor, t_in: int, t_dec: int,
                             sigma: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Penalty W [B, T_dec, T_in] = 1 - exp(-(n/N - t/T)^2 / (2 sigma^2)) and the validity mask.

    n indexes text symbols (N = text length), t decoder steps (T = decoder steps of the item)."""
    n = torch.arange(t_in, device=text_lengths.device, dtype=torch.float32)
    t = torch.arange(t_dec, device=text_lengths.device, dtype=torch.float32)
    n_rel = n[None, None, :] / text_lengths[:, None, None].float()  # [B, 1, T_in]
    t_rel = t[None, :, None] / decoder_lengths[:, None, None].float()  # [B, T_dec, 1]
    w = 1.0 - torch.exp(-((n_rel - t_rel) ** 2) / (2.0 * sigma**2))
    mask = (n[None, None, :] < text_lengths[:, None, None]) & (t[None, :, None] < decoder_lengths[:, None, None])
    return w, mask


def guided_attention_loss(alignments: torch.Tensor, text_lengths: torch.Tensor, decoder_lengths: torch.Tensor,
                          sigma: float = 0.2) -> torch.Tensor:
    """Mean of A * W over every item's valid (decoder step, symbol) cells (Tachibana et al. 2017).

    alignments [B, T_dec, T_in]; near 0 for a diagonal alignment, large for an anti-diagonal one."""
    _, t_dec, t_in = alignments.shape
    w, mask = guided_attention_weights(text_lengths, decoder_lengths, t_in, t_dec, sigma)
    return (alignments.float() * w * mask).sum() / mask.sum()


def sampling_probability(step: int, p: float, ramp_steps: int) -> float:
    """Scheduled sampling's share of self-fed decoder steps at `step`: p, reached linearly over `ramp_steps`."""
    if not 0.0 <= p <= 1.0 or ramp_steps < 0:
        raise ValueError(f"train.scheduled_sampling needs 0 <= p <= 1 and ramp_steps >= 0, got {p}, {ramp_steps}")
    return p if ramp_steps == 0 else p * min(1.0, step / ramp_steps)


def mix_decoder_inputs(mels: torch.Tensor, predicted: torch.Tensor, p: float, n_frames_per_step: int) -> torch.Tensor:
    """Decoder inputs for parallel scheduled sampling: each group of r frames of `mels` [B, n_mel, T_out]
    (T_out a multiple of r) replaced with probability p by the same group of `predicted` (the decoder's
    own output, before the postnet, as it is fed back at synthesis). Draws from the global RNG."""
    b, _, t_out = mels.shape
    r = n_frames_per_step
    own = torch.rand(b, t_out // r, device=mels.device) < p  # [B, groups]
    own = own.repeat_interleave(r, dim=1)[:, None, :]  # [B, 1, T_out]
    return torch.where(own, predicted.detach().to(mels.dtype), mels)


def decay(weight: float, step: int, start: int, half_life: float) -> float:
    """`weight` until `start`, then halving every `half_life` steps (0 = constant)."""
    if half_life <= 0 or step < start:
        return weight
    return weight * 0.5 ** ((step - start) / half_life)


def tacotron2_loss(out, batch: TextMelBatch, n_frames_per_step: int, *, ga_weight: float, ga_sigma: float,
                   gate_pos_weight: float | None = None) -> dict[str, torch.Tensor]:
    """Per-term losses (all fp32) and their weighted sum under "loss"."""
    mels, mel_lengths = batch.mels, batch.mel_lengths
    t_out = mels.size(2)
    real = torch.arange(t_out, device=mels.device)[None, :] < mel_lengths[:, None]  # [B, T_out]
    n_values = real.sum() * mels.size(1)

    def masked_mse(pred: torch.Tensor) -> torch.Tensor:
        return (((pred.float() - mels) ** 2) * real[:, None, :]).sum() / n_values

    pos_weight = None if gate_pos_weight is None else torch.tensor(gate_pos_weight, device=mels.device)
    gate = F.binary_cross_entropy_with_logits(out.gate.float(), batch.gate, pos_weight=pos_weight, reduction="none")
    losses = {
        "mel": masked_mse(out.mel),
        "mel_postnet": masked_mse(out.mel_postnet),
        "gate": (gate * real).sum() / real.sum(),
    }
    decoder_lengths = torch.div(mel_lengths + n_frames_per_step - 1, n_frames_per_step, rounding_mode="floor")
    losses["attention"] = guided_attention_loss(out.alignments, batch.text_lengths, decoder_lengths, ga_sigma)
    losses["loss"] = losses["mel"] + losses["mel_postnet"] + losses["gate"] + ga_weight * losses["attention"]
    return losses


# --------------------------------------------------------------------------- setup


def load_config(path: str | Path) -> dict[str, Any]:
    return merge_config(DEFAULTS, load_yaml(path))


def build_model(cfg: Mapping[str, Any]):
    audio = AudioSettings.from_dict(cfg["audio"])
    model = Tacotron2(Tacotron2Config.from_dict(cfg["model"]), audio)
    model.text_settings = {"frontend": "frontend.text_to_sequence", "normalize": True, "symbols": "nvidia-148"}
    dictionary = cfg["data"].get("arpabet_dictionary")
    if dictionary:  # the voice must give the model its dictionary words as phones (`frontend.arpabet`)
        model.text_settings["arpabet"] = {"dictionary": Path(dictionary).name, "p_train": cfg["data"]["p_arpabet"]}
    return model


class TrainingData:
    """Corpus -> filtered clips -> cached mels -> train / validation datasets."""

    def __init__(self, cfg: Mapping[str, Any], run_dir: Path, audio: AudioSettings, dist_info: tu.DistInfo):
        d = cfg["data"]
        if not d["corpus"]:
            raise ValueError("data.corpus is not set in the config")
        items = read_corpus(d["corpus"])
        if not items:
            raise ValueError(f"corpus {d['corpus']} has no clips")
        ids, seed = [u.id for u in items], cfg["train"]["seed"]
        if dist_info.is_main:  # rank 0 chooses (or finds) the split; the others read what it stored
            load_or_make_split(run_dir, ids, d["val_size"], seed)
        tu.barrier(dist_info)
        val_ids = set(load_or_make_split(run_dir, ids, d["val_size"], seed))
        missing = [u for u in items if not u.wav.is_file()]
        if missing:
            raise ValueError(f"{len(missing)} audio files are missing, e.g. {missing[0].wav}")
        frames = {u.id: audio_frames(u, audio) for u in items}
        too_long = [u for u in items if frames[u.id] > d["max_frames"]]
        items = [u for u in items if frames[u.id] <= d["max_frames"]]
        mixing = arpabet_mixing(d)
        items, sequences, dropped = encode_texts(items, d["max_chars"], mixing and mixing.dictionary)
        self.dropped = {"too_many_frames": len(too_long), **dropped}
        self.cache = MelCache(d["cache_dir"], audio)
        if dist_info.is_main:
            precompute(self.cache, items, d["precompute_workers"])
        tu.barrier(dist_info)
        train = [(u, s) for u, s in zip(items, sequences) if u.id not in val_ids]
        val = [(u, s) for u, s in zip(items, sequences) if u.id in val_ids]
        if not train:
            raise ValueError("no training clips left after the filters and the validation split")
        self.train = TextMelDataset([u for u, _ in train], self.cache, [s for _, s in train],
                                    [frames[u.id] for u, _ in train], mixing)
        self.val = TextMelDataset([u for u, _ in val], self.cache, [s for _, s in val],
                                  [frames[u.id] for u, _ in val], mixing and mixing._replace(p=1.0))


def arpabet_mixing(data_cfg: Mapping[str, Any]) -> ArpabetMixing | None:
    """The config's representation mixing, or None when it names no pronouncing dictionary."""
    path = data_cfg.get("arpabet_dictionary")
    if not path:
        return None
    p = data_cfg.get("p_arpabet", 0.5)
    if not isinstance(p, (int, float)) or not 0.0 < p <= 1.0:  # 0 would mark the model as reading phones it never saw
        raise ValueError(f"data.p_arpabet must be a number in (0, 1], got {p!r}")
    if data_cfg.get("num_workers"):  # the draws come from the main process's RNG, which the loop saves
        raise ValueError("data.arpabet_dictionary needs data.num_workers: 0 (a resumed run must draw as before)")
    if not Path(path).is_file():
        raise ValueError(f"data.arpabet_dictionary {path}: no such file")
    return ArpabetMixing(PronouncingDictionary.read(path), float(p))


def warm_start(model: torch.nn.Module, path: str | Path) -> list[str]:
    """Initialise from another Tacotron 2 checkpoint (any NVIDIA layout or ours) of the same
    architecture; the symbol embedding keeps its fresh initialisation when the symbol count differs.
    Returns the names that were not copied."""
    return warm_start_state_dict(model, path)


# --------------------------------------------------------------------------- validation


@torch.no_grad()
def validate(model, loader: DataLoader, cfg: Mapping[str, Any], step: int, device: torch.device, run: tu.RunDirectory,
             ga_weight: float) -> dict[str, float]:
    """Teacher-forced validation losses, plus alignment / mel images of the first clip (and of a
    free-running synthesis of it). Runs on a forked RNG so the training RNG stream is untouched."""
    r = model.config.n_frames_per_step
    precision = cfg["train"]["precision"]
    was_training = model.training
    model.eval()
    sums: dict[str, float] = {}
    count = 0
    first = None
    focus, focus_steps = 0.0, 0
    with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
        torch.manual_seed(cfg["train"]["seed"])
        for batch in loader:
            batch = batch.to(device)
            with autocast(precision, device):
                out = model(batch.text, batch.text_lengths, batch.mels, batch.mel_lengths)
            losses = tacotron2_loss(out, batch, r, ga_weight=ga_weight, ga_sigma=cfg["loss"]["guided_attention"]["sigma"],
                                    gate_pos_weight=cfg["loss"]["gate_pos_weight"])
            # attention focus: mean over real decoder steps of the largest weight (1 = sharp, 1/N = uniform)
            steps_real = torch.div(batch.mel_lengths + r - 1, r, rounding_mode="floor")
            real = torch.arange(out.alignments.size(1), device=device)[None, :] < steps_real[:, None]
            focus += float((out.alignments.float().amax(2) * real).sum())
            focus_steps += int(real.sum())
            n = batch.text.size(0)
            for k, v in losses.items():
                sums[k] = sums.get(k, 0.0) + float(v) * n
            count += n
            if first is None:
                first = (batch, out)
        batch, out = first
        t_in, t_out = int(batch.text_lengths[0]), int(batch.mel_lengths[0])
        steps = math.ceil(t_out / r)
        image = plot_alignment(out.alignments[0, :steps, :t_in])
        image.save(run.plots / f"alignment_step{step:07d}.png")
        image.save(run.plots / "alignment_latest.png")
        vmin = float(batch.mels[0, :, :t_out].min())
        side_by_side([plot_mel(batch.mels[0, :, :t_out], vmin=vmin, vmax=2.0),
                      plot_mel(out.mel_postnet[0, :, :t_out], vmin=vmin, vmax=2.0)]
                     ).save(run.plots / f"mel_step{step:07d}.png")
        # free running: does it align and stop without teacher forcing?
        # an untrained model not stopping is expected, not news (val_infer_stopped records it)
        inf = model.infer(batch.text[:1, :t_in], max_decoder_steps=2 * t_out // r + 10, seed=cfg["train"]["seed"],
                          warn=False)
        inf_steps = math.ceil(int(inf.mel_lengths[0]) / r)
        image = plot_alignment(inf.alignments[0, :inf_steps, :t_in])
        image.save(run.plots / f"infer_alignment_step{step:07d}.png")
        image.save(run.plots / "infer_alignment_latest.png")
    model.train(was_training)
    result = {f"val_{k}": v / count for k, v in sums.items()}
    result["val_attention_focus"] = focus / focus_steps
    result["val_infer_frames"] = int(inf.mel_lengths[0])
    result["val_target_frames"] = t_out
    result["val_infer_stopped"] = not bool(inf.reached_max_steps[0])
    return result


# --------------------------------------------------------------------------- training loop


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = session.make_parser("python -m tts.train", __doc__,
                            "YAML training config (sections: model, audio, data, optimizer, loss, train)")
    p.add_argument("--warm-start", help="initialise weights from a Tacotron 2 checkpoint (NVIDIA or project format); "
                                        "the symbol embedding is skipped when its size differs. Ignored when resuming")
    p.add_argument("--precompute-only", action="store_true", help="fill the mel cache and exit")
    return p.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    return session.run_cli(run_training, argv, "python -m tts.train")


def run_training(argv: Sequence[str] | None = None) -> tu.Trainer | None:
    """`main` without the exit code: returns the finished Trainer (None for --precompute-only)."""
    args = parse_args(argv)
    cfg = load_config(args.config)
    with session.training_session(args, cfg, "tacotron2") as run_session:
        data = TrainingData(cfg, run_session.run.root, AudioSettings.from_dict(cfg["audio"]), run_session.dist_info)
        return None if args.precompute_only else train(cfg, args, run_session.run, data, run_session.device, run_session.dist_info)


def train(cfg: dict[str, Any], args: argparse.Namespace, run: tu.RunDirectory, data: TrainingData,
          device: torch.device, dist_info: tu.DistInfo) -> tu.Trainer:
    from tqdm import tqdm

    t, ga = cfg["train"], cfg["loss"]["guided_attention"]
    tu.seed_everything(t["seed"])  # identical initial weights on every rank
    model = build_model(cfg).to(device)
    r = model.config.n_frames_per_step
    # a bigger step for the symbol embedding alone: a warm start whose new symbols (ARPAbet phones on a
    # letters-trained model) begin alike would otherwise take thousands of steps to tell them apart
    embedding_scale = float(cfg["optimizer"].get("embedding_lr_scale", 1.0))
    optimizer, scheduler = tu.make_optimizer(model, cfg["optimizer"], {"embedding.": embedding_scale})
    sampler = BucketBatchSampler(data.train.mel_lengths, cfg["data"]["batch_size"], seed=t["seed"],
                                 bucket_batches=cfg["data"]["bucket_batches"], drop_last=True,
                                 rank=dist_info.rank, world_size=dist_info.world_size)
    collate = TextMelCollate(r, cfg["data"]["mel_pad_value"])
    # a private generator: creating a DataLoader iterator must not draw from the global RNG
    loader = DataLoader(data.train, batch_sampler=sampler, collate_fn=collate, num_workers=cfg["data"]["num_workers"],
                        generator=torch.Generator().manual_seed(t["seed"]))
    val_loader = DataLoader(data.val, batch_size=cfg["data"]["batch_size"], shuffle=False, collate_fn=collate) \
        if len(data.val) else None

    def ga_weight(step: int) -> float:
        return decay(float(ga["weight"]), step, int(ga["decay_start"]), float(ga["half_life"]))

    ss_p, ss_ramp = float(t["scheduled_sampling"]["p"]), int(t["scheduled_sampling"]["ramp_steps"])
    sampling_probability(0, ss_p, ss_ramp)  # a bad setting fails before training starts

    def loss_fn(train_model: torch.nn.Module, batch: TextMelBatch, step: int) -> dict[str, torch.Tensor]:
        p = sampling_probability(step, ss_p, ss_ramp)
        inputs = None
        if p > 0:  # first pass: the decoder's own predictions, teacher-forced, no gradients
            with torch.no_grad():
                first = train_model(batch.text, batch.text_lengths, batch.mels, batch.mel_lengths)
            inputs = mix_decoder_inputs(batch.mels, first.mel, p, r)
        out = train_model(batch.text, batch.text_lengths, batch.mels, batch.mel_lengths, decoder_inputs=inputs)
        losses = tacotron2_loss(out, batch, r, ga_weight=ga_weight(step), ga_sigma=float(ga["sigma"]),
                                gate_pos_weight=cfg["loss"]["gate_pos_weight"])
        losses["ga_weight"] = torch.tensor(ga_weight(step))
        if p > 0:
            losses["sampling_p"] = torch.tensor(p)
        return losses

    def validate_fn(step: int) -> dict[str, Any]:
        return validate(model, val_loader, cfg, step, device, run, ga_weight(step))

    trainer = tu.Trainer(name="tacotron2", model=model, optimizer=optimizer, scheduler=scheduler, loader=loader,
                         sampler=sampler, run=run, cfg=cfg, device=device, dist_info=dist_info, loss_fn=loss_fn,
                         save_fn=save_tacotron2, validate_fn=validate_fn if val_loader is not None else None)

    def fresh_start() -> None:
        if args.warm_start:
            skipped = warm_start(model, args.warm_start)
            if dist_info.is_main:
                tqdm.write(f"warm start from {args.warm_start}; kept fresh: {', '.join(skipped) or 'nothing'}")

    n_params = sum(p.numel() for p in model.parameters())
    summary = (f"tacotron2: {n_params / 1e6:.2f} M parameters; {len(data.train)} train / {len(data.val)} val clips "
               f"(dropped: {data.dropped}); {len(sampler.batches_of_epoch(0))} batches/epoch/rank; "
               f"{t['precision']} on {device} x {dist_info.world_size}")
    return session.start(trainer, tu.resolve_resume(args.resume, run), summary, fresh_start)


if __name__ == "__main__":
    sys.exit(main())

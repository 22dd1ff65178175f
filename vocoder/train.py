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
`data.mel_dir_fraction` (default 1) < 1 reads only that share of the training segments from the
folder (drawn per clip and epoch) and gives the rest the clip's ground-truth mel.
`--warm-start PATH` (a fresh run only) copies the weights of a checkpoint of the same model and
config (a stage-1 training checkpoint, say) and starts at step 0 with a fresh optimizer.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, Callable, Mapping, NamedTuple, Sequence

import numpy as np
import soundfile
import torch
from torch.utils.data import DataLoader

from tts.core.audio import AudioSettings, load_wav, mel_spectrogram
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
from vocoder.segments import AudioMelBatch, AudioMelCollate, AudioSegments, MelDirSegments
from vocoder.waveglow import (
    DEFAULT_SIGMA,
    CompactWaveGlow,
    CompactWaveGlowConfig,
    WaveGlow,
    WaveGlowConfig,
    WaveGlowLoss,
    linear_prediction,
    read_waveglow_checkpoint,
    save_waveglow,
)
from vocoder.waveglow.compiled import compile_couplings
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
        "mel_dir_fraction": 1.0,  # the share of training segments read from mel_dir; the rest ground truth
        # folder of per-clip pitch and pulses (<id>.npz, recipes/default_voice/extract_excitation.py): the
        # compact WaveGlow's pulse excitation trains on them (required with model.pulse_excitation)
        "excitation_dir": None,
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
        "compile": False,  # waveglow_compact: compile the coupling networks for training (vocoder.waveglow.compiled)
        "max_bad_steps": 20,
        "run_dir": None,
        "sample_sigma": DEFAULT_SIGMA,  # noise scale of WaveGlow's validation sample
        "sample_seconds": 4.0,  # length cap of the validation sample
    },
}


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
    pulses = bool(getattr(model_config, "pulse_excitation", False))
    if pulses != bool(cfg["data"]["excitation_dir"]):
        raise ValueError("model.pulse_excitation needs data.excitation_dir (the clips' pitch and pulses) and "
                         "data.excitation_dir is only for model.pulse_excitation: set both or neither")
    if cfg["data"]["val_mel_dir"] and not cfg["data"]["mel_dir"]:
        raise ValueError("data.val_mel_dir needs data.mel_dir (the folder of mels to validate on)")
    fraction = cfg["data"]["mel_dir_fraction"]
    if isinstance(fraction, bool) or not isinstance(fraction, (int, float)) or not 0 < fraction <= 1:
        raise ValueError(f"data.mel_dir_fraction must be a number in (0, 1], got {fraction!r}")
    if fraction != 1 and not cfg["data"]["mel_dir"]:
        raise ValueError("data.mel_dir_fraction needs data.mel_dir (the folder it takes that share of mels from)")
    if not isinstance(cfg["train"]["compile"], bool) or (cfg["train"]["compile"] and name != "waveglow_compact"):
        raise ValueError(f"train.compile must be true or false, and true only for waveglow_compact (got "
                         f"{cfg['train']['compile']!r} for {name})")
    if name == "wavernn" and cfg["train"]["precision"] != "fp32":
        raise ValueError(f"train.precision {cfg['train']['precision']!r}: WaveRNN trains in fp32 only (its "
                         "recurrent pass and 16-bit dual softmax are unvalidated in reduced precision); set "
                         "train.precision: fp32")
    return cfg


def describe_mel_source(mel_dir: str | None, fraction: float) -> str:
    if not mel_dir:
        return "computed from the audio"
    if fraction >= 1:
        return f"from {mel_dir}"
    return f"{fraction:.0%} from {mel_dir}, the rest computed from the audio"


def build_model(cfg: Mapping[str, Any]):
    kind = vocoder_kind(cfg["vocoder"])
    return kind.model(kind.config.from_dict(cfg["model"] or {}), AudioSettings.from_dict(cfg["audio"]))


def waveglow_loss(model_output, sigma: float) -> torch.Tensor:
    """WaveGlowLoss in fp32 whatever precision the flows ran in."""
    z, log_s, log_det_w = model_output[:3]
    return WaveGlowLoss(sigma)((z.float(), [s.float() for s in log_s], [d.float() for d in log_det_w]))


def batch_losses(model: torch.nn.Module, batch: AudioMelBatch, cfg: Mapping[str, Any]) -> dict[str, torch.Tensor]:
    """{"loss": scalar, other terms...} of one batch; `model` may be the DDP wrapper (it is called,
    not its methods, so DDP sees the pass). WaveRNN and FloWaveNet return their terms themselves."""
    if cfg["vocoder"] in WAVEGLOW_LOSS:
        output = model(batch.mel, batch.audio, **batch.flow_inputs())  # the compact WaveGlow's extras
        nll = waveglow_loss(output, float(cfg["loss"]["sigma"]))
        if len(output) == 4:  # with pulse excitation: the pitch predictor's loss
            return {"loss": nll + output[3], "nll": nll.detach(), "pitch_loss": output[3].detach()}
        return {"loss": nll}
    return model(batch.mel, batch.audio)


def sample_kwargs(cfg: Mapping[str, Any]) -> dict[str, Any]:
    """Synthesis arguments of the validation sample (seeded, so samples of a run compare)."""
    t = cfg["train"]
    sigma = {"sigma": float(t["sample_sigma"])}
    extra = {"waveglow": sigma, "waveglow_compact": sigma, "wavernn": {}, "flowavenet": {"temperature": 0.8}}
    return {**extra[cfg["vocoder"]], "seed": int(t["seed"])}


@torch.no_grad()
def initialize_pulse_shape(model: CompactWaveGlow, batch: AudioMelBatch) -> int:
    """Set the mean pulse shape to its maximum-likelihood value before any flow uses it: the mean of
    the whitened residual around the batch's pulses. Returns how many pulses were averaged."""
    residual, _ = linear_prediction.whiten(batch.audio, model.predictor(batch.mel), model.hop, batch.history)
    taps = model.pulse_shape.scaled_waveform.shape[0]
    windows = torch.nn.functional.pad(residual, (taps // 2, taps // 2)).unfold(1, taps, 1)  # [B, N, taps]
    at_pulses = windows[batch.pulses > 0]
    if len(at_pulses):
        model.pulse_shape.scaled_waveform.copy_(at_pulses.mean(0).float() / model.pulse_shape.WAVEFORM_SCALE)
    return len(at_pulses)


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
    pitch_total = None  # the pitch predictor's loss, when the model has one
    with autocast(t["precision"], device):
        for batch in loader:
            batch = batch.to(device)
            losses = batch_losses(model, batch, cfg)
            # the flows' loss alone (comparable with runs without a pitch predictor), its loss apart
            total += float(losses.get("nll", losses["loss"])) * batch.audio.size(0)
            if "pitch_loss" in losses:
                pitch_total = (pitch_total or 0.0) + float(losses["pitch_loss"]) * batch.audio.size(0)
            count += batch.audio.size(0)
    audio = load_wav(val_items[0].wav, settings)[: int(t["sample_seconds"] * settings.sampling_rate)]
    target = mel_spectrogram(audio, settings)[None].to(device)
    source = target
    if mel_dir is not None:
        source = torch.from_numpy(np.load(Path(mel_dir) / f"{val_items[0].id}.npy")[:, : target.size(2)])
        source = source.float()[None].to(device)
    # a fresh copy (not deepcopy: a compiled model's wrappers do not copy): folding weight norm must not
    # touch the trained model
    vocoder = build_model(cfg).to(device)
    vocoder.load_state_dict(model.state_dict())
    vocoder.prepare_for_inference()
    sample = vocoder(source, **sample_kwargs(cfg))[0].cpu()
    soundfile.write(str(run.plots / f"sample_step{step:07d}.wav"), sample.numpy(), settings.sampling_rate,
                    subtype="PCM_16")
    resynth = mel_spectrogram(sample, settings)[:, : target.size(2)]
    side_by_side([plot_mel(target[0].cpu()), plot_mel(resynth, vmin=float(target.min()), vmax=float(target.max()))]
                 ).save(run.plots / f"mel_step{step:07d}.png")
    model.train(was_training)
    pitch = {} if pitch_total is None else {"val_pitch_loss": pitch_total / count}
    return {"val_loss": total / count, **pitch,
            "val_sample_mel_l1": float((resynth - target[0].cpu()).abs().mean())}


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
    adds_pulses = adds_pulse_excitation(model.config, config)
    if config != model.config and not adds_pulses:
        mine, theirs = model.config.to_dict(), config.to_dict()
        diff = [f"{k}: {mine.get(k)} vs {theirs.get(k)}" for k in sorted(set(mine) | set(theirs)) if mine.get(k) != theirs.get(k)]
        raise CheckpointError(f"--warm-start {path}: its model config differs from this run's "
                              f"(run vs checkpoint: {'; '.join(diff)})")
    diff = model.audio.differences(audio)
    if diff:
        raise CheckpointError(f"--warm-start {path}: its audio settings differ from this run's "
                              f"(run vs checkpoint: {'; '.join(diff)})")
    target = model.state_dict()
    new = {k for k in set(target) - set(state_dict) if adds_pulses and is_pulse_excitation_weight(k)}
    bad = sorted((set(target) - new) ^ set(state_dict))
    bad += [k for k in target if k in state_dict and state_dict[k].shape != target[k].shape]
    if bad:
        raise CheckpointError(f"--warm-start {path}: its weights do not fit this model ({', '.join(bad[:5])})")
    # the pulse layers and the pitch predictor, new, keep their initialisation (the pulse layers zero:
    # the model starts as the checkpoint's)
    model.load_state_dict({**{k: v.to(target[k].dtype) for k, v in state_dict.items()},
                           **{k: target[k] for k in new}}, strict=True)


#: the compact WaveGlow's parts a warm start may add: each config field -> the field that switches its part on
ADDABLE_PARTS = {
    "pulse_excitation": "pulse_excitation", "pitch_channels": "pulse_excitation", "pitch_layers": "pulse_excitation",
    "pitch_kernel_size": "pulse_excitation", "pulse_shape_taps": "pulse_shape_taps",
    "pulse_shape_channels": "pulse_shape_channels",
}


def adds_pulse_excitation(run_config: Any, checkpoint_config: Any) -> bool:
    """Whether the run's model is the checkpoint's with parts added that the checkpoint has off (pulse
    excitation, the mean pulse shape, its variation) and nothing else changed."""
    if not isinstance(run_config, CompactWaveGlowConfig) or not isinstance(checkpoint_config, CompactWaveGlowConfig):
        return False
    mine, theirs = run_config.to_dict(), checkpoint_config.to_dict()
    differing = [k for k in mine if mine[k] != theirs.get(k)]
    return bool(differing) and all(k in ADDABLE_PARTS and not theirs[ADDABLE_PARTS[k]] for k in differing)


def is_pulse_excitation_weight(key: str) -> bool:
    return key.startswith(("pitch.", "pulse_shape.")) or ".pulse_layer." in key


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
    excitation_dir = d["excitation_dir"]
    if excitation_dir:  # refused here, before any model is built, if a clip has none
        lacking = [u.id for u in items if not (Path(excitation_dir) / f"{u.id}.npz").is_file()]
        if lacking:
            raise ValueError(f"data.excitation_dir {excitation_dir}: no pitch and pulses for {len(lacking)} clips "
                             f"(e.g. {lacking[0]}); extract them with recipes/default_voice/extract_excitation.py")
    if mel_dir:  # refused here, before any model is built, if made otherwise or incomplete
        check_mel_dir(mel_dir, settings, train_items + (val_items if val_mel_dir else []))
        train_set = MelDirSegments(train_items, settings, segment, int(t["seed"]), mel_dir, context=context,
                                   excitation_dir=excitation_dir, fraction=float(d["mel_dir_fraction"]))
    else:
        train_set = AudioSegments(train_items, settings, segment, int(t["seed"]), context=context,
                                  excitation_dir=excitation_dir)
    if val_mel_dir:
        val_set = MelDirSegments(val_items, settings, segment, int(t["seed"]), val_mel_dir, random_offsets=False,
                                 context=context, excitation_dir=excitation_dir)
    else:
        val_set = AudioSegments(val_items, settings, segment, int(t["seed"]), random_offsets=False, context=context,
                                excitation_dir=excitation_dir)

    tu.seed_everything(t["seed"])  # identical initial weights on every rank
    model = build_model(cfg).to(device)
    if t["compile"]:
        compile_couplings(model)
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
        from tqdm import tqdm

        if warm:
            warm_start(model, warm, name)
            if dist_info.is_main:
                tqdm.write(f"warm start from {warm}: weights only, fresh optimizer, step 0")
        shape = getattr(model, "pulse_shape", None)
        if shape is not None and not shape.scaled_waveform.detach().any():
            # the same clips on every rank: after the DDP wrapper's broadcast each rank sets equal values
            clips = range(min(32, len(train_set)))
            pulses = initialize_pulse_shape(model, collate([train_set[i] for i in clips]))
            if dist_info.is_main:
                tqdm.write(f"mean pulse shape initialised from {pulses} pulses of {len(clips)} clips")

    summary = (f"{name}: {sum(p.numel() for p in model.parameters()) / 1e6:.2f} M parameters; "
               f"{len(train_set)} train / {len(val_set)} val clips; segments of {segment} samples; "
               f"mels {describe_mel_source(mel_dir, d['mel_dir_fraction'])} "
               f"(validation: {'from ' + str(val_mel_dir) if val_mel_dir else 'ground truth'}); "
               f"{t['precision']} on {device} x {dist_info.world_size}")
    return session.start(trainer, resume_path, summary, fresh_start)


if __name__ == "__main__":
    sys.exit(main())

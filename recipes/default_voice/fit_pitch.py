"""Refit a compact WaveGlow's pitch predictor alone, on the corpus's pitch targets.

    python3 recipes/default_voice/fit_pitch.py --checkpoint checkpoints/default/waveglow.pt \\
        --out runs/pitch_refit/waveglow_compact.pt                   # GT + GTA mels, 3,000 steps
    python3 recipes/default_voice/fit_pitch.py --checkpoint CKPT --steps 50 --limit 40 --out /tmp/p.pt   # a trial

The flows are trained on the pulses found in the recordings, and the pitch predictor
(`vocoder/waveglow/excitation.py`) only places pulses at synthesis: it trains on nothing the flows
see, so it can be refitted alone when its targets change (the pulses' own F0 instead of YIN's) at a
small cost (a few convolutions over the mel; one step is a fraction of a second on one thread).
Each step takes `--batch-size` random crops of `--frames` frames from the training clips
(`<corpus>/metadata.csv`; the held-out clips are never used) with their `f0` targets from
`<corpus>/excitation` (extract_excitation.py); each crop's mel is the clip's ground-truth mel, or with
probability `--gta-fraction` its GTA mel from `--mels` (dump_gta.py), as the vocoder gets at synthesis.
Adam, the learning rate halved at 50 % and 75 % of the steps. The loss of `--keep-out` clips (the
first ones) kept out of training (the predictor's own loss: voicing cross-entropy + |log F0 error|) is printed before and
after; the output is the input checkpoint with the new predictor (project format: every other weight
exactly as stored, the predictor's in fp32).

Errors are one `error: ...` line on stderr: exit status 2 for bad input (a missing corpus, checkpoint,
excitation or mel file, a checkpoint without a pitch predictor, bad arguments), 1 for any other
failure; --verbose prints the traceback.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:  # run as a script from a clone
    sys.path.insert(0, str(REPO))

from bench.report import ArgumentParser, BadInput, run  # after the path: the error contract of recipes and benches

DEFAULT_CORPUS = Path("data/default_voice")


def build_parser() -> argparse.ArgumentParser:
    parser = ArgumentParser(description=__doc__)
    parser.add_argument("--checkpoint", type=Path, required=True, help="compact WaveGlow with pulse excitation")
    parser.add_argument("--out", type=Path, required=True, help="where to write the refitted checkpoint")
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS,
                        help="LJSpeech-layout corpus folder with excitation/ (default: data/default_voice)")
    parser.add_argument("--mels", type=Path, help="folder of GTA mels (<id>.npy; default: <corpus>/gta_tacotron2 "
                        "when --gta-fraction > 0)")
    parser.add_argument("--gta-fraction", type=float, default=0.5, help="share of crops on GTA mels (default 0.5)")
    parser.add_argument("--steps", type=int, default=3000, help="training steps (default 3000)")
    parser.add_argument("--batch-size", type=int, default=32, help="crops per step (default 32)")
    parser.add_argument("--frames", type=int, default=128, help="frames per crop (default 128)")
    parser.add_argument("--lr", type=float, default=1e-3, help="Adam learning rate (default 1e-3)")
    parser.add_argument("--limit", type=int, default=0, help="only the first N training clips (0: all)")
    parser.add_argument("--keep-out", type=int, default=64, help="clips kept out to score the fit (default 64)")
    parser.add_argument("--seed", type=int, default=1234, help="seed of the crops and the GTA draws (default 1234)")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not 0.0 <= args.gta_fraction <= 1.0:
        parser.error(f"--gta-fraction must be in [0, 1], got {args.gta_fraction}")
    for name in ("steps", "batch_size", "frames", "keep_out"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be >= 1, got {getattr(args, name)}")
    if args.lr <= 0:
        parser.error(f"--lr must be > 0, got {args.lr}")
    return run(lambda _: fit(args), argv)


def check_inputs(args: argparse.Namespace) -> Path | None:
    """The GTA folder (None without GTA crops), after checking every input path."""
    if not args.checkpoint.is_file():
        raise BadInput(f"--checkpoint {args.checkpoint}: no such file")
    if not (args.corpus / "metadata.csv").is_file():
        raise BadInput(f"corpus not found: {args.corpus} (no metadata.csv)")
    if not (args.corpus / "excitation").is_dir():
        raise BadInput(f"{args.corpus}/excitation: not found; run recipes/default_voice/extract_excitation.py")
    mels = args.mels or args.corpus / "gta_tacotron2"
    if args.gta_fraction > 0 and not mels.is_dir():
        raise BadInput(f"GTA mel folder not found: {mels} (make it with recipes/default_voice/dump_gta.py, "
                       "or --gta-fraction 0)")
    return mels if args.gta_fraction > 0 else None


def load_clips(args: argparse.Namespace, gta_dir: Path | None, audio) -> list[tuple]:
    """(ground-truth mel [n_mels, T], GTA mel [n_mels, T] or None, f0 [T]) of every training clip, the
    mels by the checkpoint's `audio` settings."""
    import numpy as np
    import torch
    from tqdm import tqdm

    from tts.core.audio import load_wav, mel_spectrogram
    from tts.training.data import read_corpus

    items = read_corpus(args.corpus)[: args.limit or None]
    clips = []
    for u in tqdm(items, desc="mels and pitch", unit="clip", disable=args.quiet):
        gt = mel_spectrogram(load_wav(u.wav, audio), audio)
        path = args.corpus / "excitation" / f"{u.id}.npz"
        try:
            with np.load(path) as data:
                f0 = torch.from_numpy(data["f0"].astype(np.float32))
            gta = None if gta_dir is None else torch.from_numpy(np.load(gta_dir / f"{u.id}.npy").astype(np.float32))
        except (OSError, KeyError, ValueError) as exc:
            raise BadInput(f"{u.id}: cannot read its pitch or GTA mel ({' '.join(str(exc).split())})") from None
        if len(f0) != gt.shape[1] or (gta is not None and gta.shape != gt.shape):
            raise BadInput(f"{u.id}: {len(f0)} pitch frames, GTA mel {None if gta is None else tuple(gta.shape)}, "
                           f"but its mel is {tuple(gt.shape)}")
        clips.append((gt, gta, f0))
    if len(clips) <= args.keep_out:
        raise BadInput(f"{len(clips)} training clips: more than --keep-out {args.keep_out} are needed")
    return clips


def crops(clips: list[tuple], count: int, frames: int, gta_fraction: float, rng, audio) -> tuple:
    """A batch: mel [count, n_mels, frames] and f0 [count, frames] (short clips padded: silence, unvoiced)."""
    import torch

    mels = torch.full((count, audio.n_mel_channels, frames), audio.silence_level)
    f0 = torch.zeros(count, frames)
    for row, index in enumerate(rng.integers(0, len(clips), count)):
        gt, gta, target = clips[index]
        mel = gta if gta is not None and rng.random() < gta_fraction else gt
        start = int(rng.integers(0, max(1, mel.shape[1] - frames + 1)))
        piece = mel[:, start:start + frames]
        mels[row, :, : piece.shape[1]] = piece
        f0[row, : piece.shape[1]] = target[start:start + frames]
    return mels, f0


def held_out_loss(pitch, clips: list[tuple]) -> float:
    """The predictor's loss over whole clips (ground-truth mels), averaged over clips."""
    import torch

    with torch.no_grad():
        return sum(float(pitch.loss(gt[None], f0[None])) for gt, _, f0 in clips) / len(clips)


def read_pulsed_checkpoint(path: Path):
    """(config, audio settings, state_dict as stored, the model built from it) of a compact WaveGlow with
    pulse excitation; anything else is BadInput."""
    import torch

    from tts.core.serialization import CheckpointError
    from vocoder import CompactWaveGlow, CompactWaveGlowConfig
    from vocoder.waveglow.checkpoint import read_waveglow_checkpoint

    try:
        config, audio, state_dict = read_waveglow_checkpoint(path)
    except CheckpointError as exc:
        raise BadInput(str(exc)) from None
    if not isinstance(config, CompactWaveGlowConfig) or not config.pulse_excitation:
        raise BadInput(f"--checkpoint {path}: not a compact WaveGlow with a pitch predictor")
    model = CompactWaveGlow(config, audio)
    model.load_state_dict({k: v.float() if torch.is_floating_point(v) else v for k, v in state_dict.items()})
    return config, audio, state_dict, model


def fit(args: argparse.Namespace) -> int:
    gta_dir = check_inputs(args)
    import numpy as np
    import torch
    from tqdm import tqdm

    from tts.core.serialization import make_project_checkpoint, save_project_checkpoint
    from vocoder.waveglow.compact import MODEL_NAME

    torch.set_num_threads(args.threads)
    config, audio, state_dict, model = read_pulsed_checkpoint(args.checkpoint)
    clips = load_clips(args, gta_dir, audio)
    train, keep_out = clips[args.keep_out:], clips[: args.keep_out]
    pitch = model.pitch.train()
    before = held_out_loss(pitch, keep_out)
    optimizer = torch.optim.Adam(pitch.parameters(), lr=args.lr)
    schedule = torch.optim.lr_scheduler.MultiStepLR(optimizer, [args.steps // 2, args.steps * 3 // 4], 0.5)
    rng = np.random.default_rng(args.seed)
    bar = tqdm(range(args.steps), desc="pitch predictor", unit="step", disable=args.quiet)
    for _ in bar:
        mel, f0 = crops(train, args.batch_size, args.frames, args.gta_fraction, rng, audio)
        loss = pitch.loss(mel, f0)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        schedule.step()
        bar.set_postfix(loss=f"{loss.item():.4f}", refresh=False)
    pitch.eval()
    after = held_out_loss(pitch, keep_out)
    # every other weight exactly as stored; the predictor's in float32
    refitted = {**state_dict, **{f"pitch.{k}": v.detach().clone() for k, v in pitch.state_dict().items()}}
    extra = {"pitch_refit": {"source": args.checkpoint.name, "steps": args.steps, "gta_fraction": args.gta_fraction}}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    save_project_checkpoint(args.out, make_project_checkpoint(MODEL_NAME, config.to_dict(), refitted, audio, extra))
    print(f"pitch predictor loss on {len(keep_out)} clips kept out: {before:.4f} -> {after:.4f}; wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

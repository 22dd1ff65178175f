"""Extract each clip's pitch and glottal pulses for the compact WaveGlow's pulse excitation
(`pulse_excitation: true`, recipes/default_voice/waveglow_compact_pulse.yaml; see
vocoder/waveglow/excitation.py).

    python3 recipes/default_voice/extract_excitation.py               # data/default_voice -> data/default_voice/excitation
    python3 recipes/default_voice/extract_excitation.py --limit 3 --out /tmp/exc   # a quick trial

For every clip of `<corpus>/metadata.csv` and `heldout.csv`: F0 per mel frame (YIN, voiced where the
normalised cross-correlation at the period exceeds 0.6; 0 Hz elsewhere), the pulses: one peak per
period of the residual that the clip's own mel's order-16 linear predictor leaves (the whitening the
flows are trained behind), and the pulses' own F0 (`excitation.pulse_f0`: the pitch predictor's target).
Written as `<out>/<id>.npz` with `f0` [frames] (the pulses' F0; float32, frame i centred on sample hop i,
as the mel), `yin_f0` [frames] (YIN's) and `pulses` [K] (int64 sample indices). Resumable: existing
files of this version are kept (older ones, without `yin_f0`, are extracted again); each file is
written under a temporary name and renamed.

Errors are one `error: ...` line on stderr: exit status 2 for bad input (missing corpus, bad
arguments), 1 for any other failure; --verbose prints the traceback.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:  # run as a script from a clone
    sys.path.insert(0, str(REPO))

from bench.report import ArgumentParser, BadInput, run  # after the path: the error contract of recipes and benches

DEFAULT_CORPUS = Path("data/default_voice")


def is_current(path: Path) -> bool:
    """Whether `path` was written by this version (the pulses' F0 as `f0`, YIN's as `yin_f0`): older
    files, with YIN's F0 as `f0`, are extracted again."""
    import zipfile

    try:
        with zipfile.ZipFile(path) as archive:
            return "yin_f0.npy" in archive.namelist()
    except (OSError, zipfile.BadZipFile):
        return False


def build_parser() -> argparse.ArgumentParser:
    parser = ArgumentParser(description=__doc__)
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS,
                        help="LJSpeech-layout corpus folder (default: data/default_voice)")
    parser.add_argument("--out", type=Path, help="output folder (default: <corpus>/excitation)")
    parser.add_argument("--lp-order", type=int, default=16, help="the linear predictor's order (default: 16, "
                        "as the compact WaveGlow's lp_order)")
    parser.add_argument("--limit", type=int, default=0, help="only the first N clips (0: all)")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default: 1)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return run(lambda _: extract(args), argv)


def extract(args: argparse.Namespace) -> None:
    if not (args.corpus / "metadata.csv").is_file():
        raise BadInput(f"corpus not found: {args.corpus} (no metadata.csv; the default voice's corpus is built by: "
                       "python3 recipes/default_voice/build_corpus.py --jobs 2)")
    if not 1 <= args.lp_order <= 64:
        raise BadInput(f"--lp-order must be 1 to 64, got {args.lp_order}")
    import numpy as np
    import torch
    from tqdm import tqdm

    from tts.core.audio import DEFAULT_AUDIO, load_wav, mel_spectrogram
    from tts.training.data import read_all_clips
    from vocoder.waveglow import excitation, linear_prediction

    torch.set_num_threads(args.threads)
    settings = DEFAULT_AUDIO
    try:
        items = read_all_clips(args.corpus)
    except ValueError as exc:
        raise BadInput(str(exc)) from exc
    if args.limit:
        items = items[: args.limit]
    out = args.out or args.corpus / "excitation"
    out.mkdir(parents=True, exist_ok=True)
    todo = [u for u in items if not is_current(out / f"{u.id}.npz")]
    for u in tqdm(todo, desc=f"pitch and pulses -> {out}", unit="clip", disable=args.quiet):
        audio = load_wav(u.wav, settings)
        mel = mel_spectrogram(audio, settings)[None]
        lp = linear_prediction.predictor(mel, settings, args.lp_order)
        residual, _ = linear_prediction.whiten(audio[None].double(), lp, settings.hop_length)
        f0 = excitation.track_pitch(audio.numpy(), settings.sampling_rate, settings.hop_length)
        pulses = excitation.find_pulses(residual[0].numpy(), f0, settings.sampling_rate, settings.hop_length)
        rate = excitation.pulse_f0(pulses, f0, settings.sampling_rate, settings.hop_length)
        tmp = out / f".{u.id}.{os.getpid()}.npz"
        with open(tmp, "wb") as f:
            np.savez(f, f0=rate.astype(np.float32), yin_f0=f0.astype(np.float32), pulses=pulses)
        tmp.replace(out / f"{u.id}.npz")


if __name__ == "__main__":
    sys.exit(main())

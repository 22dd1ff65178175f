"""Score a trained vocoder by copy synthesis, and pick its sigma and denoiser strength by measurement.

Held-out clips of the teacher (data/default_voice/heldout.csv, never trained on) -> their mels ->
the vocoder (each sigma of the grid) -> mel matching (each pass count of the grid, `vocoder.mel_match`)
-> the denoiser (each strength of the grid) -> Whisper tiny.en
WER and DNSMOS SIG/BAK/OVRL (`tts.evaluate`). Griffin-Lim on the same mels is the bar to beat.
One JSON object per line (the same keys for every row), and a table on stderr.

    python3 recipes/default_voice/eval_vocoder.py --checkpoint runs/default_voice_waveglow_compact/latest
    python3 recipes/default_voice/eval_vocoder.py --checkpoint CKPT --sigma 0.5,0.7,0.9 --denoise 0,0.01,0.05 --limit 30
    python3 recipes/default_voice/eval_vocoder.py --checkpoint CKPT --mels DIR    # GTA mels of the student instead
    python3 recipes/default_voice/eval_vocoder.py --checkpoint CKPT --sigma 0 --mel-match 0,6 --denoise 0

Errors are one `error: ...` line on stderr: exit status 2 for bad input (a missing corpus, wav, mel or
checkpoint, a file the loaders refuse, a bad grid), 1 for any other failure; --verbose prints the
traceback. Arguments and paths are checked before torch is imported.
"""
from __future__ import annotations

import argparse
import itertools
import json
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:  # run as a script from a clone
    sys.path.insert(0, str(REPO))

from bench.report import ArgumentParser, BadInput, positive_int, run  # noqa: E402 - the error contract of recipes and benches
from tts.runtime.settings import MEL_MATCH_MAX  # after the path; no torch (arguments are checked before it)
SAMPLE_RATE = 22050
HOP = 256




def parse_grid(text: str) -> list[float]:
    try:
        values = [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated numbers, got {text!r}") from None
    if not values or any(v < 0 for v in values):
        raise argparse.ArgumentTypeError(f"expected comma-separated numbers >= 0, got {text!r}")
    return values



def parse_counts(text: str) -> list[int]:
    values = parse_grid(text)
    if any(v != int(v) or v > MEL_MATCH_MAX for v in values):
        raise argparse.ArgumentTypeError(f"expected comma-separated integers 0-{MEL_MATCH_MAX}, got {text!r}")
    return [int(v) for v in values]


def resolve_checkpoint(path: Path) -> Path:
    """A checkpoint file, or a run directory's `latest` pointer file / the run directory itself."""
    if path.is_dir():
        path = path / "latest"
    if path.name == "latest" and path.is_file():
        named = Path(path.read_text().strip())
        return named if named.is_absolute() else path.parent / named
    return path


def build_parser() -> argparse.ArgumentParser:
    p = ArgumentParser(description=__doc__.split("\n\n")[0],
                epilog=__doc__.split("\n\n", 1)[1])
    p.add_argument("--checkpoint", type=Path, help="vocoder checkpoint (or a run folder / its `latest`)")
    p.add_argument("--corpus", type=Path, default=REPO / "data/default_voice",
                   help="corpus with heldout.csv and wavs/ (default: data/default_voice)")
    p.add_argument("--mels", type=Path, help="folder of <id>.npy mels to vocode instead of the recordings' own")
    p.add_argument("--sigma", type=parse_grid, default=[0.6], help="comma-separated sigmas (default: 0.6)")
    p.add_argument("--denoise", type=parse_grid, default=[0.0, 0.01],
                   help="comma-separated denoiser strengths (default: 0,0.01)")
    p.add_argument("--mel-match", type=parse_counts, default=[0],
                   help="comma-separated mel matching pass counts (default: 0 = off)")
    p.add_argument("--limit", type=positive_int, default=None, help="first N held-out clips (default: all)")
    p.add_argument("--griffin-lim", action="store_true", help="also score Griffin-Lim on the same mels (the bar)")
    p.add_argument("--threads", type=positive_int, default=1, help="torch and scoring threads (default: 1)")
    p.add_argument("--seed", type=int, default=0, help="WaveGlow noise seed (default: 0)")
    return p


def main(argv: list[str] | None = None) -> int:
    p = build_parser()
    args = p.parse_args(argv)
    if args.checkpoint is None and not args.griffin_lim:
        p.error("give --checkpoint and/or --griffin-lim")
    return run(lambda _: evaluate(args), argv)


def check_inputs(args: argparse.Namespace) -> Path | None:
    """The resolved checkpoint, after checking every input path (nothing heavy imported)."""
    heldout = args.corpus / "heldout.csv"
    if not heldout.is_file():
        raise BadInput(f"missing corpus: no {heldout} (build it with recipes/default_voice/build_corpus.py, "
                       "or give --corpus)")
    if args.mels is None and not (args.corpus / "wavs").is_dir():
        raise BadInput(f"missing corpus: no {args.corpus / 'wavs'} folder")
    if args.mels is not None and not args.mels.is_dir():
        raise BadInput(f"--mels {args.mels}: no such folder")
    if args.checkpoint is None:
        return None
    checkpoint = resolve_checkpoint(args.checkpoint)
    if not checkpoint.is_file():
        raise BadInput(f"--checkpoint {args.checkpoint}: no checkpoint file at {checkpoint}")
    return checkpoint


def load_mels(args: argparse.Namespace, items: list) -> dict:
    """id -> [1, 80, frames] mel: the --mels file, or the mel of the held-out recording."""
    import numpy as np
    import torch

    from tts.core.audio import load_wav, mel_spectrogram

    mels = {}
    for item in items:
        path = args.mels / f"{item.id}.npy" if args.mels is not None else args.corpus / "wavs" / f"{item.id}.wav"
        try:
            if args.mels is not None:
                mels[item.id] = torch.from_numpy(np.load(path))[None].float()
            else:
                audio = load_wav(path)
                mels[item.id] = mel_spectrogram(audio)[None, :, : audio.numel() // HOP]
        except Exception as exc:  # any failure to read one input file is that file's fault
            raise BadInput(f"{path}: cannot read: {' '.join(str(exc).split()) or type(exc).__name__}") from exc
    return mels


def evaluate(args: argparse.Namespace) -> None:
    """Score every (vocoder, sigma, mel_match, denoise) setting: one JSON line on stdout and a table line on stderr each."""
    checkpoint = check_inputs(args)
    import torch

    from tts.evaluate import Evaluator, read_metadata
    from vocoder import Denoiser, GriffinLim, load_waveglow
    from vocoder.mel_match import match_mel

    torch.set_num_threads(args.threads)
    try:
        items = read_metadata(args.corpus / "heldout.csv")[: args.limit]
    except ValueError as exc:
        raise BadInput(str(exc)) from exc
    mels = load_mels(args, items)
    evaluator = Evaluator(threads=args.threads)
    systems = []
    if args.griffin_lim:
        systems.append(("griffin-lim", GriffinLim(), [None]))
    if checkpoint is not None:
        systems.append((checkpoint.name, load_waveglow(checkpoint), args.sigma))
    for label, vocoder, sigmas in systems:
        denoiser = Denoiser(vocoder)
        for sigma, passes, strength in itertools.product(sigmas, args.mel_match, args.denoise):
            rows, seconds, audio_seconds = [], 0.0, 0.0
            for item in items:
                start = time.perf_counter()
                kwargs = {} if sigma is None else {"sigma": sigma, "seed": args.seed}
                audio = match_mel(vocoder(mels[item.id], clip=False, **kwargs), mels[item.id], passes)
                if strength > 0:
                    audio = denoiser(audio, strength=strength)
                audio = audio.clamp(-1, 1)[0].numpy()
                seconds += time.perf_counter() - start
                audio_seconds += audio.size / SAMPLE_RATE
                rows.append(evaluator.score(item, audio, SAMPLE_RATE))
            report(label, sigma, passes, strength, rows, audio_seconds / seconds)


def report(label: str, sigma: float | None, passes: int, strength: float, rows: list, x_real_time: float) -> None:
    words = sum(r.reference_words for r in rows)
    result = {"vocoder": label, "sigma": sigma, "mel_match": passes, "denoise": strength, "clips": len(rows),
              "wer_percent": round(100 * sum(r.errors for r in rows) / words, 2),
              "dnsmos_sig": round(statistics.fmean(r.sig for r in rows), 3),
              "dnsmos_bak": round(statistics.fmean(r.bak for r in rows), 3),
              "dnsmos_ovrl": round(statistics.fmean(r.ovrl for r in rows), 3),
              "x_real_time": round(x_real_time, 1)}
    print(json.dumps(result), flush=True)
    print(f"{label:28} sigma {sigma!s:5} mel_match {passes:<2} denoise {strength:<5} WER {result['wer_percent']:6.2f} %  "
          f"OVRL {result['dnsmos_ovrl']:.3f}  SIG {result['dnsmos_sig']:.3f}  BAK {result['dnsmos_bak']:.3f}",
          file=sys.stderr)



if __name__ == "__main__":
    sys.exit(main())

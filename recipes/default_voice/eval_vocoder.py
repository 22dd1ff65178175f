"""Score a trained vocoder by copy synthesis, and pick its sigma and denoiser strength by measurement.

Held-out clips of the teacher (data/default_voice/heldout.csv, never trained on) -> their mels ->
the vocoder (each sigma of the grid) -> the denoiser (each strength of the grid) -> Whisper tiny.en
WER and DNSMOS SIG/BAK/OVRL (`tts.evaluate`). Griffin-Lim on the same mels is the bar to beat.
One JSON object per line (the same keys for every row), and a table on stderr.

    python3 recipes/default_voice/eval_vocoder.py --checkpoint runs/default_voice_waveglow_compact/latest
    python3 recipes/default_voice/eval_vocoder.py --checkpoint CKPT --sigma 0.5,0.7,0.9 --denoise 0,0.01,0.05 --limit 30
    python3 recipes/default_voice/eval_vocoder.py --checkpoint CKPT --mels DIR    # GTA mels of the student instead
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch

REPO = Path(__file__).resolve().parents[2]


def parse_grid(text: str) -> list[float]:
    try:
        return [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated numbers, got {text!r}") from None


def resolve_checkpoint(path: Path) -> Path:
    """A checkpoint file, or a run directory's `latest` pointer file / the run directory itself."""
    if path.is_dir():
        path = path / "latest"
    if path.name == "latest" and path.is_file():
        named = Path(path.read_text().strip())
        return named if named.is_absolute() else path.parent / named
    return path


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog=__doc__.split("\n\n", 1)[1])
    p.add_argument("--checkpoint", type=Path, help="vocoder checkpoint (or a run folder / its `latest`)")
    p.add_argument("--corpus", type=Path, default=REPO / "data/default_voice", help="corpus with heldout.csv and wavs/")
    p.add_argument("--mels", type=Path, help="folder of <id>.npy mels to vocode instead of the recordings' own")
    p.add_argument("--sigma", type=parse_grid, default=[0.6], help="comma-separated sigmas")
    p.add_argument("--denoise", type=parse_grid, default=[0.0, 0.01], help="comma-separated denoiser strengths")
    p.add_argument("--limit", type=int, default=None, help="first N held-out clips")
    p.add_argument("--griffin-lim", action="store_true", help="also score Griffin-Lim on the same mels (the bar)")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    if args.checkpoint is None and not args.griffin_lim:
        p.error("give --checkpoint and/or --griffin-lim")
    torch.set_num_threads(args.threads)

    from tts.core.audio import load_wav, mel_spectrogram
    from tts.evaluate import Evaluator, read_metadata
    from vocoder import Denoiser, GriffinLim, load_waveglow

    items = read_metadata(args.corpus / "heldout.csv")[: args.limit]
    mels = {}
    for item in items:
        if args.mels is not None:
            mels[item.id] = torch.from_numpy(np.load(args.mels / f"{item.id}.npy"))[None].float()
        else:
            audio = load_wav(args.corpus / "wavs" / f"{item.id}.wav")
            mels[item.id] = mel_spectrogram(audio)[None, :, : audio.numel() // 256]
    evaluator = Evaluator(threads=args.threads)
    systems = []
    if args.griffin_lim:
        systems.append(("griffin-lim", GriffinLim(), [None]))
    if args.checkpoint is not None:
        checkpoint = resolve_checkpoint(args.checkpoint)
        systems.append((checkpoint.name, load_waveglow(checkpoint), args.sigma))
    for label, vocoder, sigmas in systems:
        denoiser = Denoiser(vocoder)
        for sigma in sigmas:
            for strength in args.denoise:
                rows, seconds, audio_seconds = [], 0.0, 0.0
                for item in items:
                    start = time.perf_counter()
                    kwargs = {} if sigma is None else {"sigma": sigma, "seed": args.seed}
                    audio = vocoder(mels[item.id], clip=False, **kwargs)
                    if strength > 0:
                        audio = denoiser(audio, strength=strength)
                    audio = audio.clamp(-1, 1)[0].numpy()
                    seconds += time.perf_counter() - start
                    audio_seconds += audio.size / 22050
                    rows.append(evaluator.score(item, audio, 22050))
                words = sum(r.reference_words for r in rows)
                result = {"vocoder": label, "sigma": sigma, "denoise": strength, "clips": len(rows),
                          "wer_percent": round(100 * sum(r.errors for r in rows) / words, 2),
                          "dnsmos_sig": round(statistics.fmean(r.sig for r in rows), 3),
                          "dnsmos_bak": round(statistics.fmean(r.bak for r in rows), 3),
                          "dnsmos_ovrl": round(statistics.fmean(r.ovrl for r in rows), 3),
                          "x_real_time": round(audio_seconds / seconds, 1)}
                print(json.dumps(result), flush=True)
                print(f"{label:28} sigma {sigma!s:5} denoise {strength:<5} WER {result['wer_percent']:6.2f} %  "
                      f"OVRL {result['dnsmos_ovrl']:.3f}  SIG {result['dnsmos_sig']:.3f}  BAK {result['dnsmos_bak']:.3f}",
                      file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Same text, same seed, same audio? Fingerprints every vocoder of a voice, to compare two versions
of the code (e.g. before and after a refactoring that must not change what users hear).

    python3 bench/same_audio.py --voice DIR --out before.npz       # on the old code
    python3 bench/same_audio.py --voice DIR --out after.npz        # on the new code
    python3 bench/same_audio.py --compare before.npz after.npz     # max abs difference per entry

Each entry is one sentence through one vocoder of the voice (fp32, CPU, seed fixed), from
`Pipeline.from_pretrained(DIR).speak(...)`, so only the public API is used.

Exit status: 0, or with --compare 1 when an entry differs by more than 1e-6 (or exists in one file
only). Bad input — a missing or unreadable fingerprint, a missing output folder, an unknown voice — is
one `error:` line and exit status 2 (bench/report.py); --verbose shows the traceback.
"""
from __future__ import annotations

import sys
import zipfile
from pathlib import Path

import numpy as np

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.report import ArgumentParser, BadInput, run  # noqa: E402

SENTENCES = (
    "The birds sang at dawn.",
    "Dr. Smith paid $12.50 on Jan. 5th, didn't he?",
    "Call me at 3:30 pm; the 2nd floor, room 101.",
)


def fingerprint(voice: str, seed: int) -> dict[str, np.ndarray]:
    import torch

    from tts import Pipeline

    torch.set_num_threads(1)
    pipe = Pipeline.from_pretrained(voice, device="cpu")
    out = {}
    for name in pipe.vocoder_names:
        for i, text in enumerate(SENTENCES):
            speech = pipe.speak(text, vocoder=name, seed=seed)
            out[f"{name}/{i}"] = speech.audio.astype(np.float32)
            print(f"{name:12s} {i}: {speech.duration:6.2f} s", file=sys.stderr)
    return out


def load_fingerprint(path: str) -> np.lib.npyio.NpzFile:
    """A fingerprint written by this script; BadInput when it is missing or not an .npz archive."""
    if not Path(path).is_file():
        raise BadInput(f"{path}: no such fingerprint file")
    try:
        return np.load(path)
    except (ValueError, OSError, zipfile.BadZipFile) as exc:
        raise BadInput(f"{path}: not a fingerprint (.npz) file: {exc}") from None


def compare(a_path: str, b_path: str) -> int:
    a, b = load_fingerprint(a_path), load_fingerprint(b_path)
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):  # an .npy array, not an archive of entries
        raise BadInput(f"{a_path if isinstance(a, np.ndarray) else b_path}: an .npy array, not a fingerprint (.npz)")
    worst = 0.0
    for key in sorted(set(a.files) | set(b.files)):
        if key not in a.files or key not in b.files:
            print(f"{key:16s} only in {'the first' if key in a.files else 'the second'} file")
            worst = float("inf")
            continue
        if a[key].shape != b[key].shape:
            print(f"{key:16s} lengths differ: {a[key].shape[0]} vs {b[key].shape[0]} samples")
            worst = float("inf")
            continue
        diff = float(np.abs(a[key] - b[key]).max()) if a[key].size else 0.0
        worst = max(worst, diff)
        print(f"{key:16s} {a[key].shape[0]:7d} samples  max |diff| {diff:.3g}")
    print(f"worst: {worst:.3g}")
    return 0 if worst <= 1e-6 else 1


def main(argv: list[str] | None = None) -> int:
    p = ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--voice", help="voice folder to fingerprint")
    p.add_argument("--out", help="where to write the fingerprint (.npz)")
    p.add_argument("--seed", type=int, default=3, help="synthesis seed")
    p.add_argument("--compare", nargs=2, metavar=("A", "B"),
                   help="two fingerprints: exit 1 if any entry differs by > 1e-6")
    args = p.parse_args(argv)
    if args.compare:
        return compare(*args.compare)
    if not (args.voice and args.out):
        p.error("give --voice and --out, or --compare A B")
    if not Path(args.out).resolve().parent.is_dir():
        raise BadInput(f"--out {args.out}: its folder does not exist")
    np.savez(args.out, **fingerprint(args.voice, args.seed))
    return 0


if __name__ == "__main__":
    sys.exit(run(main))

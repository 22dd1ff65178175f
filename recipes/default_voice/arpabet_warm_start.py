"""A letters-trained Tacotron 2 -> a warm start for representation mixing (`frontend.arpabet`).

A model trained on letters never saw an ARPAbet symbol, so its rows of the symbol embedding are
still their random initialisation. Fine-tuning it on text where words are phones learns them far
sooner from a start where each phone looks like the letters that usually spell it (SH like "s" and
"h", IY like "ee"): the encoder then reads "{SH IH1 P}" roughly as it read "ship" from the first step.
Every stress variant of a vowel starts from the same row. Everything else is copied unchanged.

    python3 recipes/default_voice/arpabet_warm_start.py --checkpoint checkpoints/default/tacotron2.pt \\
        --out runs/arpabet_warm_start.pt
"""
from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:  # run as a script from a clone
    sys.path.insert(0, str(REPO))

from bench.report import ArgumentParser, BadInput, run  # noqa: E402 - the error contract of recipes and benches

#: the letters that most often spell each phone (the mean of their embeddings starts the phone's row)
SPELLINGS = {
    "AA": "o", "AE": "a", "AH": "u", "AO": "aw", "AW": "ow", "AY": "i", "B": "b", "CH": "ch", "D": "d",
    "DH": "th", "EH": "e", "ER": "er", "EY": "ay", "F": "f", "G": "g", "HH": "h", "IH": "i", "IY": "ee",
    "JH": "j", "K": "k", "L": "l", "M": "m", "N": "n", "NG": "ng", "OW": "o", "OY": "oy", "P": "p",
    "R": "r", "S": "s", "SH": "sh", "T": "t", "TH": "th", "UH": "oo", "UW": "oo", "V": "v", "W": "w",
    "Y": "y", "Z": "z", "ZH": "s",
}


def phone_rows(embedding, symbol_to_id: dict[str, int]) -> int:
    """Set every `@PHONE` row of `embedding` [n_symbols, dim] to the mean of its spelling's letter rows;
    returns how many rows were set."""
    import torch

    n = 0
    with torch.no_grad():
        for symbol, i in symbol_to_id.items():
            if not symbol.startswith("@"):
                continue
            base = symbol[1:].rstrip("012")
            letters = [symbol_to_id[c] for c in SPELLINGS[base]]
            embedding[i] = embedding[letters].mean(dim=0)
            n += 1
    return n


def main(argv=None) -> int:
    p = ArgumentParser(description=__doc__)
    p.add_argument("--checkpoint", type=Path, required=True, help="a Tacotron 2 trained on letters")
    p.add_argument("--out", type=Path, default=REPO / "runs" / "arpabet_warm_start.pt",
                   help="the warm start to write (project format; default: runs/arpabet_warm_start.pt)")
    args = p.parse_args(argv)
    return run(lambda _: write_warm_start(args.checkpoint, args.out), argv)


def write_warm_start(checkpoint: Path, out: Path) -> int:
    if not checkpoint.is_file():
        raise BadInput(f"--checkpoint {checkpoint}: no such file")
    from frontend.symbols import SYMBOL_TO_ID
    from tts.runtime.planning import reads_phones
    from tts.tacotron2.checkpoint import load_tacotron2, save_tacotron2

    model = load_tacotron2(checkpoint).float()
    if reads_phones(model):
        raise BadInput(f"{checkpoint.name} already reads phones: fine-tune it as it is")
    n = phone_rows(model.embedding.weight, dict(SYMBOL_TO_ID))
    out.parent.mkdir(parents=True, exist_ok=True)
    save_tacotron2(model, out)
    print(f"{n} phone rows set from their letters -> {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

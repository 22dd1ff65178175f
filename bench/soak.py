"""Soak test: synthesize texts of mixed lengths through one Pipeline for N minutes and watch memory.

Makes a row every `--every` seconds (elapsed, requests, audio seconds, throughput as x real time, RSS
now, errors) and a last row with the RSS drift from the first row to the last (a leak shows as growth
that keeps going after the allocator's warm-up). With --json each row is one JSON object on stdout as
soon as it is made (so a soak stopped early still has its rows); otherwise each row goes to stderr as
it is made and the table to stdout at the end. A failed request is counted in `errors` and reported on
stderr ("request failed: ..."); the soak goes on.

    python3 bench/soak.py                       # 10 minutes, the default voice
    python3 bench/soak.py --minutes 2 --every 15 --json

Bad arguments or an unknown voice are one `error:` line and exit status 2, any other failure exit
status 1 (bench/report.py); --verbose shows the traceback.
"""
from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.report import ArgumentParser, emit, positive_float, positive_int, print_table, run  # noqa: E402

SENTENCES = [
    "Hello.", "Yes, of course.", "The meeting starts at 3:30 pm on Friday, March 5th.",
    "Dr. Smith paid $12.50 for two coffees and a muffin.",
    "It was a bright cold day in April, and the clocks were striking thirteen.",
    "Please call 555-0123 before noon; the office closes early on holidays.",
    ("The quick brown fox jumps over the lazy dog while the old clock on the wall ticks slowly, and nobody in "
     "the quiet house seems to notice the rain."),
]


def rss_mb() -> float:
    """Resident memory of this process now (Linux /proc), in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def random_text(rng: random.Random) -> str:
    """One to eight sentences: short requests and paragraphs, mixed."""
    return " ".join(rng.choice(SENTENCES) for _ in range(rng.randint(1, 8)))


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--voice", default="default", help="voice name or folder")
    p.add_argument("--minutes", type=positive_float, default=10.0, help="how long to run")
    p.add_argument("--every", type=positive_float, default=30.0, help="seconds between rows")
    p.add_argument("--threads", type=positive_int, default=None, help="torch threads (default: the project's choice)")
    p.add_argument("--seed", type=int, default=0, help="seed of the text choice")
    p.add_argument("--json", action="store_true", help="one JSON object per row, printed as it is made")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    from tts import Pipeline
    from tts.core.device import apply_threads

    print(f"threads: {apply_threads(args.threads)}", file=sys.stderr)
    pipe = Pipeline.from_pretrained(args.voice, device="cpu").warm_up()
    rng = random.Random(args.seed)
    start = last_row = time.perf_counter()
    requests = errors = 0
    audio_seconds = 0.0
    rows = []

    def add(row: dict) -> None:
        rows.append(row)
        if args.json:
            emit([row], True, print)
        else:
            print(row, file=sys.stderr, flush=True)

    while True:
        now = time.perf_counter()
        if now - last_row >= args.every or now - start >= args.minutes * 60:
            elapsed = now - start
            add({"elapsed_s": round(elapsed), "requests": requests, "audio_s": round(audio_seconds, 1),
                 "x_real_time": round(audio_seconds / elapsed, 2), "rss_mb": round(rss_mb(), 1), "errors": errors})
            last_row = now
            if elapsed >= args.minutes * 60:
                break
        try:
            for chunk in pipe.stream(random_text(rng)):  # nothing kept: as a server or a reader would
                audio_seconds += chunk.duration + chunk.pause_after
            requests += 1
        except Exception as exc:  # noqa: BLE001 - a soak reports errors instead of stopping at the first
            errors += 1
            print(f"request failed: {exc.__class__.__name__}: {exc}", file=sys.stderr)
    add({"elapsed_s": "drift", "rss_mb": round(rows[-1]["rss_mb"] - rows[0]["rss_mb"], 1),
         "x_real_time": round(audio_seconds / (time.perf_counter() - start), 2), "requests": requests,
         "errors": errors})
    if not args.json:
        print_table(rows, [
            ("elapsed s", "elapsed_s", ""), ("requests", "requests", "d"), ("audio s", "audio_s", ".1f"),
            ("x real time", "x_real_time", ".2f"), ("RSS MB", "rss_mb", ".1f"), ("errors", "errors", "d")])
    return 0


if __name__ == "__main__":
    sys.exit(run(main))

"""Text normalization speed (words/s) on plain prose and on number-heavy text; held-out accuracy.

    python3 bench/normalize_speed.py                          # absolute words/s of the current frontend
    python3 bench/normalize_speed.py --baseline-rev 58a8f36   # + ratios against frontend/ at a git revision
    python3 bench/normalize_speed.py --baseline /tmp/old/frontend   # + ratios against a copy of an old frontend/
    python3 bench/normalize_speed.py --heldout                # score tests/data/normalize_heldout.tsv
    python3 bench/normalize_speed.py --json

Prose: the sentences of recipes/default_voice/sentences/austen.txt (19,000 words, read-only), one
`normalize` call per line. Number-heavy: the receipts, schedules and addresses in `NUMBER_HEAVY` below,
repeated to about 5,000 words. Words are whitespace-separated tokens of the input. Each figure is the
best of `--repeats` passes (the first pass also fills the number-word caches), timed with
`time.process_time` (CPU seconds of this process, which other jobs on a shared machine distort much
less than wall-clock time) and with `time.perf_counter` (wall).

Baseline: `--baseline DIR` is a folder holding an old `normalize.py` with the modules it imports beside it
(`lexicon.py`, `numbers.py`: a copy of an old `frontend/`), loaded under a private package name so both
versions live in one process; `--baseline-rev REV` extracts `frontend/` at a git revision into a temporary
folder first. The ratio is current / baseline (> 1: the current normalizer is faster).

Held-out score (`--heldout`): each line of tests/data/normalize_heldout.tsv is `written<TAB>expected`;
a case counts when `canon(normalize(written)) == canon(expected)`, where `canon` lower-cases, turns
hyphens into spaces, drops every character but letters, digits, apostrophes and spaces, and collapses
spaces (so "twenty-one" = "twenty one" and punctuation is not judged). Misses are printed (to stderr
with --json, whose one JSON object then holds the score).

Output: a table, or with --json one JSON object per line (per text kind; one for --heldout). Errors
follow bench/report.py: exit status 2 for bad input (a missing baseline folder, an unknown revision),
1 for any other failure; --verbose shows the traceback.
"""
from __future__ import annotations

import argparse
import importlib
import importlib.machinery
import importlib.util
import re
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.report import ArgumentParser, BadInput, emit, positive_int, print_table, run  # noqa: E402

PROSE = ROOT / "recipes" / "default_voice" / "sentences" / "austen.txt"
HELDOUT = ROOT / "tests" / "data" / "normalize_heldout.tsv"

NUMBER_HEAVY = [
    "Order #48213 shipped on 03/14/2024 and should arrive by Mar. 18th.",
    "Total: $1,284.57 (incl. $96.12 tax); paid with the card ending in 4417.",
    "The 7:45 am train to Boston leaves from platform 3; the 18:20 service is 25 min late.",
    "Call (415) 555-0132 ext. 204 or +44 20 7946 0958 between 9am-5pm, Mon-Fri.",
    "Mix 2 1/2 cups of flour with 3/4 tsp salt and 250 ml of milk, then bake at 350°F for 45 min.",
    "The unit measures 12 x 8 x 3 in. and weighs 4.5 kg (about 9.9 lbs).",
    "Rent is $1,850/mo plus a $500 deposit; the apartment is 72 m2 on the 3rd floor.",
    "In 1998 the population was 1,204,332; by 2021 it had grown 14.5% to 1.38 million.",
    "Ship to 1600 Pennsylvania Ave NW, Washington, DC 20500 by Jan 5-7.",
    "Your verification code is 004512 and expires in 10 minutes.",
    "Download speeds hit 940 Mbps on the 5 GHz band; latency dropped to 12 ms.",
    "The score was 3-2 after 90 minutes, and 4-2 after extra time on 6/12/2022.",
]


def canon(text: str) -> str:
    """The held-out comparison: lower case, hyphens as spaces, only letters/digits/apostrophes kept."""
    text = text.lower().replace("-", " ")
    text = re.sub(r"[^a-z0-9' ]+", " ", text)
    return " ".join(text.split())


def load_baseline(folder: Path) -> Callable[[str], str]:
    """`normalize` from an old frontend folder, imported as the private package `_baseline_frontend`
    (its `__init__` is not run, so only normalize.py and the modules it imports are loaded)."""
    name = "_baseline_frontend"
    spec = importlib.machinery.ModuleSpec(name, None, is_package=True)
    spec.submodule_search_locations = [str(folder)]
    package = importlib.util.module_from_spec(spec)
    sys.modules[name] = package
    module = importlib.import_module(name + ".normalize")
    return module.normalize


def extract_revision(rev: str, into: Path) -> Path:
    command = ["git", "-C", str(ROOT), "archive", rev, "frontend"]
    done = subprocess.run(command, capture_output=True, check=False)
    if done.returncode != 0:
        raise BadInput(f"--baseline-rev {rev}: git archive failed: {done.stderr.decode(errors='replace').strip()}")
    archive = done.stdout
    tar_path = into / "frontend.tar"
    tar_path.write_bytes(archive)
    with tarfile.open(tar_path) as tar:
        tar.extractall(into, filter="data")
    return into / "frontend"


def number_heavy_lines(words: int = 5000) -> list[str]:
    lines: list[str] = []
    count = 0
    while count < words:
        for line in NUMBER_HEAVY:
            lines.append(line)
            count += len(line.split())
    return lines


def measure(fn: Callable[[str], str], lines: list[str], repeats: int) -> dict[str, float]:
    words = sum(len(line.split()) for line in lines)
    best_cpu = best_wall = float("inf")
    for _ in range(repeats):
        wall, cpu = time.perf_counter(), time.process_time()
        for line in lines:
            fn(line)
        best_cpu = min(best_cpu, time.process_time() - cpu)
        best_wall = min(best_wall, time.perf_counter() - wall)
    return {"words": words, "words_per_cpu_s": words / best_cpu, "words_per_s": words / best_wall}


def heldout_score(fn: Callable[[str], str], path: Path = HELDOUT, show: bool = True, file=None) -> tuple[int, int]:
    right = total = 0
    for n, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not raw.strip() or raw.startswith("#"):
            continue
        written, expected = raw.split("\t")
        got = fn(written)
        total += 1
        if canon(got) == canon(expected):
            right += 1
        elif show:
            print(f"line {n}: {written!r}\n    got:      {got!r}\n    expected: {expected!r}", file=file)
    return right, total


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = ArgumentParser(description=__doc__.split("\n\n")[0])
    baseline = parser.add_mutually_exclusive_group()
    baseline.add_argument("--baseline", type=Path, help="folder with an old normalize.py (a copy of an old frontend/)")
    baseline.add_argument("--baseline-rev", help="git revision whose frontend/ is the baseline")
    parser.add_argument("--repeats", type=positive_int, default=5, help="passes per text; the best is kept")
    parser.add_argument("--heldout", action="store_true", help="score tests/data/normalize_heldout.tsv and exit")
    parser.add_argument("--json", action="store_true", help="one JSON object per line instead of a table")
    args = parser.parse_args(argv)
    if args.baseline is not None and not (args.baseline / "normalize.py").is_file():
        raise BadInput(f"--baseline {args.baseline}: no normalize.py there (expected a copy of an old frontend/)")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    from frontend import normalize

    if args.heldout:
        right, total = heldout_score(normalize, file=sys.stderr if args.json else None)
        row = {"heldout_right": right, "heldout_total": total, "heldout_percent": round(100 * right / total, 1)}
        emit([row], args.json, lambda _: print(f"held-out: {right}/{total} = {row['heldout_percent']:.1f}% exact "
                                               "(canonicalized)"))
        return 0

    prose = [line for line in PROSE.read_text(encoding="utf-8").splitlines() if line.strip()]
    texts = {"prose": prose, "number-heavy": number_heavy_lines()}
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.baseline
        if args.baseline_rev:
            folder = extract_revision(args.baseline_rev, Path(tmp))
        baseline = load_baseline(folder) if folder else None
        rows = []
        for label, lines in texts.items():
            row = {"text": label, **measure(normalize, lines, args.repeats)}
            if baseline is not None:
                old = measure(baseline, lines, args.repeats)
                row["baseline_words_per_cpu_s"] = old["words_per_cpu_s"]
                row["ratio_vs_baseline"] = row["words_per_cpu_s"] / old["words_per_cpu_s"]
            rows.append(row)
    emit(rows, args.json, lambda table: print_table(table, [
        ("text", "text", ""), ("words", "words", "d"), ("words/CPU-s", "words_per_cpu_s", ",.0f"),
        ("words/s wall", "words_per_s", ",.0f"), ("baseline words/CPU-s", "baseline_words_per_cpu_s", ",.0f"),
        ("ratio", "ratio_vs_baseline", ".2f")]))
    return 0


if __name__ == "__main__":
    sys.exit(run(main))

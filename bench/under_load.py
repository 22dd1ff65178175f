"""Fairness under CPU load: one sentence through an already loaded Pipeline, on a quiet machine and
with `--busy` other processes spinning on the cores, in several trials.

Two configurations, each in its own worker process (OpenMP's waiting policy is fixed when torch
loads): `project` is what tts-say and tts-server do (passive OpenMP waiting, threads chosen from the
free cores when the voice is loaded); `plain` is torch's defaults (one thread per core, spinning
waits). Each worker loads the voice while the machine is quiet; the quiet time is the median of
`--trials` syntheses, then `--busy` spinning processes start and every one of `--trials` syntheses is
timed. The issue's bar: every loaded trial within 4x the quiet median.

    python3 bench/under_load.py                   # 8 trials, 2 busy processes
    python3 bench/under_load.py --trials 4 --json

Pause other work first (training, benches): the quiet baseline must be quiet. With --json, one JSON
object per configuration. Bad arguments are one `error:` line and exit status 2 (bench/report.py).
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.report import ArgumentParser, emit, positive_int, print_table, run  # noqa: E402

SENTENCE = "It was a bright cold day in April, and the clocks were striking thirteen."
CONFIGURATIONS = ("project", "plain")
SPINNER = "while True:\n    pass\n"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--voice", default="default", help="voice name or folder")
    p.add_argument("--trials", type=positive_int, default=8, help="timed syntheses, quiet and under load")
    p.add_argument("--busy", type=positive_int, default=2, help="spinning processes for the load")
    p.add_argument("--text", default=SENTENCE, help="what each trial says")
    p.add_argument("--json", action="store_true", help="one JSON object per configuration")
    p.add_argument("--worker", choices=CONFIGURATIONS, help=argparse.SUPPRESS)
    return p.parse_args(argv)


# --------------------------------------------------------------------------------------------- worker


def worker(config: str, voice: str, text: str) -> int:
    """Load the voice, warm it up, say "ready"; then time one synthesis per line on stdin."""
    if config == "project":
        from tts.core.device import prefer_passive_waiting

        prefer_passive_waiting()
    from tts import Pipeline

    threads = "torch default"
    if config == "project":
        from tts.core.device import apply_threads

        threads = apply_threads()
    pipe = Pipeline.from_pretrained(voice, device="cpu").warm_up()
    pipe.speak(text, seed=1)
    print(f"ready {threads}", flush=True)
    for _ in sys.stdin:
        start = time.perf_counter()
        pipe.speak(text, seed=1)
        print(f"{time.perf_counter() - start:.4f}", flush=True)
    return 0


# --------------------------------------------------------------------------------------------- driver


class Worker:
    """A worker process answering one timed synthesis per request."""

    def __init__(self, config: str, voice: str, text: str):
        env = {k: v for k, v in os.environ.items() if k not in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT", "TTS_NUM_THREADS")}
        self.process = subprocess.Popen(
            [sys.executable, __file__, "--worker", config, "--voice", voice, "--text", text],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env)
        ready = self.process.stdout.readline()
        if not ready.startswith("ready"):
            self.close()
            raise RuntimeError(f"the {config} worker did not start (exit status {self.process.poll()})")
        self.threads = ready.removeprefix("ready").strip()

    def time_one(self) -> float:
        self.process.stdin.write("go\n")
        self.process.stdin.flush()
        return float(self.process.stdout.readline())

    def close(self) -> None:
        if self.process.stdin:
            self.process.stdin.close()
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()


def spin(count: int) -> list[subprocess.Popen]:
    return [subprocess.Popen([sys.executable, "-c", SPINNER]) for _ in range(count)]


def measure(config: str, args: argparse.Namespace) -> dict:
    w = Worker(config, args.voice, args.text)
    try:
        quiet = statistics.median(w.time_one() for _ in range(args.trials))
        spinners = spin(args.busy)
        try:
            time.sleep(1.0)  # let the scheduler see them
            loaded = [w.time_one() for _ in range(args.trials)]
        finally:
            for s in spinners:
                s.kill()
                s.wait()
    finally:
        w.close()
    worst = max(loaded) / quiet
    return {"config": config, "threads": w.threads, "quiet_s": round(quiet, 3), "loaded_min_s": round(min(loaded), 3),
            "loaded_median_s": round(statistics.median(loaded), 3), "loaded_max_s": round(max(loaded), 3),
            "worst_ratio": round(worst, 2), "within_4x": worst <= 4.0, "trials": args.trials, "busy": args.busy}


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.worker:
        return worker(args.worker, args.voice, args.text)
    print(f"load average before: {os.getloadavg()[0]:.2f} (pause other work for a quiet baseline)", file=sys.stderr)
    rows = [measure(config, args) for config in CONFIGURATIONS]
    emit(rows, args.json, lambda r: print_table(r, [
        ("config", "config", ""), ("threads", "threads", ""), ("quiet s", "quiet_s", ".3f"),
        ("loaded min", "loaded_min_s", ".3f"), ("median", "loaded_median_s", ".3f"), ("max", "loaded_max_s", ".3f"),
        ("worst / quiet", "worst_ratio", ".2f"), ("<= 4x", "within_4x", "")]))
    return 0


if __name__ == "__main__":
    sys.exit(run(main))

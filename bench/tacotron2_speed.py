"""Tacotron 2 inference speed at batch 1: the plain reference loop vs the fast loop (fp32, bf16).

Full-size `Tacotron2Config()` with random weights; the gate bias is forced negative so every run decodes
exactly `--frames` frames (no early stop) for a `--text-len`-symbol input. Each configuration is timed
`--runs` times (after a warm-up) and the median is reported; frames/s counts the whole `infer` call
(encoder + decoder + postnet). x real time = frames/s / (22050 / 256). The machine is shared: the
1-minute load average is printed so that contended numbers can be recognised, and frames per CPU-second
(process time over all threads) is printed next to wall-clock frames/s: with `--threads 1` it is what an
otherwise idle core would deliver.

    python3 bench/tacotron2_speed.py [--frames 500] [--runs 3] [--threads 2] [--json]
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch

from bench.report import emit, print_table  # noqa: E402
from tts.core.audio import DEFAULT_AUDIO
from tts.tacotron2 import Tacotron2, Tacotron2Config

FRAMES_PER_SECOND_OF_AUDIO = DEFAULT_AUDIO.sampling_rate / DEFAULT_AUDIO.hop_length  # 86.13

CONFIGURATIONS = [  # (name, fast loop, dtype)
    ("plain", False, torch.float32),
    ("fast", True, torch.float32),
    ("fast", True, torch.bfloat16),
]


def time_infer(model: Tacotron2, text: torch.Tensor, frames: int, fast: bool, dtype: torch.dtype) -> tuple[float, float]:
    """-> (wall seconds, process CPU seconds over all threads)"""
    start, cpu_start = time.perf_counter(), time.process_time()
    out = model.infer(text, max_decoder_steps=frames, prenet_dropout=0.5, seed=0, fast=fast, dtype=dtype, warn=False)
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    assert out.mel.shape[-1] == frames, out.mel.shape
    return elapsed, cpu


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--frames", type=int, default=500, help="decoder frames per run (default 500)")
    parser.add_argument("--runs", type=int, default=3, help="timed runs per configuration; the median is kept")
    parser.add_argument("--threads", type=int, default=2, help="torch intra-op threads (default 2)")
    parser.add_argument("--text-len", type=int, default=150, help="input symbols (default 150)")
    parser.add_argument("--json", action="store_true", help="print one JSON object per configuration")
    args = parser.parse_args(argv)
    if args.frames < 1 or args.runs < 1 or args.threads < 1 or args.text_len < 1:
        parser.error("--frames, --runs, --threads and --text-len must be positive")

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model = Tacotron2(Tacotron2Config()).eval()
    with torch.no_grad():
        model.decoder.gate_layer.linear_layer.bias.fill_(-1e4)  # never stop: fixed frame count
    text = torch.randint(1, model.config.n_symbols, (1, args.text_len))

    results = []
    for name, fast, dtype in CONFIGURATIONS:
        time_infer(model, text, min(args.frames, 50), fast, dtype)  # warm-up: weight fusion, allocator
        runs = [time_infer(model, text, args.frames, fast, dtype) for _ in range(args.runs)]
        times, cpu = [w for w, _ in runs], [c for _, c in runs]
        results.append({"name": name, "dtype": str(dtype).replace("torch.", ""),
                        "fps": args.frames / statistics.median(times), "best": args.frames / min(times),
                        "cpu": args.frames / statistics.median(cpu)})
    plain = results[0]["fps"]
    load = os.getloadavg()[0]

    rows = []
    for r in results:
        rows.append({
            "model": f"tacotron2-{r['name']}", "dtype": r["dtype"], "frames_per_s": round(r["fps"], 1),
            "x_realtime": round(r["fps"] / FRAMES_PER_SECOND_OF_AUDIO, 2),
            "samples_per_s": round(r["fps"] * DEFAULT_AUDIO.hop_length),
            "ratio_vs_plain": round(r["fps"] / plain, 2),
            "frames_per_s_best": round(r["best"], 1),  # fastest run: less sensitive to other processes
            # frames per CPU-second (all threads): with --threads 1, what an idle core would give
            "frames_per_cpu_s": round(r["cpu"], 1),
            "frames": args.frames, "runs": args.runs, "threads": args.threads, "text_len": args.text_len,
            "load_avg_1min": round(load, 2),
        })
    print(f"Tacotron 2 (full size, random weights), batch 1, {args.text_len} symbols -> {args.frames} frames, "
          f"{args.threads} threads, median of {args.runs} runs; load average {load:.2f}"
          f" on {os.cpu_count()} CPUs{' (contended: numbers are pessimistic)' if load > 1.5 else ''}", file=sys.stderr)
    emit(rows, args.json, lambda table: print_table(table, [
        ("model", "model", ""), ("dtype", "dtype", ""), ("frames/s", "frames_per_s", ".1f"),
        ("x real time", "x_realtime", ".2f"), ("vs plain fp32", "ratio_vs_plain", ".2f"),
        ("best run f/s", "frames_per_s_best", ".1f"), ("frames/CPU-s", "frames_per_cpu_s", ".1f")]))


if __name__ == "__main__":
    main()

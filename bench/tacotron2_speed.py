"""Tacotron 2 inference speed at batch 1: the plain reference loop vs every fast path.

Full-size `Tacotron2Config()` with random weights; the gate bias is forced negative so every run decodes
exactly `--frames` frames (no early stop) for a `--text-len`-symbol input. Each configuration is timed
`--runs` times (after a warm-up) and the median is reported; frames/s counts the whole `infer` call
(encoder + decoder + postnet). x real time = frames/s / (22050 / 256). The machine is shared: the
1-minute load average is printed so that contended numbers can be recognised, and frames per CPU-second
(process time over all threads) is printed next to wall-clock frames/s: with `--threads 1` it is what an
otherwise idle core would deliver.

Paths: plain (the reference loop, fp32), fast fp32 / bf16 (fused GEMVs, oneDNN-packed weights), fast
int8 (dynamic int8 LSTM products and the compiled whole decoder step, `tts.tacotron2.int8`), int8-torch
(the same int8 arithmetic without the compiled kernel: the fallback), onnx and onnx-int8 (the exported
graphs in onnxruntime, float32 / its dynamic int8 decoder step; need the [onnx] extra). Every path
decodes with the same seed (the same prenet dropout masks); SNR compares its postnet mel with the plain
path's. peak RSS: the resident-set high-water mark while that path ran, model included.

    python3 bench/tacotron2_speed.py [--frames 500] [--runs 3] [--threads 2] [--paths plain,fast-int8] [--json]
"""
from __future__ import annotations

import math
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tts.core.device import prefer_passive_waiting  # before torch: it reads the setting when it loads

# OpenMP threads spin briefly, then sleep at barriers (read when torch loads its OpenMP runtime), as
# tts-say and tts-server run them: threads that keep spinning collapse the 2-thread int8 WN kernel on a
# busy machine.
prefer_passive_waiting()

import torch

from bench.report import ArgumentParser, BadInput, emit, positive_int, print_table, run
from bench.vocoder_speed import cpu_name, peak_rss_mb, reset_peak_rss, snr_db
from tts.core.audio import DEFAULT_AUDIO
from tts.tacotron2 import Tacotron2, Tacotron2Config
from tts.tacotron2.fast import FastWeights, fast_weights

FRAMES_PER_SECOND_OF_AUDIO = DEFAULT_AUDIO.sampling_rate / DEFAULT_AUDIO.hop_length  # 86.13

PATHS = {  # name: (runtime, fast loop, dtype)
    "plain": ("torch", False, torch.float32),
    "fast-fp32": ("torch", True, torch.float32),
    "fast-bf16": ("torch", True, torch.bfloat16),
    "fast-int8": ("torch", True, torch.int8),
    "int8-torch": ("torch", True, torch.int8),
    "onnx": ("onnx", True, torch.float32),
    "onnx-int8": ("onnx", True, torch.int8),
}


def time_infer(model, text: torch.Tensor, frames: int, fast: bool, dtype: torch.dtype):
    """-> (wall seconds, process CPU seconds over all threads, postnet mel)"""
    start, cpu_start = time.perf_counter(), time.process_time()
    out = model.infer(text, max_decoder_steps=frames, prenet_dropout=0.5, seed=0, fast=fast, dtype=dtype, warn=False)
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    assert out.mel.shape[-1] == frames, out.mel.shape
    return elapsed, cpu, out.mel


def path_model(name: str, model: Tacotron2, workdir: str):
    """The model that runs path `name`: the torch model itself, or its exported graphs in onnxruntime."""
    runtime, _, dtype = PATHS[name]
    if name == "int8-torch":  # fused weights without the compiled kernel, in the model's cache
        key = fast_weights(model, torch.int8) and model.__dict__["_fast_cache"][torch.int8][0]
        model.__dict__["_fast_cache"][torch.int8] = (key, FastWeights(model.decoder, torch.int8, kernel=False))
    elif name == "fast-int8":
        model.__dict__.get("_fast_cache", {}).pop(torch.int8, None)
    if runtime == "torch":
        return model
    from tts.tacotron2.onnx import OnnxTacotron2, export_tacotron2_onnx, quantize_tacotron2_onnx

    if not (Path(workdir) / "tacotron2.json").exists():
        export_tacotron2_onnx(model, workdir)
    if dtype == torch.int8 and not (Path(workdir) / "tacotron2_decoder_iter.int8.onnx").exists():
        quantize_tacotron2_onnx(workdir)
    return OnnxTacotron2(workdir)


def main(argv: list[str] | None = None) -> None:
    parser = ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--frames", type=positive_int, default=500, help="decoder frames per run")
    parser.add_argument("--runs", type=positive_int, default=3, help="timed runs per configuration; the median is kept")
    parser.add_argument("--threads", type=positive_int, default=2, help="torch intra-op threads")
    parser.add_argument("--text-len", type=positive_int, default=150, help="input symbols")
    parser.add_argument("--paths", default=",".join(PATHS), help=f"comma-separated, the first is the reference "
                                                                   f"(default: {','.join(PATHS)})")
    parser.add_argument("--json", action="store_true", help="print one JSON object per configuration")
    args = parser.parse_args(argv)
    unknown = set(args.paths.split(",")) - set(PATHS)
    if unknown:
        raise BadInput(f"--paths: unknown {', '.join(map(repr, sorted(unknown)))}; known: {', '.join(PATHS)}")

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model = Tacotron2(Tacotron2Config()).eval()
    with torch.no_grad():
        model.decoder.gate_layer.linear_layer.bias.fill_(-1e4)  # never stop: fixed frame count
    text = torch.randint(1, model.config.n_symbols, (1, args.text_len))

    results, reference = [], None
    load_start = os.getloadavg()[0]
    workdir = tempfile.TemporaryDirectory(prefix="tacotron2_speed_")
    for name in args.paths.split(","):
        runtime, fast, dtype = PATHS[name]
        if runtime == "onnx":
            try:
                import onnxruntime  # noqa: F401
            except ImportError:
                print(f"skipping {name}: onnxruntime is not installed (pip install 'tacoglow[onnx]')", file=sys.stderr)
                continue
        runner = path_model(name, model, workdir.name)
        time_infer(runner, text, min(args.frames, 50), fast, dtype)  # warm-up: weight fusion, allocator
        reset_peak_rss()
        runs = [time_infer(runner, text, args.frames, fast, dtype) for _ in range(args.runs)]
        peak = peak_rss_mb()
        times, cpu, mel = [w for w, _, _ in runs], [c for _, c, _ in runs], runs[-1][2]
        reference = mel if reference is None else reference
        results.append({"name": name, "dtype": str(dtype).replace("torch.", ""),
                        "fps": args.frames / statistics.median(times), "best": args.frames / min(times),
                        "cpu": args.frames / statistics.median(cpu), "peak": peak, "snr": snr_db(reference, mel),
                        "diff": float((reference - mel).abs().max())})
    workdir.cleanup()
    plain = results[0]["fps"]
    load = os.getloadavg()[0]

    rows = []
    for r in results:
        rows.append({
            "path": r["name"], "dtype": r["dtype"], "frames_per_s": round(r["fps"], 1),
            "x_realtime": round(r["fps"] / FRAMES_PER_SECOND_OF_AUDIO, 2),
            "samples_per_s": round(r["fps"] * DEFAULT_AUDIO.hop_length),
            "ratio_vs_plain": round(r["fps"] / plain, 2),
            "frames_per_s_best": round(r["best"], 1),  # fastest run: less sensitive to other processes
            # frames per CPU-second (all threads): with --threads 1, what an idle core would give
            "frames_per_cpu_s": round(r["cpu"], 1),
            "peak_rss_mb": round(r["peak"]), "snr_db": round(r["snr"], 1) if math.isfinite(r["snr"]) else None,
            "max_abs_diff": r["diff"],
            "frames": args.frames, "runs": args.runs, "threads": args.threads, "text_len": args.text_len,
            "load_avg_1min": round(load, 2), "cpu": cpu_name(),
        })
    print(f"Tacotron 2 (full size, random weights), batch 1, {args.text_len} symbols -> {args.frames} frames, "
          f"{args.threads} threads, median of {args.runs} runs; {cpu_name()}, load average {load_start:.2f} at the "
          f"start, {load:.2f} at the end on {os.cpu_count()} CPUs"
          f"{' (contended: numbers are pessimistic)' if max(load, load_start) > 1.5 else ''}", file=sys.stderr)
    emit(rows, args.json, lambda table: print_table(table, [
        ("path", "path", ""), ("dtype", "dtype", ""), ("frames/s", "frames_per_s", ".1f"),
        ("x real time", "x_realtime", ".2f"), ("vs plain fp32", "ratio_vs_plain", ".2f"),
        ("best run f/s", "frames_per_s_best", ".1f"), ("frames/CPU-s", "frames_per_cpu_s", ".1f"),
        ("peak RSS MB", "peak_rss_mb", "d"), ("SNR dB", "snr_db", ".1f"), ("max diff", "max_abs_diff", ".1e")]))


if __name__ == "__main__":
    sys.exit(run(main))

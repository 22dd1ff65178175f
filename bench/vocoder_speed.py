"""WaveGlow CPU speed: samples/s, x real time and peak RSS for the reference-style path and every fast path.

Full-size WaveGlow-256 (published config) with random weights; the zero-initialised `end` convs are
randomised too, otherwise every coupling is the identity and the audio is trivial. Each
configuration synthesises the same mel (sigma = 0, denoiser included in the timing) and is compared
with the fp32 reference-style output (max abs diff, SNR). All configurations run in one process, so
`ratio_vs_plain` is meaningful even on a loaded machine where absolute numbers are not.

    python3 bench/vocoder_speed.py                 # table
    python3 bench/vocoder_speed.py --json          # one JSON object per configuration
    python3 bench/vocoder_speed.py --seconds 4 --threads 2 --runs 5 --configs plain,fp32,bf16
    python3 bench/vocoder_speed.py --chunks        # seam error of chunked synthesis vs overlap

Configurations: plain (reference-style fp32), fp32-folded, fp32-direct, fp32 (packed + Winograd), bf16,
int8 (compiled kernel, `vocoder.waveglow.kernel`), int8-torch (the same int8 scheme in pure PyTorch:
the fallback where the kernel cannot be built), onnx and onnx-int8 (the exported graph in
onnxruntime, float32 / its dynamic int8 quantization; need the [onnx] extra). peak RSS is the process's
resident-set high-water mark while that configuration ran (reset per configuration), model included.
"""
from __future__ import annotations

import math
import os
import platform
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tts.core.device import cpuinfo_value, prefer_passive_waiting  # before torch: it reads the setting when it loads

# OpenMP threads spin briefly, then sleep at barriers (read when torch loads its OpenMP runtime), as
# tts-say and tts-server run them: threads that keep spinning collapse the 2-thread int8 WN kernel on a
# busy machine.
prefer_passive_waiting()

import torch

from bench.report import ArgumentParser, BadInput, emit, positive_float, positive_int, print_table, run
from tts.core.audio import mel_spectrogram
from vocoder import Denoiser, WaveGlow, WaveGlowConfig
from vocoder.waveglow import CompactWaveGlowConfig, accelerate, read_waveglow_checkpoint

SAMPLE_RATE = 22050


def speechlike_mel(seconds: float, seed: int = 0) -> torch.Tensor:
    """Log-mel of a harmonic signal with vibrato, a syllable envelope and noise bursts: [1, 80, T]."""
    n = int(seconds * SAMPLE_RATE)
    g = torch.Generator().manual_seed(seed)
    t = torch.arange(n, dtype=torch.float64) / SAMPLE_RATE
    f0 = 120 + 25 * torch.sin(2 * math.pi * 4 * t) + 20 * torch.sin(2 * math.pi * 0.3 * t)
    phase = 2 * math.pi * torch.cumsum(f0, 0) / SAMPLE_RATE
    voiced = sum(torch.sin(k * phase) / k for k in range(1, 50) if k * 170 < 7800)
    envelope = (0.5 - 0.5 * torch.cos(2 * math.pi * 2.5 * t)) ** 2
    bursts = ((t % 0.4) < 0.06).double() * 0.2 * torch.randn(n, generator=g, dtype=torch.float64)
    x = voiced * envelope + bursts
    audio = (0.6 * x / x.abs().max()).float()
    return mel_spectrogram(audio)[None][:, :, : n // 256]


def random_waveglow(seed: int = 0, wn_channels: int = 256) -> WaveGlow:
    torch.manual_seed(seed)
    model = WaveGlow(WaveGlowConfig(wn_n_channels=wn_channels))
    with torch.no_grad():
        for wn in model.WN:
            wn.end.weight.normal_(0, 0.01)
            wn.end.bias.normal_(0, 0.01)
    return model.eval()


def cpu_name() -> str:
    """The CPU's model name (as lscpu prints it), for the table's caption."""
    return cpuinfo_value("model name") or platform.processor() or platform.machine()


def reset_peak_rss() -> None:
    """Restart the resident-set high-water mark (Linux: /proc/self/clear_refs, "5")."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass


def peak_rss_mb() -> float:
    """Peak resident set since `reset_peak_rss` (VmHWM; elsewhere the process's lifetime peak)."""
    try:
        with open("/proc/self/status", encoding="utf-8") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


#: every configuration `build` makes
CONFIGS = ("plain", "fp32-folded", "fp32-direct", "fp32", "bf16", "int8", "int8-torch", "onnx", "onnx-int8")


def build(config: str, state: dict, model_config: WaveGlowConfig, workdir: str | None = None) -> WaveGlow:
    model = WaveGlow(model_config)
    model.load_state_dict(state)
    if config in ("onnx", "onnx-int8"):  # the exported graph in onnxruntime (export once per workdir)
        from vocoder.waveglow.onnx import OnnxWaveGlow, export_waveglow_onnx, quantize_waveglow_onnx

        path = Path(workdir or tempfile.mkdtemp()) / "waveglow.onnx"
        if not path.exists():
            export_waveglow_onnx(model.prepare_for_inference(), path)
        if config == "onnx-int8" and not path.with_name("waveglow.int8.onnx").exists():
            quantize_waveglow_onnx(path)
        return OnnxWaveGlow(path, quantize="int8" if config == "onnx-int8" else None)
    if config == "int8-torch":  # the int8 scheme without the compiled kernel (its fallback)
        import functools

        from vocoder.waveglow.int8 import Int8WN

        model = accelerate(model, quantize="int8")
        model.wn_runner = functools.partial(Int8WN, kernel=False)
        return model
    if config == "plain":  # reference-style: weight norm on every call, inverse per call, ConvTranspose1d
        return model.eval()
    if config == "fp32-folded":  # folded + cached inverses, but the WN modules as in the reference
        return model.prepare_for_inference()
    if config == "fp32-direct":  # packed WN without Winograd
        return accelerate(model, winograd=False)
    if config == "bf16":
        return accelerate(model).to(torch.bfloat16)
    if config == "int8":  # float32 model, WN products on int8 operands (vocoder.waveglow.int8)
        return accelerate(model, quantize="int8")
    if config != "fp32":
        raise ValueError(f"unknown configuration {config!r}")
    return accelerate(model)


def snr_db(reference: torch.Tensor, estimate: torch.Tensor) -> float:
    noise = (reference - estimate).double().pow(2).sum()
    if noise == 0:
        return float("inf")
    return 10 * math.log10(reference.double().pow(2).sum().item() / noise.item())


def time_config(model: WaveGlow, mel: torch.Tensor, runs: int, denoise: float):
    """(wall times, CPU times, audio). CPU time (all threads) is the steadier number on a shared
    machine: other processes stretch wall time but not the work this process does."""
    denoiser = Denoiser(model) if denoise > 0 else None
    walls, cpus = [], []
    audio = None
    for _ in range(runs + 1):  # first run warms up (kernel selection, allocator)
        start, start_cpu = time.perf_counter(), time.process_time()
        with torch.inference_mode():
            audio = model.synthesize(mel, sigma=0.0)
            if denoiser is not None:
                audio = denoiser(audio, strength=denoise)
        walls.append(time.perf_counter() - start)
        cpus.append(time.process_time() - start_cpu)
    return walls[1:], cpus[1:], audio


def chunk_report(model: WaveGlow, seconds: float, chunk_frames: int, overlaps: list[int]) -> list[dict]:
    """Chunked vs whole synthesis (sigma 0.6, same noise): SNR over the whole signal and over the
    seams only (16 frames either side of every chunk boundary), where the error lives."""
    mel = speechlike_mel(seconds, seed=1)
    T = mel.shape[2]
    seams = torch.zeros(T * 256, dtype=torch.bool)
    for boundary in range(chunk_frames, T, chunk_frames):
        seams[max(0, boundary - 16) * 256 : (boundary + 16) * 256] = True
    with torch.inference_mode():
        start = time.perf_counter()
        whole = model.synthesize(mel, sigma=0.6, seed=0)
        whole_seconds = time.perf_counter() - start
        rows = []
        for overlap in overlaps:
            start = time.perf_counter()
            chunked = model.synthesize(mel, sigma=0.6, seed=0, chunk_frames=chunk_frames, overlap_frames=overlap)
            seconds = time.perf_counter() - start
            rows.append({"chunk_frames": chunk_frames, "overlap_frames": overlap,
                         "snr_db": round(snr_db(whole, chunked), 1),
                         "seam_snr_db": round(snr_db(whole[:, seams], chunked[:, seams]), 1),
                         "max_abs_diff": float((whole - chunked).abs().max()),
                         # time relative to whole-utterance synthesis: the cost of the context frames
                         "time_vs_whole": round(seconds / whole_seconds, 2)})
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=positive_float, default=2.0, help="audio length to synthesise")
    parser.add_argument("--threads", type=positive_int, default=torch.get_num_threads())
    parser.add_argument("--runs", type=positive_int, default=3, help="timed runs per configuration (median reported)")
    parser.add_argument("--configs", default="plain,fp32,bf16,int8,int8-torch,onnx,onnx-int8",
                        help="comma-separated: plain, fp32-folded, fp32-direct, fp32, bf16, int8, int8-torch, onnx, "
                             "onnx-int8 (the first is the reference)")
    parser.add_argument("--denoise", type=float, default=0.01, help="denoiser strength (0: no denoiser)")
    parser.add_argument("--wn-channels", type=positive_int, default=256, help="random-weight model size (without --checkpoint)")
    parser.add_argument("--checkpoint", help="use these weights (any format load_waveglow reads) instead of random ones")
    parser.add_argument("--json", action="store_true", help="print one JSON object per configuration")
    parser.add_argument("--chunks", action="store_true", help="report chunked-vs-whole SNR and time for several overlaps "
                                                                 "(WaveGlowStream's output; with the last of --configs)")
    parser.add_argument("--chunk-frames", type=positive_int, default=64, help="chunk size for --chunks")
    args = parser.parse_args(argv)
    if args.denoise < 0:
        parser.error(f"--denoise must be >= 0, got {args.denoise}")
    unknown = [c for c in args.configs.split(",") if c not in CONFIGS]
    if unknown:
        raise BadInput(f"--configs: unknown {', '.join(map(repr, unknown))}; known: {', '.join(CONFIGS)}")
    if args.checkpoint and not Path(args.checkpoint).is_file():
        raise BadInput(f"--checkpoint {args.checkpoint}: no such file")
    torch.set_num_threads(args.threads)

    if args.checkpoint:
        model_config, _, state = read_waveglow_checkpoint(args.checkpoint)
        if isinstance(model_config, CompactWaveGlowConfig):  # its fast paths are the full-size layout's
            raise BadInput(f"--checkpoint {args.checkpoint}: a compact WaveGlow; this bench times the full-size one "
                           f"(time it with: bench/vocoder_compare.py --checkpoint waveglow={args.checkpoint})")
        label = Path(args.checkpoint).name
    else:
        random_model = random_waveglow(wn_channels=args.wn_channels)
        model_config, state, label = random_model.config, random_model.state_dict(), f"waveglow-{args.wn_channels}"

    if args.chunks:  # with the last of --configs (e.g. --configs int8 --chunks)
        model = build(args.configs.split(",")[-1], state, model_config)
        emit(chunk_report(model, args.seconds, args.chunk_frames, [0, 2, 4, 8, 16, 32]), args.json, lambda table: print_table(table, [
            ("chunk frames", "chunk_frames", "d"), ("overlap frames", "overlap_frames", "d"), ("SNR dB", "snr_db", ".1f"),
            ("seam SNR dB", "seam_snr_db", ".1f"), ("max |diff|", "max_abs_diff", ".2e"),
            ("time vs whole", "time_vs_whole", ".2f")]))
        return

    mel = speechlike_mel(args.seconds)
    n_samples = mel.shape[2] * 256
    results, reference, plain_rate, plain_cpu_rate = [], None, None, None
    workdir = tempfile.TemporaryDirectory(prefix="vocoder_speed_")
    load = os.getloadavg()[0]
    for config in args.configs.split(","):
        if config.startswith("onnx"):
            try:
                import onnxruntime  # noqa: F401
            except ImportError:
                print(f"skipping {config}: onnxruntime is not installed (pip install 'tacoglow[onnx]')", file=sys.stderr)
                continue
        model = build(config, state, model_config, workdir.name)
        reset_peak_rss()
        times, cpu_times, audio = time_config(model, mel, args.runs, args.denoise)
        peak = peak_rss_mb()
        rate = n_samples / statistics.median(times)
        cpu_rate = n_samples / statistics.median(cpu_times)
        if reference is None:
            reference, plain_rate, plain_cpu_rate = audio, rate, cpu_rate
        row = {
            "model": label,
            "config": config,
            "dtype": "bfloat16" if config == "bf16" else "int8" if "int8" in config else "float32",
            "threads": args.threads,
            "seconds": round(n_samples / SAMPLE_RATE, 3),
            "samples_per_s": round(rate),
            "x_realtime": round(rate / SAMPLE_RATE, 3),
            "ratio_vs_plain": round(rate / plain_rate, 3),
            "samples_per_cpu_s": round(cpu_rate),
            "ratio_vs_plain_cpu": round(cpu_rate / plain_cpu_rate, 3),
            "max_abs_diff": float((audio - reference).abs().max()),
            "snr_db": round(snr_db(reference, audio), 1),
            "peak_rss_mb": round(peak),
            "runs_s": [round(t, 3) for t in times],
            "runs_cpu_s": [round(t, 3) for t in cpu_times],
            "cpu": cpu_name(), "load_avg_1min": round(load, 2),
        }
        results.append(row)
        del model
    workdir.cleanup()
    print(f"{label}, {n_samples / SAMPLE_RATE:.2f} s of audio, {args.threads} threads, sigma=0, denoiser "
          f"{args.denoise}, median of {args.runs} runs; {cpu_name()}, {os.cpu_count()} CPUs, load average "
          f"{load:.2f} at the start, {os.getloadavg()[0]:.2f} at the end", file=sys.stderr)
    emit(results, args.json, lambda table: print_table(table, [
        ("config", "config", ""), ("samples/s", "samples_per_s", "d"), ("x RT", "x_realtime", ".3f"),
        ("vs plain", "ratio_vs_plain", ".2f"), ("per CPU-s", "samples_per_cpu_s", "d"),
        ("vs plain (CPU)", "ratio_vs_plain_cpu", ".2f"), ("peak RSS MB", "peak_rss_mb", "d"),
        ("max diff", "max_abs_diff", ".2e"), ("SNR dB", "snr_db", "")]))


if __name__ == "__main__":
    sys.exit(run(main))

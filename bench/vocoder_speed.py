"""WaveGlow CPU speed: samples/s and x real time for the reference-style path and the fast paths.

Full-size WaveGlow-256 (published config) with random weights; the zero-initialised `end` convs are
randomised too, otherwise every coupling is the identity and the audio is trivial. Each
configuration synthesises the same mel (sigma = 0, denoiser included in the timing) and is compared
with the fp32 reference-style output (max abs diff, SNR). All configurations run in one process, so
`ratio_vs_plain` is meaningful even on a loaded machine where absolute numbers are not.

    python3 bench/vocoder_speed.py                 # table
    python3 bench/vocoder_speed.py --json          # one JSON object per configuration
    python3 bench/vocoder_speed.py --seconds 4 --threads 2 --runs 5 --configs plain,fp32,bf16
    python3 bench/vocoder_speed.py --chunks        # seam error of chunked synthesis vs overlap
"""
from __future__ import annotations

import argparse
import math
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.report import emit, print_table  # noqa: E402
from tts.core.audio import mel_spectrogram  # noqa: E402
from vocoder import Denoiser, WaveGlow, WaveGlowConfig  # noqa: E402
from vocoder.waveglow import accelerate, read_waveglow_checkpoint  # noqa: E402

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


def build(config: str, state: dict, model_config: WaveGlowConfig) -> WaveGlow:
    model = WaveGlow(model_config)
    model.load_state_dict(state)
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
        whole = model.synthesize(mel, sigma=0.6, seed=0)
        rows = []
        for overlap in overlaps:
            chunked = model.synthesize(mel, sigma=0.6, seed=0, chunk_frames=chunk_frames, overlap_frames=overlap)
            rows.append({"chunk_frames": chunk_frames, "overlap_frames": overlap,
                         "snr_db": round(snr_db(whole, chunked), 1),
                         "seam_snr_db": round(snr_db(whole[:, seams], chunked[:, seams]), 1),
                         "max_abs_diff": float((whole - chunked).abs().max())})
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=2.0, help="audio length to synthesise")
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    parser.add_argument("--runs", type=int, default=3, help="timed runs per configuration (median reported)")
    parser.add_argument("--configs", default="plain,fp32-folded,fp32-direct,fp32,bf16,int8",
                        help="comma-separated: plain, fp32-folded, fp32-direct, fp32, bf16, int8 (the first is the reference)")
    parser.add_argument("--denoise", type=float, default=0.01, help="denoiser strength (0: no denoiser)")
    parser.add_argument("--wn-channels", type=int, default=256, help="random-weight model size (without --checkpoint)")
    parser.add_argument("--checkpoint", help="use these weights (any format load_waveglow reads) instead of random ones")
    parser.add_argument("--json", action="store_true", help="print one JSON object per configuration")
    parser.add_argument("--chunks", action="store_true", help="report chunked-vs-whole SNR for several overlaps")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)

    if args.checkpoint:
        model_config, _, state = read_waveglow_checkpoint(args.checkpoint)
        label = Path(args.checkpoint).name
    else:
        random_model = random_waveglow(wn_channels=args.wn_channels)
        model_config, state, label = random_model.config, random_model.state_dict(), f"waveglow-{args.wn_channels}"

    if args.chunks:
        model = build("fp32", state, model_config)
        emit(chunk_report(model, args.seconds, 64, [0, 2, 4, 8, 16, 32]), args.json, lambda table: print_table(table, [
            ("chunk frames", "chunk_frames", "d"), ("overlap frames", "overlap_frames", "d"), ("SNR dB", "snr_db", ".1f"),
            ("seam SNR dB", "seam_snr_db", ".1f"), ("max |diff|", "max_abs_diff", ".2e")]))
        return

    mel = speechlike_mel(args.seconds)
    n_samples = mel.shape[2] * 256
    results, reference, plain_rate, plain_cpu_rate = [], None, None, None
    for config in args.configs.split(","):
        model = build(config, state, model_config)
        times, cpu_times, audio = time_config(model, mel, args.runs, args.denoise)
        rate = n_samples / statistics.median(times)
        cpu_rate = n_samples / statistics.median(cpu_times)
        if reference is None:
            reference, plain_rate, plain_cpu_rate = audio, rate, cpu_rate
        row = {
            "model": label,
            "config": config,
            "dtype": {"bf16": "bfloat16", "int8": "int8"}.get(config, "float32"),
            "threads": args.threads,
            "seconds": round(n_samples / SAMPLE_RATE, 3),
            "samples_per_s": round(rate),
            "x_realtime": round(rate / SAMPLE_RATE, 3),
            "ratio_vs_plain": round(rate / plain_rate, 3),
            "samples_per_cpu_s": round(cpu_rate),
            "ratio_vs_plain_cpu": round(cpu_rate / plain_cpu_rate, 3),
            "max_abs_diff": float((audio - reference).abs().max()),
            "snr_db": round(snr_db(reference, audio), 1),
            "runs_s": [round(t, 3) for t in times],
            "runs_cpu_s": [round(t, 3) for t in cpu_times],
        }
        results.append(row)
        del model
    print(f"{label}, {n_samples / SAMPLE_RATE:.2f} s of audio, {args.threads} threads, "
          f"sigma=0, denoiser {args.denoise}, median of {args.runs} runs", file=sys.stderr)
    emit(results, args.json, lambda table: print_table(table, [
        ("config", "config", ""), ("samples/s", "samples_per_s", "d"), ("x RT", "x_realtime", ".3f"),
        ("vs plain", "ratio_vs_plain", ".2f"), ("per CPU-s", "samples_per_cpu_s", "d"),
        ("vs plain (CPU)", "ratio_vs_plain_cpu", ".2f"), ("max diff", "max_abs_diff", ".2e"), ("SNR dB", "snr_db", "")]))


if __name__ == "__main__":
    main()

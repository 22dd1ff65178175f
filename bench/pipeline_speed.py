"""End-to-end speed: text -> Tacotron 2 -> vocoder -> denoiser, through the public `Pipeline` API.

    python3 bench/pipeline_speed.py                    # full-size models (random weights), 10 s sentence
    python3 bench/pipeline_speed.py --voice default    # also the shipped voice: RTF and first-audio latency
    python3 bench/pipeline_speed.py --json

Full size: NVIDIA's Tacotron 2 and WaveGlow-256 configurations with random weights, saved to temporary
files and loaded with `Pipeline.from_checkpoints` as a user would. With gate_threshold 1.0 the decoder never stops,
so every run decodes exactly `--seconds` of frames (max_decoder_steps, no retries). Each run also times
the plain path in the same process — Tacotron 2's reference loop and reference-style WaveGlow (weight
norm applied per call, inverses per call), fp32 — and prints the ratio, since absolute times drift on
shared machines.

Voice: the shipped default voice on a multi-sentence text through `Pipeline.stream`: time to the first
chunk's audio and the whole text's real-time factor.

Output: a table, or with --json one JSON object per line (one per configuration). Arguments and the
voice are checked before any timing (torch is imported after the argument checks): bad input is one
`error:` line and exit status 2, any other failure exit status 1 (bench/report.py); --verbose shows the
traceback.
"""
from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench.report import ArgumentParser, emit, positive_float, positive_int, print_table, run

if TYPE_CHECKING:
    from tts import Pipeline
    from tts.tacotron2 import Tacotron2

SENTENCE = ("The quick brown fox jumps over the lazy dog while the old clock on the wall ticks slowly, "
            "and nobody in the quiet house seems to notice the rain.")
STORY = ("It was a bright cold day in April. The clocks were striking thirteen. A small bird sang on the "
         "window sill, and then it flew away. Nobody saw where it went.")


def random_tacotron2(seed: int = 0) -> Tacotron2:
    import torch

    from tts.tacotron2 import Tacotron2, Tacotron2Config

    torch.manual_seed(seed)
    return Tacotron2(Tacotron2Config()).eval()


def time_speak(pipe: Pipeline, frames: int, runs: int) -> float:
    """Median wall seconds of `speak` decoding exactly `frames` frames."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        speech = pipe.speak(SENTENCE, max_decoder_steps=frames, gate_threshold=1.0, max_retries=0, seed=0,
                            denoise=0.01, sigma=0.6)
        times.append(time.perf_counter() - start)
        assert speech.chunks[0].mel.shape[-1] == frames, speech.chunks[0].mel.shape
    return statistics.median(times)


def time_plain(tacotron2: Tacotron2, waveglow_state: dict, frames: int, runs: int) -> float:
    """The unoptimized reference path: plain decoder loop + reference-style WaveGlow, fp32, + denoiser."""
    import torch
    from vocoder_speed import build, random_waveglow

    from frontend import text_to_sequence
    from vocoder import Denoiser

    waveglow = build("plain", waveglow_state, random_waveglow().config)
    denoiser = Denoiser(waveglow)
    ids = torch.tensor([text_to_sequence(SENTENCE)])
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        out = tacotron2.infer(ids, max_decoder_steps=frames, gate_threshold=1.0, seed=0, fast=False, warn=False)
        audio = waveglow(out.mel, sigma=0.6, seed=0, clip=False)  # NVIDIA denoises the unclipped output
        denoiser(audio, strength=0.01)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def full_size_rows(seconds: float, runs: int) -> list[dict]:
    from vocoder_speed import random_waveglow

    from tts import Pipeline
    from tts.tacotron2.checkpoint import save_tacotron2
    from vocoder import save_waveglow

    frames = round(seconds * 22050 / 256)
    tacotron2, waveglow = random_tacotron2(), random_waveglow()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        t2_path, wg_path = Path(tmp) / "tacotron2.pt", Path(tmp) / "waveglow.pt"
        save_tacotron2(tacotron2, t2_path)
        save_waveglow(waveglow, wg_path)
        plain = time_plain(tacotron2, waveglow.state_dict(), frames, runs)
        rows.append(row("full-size plain (reference-style)", "float32", seconds, plain, plain))
        # (Tacotron 2 dtype, WaveGlow quantization): the last one is the fastest CPU configuration
        for dtype, quantize in (("float32", None), ("bfloat16", None), ("bfloat16", "int8")):
            pipe = Pipeline.from_checkpoints(tacotron2=t2_path, waveglow=wg_path, dtype=dtype, quantize=quantize)
            pipe.speak("Warm up.", max_decoder_steps=8, max_retries=0)
            label = dtype if quantize is None else f"{dtype} + WaveGlow {quantize}"
            rows.append(row("full-size Pipeline", label, seconds, time_speak(pipe, frames, runs), plain))
    return rows


def row(model: str, dtype: str, audio_seconds: float, wall: float, plain_wall: float) -> dict:
    return {
        "model": model,
        "dtype": dtype,
        "samples_per_s": round(audio_seconds * 22050 / wall),
        "x_realtime": round(audio_seconds / wall, 3),
        "ratio_vs_plain": round(plain_wall / wall, 2),
    }


def voice_rows(pipe: Pipeline, voice: str, runs: int) -> list[dict]:
    pipe.warm_up()
    rtf, first = [], []
    for _ in range(runs):
        start = time.perf_counter()
        audio_seconds, first_audio = 0.0, None
        for chunk in pipe.stream(STORY, seed=0):
            if first_audio is None:
                first_audio = time.perf_counter() - start
            audio_seconds += len(chunk.audio) / chunk.sample_rate
        rtf.append(audio_seconds / (time.perf_counter() - start))
        first.append(first_audio)
    return [{"model": f"voice {voice} via stream", "dtype": "float32", "x_realtime": round(statistics.median(rtf), 2),
             "first_audio_s": round(statistics.median(first), 3)}]


def main(argv: list[str] | None = None) -> int:
    parser = ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=positive_float, default=10.0, help="audio per full-size run")
    parser.add_argument("--runs", type=positive_int, default=3, help="timed runs per configuration; the median is kept")
    parser.add_argument("--threads", type=positive_int, default=2, help="torch intra-op threads")
    parser.add_argument("--voice", help="also time a voice folder or name ('default') through Pipeline.stream")
    parser.add_argument("--skip-full-size", action="store_true", help="time only --voice")
    parser.add_argument("--json", action="store_true", help="one JSON object per configuration")
    args = parser.parse_args(argv)
    if args.skip_full_size and not args.voice:
        parser.error("--skip-full-size leaves nothing to time without --voice")
    import torch

    from tts import Pipeline

    torch.set_num_threads(args.threads)
    voice = Pipeline.from_pretrained(args.voice) if args.voice else None  # a bad voice fails before the timing
    rows = [] if args.skip_full_size else full_size_rows(args.seconds, args.runs)
    if voice is not None:
        rows += voice_rows(voice, args.voice, args.runs)
    print(f"end to end, {args.threads} threads, median of {args.runs} runs", file=sys.stderr)
    emit(rows, args.json, lambda table: print_table(table, [
        ("model", "model", ""), ("dtype", "dtype", ""), ("x real time", "x_realtime", ".2f"),
        ("samples/s", "samples_per_s", "d"), ("vs plain", "ratio_vs_plain", ".2f"),
        ("first audio s", "first_audio_s", ".3f")]))
    return 0


if __name__ == "__main__":
    sys.exit(run(main))

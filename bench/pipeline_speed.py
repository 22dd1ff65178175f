"""End-to-end speed: text -> Tacotron 2 -> WaveGlow-256 -> denoiser, through the public `Pipeline` API.

    python3 bench/pipeline_speed.py                          # every path, a 4-second sentence, median of 3
    python3 bench/pipeline_speed.py --paths plain,int8,int8-overlap --runs 5 --threads 2
    python3 bench/pipeline_speed.py --text "First sentence. Second one." --seconds 2   # first audio of 2 chunks
    python3 bench/pipeline_speed.py --voice default --skip-full-size   # the shipped voice: RTF, first audio
    python3 bench/pipeline_speed.py --json

Full size: NVIDIA's Tacotron 2 and WaveGlow-256 configurations with random weights (WaveGlow's `end`
layers randomised as in bench/vocoder_speed.py, or every coupling would be the identity), saved in
NVIDIA's layout ({"state_dict": ...}) and loaded with `Pipeline.from_checkpoints` as a user would. With
gate_threshold 1.0 the decoder never stops, so every chunk decodes exactly `--seconds` of frames (no
retries). sigma = 0 (the timing does not depend on it, and the audio of every path is then comparable),
denoiser strength 0.01.

Paths (`--paths`, default all; the plain chain always runs first: every ratio is taken against it):
  plain          the reference chain: Tacotron 2's plain decoder loop and reference-style WaveGlow
                 (weight norm applied per call, inverses per call), float32, then the denoiser
  fp32 / bf16    `from_checkpoints(dtype="float32" | "bfloat16", quantize=None)`: the fast decoder loop
                 and packed WN in that precision
  int8           `from_checkpoints()` as it loads by default on a CPU: int8 WaveGlow (compiled WN
                 kernel) and int8 Tacotron 2 decoder (compiled decoder step), pure-PyTorch fallbacks
                 where the kernels do not build (the `what` column says which ran)
  *-overlap      the same pipeline with stage overlap on (`SynthesisConfig.overlap`, tts/runtime/overlap.py);
                 the plain names run with overlap off
  onnx, onnx-int8  the exported graphs (`python -m tts.export_onnx`) in onnxruntime, float32 / its
                 dynamic int8 (`runtime="onnx"`; need the [onnx] extra, skipped with a note without it
                 unless asked for by name)

Columns: x real time (audio seconds / wall seconds), ratio vs plain (same run), first audio (seconds
from the call until the first chunk's audio, `Pipeline.stream`), peak RSS (the process's resident-set
high-water mark while that path was built and ran, reset per path: model included), SNR of its audio
against the plain chain's (same seed; 40 dB is int8's rounding, see bench/README.md), and what ran
(`Pipeline.describe`, shortened; --json also prints the full lines, with the reasons, as `details`).

Voice: `--voice` also times a voice folder (e.g. the shipped default) on a multi-sentence text through
`Pipeline.stream`: real-time factor and time to the first chunk.

Output: a table, or with --json one JSON object per line. Arguments and the voice are checked before
any timing (torch is imported after the argument checks): bad input is one `error:` line and exit
status 2, any other failure exit status 1 (bench/report.py); --verbose shows the traceback.
"""
from __future__ import annotations

import gc
import math
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench.report import ArgumentParser, BadInput, emit, positive_float, positive_int, print_table, run

if TYPE_CHECKING:
    import numpy as np

    from tts import Pipeline

SENTENCE = ("The quick brown fox jumps over the lazy dog while the old clock on the wall ticks slowly, "
            "and nobody in the quiet house seems to notice the rain.")
STORY = ("It was a bright cold day in April. The clocks were striking thirteen. A small bird sang on the "
         "window sill, and then it flew away. Nobody saw where it went.")
#: path name -> (Pipeline.from_checkpoints keyword arguments, stage overlap)
TORCH_PATHS = {
    "fp32": ({"dtype": "float32", "quantize": None}, False),
    "bf16": ({"dtype": "bfloat16", "quantize": None}, False),
    "int8": ({}, False),
}
ONNX_PATHS = {"onnx": None, "onnx-int8": "int8"}
ALL_PATHS = ["plain", "fp32", "fp32-overlap", "bf16", "bf16-overlap", "int8", "int8-overlap", "onnx", "onnx-int8"]
SAMPLE_RATE, HOP = 22050, 256


def parse_paths(text: str | None) -> tuple[list[str], bool]:
    """(--paths as a list with "plain" first, whether they were named explicitly); unknown names are bad
    input. The plain chain always runs: every ratio is taken against it, in the same process."""
    if text is None:
        return list(ALL_PATHS), False
    paths = [p.strip() for p in text.split(",") if p.strip()]
    unknown = [p for p in paths if p not in ALL_PATHS]
    if unknown or not paths:
        raise BadInput(f"--paths: unknown path(s) {unknown or text!r}; choose from {', '.join(ALL_PATHS)}")
    return ["plain"] + [p for p in dict.fromkeys(paths) if p != "plain"], True


def save_nvidia_layout(tmp: Path) -> tuple[Path, Path, object, object]:
    """Full-size random Tacotron 2 and WaveGlow-256 as NVIDIA's files hold them: {"state_dict": ...}."""
    import torch
    from vocoder_speed import random_waveglow

    from tts.tacotron2 import Tacotron2, Tacotron2Config

    torch.manual_seed(0)
    tacotron2, waveglow = Tacotron2(Tacotron2Config()).eval(), random_waveglow()
    t2_path, wg_path = tmp / "tacotron2_statedict.pt", tmp / "waveglow_256channels.pt"
    torch.save({"state_dict": tacotron2.state_dict(), "iteration": 0}, t2_path)
    torch.save({"state_dict": waveglow.state_dict(), "iteration": 0}, wg_path)
    return t2_path, wg_path, tacotron2, waveglow


def plain_chain(tacotron2, waveglow_state: dict, text: str, frames: int, runs: int) -> tuple[float, np.ndarray]:
    """The unoptimised reference: plain decoder loop + reference-style WaveGlow, fp32, + denoiser.
    Returns the median wall seconds and the audio of the last run (clipped as the pipeline clips)."""
    import torch
    from vocoder_speed import build, random_waveglow

    from tts.core.defaults import FRAMES_PER_SYMBOL
    from tts.runtime.planning import decoder_step_budget, derive_seed, plan_text
    from vocoder import Denoiser

    waveglow = build("plain", waveglow_state, random_waveglow().config)
    denoiser = Denoiser(waveglow)
    chunks = plan_text(text).chunks
    times, audio = [], None
    for _ in range(runs):
        start, pieces = time.perf_counter(), []
        for index, chunk in enumerate(chunks):  # the pipeline's per-chunk seeds and budgets: comparable audio
            steps = decoder_step_budget(len(chunk.ids), 1, frames, FRAMES_PER_SYMBOL)
            out = tacotron2.infer(torch.tensor([chunk.ids]), max_decoder_steps=steps, gate_threshold=1.0,
                                  seed=derive_seed(0, index), fast=False, warn=False)
            wave = waveglow(out.mel, sigma=0.0, clip=False)  # NVIDIA denoises the unclipped output
            pieces.append(denoiser(wave, strength=0.01).clamp(-1, 1)[0])
        times.append(time.perf_counter() - start)
        audio = torch.cat(pieces).numpy()
    return statistics.median(times), audio


def time_stream(pipe: Pipeline, text: str, runs: int, **settings) -> tuple[float, float, np.ndarray]:
    """Median (wall seconds, seconds to the first chunk) of `stream` over `text`, and the audio (chunks
    without their pauses, as the plain chain makes them)."""
    import numpy as np

    walls, firsts, audio = [], [], None
    for _ in range(runs):
        start, first, pieces = time.perf_counter(), None, []
        for chunk in pipe.stream(text, **settings):
            first = first if first is not None else time.perf_counter() - start
            pieces.append(chunk.audio)
        walls.append(time.perf_counter() - start)
        firsts.append(first)
        audio = np.concatenate(pieces)
    return statistics.median(walls), statistics.median(firsts), audio


def snr_db(reference: np.ndarray, estimate: np.ndarray) -> float | None:
    import numpy as np

    if reference.shape != estimate.shape:
        return None
    noise = float(np.sum((reference.astype(np.float64) - estimate) ** 2))
    return math.inf if noise == 0 else round(10 * math.log10(float(np.sum(reference.astype(np.float64) ** 2)) / noise), 1)


def full_size_rows(paths: list[str], explicit: bool, text: str, seconds: float, runs: int) -> list[dict]:
    from vocoder_speed import peak_rss_mb, reset_peak_rss

    from tts.core.onnx import onnx_missing_reason

    frames = round(seconds * SAMPLE_RATE / HOP)
    settings = {"max_decoder_steps": frames, "gate_threshold": 1.0, "max_retries": 0, "seed": 0, "sigma": 0.0,
                "denoise": 0.01}
    missing = onnx_missing_reason(export=True)
    if missing and any(p.startswith("onnx") for p in paths):
        if explicit:
            raise BadInput(f"--paths onnx: {missing}")
        print(f"note: skipping the onnx paths: {missing}", file=sys.stderr)
        paths = [p for p in paths if not p.startswith("onnx")]
    rows: list[dict] = []
    reference = None  # (wall seconds, audio) of the plain chain
    with tempfile.TemporaryDirectory() as tmp:
        t2_path, wg_path, tacotron2, waveglow = save_nvidia_layout(Path(tmp))
        for name in paths:
            reset_peak_rss()
            if name == "plain":
                wall, audio = plain_chain(tacotron2, waveglow.state_dict(), text, frames, runs)
                first, what = None, "reference decoder loop and reference-style WaveGlow, float32"
                details = [what]
            else:
                pipe = build_pipeline(name, Path(tmp), t2_path, wg_path, tacotron2, waveglow)
                overlap = name.endswith("-overlap")
                pipe.speak("Warm up.", max_decoder_steps=8, max_retries=0, overlap=overlap)
                details = pipe.describe(overlap=overlap)
                what = "; ".join(brief(line) for line in details if not line.startswith(("vocoder:", "runtime: torch")))
                wall, first, audio = time_stream(pipe, text, runs, overlap=overlap, **settings)
                del pipe
                gc.collect()
            if reference is None:
                reference = (wall, audio)
            audio_seconds = len(audio) / SAMPLE_RATE
            rows.append({"path": name, "x_realtime": round(audio_seconds / wall, 3),
                         "ratio_vs_plain": round(reference[0] / wall, 2),
                         "first_audio_s": round(first if first is not None else wall, 3),
                         "peak_rss_mb": round(peak_rss_mb()), "snr_db": snr_db(reference[1], audio),
                         "audio_s": round(audio_seconds, 2), "what": what, "details": details})
    return rows


def brief(line: str) -> str:
    """A `Pipeline.describe` line without its reasons: "waveglow: int8 + compiled WN kernel"."""
    if line.startswith("stage overlap: "):
        return "overlap on" if line.startswith("stage overlap: on") else "overlap off"
    return line.split(" (", 1)[0]


def build_pipeline(name: str, tmp: Path, t2_path: Path, wg_path: Path, tacotron2, waveglow) -> Pipeline:
    """The pipeline that runs path `name` (graphs exported into `tmp` once, for the onnx paths)."""
    from tts import Pipeline

    if name in ONNX_PATHS:
        from tts.tacotron2.onnx import export_tacotron2_onnx, quantize_tacotron2_onnx
        from vocoder.waveglow.onnx import export_waveglow_onnx, quantize_waveglow_onnx

        graphs = tmp / "onnx"
        if not (graphs / "waveglow.onnx").exists():
            export_tacotron2_onnx(tacotron2, graphs)
            export_waveglow_onnx(waveglow.prepare_for_inference(), graphs / "waveglow.onnx")
        if name == "onnx-int8" and not (graphs / "waveglow.int8.onnx").exists():
            quantize_tacotron2_onnx(graphs)
            quantize_waveglow_onnx(graphs / "waveglow.onnx")
        return Pipeline.from_checkpoints(graphs, graphs / "waveglow.onnx", runtime="onnx", quantize=ONNX_PATHS[name])
    kwargs, _ = TORCH_PATHS[name.removesuffix("-overlap")]
    return Pipeline.from_checkpoints(t2_path, wg_path, device="cpu", **kwargs)


def voice_rows(pipe: Pipeline, voice: str, runs: int) -> list[dict]:
    from vocoder_speed import peak_rss_mb

    pipe.warm_up()
    wall, first, audio = time_stream(pipe, STORY, runs, seed=0)
    return [{"path": f"voice {voice} via stream", "x_realtime": round(len(audio) / pipe.sample_rate / wall, 2),
             "first_audio_s": round(first, 3), "peak_rss_mb": round(peak_rss_mb()),
             "audio_s": round(len(audio) / pipe.sample_rate, 2),
             "what": "; ".join(brief(line) for line in pipe.describe() if not line.startswith("runtime: torch")),
             "details": pipe.describe()}]


def main(argv: list[str] | None = None) -> int:
    parser = ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=positive_float, default=4.0, help="audio per chunk of the full-size runs")
    parser.add_argument("--text", default=SENTENCE, help="the text of the full-size runs (one chunk per sentence)")
    parser.add_argument("--paths", help=f"comma-separated, the first is the reference (default: {','.join(ALL_PATHS)})")
    parser.add_argument("--runs", type=positive_int, default=3, help="timed runs per path; the median is kept")
    parser.add_argument("--threads", type=positive_int, default=2, help="torch intra-op threads")
    parser.add_argument("--voice", help="also time a voice folder or name ('default') through Pipeline.stream")
    parser.add_argument("--skip-full-size", action="store_true", help="time only --voice")
    parser.add_argument("--json", action="store_true", help="one JSON object per path")
    args = parser.parse_args(argv)
    if args.skip_full_size and not args.voice:
        parser.error("--skip-full-size leaves nothing to time without --voice")
    try:
        paths, explicit = parse_paths(args.paths)
    except BadInput as exc:
        parser.error(str(exc))
    if not args.text.strip():
        parser.error("--text is empty")
    from tts.core.device import prefer_passive_waiting

    prefer_passive_waiting()  # as tts-say does, before torch starts its threads
    import torch
    from vocoder_speed import cpu_name

    from tts import Pipeline

    torch.set_num_threads(args.threads)
    voice = Pipeline.from_pretrained(args.voice) if args.voice else None  # a bad voice fails before the timing
    rows = [] if args.skip_full_size else full_size_rows(paths, explicit, args.text, args.seconds, args.runs)
    if voice is not None:
        rows += voice_rows(voice, args.voice, args.runs)
    print(f"end to end on {cpu_name()}, {args.threads} threads, median of {args.runs} runs; ratios against "
          f"the plain chain in this run", file=sys.stderr)
    emit(rows, args.json, lambda table: print_table(table, [
        ("path", "path", ""), ("x real time", "x_realtime", ".2f"), ("vs plain", "ratio_vs_plain", ".2f"),
        ("first audio s", "first_audio_s", ".3f"), ("peak RSS MB", "peak_rss_mb", "d"), ("SNR dB", "snr_db", ".1f"),
        ("audio s", "audio_s", ".2f"), ("what ran", "what", "")]))
    return 0


if __name__ == "__main__":
    sys.exit(run(main))

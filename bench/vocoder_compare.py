"""Compare the vocoders on the same mels: parameters, CPU samples/s and × real time, and (with
trained checkpoints and --quality) Whisper WER and DNSMOS of copy-synthesis of held-out clips.

Each vocoder runs from its checkpoint when one is given, otherwise with random weights built from
its recipe (clearly labelled: speed only, the audio is noise). The speed mel is the log-mel of
`--wav` (its first `--seconds`) or of a synthetic harmonic signal; every vocoder gets the same one.

    python3 bench/vocoder_compare.py                      # all vocoders, random weights, 2 s mel
    python3 bench/vocoder_compare.py --vocoders wavernn,wavernn:dense --seconds 4 --json
    python3 bench/vocoder_compare.py \\
        --checkpoint wavernn=runs/default_voice_wavernn/checkpoints/wavernn_step0150000.pt \\
        --quality --metadata data/default_voice/heldout.csv --wavs data/default_voice/wavs --limit 20
    python3 bench/vocoder_compare.py --kw wavernn:target=8800 --kw flowavenet:temperature=0.6

Names: griffin-lim, waveglow, wavernn, flowavenet, and random-weight presets wavernn:dense
(the recipe without pruning) and wavernn:subscale (the recipe as a Subscale WaveRNN, S=8, F=16).
The machine is shared: the load average before and after is printed next to the numbers, and
"per CPU-s" divides by the CPU time this process got rather than by wall-clock time.

Output: a table, or with --json one JSON object per line (one per vocoder, each carrying the
environment and the mel). Arguments and input files are checked before torch is imported: bad input
(an unknown vocoder, a missing checkpoint, wav or metadata file, a malformed --kw) is one `error:` line
and exit status 2, any other failure exit status 1 (bench/report.py); --verbose shows the traceback.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.report import ArgumentParser, BadInput, positive_float, positive_int, run  # noqa: E402

if TYPE_CHECKING:
    import torch

    from tts.core.vocoder import Vocoder

RECIPES = {
    "waveglow": ROOT / "recipes/default_voice/waveglow_small.yaml",
    "wavernn": ROOT / "recipes/vocoders/wavernn_small.yaml",
    "flowavenet": ROOT / "recipes/vocoders/flowavenet_small.yaml",
}
PRESETS: dict[str, tuple[str, dict[str, Any]]] = {  # label -> (model, config overrides for random weights)
    "wavernn:dense": ("wavernn", {"prune_target": 0.0}),
    "wavernn:subscale": ("wavernn", {"subscale_factor": 8, "subscale_horizon": 16, "subscale_past": 16}),
}
DEFAULT_VOCODERS = "griffin-lim,waveglow,wavernn,wavernn:dense,flowavenet"
RANDOM_WEIGHTS = ("griffin-lim", "waveglow", "wavernn", "flowavenet")  # what `random_vocoder` builds


# --------------------------------------------------------------------------- building vocoders


def recipe_model_config(name: str, path: str | Path | None) -> tuple[dict[str, Any], str]:
    path = Path(path) if path else RECIPES.get(name)
    if path is None or not path.is_file():
        return {}, "published defaults"
    shown = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
    return dict(yaml.safe_load(path.read_text()).get("model") or {}), str(shown)


def random_vocoder(name: str, config: dict[str, Any]) -> tuple[Vocoder, str]:
    """A vocoder with random weights for speed measurements, and a note on what was built."""
    if name == "griffin-lim":
        from vocoder.griffin_lim import GriffinLim

        return GriffinLim(), "no weights"
    if name == "waveglow":
        from vocoder.waveglow import WaveGlow, WaveGlowConfig

        return WaveGlow(WaveGlowConfig.from_dict(config)).prepare_for_inference(), "random weights"
    if name == "wavernn":
        from vocoder.wavernn import WaveRNN, WaveRNNConfig

        model = WaveRNN(WaveRNNConfig.from_dict(config)).eval()
        c = model.config
        note = "random weights"
        if c.prune_target > 0:  # the mask a finished schedule leaves, so the sparse path is timed
            model.update_pruning(c.prune_start + c.prune_steps, force=True)
            note += f", pruned to {model.sparsity:.0%} in {c.prune_block[0]}x{c.prune_block[1]} blocks"
        if c.subscale:
            note += f", subscale S={c.subscale_factor} F={c.subscale_horizon}"
        return model, note
    if name == "flowavenet":
        from vocoder.flowavenet import FloWaveNet, FloWaveNetConfig

        return FloWaveNet(FloWaveNetConfig.from_dict(config)).eval(), "random weights"
    raise ValueError(f"no random-weight builder for {name!r}")


def checkpoint_vocoder(name: str, path: str) -> Vocoder:
    """Through the registry; wavernn / flowavenet also directly while they are not registered yet."""
    from vocoder.registry import VOCODERS

    if name in VOCODERS.names():
        return VOCODERS.load(name, path)
    if name == "wavernn":
        from vocoder.wavernn import load_wavernn

        return load_wavernn(path)
    if name == "flowavenet":
        from vocoder.flowavenet import load_flowavenet

        return load_flowavenet(path)
    raise BadInput(f"unknown vocoder {name!r}; registered: {', '.join(VOCODERS.names())}")


# --------------------------------------------------------------------------- inputs


def harmonic_audio(seconds: float, sample_rate: int | None = None) -> torch.Tensor:
    """A voiced-speech stand-in: harmonics of a gliding 110-150 Hz f0 under a 3 Hz syllable envelope."""
    import torch

    from tts.core.audio import DEFAULT_AUDIO

    sample_rate = sample_rate or DEFAULT_AUDIO.sampling_rate
    t = torch.arange(int(seconds * sample_rate), dtype=torch.float64) / sample_rate
    f0 = 130 + 20 * torch.sin(2 * math.pi * 0.5 * t)
    phase = 2 * math.pi * torch.cumsum(f0, 0) / sample_rate
    voiced = sum(torch.sin(k * phase) / k for k in range(1, 40))
    envelope = (0.5 - 0.5 * torch.cos(2 * math.pi * 3 * t)) ** 2
    x = voiced * envelope
    return (0.5 * x / x.abs().max()).float()


def speed_mel(wav: str | None, seconds: float) -> tuple[torch.Tensor, str]:
    from tts.core.audio import DEFAULT_AUDIO, load_wav, mel_spectrogram

    if wav:
        audio = load_wav(wav)[: int(seconds * DEFAULT_AUDIO.sampling_rate)]
        source = wav
    else:
        audio = harmonic_audio(seconds)
        source = "synthetic harmonic signal"
    frames = audio.numel() // DEFAULT_AUDIO.hop_length
    return mel_spectrogram(audio)[None, :, :frames], source


# --------------------------------------------------------------------------- measurements


def time_synthesis(vocoder: Vocoder, mel: torch.Tensor, kwargs: dict[str, Any], repeats: int) -> dict[str, float]:
    vocoder(mel[:, :, : min(8, mel.shape[2])], **kwargs)  # warm-up: TorchScript compile, allocator
    times, cpu_times = [], []
    for _ in range(repeats):
        start, cpu_start = time.perf_counter(), time.process_time()
        audio = vocoder(mel, **kwargs)
        times.append(time.perf_counter() - start)
        cpu_times.append(time.process_time() - cpu_start)
    seconds = statistics.median(times)
    rate = audio.shape[1] / seconds
    # per CPU-second of this process: what the cores it actually got delivered (less sensitive to
    # other processes competing for the machine than the wall-clock rate)
    cpu_rate = audio.shape[1] / statistics.median(cpu_times)
    return {"seconds": seconds, "samples_per_s": rate, "x_real_time": rate / vocoder.sample_rate,
            "samples_per_cpu_s": cpu_rate}


def quality(vocoder: Vocoder, items, wav_dir: Path, kwargs: dict[str, Any], evaluator) -> dict[str, float | None]:
    """Copy synthesis (recording -> mel -> vocoder) of held-out clips, scored like tts.evaluate."""
    from tts.core.audio import load_wav, mel_spectrogram

    rows = []
    for item in items:
        audio = load_wav(wav_dir / f"{item.id}.wav", vocoder.audio)
        frames = audio.numel() // vocoder.audio.hop_length
        mel = mel_spectrogram(audio, vocoder.audio)[None, :, :frames]
        start = time.perf_counter()
        out = vocoder(mel, **kwargs)[0].numpy()
        rows.append(evaluator.score(item, out, vocoder.sample_rate, synthesis_s=time.perf_counter() - start))
    return summarize(rows)


def summarize(rows) -> dict[str, float | None]:
    words = sum(r.reference_words or 0 for r in rows if r.errors is not None)
    errors = sum(r.errors for r in rows if r.errors is not None)
    ovrl = [r.ovrl for r in rows if r.ovrl is not None]
    return {"wer": errors / words if words else None, "dnsmos_ovrl": statistics.mean(ovrl) if ovrl else None,
            "clips": len(rows)}


# --------------------------------------------------------------------------- command line


def parse_pairs(values: list[str], what: str) -> dict[str, str]:
    out = {}
    for value in values:
        key, sep, rest = value.partition("=")
        if not sep or not key or not rest:
            raise BadInput(f"{what} must look like NAME=VALUE, got {value!r}")
        out[key] = rest
    return out


def parse_kwargs(values: list[str]) -> dict[str, dict[str, Any]]:
    """--kw NAME:key=value (value parsed as YAML: numbers, booleans, null); NAME may be a preset
    label such as wavernn:dense (a model name applies to its presets too)."""
    out: dict[str, dict[str, Any]] = {}
    for value in values:
        lhs, eq, raw = value.partition("=")
        name, sep, key = lhs.rpartition(":")
        if not sep or not eq or not key or not name:
            raise BadInput(f"--kw must look like NAME:key=value, got {value!r}")
        out.setdefault(name, {})[key] = yaml.safe_load(raw)
    return out


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = ArgumentParser(description=__doc__.split("\n\n")[0], epilog=__doc__.split("\n\n", 1)[1])
    p.add_argument("--vocoders", default=DEFAULT_VOCODERS, help="comma-separated")
    p.add_argument("--checkpoint", action="append", default=[], metavar="NAME=PATH",
                   help="trained weights (repeatable)")
    p.add_argument("--config", action="append", default=[], metavar="NAME=YAML", help="recipe for random weights")
    p.add_argument("--kw", action="append", default=[], metavar="NAME:key=value", help="synthesis keyword (repeatable)")
    p.add_argument("--wav", help="speed mel from this recording (default: a synthetic harmonic signal)")
    p.add_argument("--seconds", type=positive_float, default=2.0, help="length of the speed mel")
    p.add_argument("--repeats", type=positive_int, default=3, help="timed runs per vocoder; the median is reported")
    p.add_argument("--threads", type=positive_int,
                   help="torch threads (default: torch's; WaveRNN's sample loop uses 1 unless --kw wavernn:threads=N)")
    p.add_argument("--quality", action="store_true", help="WER + DNSMOS of copy synthesis (trained checkpoints only)")
    p.add_argument("--metadata", help="held-out clips: LJSpeech 'id|text[|normalized]' (for --quality)")
    p.add_argument("--wavs", help="folder of <id>.wav for --metadata")
    p.add_argument("--limit", type=positive_int, default=20, help="clips scored per vocoder")
    p.add_argument("--json", action="store_true", help="one JSON object per vocoder (with the environment) per line")
    args = p.parse_args(argv)
    args.checkpoints = parse_pairs(args.checkpoint, "--checkpoint")
    args.configs = parse_pairs(args.config, "--config")
    args.kwargs = parse_kwargs(args.kw)
    args.labels = [v.strip() for v in args.vocoders.split(",") if v.strip()]
    check_inputs(args)
    return args


def check_inputs(args: argparse.Namespace) -> None:
    """Every name known and every file there, before anything heavy is imported or built."""
    if not args.labels:
        raise BadInput("--vocoders names no vocoder")
    for label in args.labels:
        if ":" in label and label not in PRESETS:
            raise BadInput(f"unknown preset {label!r}; presets: {', '.join(PRESETS)}")
        if label not in PRESETS and label not in RANDOM_WEIGHTS and label not in args.checkpoints:
            raise BadInput(f"unknown vocoder {label!r}: give --checkpoint {label}=PATH, or one of "
                           f"{', '.join(RANDOM_WEIGHTS + tuple(PRESETS))}")
    files = [("--checkpoint", path) for path in args.checkpoints.values()]
    files += [("--config", path) for path in args.configs.values()]
    files += [("--wav", args.wav), ("--metadata", args.metadata)]
    for option, path in files:
        if path is not None and not Path(path).is_file():
            raise BadInput(f"{option} {path}: no such file")
    if args.quality and not (args.metadata and args.wavs):
        raise BadInput("--quality needs --metadata and --wavs (held-out clips of the default voice)")
    if args.wavs is not None and not Path(args.wavs).is_dir():
        raise BadInput(f"--wavs {args.wavs}: no such folder")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    import torch

    from tts.core.audio import DEFAULT_AUDIO, load_wav

    if args.threads:
        torch.set_num_threads(args.threads)
    checkpoints, configs, kwargs = args.checkpoints, args.configs, args.kwargs
    mel, source = speed_mel(args.wav, args.seconds)

    evaluator, items, wav_dir = None, [], None
    if args.quality:
        from tts.evaluate import Evaluator, read_metadata

        try:
            items, wav_dir = read_metadata(args.metadata)[: args.limit], Path(args.wavs)
        except ValueError as exc:  # a malformed metadata file
            raise BadInput(str(exc)) from exc
        evaluator = Evaluator(threads=torch.get_num_threads())

    load_before = os.getloadavg()
    results = []
    if evaluator is not None:  # the recordings themselves: the ceiling the vocoders aim at
        rate = DEFAULT_AUDIO.sampling_rate
        rows = [evaluator.score(it, load_wav(wav_dir / f"{it.id}.wav").numpy(), rate) for it in items]
        results.append({"vocoder": "recordings", "weights": "(ground truth)", "params_m": None, "samples_per_s": None,
                        "x_real_time": None, "samples_per_cpu_s": None, **summarize(rows)})
    for label in args.labels:
        name, overrides = PRESETS.get(label, (label, {}))
        trained = name in checkpoints and label == name
        if trained:
            vocoder = checkpoint_vocoder(name, checkpoints[name])
            weights = checkpoints[name]
        else:
            config, recipe = recipe_model_config(name, configs.get(name))
            vocoder, weights = random_vocoder(name, {**config, **overrides})
            weights = f"{weights} ({recipe})" if name != "griffin-lim" else weights
        kw = {**kwargs.get(name, {}), **kwargs.get(label, {})}
        row = {"vocoder": label, "weights": weights, "params_m": sum(p.numel() for p in vocoder.parameters()) / 1e6,
               **time_synthesis(vocoder, mel, kw, args.repeats), "kwargs": kw}
        if evaluator is not None and (trained or not vocoder.needs_weights):
            row.update(quality(vocoder, items, wav_dir, kw, evaluator))
        results.append(row)
        print(f"  {label}: {row['samples_per_s']:.0f} samples/s", file=sys.stderr)

    report = {
        "environment": {"torch": torch.__version__, "threads": torch.get_num_threads(), "cpus": os.cpu_count(),
                        "load_average_before": load_before, "load_average_after": os.getloadavg()},
        "mel": {"source": source, "seconds": mel.shape[2] * DEFAULT_AUDIO.hop_length / DEFAULT_AUDIO.sampling_rate,
                "frames": mel.shape[2]},
        "results": results,
    }
    if args.json:
        for row in results:
            print(json.dumps({**row, "environment": report["environment"], "mel": report["mel"]}), flush=True)
        return 0
    print_table(report)
    return 0


def print_table(report: dict[str, Any]) -> None:
    def fmt(value, spec: str) -> str:
        return "-" if value is None else format(value, spec)

    env, mel = report["environment"], report["mel"]
    print(f"mel: {mel['source']}, {mel['seconds']:.2f} s ({mel['frames']} frames); torch {env['torch']}, "
          f"{env['threads']} threads, {env['cpus']} cpus, load average {env['load_average_before'][0]:.1f} -> "
          f"{env['load_average_after'][0]:.1f}")
    header = (f"{'vocoder':<18} {'params':>8} {'samples/s':>10} {'x real time':>11} {'per CPU-s':>10} {'WER':>6} "
              f"{'DNSMOS':>6}  weights")
    print(header)
    print("-" * len(header))
    for r in report["results"]:
        print(f"{r['vocoder']:<18} {fmt(r['params_m'], '7.2f') + 'M' if r['params_m'] is not None else '-':>8} "
              f"{fmt(r['samples_per_s'], '10.0f'):>10} {fmt(r['x_real_time'], '11.2f'):>11} "
              f"{fmt(r.get('samples_per_cpu_s'), '10.0f'):>10} {fmt(r.get('wer'), '6.3f'):>6} "
              f"{fmt(r.get('dnsmos_ovrl'), '6.2f'):>6}  {r['weights']}")


if __name__ == "__main__":
    sys.exit(run(main))

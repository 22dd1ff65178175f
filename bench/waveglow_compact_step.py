"""Training step time of the compact WaveGlow against the project's small WaveGlow, same run, same batch.

One step = the trainer's batch (`AudioMelCollate`: the mels of the audio) + its loss (`batch_losses`:
flow forward, WaveGlowLoss) + backward + its Adam (`tts.training.loop.make_optimizer`), on a batch of
`--batch` segments of `--segment` samples (a speech-like signal, so the mels are realistic). The models are built from their recipe configs; the baseline is
`recipes/default_voice/waveglow_small.yaml` (12.1 M parameters, n_group 8), the compact one
`recipes/default_voice/waveglow_compact.yaml`, and the default voice's shipped configuration
`recipes/default_voice/waveglow_compact_pulse.yaml` (linear prediction, glottal pulses at the signal's
own periods, the pitch predictor's loss added).

    python3 bench/waveglow_compact_step.py                        # 1 thread, batch 8 x 8192, table
    python3 bench/waveglow_compact_step.py --threads 2 --steps 10 --json
    python3 bench/waveglow_compact_step.py --precision bf16       # compact model under bf16 autocast too
    python3 bench/waveglow_compact_step.py --compile              # + both compact recipes compiled (train.compile)

Output: a table, or with --json one JSON object per line (one per model and precision). Arguments are
checked before torch is imported: a bad value is one `error:` line and exit status 2, any other failure
exit status 1 (bench/report.py); --verbose shows the traceback.
"""
from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.report import ArgumentParser, emit, positive_int, print_table, run  # noqa: E402

if TYPE_CHECKING:
    import torch

BASELINE = ROOT / "recipes/default_voice/waveglow_small.yaml"
COMPACT = ROOT / "recipes/default_voice/waveglow_compact.yaml"
PULSE = ROOT / "recipes/default_voice/waveglow_compact_pulse.yaml"


def speechlike_batch(batch: int, segment: int, seed: int = 0) -> tuple[torch.Tensor, list[float]]:
    """[batch, segment] harmonic audio with a syllable envelope and noise bursts, different per row,
    and each row's F0 in Hz."""
    import torch

    g = torch.Generator().manual_seed(seed)
    t = torch.arange(segment, dtype=torch.float64) / 22050
    rows, f0s = [], []
    for _ in range(batch):
        f0 = 100 + 80 * torch.rand((), generator=g, dtype=torch.float64)
        f0s.append(float(f0))
        phase = 2 * torch.pi * f0 * t
        voiced = sum(torch.sin(k * phase) / k for k in range(1, 30))
        envelope = (0.5 - 0.5 * torch.cos(2 * torch.pi * 3 * t)) ** 2
        noise = 0.05 * torch.randn(segment, generator=g, dtype=torch.float64)
        x = voiced * envelope + noise
        rows.append(0.5 * x / x.abs().max())
    return torch.stack(rows).float(), f0s


def training_batch(audio: torch.Tensor, f0s: list[float], cfg: dict):
    """The trainer's batch (`vocoder.segments.AudioMelCollate`, mels computed from the audio) of the signal,
    with `lp_order` samples of silent history; for a model with pulse excitation also a pulse at each of
    its periods and every frame voiced at its F0."""
    import torch

    from tts.core.audio import DEFAULT_AUDIO
    from vocoder.segments import AudioMelCollate, SegmentItem

    model = cfg["model"] or {}
    context = int(model.get("lp_order", 0))
    rows = [torch.cat([torch.zeros(context), row]) for row in audio]
    if not model.get("pulse_excitation"):
        return AudioMelCollate(DEFAULT_AUDIO, context)(rows)
    frames = audio.shape[1] // DEFAULT_AUDIO.hop_length + 1
    items = []
    for row, with_history, f0 in zip(audio, rows, f0s):
        pulses = torch.zeros_like(row)
        pulses[torch.arange(0.0, row.numel(), DEFAULT_AUDIO.sampling_rate / f0).long()] = 1.0
        items.append(SegmentItem(with_history, None, pulses, torch.full((frames,), f0)))
    return AudioMelCollate(DEFAULT_AUDIO, context)(items)


def time_steps(config_path: Path, audio: torch.Tensor, f0s: list[float], steps: int, precision: str,
               compiled: bool = False) -> dict:
    import torch

    from tts.training.loop import make_optimizer
    from vocoder import train as vtrain
    from vocoder.waveglow.compiled import compile_couplings

    cfg = vtrain.load_config(config_path)
    torch.manual_seed(0)
    model = vtrain.build_model(cfg).train()
    if compiled:
        compile_couplings(model)  # compiled during the warm-up steps, not timed
    optimizer, _ = make_optimizer(model, cfg["optimizer"])  # the trainer's (fused) Adam
    times = []
    for i in range(steps + 2):  # the first two steps warm up the allocator
        start = time.perf_counter()
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=precision == "bf16"):
            # the collate's mels, then the trainer's loss (the flows' NLL; + the pitch loss with pulses)
            loss = vtrain.batch_losses(model, training_batch(audio, f0s, cfg), cfg)["loss"]
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        if i >= 2:
            times.append(time.perf_counter() - start)
    params = sum(p.numel() for p in model.parameters())
    return {"config": config_path.name + (" compiled" if compiled else ""), "precision": precision,
            "params_m": round(params / 1e6, 2),
            "s_per_step": statistics.median(times), "min_s": min(times), "max_s": max(times),
            "final_loss": float(loss.detach())}


def main(argv=None) -> int:
    p = ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--threads", type=positive_int, default=1, help="torch intra-op threads")
    p.add_argument("--batch", type=positive_int, default=8, help="segments per step")
    p.add_argument("--segment", type=positive_int, default=8192, help="samples per segment")
    p.add_argument("--steps", type=positive_int, default=5, help="timed steps per model (after 2 warm-up steps)")
    p.add_argument("--baseline-steps", type=positive_int, default=3, help="timed steps of the (slow) baseline")
    p.add_argument("--precision", choices=("fp32", "bf16"), default="fp32", help="the compact model's precision")
    p.add_argument("--compile", action="store_true",
                   help="also time both compact recipes with their coupling networks compiled (train.compile); "
                        "compiling adds minutes before those rows")
    p.add_argument("--json", action="store_true", help="one JSON object per line instead of a table")
    args = p.parse_args(argv)
    import torch

    torch.set_num_threads(args.threads)
    audio, f0s = speechlike_batch(args.batch, args.segment)
    rows = [time_steps(BASELINE, audio, f0s, args.baseline_steps, "fp32"),
            time_steps(COMPACT, audio, f0s, args.steps, "fp32"),
            time_steps(PULSE, audio, f0s, args.steps, "fp32")]
    if args.precision == "bf16":
        rows.append(time_steps(COMPACT, audio, f0s, args.steps, "bf16"))
    if args.compile:
        rows += [time_steps(COMPACT, audio, f0s, args.steps, "fp32", compiled=True),
                 time_steps(PULSE, audio, f0s, args.steps, "fp32", compiled=True)]
    base = rows[0]["s_per_step"]
    for row in rows:
        row["speedup_vs_small_waveglow"] = round(base / row["s_per_step"], 2)
        row["hours_per_100k_steps"] = round(row["s_per_step"] * 1e5 / 3600, 1)
    print(f"batch {args.batch} x {args.segment} samples, {args.threads} thread(s), median of timed steps",
          file=sys.stderr)
    emit(rows, args.json, lambda table: print_table(table, [
        ("config", "config", ""), ("precision", "precision", ""), ("params M", "params_m", ".2f"),
        ("s/step", "s_per_step", ".3f"), ("min", "min_s", ".3f"), ("max", "max_s", ".3f"),
        ("x faster than small", "speedup_vs_small_waveglow", ".2f"), ("h per 100k", "hours_per_100k_steps", ".1f")]))
    return 0


if __name__ == "__main__":
    sys.exit(run(main))

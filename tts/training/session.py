"""Starting a training run from the command line, shared by `python -m tts.train` and
`python -m vocoder.train`: the common options, the session (overrides, threads, process group,
device, run directory), resume-or-start, and the error contract of an entry point."""
from __future__ import annotations

import argparse
import contextlib
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

import torch

from tts.core.config import dump_yaml
from tts.core.device import check_precision, resolve_device
from tts.core.serialization import CheckpointError
from tts.training.data import check_corpus
from tts.training.loop import DistInfo, RunDirectory, Trainer, cleanup_distributed, init_distributed, seed_everything


def make_parser(prog: str, doc: str, config_help: str) -> argparse.ArgumentParser:
    """A trainer's command line with the options every trainer takes (see `add_common_arguments`); its
    module docstring `doc` is the help text (first paragraph: the description; the rest: the epilog)."""
    description, _, epilog = doc.partition("\n\n")
    parser = argparse.ArgumentParser(prog=prog, description=description, epilog=epilog,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    add_common_arguments(parser, config_help)
    return parser


def add_common_arguments(parser: argparse.ArgumentParser, config_help: str) -> None:
    """The options every trainer takes: --config, --run-dir, --resume, --max-steps, --device, --verbose."""
    parser.add_argument("--config", required=True, help=config_help)
    parser.add_argument("--run-dir", help="output folder (default: train.run_dir or runs/<config stem>)")
    parser.add_argument("--resume", default=None,
                        help="'auto' = latest checkpoint in the run dir if any; or a checkpoint path")
    parser.add_argument("--max-steps", type=int, help="stop after this many optimizer steps (overrides train.steps)")
    parser.add_argument("--device", help="cpu, cuda, cuda:1 ... (overrides train.device)")
    parser.add_argument("--verbose", action="store_true", help="show the traceback of an error")


@dataclass
class Session:
    """What a training run needs before it builds its model: where it writes, where it runs, who it is."""

    run: RunDirectory
    device: torch.device
    dist_info: DistInfo


@contextlib.contextmanager
def training_session(args: argparse.Namespace, cfg: dict[str, Any], prefix: str) -> Iterator[Session]:
    """Apply the command line's overrides to `cfg["train"]`, set the threads, join the process group
    (torchrun), check the device and precision and create the run directory; leave the group after."""
    if args.max_steps is not None:
        cfg["train"]["steps"] = args.max_steps
    if args.device:
        cfg["train"]["device"] = args.device
    t = cfg["train"]
    check_corpus(cfg["data"]["corpus"])  # before anything is created: a refused run leaves no empty folders
    run_dir = Path(args.run_dir or t["run_dir"] or Path("runs") / Path(args.config).stem)
    if t["num_threads"]:
        torch.set_num_threads(int(t["num_threads"]))
    dist_info = init_distributed(resolve_device(t["device"]).type)
    try:
        device = resolve_device(t["device"], dist_info.local_rank, check=True)
        check_precision(t["precision"], device)
        run = RunDirectory(run_dir, prefix, t["keep_last"])
        if dist_info.is_main:
            run.make()
        yield Session(run, device, dist_info)
    finally:
        cleanup_distributed(dist_info)


def start(trainer: Trainer, resume_path: Path | None, summary: str,
          fresh_start: Callable[[], None] | None = None) -> Trainer:
    """Resume from `resume_path`, or start afresh (`fresh_start()`, e.g. a warm start, then the
    rank's own seed: different dropout masks per rank); write the run's config, print `summary`,
    train to the end. Returns the trainer."""
    from tqdm import tqdm

    info, seed = trainer.dist, int(trainer.cfg["train"]["seed"])
    if resume_path is not None:
        trainer.resume(resume_path)
        if info.is_main:
            tqdm.write(f"resumed from {resume_path} at step {trainer.step} "
                       f"(epoch {trainer.epoch}, batch {trainer.batch_in_epoch})")
    else:
        if fresh_start is not None:
            fresh_start()
        seed_everything(seed + 1000 * info.rank)
    if info.is_main:
        dump_yaml(trainer.cfg, trainer.run.root / "config.yaml")
        tqdm.write(summary)
    trainer.fit()
    return trainer


def run_cli(run: Callable[[Sequence[str] | None], Any], argv: Sequence[str] | None, prog: str) -> int:
    """A trainer's `main`: bad configs and inputs are one `error:` line and exit status 2 (the
    traceback with --verbose), an interrupt exits 130; anything else propagates."""
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        run(argv)
    except (ValueError, FileNotFoundError, CheckpointError) as exc:
        if "--verbose" in argv:
            raise
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{prog}: error: interrupted", file=sys.stderr)
        return 130
    return 0

"""Two-process DistributedDataParallel training on CPU (gloo), as torchrun would run it."""
from __future__ import annotations

import socket
from pathlib import Path

import torch
import torch.multiprocessing as mp
import yaml

from tests.test_training import TINY_TACOTRON, make_corpus


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _join_as_rank(rank: int, world_size: int, port: int) -> None:
    """Set what torchrun sets for each process; one thread per process."""
    import os

    os.environ.update({"MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(port), "WORLD_SIZE": str(world_size),
                       "RANK": str(rank), "LOCAL_RANK": str(rank)})
    torch.set_num_threads(1)


def _write_config(tmp_path: Path, steps: int, checkpoint_every: int) -> Path:
    """A tiny Tacotron 2 run on an 18-clip corpus, batch 2 per rank."""
    corpus = make_corpus(tmp_path / "corpus", n=18)
    config = tmp_path / "c.yaml"
    config.write_text(yaml.safe_dump({
        "model": TINY_TACOTRON,
        "data": {"corpus": str(corpus), "cache_dir": str(tmp_path / "cache"), "batch_size": 2, "val_size": 2,
                 "precompute_workers": 1},
        "train": {"steps": steps, "checkpoint_every": checkpoint_every, "validate_every": 1000, "log_every": 1,
                  "num_threads": 1},
    }))
    return config


def _worker(rank: int, world_size: int, port: int, config: str, run_dir: str, out_dir: str) -> None:
    _join_as_rank(rank, world_size, port)
    from tts.tacotron2.train import run_training

    trainer = run_training(["--config", config, "--run-dir", run_dir])
    params = {k: v.detach().clone() for k, v in trainer.model.named_parameters()}
    torch.save(params, Path(out_dir) / f"rank{rank}.pt")
    torch.save([b for b in trainer.sampler.batches_of_epoch(0)], Path(out_dir) / f"batches{rank}.pt")


def test_two_process_ddp_on_cpu(tmp_path):
    config = _write_config(tmp_path, steps=3, checkpoint_every=3)
    run_dir = tmp_path / "run"
    mp.spawn(_worker, args=(2, _free_port(), str(config), str(run_dir), str(tmp_path)), nprocs=2, join=True)

    rank0, rank1 = torch.load(tmp_path / "rank0.pt"), torch.load(tmp_path / "rank1.pt")
    assert rank0.keys() == rank1.keys()
    # gradients were averaged: every rank ends with the same weights (BatchNorm running statistics are
    # buffers, which DDP broadcasts from rank 0 before each forward; rank 0's are the ones saved)
    for key in rank0:
        assert torch.equal(rank0[key], rank1[key]), key
    # ... after training on different batches
    b0, b1 = torch.load(tmp_path / "batches0.pt"), torch.load(tmp_path / "batches1.pt")
    assert not {i for b in b0 for i in b} & {i for b in b1 for i in b}
    # only rank 0 writes, and what it wrote is the trained model (no `module.` prefixes)
    assert [p.name for p in (run_dir / "checkpoints").glob("*.pt")] == ["tacotron2_step0000003.pt"]
    from tts import load_tacotron2

    saved = load_tacotron2(run_dir / "checkpoints" / "tacotron2_step0000003.pt").state_dict()
    for key in rank0:
        assert torch.equal(saved[key], rank0[key]), key
    records = (run_dir / "train_log.jsonl").read_text().splitlines()
    assert len(records) == 3  # one log line per step, from rank 0 only
    ckpt = torch.load(run_dir / "checkpoints" / "tacotron2_step0000003.pt", weights_only=True)
    assert len(ckpt["extra"]["rng"]) == 2  # both ranks' RNG states, for an exact resume


def _worker_killed(rank: int, world_size: int, port: int, config: str, run_dir: str) -> None:
    """Like `_worker`, but rank 1 alone gets SIGTERM during the 2nd step (as from `kill <pid>`)."""
    import signal

    _join_as_rank(rank, world_size, port)
    from tts.tacotron2.train import run_training
    from tts.training import loop as training_utils

    original_step = training_utils.Trainer.train_step

    def step_then_signal(self, batch):
        if rank == 1 and self.step == 1:
            signal.raise_signal(signal.SIGTERM)
        return original_step(self, batch)

    training_utils.Trainer.train_step = step_then_signal
    trainer = run_training(["--config", config, "--run-dir", run_dir])
    assert trainer.step == 2, trainer.step


def test_a_signal_to_one_rank_stops_every_rank_at_the_same_step_with_a_checkpoint(tmp_path):
    config = _write_config(tmp_path, steps=6, checkpoint_every=100)
    run_dir = tmp_path / "run"
    mp.spawn(_worker_killed, args=(2, _free_port(), str(config), str(run_dir)), nprocs=2, join=True)
    assert [p.name for p in (run_dir / "checkpoints").glob("*.pt")] == ["tacotron2_step0000002.pt"]

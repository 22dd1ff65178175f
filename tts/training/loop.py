"""Generic training machinery shared by the Tacotron 2 and WaveGlow trainers.

Everything here is model-agnostic: YAML configs, precision contexts, learning-rate schedules,
RNG capture/restore (for loss curves that continue *exactly* after a resume), a run directory
with rotating checkpoints and a `latest` pointer, a jsonl loss log, and torch.distributed setup
(`torchrun` sets WORLD_SIZE/RANK/LOCAL_RANK/MASTER_ADDR/MASTER_PORT; gloo on CPU, nccl on CUDA).
"""
from __future__ import annotations

import copy
import json
import math
import os
import random
import re
import signal
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping

import numpy as np
import torch
import torch.distributed as dist

from tts.core.config import dump_yaml
from tts.core.device import autocast, make_grad_scaler
from tts.core.serialization import CheckpointError, read_checkpoint


# --------------------------------------------------------------------------- schedules


@dataclass
class ExponentialDecay:
    """Learning-rate factor: 1 until `start`, then halves every `half_life` steps, never below `final_factor`.

    Tacotron 2's paper schedule (1e-3 decaying exponentially towards 1e-5 after 50k steps) is
    `start=50000, final_factor=0.01`. A plain object (not a closure) so LambdaLR can checkpoint it.
    """

    start: int = 0
    half_life: float = 0.0  # 0 = no decay
    final_factor: float = 1.0

    def __call__(self, step: int) -> float:
        if self.half_life <= 0 or step < self.start:
            return 1.0
        return max(self.final_factor, 0.5 ** ((step - self.start) / self.half_life))


def make_scheduler(optimizer: torch.optim.Optimizer, decay: ExponentialDecay) -> torch.optim.lr_scheduler.LambdaLR:
    return torch.optim.lr_scheduler.LambdaLR(optimizer, decay)


def make_optimizer(model: torch.nn.Module, o: Mapping[str, Any], lr_scales: Mapping[str, float] | None = None):
    """Adam with the config's `optimizer` section (lr, betas, eps, weight_decay) and its learning-rate
    schedule (constant until decay_start, then halving every decay_half_life steps down to final_lr).
    `lr_scales` maps a parameter-name prefix to a factor on the learning rate of the parameters under it
    (their own parameter group); a factor of 1 adds no group."""
    lr = float(o["lr"])
    params = list(model.parameters())
    scaled = {prefix: factor for prefix, factor in (lr_scales or {}).items() if float(factor) != 1.0}
    groups: list[dict[str, Any]] = [{"params": []}] + [{"params": [], "lr": lr * float(f)} for f in scaled.values()]
    for name, p in model.named_parameters():
        index = next((i for i, prefix in enumerate(scaled, 1) if name.startswith(prefix)), 0)
        groups[index]["params"].append(p)
    empty = [prefix for prefix, group in zip(scaled, groups[1:]) if not group["params"]]
    if empty:
        raise ValueError(f"no parameter's name starts with {empty[0]!r} (a learning-rate scale for it was given)")
    # one fused kernel for every parameter instead of a loop over ~1,000 small tensors (weight norm's g and
    # v, biases): the compact WaveGlow's Adam step 44 -> 13 ms on one CPU thread; the same update rule
    fused = all(p.is_floating_point() and p.device.type in ("cpu", "cuda") for p in params)
    optimizer = torch.optim.Adam(groups if scaled else params, lr=lr, betas=tuple(float(b) for b in o["betas"]),
                                 eps=float(o["eps"]), weight_decay=float(o["weight_decay"]), fused=fused or None)
    schedule = ExponentialDecay(start=int(o["decay_start"]), half_life=float(o["decay_half_life"]),
                                final_factor=float(o["final_lr"]) / lr)
    return optimizer, make_scheduler(optimizer, schedule)


# --------------------------------------------------------------------------- RNG state


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def rng_state() -> dict[str, Any]:
    """All global RNG states as plain tensors/lists (loadable with `weights_only=True`)."""
    np_kind, np_keys, np_pos, np_has_gauss, np_gauss = np.random.get_state()
    py_version, py_state, py_gauss = random.getstate()
    state = {
        "torch": torch.get_rng_state(),
        "numpy": {"kind": np_kind, "keys": torch.from_numpy(np_keys.astype(np.int64)), "pos": int(np_pos),
                  "has_gauss": int(np_has_gauss), "gauss": float(np_gauss)},
        "python": {"version": py_version, "state": list(py_state), "gauss": py_gauss},
    }
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: Mapping[str, Any]) -> None:
    torch.set_rng_state(state["torch"])
    n = state["numpy"]
    np.random.set_state((n["kind"], n["keys"].numpy().astype(np.uint32), n["pos"], n["has_gauss"], n["gauss"]))
    p = state["python"]
    random.setstate((p["version"], tuple(p["state"]), p["gauss"]))
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


# --------------------------------------------------------------------------- distributed


@dataclass(frozen=True)
class DistInfo:
    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def enabled(self) -> bool:
        return self.world_size > 1


def init_distributed(device_type: str) -> DistInfo:
    """Join the process group described by torchrun's env vars when WORLD_SIZE > 1 (else single process)."""
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    if world_size <= 1:
        return DistInfo()
    rank = int(os.environ["RANK"])
    local_rank = int(os.environ.get("LOCAL_RANK", rank))
    if not dist.is_initialized():
        backend = "nccl" if device_type == "cuda" else "gloo"
        if device_type == "cuda":
            torch.cuda.set_device(local_rank)
        dist.init_process_group(backend=backend, init_method="env://", rank=rank, world_size=world_size)
    return DistInfo(rank=rank, world_size=world_size, local_rank=local_rank)


def cleanup_distributed(info: DistInfo) -> None:
    if info.enabled and dist.is_initialized():
        dist.destroy_process_group()


def barrier(info: DistInfo) -> None:
    if info.enabled:
        dist.barrier()


def all_reduce_mean(values: dict[str, float], info: DistInfo, device: torch.device) -> dict[str, float]:
    """Average scalar logs over ranks (for the log line only; gradients are averaged by DDP)."""
    if not info.enabled or not values:
        return values
    keys = sorted(values)
    t = torch.tensor([values[k] for k in keys], dtype=torch.float64, device=device)
    dist.all_reduce(t)
    t /= info.world_size
    return dict(zip(keys, t.tolist()))


# --------------------------------------------------------------------------- run directory


_STEP_RE = re.compile(r"_step(\d+)\.pt$")


class RunDirectory:
    """A training run's folder: `checkpoints/<prefix>_stepNNNNNNN.pt` (+ `.yaml` config beside each),
    a `latest` text file naming the newest checkpoint, `train_log.jsonl`, `config.yaml`, `plots/`."""

    def __init__(self, root: str | Path, prefix: str, keep_last: int = 5):
        if keep_last < 1:
            raise ValueError(f"keep_last must be >= 1, got {keep_last}")
        self.root = Path(root)
        self.prefix = prefix
        self.keep_last = keep_last
        self.checkpoints = self.root / "checkpoints"
        self.plots = self.root / "plots"
        self.log_path = self.root / "train_log.jsonl"

    def make(self) -> None:
        self.checkpoints.mkdir(parents=True, exist_ok=True)
        self.plots.mkdir(parents=True, exist_ok=True)

    def checkpoint_path(self, step: int) -> Path:
        return self.checkpoints / f"{self.prefix}_step{step:07d}.pt"

    def list_checkpoints(self) -> list[Path]:
        found = [(int(m.group(1)), p) for p in self.checkpoints.glob(f"{self.prefix}_step*.pt")
                 if (m := _STEP_RE.search(p.name))]
        return [p for _, p in sorted(found)]

    def latest(self) -> Path | None:
        """The checkpoint named in `latest`, falling back to the highest step present."""
        pointer = self.root / "latest"
        if pointer.is_file():
            path = self.root / pointer.read_text(encoding="utf-8").strip()
            if path.is_file():
                return path
        found = self.list_checkpoints()
        return found[-1] if found else None

    def after_save(self, path: Path, config: Mapping[str, Any]) -> None:
        """Write the config beside the checkpoint, move the `latest` pointer, delete old checkpoints."""
        dump_yaml(config, path.with_suffix(".yaml"))
        pointer = self.root / "latest"
        tmp = pointer.with_name("latest.tmp")
        tmp.write_text(str(path.relative_to(self.root)) + "\n", encoding="utf-8")
        tmp.replace(pointer)
        for old in self.list_checkpoints()[: -self.keep_last]:
            old.unlink(missing_ok=True)
            old.with_suffix(".yaml").unlink(missing_ok=True)

    def log(self, record: Mapping[str, Any]) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "a", encoding="utf-8") as f:
            f.write(json.dumps(dict(record), sort_keys=False) + "\n")


def resolve_resume(resume: str | None, run: RunDirectory) -> Path | None:
    """`--resume auto` = the run directory's latest checkpoint if any (else start fresh); a path = that file."""
    if resume in (None, "", "none"):
        return None
    if resume == "auto":
        return run.latest()
    path = Path(resume)
    if not path.is_file():
        raise CheckpointError(f"--resume: checkpoint not found: {path}")
    return path


def read_training_checkpoint(path: Path, model_name: str) -> dict[str, Any]:
    ckpt = read_checkpoint(path)
    if not isinstance(ckpt, Mapping) or ckpt.get("model") != model_name:
        raise CheckpointError(f"{path}: not a {model_name} training checkpoint of this project")
    extra = ckpt.get("extra", {})
    missing = [k for k in ("step", "optimizer", "scheduler", "rng", "sampler") if k not in extra]
    if missing:
        raise CheckpointError(f"{path}: cannot resume, the checkpoint lacks training state {missing} "
                              "(use --warm-start for weights-only checkpoints)")
    return ckpt


# --------------------------------------------------------------------------- the training loop


class StepTimer:
    """Exponential moving average of seconds per step (the first steps are slow: allocator warm-up)."""

    def __init__(self, smoothing: float = 0.1):
        self.smoothing = smoothing
        self.seconds_per_step: float | None = None
        self._last = time.perf_counter()

    def tick(self) -> None:
        now = time.perf_counter()
        dt, self._last = now - self._last, now
        if self.seconds_per_step is None:
            self.seconds_per_step = dt
        else:
            self.seconds_per_step += self.smoothing * (dt - self.seconds_per_step)

    def reset(self) -> None:
        """Restart the clock (after validation or saving, which are not training time)."""
        self._last = time.perf_counter()


LossFn = Callable[[torch.nn.Module, Any, int], "dict[str, torch.Tensor]"]
SaveFn = Callable[[torch.nn.Module, Path, "dict[str, Any]"], Any]
ValidateFn = Callable[[int], "dict[str, Any]"]


class StopRequest:
    """Turns SIGTERM / SIGINT into a request to stop after the current step (the trainer then saves a
    checkpoint, so `kill` or Ctrl-C loses no training). A second signal stops at once, as usual.

    Used as a context manager around the loop; outside it the previous handlers are back."""

    SIGNALS = (signal.SIGTERM, signal.SIGINT)

    def __init__(self) -> None:
        self.requested = False
        self._previous: dict[int, Any] = {}

    def _handle(self, signum: int, frame) -> None:
        if self.requested:  # the second signal: behave as if we had no handler
            self.__exit__(None, None, None)
            signal.raise_signal(signum)
            return
        self.requested = True
        print(f"\n{signal.Signals(signum).name}: stopping after this step and saving a checkpoint "
              "(send it again to stop now)", file=sys.stderr, flush=True)

    def __enter__(self) -> "StopRequest":
        import threading

        if threading.current_thread() is threading.main_thread():  # handlers can only be set there
            for sig in self.SIGNALS:
                self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def __exit__(self, *exc) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)
        self._previous.clear()

    def agreed(self, info: DistInfo, device: torch.device) -> bool:
        """True when any rank was asked to stop; every rank gets the same answer at the same step
        (so they all reach `save` together instead of one waiting forever in an all-reduce)."""
        if not info.enabled:
            return self.requested
        flag = torch.tensor([1.0 if self.requested else 0.0], device=device)
        dist.all_reduce(flag, op=dist.ReduceOp.MAX)
        return bool(flag.item())


class Trainer:
    """Optimizer steps over a bucketed DataLoader with clipping, mixed precision, DDP, logging,
    periodic validation and exactly resumable checkpoints. Model-specific parts come in as functions:

    * `loss_fn(train_model, batch, step) -> {"loss": total, other named terms...}` (the batch is
      already on the device; `train_model` is the DDP wrapper when distributed);
    * `save_fn(model, path, extra)` writes the project checkpoint (`extra` = training state);
    * `validate_fn(step) -> {name: value}` runs on rank 0 only (may be None).

    A checkpoint holds the step, optimizer / scheduler / grad-scaler state, every rank's RNG state
    and the sampler position (epoch, batch), so `resume` continues the same loss curve.
    """

    def __init__(self, *, name: str, model: torch.nn.Module, optimizer: torch.optim.Optimizer,
                 scheduler: torch.optim.lr_scheduler.LRScheduler, loader: torch.utils.data.DataLoader,
                 sampler, run: RunDirectory, cfg: Mapping[str, Any], device: torch.device, dist_info: DistInfo,
                 loss_fn: LossFn, save_fn: SaveFn, validate_fn: ValidateFn | None = None):
        self.name = name
        self.model = model
        self.optimizer = optimizer
        self.scheduler = scheduler
        self.loader = loader
        self.sampler = sampler
        self.run = run
        self.cfg = cfg
        self.t = cfg["train"]
        clip = cfg["optimizer"].get("grad_clip")
        self.grad_clip = math.inf if clip is None else float(clip)  # inf: measure the norm, clip nothing
        self.device = device
        self.dist = dist_info
        self.loss_fn = loss_fn
        self.save_fn = save_fn
        self.validate_fn = validate_fn
        self.scaler = make_grad_scaler(self.t["precision"], device)
        self.step = 0
        self.epoch = 0
        self.batch_in_epoch = 0
        self.train_model: torch.nn.Module = model
        if dist_info.enabled:
            self.train_model = torch.nn.parallel.DistributedDataParallel(
                model, device_ids=[device.index] if device.type == "cuda" else None)

    # -- state ---------------------------------------------------------------------------------------
    def resume(self, path: Path) -> list[str]:
        """Load the training state at `path`. Returns the optimizer settings this run's config changed
        since that checkpoint ("lr: 0.001 -> 0.0005"); the config's values apply from here on (loading
        the optimizer and scheduler state alone would silently bring the old ones back)."""
        ckpt = read_training_checkpoint(path, self.name)
        config = getattr(self.model, "config", None)
        if config is not None and ckpt.get("config") != config.to_dict():
            raise ValueError(f"{path}: the model config differs from this run's config; "
                             "start a new run directory (or warm-start from it)")
        self.model.load_state_dict(ckpt["state_dict"])
        extra = ckpt["extra"]
        configured = self._optimizer_settings()
        saved_groups = len(extra["optimizer"].get("param_groups", []))
        if saved_groups != len(self.optimizer.param_groups):
            raise ValueError(f"{path}: the optimizer has {len(self.optimizer.param_groups)} parameter groups in this "
                             f"config and {saved_groups} in the checkpoint (a learning-rate scale was added or removed); "
                             "start a new run directory (or warm-start from it)")
        self.optimizer.load_state_dict(extra["optimizer"])
        self.scheduler.load_state_dict(extra["scheduler"])
        saved = dict((extra.get("train_config") or {}).get("optimizer") or {})
        # a key the checkpoint lacks is an option added since (it ran with the default)
        changes = [f"{key}: {saved.get(key)} -> {value}" for key, value in self.cfg["optimizer"].items()
                   if key in saved and saved[key] != value]
        if changes:
            self._apply_optimizer_settings(*configured)
            if self.dist.is_main:
                print(f"{path.name}: optimizer settings changed since this checkpoint; the config's apply from "
                      f"step {extra['step']}: {'; '.join(changes)}", file=sys.stderr)
        if self.scaler is not None and extra.get("scaler"):
            self.scaler.load_state_dict(extra["scaler"])
        self.step = int(extra["step"])
        self.epoch, self.batch_in_epoch = int(extra["sampler"]["epoch"]), int(extra["sampler"]["batch"])
        rng = extra["rng"]
        if len(rng) == self.dist.world_size:
            set_rng_state(rng[self.dist.rank])
        else:  # the world size changed: training goes on, but not bit-identically
            seed_everything(int(self.t["seed"]) + 1000 * self.dist.rank + self.step)
        return changes

    def _optimizer_settings(self) -> tuple[list[dict[str, Any]], list[Any], list[float]]:
        """The hyper-parameters this run's config gave the optimizer and scheduler (not their state)."""
        groups = [{k: v for k, v in group.items() if k not in ("params", "lr")} for group in self.optimizer.param_groups]
        # copies: LambdaLR.load_state_dict updates the lambda objects in place
        lambdas = copy.deepcopy(list(getattr(self.scheduler, "lr_lambdas", [])))
        return groups, lambdas, list(self.scheduler.base_lrs)

    def _apply_optimizer_settings(self, groups: list[dict[str, Any]], lambdas: list[Any], base_lrs: list[float]) -> None:
        if lambdas:
            self.scheduler.lr_lambdas = lambdas
        self.scheduler.base_lrs = base_lrs
        step = self.scheduler.last_epoch
        for i, (group, settings, base_lr) in enumerate(zip(self.optimizer.param_groups, groups, base_lrs)):
            group.update(settings)
            group["lr"] = base_lr * (lambdas[i](step) if lambdas else 1.0)
        self.scheduler._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def save(self) -> Path | None:
        """All ranks call this (their RNG states are gathered); rank 0 writes."""
        states = [rng_state()]
        if self.dist.enabled:
            states = [None] * self.dist.world_size
            dist.all_gather_object(states, rng_state())
        path = None
        if self.dist.is_main:
            extra = {
                "step": self.step,
                "optimizer": self.optimizer.state_dict(),
                "scheduler": self.scheduler.state_dict(),
                "scaler": self.scaler.state_dict() if self.scaler is not None else None,
                "rng": states,
                "sampler": {"epoch": self.epoch, "batch": self.batch_in_epoch},
                "train_config": dict(self.cfg),
            }
            path = self.run.checkpoint_path(self.step)
            self.save_fn(self.model, path, extra)
            self.run.after_save(path, self.cfg)
        barrier(self.dist)
        return path

    # -- one update ----------------------------------------------------------------------------------
    def train_step(self, batch) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
        with autocast(self.t["precision"], self.device):
            losses = self.loss_fn(self.train_model, batch, self.step)
        self.optimizer.zero_grad(set_to_none=True)
        if self.scaler is not None:
            self.scaler.scale(losses["loss"]).backward()
            self.scaler.unscale_(self.optimizer)
        else:
            losses["loss"].backward()
        grad_norm = torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.grad_clip)
        if self.scaler is not None:
            self.scaler.step(self.optimizer)  # skips the update by itself on inf/nan gradients
            self.scaler.update()
        elif torch.isfinite(grad_norm):
            self.optimizer.step()
        self.scheduler.step()
        return losses, grad_norm

    # -- the loop ------------------------------------------------------------------------------------
    def fit(self) -> None:
        from tqdm import tqdm

        steps = int(self.t["steps"])
        bar = tqdm(total=steps, initial=self.step, desc=self.name, unit="step", disable=not self.dist.is_main,
                   dynamic_ncols=True, mininterval=1.0 if sys.stderr.isatty() else 30.0)
        timer = StepTimer()
        self.model.train()
        with StopRequest() as stop:
            self._loop(steps, bar, timer, stop)
        bar.close()

    def _loop(self, steps: int, bar, timer: "StepTimer", stop: StopRequest) -> None:
        from tqdm import tqdm

        t = self.t
        bad_steps = 0
        while self.step < steps:
            self.sampler.set_epoch(self.epoch, self.batch_in_epoch)
            if hasattr(self.loader.dataset, "set_epoch"):  # e.g. random segment offsets per epoch
                self.loader.dataset.set_epoch(self.epoch)
            for batch in self.loader:
                losses, grad_norm = self.train_step(_to_device(batch, self.device))
                self.step += 1
                self.batch_in_epoch += 1
                timer.tick()
                bad_steps = 0 if torch.isfinite(grad_norm) else bad_steps + 1
                if bad_steps > int(t["max_bad_steps"]) and self.scaler is None:
                    raise RuntimeError(f"{bad_steps} consecutive steps with non-finite gradients up to step "
                                       f"{self.step}: training diverged (lower the learning rate, or use fp32)")
                if self.step % int(t["log_every"]) == 0 or self.step == steps:
                    self._log(losses, grad_norm, timer, bar)
                bar.update(1)
                if self.validate_fn is not None and self.step % int(t["validate_every"]) == 0:
                    if self.dist.is_main:
                        record = self.validate_fn(self.step)
                        self.run.log({"step": self.step, **record})
                        tqdm.write(f"step {self.step}: " + ", ".join(
                            f"{k} {v:.4f}" if isinstance(v, float) else f"{k} {v}" for k, v in record.items()))
                    barrier(self.dist)
                    timer.reset()
                stopping = stop.agreed(self.dist, self.device)
                if self.step % int(t["checkpoint_every"]) == 0 or self.step == steps or stopping:
                    path = self.save()
                    timer.reset()
                    if stopping:
                        if self.dist.is_main:
                            tqdm.write(f"stopped at step {self.step}; saved {path} (resume with --resume auto)")
                        return
                if self.step >= steps:
                    break
            else:
                self.epoch, self.batch_in_epoch = self.epoch + 1, 0

    def _log(self, losses: Mapping[str, torch.Tensor], grad_norm: torch.Tensor, timer: StepTimer, bar) -> None:
        record = all_reduce_mean({k: float(v.detach()) for k, v in losses.items()}, self.dist, self.device)
        if not self.dist.is_main:
            return
        record = {"step": self.step, "epoch": self.epoch, **record, "grad_norm": float(grad_norm),
                  "lr": self.optimizer.param_groups[0]["lr"], "s_per_step": timer.seconds_per_step,
                  "time": round(time.time(), 1)}
        self.run.log(record)
        bar.set_postfix(loss=f"{record['loss']:.4f}", s_step=f"{timer.seconds_per_step:.2f}", refresh=False)


def _to_device(batch, device: torch.device):
    if hasattr(batch, "to"):
        return batch.to(device)
    return type(batch)(x.to(device, non_blocking=True) for x in batch)



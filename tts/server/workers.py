"""A fixed number of synthesis threads serving a bounded number of requests, chunk by chunk.

A request becomes a `Job`: the chunk generator of `Pipeline.stream` and an `Encoder`. A worker thread
takes a job, synthesises its next chunk (one `next` of the generator), encodes it at once and hands
the bytes to the event loop, which streams them. When other jobs are waiting, the job then goes to
the back of the line, so that concurrent requests take turns chunk by chunk: each one's first audio
comes after a few chunks, not after whole requests ahead of it (the model runs one call at a time
anyway; turns change who waits, not the total work). Before each chunk the worker checks whether the
request was cancelled (the client went away) or ran out of time, and stops synthesising it.
Workers never wait on a client: what a slow client has not read yet waits in the job (at most one
request's audio, bounded by the input limit).

`Scheduler.submit` refuses a job when `workers + queue_size` requests are already being served
(503 with Retry-After, estimated from recent request times): memory is bounded by that, not by load.
"""
from __future__ import annotations

import asyncio
import collections
import logging
import math
import threading
import time
from collections.abc import Iterator
from typing import Any

from tts.core.audio_files import Encoder
from tts.server.errors import busy

log = logging.getLogger("tts.server")


class TimeLimit(Exception):
    """The request ran past its time limit."""


class Cancelled(Exception):
    """The request was cancelled (its client went away, or the server is stopping)."""


class Job:
    """One request's synthesis, stepped by worker threads, read by the event loop (`next_item`).

    Items are ("data", bytes) for each chunk, then ("done", bytes) with the encoder's tail or
    ("error", exception): every job ends with one of the two. `cancel()` (from any thread) stops the
    synthesis before its next chunk (the error is then `Cancelled`). `total` chunks, when known, lets
    the last chunk finish the job without another turn.
    """

    def __init__(self, chunks: Iterator[Any], encoder: Encoder, sample_rate: int, deadline: float,
                 loop: asyncio.AbstractEventLoop, total: int | None = None):
        self.chunks = chunks
        self.encoder = encoder
        self.sample_rate = sample_rate
        self.deadline = deadline  # time.monotonic() value
        self.total = total
        self.cancelled = threading.Event()
        self._reason = "cancelled"
        self.outcome = "queued"  # queued, running, ok, cancelled, timeout, error
        self.audio_seconds = 0.0
        self.chunks_done = 0
        self.warnings: list[str] = []
        self.queued_at = time.monotonic()
        self.started_at: float | None = None
        self.finished_at: float | None = None
        self._loop = loop
        self._items: asyncio.Queue = asyncio.Queue()

    def cancel(self, reason: str = "cancelled") -> None:
        """Stop before the next chunk; `reason` ("cancelled" or "timeout") is the job's outcome."""
        if not self.cancelled.is_set():
            self._reason = reason
            self.cancelled.set()

    @property
    def finished(self) -> bool:
        return self.finished_at is not None

    # -- the workers' side -----------------------------------------------------------------------------
    def step(self) -> bool:
        """Synthesise, encode and hand out the next chunk (or end the job); True when the job is over."""
        if self.started_at is None:
            self.started_at = time.monotonic()
            self.outcome = "running"
        try:
            if self.cancelled.is_set():  # whoever still waits stops waiting
                return self._end(self._reason, ("error", TimeLimit() if self._reason == "timeout" else Cancelled()))
            if time.monotonic() > self.deadline:
                return self._end("timeout", ("error", TimeLimit()))
            try:
                chunk = next(self.chunks)  # synthesises one chunk
            except StopIteration:
                return self._end("ok", ("done", self.encoder.finish()))
            audio = chunk.with_pause()
            self.warnings.extend(chunk.warnings)
            data = self.encoder.encode(audio)
            self.audio_seconds += len(audio) / self.sample_rate
            self.chunks_done += 1
            self._put(("data", data))
            if self.chunks_done == self.total:  # the last one: no need to wait for another turn
                return self.step()
            return False
        except Exception as exc:  # reported to the request; the worker goes on
            return self._end("error", ("error", exc))

    def _end(self, outcome: str, item: tuple[str, Any]) -> bool:
        self.outcome = outcome
        self.finished_at = time.monotonic()
        try:
            self.chunks.close()
        finally:
            self.chunks, self.encoder = iter(()), None  # nothing of the pipeline or codec stays referenced
            self._put(item)
        return True

    def _put(self, item: tuple[str, Any]) -> None:
        try:
            self._loop.call_soon_threadsafe(self._items.put_nowait, item)
        except RuntimeError:  # the event loop is closed: the server is gone
            self.cancel()

    # -- the event loop's side -------------------------------------------------------------------------
    async def next_item(self) -> tuple[str, Any]:
        return await self._items.get()


class Scheduler:
    """`workers` threads taking turns over at most `workers + queue_size` jobs."""

    def __init__(self, workers: int = 2, queue_size: int = 8, threads: int | None = None):
        if workers < 1:
            raise ValueError(f"workers must be >= 1, got {workers}")
        if queue_size < 0:
            raise ValueError(f"queue_size must be >= 0, got {queue_size}")
        self.workers = workers
        self.queue_size = queue_size
        self.threads = threads
        self._line: collections.deque[Job] = collections.deque()  # jobs waiting for their next turn
        self._jobs: set[Job] = set()  # every job accepted and not finished
        self._ready = threading.Condition()
        self._threads: list[threading.Thread] = []
        self.active = 0  # jobs accepted and not finished
        self.started = 0  # of which have had a first turn
        self.closing = False
        self.counts = {"accepted": 0, "rejected": 0, "ok": 0, "cancelled": 0, "timeout": 0, "error": 0, "chunks": 0}
        self._mean_seconds = 2.0  # running mean of a job's time from submission to its end, for Retry-After

    def start(self) -> None:
        with self._ready:
            if self._threads:
                return
            self.closing = False
            for i in range(self.workers):
                thread = threading.Thread(target=self._work, name=f"tts-worker-{i}", daemon=True)
                thread.start()
                self._threads.append(thread)

    def submit(self, job: Job) -> None:
        with self._ready:
            if self.closing:
                raise busy("the server is shutting down", self.retry_after())
            if self.active >= self.workers + self.queue_size:
                self.counts["rejected"] += 1
                raise busy(f"the server is busy: {self.active} request(s) being spoken (at most "
                           f"{self.workers + self.queue_size}); retry later", self.retry_after())
            self.active += 1
            self.counts["accepted"] += 1
            self._jobs.add(job)
            self._line.append(job)
            self._ready.notify()

    def retry_after(self) -> int:
        """Seconds until a slot is likely free: requests end one every (mean request time / requests in
        flight) seconds (Little's law)."""
        return int(min(120, max(1, math.ceil(self._mean_seconds / max(1, self.active)))))

    def stats(self) -> dict[str, Any]:
        with self._ready:
            return {"workers": self.workers, "queue_size": self.queue_size, "active": self.active,
                    "running": self.started, "waiting": self.active - self.started, **self.counts,
                    "mean_request_seconds": round(self._mean_seconds, 3)}

    def _work(self) -> None:
        if self.threads:
            import torch

            torch.set_num_threads(self.threads)
        while True:
            with self._ready:
                while not self._line and not (self.closing and not self.active):
                    self._ready.wait()
                if not self._line:
                    return
                job = self._line.popleft()
                if job.started_at is None:
                    self.started += 1
            while True:
                over = job.step()
                with self._ready:
                    if over:
                        self._finished(job)
                        break
                    if self._line:  # others wait: take turns
                        self._line.append(job)
                        self._ready.notify()
                        break
            job = None  # not kept alive until the next one

    def _finished(self, job: Job) -> None:
        self.active -= 1
        self.started -= 1
        self._jobs.discard(job)
        self.counts[job.outcome] = self.counts.get(job.outcome, 0) + 1
        self.counts["chunks"] += job.chunks_done
        if job.outcome == "ok":
            self._mean_seconds = 0.8 * self._mean_seconds + 0.2 * (job.finished_at - job.queued_at)
        self._ready.notify_all()

    def close(self, timeout: float = 10.0) -> None:
        """Refuse new jobs, cancel the others (each ends at its next turn), stop the threads."""
        with self._ready:
            self.closing = True
            threads, self._threads = self._threads, []
            for job in self._jobs:
                job.cancel()
            self._ready.notify_all()
        deadline = time.monotonic() + timeout
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))

"""Stage overlap: WaveGlow vocodes a chunk's mel while Tacotron 2 is still decoding it, and while it
decodes the next chunk (`SynthesisConfig.overlap`; `Pipeline.speak`, `stream` and `speak_to_file`).

Two threads per call. The caller's thread decodes (`tts.tacotron2.streaming.infer_blocks`, the
postnet mel in blocks of `OverlapSchedule.mel_block_frames` frames as the decoder makes them) and a
worker thread vocodes (`vocoder.waveglow.streaming.WaveGlowStream`):

* the call's first chunk is vocoded while it is decoded: a small first piece, so that vocoding starts
  after a few decoder steps, then longer pieces, each with `context_frames` of mel on either side and
  crossfaded over them (each seam costs 2 x context_frames frames of extra vocoding; the decoder is
  several times faster than WaveGlow, so a sentence needs one or two);
* every later chunk is decoded while the worker still vocodes the one before, and is then vocoded
  whole (no seam, no extra work). At most one chunk is decoded ahead: memory does not grow with the text.

When a chunk's decoding ends the worker finishes its audio (denoiser, pitch, volume). A chunk whose
decoder failed (did not stop, attention broke) goes through the pipeline's retries as without overlap,
and its final mel is vocoded whole; so is a first chunk said at another pace or pitch (its mel is
resampled in time, which needs all of it).

Same audio: the mel is `infer`'s (float rounding aside, tests/test_speed_streaming.py). At sigma = 0 a
chunk vocoded whole is exactly the audio of overlap off, and the first chunk differs by its crossfades
only: with float32 WaveGlow over 100 dB (tests/test_overlap.py asks >= 60 dB). The int8 WaveGlow rounds
to int8 steps, so any float difference, even the last bit of a product computed in other blocks, can
flip a rounding and the change travels through the flows: int8 audio made in pieces differs from int8
audio made whole by about 45 dB SNR (random WaveGlow-256), less than int8 differs from float32 (~40 dB).
Noise at sigma > 0: WaveGlowStream draws it per 16-frame tile of the chunk from the chunk's vocoder seed
(`positional_noise`), not as one tensor as `WaveGlow.synthesize` does. A seed therefore gives the same
audio on every run, but not the audio of overlap off (same distribution, another draw); without a seed
the tile seed comes from torch's global generator. Overlap off runs exactly the code and the draws it
always did.

Threads and locks: the decoder holds the pipeline's Tacotron 2 lock only while it computes a block, the
worker the vocoder lock only while it vocodes; the compiled int8 decoder runs on one thread, leaving
the other cores to the vocoder. The worker draws no random numbers from torch's global generator, whose
state a seeded decoder swaps in and out (`tts.tacotron2.streaming`).
"""
from __future__ import annotations

import time
from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import torch

from tts.runtime.planning import Planned, decoder_step_budget, derive_seed
from tts.runtime.prosody import Voicing, finish_audio, pitch_factor
from tts.runtime.retries import Piece, retry
from tts.runtime.settings import SynthesisConfig
from tts.tacotron2 import Tacotron2
from tts.tacotron2.streaming import infer_blocks
from vocoder.mel_match import match_mel
from vocoder.waveglow import WaveGlow
from vocoder.waveglow.streaming import WaveGlowStream

if TYPE_CHECKING:  # annotations only: the pipeline imports this module
    from tts.runtime.pipeline import Pipeline
    from tts.runtime.speech import Chunk

#: seed-path components the pipeline uses for a chunk's retries and its vocoder noise
RETRY_SEED_PATH, VOCODER_SEED_PATH = 1_000_003, 2_000_003
#: a chunk size no utterance reaches: the whole mel in one piece
_WHOLE = 1 << 30


@dataclass(frozen=True)
class OverlapSchedule:
    """Block sizes of overlapped synthesis, in mel frames (86 per second at 22 050 Hz, hop 256)."""

    #: the decoder hands its mel to the vocoder this often
    mel_block_frames: int = 16
    #: the first vocoder chunk: audio starts once this many frames plus the context are decoded
    first_chunk_frames: int = 32
    #: later vocoder chunks (a 4-second sentence is 344 frames: one seam)
    chunk_frames: int = 384
    #: mel context on either side of a vocoder chunk, and the crossfade length
    context_frames: int = 16


def stage_support(tacotron2: torch.nn.Module, vocoder: torch.nn.Module, vocoder_name: str) -> str:
    """"" when these models can overlap their stages, else why not."""
    if not isinstance(tacotron2, Tacotron2):
        return "the Tacotron 2 is not a PyTorch model (ONNX runtime)"
    if not isinstance(vocoder, WaveGlow):
        return (f"the {vocoder_name} vocoder ({type(vocoder).__name__}) cannot vocode a mel block by block "
                "(only NVIDIA's WaveGlow layout can)")
    return ""


def clean_audio(audio: torch.Tensor) -> tuple[np.ndarray, list[bool]]:
    """Vocoder output [B, N] -> float32 numpy in [-1, 1] with NaN/inf set to 0, and per item whether it
    was finite everywhere (a diverging vocoder must not hand NaN to players and file writers)."""
    audio = audio.float()
    finite = torch.isfinite(audio).all(dim=1).tolist()
    return torch.nan_to_num(audio, nan=0.0, posinf=0.0, neginf=0.0).clamp(-1.0, 1.0).cpu().numpy(), finite


@dataclass(frozen=True)
class _Stage:
    """What every chunk's vocoding in one call shares: the worker thread and the models."""

    pipe: Pipeline
    worker: ThreadPoolExecutor
    vocoder: torch.nn.Module
    denoiser: torch.nn.Module | None
    cfg: SynthesisConfig
    schedule: OverlapSchedule


class _VocoderJob:
    """One chunk's vocoding in the worker thread. Its methods are submitted to the one-thread worker,
    so they run in order and never at the same time; `finish` returns a Future of the audio."""

    def __init__(self, stage: _Stage, seed: int, in_blocks: bool):
        self.stage = stage
        schedule, cfg = stage.schedule, stage.cfg
        # in_blocks: vocode the mel while it arrives (schedule); else one piece once all of it is there
        first, chunk = (schedule.first_chunk_frames, schedule.chunk_frames) if in_blocks else (_WHOLE, _WHOLE)
        self.stream = WaveGlowStream(stage.vocoder, sigma=cfg.sigma, seed=seed, chunk_frames=chunk,
                                     overlap_frames=schedule.context_frames, first_chunk_frames=first)
        self.parts: list[torch.Tensor] = []
        self.mels: list[torch.Tensor] = []  # what was pushed, for mel matching at `finish`
        self.seconds = 0.0
        self.futures: list[Future] = []
        self.cancelled = False
        self.error: BaseException | None = None  # a failed push fails the chunk at `finish`

    def push(self, mel: torch.Tensor) -> None:
        self.futures.append(self.stage.worker.submit(self._push, mel))

    def finish(self, frames: int, min_frames: int, voicing: Voicing) -> Future:
        """Vocode the rest of `frames` mel frames (padded with silence to `min_frames`, as `_vocode` pads
        short mels for the STFT-based steps), denoise, trim, pitch and volume: a Future of
        (audio float32 [frames * hop], finite, vocoder seconds)."""
        future = self.stage.worker.submit(self._finish, frames, min_frames, voicing)
        self.futures.append(future)
        return future

    def cancel(self) -> None:
        """Drop what has not started yet (a retried chunk is vocoded again from its final mel)."""
        self.cancelled = True
        for future in self.futures:
            future.cancel()

    def _push(self, mel: torch.Tensor) -> None:
        if self.cancelled or self.error is not None:
            return
        start = time.perf_counter()
        try:
            with self.stage.pipe._vocoder_lock:
                self.parts.append(self.stream.push(mel))
                self.mels.append(mel)
        except BaseException as exc:
            self.error = exc
            raise
        finally:
            self.seconds += time.perf_counter() - start

    def _finish(self, frames: int, min_frames: int, voicing: Voicing) -> tuple[np.ndarray, bool, float]:
        if self.error is not None:
            raise self.error
        start = time.perf_counter()
        stage, audio_settings = self.stage, self.stage.pipe.audio
        with stage.pipe._vocoder_lock:
            if frames < min_frames:
                silence = torch.full((audio_settings.n_mel_channels, min_frames - frames), audio_settings.silence_level)
                self.parts.append(self.stream.push(silence))
                self.mels.append(silence)
            audio = torch.cat(self.parts + [self.stream.finish()], 1)
            if stage.cfg.mel_match:
                mel = torch.cat(self.mels, 1).to(device=audio.device)[None]
                audio = match_mel(audio, mel, stage.cfg.mel_match, audio_settings)
            if stage.denoiser is not None:
                audio = stage.denoiser(audio, strength=stage.cfg.denoise)
        samples, finite = clean_audio(audio)
        samples = np.ascontiguousarray(samples[0, : frames * audio_settings.hop_length], dtype=np.float32)
        samples = finish_audio(samples, voicing.semitones, voicing.volume, audio_settings.sampling_rate)
        self.seconds += time.perf_counter() - start
        return samples, finite[0], self.seconds


@dataclass
class _Decoded:
    """A chunk whose decoding is done and whose audio the worker is making."""

    planned: Planned
    index: int
    pieces: list[Piece]
    retries: int
    notes: list[str]
    mel: torch.Tensor
    starts: list[int]
    voicing: Voicing
    mel_seconds: float
    job: _VocoderJob
    audio: Future


def overlapped_chunks(pipe: Pipeline, plan: Sequence[Planned], cfg: SynthesisConfig, vocoder_name: str,
                      notes: Sequence[str] = (), schedule: OverlapSchedule | None = None) -> Iterator[Chunk]:
    """The pipeline's chunks of `plan`, made with stage overlap (module docstring); `notes` go with the
    first chunk. Closing the generator early cancels the vocoding that has not started and waits for
    the block in progress."""
    vocoder = pipe._vocoder(vocoder_name)  # both resolved now: the worker holds the vocoder lock later
    denoiser = pipe._denoiser(vocoder_name, vocoder) if cfg.denoise > 0 else None
    worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="tacoglow-vocoder")
    stage = _Stage(pipe, worker, vocoder, denoiser, cfg, schedule or OverlapSchedule())
    ahead: deque[_Decoded] = deque()
    try:
        for index, planned in enumerate(plan):
            ahead.append(_decode(stage, planned, index))
            if len(ahead) > 1:
                yield _chunk(pipe, ahead.popleft(), cfg, vocoder_name, notes)
        while ahead:
            yield _chunk(pipe, ahead.popleft(), cfg, vocoder_name, notes)
    finally:
        for decoded in ahead:
            decoded.job.cancel()
        worker.shutdown(wait=True, cancel_futures=True)


def _decode(stage: _Stage, planned: Planned, index: int) -> _Decoded:
    """Decode one chunk in this thread, its mel going to the worker block by block; retries as without
    overlap. Returns once the worker has everything it needs to finish the chunk's audio."""
    start = time.perf_counter()
    pipe, cfg, schedule = stage.pipe, stage.cfg, stage.schedule
    voicing = pipe._voicing(planned, cfg)
    # Only the call's first chunk is vocoded while it is decoded: the vocoder has nothing else to do
    # then. Later chunks are decoded while the vocoder is busy with the one before, and are vocoded
    # whole (no seams, no extra work). Pace and pitch resample the mel in time, which needs all of it.
    in_blocks = index == 0 and voicing.pace / pitch_factor(voicing.semitones) == 1.0
    seed = derive_seed(cfg.seed, index, VOCODER_SEED_PATH)
    if seed is None:  # unseeded: the noise still comes from torch's generator, drawn in this thread
        seed = int(torch.randint(0, 2**62, ()))
    job = _VocoderJob(stage, seed, in_blocks)
    model = pipe.tacotron2
    r = model.config.n_frames_per_step
    max_steps = decoder_step_budget(len(planned.ids), r, cfg.max_decoder_steps, cfg.max_frames_per_symbol)
    blocks = infer_blocks(model, torch.tensor(planned.ids, dtype=torch.long, device=pipe.device),
                          block_frames=schedule.mel_block_frames, gate_threshold=cfg.gate_threshold,
                          max_decoder_steps=max_steps, prenet_dropout=cfg.prenet_dropout,
                          seed=derive_seed(cfg.seed, index), dtype=pipe.paths.decoder_dtype, threads=1)
    mels = []
    while True:
        with pipe._tacotron_lock:  # held while the decoder computes, never across a yield
            block = next(blocks)
        mels.append(block.mel)
        if in_blocks and block.mel.shape[1]:
            job.push(block.mel)
        if block.final:
            break
    first = Piece(text=planned.text, mel=torch.cat(mels, 1), alignment=block.alignment.float(),
                  reached_max_steps=block.reached_max_steps, failure_reasons=list(block.failure_reasons))
    pieces, retries, notes = retry([first], cfg, derive_seed(cfg.seed, index, RETRY_SEED_PATH), pipe._infer,
                                   dictionary=pipe.dictionary)
    mel_seconds = time.perf_counter() - start
    mel, starts = pipe._assemble_mel(pieces, voicing, cfg)
    if not in_blocks or len(pieces) > 1 or pieces[0] is not first:  # the final mel, whole
        job.cancel()
        job = _VocoderJob(stage, seed, in_blocks=False)
        job.push(mel)
    min_frames = pipe.audio.filter_length // pipe.audio.hop_length + 1
    audio = job.finish(mel.shape[1], min_frames, voicing)
    return _Decoded(planned, index, pieces, retries, notes, mel, starts, voicing, mel_seconds, job, audio)


def _chunk(pipe: Pipeline, decoded: _Decoded, cfg: SynthesisConfig, vocoder_name: str,
           notes: Sequence[str]) -> Chunk:
    """Wait for a decoded chunk's audio and make its `Chunk`."""
    audio, finite, vocoder_seconds = decoded.audio.result()
    chunk = pipe._make_chunk(decoded.planned, decoded.index, decoded.pieces, decoded.retries, decoded.notes,
                             decoded.mel, decoded.starts, audio, finite, decoded.voicing, cfg, vocoder_name,
                             decoded.mel_seconds, vocoder_seconds)
    if decoded.index == 0:
        chunk.warnings = tuple(notes) + chunk.warnings
    return chunk

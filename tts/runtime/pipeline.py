"""Text in, speech out: the one runtime API under the CLI, the web app and library users.

    pipe = Pipeline.from_pretrained()                 # the default voice (or $TTS_VOICE_DIR)
    speech = pipe.speak("Hello there.", seed=1)       # -> Speech (float32 audio + chunks + timing)
    speech.save("hello.wav")
    for chunk in pipe.stream(long_text):              # audio sentence by sentence, as it is made
        play(chunk.with_pause(), chunk.sample_rate)

The pipeline owns what the models do not: seeds, retries of chunks whose decoder did not stop or
whose attention failed (`tts.runtime.retries`), pace (speaking rate), denoising, pauses between
chunks, and timing; text planning is `tts.runtime.planning`. All synthesis knobs are in one
`SynthesisConfig`; a voice folder's voice.yaml gives the defaults and every call can override any.
"""
from __future__ import annotations

import functools
import inspect
import os
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import torch

import frontend
from frontend.arpabet import PronouncingDictionary
from frontend.symbols import SPACE_ID
from tts.core.audio import AudioSettings
from tts.core.audio_files import open_audio_output
from tts.core.device import QUANTIZE_AUTO, choose_overlap, parse_dtype, resolve_device, weights_placement
from tts.runtime import planning
from tts.runtime.loading import ModelPaths, RuntimeMismatch, load_models
from tts.runtime.overlap import (
    RETRY_SEED_PATH,
    VOCODER_SEED_PATH,
    OverlapSchedule,
    clean_audio,
    overlapped_chunks,
    stage_support,
)
from tts.runtime.planning import Planned, decoder_step_budget, derive_seed, pause_for, plan_text, shorten, speakable_ids
from tts.runtime.prosody import Voicing, finish_audio, pitch_factor, resample_time, resampled_length
from tts.runtime.retries import Piece, retry
from tts.runtime.settings import PACE_RANGE, PITCH_RANGE, VOCODER_SETTINGS, VOLUME_RANGE, SynthesisConfig
from tts.runtime.speech import Chunk, Recording, Speech, SynthesisInterrupted, Timing, block_diagonal, check_output_path
from tts.runtime.timing import Word, piece_words
from tts.runtime.voices import VoiceConfig, VoiceError, load_voice_config, resolve_voice_dir
from vocoder import VOCODERS, Denoiser
from vocoder.mel_match import match_mel


class Pipeline:
    """Tacotron 2 + vocoders + the logic around them. Safe to share between threads.

    Build one with `from_pretrained` (a voice folder) or `from_checkpoints` (NVIDIA or project
    weight files). The constructor takes ready models for callers that built their own.
    """

    def __init__(
        self,
        tacotron2: torch.nn.Module,
        vocoders: Mapping[str, torch.nn.Module] | None = None,
        *,
        default_vocoder: str | None = None,
        config: SynthesisConfig | None = None,
        name: str = "custom",
        voice: VoiceConfig | None = None,
        dtype: torch.dtype | str | None = None,
        paths: ModelPaths | None = None,
        dictionary: PronouncingDictionary | None = None,
    ):
        self.tacotron2 = tacotron2.eval()
        #: the pronouncing dictionary of a Tacotron 2 trained to read phones (`frontend.arpabet`)
        self.dictionary = dictionary
        planning.check_reads_phones(tacotron2, dictionary)
        self.audio: AudioSettings = tacotron2.audio
        self.name = name
        self.voice = voice
        self.config = config or SynthesisConfig()
        self.dtype = parse_dtype(dtype)
        #: how the models run (runtime, the decoder's precision, `describe`'s lines); set by the loaders
        self.paths = paths or ModelPaths(decoder_dtype=self.dtype if self.dtype == torch.bfloat16 else None)
        self._vocoders: dict[str, torch.nn.Module] = {}
        for vocoder_name, model in (vocoders or {}).items():
            self._add_vocoder(vocoder_name, model)
        self.default_vocoder = default_vocoder or ("waveglow" if "waveglow" in self._vocoders else "griffin-lim")
        if self.default_vocoder not in self.vocoder_names:
            raise ValueError(
                f"default vocoder {self.default_vocoder!r} is not available; available: {', '.join(self.vocoder_names)}"
            )
        self._registry = VOCODERS
        self._denoisers: dict[str, torch.nn.Module] = {}
        self._synthesize_params: dict[str, frozenset[str]] = {}
        #: block sizes of stage overlap (`tts.runtime.overlap`)
        self.overlap_schedule = OverlapSchedule()
        # one Tacotron 2 call and one vocoder call at a time (all per-call state is local); separate
        # locks, so that one call's decoder and another's (or the same call's, with overlap) vocoder
        # run at the same time
        self._tacotron_lock = threading.RLock()
        self._vocoder_lock = threading.RLock()

    # -- construction --------------------------------------------------------------------------------
    @classmethod
    def from_pretrained(
        cls,
        name_or_dir: str | os.PathLike | None = None,
        *,
        device: torch.device | str | None = None,
        dtype: torch.dtype | str | None = None,
        quantize: str | None = QUANTIZE_AUTO,
        runtime: str = "torch",
    ) -> Pipeline:
        """Load a voice folder (see `tts.runtime.voices`): a path, a name under checkpoints/, or None = default voice.

        `quantize`: "auto" (default) runs a full-size WaveGlow voice on a CPU on its fastest measured path
        (int8 WaveGlow and Tacotron 2 decoder, compiled kernels where they build: `tts.runtime.loading`)
        and changes nothing for other voices; "int8" runs WaveGlow's large products in int8 (CPU); None
        keeps float. `runtime="onnx"`: a folder written by `python -m tts.export_onnx --voice ...`, run
        by onnxruntime (the `[onnx]` extra)."""
        voice = load_voice_config(resolve_voice_dir(name_or_dir))
        device = resolve_device(device)
        try:
            config = SynthesisConfig.from_dict(voice.synthesis)
        except ValueError as exc:
            raise VoiceError(f"{voice.directory / 'voice.yaml'}: bad 'synthesis' defaults: {exc}") from None
        try:
            models = load_models(voice.tacotron2, voice.vocoders, device=device, dtype=dtype, quantize=quantize,
                                 runtime=runtime)
        except RuntimeMismatch as exc:  # the folder does not suit the runtime: the user's input
            raise VoiceError(str(exc)) from None
        if voice.audio is not None:
            try:
                voice.audio.check_compatible(models.tacotron2.audio,
                                             what=f"voice.yaml's audio settings and {voice.tacotron2.name}")
            except ValueError as exc:
                raise VoiceError(f"{voice.directory}: {exc}") from None
        return cls(models.tacotron2, models.vocoders, default_vocoder=voice.default_vocoder, config=config, name=voice.name,
                   voice=voice, dtype=dtype, paths=models.paths, dictionary=voice.read_pronouncing_dictionary())

    @classmethod
    def from_checkpoints(
        cls,
        tacotron2: str | os.PathLike,
        waveglow: str | os.PathLike | None = None,
        *,
        vocoder: str | None = None,
        device: torch.device | str | None = None,
        dtype: torch.dtype | str | None = None,
        config: SynthesisConfig | None = None,
        quantize: str | None = QUANTIZE_AUTO,
        runtime: str = "torch",
        pronouncing_dictionary: str | os.PathLike | None = None,
    ) -> Pipeline:
        """Chain weight files directly (NVIDIA's `tacotron2_statedict.pt`, `waveglow_256channels*.pt`,
        DeepLearningExamples checkpoints, or the project's own). `vocoder` picks the default:
        "waveglow" when a WaveGlow file is given, else "griffin-lim". `quantize` as `from_pretrained`
        ("int8": WaveGlow's large products in int8 on a CPU, whatever `dtype` the Tacotron 2 runs in).
        `runtime="onnx"`: `tacotron2` is a folder of `python -m tts.export_onnx` and `waveglow` its waveglow.onnx.
        `pronouncing_dictionary`: the CMUdict-format file of a Tacotron 2 trained to read phones."""
        if vocoder == "waveglow" and waveglow is None:
            raise ValueError("vocoder='waveglow' needs a WaveGlow checkpoint (waveglow=PATH)")
        dictionary = PronouncingDictionary.read(pronouncing_dictionary) if pronouncing_dictionary is not None else None
        device = resolve_device(device)
        models = load_models(tacotron2, {"waveglow": waveglow} if waveglow is not None else {}, device=device,
                             dtype=dtype, quantize=quantize, runtime=runtime)
        return cls(models.tacotron2, models.vocoders, default_vocoder=vocoder, config=config,
                   name=Path(tacotron2).stem, dtype=dtype, paths=models.paths, dictionary=dictionary)

    def _add_vocoder(self, name: str, model: torch.nn.Module) -> None:
        model.check_mel_settings(self.audio)  # refuse a vocoder trained on another mel definition
        self._vocoders[name] = model.eval()

    # -- introspection -------------------------------------------------------------------------------
    @property
    def sample_rate(self) -> int:
        return self.audio.sampling_rate

    @property
    def device(self) -> torch.device:
        return next(self.tacotron2.parameters()).device

    @property
    def vocoder_names(self) -> list[str]:
        """Vocoders this pipeline can use: those loaded with weights plus every weightless registered one."""
        weightless = [n for n in VOCODERS.names() if not VOCODERS.get(n).needs_weights]
        return sorted(set(self._vocoders) | set(weightless))

    def __repr__(self) -> str:
        return (f"Pipeline(name={self.name!r}, vocoders={self.vocoder_names}, default_vocoder={self.default_vocoder!r}, "
                f"device={self.device}, sample_rate={self.sample_rate})")

    def settings(self, config: SynthesisConfig | None = None, **overrides: Any) -> SynthesisConfig:
        """The config a call would use: `config` (default: the voice's) with `overrides` applied."""
        return (config or self.config).replace(**overrides)

    def warm_up(self) -> Pipeline:
        """Synthesise two decoder steps once, so that the first real request does not pay one-off costs
        (mel filter bank, Griffin-Lim's set-up, the denoiser's bias spectrum). Returns self."""
        self.speak("warm up.", max_decoder_steps=2, max_retries=0, seed=0)
        return self

    # -- synthesis -----------------------------------------------------------------------------------
    def speak(
        self,
        text: str,
        *,
        config: SynthesisConfig | None = None,
        progress: Callable[[int, int], None] | None = None,
        **overrides: Any,
    ) -> Speech:
        """Synthesise `text`; overrides are `SynthesisConfig` fields (sigma=, pace=, seed=, vocoder=, ...).

        `progress(done, total)` is called once with done = 0 before the first chunk (so a progress bar
        knows its length without planning the text again) and then after each chunk. The audio is
        the chunks of `stream` joined with their pauses.
        """
        cfg = self.settings(config, **overrides)
        start = time.perf_counter()
        normalized, plan, notes, written = self._plan(text, cfg)
        vocoder_name = self._check_vocoder(cfg)
        chunks: list[Chunk] = []
        first_audio = None
        if progress is not None:
            progress(0, len(plan))
        for chunk in self._run(plan, cfg, vocoder_name, notes + self._unused_settings(overrides, vocoder_name)):
            if first_audio is None:
                first_audio = time.perf_counter() - start
            chunks.append(chunk)
            if progress is not None:
                progress(len(chunks), len(plan))
        audio = np.concatenate([c.with_pause() for c in chunks])
        timing = Timing(
            synthesis_seconds=time.perf_counter() - start,
            audio_seconds=len(audio) / self.sample_rate,
            mel_seconds=sum(c.timing.mel_seconds for c in chunks),
            vocoder_seconds=sum(c.timing.vocoder_seconds for c in chunks),
            first_audio_seconds=first_audio,
        )
        return Speech(audio=audio, sample_rate=self.sample_rate, chunks=chunks, timing=timing, text=text,
                      normalized=normalized, warnings=[w for c in chunks for w in c.warnings], written=written,
                      reader=_reader(cfg))

    def speak_to_file(
        self,
        text: str,
        target: str | os.PathLike | BinaryIO,
        *,
        format: str | None = None,
        config: SynthesisConfig | None = None,
        progress: Callable[[int, int], None] | None = None,
        on_chunk: Callable[[Chunk], None] | None = None,
        keep_partial: bool = False,
        **overrides: Any,
    ) -> Recording:
        """Synthesise `text` into a file (format from the extension unless given) or an open binary
        stream (WAV unless `format` says otherwise), chunk by chunk as each is made: memory stays flat
        however long the text. A file is written under a temporary name and renamed when complete;
        on an error or interrupt it is removed (kept as `<stem>.partial<ext>` with `keep_partial`),
        and an interrupt raises `SynthesisInterrupted` saying how much was done. `on_chunk(chunk)` sees
        each chunk after it was written (and may keep what it needs of it)."""
        cfg = self.settings(config, **overrides)
        start = time.perf_counter()
        normalized, plan, notes, written = self._plan(text, cfg)
        vocoder_name = self._check_vocoder(cfg)
        if isinstance(target, (str, os.PathLike)):
            check_output_path(target, format)
        writer = open_audio_output(target, self.sample_rate, format)
        warnings: list[str] = []
        spoken: list[Word] = []
        done, first_audio, mel_seconds, vocoder_seconds = 0, None, 0.0, 0.0
        try:  # from the moment the partial file exists: an interrupt anywhere after this removes it
            if progress is not None:
                progress(0, len(plan))
            for chunk in self._run(plan, cfg, vocoder_name, notes + self._unused_settings(overrides, vocoder_name)):
                offset = writer.seconds_written
                spoken += [Word(w.text, w.start + offset, w.end + offset) for w in chunk.words]
                writer.write(chunk.with_pause())
                first_audio = first_audio if first_audio is not None else time.perf_counter() - start
                done, mel_seconds, vocoder_seconds = (done + 1, mel_seconds + chunk.timing.mel_seconds,
                                                      vocoder_seconds + chunk.timing.vocoder_seconds)
                warnings.extend(chunk.warnings)
                if on_chunk is not None:
                    on_chunk(chunk)
                if progress is not None:
                    progress(done, len(plan))
            writer.close()
        except KeyboardInterrupt:
            kept = writer.abort(keep=keep_partial)
            raise SynthesisInterrupted(done, len(plan), writer.seconds_written, kept) from None
        except BaseException:
            writer.abort(keep=keep_partial)
            raise
        timing = Timing(synthesis_seconds=time.perf_counter() - start, audio_seconds=writer.seconds_written,
                        mel_seconds=mel_seconds, vocoder_seconds=vocoder_seconds, first_audio_seconds=first_audio)
        return Recording(path=writer.path, format=writer.format.name, sample_rate=self.sample_rate,
                         duration=writer.seconds_written, chunks=done, timing=timing, text=text,
                         normalized=normalized, warnings=warnings, spoken_words=spoken, written=written,
                         reader=_reader(cfg))

    def stream(self, text: str, *, config: SynthesisConfig | None = None, **overrides: Any) -> Iterator[Chunk]:
        """Yield the audio chunk by chunk (about a sentence each) as soon as each is synthesised.

        The text is checked when `stream` is called (ValueError for empty or unspeakable text);
        nothing is kept between chunks, so memory does not grow with the length of the text.
        """
        cfg = self.settings(config, **overrides)
        _, plan, notes, _ = self._plan(text, cfg)
        vocoder_name = self._check_vocoder(cfg)
        return self._run(plan, cfg, vocoder_name, notes + self._unused_settings(overrides, vocoder_name))

    def count_chunks(self, text: str, *, config: SynthesisConfig | None = None, **overrides: Any) -> int:
        """How many chunks `speak`/`stream` will make of `text` (no synthesis; ValueError if unspeakable)."""
        cfg = self.settings(config, **overrides)
        return len(self._plan(text, cfg).chunks)

    def speak_batch(
        self,
        texts: Sequence[str],
        *,
        config: SynthesisConfig | None = None,
        batch_size: int = 8,
        **overrides: Any,
    ) -> list[Speech]:
        """Synthesise several texts, sending up to `batch_size` chunks at a time through Tacotron 2 and
        the vocoder (padded, sorted by length). Chunks that fail go through the same retries as `speak`.

        With a seed the result is reproducible for the same list of texts, but it differs from
        `speak`'s (random numbers are drawn per batch, not per chunk). Each Speech's synthesis time
        is the batch's wall time shared out in proportion to audio length.
        """
        if isinstance(texts, str):
            raise TypeError("speak_batch takes a list of texts; use speak for one")
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        cfg = self.settings(config, **overrides)
        start = time.perf_counter()
        plans = []
        for i, text in enumerate(texts):
            try:
                plans.append(self._plan(text, cfg))
            except ValueError as exc:
                raise ValueError(f"text {i}: {exc}") from None
        if not plans:
            return []
        vocoder_name = self._check_vocoder(cfg)
        items = [(t, c) for t, plan in enumerate(plans) for c in range(len(plan.chunks))]
        items.sort(key=lambda tc: -len(plans[tc[0]].chunks[tc[1]].ids))  # similar lengths share a batch
        results: dict[tuple[int, int], Chunk] = {}
        for b in range(0, len(items), batch_size):
            group = items[b : b + batch_size]
            chunks = self._synthesize_group(
                [plans[t].chunks[c] for t, c in group], [c for _, c in group], cfg, vocoder_name,
                seed=derive_seed(cfg.seed, b // batch_size))
            results.update(zip(group, chunks))
        unused = self._unused_settings(overrides, vocoder_name)

        elapsed = time.perf_counter() - start
        speeches = []
        total_audio = sum(len(ch.with_pause()) for ch in results.values()) or 1
        for t, (normalized, plan, notes, written) in enumerate(plans):
            chunks = [results[(t, c)] for c in range(len(plan))]
            audio = np.concatenate([c.with_pause() for c in chunks])
            timing = Timing(synthesis_seconds=elapsed * len(audio) / total_audio, audio_seconds=len(audio) / self.sample_rate,
                            mel_seconds=sum(c.timing.mel_seconds for c in chunks),
                            vocoder_seconds=sum(c.timing.vocoder_seconds for c in chunks))
            speeches.append(Speech(audio=audio, sample_rate=self.sample_rate, chunks=chunks, timing=timing,
                                   text=texts[t], normalized=normalized,
                                   warnings=notes + unused + [w for c in chunks for w in c.warnings],
                                   written=written, reader=_reader(cfg)))
        return speeches

    # -- internals -----------------------------------------------------------------------------------
    def _plan(self, text: str, cfg: SynthesisConfig) -> planning.TextPlan:
        return plan_text(text, cfg.max_chunk_chars, cfg.date_order, cfg.ssml, self.dictionary)

    def _check_vocoder(self, cfg: SynthesisConfig) -> str:
        name = cfg.vocoder or self.default_vocoder
        if name not in self.vocoder_names:
            known = self._registry.names()
            if name in known:
                raise ValueError(f"the {name} vocoder needs weights this voice does not have; "
                                 f"available: {', '.join(self.vocoder_names)}")
            raise ValueError(f"unknown vocoder {name!r}; available: {', '.join(self.vocoder_names)}")
        return name

    def _unused_settings(self, overrides: Mapping[str, Any], vocoder_name: str) -> list[str]:
        """Warnings for settings the caller gave that the chosen vocoder cannot use (a setting that
        cannot apply must not pass silently): `sigma` needs a flow with Gaussian noise (WaveGlow),
        `temperature` a vocoder that samples with one (FloWaveNet, WaveRNN)."""
        params = self._vocoder_params(vocoder_name, self._vocoder(vocoder_name))
        unused = [f"{name}={overrides[name]} has no effect with the {vocoder_name} vocoder; ignored"
                  for name in VOCODER_SETTINGS if overrides.get(name) is not None and name not in params]
        unsupported = stage_support(self.tacotron2, self._vocoder(vocoder_name), vocoder_name)
        if overrides.get("overlap") and unsupported:
            unused.append(f"overlap=True has no effect: {unsupported}; ignored")
        return unused

    def _overlap(self, cfg: SynthesisConfig, vocoder_name: str) -> tuple[bool, str]:
        """Whether a call vocodes while it decodes, and why (`tts.core.device.choose_overlap`)."""
        unsupported = stage_support(self.tacotron2, self._vocoder(vocoder_name), vocoder_name)
        return choose_overlap(cfg.overlap, supported=unsupported)

    def describe(self, config: SynthesisConfig | None = None, **overrides: Any) -> list[str]:
        """How a call with these settings runs: the runtime, each stage's precision and kernels (or the
        pure-PyTorch fallback and why), and whether the stages overlap: one line each, for `--verbose`."""
        cfg = self.settings(config, **overrides)
        vocoder_name = self._check_vocoder(cfg)
        return [*self.paths.notes, f"vocoder: {vocoder_name}", f"stage overlap: {self._overlap(cfg, vocoder_name)[1]}"]

    def _vocoder(self, name: str) -> torch.nn.Module:
        with self._vocoder_lock:
            if name not in self._vocoders:
                model = self._registry.load(name, None, device=self.device, dtype=self.dtype, audio=self.audio)
                self._add_vocoder(name, model)
            return self._vocoders[name]

    def _run(self, plan: list[Planned], cfg: SynthesisConfig, vocoder_name: str,
             notes: Sequence[str] = ()) -> Iterator[Chunk]:
        """Chunk after chunk; `notes` (warnings about the whole call) go with the first chunk. The
        generator keeps no reference to a chunk it has handed out (memory stays flat on long texts).
        With stage overlap (`SynthesisConfig.overlap`), `tts.runtime.overlap` makes the chunks."""
        if self._overlap(cfg, vocoder_name)[0]:
            yield from overlapped_chunks(self, plan, cfg, vocoder_name, notes, self.overlap_schedule)
            return
        for index, planned in enumerate(plan):
            yield self._chunk(planned, index, cfg, vocoder_name, notes if index == 0 else ())

    def _chunk(self, planned: Planned, index: int, cfg: SynthesisConfig, vocoder_name: str,
               notes: Sequence[str]) -> Chunk:
        chunk = self._synthesize_group([planned], [index], cfg, vocoder_name, seed=derive_seed(cfg.seed, index))[0]
        chunk.warnings = tuple(notes) + chunk.warnings
        return chunk

    def _infer(self, texts: Sequence[tuple[int, ...]], cfg: SynthesisConfig, seed: int | None) -> list[Piece]:
        """Tacotron 2 on a padded batch of id sequences -> one Piece per sequence (mel trimmed to length)."""
        lengths = torch.tensor([len(t) for t in texts], dtype=torch.long)
        batch = torch.zeros(len(texts), int(lengths.max()), dtype=torch.long)
        for i, ids in enumerate(texts):
            batch[i, : len(ids)] = torch.tensor(ids, dtype=torch.long)
        infer_dtype = self.paths.decoder_dtype
        r = self.tacotron2.config.n_frames_per_step
        max_steps = decoder_step_budget(int(lengths.max()), r, cfg.max_decoder_steps, cfg.max_frames_per_symbol)
        with self._tacotron_lock:
            out = self.tacotron2.infer(
                batch.to(self.device), lengths, gate_threshold=cfg.gate_threshold,
                max_decoder_steps=max_steps, prenet_dropout=cfg.prenet_dropout, seed=seed,
                dtype=infer_dtype, warn=False)
        pieces = []
        for i in range(len(texts)):
            frames = int(out.mel_lengths[i])
            steps = (frames + r - 1) // r
            pieces.append(Piece(
                text="", mel=out.mel[i, :, :frames].float(), alignment=out.alignments[i, :steps, : len(texts[i])].float(),
                reached_max_steps=bool(out.reached_max_steps[i]),
                failure_reasons=list(out.failure_reasons[i]) if out.failure_reasons else
                (["failed"] if bool(out.attention_failed[i]) else [])))
        return pieces

    def _synthesize_group(self, planned: Sequence[Planned], indices: Sequence[int], cfg: SynthesisConfig,
                          vocoder_name: str, seed: int | None) -> list[Chunk]:
        """Chunks through Tacotron 2 as one batch, retry the failed ones, then vocode them as one batch."""
        t0 = time.perf_counter()
        first = self._infer([p.ids for p in planned], cfg, seed)
        pieces_per_chunk: list[list[Piece]] = []
        retries: list[int] = []
        notes: list[list[str]] = []
        for k, (item, piece) in enumerate(zip(planned, first)):
            piece.text = item.text
            pieces, used, note = retry([piece], cfg, derive_seed(cfg.seed, indices[k], RETRY_SEED_PATH), self._infer,
                                       dictionary=self.dictionary)
            pieces_per_chunk.append(pieces)
            retries.append(used)
            notes.append(note)
        mel_seconds = time.perf_counter() - t0

        t1 = time.perf_counter()
        voiced = [self._voicing(item, cfg) for item in planned]
        assembled = [self._assemble_mel(pieces, voicing, cfg) for pieces, voicing in zip(pieces_per_chunk, voiced)]
        audios, finite = self._vocode([mel for mel, _ in assembled], cfg, vocoder_name,
                                      seed=derive_seed(cfg.seed, *indices, VOCODER_SEED_PATH))
        audios = [finish_audio(audio, v.semitones, v.volume, self.sample_rate) for audio, v in zip(audios, voiced)]
        vocoder_seconds = time.perf_counter() - t1

        share = 1.0 / len(planned)
        return [self._make_chunk(item, indices[k], pieces_per_chunk[k], retries[k], notes[k], *assembled[k], audios[k],
                                 finite[k], voiced[k], cfg, vocoder_name, mel_seconds * share, vocoder_seconds * share)
                for k, item in enumerate(planned)]

    def _make_chunk(self, item: Planned, index: int, pieces: Sequence[Piece], retries: int, notes: list[str],
                    mel: torch.Tensor, starts: list[int], audio: np.ndarray, finite: bool, voicing: Voicing,
                    cfg: SynthesisConfig, vocoder_name: str, mel_seconds: float, vocoder_seconds: float) -> Chunk:
        """A synthesised chunk: its audio with everything that went into it."""
        if not finite:
            notes.append(f"the {vocoder_name} vocoder produced NaN/inf samples; they were set to silence")
        return Chunk(
            index=index, text=item.text, audio=audio, sample_rate=self.sample_rate,
            mel=mel.cpu().numpy(), alignment=block_diagonal([p.alignment.cpu().numpy() for p in pieces]),
            pause_after=item.pause * cfg.pause_scale / cfg.pace + item.break_after,
            timing=Timing(synthesis_seconds=mel_seconds + vocoder_seconds, audio_seconds=len(audio) / self.sample_rate,
                          mel_seconds=mel_seconds, vocoder_seconds=vocoder_seconds),
            pieces=tuple(p.text for p in pieces),
            reached_max_steps=any(p.reached_max_steps for p in pieces),
            attention_failed=any(p.failure_reasons for p in pieces),
            retries=retries, warnings=tuple(f"chunk {index + 1} ({shorten(item.text)!r}): {n}" for n in notes),
            words=self._chunk_words(pieces, starts, voicing, len(audio) / self.sample_rate))

    def _voicing(self, item: Planned, cfg: SynthesisConfig) -> Voicing:
        """How a chunk is said: the call's settings times the chunk's own (SSML prosody)."""
        return Voicing(pace=_within(cfg.pace * item.rate, PACE_RANGE), semitones=_within(cfg.pitch + item.pitch, PITCH_RANGE),
                       volume=_within(cfg.volume * item.volume, VOLUME_RANGE))

    def _assemble_mel(self, pieces: Sequence[Piece], voicing: Voicing,
                      cfg: SynthesisConfig) -> tuple[torch.Tensor, list[int]]:
        """A chunk's mel to vocode: its pieces' mels on the time axis the chunk is said at (pace, and
        stretched by the pitch factor that resampling the audio will take back), with a short silence
        where a retry split the chunk. Returns the mel and the frame where each piece starts."""
        hop, stretch = self.audio.hop_length, voicing.pace / pitch_factor(voicing.semitones)
        parts, starts, at = [], [], 0
        for j, piece in enumerate(pieces):
            starts.append(at)
            parts.append(resample_time(piece.mel, stretch))
            at += parts[-1].shape[1]
            if j < len(pieces) - 1:
                gap = int(round(pause_for(piece.text) * cfg.pause_scale / voicing.pace * self.sample_rate / hop
                                * pitch_factor(voicing.semitones)))
                if gap:
                    parts.append(torch.full((self.audio.n_mel_channels, gap), self.audio.silence_level,
                                            device=piece.mel.device))
                    at += gap
        return torch.cat(parts, dim=1), starts

    def _chunk_words(self, pieces: Sequence[Piece], starts: Sequence[int], voicing: Voicing,
                     duration: float) -> tuple[Word, ...]:
        """The chunk's spoken words with times from its start, within its `duration` (`tts.runtime.timing`)."""
        seconds_per_vocoded_frame = self.audio.hop_length / self.sample_rate / pitch_factor(voicing.semitones)
        r = self.tacotron2.config.n_frames_per_step
        words: list[Word] = []
        for piece, start in zip(pieces, starts):
            frames = piece.mel.shape[1]
            stretched = resampled_length(frames, voicing.pace / pitch_factor(voicing.semitones))
            words += piece_words(piece.text, speakable_ids(piece.text, self.dictionary), piece.alignment.cpu().numpy(), SPACE_ID, r,
                                 seconds_per_vocoded_frame * stretched / max(1, frames),
                                 start * seconds_per_vocoded_frame)
        return tuple(Word(w.text, min(w.start, duration), min(w.end, duration), w.sentence_end) for w in words)

    def _vocode(self, mels: list[torch.Tensor], cfg: SynthesisConfig, name: str,
                seed: int | None) -> tuple[list[np.ndarray], list[bool]]:
        """Vocode mels of different lengths as one padded batch; trim each to its own length.
        Also returns, per mel, whether the vocoder's output was finite everywhere."""
        vocoder = self._vocoder(name)
        hop = self.audio.hop_length
        lengths = [m.shape[1] for m in mels]
        # STFT-based steps (Griffin-Lim, the denoiser) need more samples than the STFT's reflect padding
        min_frames = self.audio.filter_length // hop + 1
        batch = torch.full((len(mels), self.audio.n_mel_channels, max(*lengths, min_frames)), self.audio.silence_level,
                           device=self.device)
        for i, m in enumerate(mels):
            batch[i, :, : m.shape[1]] = m.to(self.device)
        kwargs = {}
        params = self._vocoder_params(name, vocoder)
        if "sigma" in params:
            kwargs["sigma"] = cfg.sigma
        if "temperature" in params and cfg.temperature is not None:
            kwargs["temperature"] = cfg.temperature
        if "seed" in params:
            kwargs["seed"] = seed
        with self._vocoder_lock:
            # unclipped until the denoiser has run, as in NVIDIA's inference.py (clipped below)
            audio = vocoder(batch.to(weights_placement(vocoder)[1]), clip=False, **kwargs)
            audio = match_mel(audio, batch, cfg.mel_match, self.audio)
            if cfg.denoise > 0:
                audio = self._denoiser(name, vocoder)(audio, strength=cfg.denoise)
        audio, finite = clean_audio(audio)
        return [np.ascontiguousarray(audio[i, : n * hop], dtype=np.float32) for i, n in enumerate(lengths)], finite

    def _vocoder_params(self, name: str, vocoder: torch.nn.Module) -> frozenset[str]:
        if name not in self._synthesize_params:
            self._synthesize_params[name] = frozenset(inspect.signature(vocoder.synthesize).parameters)
        return self._synthesize_params[name]

    def _denoiser(self, name: str, vocoder: torch.nn.Module) -> torch.nn.Module:
        with self._vocoder_lock:
            if name not in self._denoisers:
                self._denoisers[name] = Denoiser(vocoder)
            return self._denoisers[name]


def _within(value: float, bounds: tuple[float, float]) -> float:
    """A chunk's own prosody (SSML) times the call's, kept inside what the setting allows."""
    return min(max(value, bounds[0]), bounds[1])


def _reader(cfg: SynthesisConfig) -> Callable[[str], str]:
    """How one written word is read on its own, with the call's settings (for `Speech.words`)."""
    return functools.partial(frontend.normalize, date_order=cfg.date_order)

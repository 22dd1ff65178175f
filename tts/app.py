"""Web demo: type text, hear it, see its mel spectrogram and attention alignment.

    python app.py                          # http://127.0.0.1:7860, voices found in checkpoints/
    python app.py --voice default --voice path/to/voice --host 0.0.0.0 --port 8080 --max-chars 2000

Everything model-related goes through `tts.Pipeline`; this file only parses input and presents output.
"""
from __future__ import annotations

import argparse
import os
import socket
import sys
import threading
import traceback
from pathlib import Path
from typing import Callable, Mapping, Sequence

import gradio as gr
import numpy as np

from tts.core.device import apply_threads, resolve_device
from tts.core.plotting import plot_alignment, plot_mel
from tts.runtime.downloads import downloadable_voices
from tts.runtime.pipeline import Pipeline
from tts.runtime.settings import (DATE_ORDERS, DENOISE_RANGE, PACE_RANGE, PITCH_RANGE, RANDOM_SEED, VOLUME_RANGE,
                                  SynthesisConfig)
from tts.runtime.speech import Speech, block_diagonal
from tts.runtime.voices import VoiceError, find_voices, load_voice_config, resolve_voice_dir

DEFAULT_VOCODER = "voice default"
MAX_PLOT_COLUMNS = 1600  # wider spectrograms are averaged down in time for display
MAX_ALIGNMENT_STEPS = 1200  # the alignment plot shows the first chunks up to this many decoder steps
EXAMPLES = [
    "The quick brown fox jumps over the lazy dog.",
    "Dr. Smith paid $12.50 for 3 books on Jan. 5th, 2021, at 10:30 a.m.",
    "Call me Ishmael. Some years ago, never mind how long precisely, having little or no money in my purse, "
    "and nothing particular to interest me on shore, I thought I would sail about a little and see the "
    "watery part of the world.",
    "It is a truth universally acknowledged, that a single man in possession of a good fortune, must be in "
    "want of a wife.",
]


class VoiceLibrary:
    """Voices by name, each loaded on first use and then kept (one Pipeline per voice, shared by requests)."""

    def __init__(self, pipelines: Mapping[str, Pipeline] | None = None,
                 factories: Mapping[str, Callable[[], Pipeline]] | None = None):
        self._pipelines = dict(pipelines or {})
        self._factories = dict(factories or {})
        self._lock = threading.Lock()
        if not self.names:
            raise ValueError("no voices to serve")

    @classmethod
    def from_dirs(cls, voice_dirs: Mapping[str, Path], device: str | None = None) -> "VoiceLibrary":
        return cls(factories={name: (lambda d=d: Pipeline.from_pretrained(d, device=device).warm_up())
                              for name, d in voice_dirs.items()})

    @property
    def names(self) -> list[str]:
        return list(dict.fromkeys([*self._pipelines, *self._factories]))

    def add_factory(self, name: str, factory: Callable[[], Pipeline]) -> None:
        """Offer one more voice, built on first use (a name already offered keeps its first source)."""
        with self._lock:
            if name not in self._pipelines and name not in self._factories:
                self._factories[name] = factory

    def get(self, name: str) -> Pipeline:
        with self._lock:
            if name not in self._pipelines:
                if name not in self._factories:
                    raise ValueError(f"unknown voice {name!r}; available: {', '.join(self.names)}")
                self._pipelines[name] = self._factories[name]()
            return self._pipelines[name]

    def vocoders(self, name: str) -> list[str]:
        return self.get(name).vocoder_names


# ----------------------------------------------------------------------------------------------------
# Presentation helpers
# ----------------------------------------------------------------------------------------------------
def _shrink_time(values: np.ndarray, max_columns: int) -> np.ndarray:
    """Average blocks of columns so that a long [rows, T] array is at most `max_columns` wide."""
    factor = -(-values.shape[1] // max_columns)
    if factor <= 1:
        return values
    usable = values.shape[1] // factor * factor
    return values[:, :usable].reshape(values.shape[0], -1, factor).mean(axis=2)


def mel_image(speech: Speech):
    return plot_mel(_shrink_time(speech.mel(), MAX_PLOT_COLUMNS))


def alignment_image(speech: Speech) -> tuple[object, int]:
    """Block-diagonal alignment of the first chunks (all of them for short texts); returns (image, chunks shown)."""
    shown, steps = [], 0
    for chunk in speech.chunks:
        if shown and steps + chunk.alignment.shape[0] > MAX_ALIGNMENT_STEPS:
            break
        shown.append(chunk.alignment)
        steps += chunk.alignment.shape[0]
    return plot_alignment(block_diagonal(shown)), len(shown)


def summary(speech: Speech, vocoder: str, chunks_in_alignment: int) -> str:
    t = speech.timing
    lines = [
        f"**{speech.duration:.2f} s** of audio in {len(speech.chunks)} chunk(s) · synthesised in "
        f"{t.synthesis_seconds:.2f} s (**{speech.real_time_factor:.2f}× real time**; Tacotron 2 "
        f"{t.mel_seconds:.2f} s, {vocoder} {t.vocoder_seconds:.2f} s) · first audio after {t.first_audio_seconds:.2f} s",
    ]
    if chunks_in_alignment < len(speech.chunks):
        lines.append(f"Alignment: the first {chunks_in_alignment} of {len(speech.chunks)} chunks.")
    lines.append(f"Spoken text: _{speech.normalized[:500]}{'…' if len(speech.normalized) > 500 else ''}_")
    if speech.warnings:
        lines.append("**Warnings**\n\n" + "\n".join(f"- {w}" for w in speech.warnings))
    return "\n\n".join(lines)


# ----------------------------------------------------------------------------------------------------
# The demo
# ----------------------------------------------------------------------------------------------------
def make_speak_function(library: VoiceLibrary, max_chars: int) -> Callable:
    """The Speak button's handler: (text, voice, vocoder, sigma, denoise, pace, seed) -> (audio, mel image,
    alignment image, summary). Refusals are `gr.Error`s with a message for the user."""

    def speak(text: str, voice: str, vocoder: str, sigma: float, denoise: float, pace: float, seed: float | None,
              date_order: str = SynthesisConfig.date_order, pitch: float = 0.0, volume: float = 1.0,
              progress=gr.Progress()):
        text = text or ""
        if not text.strip():
            raise gr.Error("Please type some text to speak.", print_exception=False)
        if len(text) > max_chars:
            raise gr.Error(f"The text is {len(text):,} characters long; this demo speaks at most {max_chars:,}. "
                           "Shorten it or use the command line (tts-say --file).", print_exception=False)
        try:
            pipe = library.get(voice)
            # a slider left at the voice's value is not a request: only a moved σ is checked against the vocoder
            overrides = dict(sigma=None if sigma == pipe.config.sigma else sigma, denoise=denoise, pace=pace,
                             seed=RANDOM_SEED if seed is None or seed < 0 else int(seed), date_order=date_order,
                             pitch=pitch, volume=volume,
                             vocoder=None if vocoder in (None, "", DEFAULT_VOCODER) else vocoder)
            speech = pipe.speak(text, progress=lambda done, n: progress((done, n), desc="Speaking", unit="chunks"),
                                **overrides)
            image, shown = alignment_image(speech)
            used = overrides["vocoder"] or pipe.default_vocoder
            return ((speech.sample_rate, speech.to_int16()), mel_image(speech), image, summary(speech, used, shown))
        except gr.Error:
            raise
        except ValueError as exc:  # bad input or settings: the message is written for users
            raise gr.Error(str(exc), print_exception=False) from None
        except Exception as exc:
            raise gr.Error(f"Synthesis failed: {exc.__class__.__name__}: {exc}") from None

    return speak


def build_demo(
    pipelines: Mapping[str, Pipeline] | VoiceLibrary | None = None,
    *,
    pipeline_factory: Callable[[], Pipeline] | None = None,
    max_chars: int = 5000,
) -> gr.Blocks:
    """The Gradio app. Give ready `pipelines` by voice name, a VoiceLibrary, or a factory for one voice;
    by default every voice folder under checkpoints/ is offered (each loaded on first use)."""
    if isinstance(pipelines, VoiceLibrary):
        library = pipelines
    elif pipelines:
        library = VoiceLibrary(pipelines=pipelines)
    elif pipeline_factory is not None:
        library = VoiceLibrary(factories={"voice": pipeline_factory})
    else:
        voices = find_voices()
        if not voices:
            raise VoiceError("no voices found under checkpoints/: build the default voice (recipes/default_voice) "
                             "or start the app with --voice DIR")
        library = VoiceLibrary.from_dirs(voices)
    if max_chars < 1:
        raise ValueError(f"max_chars must be positive, got {max_chars}")

    def voice_settings(voice: str) -> SynthesisConfig:
        """The voice's own synthesis defaults (its voice.yaml), so the sliders start where the CLI does."""
        try:
            return library.get(voice).config
        except Exception:  # the error shows when speaking; the sliders fall back to the library defaults
            return SynthesisConfig()

    def vocoder_choices(voice: str) -> list[str]:
        try:
            return [DEFAULT_VOCODER, *library.vocoders(voice)]
        except Exception:  # the error shows when speaking; the menu still works
            return [DEFAULT_VOCODER]

    def on_voice_change(voice: str):
        settings = voice_settings(voice)
        return (gr.Dropdown(choices=vocoder_choices(voice), value=DEFAULT_VOCODER),
                gr.Slider(value=settings.sigma, maximum=max(1.0, settings.sigma)),
                gr.Slider(value=settings.denoise), gr.Slider(value=settings.pace), seed_value(settings),
                gr.Radio(value=settings.date_order))

    def seed_value(settings: SynthesisConfig) -> int:
        return RANDOM_SEED if settings.seed is None else settings.seed

    speak = make_speak_function(library, max_chars)

    first_voice = library.names[0]
    defaults = voice_settings(first_voice)
    with gr.Blocks(title="tts: Tacotron 2 text to speech", analytics_enabled=False) as demo:
        gr.Markdown(
            "# Text to speech\nTacotron 2 turns your text into a mel spectrogram; a vocoder (WaveGlow or "
            "Griffin-Lim) turns that into audio. Long texts are spoken sentence by sentence."
        )
        with gr.Row():
            with gr.Column(scale=3):
                text = gr.Textbox(label="Text", lines=6, placeholder="Type English text here…",
                                  info=f"Up to {max_chars:,} characters. Numbers, dates, money and abbreviations are read out.",
                                  elem_id="tts-text")
                gr.Examples(examples=[[e] for e in EXAMPLES], inputs=[text], label="Examples")
                with gr.Row():
                    voice = gr.Dropdown(choices=library.names, value=first_voice, label="Voice", elem_id="tts-voice")
                    vocoder = gr.Dropdown(choices=vocoder_choices(first_voice), value=DEFAULT_VOCODER, label="Vocoder",
                                          elem_id="tts-vocoder")
                with gr.Accordion("Settings", open=False):
                    sigma = gr.Slider(0.0, max(1.0, defaults.sigma), value=defaults.sigma, step=0.01, label="σ (WaveGlow noise)",
                                      info="Lower is steadier, higher is livelier; ignored by Griffin-Lim.")
                    denoise = gr.Slider(DENOISE_RANGE[0], DENOISE_RANGE[1], value=defaults.denoise, step=0.005,
                                        label="Denoiser strength", info="Removes the vocoder's hiss; 0 = off.")
                    pace = gr.Slider(PACE_RANGE[0], PACE_RANGE[1], value=defaults.pace, step=0.05, label="Pace",
                                     info="Speaking rate (2 = twice as fast); pitch stays the same.")
                    seed = gr.Number(value=seed_value(defaults), precision=0, label="Seed",
                                     info="-1 = different every time; any other number repeats the same take.")
                    date_order = gr.Radio(list(DATE_ORDERS), value=defaults.date_order, label="Dates like 11/05/2023",
                                          info="mdy: November 5 (US); dmy: 11 May.")
                    pitch = gr.Slider(PITCH_RANGE[0], PITCH_RANGE[1], value=defaults.pitch, step=0.5,
                                      label="Pitch (semitones)", info="Higher or lower voice; the speed stays.")
                    volume = gr.Slider(VOLUME_RANGE[0], VOLUME_RANGE[1], value=defaults.volume, step=0.05,
                                       label="Volume", info="1 = as the voice speaks; a limiter keeps peaks clean.")
                button = gr.Button("Speak", variant="primary", elem_id="tts-speak")
            with gr.Column(scale=2):
                # the browser's own player: a plain <audio> element (seekable, accessible, testable)
                audio = gr.Audio(label="Speech", type="numpy", interactive=False, elem_id="tts-audio",
                                 waveform_options=gr.WaveformOptions(show_recording_waveform=False))
                info = gr.Markdown(elem_id="tts-summary")
                mel = gr.Image(label="Mel spectrogram", type="pil", interactive=False, format="png")
                alignment = gr.Image(label="Attention alignment (decoder steps → text)", type="pil",
                                     interactive=False, format="png")
        voice.change(on_voice_change, inputs=voice, outputs=[vocoder, sigma, denoise, pace, seed, date_order],
                     api_name=False)
        inputs = [text, voice, vocoder, sigma, denoise, pace, seed, date_order, pitch, volume]
        outputs = [audio, mel, alignment, info]
        button.click(speak, inputs=inputs, outputs=outputs, api_name="speak")
        text.submit(speak, inputs=inputs, outputs=outputs, api_name=False)
    demo.queue(default_concurrency_limit=1)
    return demo


def _boolean(value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise argparse.ArgumentTypeError(f"expected true or false, got {value!r}")


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="tts-app", description="Serve the text-to-speech web demo.",
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (0.0.0.0 = every interface)")
    parser.add_argument("--port", type=int, default=7860, help="port to listen on (1-65535)")
    parser.add_argument("--voice", metavar="NAME|DIR", action="append",
                        help="voice to serve: a shipped or downloadable voice name or a folder, as for tts-say "
                             "(repeatable; default: the shipped voices and NVIDIA's, downloaded when first chosen)")
    parser.add_argument("--share", type=_boolean, default=False, metavar="true|false",
                        help="also open a public gradio.live link")
    parser.add_argument("--max-chars", type=int, default=5000, help="longest text accepted")
    parser.add_argument("--device", help='torch device (default: "cuda" when available, else "cpu")')
    parser.add_argument("--threads", type=int, metavar="N",
                        help="intra-op threads (default: $TTS_NUM_THREADS, else the cores not busy with other work)")
    parser.add_argument("--verbose", action="store_true", help="show the traceback of an error")
    return parser.parse_args(argv)


def check_port_free(host: str, port: int) -> None:
    """A port that is out of range or already taken is the user's error, said before Gradio starts."""
    if not 1 <= port <= 65535:
        raise ValueError(f"--port must be between 1 and 65535, got {port}")
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise ValueError(f"cannot listen on {host}:{port} ({exc.strerror or exc}); is another server using "
                             "it? Choose another with --port") from None


def voice_library(args: argparse.Namespace) -> VoiceLibrary:
    """The voices to offer: those named on the command line, else the shipped ones and the
    downloadable ones (each loaded, and downloaded, when first chosen)."""
    if args.voice:
        dirs = {}
        for d in args.voice:
            directory = resolve_voice_dir(d)  # a voice name or a folder, resolved as the CLI does
            config = load_voice_config(directory)
            dirs[config.name if config.name not in dirs else str(d)] = directory
        return VoiceLibrary.from_dirs(dirs, device=args.device)
    dirs = find_voices()
    if not dirs:
        raise VoiceError("no shipped voices found: build the default voice (recipes/default_voice) or pass --voice")
    library = VoiceLibrary.from_dirs(dirs, device=args.device)
    for listing in downloadable_voices():
        library.add_factory(listing.name, lambda name=listing.name: Pipeline.from_pretrained(
            name, device=args.device).warm_up())
    return library


def main(argv: Sequence[str] | None = None) -> int:
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # no calls home from a local demo
    args = parse_args(argv)
    try:
        if args.device is not None:
            resolve_device(args.device, check=True)
        check_port_free(args.host, args.port)
        if args.max_chars < 1:
            raise ValueError(f"--max-chars must be positive, got {args.max_chars}")
        threads = apply_threads(args.threads)
        library = voice_library(args)
        library.get(library.names[0])  # load the first voice now so that a broken one fails at start-up
        demo = build_demo(library, max_chars=args.max_chars)
        print(f"tts-app: {threads}; voices: {', '.join(library.names)}", file=sys.stderr)
        demo.launch(server_name=args.host, server_port=args.port, share=args.share, ssr_mode=False)
    except (VoiceError, ValueError, OSError) as exc:
        if args.verbose:
            traceback.print_exc()
        print(f"error: {' '.join(str(exc).split())}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return 0

if __name__ == "__main__":
    sys.exit(main())

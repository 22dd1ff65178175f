"""Command line: text in, audio file out.

    python -m tts.say "Hello there." -o hello.wav
    echo "Read from stdin." | tts-say - -o stdin.flac --pace 1.2 --seed 7
    tts-say --file chapter.txt -o chapter.ogg --vocoder griffin-lim
    tts-say "To standard output." -o - | aplay

Exit status: 0 success, 2 bad arguments or input (empty or unreadable text, missing checkpoint,
output folder missing or not writable, unknown audio format; all checked before any synthesis),
1 failure while loading the models or synthesising. Errors are one `error: ...` line on stderr;
`--verbose` adds the traceback.

Cheap checks run before torch is imported, so a mistyped command fails in well under a second.
"""
from __future__ import annotations

import argparse
import sys
import traceback
from pathlib import Path
from typing import Any, Sequence

from tts import __version__

EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2

#: options that are SynthesisConfig fields of the same name (unset = keep the voice's default)
_KNOBS = ("ssml", "date_order", "sigma", "temperature", "denoise", "mel_match", "pitch", "volume", "pace", "seed", "max_decoder_steps", "gate_threshold", "prenet_dropout", "pause_scale",
          "max_chunk_chars", "max_retries", "vocoder", "overlap")


class UsageError(Exception):
    """Bad arguments or input: exit status 2."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tts-say",
        description="Speak English text with Tacotron 2 and a vocoder (WaveGlow or Griffin-Lim).",
        epilog="Exit status: 0 ok, 2 bad arguments or input, 1 failure while loading or synthesising.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("text", nargs="?", help='text to speak; "-" reads standard input')
    parser.add_argument("-f", "--file", metavar="PATH", help='read the text from a UTF-8 file ("-" = standard input)')
    parser.add_argument("-o", "--output", metavar="PATH",
                        help='audio file to write: .wav, .flac, .ogg, .opus, .mp3 or .pcm, chunk by chunk into a '
                             'temporary file renamed when done ("-" = WAV streamed to standard output)')
    batch = parser.add_argument_group("batch synthesis")
    batch.add_argument("--manifest", metavar="FILE",
                       help="a .tsv (id<TAB>text) or .jsonl (id, text, optional settings) file: one audio file per id")
    batch.add_argument("--out-dir", metavar="DIR", help="where --manifest writes <id>.<format> and its report")
    batch.add_argument("--format", default="wav", choices=["wav", "flac", "ogg", "opus", "mp3", "pcm"],
                       help="audio format of --manifest's files (default wav)")
    batch.add_argument("--shard", metavar="I/N",
                       help="do only shard I of N (1-based); default: $RANK/$WORLD_SIZE as torchrun sets them")
    parser.add_argument("--subtitles", metavar="PATH",
                        help="also write the word timings as subtitles: .srt (SubRip) or .vtt (WebVTT)")
    parser.add_argument("--keep-partial", action="store_true",
                        help="on an error or interrupt keep what was written as NAME.partial.EXT (default: remove it)")

    models = parser.add_argument_group("voice and models")
    models.add_argument("--voice", metavar="DIR",
                        help="voice folder or name under checkpoints/ (default: checkpoints/default or $TTS_VOICE_DIR)")
    models.add_argument("--tacotron2", metavar="PATH",
                        help="Tacotron 2 checkpoint (NVIDIA or project format) instead of a voice folder")
    models.add_argument("--waveglow", metavar="PATH", help="WaveGlow checkpoint to use with --tacotron2")
    models.add_argument("--pronouncing-dictionary", metavar="PATH",
                        help="with --tacotron2: the CMUdict-format dictionary of a Tacotron 2 trained to read phones "
                             "(a voice folder brings its own)")
    models.add_argument("--vocoder", metavar="NAME", help="vocoder by name (see --list-vocoders); default: the voice's")
    models.add_argument("--device", help='torch device, e.g. "cpu" or "cuda" (default: cuda when available)')
    models.add_argument("--threads", type=int, metavar="N",
                        help="intra-op threads (default: $TTS_NUM_THREADS, else the cores not busy with other work)")
    models.add_argument("--dtype", choices=["float32", "float16", "bfloat16"], help="model precision (default float32)")
    models.add_argument("--quantize", choices=["auto", "int8", "none"], default="auto",
                        help="auto (default): a full-size WaveGlow voice on the CPU runs its fastest measured path "
                             "(int8 WaveGlow and Tacotron 2 decoder, compiled kernels where they build; measured SNR "
                             "~40 dB against float32), other voices float32; int8: WaveGlow's large matrix products in "
                             "int8 on the CPU (WaveGlow only: with a voice that has none, or another --vocoder, a "
                             "warning says it has no effect); none: float throughout")
    models.add_argument("--runtime", choices=["torch", "onnx"], default="torch",
                        help="torch (default), or onnx: the graphs of `python -m tts.export_onnx` in onnxruntime "
                             "(--voice or --tacotron2 names the exported folder; needs pip install 'tacoglow[onnx]')")

    knobs = parser.add_argument_group("synthesis (defaults come from the voice)")
    knobs.add_argument("--sigma", type=float, metavar="S", help="WaveGlow noise scale, >= 0 (e.g. 0.6)")
    knobs.add_argument("--temperature", type=float, metavar="T",
                       help="FloWaveNet / WaveRNN sampling temperature (their own defaults: 0.8 / 1.0)")
    knobs.add_argument("--denoise", type=float, metavar="D", help="denoiser strength in [0, 0.5]; 0 = off (e.g. 0.01)")
    knobs.add_argument("--mel-match", type=int, metavar="N",
                       help="passes of mel matching (0-50; 0 = off): the vocoder's band energies set to the mel's")
    knobs.add_argument("--pace", type=float, metavar="P", help="speaking rate in [0.25, 4]: 1.2 = 20%% faster, same pitch")
    knobs.add_argument("--ssml", action=argparse.BooleanOptionalAction, default=None,
                       help="read the text as SSML (--no-ssml: never); default: when it starts with <speak>")
    knobs.add_argument("--pitch", type=float, metavar="ST", help="pitch shift in semitones, -12 to 12 (same duration)")
    knobs.add_argument("--volume", type=float, metavar="G", help="loudness as a gain, 0 to 2 (a limiter keeps peaks)")
    knobs.add_argument("--seed", type=int, metavar="N", help="make the output reproducible; -1 = different every run (a voice may set its own seed)")
    knobs.add_argument("--max-decoder-steps", type=int, metavar="N", help="decoder step limit per chunk (e.g. 1000)")
    knobs.add_argument("--gate-threshold", type=float, metavar="G", help="stop probability threshold in [0, 1]")
    knobs.add_argument("--prenet-dropout", type=float, metavar="P", help="prenet dropout at inference (0 = deterministic)")
    knobs.add_argument("--pause-scale", type=float, metavar="X", help="multiply the pauses between sentences")
    knobs.add_argument("--max-chunk-chars", type=int, metavar="N", help="longest chunk of text per decoder run")
    knobs.add_argument("--max-retries", type=int, metavar="N", help="re-synthesis rounds for chunks that fail")
    knobs.add_argument("--overlap", action=argparse.BooleanOptionalAction, default=None,
                       help="vocode while Tacotron 2 is still decoding (WaveGlow; two threads; --no-overlap: one stage "
                            "after the other, exactly as before); default: off (measured slower on 2 cores: "
                            "bench/pipeline_speed.py)")
    knobs.add_argument("--date-order", choices=["mdy", "dmy"],
                       help="read an ambiguous date like 11/05/2023 month first (mdy, US: November 5) or day first "
                            "(dmy: 11 May); default mdy")

    info = parser.add_argument_group("information")
    info.add_argument("--list-vocoders", action="store_true", help="list the vocoders and exit")
    info.add_argument("--list-voices", action="store_true",
                      help="list the shipped and the downloadable voices (and whether each is cached) and exit")
    info.add_argument("--download", metavar="NAME",
                      help="download a voice (e.g. nvidia-ljspeech) into the cache ($TTS_HOME) and exit")
    info.add_argument("-q", "--quiet", action="store_true", help="no progress bar, summary or warnings")
    info.add_argument("--progress", action="store_true",
                      help="show the progress bar even when standard error is not a terminal")
    info.add_argument("-v", "--verbose", action="store_true", help="per-chunk details and tracebacks on errors")
    return parser


# ----------------------------------------------------------------------------------------------------
# Input checks (no torch)
# ----------------------------------------------------------------------------------------------------
def read_text(args: argparse.Namespace) -> str:
    if args.text is not None and args.file is not None:
        raise UsageError("give the text either as an argument or with --file, not both")
    source = args.file if args.file is not None else args.text
    if source is None:
        raise UsageError('no text: give it as an argument, with --file PATH, or "-" to read standard input')
    if args.file is None and source != "-":
        text = source
    elif source == "-":
        data = sys.stdin.buffer.read()
        text = _decode(data, "standard input")
    else:
        path = Path(source)
        if path.is_dir():
            raise UsageError(f"cannot read {path}: it is a folder")
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from None
        text = _decode(data, str(path))
    if not text.strip():
        raise UsageError("the text is empty")
    return text


def _decode(data: bytes, where: str) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UsageError(f"{where} is not UTF-8 text (byte {exc.start}: {data[exc.start:exc.start + 1]!r})") from None


def check_paths(args: argparse.Namespace) -> None:
    if args.output is None:
        raise UsageError("no output file: add -o PATH (.wav, .flac, .ogg, .opus, .mp3) or -o - for standard output")
    if args.subtitles is not None:
        if Path(args.subtitles).suffix.lower() not in (".srt", ".vtt"):
            raise UsageError(f"--subtitles {args.subtitles}: the file must end in .srt or .vtt")
        if not Path(args.subtitles).parent.is_dir():
            raise UsageError(f"--subtitles: folder does not exist: {Path(args.subtitles).parent}")
    if args.voice is not None and args.tacotron2 is not None:
        raise UsageError("use either --voice or --tacotron2, not both")
    if args.waveglow is not None and args.tacotron2 is None:
        raise UsageError("--waveglow goes with --tacotron2 (a voice folder brings its own vocoders)")
    if args.pronouncing_dictionary is not None and args.tacotron2 is None:
        raise UsageError("--pronouncing-dictionary goes with --tacotron2 (a voice folder brings its own)")
    if args.pronouncing_dictionary is not None and not Path(args.pronouncing_dictionary).is_file():
        raise UsageError(f"--pronouncing-dictionary: file not found: {args.pronouncing_dictionary}")
    for option in ("tacotron2", "waveglow"):
        path = getattr(args, option)
        folder_ok = option == "tacotron2" and args.runtime == "onnx" and path is not None and Path(path).is_dir()
        if path is not None and not (Path(path).is_file() or folder_ok):
            raise UsageError(f"--{option}: checkpoint not found: {path}")
    check_runtime_args(args)
    if args.tacotron2 is not None:
        from tts.core.onnx import onnx_folder_problem

        problem = onnx_folder_problem(args.tacotron2, args.runtime)
        if problem:
            raise UsageError(f"--tacotron2: {problem}")


def check_runtime_args(args: argparse.Namespace) -> None:
    """--runtime onnx needs onnxruntime (looked for without importing it, before torch loads)."""
    if args.runtime == "onnx":
        from tts.core.onnx import onnx_missing_reason

        reason = onnx_missing_reason()
        if reason:
            raise UsageError(f"--runtime onnx: {reason}")


def check_writable(output: str) -> None:
    """Create and remove a temporary file next to `output` (and open an existing `output` for appending,
    without changing it): permission bits say yes to root even in /proc or on a read-only file system,
    so only trying tells whether the file can be written after a long synthesis."""
    import os
    import tempfile

    path = Path(output)
    folder = path.parent
    try:
        if path.exists():
            with open(path, "ab"):
                pass
        else:
            fd, probe = tempfile.mkstemp(prefix=".tts-say-", suffix=".tmp", dir=folder)
            os.close(fd)
            os.remove(probe)
    except OSError as exc:
        where = "the file cannot be opened for writing" if path.exists() else f"no file can be created in {folder}"
        raise UsageError(f"cannot write {path}: {where} ({exc.strerror or exc})") from None


def check_device(device: str) -> None:
    """The device parses and is there: asking for CUDA on a CPU-only torch is a bad argument, not a crash."""
    from tts.core.device import DeviceError, resolve_device

    try:
        resolve_device(device, check=True)
    except DeviceError as exc:
        raise UsageError(f"--device {device}: {exc}") from None


def overrides(args: argparse.Namespace) -> dict[str, Any]:
    return {name: getattr(args, name) for name in _KNOBS if getattr(args, name) is not None}


# ----------------------------------------------------------------------------------------------------
# Commands
# ----------------------------------------------------------------------------------------------------
def list_vocoders() -> None:
    from vocoder import VOCODERS

    for name in VOCODERS.names():
        entry = VOCODERS.get(name)
        needs = "needs weights" if entry.needs_weights else "no weights"
        print(f"{name:<14} {needs:<14} {entry.description}")


def list_voices() -> None:
    from tts.runtime.downloads import downloadable_voices
    from tts.runtime.voices import VoiceError, find_voices, load_voice_config, shipped_voices_dir

    voices = find_voices()
    if not voices:
        print(f"no voices in {shipped_voices_dir()}", file=sys.stderr)
    for name, path in voices.items():
        try:
            voice = load_voice_config(path)
            print(f"{name:<20} {voice.default_vocoder:<12} {'shipped':<24} {voice.description}")
        except VoiceError as exc:
            print(f"{name:<20} (broken: {exc})")
    for listing in downloadable_voices():
        state = "cached" if listing.cached else f"download, {listing.size_text}"
        print(f"{listing.name:<20} {'waveglow':<12} {state:<24} {listing.description}")


def download(name: str, quiet: bool) -> None:
    from tts.runtime.catalog import catalog
    from tts.runtime.downloads import ensure_voice

    if name not in catalog():
        raise UsageError(f"--download {name}: not a downloadable voice; choose one of {', '.join(catalog())}")
    folder = ensure_voice(name, quiet=quiet)
    if not quiet:
        print(f"{name} is ready in {folder}", file=sys.stderr)


def load_pipeline(args: argparse.Namespace):
    from tts.core.onnx import onnx_folder_problem
    from tts.runtime.pipeline import Pipeline
    from tts.runtime.voices import VoiceError, load_voice_config, resolve_voice_dir

    quantize = None if args.quantize == "none" else args.quantize
    if args.tacotron2 is not None:
        return Pipeline.from_checkpoints(args.tacotron2, args.waveglow, vocoder=args.vocoder, device=args.device,
                                         dtype=args.dtype, quantize=quantize, runtime=args.runtime,
                                         pronouncing_dictionary=args.pronouncing_dictionary)
    try:  # a missing or incomplete voice folder is the user's input, checked before loading weights
        voice_dir = resolve_voice_dir(args.voice, quiet=args.quiet)
        problem = onnx_folder_problem(load_voice_config(voice_dir).tacotron2, args.runtime)
    except VoiceError as exc:
        raise UsageError(str(exc)) from None
    if problem:
        raise UsageError(f"--voice: {problem}")
    return Pipeline.from_pretrained(voice_dir, device=args.device, dtype=args.dtype, quantize=quantize,
                                    runtime=args.runtime)


def synthesize(args: argparse.Namespace, text: str) -> int:
    from tts.runtime.planning import plan_text
    from tts.runtime.settings import SynthesisConfig
    from tts.runtime.speech import check_output_path

    knobs = overrides(args)
    try:
        SynthesisConfig().replace(**knobs)  # ranges are the same whatever the voice's defaults
        if args.vocoder is not None:
            from vocoder import VOCODERS

            VOCODERS.get(args.vocoder)  # a typo fails before the models load
        if args.output != "-":
            check_output_path(args.output)
            check_writable(args.output)
        plan_text(text, knobs.get("max_chunk_chars", SynthesisConfig.max_chunk_chars),
                  knobs.get("date_order", SynthesisConfig.date_order), knobs.get("ssml"))  # anything to say?
        if args.device is not None:
            check_device(args.device)
        from tts.core.device import choose_threads

        choose_threads(args.threads)  # --threads 0 or a bad $TTS_NUM_THREADS is a usage error
    except (ValueError, OSError, RuntimeError) as exc:
        raise UsageError(str(exc)) from None

    from tts.core.device import apply_threads

    threads = apply_threads(args.threads)
    if args.verbose:
        print(f"threads: {threads}", file=sys.stderr)
    pipe = load_pipeline(args)
    if args.verbose:
        try:
            for line in pipe.describe(**knobs):
                print(line, file=sys.stderr)
        except ValueError as exc:  # e.g. a vocoder this voice has no weights for
            raise UsageError(str(exc)) from None
    if args.quantize == "int8" and not args.quiet:
        used = args.vocoder or pipe.default_vocoder
        if used != "waveglow":
            why = "this voice has none" if "waveglow" not in pipe.vocoder_names else f"this run uses {used}"
            print(f"warning: --quantize {args.quantize} applies only to the WaveGlow vocoder and {why}; ignored",
                  file=sys.stderr)
    def describe(chunk) -> None:
        if args.verbose:
            print(f"chunk {chunk.index + 1}: {chunk.duration:.2f} s, {chunk.mel.shape[1]} frames, "
                  f"{chunk.retries} retries: {chunk.text!r}", file=sys.stderr)

    progress = _ProgressBar(disable=args.quiet or not (args.progress or sys.stderr.isatty()))
    target = sys.stdout.buffer if args.output == "-" else args.output
    try:
        recording = pipe.speak_to_file(text, target, progress=progress.update, on_chunk=describe,
                                       keep_partial=args.keep_partial, **knobs)
    except ValueError as exc:  # e.g. a vocoder this voice has no weights for
        raise UsageError(str(exc)) from None
    finally:
        progress.close()
    if args.subtitles is not None:
        write_subtitles(args.subtitles, recording)
    if not args.quiet:
        for warning in recording.warnings:
            print(f"warning: {warning}", file=sys.stderr)
        where = "standard output" if args.output == "-" else args.output
        print(f"wrote {where}: {recording.duration:.2f} s of audio, {recording.chunks} chunk(s), "
              f"synthesised in {recording.timing.synthesis_seconds:.2f} s ({recording.real_time_factor:.2f}x real "
              f"time, {pipe.default_vocoder if args.vocoder is None else args.vocoder})", file=sys.stderr)
    return EXIT_OK


def synthesize_manifest(args: argparse.Namespace) -> int:
    """--manifest: one file per line into --out-dir (resumable, shardable); see `tts.batch`."""
    from tts.batch import ManifestError, prepare_batch, run_batch
    from tts.core.device import apply_threads

    if args.out_dir is None:
        raise UsageError("--manifest needs --out-dir DIR (one audio file per id goes there)")
    if args.output is not None or args.text is not None or args.file is not None or args.subtitles is not None:
        raise UsageError("--manifest reads its texts from the manifest: drop the text, --file, -o and --subtitles")
    try:
        job = prepare_batch(args.manifest, args.out_dir, format=args.format, shard=args.shard, settings=overrides(args))
        if args.device is not None:
            check_device(args.device)
    except (ValueError, OSError) as exc:
        raise UsageError(str(exc)) from None
    threads = apply_threads(args.threads)
    if args.verbose:
        print(f"threads: {threads}", file=sys.stderr)
    pipe = load_pipeline(args)
    try:
        report = run_batch(pipe, job, quiet=args.quiet, verbose=args.verbose, progress=True if args.progress else None)
    except ManifestError as exc:  # a line asks for something this voice cannot do
        raise UsageError(str(exc)) from None
    return report.exit_status  # run_batch printed the summary (unless --quiet)


def write_subtitles(path: str, recording) -> None:
    """SRT or WebVTT (by the extension) of the written words' timings, written atomically."""
    text = recording.to_vtt() if Path(path).suffix.lower() == ".vtt" else recording.to_srt()
    tmp = Path(path).with_name(Path(path).name + ".partial")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


class _ProgressBar:
    """A tqdm bar over chunks, made when `Pipeline.speak` first reports the total (none for one chunk)."""

    def __init__(self, disable: bool) -> None:
        self.disable = disable
        self.bar = None

    def update(self, done: int, total: int) -> None:
        if self.bar is None:
            from tqdm import tqdm

            self.bar = tqdm(total=total, unit="chunk", desc="speaking", file=sys.stderr,
                            disable=self.disable or total < 2, leave=False)
        self.bar.update(done - self.bar.n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def main(argv: Sequence[str] | None = None) -> int:
    from tts.core.device import prefer_passive_waiting

    prefer_passive_waiting()  # before torch loads: waiting threads sleep instead of spinning
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.list_vocoders:
            list_vocoders()
            return EXIT_OK
        if args.list_voices:
            list_voices()
            return EXIT_OK
        if args.download:
            download(args.download, args.quiet)
            return EXIT_OK
        if args.manifest:
            check_runtime_args(args)
            return synthesize_manifest(args)
        check_paths(args)
        text = read_text(args)
        return synthesize(args, text)
    except UsageError as exc:
        return _fail(str(exc), EXIT_USAGE, args.verbose)
    except KeyboardInterrupt as exc:  # SynthesisInterrupted says how much was written and where it went
        return _fail(str(exc) or "interrupted", 130, args.verbose)
    except Exception as exc:  # anything else is a runtime failure: one line unless --verbose
        return _fail(f"{exc.__class__.__name__}: {exc}" if not str(exc) else str(exc), EXIT_FAILURE, args.verbose)


def _fail(message: str, code: int, verbose: bool) -> int:
    if verbose:
        traceback.print_exc()
    print(f"error: {' '.join(message.split())}", file=sys.stderr)
    return code


if __name__ == "__main__":
    sys.exit(main())

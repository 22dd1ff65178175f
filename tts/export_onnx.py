"""Export a voice's models as ONNX graphs: `python -m tts.export_onnx --voice DIR --out DIR`.

    python -m tts.export_onnx --voice nvidia-ljspeech --out onnx/ljspeech [--int8] [--check]
    python -m tts.export_onnx --tacotron2 T.pt [--waveglow W.pt] --out DIR

Writes into --out:
    tacotron2_encoder.onnx, tacotron2_decoder_iter.onnx, tacotron2_postnet.onnx, tacotron2.json
        (DeepLearningExamples' split; `tts.tacotron2.onnx` describes every input and output)
    waveglow.onnx, waveglow.onnx.json        when the voice has a (full-size) WaveGlow: mel + noise -> audio
    *.int8.onnx                              with --int8: onnxruntime's dynamic int8 decoder step / WaveGlow
    voice.yaml                               with --voice: the voice's settings pointing at the graphs, so the
                                             folder is a voice for `runtime="onnx"` loaders
--check runs PyTorch and onnxruntime on the same short input and prints the largest difference.
The graphs are loaded by `load_tacotron2(DIR, runtime="onnx")` and `load_waveglow(DIR/waveglow.onnx,
runtime="onnx")`. Needs the `[onnx]` extra (pip install 'tacoglow[onnx]').
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tts.export_onnx", description=__doc__.split("\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--voice", help="a voice folder or voice name (see tts-say --voice)")
    source.add_argument("--tacotron2", help="a Tacotron 2 checkpoint (any format load_tacotron2 reads)")
    parser.add_argument("--waveglow", help="with --tacotron2: a WaveGlow checkpoint")
    parser.add_argument("--out", required=True, help="folder to write the graphs into")
    parser.add_argument("--int8", action="store_true", help="also write onnxruntime's dynamic int8 graphs")
    parser.add_argument("--check", action="store_true", help="compare PyTorch and onnxruntime on a short input")
    parser.add_argument("--opset", type=int, default=17, help="ONNX opset (default 17)")
    args = parser.parse_args(argv)
    if args.waveglow and not args.tacotron2:
        parser.error("--waveglow goes with --tacotron2 (a voice names its own vocoders)")
    from tts.core.onnx import onnx_missing_reason

    missing = onnx_missing_reason(export=True)  # before torch loads: a missing extra fails at once
    if missing:
        print(f"error: ONNX export needs the [onnx] extra: {missing}", file=sys.stderr)
        return 2

    import torch

    from tts.tacotron2 import load_tacotron2
    from tts.tacotron2.onnx import export_tacotron2_onnx, quantize_tacotron2_onnx
    from vocoder.waveglow import load_waveglow
    from vocoder.waveglow.checkpoint import read_waveglow_checkpoint
    from vocoder.waveglow.compact import CompactWaveGlowConfig
    from vocoder.waveglow.onnx import export_waveglow_onnx, quantize_waveglow_onnx

    out = Path(args.out)
    voice = None
    if args.voice:
        from tts.runtime.voices import load_voice_config, resolve_voice_dir

        voice = load_voice_config(resolve_voice_dir(args.voice))
        tacotron2_path, waveglow_path = voice.tacotron2, voice.vocoders.get("waveglow")
    else:
        tacotron2_path, waveglow_path = Path(args.tacotron2), Path(args.waveglow) if args.waveglow else None
    if waveglow_path is not None and isinstance(read_waveglow_checkpoint(waveglow_path)[0], CompactWaveGlowConfig):
        print(f"{waveglow_path} is a compact WaveGlow: only full-size WaveGlow is exported", file=sys.stderr)
        waveglow_path = None

    tacotron2 = load_tacotron2(tacotron2_path)
    written = list(export_tacotron2_onnx(tacotron2, out, opset=args.opset).values()) + [out / "tacotron2.json"]
    waveglow = None
    if waveglow_path is not None:
        waveglow = load_waveglow(waveglow_path)
        written += [export_waveglow_onnx(waveglow, out / "waveglow.onnx", opset=args.opset), out / "waveglow.onnx.json"]
    if args.int8:
        written.append(quantize_tacotron2_onnx(out))
        if waveglow is not None:
            written.append(quantize_waveglow_onnx(out / "waveglow.onnx"))
    if voice is not None:
        written.append(_write_voice_yaml(voice, out, waveglow is not None))
    for path in written:
        print(f"{path}  ({path.stat().st_size / 1e6:.1f} MB)")
    if args.check:
        with torch.inference_mode():
            ids = torch.randint(1, tacotron2.config.n_symbols, (1, 24))
            a = tacotron2.infer(ids, max_decoder_steps=40, seed=0, warn=False)
            b = load_tacotron2(out, runtime="onnx").infer(ids, max_decoder_steps=40, seed=0, warn=False)
            print(f"Tacotron 2: max |torch - onnx| = {float((a.mel - b.mel).abs().max()):.2e} over {a.mel.shape[2]} frames")
            if waveglow is not None:
                mel = a.mel[:, :, :32]
                x = waveglow.synthesize(mel, sigma=0.6, seed=0)
                y = load_waveglow(out / "waveglow.onnx", runtime="onnx").synthesize(mel, sigma=0.6, seed=0)
                print(f"WaveGlow:   max |torch - onnx| = {float((x - y).abs().max()):.2e} over {x.shape[1]} samples")
    return 0


def _write_voice_yaml(voice, out: Path, has_waveglow: bool) -> Path:
    """The source voice's voice.yaml with the models replaced by the graphs (ONNX runtime loaders)."""
    import yaml

    document = yaml.safe_load((voice.directory / "voice.yaml").read_text(encoding="utf-8"))
    document["tacotron2"] = "tacotron2.json"
    vocoders = {"waveglow": "waveglow.onnx"} if has_waveglow else {}
    document.pop("vocoders", None)
    if vocoders:
        document["vocoders"] = vocoders
    default = document.get("default_vocoder", "griffin-lim")
    if default not in vocoders and default != "griffin-lim":  # its weights were not exported
        document["default_vocoder"] = "waveglow" if has_waveglow else "griffin-lim"
    if voice.pronouncing_dictionary is not None:  # the graphs read phones: the words go with them
        import shutil

        shutil.copyfile(voice.pronouncing_dictionary, out / voice.pronouncing_dictionary.name)
        document["pronouncing_dictionary"] = voice.pronouncing_dictionary.name
    provenance = dict(document.get("provenance") or {})
    provenance["onnx_export"] = f"python -m tts.export_onnx --voice {voice.directory}"
    document["provenance"] = provenance
    path = out / "voice.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    return path


if __name__ == "__main__":
    sys.exit(main())

"""ONNX export and the onnxruntime loaders: the graphs compute what the PyTorch models compute (max
abs diff <= 1e-3 on the same inputs, seeds and dropout included), and the loaded objects work where
the pipeline uses the torch models (`infer`, `synthesize`, `vocoder(mel, clip=..., ...)`, the denoiser)."""
import pytest
import torch
import yaml

pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")

from tests.conftest import tiny_tacotron2
from tests.test_speed_kernels import medium_tacotron2
from tts.export_onnx import main as export_main
from tts.tacotron2 import load_tacotron2, save_tacotron2
from tts.tacotron2.onnx import OnnxTacotron2, export_tacotron2_onnx, quantize_tacotron2_onnx
from vocoder import Denoiser, load_waveglow, save_waveglow
from vocoder.waveglow import WaveGlow, WaveGlowConfig
from vocoder.waveglow.onnx import OnnxWaveGlow, export_waveglow_onnx, quantize_waveglow_onnx


def small_waveglow(seed: int = 0) -> WaveGlow:
    torch.manual_seed(seed)
    model = WaveGlow(WaveGlowConfig(n_flows=4, wn_n_layers=3, wn_n_channels=16))
    with torch.no_grad():
        for wn in model.WN:
            wn.end.weight.normal_(0, 0.05)
            wn.end.bias.normal_(0, 0.05)
    return model.eval().prepare_for_inference()


@pytest.mark.parametrize("make", [lambda: medium_tacotron2(1), lambda: tiny_tacotron2(n_frames_per_step=2, seed=1)],
                         ids=["r1", "r2"])
def test_tacotron2_graphs_match_pytorch(tmp_path, make):
    model = make()
    export_tacotron2_onnx(model, tmp_path)
    onnx_model = load_tacotron2(tmp_path, runtime="onnx")
    assert isinstance(onnx_model, OnnxTacotron2) and onnx_model.config == model.config
    assert next(onnx_model.parameters()).device.type == "cpu"  # where the pipeline reads its device
    text, lengths = torch.randint(1, 40, (3, 14)), torch.tensor([14, 9, 3])
    for p, fast in ((0.5, True), (0.0, False)):
        want = model.infer(text, lengths, max_decoder_steps=25, prenet_dropout=p, seed=7, fast=fast, warn=False)
        got = onnx_model.infer(text, lengths, max_decoder_steps=25, prenet_dropout=p, seed=7, warn=False)
        assert got.mel.shape == want.mel.shape and torch.equal(got.mel_lengths, want.mel_lengths)
        assert float((got.mel - want.mel).abs().max()) <= 1e-3
        assert float((got.alignments - want.alignments).abs().max()) <= 1e-3
        assert torch.equal(got.reached_max_steps, want.reached_max_steps) and got.failure_reasons == want.failure_reasons


def test_tacotron2_stops_like_pytorch_and_runs_the_int8_decoder_step(tmp_path):
    model = medium_tacotron2(2)
    with torch.no_grad():
        model.decoder.gate_layer.linear_layer.bias.fill_(0.0)
    export_tacotron2_onnx(model, tmp_path)
    quantize_tacotron2_onnx(tmp_path)
    onnx_model = OnnxTacotron2(tmp_path / "tacotron2.json")
    text = torch.randint(1, 40, (2, 11))
    want = model.infer(text, gate_threshold=0.51, max_decoder_steps=30, seed=1, warn=False)
    got = onnx_model.infer(text, gate_threshold=0.51, max_decoder_steps=30, seed=1, warn=False)
    assert torch.equal(got.mel_lengths, want.mel_lengths)
    assert float((got.mel - want.mel).abs().max()) <= 1e-3
    q = onnx_model.infer(text, max_decoder_steps=30, seed=1, dtype=torch.int8, warn=False)
    assert q.mel.shape[0] == 2 and torch.isfinite(q.mel).all()


def test_waveglow_graph_matches_pytorch_and_works_as_a_vocoder(tmp_path):
    model = small_waveglow()
    path = save_waveglow(model, tmp_path / "wg.pt")
    export_waveglow_onnx(load_waveglow(path), tmp_path / "out" / "waveglow.onnx")
    vocoder = load_waveglow(tmp_path / "out", runtime="onnx")
    assert isinstance(vocoder, OnnxWaveGlow) and vocoder.config == model.config
    torch_model = load_waveglow(path)
    for frames in (1, 33):
        mel = torch.randn(2, 80, frames) - 5
        for sigma, seed in ((0.0, None), (0.6, 3)):
            want = torch_model.synthesize(mel, sigma=sigma, seed=seed)
            got = vocoder.synthesize(mel, sigma=sigma, seed=seed)
            assert got.shape == want.shape and float((got - want).abs().max()) <= 1e-3
    mel = torch.randn(1, 80, 40) - 5
    clipped = vocoder(mel, clip=True, sigma=0.6, seed=1)  # Vocoder.forward, as the pipeline calls it
    assert clipped.abs().max() <= 1.0
    denoised = Denoiser(vocoder)(vocoder(mel, clip=False, sigma=0.6, seed=1), strength=0.01)
    reference = Denoiser(torch_model)(torch_model(mel, clip=False, sigma=0.6, seed=1), strength=0.01)
    assert float((denoised - reference).abs().max()) <= 1e-3
    quantize_waveglow_onnx(tmp_path / "out" / "waveglow.onnx")
    q = load_waveglow(tmp_path / "out" / "waveglow.onnx", runtime="onnx", quantize="int8")
    assert q.quantize == "int8" and torch.isfinite(q.synthesize(mel, sigma=0.0)).all()


def test_export_cli_writes_a_voice_folder_for_the_onnx_runtime(tmp_path):
    from tts.runtime.voices import load_voice_config, save_voice

    voice_dir = tmp_path / "voice"
    (tmp_path / "lexicon.txt").write_text("ship SH IH1 P\n")
    save_voice(voice_dir, tiny_tacotron2(), vocoders={"waveglow": small_waveglow()}, default_vocoder="waveglow",
               name="tiny", pronouncing_dictionary=tmp_path / "lexicon.txt")
    out = tmp_path / "onnx"
    assert export_main(["--voice", str(voice_dir), "--out", str(out), "--check"]) == 0
    voice = load_voice_config(out)
    assert voice.pronouncing_dictionary == out / "lexicon.txt"  # the words go with the graphs
    assert voice.tacotron2.name == "tacotron2.json" and voice.vocoders == {"waveglow": out / "waveglow.onnx"}
    assert yaml.safe_load((out / "voice.yaml").read_text())["default_vocoder"] == "waveglow"
    t = load_tacotron2(voice.tacotron2, runtime="onnx")
    mel = t.infer(torch.randint(1, 30, (9,)), max_decoder_steps=12, seed=0, warn=False).mel
    assert load_waveglow(voice.vocoders["waveglow"], runtime="onnx").synthesize(mel, sigma=0.0).shape == (1, 12 * 256)


def test_loaders_reject_unknown_runtimes(tmp_path):
    path = save_tacotron2(tiny_tacotron2(), tmp_path / "t.pt")
    with pytest.raises(ValueError, match="runtime"):
        load_tacotron2(path, runtime="tensorrt")
    with pytest.raises(ValueError, match="runtime"):
        load_waveglow(save_waveglow(small_waveglow(), tmp_path / "w.pt"), runtime="tvm")
    with pytest.raises(FileNotFoundError, match="export"):
        load_tacotron2(tmp_path, runtime="onnx")

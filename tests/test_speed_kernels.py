"""The compiled CPU kernels and their pure-PyTorch fallbacks: the int8 WaveGlow WN
(`vocoder.waveglow.kernel`) and Tacotron 2's int8 decoder (`tts.tacotron2.kernel`). Each kernel must
compute what its fallback computes; the fallback is chosen automatically when the kernel cannot be
built. Speed is measured in bench/, not here."""
import math

import pytest
import torch

from tests.test_waveglow import random_folded_wn
from tts.tacotron2 import Tacotron2, Tacotron2Config
from tts.tacotron2 import int8 as taco_int8
from tts.tacotron2.fast import fast_weights
from tts.tacotron2.int8 import Int8GEMV, verified_gemv_kernel
from vocoder import load_waveglow, save_waveglow
from vocoder.waveglow import WaveGlow, WaveGlowConfig
from vocoder.waveglow import int8 as wn_int8
from vocoder.waveglow import kernel as wn_kernel
from vocoder.waveglow.int8 import Int8WN, int8_matmul_supported, quantize_columns, verified_kernel

pytestmark = pytest.mark.skipif(not int8_matmul_supported(), reason="no CPU int8 matmul in this torch build")
needs_wn_kernel = pytest.mark.skipif(verified_kernel() is None, reason=f"no WN kernel: {wn_kernel.kernel_unavailable_reason()}")
needs_gemv_kernel = pytest.mark.skipif(verified_gemv_kernel() is None, reason="no int8 GEMV kernel on this machine")


def snr_db(reference: torch.Tensor, estimate: torch.Tensor) -> float:
    noise = (reference - estimate).double().pow(2).sum()
    return math.inf if noise == 0 else 10 * math.log10(reference.double().pow(2).sum() / noise)


# ---------------------------------------------------------------------------------------------- WaveGlow
@needs_wn_kernel
@pytest.mark.parametrize("steps", [1, 2, 5, 130, 700])
def test_wn_kernel_computes_what_the_pytorch_path_computes(steps):
    wn, audio, spect, expected = random_folded_wn(steps, steps, n_in=4, n_cond=40, n_layers=8, channels=32)
    with torch.no_grad():
        fast, slow = Int8WN(wn), Int8WN(wn, kernel=False)
        assert fast.uses_kernel and not slow.uses_kernel
        want = slow(audio, *quantize_columns(spect))
        got = fast(audio, *fast.prepare_conditioning(spect))
        assert snr_db(want, got) > 60  # the same products; float rounding and rounding ties differ
        assert snr_db(expected, got) > 30
        # blocks smaller than the dilations, one thread: the same result
        fast.kernel_block, fast.kernel_threads = 7, 1
        torch.testing.assert_close(fast(audio, *fast.prepare_conditioning(spect)), got, rtol=1e-5, atol=1e-6)
        # the PyTorch path's conditioning layout is accepted as well
        torch.testing.assert_close(fast(audio, *quantize_columns(spect)), got, rtol=1e-5, atol=1e-6)


def test_wn_falls_back_to_pytorch_when_the_kernel_cannot_be_built(monkeypatch):
    monkeypatch.setenv("TACOGLOW_NO_COMPILE", "1")
    module, reason = wn_kernel._load.__wrapped__()  # what a fresh process would get
    assert module is None and "TACOGLOW_NO_COMPILE" in reason
    monkeypatch.setattr(wn_int8, "verified_kernel", lambda: None)
    wn, audio, spect, expected = random_folded_wn(3, 50, n_in=4, n_cond=40, n_layers=4, channels=32)
    runner = Int8WN(wn)
    assert not runner.uses_kernel
    with pytest.raises(RuntimeError, match="not available"):
        Int8WN(wn, kernel=True)
    with torch.no_grad():
        assert snr_db(expected, runner(audio, *runner.prepare_conditioning(spect))) > 30


def test_int8_waveglow_with_and_without_kernel(tmp_path, monkeypatch):
    torch.manual_seed(0)
    model = WaveGlow(WaveGlowConfig(n_flows=4, wn_n_layers=3, wn_n_channels=32))
    with torch.no_grad():
        for wn in model.WN:
            wn.end.weight.normal_(0, 0.05)
            wn.end.bias.normal_(0, 0.05)
    path = save_waveglow(model, tmp_path / "wg.pt")
    mel = torch.randn(1, 80, 30) - 5
    fp32 = load_waveglow(path).synthesize(mel, sigma=0.0)
    fast = load_waveglow(path, quantize="int8").synthesize(mel, sigma=0.0)
    monkeypatch.setattr(wn_int8, "verified_kernel", lambda: None)
    slow_model = load_waveglow(path, quantize="int8")
    assert not slow_model.packed_wns()[0].uses_kernel
    slow = slow_model.synthesize(mel, sigma=0.0)
    assert snr_db(fp32, fast) > 30 and snr_db(fp32, slow) > 30
    if verified_kernel() is not None:
        assert snr_db(slow, fast) > 40


@needs_wn_kernel
def test_int8_waveglow_conditioned_on_the_mel_equals_the_upsampled_path(tmp_path):
    """Folding the upsampler into the conditioning (`Int8WN._fold_upsampler`) changes only rounding."""
    from vocoder.waveglow.fast import set_quantization

    torch.manual_seed(1)
    model = WaveGlow(WaveGlowConfig(n_flows=4, wn_n_layers=3, wn_n_channels=32))
    with torch.no_grad():
        for wn in model.WN:
            wn.end.weight.normal_(0, 0.05)
            wn.end.bias.normal_(0, 0.05)
        model.upsample.bias.normal_(0, 0.5)
    path = save_waveglow(model, tmp_path / "wg.pt")
    fp32 = load_waveglow(path)
    folded = load_waveglow(path, quantize="int8")
    plain = set_quantization(load_waveglow(path), "int8", fold_upsampler=False)
    for frames in (1, 3, 50):
        mel = torch.randn(2, 80, frames) - 5
        a, b, c = fp32.synthesize(mel, sigma=0.5, seed=1), folded.synthesize(mel, sigma=0.5, seed=1), plain.synthesize(mel, sigma=0.5, seed=1)
        assert folded.packed_wns()[0].conditions_on_mel and not plain.packed_wns()[0].conditions_on_mel
        assert snr_db(a, b) > 30 and snr_db(c, b) > 35


# ---------------------------------------------------------------------------------------------- Tacotron 2
def medium_tacotron2(seed: int = 0) -> Tacotron2:
    """Dimensions the compiled decoder step supports (multiples of 16), small enough for tests."""
    torch.manual_seed(seed)
    model = Tacotron2(Tacotron2Config(
        symbols_embedding_dim=64, encoder_embedding_dim=64, encoder_kernel_size=3, encoder_n_convolutions=1,
        decoder_rnn_dim=64, prenet_dim=32, attention_rnn_dim=64, attention_dim=16, attention_location_n_filters=4,
        attention_location_kernel_size=5, postnet_embedding_dim=32, postnet_kernel_size=3, postnet_n_convolutions=2))
    with torch.no_grad():
        model.decoder.gate_layer.linear_layer.bias.fill_(-20.0)
    return model.eval()


@needs_gemv_kernel
def test_int8_gemv_kernel_matches_its_float_arithmetic():
    torch.manual_seed(0)
    weight, bias = torch.randn(256, 72), torch.randn(256)
    xs = [torch.randn(5, 8).relu(), torch.randn(5, 32) * 4, torch.rand(5, 32)]
    fast, slow = Int8GEMV(weight, bias, [8, 32, 32]), Int8GEMV(weight, bias, [8, 32, 32], kernel=False)
    assert fast.uses_kernel and not slow.uses_kernel
    got, want = fast(*xs), slow(*xs)
    torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-5)
    exact = torch.cat(xs, 1) @ weight.t() + bias
    assert snr_db(exact, got) > 30
    fast.threads = 1
    torch.testing.assert_close(fast(*xs), got)


@pytest.mark.parametrize("kernel", [True, False])
def test_int8_decoder_is_close_to_float32_with_and_without_kernels(kernel, monkeypatch):
    if kernel and verified_gemv_kernel() is None:
        pytest.skip("no int8 GEMV kernel on this machine")
    if not kernel:
        monkeypatch.setattr(taco_int8, "verified_gemv_kernel", lambda: None)
    model = medium_tacotron2()
    text = torch.randint(1, 60, (2, 17))
    lengths = torch.tensor([17, 11])
    fp32 = model.infer(text, lengths, max_decoder_steps=40, seed=1, warn=False)
    q = model.infer(text, lengths, max_decoder_steps=40, seed=1, dtype=torch.int8, warn=False)
    w = fast_weights(model, torch.int8)
    assert (w.step_arguments is not None) == kernel and w.att_rnn.uses_kernel == kernel
    assert q.mel.shape == fp32.mel.shape and torch.equal(q.mel_lengths, fp32.mel_lengths)
    assert snr_db(fp32.mel, q.mel) > 25
    # batch items are quantized independently: item 1 alone gives the same mel (without dropout, whose
    # masks are drawn for the whole batch)
    batch = model.infer(text, lengths, max_decoder_steps=40, prenet_dropout=0.0, dtype=torch.int8, warn=False)
    alone = model.infer(text[1:, :11], max_decoder_steps=40, prenet_dropout=0.0, dtype=torch.int8, warn=False)
    torch.testing.assert_close(alone.mel[0], batch.mel[1], rtol=1e-4, atol=1e-4)


@needs_gemv_kernel
def test_compiled_decoder_step_equals_the_python_int8_loop(monkeypatch):
    model = medium_tacotron2(3)
    text = torch.randint(1, 60, (1, 21))
    fast = model.infer(text, max_decoder_steps=50, seed=2, dtype=torch.int8, warn=False)
    assert fast_weights(model, torch.int8).step_arguments is not None
    model.__dict__.pop("_fast_cache")
    monkeypatch.setattr(taco_int8, "verified_gemv_kernel", lambda: None)
    slow = model.infer(text, max_decoder_steps=50, seed=2, dtype=torch.int8, warn=False)
    assert fast_weights(model, torch.int8).step_arguments is None
    assert snr_db(slow.mel, fast.mel) > 40
    torch.testing.assert_close(fast.alignments, slow.alignments, rtol=1e-3, atol=1e-3)


@needs_wn_kernel
def test_wn_kernel_releases_the_gil():
    """A decoder in another Python thread keeps running while a WN runs (the two stages overlap)."""
    import threading

    wn, audio, spect, _ = random_folded_wn(4, 30000, n_in=4, n_cond=40, n_layers=8, channels=64)
    runner = Int8WN(wn)
    conditioning = runner.prepare_conditioning(spect)
    with torch.no_grad():
        thread = threading.Thread(target=lambda: [runner(audio, *conditioning) for _ in range(3)])
        thread.start()
        ticks = 0
        while thread.is_alive():
            ticks += 1  # pure Python: needs the GIL
        thread.join()
    assert ticks > 1000

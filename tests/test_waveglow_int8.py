"""int8 WaveGlow inference (vocoder.waveglow.int8): quantizers, the int8 WN against the float WN
(including the zero-padded edges), and the whole model through load_waveglow(quantize="int8")."""
import math

import pytest
import torch

from vocoder import WaveGlow, load_waveglow, save_waveglow
from vocoder.waveglow import set_quantization
from vocoder.waveglow.int8 import (
    Int8WN,
    int8_matmul_supported,
    quantize_columns,
    quantize_rows,
)
from vocoder.waveglow.layers import tanh_

pytestmark = pytest.mark.skipif(not int8_matmul_supported(), reason="no CPU int8 matmul in this torch build")


def snr_db(reference: torch.Tensor, estimate: torch.Tensor) -> float:
    return 10 * math.log10(reference.double().pow(2).sum() / (reference - estimate).double().pow(2).sum())


def test_quantizers_round_to_the_nearest_step_with_one_scale_per_row_or_column():
    x = torch.randn(12, 30) * torch.logspace(-3, 2, 30)  # columns of very different loudness
    q, s = quantize_columns(x)
    assert q.dtype == torch.int8 and s.shape == (1, 30)
    assert q.abs().amax(0).eq(127).all()  # each column uses the full range
    assert ((q.float() * s - x).abs() <= s / 2 + 1e-12).all()
    w = torch.randn(7, 5)
    qw, sw = quantize_rows(w)
    assert sw.shape == (7, 1) and ((qw.float() * sw - w).abs() <= sw / 2 + 1e-12).all()
    zero_q, zero_s = quantize_columns(torch.zeros(3, 4))  # silence: no division by zero
    assert zero_q.eq(0).all() and torch.isfinite(zero_s).all()


def test_int_mm_is_exact_so_only_the_quantizers_round():
    """The int32 product of the int8 operands, scaled, is exactly the product of the dequantized operands."""
    w, x = torch.randn(16, 40), torch.randn(40, 9)
    (qw, sw), (qx, sx) = quantize_rows(w), quantize_columns(x)
    expected = (qw.double() * sw.double()) @ (qx.double() * sx.double())
    got = torch._int_mm(qw, qx).double() * sw.double() * sx.double()
    torch.testing.assert_close(got, expected, rtol=1e-12, atol=1e-12)


def test_fast_tanh_matches_torch():
    x = torch.linspace(-20, 20, 10001)
    torch.testing.assert_close(tanh_(x.clone()), torch.tanh(x), rtol=0, atol=3e-7)
    assert tanh_(x.clone().bfloat16()).equal(torch.tanh(x.bfloat16()))  # lower precisions: torch's tanh


@pytest.mark.parametrize("steps", [1, 5, 40, 300])
def test_int8_wn_matches_float_wn_including_edges(steps):
    """Also when the signal is shorter than the dilation (taps entirely in the zero padding)."""
    from tests.test_waveglow import random_folded_wn

    wn, audio, spect, expected = random_folded_wn(steps, steps, n_in=4, n_cond=40, n_layers=8, channels=32)
    with torch.no_grad():
        got = Int8WN(wn)(audio, *quantize_columns(spect))
    assert got.shape == expected.shape
    assert snr_db(expected, got) > 30


def _tiny_trained_like(seed: int = 0) -> WaveGlow:
    from tests.test_waveglow import TINY, tiny_waveglow

    return tiny_waveglow(seed, TINY)


def test_load_waveglow_int8_is_close_to_float32(tmp_path):
    path = save_waveglow(_tiny_trained_like(3), tmp_path / "wg.pt")
    fp32, int8 = load_waveglow(path), load_waveglow(path, quantize="int8")
    assert int8.quantize == "int8" and fp32.quantize is None
    mel = torch.randn(2, 80, 11) - 5.0
    a, b = fp32.synthesize(mel, sigma=0.0), int8.synthesize(mel, sigma=0.0)
    assert b.shape == a.shape and b.dtype == torch.float32
    assert snr_db(a, b) > 25
    # batch items are quantized independently: item 0 alone gives the same audio
    torch.testing.assert_close(int8.synthesize(mel[:1], sigma=0.0), b[:1])


def test_int8_needs_a_float32_cpu_model_and_rejects_unknown_modes(tmp_path):
    path = save_waveglow(_tiny_trained_like(4), tmp_path / "wg.pt")
    with pytest.raises(ValueError, match="do not combine"):
        load_waveglow(path, dtype=torch.bfloat16, quantize="int8")
    with pytest.raises(ValueError, match="quantize must be"):
        load_waveglow(path, quantize="int4")
    bf16 = load_waveglow(path, dtype=torch.bfloat16)
    with pytest.raises(ValueError, match="float32 model"):
        set_quantization(bf16, "int8")


def test_blocks_of_time_steps_do_not_change_the_result():
    """Blocks smaller than the dilations (taps across block boundaries and in the padding) give the
    same output as one block over the whole signal."""
    from tests.test_waveglow import random_folded_wn

    wn, audio, spect, _ = random_folded_wn(0, 70, n_in=4, n_cond=40, n_layers=6, channels=32)
    with torch.no_grad():
        packed = Int8WN(wn)
        whole = packed(audio, *quantize_columns(spect))
        packed.chunk_columns = 7
        torch.testing.assert_close(packed(audio, *quantize_columns(spect)), whole, rtol=1e-5, atol=1e-6)

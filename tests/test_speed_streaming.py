"""Incremental inference for overlapping the two stages: Tacotron 2's postnet mel in blocks while the
decoder runs (`tts.tacotron2.streaming.infer_blocks`) equals whole-utterance `infer`, and WaveGlow on a
mel that arrives block by block (`vocoder.waveglow.streaming.WaveGlowStream`) equals chunked and
(within a stated SNR) whole-utterance `synthesize`."""
import itertools
import math

import pytest
import torch

from tests.conftest import tiny_tacotron2
from tts.tacotron2.streaming import infer_blocks, postnet_context
from vocoder.waveglow import WaveGlow, WaveGlowConfig
from vocoder.waveglow.streaming import WaveGlowStream, positional_noise


def snr_db(reference: torch.Tensor, estimate: torch.Tensor) -> float:
    noise = (reference - estimate).double().pow(2).sum()
    return math.inf if noise == 0 else 10 * math.log10(reference.double().pow(2).sum() / noise)


@pytest.mark.parametrize("r", [1, 2])
@pytest.mark.parametrize("dtype", [None, torch.bfloat16, torch.int8])
@pytest.mark.parametrize("block_frames,first", [(1, None), (7, 3), (64, None)])
def test_mel_blocks_concatenate_to_whole_utterance_infer(r, dtype, block_frames, first):
    model = tiny_tacotron2(n_frames_per_step=r, seed=1)
    text = torch.randint(1, 40, (13,))
    whole = model.infer(text, max_decoder_steps=23, seed=5, dtype=dtype, warn=False)
    blocks = []
    for block in infer_blocks(model, text, block_frames=block_frames, first_block_frames=first,
                              max_decoder_steps=23, seed=5, dtype=dtype):
        blocks.append(block)
        torch.rand(17)  # the caller's own random numbers between blocks do not change the mel
    assert [b.final for b in blocks] == [False] * (len(blocks) - 1) + [True]
    assert all(b.stop - b.start == b.mel.shape[1] for b in blocks)
    assert all(x.stop == y.start for x, y in itertools.pairwise(blocks)) and blocks[0].start == 0
    mel = torch.cat([b.mel for b in blocks], 1)
    assert mel.shape == whole.mel[0].shape
    torch.testing.assert_close(mel, whole.mel[0], rtol=1e-5, atol=1e-5)
    last = blocks[-1]
    assert last.reached_max_steps == bool(whole.reached_max_steps[0])
    assert list(last.failure_reasons) == whole.failure_reasons[0]
    torch.testing.assert_close(last.alignment, whole.alignments[0])


def test_mel_blocks_stop_where_infer_stops_and_leave_the_callers_rng_alone():
    model = tiny_tacotron2(seed=2)
    with torch.no_grad():
        model.decoder.gate_layer.linear_layer.bias.fill_(0.0)  # a stop-gate that may fire early
    text = torch.randint(1, 40, (9,))
    whole = model.infer(text, gate_threshold=0.52, max_decoder_steps=40, seed=3, warn=False)
    torch.manual_seed(11)
    state = torch.get_rng_state()
    mel = torch.cat([b.mel for b in infer_blocks(model, text, block_frames=4, gate_threshold=0.52,
                                                   max_decoder_steps=40, seed=3)], 1)
    assert torch.equal(torch.get_rng_state(), state)
    torch.testing.assert_close(mel, whole.mel[0], rtol=1e-5, atol=1e-5)
    assert postnet_context(model.config) == model.config.postnet_n_convolutions * (model.config.postnet_kernel_size // 2)


def _waveglow(seed=0, channels=16):
    torch.manual_seed(seed)
    model = WaveGlow(WaveGlowConfig(n_flows=4, wn_n_layers=3, wn_n_channels=channels))
    with torch.no_grad():
        for wn in model.WN:
            wn.end.weight.normal_(0, 0.05)
            wn.end.bias.normal_(0, 0.05)
    return model.eval().prepare_for_inference()


@pytest.mark.parametrize("sizes", [[1] * 150, [37, 5, 90, 18], [150]])
def test_waveglow_stream_equals_chunked_synthesis(sizes):
    model = _waveglow()
    mel = torch.randn(1, 80, sum(sizes)) - 4
    with torch.inference_mode():
        chunked = model.synthesize(mel, sigma=0.0, chunk_frames=32, overlap_frames=8)
        stream = WaveGlowStream(model, sigma=0.0, chunk_frames=32, overlap_frames=8)
        pieces, at = [], 0
        for n in sizes:
            pieces.append(stream.push(mel[0, :, at:at + n]))
            at += n
        pieces.append(stream.finish())
    audio = torch.cat(pieces, 1)
    assert audio.shape == chunked.shape
    torch.testing.assert_close(audio, chunked, rtol=1e-5, atol=1e-6)
    assert pieces[0].shape[1] < audio.shape[1] or len(sizes) == 1  # audio before the mel is complete


def test_waveglow_stream_with_noise_matches_whole_utterance_on_the_same_noise():
    """sigma > 0: the stream's positional noise, whole-utterance synthesis on the same noise: >= 60 dB."""
    model = _waveglow(1)
    mel = torch.randn(1, 80, 100) - 4
    with torch.inference_mode():
        whole = model._infer(mel, positional_noise(model, 7, 0, 100), 0.6)
        stream = WaveGlowStream(model, sigma=0.6, seed=7, chunk_frames=24, overlap_frames=16)
        audio = torch.cat([stream.push(mel[0, :, :41]), stream.push(mel[0, :, 41:]), stream.finish()], 1)
    assert audio.shape == whole.shape
    assert snr_db(whole, audio) > 60
    # the noise of a range of frames does not depend on how it is asked for
    a = positional_noise(model, 7, 10, 50)
    b = [torch.cat(p, 2) for p in zip(positional_noise(model, 7, 10, 23), positional_noise(model, 7, 23, 50))]
    assert all(torch.equal(x, y) for x, y in zip(a, b))


def test_waveglow_stream_with_a_small_first_chunk():
    """`first_chunk_frames`: an early first piece, then longer ones; the audio does not depend on how the
    mel arrives, and equals whole-utterance synthesis within the crossfades (>= 60 dB at sigma 0)."""
    model = _waveglow(2)
    mel = torch.randn(1, 80, 90) - 4
    with torch.inference_mode():
        whole = model.synthesize(mel, sigma=0.0)
        outs = []
        for sizes in ([1] * 90, [50, 40], [90]):
            stream = WaveGlowStream(model, sigma=0.0, chunk_frames=40, overlap_frames=8, first_chunk_frames=8)
            pieces, at = [], 0
            for n in sizes:
                pieces.append(stream.push(mel[0, :, at:at + n]))
                at += n
            outs.append(torch.cat(pieces + [stream.finish()], 1))
            if sizes[0] == 1:
                assert pieces[14].shape[1] == 0 and pieces[15].shape[1] > 0  # audio once 8 + 8 frames are in
    assert all(torch.equal(o, outs[0]) for o in outs[1:])
    assert outs[0].shape == whole.shape and snr_db(whole, outs[0]) >= 60
    with pytest.raises(ValueError, match="overlap_frames <= each chunk size"):
        WaveGlowStream(model, chunk_frames=40, overlap_frames=16, first_chunk_frames=8)

"""The common vocoder interface: shape checks, clipping and the registry."""
import pytest
import torch

from tts.core.registry import VocoderEntry, VocoderRegistry
from tts.core.vocoder import Vocoder


class Loud(Vocoder):
    """Returns float32 audio far outside [-1, 1], as an untrained vocoder may."""

    name = "loud"
    needs_weights = False

    def synthesize(self, mel, **kwargs):
        return torch.linspace(-3, 3, mel.shape[-1] * self.audio.hop_length).repeat(mel.shape[0], 1)


def test_output_is_clipped_float32_and_mel_shape_is_checked():
    voc = Loud()
    audio = voc(torch.zeros(2, 80, 4))
    assert audio.dtype == torch.float32 and audio.shape == (2, 4 * 256)
    assert audio.min() == -1.0 and audio.max() == 1.0
    assert voc(torch.zeros(80, 3)).shape == (1, 3 * 256)  # a single mel gets a batch axis
    with pytest.raises(ValueError, match=r"\[B, 80, T\]"):
        voc(torch.zeros(1, 40, 4))


def make_loud(path=None, **kwargs):
    return Loud()


def save_nothing(model, path, extra):
    return path


def test_registry_names_errors_and_weights_requirement():
    loud = VocoderEntry("loud", f"{__name__}:make_loud", needs_weights=False, description="test")
    registry = VocoderRegistry([loud, VocoderEntry("heavy", f"{__name__}:make_loud", needs_weights=True,
                                                   description="test", saver=f"{__name__}:save_nothing")])
    assert registry.names() == ["heavy", "loud"]
    assert isinstance(registry.load("loud"), Loud)
    with pytest.raises(ValueError, match="needs a checkpoint"):
        registry.load("heavy")
    with pytest.raises(ValueError, match="unknown vocoder 'nope'; available: heavy, loud"):
        registry.load("nope")
    with pytest.raises(ValueError, match="registered twice"):
        VocoderRegistry([loud, loud])
    assert registry.save("heavy", Loud(), "x.pt") == "x.pt"
    with pytest.raises(ValueError, match="no weights to save"):
        registry.save("loud", Loud(), "x.pt")
    assert not hasattr(registry, "register")  # built once, never changed

"""The one registry of vocoders by name: how the pipeline, the CLI, the app and voice folders load
and save each one. To add a vocoder, write its module and add its entry here."""
from __future__ import annotations

from tts.core.vocoder import VocoderEntry, VocoderRegistry
from vocoder.flowavenet import load_flowavenet_vocoder, save_flowavenet
from vocoder.griffin_lim import GriffinLim
from vocoder.waveglow import load_waveglow, save_waveglow
from vocoder.wavernn import load_wavernn_vocoder, save_wavernn


def _load_griffin_lim(path=None, **kwargs) -> GriffinLim:
    return GriffinLim(**kwargs)


VOCODERS = VocoderRegistry([
    VocoderEntry("waveglow", load_waveglow, needs_weights=True, save=save_waveglow,
                 description="WaveGlow (Prenger et al. 2018): NVIDIA checkpoints of any layout, the compact "
                             "CPU variant, or the project's format"),
    VocoderEntry("griffin-lim", _load_griffin_lim, needs_weights=False,
                 description="Griffin-Lim phase reconstruction (no weights; low quality, always available)"),
    VocoderEntry("wavernn", load_wavernn_vocoder, needs_weights=True, save=save_wavernn,
                 description="WaveRNN (Kalchbrenner et al. 2018): 16-bit dual softmax, folded/subscale sampling, "
                             "optional block sparsity"),
    VocoderEntry("flowavenet", load_flowavenet_vocoder, needs_weights=True, save=save_flowavenet,
                 description="FloWaveNet (Kim et al. 2019): multi-scale flow, parallel sampling with temperature"),
])

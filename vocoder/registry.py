"""The one registry of vocoders by name: how the pipeline, the CLI, the app and voice folders load
and save each one. To add a vocoder, write its module and add its entry here. Loaders are named, not
imported: listing or checking names imports no model."""
from __future__ import annotations

from tts.core.registry import VocoderEntry, VocoderRegistry

VOCODERS = VocoderRegistry([
    VocoderEntry("waveglow", "vocoder.waveglow.checkpoint:load_waveglow", needs_weights=True,
                 saver="vocoder.waveglow.checkpoint:save_waveglow",
                 description="WaveGlow (Prenger et al. 2018): NVIDIA checkpoints of any layout, the compact "
                             "CPU variant, or the project's format"),
    VocoderEntry("griffin-lim", "vocoder.griffin_lim:load_griffin_lim", needs_weights=False,
                 description="Griffin-Lim phase reconstruction (no weights; low quality, always available)"),
    VocoderEntry("wavernn", "vocoder.wavernn.model:load_wavernn_vocoder", needs_weights=True,
                 saver="vocoder.wavernn.model:save_wavernn",
                 description="WaveRNN (Kalchbrenner et al. 2018): 16-bit dual softmax, folded/subscale sampling, "
                             "optional block sparsity"),
    VocoderEntry("flowavenet", "vocoder.flowavenet:load_flowavenet_vocoder", needs_weights=True,
                 saver="vocoder.flowavenet:save_flowavenet",
                 description="FloWaveNet (Kim et al. 2019): multi-scale flow, parallel sampling with temperature"),
])

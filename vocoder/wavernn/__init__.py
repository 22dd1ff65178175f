"""WaveRNN (Kalchbrenner et al. 2018): `model` is the network and its training pass, `sampling` the
16-bit dual-softmax representation, folded batches, the subscale order and the generation loops."""
from vocoder.wavernn.model import WaveRNN, WaveRNNConfig, load_wavernn, load_wavernn_vocoder, normalize_mel, save_wavernn
from vocoder.wavernn.sampling import (N_CLASSES, SILENCE_COARSE, block_prune_mask, combine_16bit, crossfade_windows,
                                      fold_segments, prune_schedule, split_16bit, subscale_merge, subscale_schedule,
                                      subscale_split, unfold_segments)

__all__ = ["N_CLASSES", "SILENCE_COARSE", "WaveRNN", "WaveRNNConfig", "block_prune_mask", "combine_16bit",
           "crossfade_windows", "fold_segments", "load_wavernn", "load_wavernn_vocoder", "normalize_mel",
           "prune_schedule", "save_wavernn", "split_16bit", "subscale_merge", "subscale_schedule", "subscale_split",
           "unfold_segments"]

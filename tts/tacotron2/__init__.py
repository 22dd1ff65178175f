"""Tacotron 2 (Shen et al. 2018) with NVIDIA's parameter names: `model` is the paper's network,
`checks` the stop rule and attention checks, `fast` the CPU speed-ups, `checkpoint` reads NVIDIA's,
DeepLearningExamples' and the project's files, `train` the trainer (`python -m tts.train`)."""
from tts.tacotron2.checkpoint import average_tacotron2, load_tacotron2, save_tacotron2, warm_start_state_dict
from tts.tacotron2.checks import attention_failure_reasons
from tts.tacotron2.model import (Attention, Decoder, Encoder, Postnet, Prenet, Tacotron2, Tacotron2Config,
                                 Tacotron2Inference, Tacotron2Output)

__all__ = ["Attention", "Decoder", "Encoder", "Postnet", "Prenet", "Tacotron2", "Tacotron2Config", "Tacotron2Inference",
           "Tacotron2Output", "attention_failure_reasons", "average_tacotron2", "load_tacotron2", "save_tacotron2",
           "warm_start_state_dict"]

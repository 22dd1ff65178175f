"""Vocoders: mel spectrogram -> waveform, behind one interface (`vocoder.base.Vocoder`) and a registry by name."""
from vocoder.base import VOCODERS, Vocoder, register_vocoder

__all__ = ["VOCODERS", "Vocoder", "register_vocoder"]

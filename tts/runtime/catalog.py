"""Voices that can be downloaded, as data: which files, from where, what they must contain, and how
the voice is set up once they are here. `tts.runtime.downloads` fetches and checks them into a normal
voice folder (voice.yaml + weight files + MODEL_CARD.md, see `tts.runtime.voices`).

Adding a voice = adding one `DownloadableVoice` to `CATALOG`; nothing else changes.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Mapping
from urllib.parse import unquote, urlsplit

#: file layouts a `RemoteFile` may declare (what the file holds at its top level):
#: "dle": DeepLearningExamples' training checkpoint, a dict with 'config' (the constructor's keyword
#: arguments) and 'state_dict' (plain tensors, keys may start with `module.`), fp16 or fp32
LAYOUTS = ("dle",)

#: the mel definition of NVIDIA's LJSpeech models (22.05 kHz, 80 mels up to 8 kHz)
LJSPEECH_AUDIO = MappingProxyType({
    "sampling_rate": 22050, "filter_length": 1024, "hop_length": 256, "win_length": 1024, "n_mel_channels": 80,
    "mel_fmin": 0.0, "mel_fmax": 8000.0, "max_wav_value": 32768.0, "log_clamp": 1e-5,
})

#: NVIDIA's full-size Tacotron 2 (`hparams.py`): every dimension a published checkpoint must have
TACOTRON2_FULL = MappingProxyType({
    "n_symbols": 148, "symbols_embedding_dim": 512, "encoder_kernel_size": 5, "encoder_n_convolutions": 3,
    "encoder_embedding_dim": 512, "n_frames_per_step": 1, "decoder_rnn_dim": 1024, "prenet_dim": 256,
    "attention_rnn_dim": 1024, "attention_dim": 128, "attention_location_n_filters": 32,
    "attention_location_kernel_size": 31, "postnet_embedding_dim": 512, "postnet_kernel_size": 5,
    "postnet_n_convolutions": 5, "n_mel_channels": 80,
})

#: DeepLearningExamples' WaveGlow: 12 flows of 8 WN layers. The WN width is 512 channels in DLE's
#: defaults and model cards and 256 in NVIDIA/waveglow's published model; both are accepted.
WAVEGLOW_FULL = MappingProxyType({
    "n_mel_channels": 80, "n_flows": 12, "n_group": 8, "n_early_every": 4, "n_early_size": 2,
    "wn_n_layers": 8, "wn_kernel_size": 3, "wn_n_channels": (256, 512),
})


@dataclass(frozen=True)
class RemoteFile:
    """One weight file of a downloadable voice."""

    #: "tacotron2", or the registry name of the vocoder it holds ("waveglow")
    role: str
    url: str
    #: for sizes shown before downloading; the transfer itself is checked against Content-Length
    approx_bytes: int
    #: expected model hyper-parameters after loading: a value, or a tuple of accepted values
    architecture: Mapping[str, Any] = field(default_factory=dict)
    #: see LAYOUTS
    layout: str = "dle"
    #: when known, the file must have this SHA-256 (hex); None = checked by content only
    sha256: str | None = None

    def __post_init__(self) -> None:
        if self.layout not in LAYOUTS:
            raise ValueError(f"unknown layout {self.layout!r} (known: {LAYOUTS})")
        if not self.filename:
            raise ValueError(f"{self.url}: the URL names no file")

    @property
    def filename(self) -> str:
        """The name the file keeps in the voice folder: the last part of the URL's path."""
        return unquote(urlsplit(self.url).path.rstrip("/").rpartition("/")[2])


@dataclass(frozen=True)
class DownloadableVoice:
    """A voice folder that is assembled from downloaded files."""

    name: str
    description: str
    files: tuple[RemoteFile, ...]
    default_vocoder: str
    #: `SynthesisConfig` defaults for voice.yaml
    synthesis: Mapping[str, Any]
    audio: Mapping[str, Any]
    licence: str
    credit: str
    #: where a person reads about the files and can fetch them by hand
    homepage: str
    model_card: str
    language: str = "en"

    @property
    def size_bytes(self) -> int:
        return sum(f.approx_bytes for f in self.files)

    @property
    def size_text(self) -> str:
        """"about 590 MB"."""
        return f"about {human_size(self.size_bytes)}"

    def file(self, role: str) -> RemoteFile:
        for remote in self.files:
            if remote.role == role:
                return remote
        raise KeyError(f"voice {self.name!r} has no {role!r} file")

    def replace(self, **changes: Any) -> "DownloadableVoice":
        return dataclasses.replace(self, **changes)


def human_size(n_bytes: float) -> str:
    """1234567 -> "1.2 MB", 590000000 -> "590 MB" (decimal units, as download sizes are quoted)."""
    if n_bytes < 1000:
        return f"{int(n_bytes)} B"
    for unit in ("kB", "MB", "GB", "TB"):
        n_bytes /= 1000
        if n_bytes < 1000 or unit == "TB":
            break
    return f"{n_bytes:.1f} {unit}" if n_bytes < 10 else f"{n_bytes:.0f} {unit}"


_NGC = "https://api.ngc.nvidia.com/v2/models/nvidia"
_HOMEPAGE = "https://catalog.ngc.nvidia.com/orgs/nvidia/resources/tacotron_2_and_waveglow_for_pytorch"
_LICENCE = ("NVIDIA's pretrained checkpoints from the NGC catalogue, under NGC's terms of use; training code: "
            "NVIDIA DeepLearningExamples (BSD-3-Clause); training data: LJ Speech 1.1 (public domain)")
_CREDIT = ("Tacotron 2 and WaveGlow trained by NVIDIA (DeepLearningExamples 19.09.0) on LJ Speech 1.1 "
           "(Keith Ito and Linda Johnson, 2017)")


def _model_card(name: str, precision: str) -> str:
    return f"""# Voice: {name}

NVIDIA's published LJSpeech voice: the Tacotron 2 and WaveGlow checkpoints of DeepLearningExamples
(release 19.09.0, files of 2019-04-27, {precision} weights), as `torch.hub.load('NVIDIA/DeepLearningExamples:torchhub',
'nvidia_tacotron2' / 'nvidia_waveglow')` downloads them. Downloaded from NVIDIA's NGC catalogue and checked by
this project (plain tensors only, NVIDIA's full-size architecture) before it was cached.

- Speaker: one female US English speaker (Linda Johnson), LJ Speech 1.1: 13,100 clips, about 24 h of
  public-domain audiobook readings, 22,050 Hz.
- Mel predictor: Tacotron 2 (Shen et al. 2018), NVIDIA's hyper-parameters, 148-symbol table, r = 1.
- Vocoder: WaveGlow (Prenger et al. 2018), 12 flows of 8 WN layers, with the denoiser at 0.01.
- Synthesis defaults: sigma 0.666 and denoiser strength 0.01, as NVIDIA's inference notebook.
- Text: the project's normalizer reads numbers, money and abbreviations more carefully than NVIDIA's
  `english_cleaners`, so ids can differ from NVIDIA's for such text (README, "NVIDIA checkpoints").

## Licence and credit

{_LICENCE}. {_CREDIT}. More: {_HOMEPAGE}

## Limits

Trained on one speaker's read speech: other styles, names and very long sentences are read less well;
the decoder may fail to stop on unusual input (the pipeline detects and retries such chunks).
"""


def _nvidia_ljspeech(name: str, math: str, precision: str, tacotron2_bytes: int,
                     waveglow_bytes: int) -> DownloadableVoice:
    folder = "amp" if math == "fp16" else "fp32"
    return DownloadableVoice(
        name=name,
        description=f"NVIDIA's LJSpeech Tacotron 2 + WaveGlow (DeepLearningExamples 19.09.0, {precision} weights), "
                    "female US English, 22.05 kHz",
        files=(
            RemoteFile("tacotron2", f"{_NGC}/tacotron2_pyt_ckpt_{folder}/versions/19.09.0/files/"
                                    f"nvidia_tacotron2pyt_{math}_20190427", tacotron2_bytes, TACOTRON2_FULL),
            RemoteFile("waveglow", f"{_NGC}/waveglow_ckpt_{folder}/versions/19.09.0/files/"
                                   f"nvidia_waveglowpyt_{math}_20190427", waveglow_bytes, WAVEGLOW_FULL),
        ),
        default_vocoder="waveglow",
        synthesis=MappingProxyType({"sigma": 0.666, "denoise": 0.01}),
        audio=LJSPEECH_AUDIO,
        licence=_LICENCE,
        credit=_CREDIT,
        homepage=_HOMEPAGE,
        model_card=_model_card(name, precision),
    )


#: every downloadable voice; sizes assume the 512-channel WaveGlow (a 256-channel one is a third)
CATALOG: tuple[DownloadableVoice, ...] = (
    _nvidia_ljspeech("nvidia-ljspeech", "fp16", "fp16 (AMP)", 56_500_000, 537_000_000),
    _nvidia_ljspeech("nvidia-ljspeech-fp32", "fp32", "fp32", 113_000_000, 1_073_000_000),
)


def catalog() -> dict[str, DownloadableVoice]:
    """The downloadable voices by name, in catalogue order."""
    return {voice.name: voice for voice in CATALOG}


def find_downloadable(name: str) -> DownloadableVoice | None:
    return catalog().get(name)

"""Training segments of a vocoder: random fixed-length cuts of a corpus's clips with their mels
(computed, or read from a folder of GTA mels), the samples before each (the linear predictor's
history) and, for the compact WaveGlow's pulse excitation, their glottal pulses and F0; and the
collate that batches them. Offsets depend only on (seed, epoch, clip), so a resumed run sees the same
segments."""
from __future__ import annotations

import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

import numpy as np
import soundfile
import torch
from torch.utils.data import Dataset

from tts.core.audio import AudioSettings, load_wav, mel_spectrogram, n_frames
from tts.training.data import Utterance
from vocoder.waveglow import excitation


class AudioSegments(Dataset):
    """Random fixed-length segments of clips; the offset depends only on (seed, epoch, clip index).

    With `context` > 0 each item is the `context` samples before the segment (zeros before the clip's
    start), then the segment: what a vocoder whose first layer looks back (the compact WaveGlow's
    linear predictor) needs, so a segment cut from the middle of a clip is not taken to start in silence."""

    def __init__(self, items: Sequence[Utterance], settings: AudioSettings, segment_length: int, seed: int,
                 random_offsets: bool = True, context: int = 0, excitation_dir: str | Path | None = None):
        self.items = list(items)
        self.settings = settings
        self.segment_length = segment_length
        self.seed = seed
        self.random_offsets = random_offsets
        self.context = context
        self.excitation_dir = None if excitation_dir is None else Path(excitation_dir)
        self.epoch = 0
        self.infos = [soundfile.info(str(u.wav)) for u in self.items]

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, index: int) -> torch.Tensor | SegmentItem:
        audio, start, _ = self.segment(index)
        if self.excitation_dir is None:
            return audio
        return SegmentItem(audio, None, *self.excitation(index, start))

    def excitation(self, index: int, start: int) -> tuple[torch.Tensor, torch.Tensor]:
        """(the segment's pulses [segment_length], its frames' F0 [segment_length // hop + 1]) from the
        clip's `<excitation_dir>/<id>.npz`."""
        path = self.excitation_dir / f"{self.items[index].id}.npz"
        try:
            with np.load(path) as data:
                pulses, f0 = data["pulses"], data["f0"]
        except (OSError, EOFError, KeyError, ValueError, zipfile.BadZipFile) as exc:  # missing, empty, not an npz
            raise ValueError(f"{path}: cannot read the clip's pitch and pulses ({exc}); extract them with "
                             "recipes/default_voice/extract_excitation.py") from None
        hop = self.settings.hop_length
        if start % hop:
            raise ValueError(f"segment start {start} is not a multiple of the hop length {hop}")
        return (torch.from_numpy(excitation.pulse_signal(pulses, start, self.segment_length)),
                torch.from_numpy(excitation.frame_f0(f0, start // hop, self.segment_length // hop + 1)))

    @property
    def starts_on_frames(self) -> bool:
        """Whether segments start on whole frames (a multiple of the hop length): what per-frame data
        read for the segment (an excitation folder's F0, `MelDirSegments`' mels) needs."""
        return self.excitation_dir is not None

    def offset(self, index: int, n: int) -> int:
        """Where the segment of clip `index` (n samples long) starts: uniform over the clip, or over its
        whole frames (`starts_on_frames`)."""
        rng = np.random.default_rng([self.seed, self.epoch, index])
        if self.starts_on_frames:
            hop = self.settings.hop_length
            return hop * int(rng.integers(0, (n - self.segment_length) // hop + 1))
        return int(rng.integers(0, n - self.segment_length + 1))

    def segment(self, index: int) -> tuple[torch.Tensor, int, int]:
        """(the `context` samples before the segment and the segment, zero-padded to context +
        segment_length; the segment's start; the clip's length in samples)."""
        info, seg = self.infos[index], self.segment_length
        whole = None
        if info.samplerate == self.settings.sampling_rate:
            n = info.frames
        else:  # another rate: resample the whole clip, then cut
            whole = load_wav(self.items[index].wav, self.settings)
            n = whole.numel()
        start = self.offset(index, n) if n > seg and self.random_offsets else 0
        first = max(0, start - self.context)
        if whole is None:
            data, _ = soundfile.read(str(self.items[index].wav), start=first, stop=start + seg, dtype="float32",
                                     always_2d=True)
            audio = torch.from_numpy(np.ascontiguousarray(data.mean(axis=1)))
        else:
            audio = whole[first:start + seg]
        before = self.context - (start - first)  # zeros for the context before the clip's first sample
        return torch.nn.functional.pad(audio, (before, self.context + seg - before - audio.numel())), start, n


class MelDirSegments(AudioSegments):
    """AudioSegments whose mels are read from `<mel_dir>/<id>.npy` ([n_mels, frames] of the whole clip,
    frame j centred on sample hop j: a GTA dump) instead of computed from the segment.

    The offset is a multiple of the hop length (hop * k, k drawn from (seed, epoch, clip)), so frame
    k + i of the clip's mel is centred on sample hop i of the segment, exactly where the computed
    path's frame i is (`mel_spectrogram` of the segment: centred frames, frame i on sample hop i).
    The segment gets the computed path's frame count, segment_length // hop + 1: the vocoders
    condition the last samples on the frame after them (the compact WaveGlow interpolates between
    frames i and i + 1; WaveGlow's transposed convolution, 4 frames wide, leaves the last frame to
    samples past the segment, which it trims). Those frames always exist
    in the clip's mel when the clip is at least one segment long (k + N // hop <= n // hop); for a
    shorter clip, zero-padded like the computed path, the frames past its mel are the silence level
    (the log-mel of the zeros there). The one difference from the computed path is at the segment's
    edges: its frames 0-1 and the last 2 (the STFT window reaches 2 hops) see the clip's real samples
    beyond the segment, not the computed path's reflect padding, i.e. what the vocoder sees at synthesis.

    With `fraction` < 1 only that share of the segments (drawn from (seed, epoch, clip)) reads the
    folder; the others take the same frames of the clip's ground-truth mel, so a vocoder fine-tuned on
    a Tacotron 2's smoothed mels keeps the recordings' sharper ones too (a copy synthesis of real mels
    is what it is also asked to do)."""

    def __init__(self, items: Sequence[Utterance], settings: AudioSettings, segment_length: int, seed: int,
                 mel_dir: str | Path, random_offsets: bool = True, context: int = 0,
                 excitation_dir: str | Path | None = None, fraction: float = 1.0):
        super().__init__(items, settings, segment_length, seed, random_offsets, context, excitation_dir)
        if not 0.0 < fraction <= 1.0:
            raise ValueError(f"the share of segments read from the mel folder must be in (0, 1], got {fraction}")
        self.mel_dir = Path(mel_dir)
        self.fraction = fraction

    @property
    def starts_on_frames(self) -> bool:
        return True  # the mels are the clip's, read from whole frames

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor] | SegmentItem:
        audio, start, n = self.segment(index)
        seg, hop = self.segment_length, self.settings.hop_length
        clip_mel = self.clip_mel(index, n)
        want = seg // hop + 1
        frames = torch.from_numpy(np.array(clip_mel[:, start // hop:start // hop + want], dtype=np.float32))
        frames = torch.nn.functional.pad(frames, (0, want - frames.shape[1]), value=self.settings.silence_level)
        if self.excitation_dir is not None:
            return SegmentItem(audio, frames, *self.excitation(index, start))
        return audio, frames

    def reads_folder(self, index: int) -> bool:
        """Whether this epoch's segment of clip `index` takes its frames from the folder."""
        if self.fraction >= 1.0:
            return True
        return bool(np.random.default_rng([self.seed, self.epoch, index, 1]).random() < self.fraction)

    def clip_mel(self, index: int, n: int) -> np.ndarray:
        """The whole clip's mel [n_mels, frames]: the folder's (checked against the clip's frame count)
        or, for the segments `reads_folder` leaves out, the ground truth computed from its audio."""
        if not self.reads_folder(index):
            return mel_spectrogram(load_wav(self.items[index].wav, self.settings), self.settings).numpy()
        path = self.mel_dir / f"{self.items[index].id}.npy"
        clip_mel = np.load(path, mmap_mode="r")
        if clip_mel.shape[1] != n_frames(n, self.settings):
            raise ValueError(f"{path}: {clip_mel.shape[1]} frames, but its clip's ground-truth mel has "
                             f"{n_frames(n, self.settings)}")
        return clip_mel


class SegmentItem(NamedTuple):
    """One training segment with its excitation: audio (with the context before it), its mel (None:
    computed by the collate), the pulses [segment_length] and the F0 of its frames."""

    audio: torch.Tensor
    mel: torch.Tensor | None
    pulses: torch.Tensor
    f0: torch.Tensor


class AudioMelBatch(NamedTuple):
    mel: torch.Tensor  # [B, n_mels, segment_length // hop + 1]
    audio: torch.Tensor  # [B, segment_length]
    history: torch.Tensor | None = None  # [B, context]: the samples before each segment (`AudioSegments`)
    pulses: torch.Tensor | None = None  # [B, segment_length]: glottal pulses (data.excitation_dir)
    f0: torch.Tensor | None = None  # [B, segment_length // hop + 1]: the frames' F0 (Hz, 0 = unvoiced)

    def to(self, device: torch.device) -> AudioMelBatch:
        moved = [None if t is None else t.to(device) for t in (self.history, self.pulses, self.f0)]
        return AudioMelBatch(self.mel.to(device), self.audio.to(device), *moved)

    def flow_inputs(self) -> dict[str, torch.Tensor]:
        """What the compact WaveGlow's `flow_forward` takes beside mel and audio, where the batch has it."""
        named = {"history": self.history, "pulses": self.pulses, "f0": self.f0}
        return {k: v for k, v in named.items() if v is not None}


class AudioMelCollate:
    """Stack segments and compute their mels in one batched STFT; (audio, mel) pairs (`MelDirSegments`)
    keep their mels. The first `context` samples of each item are its history, not part of the segment."""

    def __init__(self, settings: AudioSettings, context: int = 0):
        self.settings = settings
        self.context = context

    def __call__(self, segments: Sequence[torch.Tensor | tuple[torch.Tensor, torch.Tensor] | SegmentItem]
                 ) -> AudioMelBatch:
        if segments and isinstance(segments[0], SegmentItem):
            batch = self([s.audio if s.mel is None else (s.audio, s.mel) for s in segments])
            return batch._replace(pulses=torch.stack([s.pulses for s in segments]),
                                  f0=torch.stack([s.f0 for s in segments]))
        mel = None
        if segments and isinstance(segments[0], tuple):
            mel = torch.stack([m for _, m in segments])
            segments = [a for a, _ in segments]
        both = torch.stack(list(segments))
        history, audio = both[:, : self.context], both[:, self.context:]
        if mel is None:
            mel = mel_spectrogram(audio, self.settings)
        return AudioMelBatch(mel, audio, history if self.context else None)

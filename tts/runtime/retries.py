"""Re-synthesis of chunks whose decoder did not stop or whose attention failed.

A trained Tacotron 2's failures are mostly unlucky prenet-dropout draws, so a failed chunk is first
re-drawn whole, then split in halves; the best attempt is kept and what happened is reported.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import torch

from frontend.arpabet import PronouncingDictionary
from tts.runtime.planning import derive_seed, speakable_ids, split_in_half
from tts.runtime.settings import SynthesisConfig


@dataclass
class Piece:
    """One Tacotron 2 result for a piece of a chunk."""

    text: str
    mel: torch.Tensor  # [n_mels, frames]
    alignment: torch.Tensor  # [steps, symbols]
    reached_max_steps: bool
    failure_reasons: list[str]

    @property
    def failed(self) -> bool:
        return self.reached_max_steps or bool(self.failure_reasons)

    def describe(self) -> str:
        reasons = ["did not stop before max_decoder_steps"] if self.reached_max_steps else []
        if self.failure_reasons:
            reasons.append(f"attention failed ({', '.join(self.failure_reasons)})")
        return ", ".join(reasons)


def badness(pieces: Sequence[Piece]) -> tuple[int, int, int]:
    """Orders attempts at a chunk (lower is better): pieces that never stopped, failed pieces, pieces."""
    return (sum(p.reached_max_steps for p in pieces), sum(p.failed for p in pieces), len(pieces))


#: Tacotron 2 on a batch: (id sequences, settings, seed) -> one Piece per sequence
Infer = Callable[[Sequence[tuple[int, ...]], SynthesisConfig, "int | None"], list[Piece]]


def retry(pieces: list[Piece], cfg: SynthesisConfig, seed: int | None, infer: Infer, *,
          dictionary: PronouncingDictionary | None) -> tuple[list[Piece], int, list[str]]:
    """Re-synthesise failed pieces for up to max_retries rounds; return the best attempt.

    Round 1 re-draws the prenet dropout for the whole piece (a trained model's failures are mostly
    unlucky draws, and a whole sentence keeps its prosody); later rounds, or all rounds without
    dropout, split failed pieces in halves (a single word is re-drawn instead). A re-split can be
    worse than the original (one word that never stops is 20 s of babble), so the attempt kept is
    the one with the fewest pieces that did not stop, then the fewest failed, then the fewest
    pieces. Returns the pieces in reading order, the rounds used and at most one note for
    Speech.warnings. `infer(ids_list, cfg, seed)` runs Tacotron 2 on a batch of id sequences; halves
    are encoded as the chunk was (`dictionary`: the voice's pronouncing dictionary).
    """
    problems = "; ".join(p.describe() for p in pieces if p.failed)
    best, rounds = pieces, 0
    while rounds < cfg.max_retries and any(p.failed for p in pieces):
        redraw_whole = rounds == 0 and cfg.prenet_dropout > 0
        plan: list[list[str]] = []  # per piece: [] = keep, else the texts to synthesise instead
        for p in pieces:
            halves = split_in_half(p.text) if p.failed and not redraw_whole else None
            if halves and all(speakable_ids(h, dictionary) for h in halves):
                plan.append(list(halves))
            elif p.failed and cfg.prenet_dropout > 0:
                plan.append([p.text])  # another dropout draw may stop properly
            else:
                plan.append([])
        todo = [t for texts in plan for t in texts]
        if not todo:
            break
        rounds += 1
        redone = iter(infer([speakable_ids(t, dictionary) for t in todo], cfg, derive_seed(seed, rounds)))
        new_pieces = []
        for p, texts in zip(pieces, plan):
            if not texts:
                new_pieces.append(p)
            for t in texts:
                q = next(redone)
                q.text = t
                new_pieces.append(q)
        pieces = new_pieces
        if badness(pieces) < badness(best):
            best = pieces
    pieces = best
    if not problems:
        return pieces, rounds, []
    failed = [p for p in pieces if p.failed]
    if rounds:
        outcome = (f"still failing in {len(failed)} of {len(pieces)} piece(s), so that audio may be cut off "
                   "or garbled" if failed else "fixed")
        note = f"{problems}; re-synthesised in {len(pieces)} piece(s) over {rounds} retr{'y' if rounds == 1 else 'ies'}: {outcome}"
    else:
        why = "max_retries=0" if cfg.max_retries == 0 else "a single word and no dropout to redraw"
        note = f"{problems}; not retried ({why}), so that audio may be cut off or garbled"
    return pieces, rounds, [note]

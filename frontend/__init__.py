"""English text frontend for Tacotron 2: normalization, symbol ids, sentence chunking.

Pure text (no torch). Public API:

* `normalize(text, date_order="mdy")` - written English -> the words a reader would say (lower
  case, sentence punctuation kept, `{ARPAbet}` blocks passed through); `date_order="dmy"` reads an
  ambiguous 11/05/2023 day first.
* `text_to_sequence(text, normalize=True, date_order="mdy")` / `sequence_to_text(ids)` - NVIDIA
  Tacotron 2's 148-symbol ids (no EOS appended).
* `split_sentences(text, max_chars=180)` - sentence, then clause, then word chunking.
* `symbols` - the 148 symbols in NVIDIA's order.
* `english_cleaners(text)` / `nvidia_text_to_sequence(text)` - NVIDIA's own text processing, quirks
  and all, for reproducing its published checkpoints' outputs id for id (opt-in; `frontend.nvidia`,
  imported on first use: it needs `inflect`, which takes over a second to import).
"""

from __future__ import annotations

from typing import Any

from .normalize import normalize
from .reports import collect_warnings
from .sentences import split_sentences
from .sequence import NothingToSay, check_arpabet, sequence_to_text, text_to_sequence
from .symbols import symbols

_LAZY = frozenset({"english_cleaners", "nvidia_text_to_sequence"})


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        from . import nvidia

        return getattr(nvidia, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["NothingToSay", "check_arpabet", "collect_warnings", "english_cleaners", "normalize", "nvidia_text_to_sequence",
           "text_to_sequence", "sequence_to_text", "split_sentences", "symbols"]

"""English text frontend for Tacotron 2: normalization, symbol ids, sentence chunking.

Pure text (no torch). Public API:

* `normalize(text)` - written English -> the words a reader would say (lower case, sentence
  punctuation kept, `{ARPAbet}` blocks passed through).
* `text_to_sequence(text, normalize=True)` / `sequence_to_text(ids)` - NVIDIA Tacotron 2's
  148-symbol ids (no EOS appended).
* `split_sentences(text, max_chars=180)` - sentence, then clause, then word chunking.
* `symbols` - the 148 symbols in NVIDIA's order.
* `english_cleaners(text)` / `nvidia_text_to_sequence(text)` - NVIDIA's own text processing, quirks
  and all, for reproducing its published checkpoints' outputs id for id (opt-in; `frontend.nvidia`).
"""

from .normalize import normalize
from .nvidia import english_cleaners, nvidia_text_to_sequence
from .sentences import split_sentences
from .sequence import NothingToSay, check_arpabet, sequence_to_text, text_to_sequence
from .symbols import symbols

__all__ = ["NothingToSay", "check_arpabet", "english_cleaners", "normalize", "nvidia_text_to_sequence",
           "text_to_sequence", "sequence_to_text", "split_sentences", "symbols"]

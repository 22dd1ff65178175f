"""The 148-symbol input alphabet of NVIDIA's Tacotron 2, in NVIDIA's order.

Published checkpoints index their embedding table by these ids, so the order is part of the model
format: pad `_` = 0, `-` = 1, the punctuation `!'(),.:;?` and space = 2..11, `A`-`Z` = 12..37,
`a`-`z` = 38..63, then `@` + the 84 CMUdict ARPAbet symbols = 64..147.
"""

from __future__ import annotations

from types import MappingProxyType

PAD = "_"
SPECIAL = "-"
PUNCTUATION = "!'(),.:;? "
LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

# CMUdict's phone set with stress variants, in cmudict's file order (not alphabetical by chance:
# NVIDIA's table lists them exactly so).
ARPABET: tuple[str, ...] = tuple(
    """
    AA AA0 AA1 AA2 AE AE0 AE1 AE2 AH AH0 AH1 AH2 AO AO0 AO1 AO2 AW AW0 AW1 AW2 AY AY0 AY1 AY2
    B CH D DH EH EH0 EH1 EH2 ER ER0 ER1 ER2 EY EY0 EY1 EY2 F G HH IH IH0 IH1 IH2 IY IY0 IY1 IY2
    JH K L M N NG OW OW0 OW1 OW2 OY OY0 OY1 OY2 P R S SH T TH UH UH0 UH1 UH2 UW UW0 UW1 UW2
    V W Y Z ZH
    """.split()
)

# A list, because that is what the published interface (and NVIDIA's code) exposes.
symbols: list[str] = [PAD, *SPECIAL, *PUNCTUATION, *LETTERS, *("@" + p for p in ARPABET)]

SYMBOL_TO_ID = MappingProxyType({s: i for i, s in enumerate(symbols)})
PAD_ID = SYMBOL_TO_ID[PAD]
SPACE_ID = SYMBOL_TO_ID[" "]

# Characters the normalizer may emit outside ARPAbet braces: lower-case letters, space and the
# punctuation of the table (the pad `_` and upper-case letters are never produced).
SPOKEN_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz -!'(),.:;?")

assert len(symbols) == 148, len(symbols)

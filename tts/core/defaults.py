"""Defaults that more than one layer needs, defined once and free of heavy imports (the CLI checks
its arguments against them before loading torch)."""
from typing import Final

#: the noise scale WaveGlow-style flows sample with unless told otherwise (NVIDIA's inference scripts
#: use 0.6-0.67; training assumes 1.0)
DEFAULT_SIGMA: Final = 0.6
#: a chunk's decoder gets at most this many mel frames per input symbol (+ a little slack) unless the
#: voice says otherwise: about twice the 5-7 frames per symbol English voices speak at
FRAMES_PER_SYMBOL: Final = 12.0

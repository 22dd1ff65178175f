"""Defaults that more than one layer needs, defined once and free of heavy imports (the CLI checks
its arguments against them before loading torch)."""
from typing import Final

#: the noise scale WaveGlow-style flows sample with unless told otherwise (NVIDIA's inference scripts
#: use 0.6-0.67; training assumes 1.0)
DEFAULT_SIGMA: Final = 0.6

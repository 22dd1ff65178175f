"""The server's defaults, in a module light enough for `tts-server --help` (no FastAPI, no torch)."""
from __future__ import annotations

import os

#: environment variable holding the API key (unset or empty: no key needed)
API_KEY_ENV = "TTS_API_KEY"
#: longest input, as OpenAI's
MAX_CHARS = 4096
#: per-request time limit (queue wait + synthesis until the last chunk), seconds
REQUEST_TIMEOUT = 300.0
#: requests that may wait for a worker (more are answered 503 + Retry-After)
QUEUE_SIZE = 8


def default_workers() -> int:
    """Synthesis threads: two on a machine with two cores or more (while one runs a model the other
    encodes, plans text or waits for the model lock), else one."""
    return 2 if (os.cpu_count() or 1) >= 2 else 1

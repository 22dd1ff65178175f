"""`python -m tts.server`: see `tts.server.cli`."""
import sys

from tts.server.cli import main

sys.exit(main())

"""`python -m tts ...` is `python -m tts.say ...` (the tts-say command)."""
import sys

from tts.say import main

if __name__ == "__main__":
    sys.exit(main())

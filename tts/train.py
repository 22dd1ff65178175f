"""`python -m tts.train`: the Tacotron 2 trainer (`tts.tacotron2.train`)."""
import sys

from tts.tacotron2.train import main

if __name__ == "__main__":
    sys.exit(main())

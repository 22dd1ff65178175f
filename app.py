"""`python app.py` from a clone: the web app (`tts.app`, installed as `tts-app`)."""
import sys

from tts.app import main

if __name__ == "__main__":
    sys.exit(main())

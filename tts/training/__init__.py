"""The one training loop (`loop`: resume, signals, DDP, logging) and corpus data (`data`), shared by
the Tacotron 2 trainer (`tts.tacotron2.train`) and the vocoder trainer (`vocoder.train`)."""

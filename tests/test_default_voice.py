"""The voice shipped in checkpoints/default loads with no download and speaks (README's `say` command)."""
import subprocess
import sys
from pathlib import Path

import numpy as np
import soundfile

from tts.runtime.voices import default_voice_dir

REPO = Path(__file__).resolve().parents[1]
# the shipped Tacotron 2 reads dictionary words as phones: exporting it needs its dictionary
SHIPPED_DICTIONARY = ("--pronouncing-dictionary", str(REPO / "checkpoints/default/lexicon.txt.gz"))


def test_shipped_voice_is_the_default_and_small(monkeypatch):
    monkeypatch.delenv("TTS_VOICE_DIR", raising=False)
    default = default_voice_dir()
    assert default.resolve() == (REPO / "checkpoints" / "default").resolve()  # the checkout's, in an editable install
    weights = default / "tacotron2.pt"
    assert weights.is_file() and weights.stat().st_size < 40 * 2**20
    vocoder = default / "waveglow.pt"
    assert vocoder.is_file() and vocoder.stat().st_size < 40 * 2**20
    assert (default / "voice.yaml").is_file() and (default / "MODEL_CARD.md").is_file()


def test_readme_say_command_writes_speech_through_the_compact_waveglow(tmp_path):
    out = tmp_path / "hello.wav"
    env = {k: v for k, v in __import__("os").environ.items() if k != "TTS_VOICE_DIR"}
    run = subprocess.run([sys.executable, "-m", "tts.say", "Hello world.", "-o", str(out), "--verbose"], cwd=tmp_path,
                         capture_output=True, text=True, timeout=600, env=env)
    assert run.returncode == 0, run.stderr
    assert "waveglow: CompactWaveGlow" in run.stderr and "vocoder: waveglow" in run.stderr
    audio, rate = soundfile.read(out, dtype="float32")
    assert rate == 22050
    assert 0.3 < len(audio) / rate < 5.0  # "hello world" stops on its own: well under max_decoder_steps
    assert np.isfinite(audio).all() and np.abs(audio).max() > 0.01


def test_export_ships_a_compact_waveglow_as_the_default_vocoder(tmp_path):
    """export_voice.py --vocoder: waveglow.pt (fp16) beside tacotron2.pt, voice.yaml names it the default
    with the given sigma, denoiser strength and mel matching, and `tts-say` with no options speaks through it."""
    import torch
    import yaml

    from vocoder import CompactWaveGlow, CompactWaveGlowConfig, save_waveglow

    torch.manual_seed(0)
    tiny = CompactWaveGlow(CompactWaveGlowConfig(n_flows=4, n_group=64, n_early_every=2, n_early_size=8,
                                                 wn_n_layers=2, wn_n_channels=16, lp_order=8))
    vocoder = save_waveglow(tiny, tmp_path / "waveglow_compact_step0000700.pt", {"step": 700})
    voice = tmp_path / "voice"
    export = subprocess.run([sys.executable, str(REPO / "recipes/default_voice/export_voice.py"),
                             "--checkpoint", str(REPO / "checkpoints/default/tacotron2.pt"), *SHIPPED_DICTIONARY,
                             "--vocoder", str(vocoder), "--sigma", "0.7", "--denoise", "0.01", "--mel-match", "6", "--out", str(voice)],
                            capture_output=True, text=True, timeout=300)
    assert export.returncode == 0, export.stderr
    config = yaml.safe_load((voice / "voice.yaml").read_text())
    assert config["default_vocoder"] == "waveglow" and config["vocoders"] == {"waveglow": "waveglow.pt"}
    assert config["synthesis"]["sigma"] == 0.7 and config["synthesis"]["denoise"] == 0.01
    assert config["synthesis"]["mel_match"] == 6
    assert config["provenance"]["vocoder_training_step"] == 700
    assert config["description"] == ("Small Tacotron 2 (r = 2) trained on CPU on Festival CMU ARCTIC SLT speech, "
                                     "reading dictionary words as their phones; "
                                     "compact WaveGlow vocoder with order-8 linear prediction")  # no pulses in it
    state = torch.load(voice / "waveglow.pt", weights_only=True)["state_dict"]
    assert state["WN.0.start.weight_v"].dtype == torch.float16
    assert state["convinv.0.conv.weight"].dtype == torch.float32  # the invertible mixes stay float32

    out = tmp_path / "hello.wav"
    say = subprocess.run([sys.executable, "-m", "tts.say", "Hello world.", "-o", str(out), "--voice", str(voice),
                          "--verbose"], cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert say.returncode == 0, say.stderr
    assert "vocoder: waveglow" in say.stderr
    audio, rate = soundfile.read(out, dtype="float32")
    assert rate == 22050 and 0.3 < len(audio) / rate < 5.0 and np.isfinite(audio).all()


def test_export_ships_the_mean_of_a_vocoder_runs_last_checkpoints(tmp_path):
    import torch
    import yaml

    from vocoder import CompactWaveGlow, CompactWaveGlowConfig, save_waveglow

    config = CompactWaveGlowConfig(n_flows=2, n_group=64, n_early_every=2, n_early_size=8, wn_n_layers=2,
                                   wn_n_channels=16)
    folder = tmp_path / "run" / "checkpoints"
    weights = []
    for step in (500, 1000, 1500):
        torch.manual_seed(step)
        model = CompactWaveGlow(config)
        state = model.state_dict()
        weights.append((state["WN.0.start.weight_g"], state["WN.0.start.weight_v"]))
        save_waveglow(model, folder / f"waveglow_compact_step{step:07d}.pt", {"step": step})

    def export(*options: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, str(REPO / "recipes/default_voice/export_voice.py"),
                               "--checkpoint", str(REPO / "checkpoints/default/tacotron2.pt"), *SHIPPED_DICTIONARY,
                               "--out", str(tmp_path / "voice"), *options], capture_output=True, text=True, timeout=300,
                              check=False)

    done = export("--vocoder", str(folder / "waveglow_compact_step0001500.pt"), "--vocoder-average", "2",
                  "--sigma", "0")
    assert done.returncode == 0, done.stderr
    provenance = yaml.safe_load((tmp_path / "voice" / "voice.yaml").read_text())["provenance"]
    assert provenance["vocoder_checkpoint"] == ("mean of waveglow_compact_step0001000.pt, "
                                                "waveglow_compact_step0001500.pt")
    assert provenance["vocoder_training_step"] == 1500

    def effective(g: torch.Tensor, v: torch.Tensor) -> torch.Tensor:  # weight norm: w = g v / |v|
        return g.float() * v.float() / v.float().norm(dim=(1, 2), keepdim=True)

    shipped = torch.load(tmp_path / "voice" / "waveglow.pt", weights_only=True)["state_dict"]
    mean_g, mean_v = ((a + b) / 2 for a, b in zip(weights[1], weights[2]))  # (g, v) averaged as stored
    torch.testing.assert_close(effective(shipped["WN.0.start.weight_g"], shipped["WN.0.start.weight_v"]),
                               effective(mean_g, mean_v), atol=2e-3, rtol=2e-3)  # fp16 in the voice
    too_many = export("--vocoder", str(folder / "waveglow_compact_step0001000.pt"), "--vocoder-average", "3",
                      "--sigma", "0")
    assert too_many.returncode == 2 and too_many.stderr.startswith("error: --vocoder-average 3 needs 3 checkpoints")
    alone = export("--vocoder-average", "2")
    assert alone.returncode == 2 and "give --vocoder too" in alone.stderr


def test_export_ships_the_pronouncing_dictionary_of_a_phone_reading_checkpoint(tmp_path):
    import yaml

    from tts.tacotron2.checkpoint import load_tacotron2, save_tacotron2

    model = load_tacotron2(REPO / "checkpoints/default/tacotron2.pt")
    letters_settings = {k: v for k, v in (model.text_settings or {}).items() if k != "arpabet"}
    model.text_settings = letters_settings
    (tmp_path / "letters").mkdir()
    letters_checkpoint = save_tacotron2(model, tmp_path / "letters" / "tacotron2_step0000100.pt")
    model.text_settings = {**letters_settings, "arpabet": {"dictionary": "lexicon.txt", "p_train": 0.5}}
    checkpoint = save_tacotron2(model, tmp_path / "tacotron2_step0000100.pt")
    lexicon = tmp_path / "lexicon.txt"
    lexicon.write_text("ship SH IH1 P\n")
    script = [sys.executable, str(REPO / "recipes/default_voice/export_voice.py"), "--checkpoint", str(checkpoint)]

    missing = subprocess.run(script + ["--out", str(tmp_path / "a")], capture_output=True, text=True, timeout=300, check=False)
    assert missing.returncode == 2 and "trained to read phones: give its --pronouncing-dictionary" in missing.stderr
    letters = subprocess.run([sys.executable, str(REPO / "recipes/default_voice/export_voice.py"), "--checkpoint",
                              str(letters_checkpoint), "--pronouncing-dictionary", str(lexicon),
                              "--out", str(tmp_path / "b")], capture_output=True, text=True, timeout=300, check=False)
    assert letters.returncode == 2 and "reads letters only" in letters.stderr
    voice = tmp_path / "voice"
    ok = subprocess.run(script + ["--pronouncing-dictionary", str(lexicon), "--out", str(voice)],
                        capture_output=True, text=True, timeout=300, check=False)
    assert ok.returncode == 0, ok.stderr
    config = yaml.safe_load((voice / "voice.yaml").read_text())
    assert config["pronouncing_dictionary"] == "lexicon.txt"
    assert "reading dictionary words as their phones; Griffin-Lim vocoder" in config["description"]
    assert (voice / "lexicon.txt").read_text() == "ship SH IH1 P\n"

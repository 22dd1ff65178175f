"""The Gradio app, served on 127.0.0.1 and called through gradio_client like any API user would."""
from __future__ import annotations

import socket

import numpy as np
import pytest
import soundfile
from PIL import Image

gradio_client = pytest.importorskip("gradio_client")

MAX_CHARS = 300
# gradio's queue uses pandas options that pandas 3 deprecates; not ours to fix
pytestmark = pytest.mark.filterwarnings("ignore::Warning:gradio.queueing")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def app_url(tiny_pipeline, tiny_voice_dir_r2):
    from tts.app import build_demo
    from tts.runtime.pipeline import Pipeline

    demo = build_demo({"tiny": tiny_pipeline, "tiny-r2": Pipeline.from_pretrained(tiny_voice_dir_r2, device="cpu")},
                      max_chars=MAX_CHARS)
    port = _free_port()
    # prevent_thread_lock: the server runs in its own thread and launch() returns
    demo.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True, ssr_mode=False)
    yield f"http://127.0.0.1:{port}/"
    demo.close()


@pytest.fixture(scope="module")
def client(app_url):
    return gradio_client.Client(app_url, verbose=False)


def _speak(client, text, voice="tiny", vocoder="voice default", sigma=0.6, denoise=0.01, pace=1.0, seed=7):
    return client.predict(text, voice, vocoder, sigma, denoise, pace, seed, api_name="/speak")


def test_speak_returns_audio_images_and_timing(client):
    audio_path, mel_path, alignment_path, info = _speak(client, "Hello there. A second sentence!")
    audio, rate = soundfile.read(audio_path)
    assert rate == 22050
    assert len(audio) == 2 * 24 * 256 + round(0.35 * 22050)  # two chunks of max_decoder_steps frames + a pause
    assert np.abs(audio).max() > 0
    mel = Image.open(mel_path)
    alignment = Image.open(alignment_path)
    assert mel.width >= 48 and mel.height >= 80
    assert alignment.width >= 48
    assert "2 chunk(s)" in info and "real time" in info and "first audio after" in info
    assert "did not stop before max_decoder_steps" in info  # the random voice's problems are shown


def test_same_seed_same_audio_and_vocoder_choice(client):
    first = soundfile.read(_speak(client, "Repeat me.", seed=3)[0])[0]
    again = soundfile.read(_speak(client, "Repeat me.", seed=3)[0])[0]
    other = soundfile.read(_speak(client, "Repeat me.", seed=3, vocoder="waveglow")[0])[0]
    np.testing.assert_array_equal(first, again)
    assert first.shape == other.shape and not np.array_equal(first, other)


@pytest.mark.parametrize("kwargs, message", [
    (dict(text="   "), "Please type some text"),
    (dict(text="x" * (MAX_CHARS + 1)), f"at most {MAX_CHARS}"),
    (dict(text="?!..."), "nothing speakable"),
    (dict(text="Hi.", voice="tiny-r2", vocoder="waveglow"), "needs weights this voice does not have"),
    (dict(text="Hi.", pace=9.0), "greater than maximum value 4.0"),  # the slider's own range check
])
def test_errors_reach_the_user(client, kwargs, message):
    with pytest.raises(gradio_client.exceptions.AppError, match=message):
        _speak(client, **kwargs)


def test_vocoder_menu_follows_the_voice(tiny_pipeline):
    import tts.app as app

    library = app.VoiceLibrary(pipelines={"tiny": tiny_pipeline})
    assert library.vocoders("tiny") == ["griffin-lim", "waveglow"]
    with pytest.raises(ValueError, match="unknown voice 'nope'"):
        library.get("nope")


def test_voices_load_lazily_once():
    import tts.app as app

    calls = []

    def factory():
        calls.append(1)
        return object()

    library = app.VoiceLibrary(factories={"lazy": factory})
    assert calls == []
    assert library.get("lazy") is library.get("lazy")
    assert calls == [1]


def test_no_voices_is_a_clear_error(monkeypatch):
    import tts.app as app
    from tts.runtime.voices import VoiceError

    monkeypatch.setattr(app, "find_voices", lambda: {})
    with pytest.raises(VoiceError, match="no voices found under checkpoints/"):
        app.build_demo()
    assert app.main(["--port", "0"]) == 2  # the command line says so and exits instead of serving nothing


def test_long_spectrograms_are_shrunk_for_display():
    import tts.app as app

    wide = np.arange(80 * 5000, dtype=np.float32).reshape(80, 5000)
    small = app._shrink_time(wide, 1600)
    assert small.shape == (80, 1250)  # blocks of 4 columns averaged
    assert small[0, 0] == pytest.approx(wide[0, :4].mean())
    assert app._shrink_time(wide[:, :100], 1600).shape == (80, 100)


def _component(demo, label):
    (found,) = [b for b in demo.blocks.values() if getattr(b, "label", None) == label]
    return found


def _handler(demo, name):
    (found,) = [f for f in demo.fns.values() if getattr(f.fn, "__name__", None) == name]
    return found.fn


def test_settings_start_from_the_voice_and_follow_it(fast_pipeline, tiny_pipeline):
    """The sliders show the selected voice's own voice.yaml settings (as the CLI uses), not library defaults."""
    import tts.app as app
    from tts.runtime.settings import SynthesisConfig

    assert fast_pipeline.config.denoise == 0.0 != SynthesisConfig().denoise
    custom = app.VoiceLibrary(pipelines={"fast": fast_pipeline, "tiny": tiny_pipeline})
    fast_pipeline_config = fast_pipeline.config
    try:
        fast_pipeline.config = fast_pipeline.config.replace(sigma=0.3, pace=1.25, seed=5)
        demo = app.build_demo(custom)
        assert _component(demo, "σ (WaveGlow noise)").value == 0.3
        assert _component(demo, "Denoiser strength").value == 0.0
        assert _component(demo, "Pace").value == 1.25
        assert _component(demo, "Seed").value == 5
        vocoder, sigma, denoise, pace, seed, date_order = _handler(demo, "on_voice_change")("tiny")
        assert date_order.value == tiny_pipeline.config.date_order
        tiny = tiny_pipeline.config
        assert (sigma.value, denoise.value, pace.value) == (tiny.sigma, tiny.denoise, tiny.pace)
        assert seed == -1  # the tiny voice sets no seed
        assert "waveglow" in vocoder.choices or ("waveglow", "waveglow") in vocoder.choices
        _, sigma, denoise, pace, seed, _ = _handler(demo, "on_voice_change")("fast")
        assert (sigma.value, denoise.value, pace.value, seed) == (0.3, 0.0, 1.25, 5)
    finally:
        fast_pipeline.config = fast_pipeline_config


def test_voice_names_resolve_like_the_cli(monkeypatch, tmp_path, tiny_voice_dir):
    """`python app.py --voice NAME` serves checkpoints/NAME, as `tts-say --voice NAME` does."""
    import shutil

    import tts.app as app
    import tts.runtime.voices

    shutil.copytree(tiny_voice_dir, tmp_path / "mine")
    monkeypatch.setattr(tts.runtime.voices, "shipped_voices_dir", lambda: tmp_path)
    monkeypatch.chdir(tmp_path.parent)  # "mine" is not a folder here: only the name lookup finds it
    served = {}

    class Demo:
        def launch(self, **kwargs):
            served["launched"] = True

    def fake_build_demo(library, max_chars):
        served["names"] = library.names
        served["pipeline"] = library.get(library.names[0])
        return Demo()

    monkeypatch.setattr(app, "build_demo", fake_build_demo)
    assert app.main(["--voice", "mine", "--device", "cpu"]) == 0
    assert served["launched"] and len(served["names"]) == 1
    assert served["pipeline"].voice.directory.resolve() == (tmp_path / "mine").resolve()
    assert app.main(["--voice", "no-such-voice"]) == 2

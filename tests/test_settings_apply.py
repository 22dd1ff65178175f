"""A setting that cannot apply to the vocoder in use is reported, never silently ignored: the same
warning in the library (Speech.warnings, first Chunk.warnings), the CLI (one `warning:` line) and
the app (the request only carries a sigma the user moved)."""
import numpy as np
import pytest

from tts.say import main


def test_library_reports_sigma_with_griffin_lim(tiny_pipeline):
    speech = tiny_pipeline.speak("hello.", sigma=0.9, seed=0)
    assert speech.warnings[0] == "sigma=0.9 has no effect with the griffin-lim vocoder; ignored"
    plain = tiny_pipeline.speak("hello.", seed=0)
    assert not any("no effect" in w for w in plain.warnings)
    assert np.array_equal(speech.audio, plain.audio)  # ignored indeed, and said so


def test_sigma_applies_to_waveglow_without_a_warning(tiny_pipeline):
    speech = tiny_pipeline.speak("hello.", vocoder="waveglow", sigma=0.9, seed=0)
    assert not any("no effect" in w for w in speech.warnings)
    other = tiny_pipeline.speak("hello.", vocoder="waveglow", sigma=0.1, seed=0)
    assert not np.array_equal(speech.audio, other.audio)


def test_stream_and_batch_carry_the_warning_once(tiny_pipeline):
    chunks = list(tiny_pipeline.stream("One. Two.", temperature=0.5, seed=0))
    assert [c.warnings.count("temperature=0.5 has no effect with the griffin-lim vocoder; ignored")
            for c in chunks] == [1, 0]
    speeches = tiny_pipeline.speak_batch(["One.", "Two."], sigma=0.2, seed=0)
    assert all(s.warnings.count("sigma=0.2 has no effect with the griffin-lim vocoder; ignored") == 1
               for s in speeches)


def test_cli_prints_one_warning_line(capsys, tiny_voice_dir, tmp_path):
    out = tmp_path / "x.wav"
    code = main(["hello.", "-o", str(out), "--voice", str(tiny_voice_dir), "--sigma", "0.9", "--seed", "0"])
    err = capsys.readouterr().err
    assert code == 0
    assert err.count("warning: sigma=0.9 has no effect with the griffin-lim vocoder; ignored") == 1


@pytest.mark.parametrize("moved, warned", [(False, False), (True, True)])
def test_app_checks_only_a_moved_sigma(tiny_pipeline, moved, warned):
    import tts.app as app

    demo_speak = app.make_speak_function(app.VoiceLibrary(pipelines={"tiny": tiny_pipeline}), max_chars=300)
    sigma = tiny_pipeline.config.sigma + (0.2 if moved else 0.0)
    *_, summary = demo_speak("hello.", "tiny", app.DEFAULT_VOCODER, sigma, 0.0, 1.0, 0,
                             progress=lambda *args, **kwargs: None)
    assert ("has no effect" in summary) is warned


def test_date_order_reaches_the_normalizer_from_every_entry_point(tiny_pipeline, capsys, tiny_voice_dir, tmp_path):
    from tts.runtime.settings import SynthesisConfig

    assert tiny_pipeline.speak("On 11/05/2023.", seed=0, max_retries=0).normalized.startswith("on november fifth")
    day_first = tiny_pipeline.speak("On 11/05/2023.", seed=0, max_retries=0, date_order="dmy")
    assert day_first.normalized.startswith("on the eleventh of may")
    with pytest.raises(ValueError, match="date_order must be one of mdy, dmy"):
        SynthesisConfig(date_order="ymd")
    with pytest.raises(SystemExit) as exit_info:
        main(["On 11/05/2023.", "-o", str(tmp_path / "d.wav"), "--voice", str(tiny_voice_dir), "--date-order", "ymd"])
    assert exit_info.value.code == 2 and "invalid choice" in capsys.readouterr().err
    assert main(["On 11/05/2023.", "-o", str(tmp_path / "d.wav"), "--voice", str(tiny_voice_dir), "--date-order",
                 "dmy", "--verbose", "--seed", "0"]) == 0
    assert "the eleventh of may" in capsys.readouterr().err

    import tts.app as app

    demo_speak = app.make_speak_function(app.VoiceLibrary(pipelines={"tiny": tiny_pipeline}), max_chars=300)
    *_, summary = demo_speak("On 11/05/2023.", "tiny", app.DEFAULT_VOCODER, tiny_pipeline.config.sigma, 0.0, 1.0, 0,
                             "dmy", progress=lambda *args, **kwargs: None)
    assert "the eleventh of may" in summary

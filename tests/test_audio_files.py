"""One audio-writing path for every output: long files in every format (in a subprocess, so a codec
crash fails a test instead of the suite), streams that decode to the right length, atomic files,
and interrupted runs that leave no corrupt output."""
from __future__ import annotations

import io
import json
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import soundfile

from tts.core.audio_files import AudioFileWriter, Encoder, audio_format, encode, to_int16, write_audio
from tts.runtime.speech import SynthesisInterrupted

RATE = 22050


def tone(seconds: float, rate: int = RATE) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return (0.3 * np.sin(2 * np.pi * 220 * t) * (0.6 + 0.4 * np.sin(2 * np.pi * 0.5 * t))).astype(np.float32)


@pytest.mark.slow
def test_ten_minutes_in_every_format_in_a_subprocess(tmp_path):
    """One write of > 90 s of Ogg Vorbis used to overflow libvorbis' stack (a segfault): every format
    is written whole (write_audio) and chunk by chunk, 10 minutes each, and read back."""
    script = textwrap.dedent(f"""
        import json, numpy as np, soundfile
        from tts.core.audio_files import AudioFileWriter, write_audio
        rate, seconds = {RATE}, 600
        t = np.arange(rate * seconds, dtype=np.float64) / rate
        audio = (0.3 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)
        out = {{}}
        for ext in ("wav", "flac", "ogg", "opus", "mp3"):
            whole = "{tmp_path}/whole." + ext
            write_audio(whole, audio, rate)
            with AudioFileWriter("{tmp_path}/chunks." + ext, rate) as writer:
                for start in range(0, len(audio), rate * 4):
                    writer.write(audio[start:start + rate * 4])
            out[ext] = [soundfile.info(whole).duration, soundfile.info("{tmp_path}/chunks." + ext).duration]
        print(json.dumps(out))
    """)
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, f"exit {run.returncode}: {run.stderr[-2000:]}"
    durations = json.loads(run.stdout.strip().splitlines()[-1])
    for ext, (whole, chunked) in durations.items():
        assert whole == pytest.approx(600, abs=0.2), ext
        assert chunked == pytest.approx(600, abs=0.2), ext


@pytest.mark.parametrize("fmt", ["wav", "flac", "ogg", "opus", "mp3"])
def test_streams_decode_to_the_right_length(fmt):
    audio = tone(3.0)
    encoder = Encoder(fmt, RATE)
    data = b"".join(encoder.encode(audio[i:i + 5000]) for i in range(0, len(audio), 5000)) + encoder.finish()
    decoded, rate = soundfile.read(io.BytesIO(data), dtype="float32")
    assert rate == (48000 if fmt == "opus" else RATE)
    assert len(decoded) / rate == pytest.approx(3.0, abs=0.1)  # MP3 without a gapless tag: encoder padding
    if fmt in ("wav", "flac"):
        np.testing.assert_array_equal(to_int16(decoded), to_int16(audio))


def test_wav_stream_has_an_open_ended_header_and_pcm_is_raw_and_resampled():
    data = Encoder("wav", RATE).encode(tone(0.5))
    assert data[:4] == b"RIFF" and data[4:8] == b"\xff\xff\xff\xff" and data[40:44] == b"\xff\xff\xff\xff"
    pcm = Encoder("pcm", RATE, output_rate=24000)
    raw = pcm.encode(tone(1.0)) + pcm.finish()
    assert len(raw) == pytest.approx(2 * 24000, abs=64)  # 16-bit mono at 24 kHz, as OpenAI's clients expect
    assert Encoder("pcm", RATE).encode(np.array([1.0, -1.0, 0.5], np.float32)) == np.array(
        [32767, -32768, 16384], "<i2").tobytes()  # clipped, never wrapped


def test_files_are_written_atomically(tmp_path):
    path = tmp_path / "out.flac"
    path.write_bytes(b"an older file")
    writer = AudioFileWriter(path, RATE)
    writer.write(tone(0.5))
    assert path.read_bytes() == b"an older file"  # nothing replaced until close
    assert writer.partial.exists()
    writer.close()
    assert soundfile.info(path).duration == pytest.approx(0.5) and not writer.partial.exists()
    with AudioFileWriter(tmp_path / "gone.wav", RATE) as doomed:
        doomed.write(tone(0.1))
        doomed.abort()
    assert not list(tmp_path.glob("gone*"))
    kept = AudioFileWriter(tmp_path / "kept.ogg", RATE)
    kept.write(tone(1.0))
    assert kept.abort(keep=True) == tmp_path / "kept.partial.ogg"
    with pytest.raises(ValueError, match="unknown audio format '.mp4'"):
        AudioFileWriter(tmp_path / "x.mp4", RATE)
    with pytest.raises(ValueError, match="needs a format"):
        write_audio(io.BytesIO(), tone(0.1), RATE)
    assert audio_format(".OGG").name == "ogg" and encode(tone(0.1), RATE)[:4] == b"RIFF"


def test_speak_to_file_interrupted_leaves_no_corrupt_output(tiny_pipeline, tmp_path):
    path = tmp_path / "book.wav"
    path.write_bytes(b"previous output")
    text = "One sentence. Another sentence. A third one. And a fourth."

    def stop_after_two(done, total):
        if done == 2:
            raise KeyboardInterrupt

    with pytest.raises(SynthesisInterrupted, match=r"after 2 of 4 chunk\(s\) .*the partial output was removed"):
        tiny_pipeline.speak_to_file(text, path, progress=stop_after_two, seed=0)
    assert path.read_bytes() == b"previous output" and sorted(p.name for p in tmp_path.iterdir()) == ["book.wav"]
    with pytest.raises(SynthesisInterrupted, match="partial audio is in .*book.partial.wav") as info:
        tiny_pipeline.speak_to_file(text, path, progress=stop_after_two, keep_partial=True, seed=0)
    assert info.value.seconds > 0
    assert soundfile.info(info.value.kept).duration == pytest.approx(info.value.seconds, abs=0.01)


def test_speak_to_file_equals_speak(tiny_pipeline, tmp_path):
    text = "First part, with a pause. Second part!"
    recording = tiny_pipeline.speak_to_file(text, tmp_path / "a.wav", seed=3)
    speech = tiny_pipeline.speak(text, seed=3)
    data, rate = soundfile.read(tmp_path / "a.wav", dtype="float32")
    np.testing.assert_array_equal(to_int16(data), speech.to_int16())
    assert recording.duration == pytest.approx(speech.duration) and recording.chunks == len(speech.chunks)
    assert recording.normalized == speech.normalized and recording.warnings == speech.warnings
    stream = io.BytesIO()
    tiny_pipeline.speak_to_file(text, stream, format="flac", seed=3)
    streamed, _ = soundfile.read(io.BytesIO(stream.getvalue()), dtype="float32")
    np.testing.assert_array_equal(to_int16(streamed), speech.to_int16())


def test_cli_streams_wav_to_standard_output(tiny_voice_dir):
    run = subprocess.run([sys.executable, "-m", "tts.say", "One. Two. Three.", "-o", "-", "--voice", str(tiny_voice_dir),
                          "--quiet", "--seed", "0"], capture_output=True, timeout=300)
    assert run.returncode == 0, run.stderr.decode()
    assert run.stdout[:4] == b"RIFF"
    decoded, rate = soundfile.read(io.BytesIO(run.stdout), dtype="float32")
    assert rate == RATE and len(decoded) > 3 * 256


def test_cli_interrupted_by_sigint_exits_130_and_leaves_the_old_output(tiny_voice_dir, tmp_path):
    """Ctrl-C in the middle of a long file: exit status 130, one `error: interrupted` line saying how much was
    done, the previous output untouched and no partial file left (nothing kept without --keep-partial)."""
    import signal
    import time

    out = tmp_path / "book.wav"
    out.write_bytes(b"previous output")
    text = " ".join(f"Sentence number {i}." for i in range(400))
    # a suite started in the background by a non-interactive shell inherits SIGINT ignored, and Python then
    # installs no Ctrl-C handler: give the child the default disposition, as a terminal would
    proc = subprocess.Popen([sys.executable, "-m", "tts.say", text, "-o", str(out), "--voice", str(tiny_voice_dir),
                             "--seed", "0"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    partial = out.with_name(out.name + ".partial")
    deadline = time.monotonic() + 240
    while not partial.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert partial.exists(), proc.stderr.read().decode() if proc.poll() is not None else "no partial file in time"
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=120)
    lines = stderr.decode().strip().splitlines()
    assert proc.returncode == 130, stderr.decode()
    assert lines[-1].startswith("error: interrupted") and "Traceback" not in stderr.decode(), lines
    assert out.read_bytes() == b"previous output"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["book.wav"]

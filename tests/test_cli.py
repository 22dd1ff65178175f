"""tts-say: real subprocesses for the entry point (exit codes, stderr lines, stdin, --file, --list-vocoders),
and in-process `main()` calls for the many error paths that need the models' modules imported."""
from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile

from tts.say import main

REPO = Path(__file__).resolve().parents[1]


def _env(**extra: str) -> dict[str, str]:
    env = dict(os.environ, PYTHONPATH=str(REPO), OMP_NUM_THREADS="1", **extra)
    env.pop("TTS_VOICE_DIR", None)
    return env


def _start(args: list[str], stdin: bytes | None = None, cwd: Path | None = None) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-m", "tts.say", *args], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=_env(), cwd=cwd or REPO)
    proc.stdin.write(stdin or b"")
    proc.stdin.close()
    return proc


def _finish(proc: subprocess.Popen) -> tuple[int, bytes, str]:
    stdout = proc.stdout.read()
    stderr = proc.stderr.read().decode()
    return proc.wait(timeout=300), stdout, stderr


@pytest.fixture(scope="module")
def runs(tiny_voice_dir, tmp_path_factory):
    """The subprocesses that import torch run side by side (each costs a few seconds of imports)."""
    out = tmp_path_factory.mktemp("cli")
    (out / "text.txt").write_text("Read from a file. It has two sentences.\n", encoding="utf-8")
    voice = str(tiny_voice_dir)
    commands = {
        "stdin": (["-", "-o", str(out / "stdin.wav"), "--voice", voice, "--seed", "1", "--pace", "1.25", "--progress"],
                  "Spoken from standard input, with a comma \U0001f642. And a second sentence!".encode()),
        "file": (["--file", str(out / "text.txt"), "-o", str(out / "file.flac"), "--voice", voice, "--quiet",
                  "--vocoder", "waveglow", "--sigma", "0.5", "--denoise", "0.02", "--max-decoder-steps", "12"], None),
        "list": (["--list-vocoders"], None),
    }
    procs = {name: _start(args, stdin) for name, (args, stdin) in commands.items()}
    return out, {name: _finish(proc) for name, proc in procs.items()}


def test_text_from_stdin_to_wav(runs):
    out, results = runs
    code, _, stderr = results["stdin"]
    assert code == 0, stderr
    data, rate = soundfile.read(out / "stdin.wav")
    assert rate == 22050
    # two chunks of 24 frames at pace 1.25 (-> 19 frames each) and one 0.35 s pause / 1.25
    assert len(data) == 2 * 19 * 256 + round(0.35 / 1.25 * 22050)
    summary = stderr.strip().splitlines()[-1]
    assert summary.startswith(f"wrote {out / 'stdin.wav'}: {len(data) / 22050:.2f} s of audio, 2 chunk(s)")
    assert "x real time" in summary
    assert "speaking:   0%| " in stderr and "0/2" in stderr  # a progress bar over the two chunks (--progress)
    assert "warning: chunk 1" in stderr  # the random voice never stops: said, not hidden
    # the text is normalised twice (the early check, the synthesis); the warning prints once
    assert stderr.count("cannot read 1 character(s)") == 1, stderr
    assert "Traceback" not in stderr


def test_text_from_file_quietly_to_flac(runs):
    out, results = runs
    code, stdout, stderr = results["file"]
    assert code == 0, stderr
    assert stderr == "" and stdout == b""
    info = soundfile.info(out / "file.flac")
    assert info.format == "FLAC" and info.samplerate == 22050
    assert info.frames == 2 * 12 * 256 + round(0.35 * 22050)


def test_list_vocoders(runs):
    code, stdout, stderr = runs[1]["list"]
    assert code == 0, stderr
    names = [line.split()[0] for line in stdout.decode().splitlines()]
    assert {"griffin-lim", "waveglow"} <= set(names) and names == sorted(names)


@pytest.mark.parametrize("args, stdin, message", [
    (["   ", "-o", "x.wav"], None, "error: the text is empty"),
    (["-", "-o", "x.wav"], b"\n\n", "error: the text is empty"),
    (["-", "-o", "x.wav"], b"\xff\xfe bad", "error: standard input is not UTF-8 text"),
    (["--file", "no/such/file.txt", "-o", "x.wav"], None, "error: cannot read no/such/file.txt: No such file or directory"),
    (["hello", "-o", "x.wav", "--tacotron2", "no/such.pt"], None, "error: --tacotron2: checkpoint not found: no/such.pt"),
    (["hello", "--file", "t.txt", "-o", "x.wav"], None, "error: give the text either as an argument or with --file"),
    (["hello"], None, "error: no output file: add -o PATH"),
    (["hello", "-o", "x.wav", "--pace", "fast"], None, "error: argument --pace: invalid float value: 'fast'"),
])
def test_bad_input_is_one_error_line(tmp_path, args, stdin, message):
    code, _, stderr = _finish(_start(args, stdin, cwd=tmp_path))
    assert code == 2
    assert message in stderr.strip().splitlines()[-1]
    assert "Traceback" not in stderr
    assert not (tmp_path / "x.wav").exists()


# ----------------------------------------------------------------------------------------------------
# in-process: the same main(), without paying for a new interpreter per case
# ----------------------------------------------------------------------------------------------------
def _run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.parametrize("extra, message", [
    (["-o", "{tmp}/x.mp4"], "error: unknown audio format '.mp4': use one of .wav, .flac, .ogg, .opus, .mp3, .pcm, .raw"),
    (["-o", "{tmp}/x.wav", "--pace", "9"], "error: pace must be in [0.25, 4.0], got 9.0"),
    (["-o", "{tmp}/x.wav", "--denoise", "0.7"], "error: denoise must be in [0.0, 0.5], got 0.7"),
    (["-o", "{tmp}/x.wav", "--vocoder", "wavenet"], "error: unknown vocoder 'wavenet'; available: flowavenet, griffin-lim, waveglow, wavernn"),
    (["-o", "{tmp}/x.wav", "--voice", "{tmp}/nowhere"], "error: voice folder not found: {tmp}/nowhere"),
    (["-o", "{tmp}"], "error: output path is a folder, not a file: {tmp}"),
    (["-o", "{tmp}/missing/x.wav"], "error: output folder does not exist: {tmp}/missing"),
])
def test_bad_options_exit_2(capsys, tmp_path, tiny_voice_dir, extra, message):
    args = ["Some text.", "--voice", str(tiny_voice_dir)] + [a.format(tmp=tmp_path) for a in extra]
    code, _, err = _run(capsys, *args)
    assert code == 2
    assert err.startswith(message.format(tmp=tmp_path)) and err.count("\n") == 1


def test_vocoder_without_weights_is_a_usage_error(capsys, tmp_path, tiny_voice_dir_r2):
    code, _, err = _run(capsys, "Hi.", "-o", str(tmp_path / "x.wav"), "--voice", str(tiny_voice_dir_r2),
                        "--vocoder", "waveglow")
    assert code == 2
    assert err.startswith("error: the waveglow vocoder needs weights this voice does not have")


def test_missing_default_voice(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("TTS_VOICE_DIR", str(tmp_path / "none"))
    code, _, err = _run(capsys, "Hi.", "-o", str(tmp_path / "x.wav"))
    assert code == 2
    assert err.startswith("error: the default voice is missing")


def test_corrupt_checkpoint_is_a_runtime_failure(capsys, tmp_path, tiny_voice_dir):
    import shutil

    voice = tmp_path / "corrupt"
    shutil.copytree(tiny_voice_dir, voice)
    (voice / "tacotron2.pt").write_bytes(b"not a checkpoint at all")
    code, _, err = _run(capsys, "Hi.", "-o", str(tmp_path / "x.wav"), "--voice", str(voice))
    assert code == 1
    assert err.startswith("error: ") and "tacotron2.pt" in err and err.count("\n") == 1
    code, _, err = _run(capsys, "Hi.", "-o", str(tmp_path / "x.wav"), "--voice", str(voice), "--verbose")
    assert code == 1 and "Traceback" in err


def test_wav_to_stdout(capsysbinary, monkeypatch, tiny_voice_dir):
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO("Piped text.".encode())))
    code = main(["-", "-o", "-", "--voice", str(tiny_voice_dir), "--quiet", "--seed", "2"])
    captured = capsysbinary.readouterr()
    assert code == 0, captured.err
    data, rate = soundfile.read(io.BytesIO(captured.out))
    assert rate == 22050 and len(data) == 24 * 256


def test_checkpoint_files_instead_of_a_voice(capsys, tmp_path, tiny_voice_dir):
    out = tmp_path / "direct.ogg"
    code, _, err = _run(capsys, "Direct checkpoints.", "-o", str(out), "--tacotron2", str(tiny_voice_dir / "tacotron2.pt"),
                        "--waveglow", str(tiny_voice_dir / "waveglow.pt"), "--max-decoder-steps", "8", "--device", "cpu")
    assert code == 0, err
    assert soundfile.info(out).format == "OGG"
    assert "waveglow" in err.strip().splitlines()[-1]  # a WaveGlow file makes it the default vocoder


def test_pronouncing_dictionary_with_checkpoint_files(capsys, tmp_path, tiny_voice_dir):
    lexicon = tmp_path / "lexicon.txt"
    lexicon.write_text("ship SH IH1 P\n")
    out = str(tmp_path / "x.wav")
    code, _, err = _run(capsys, "Hi.", "-o", out, "--voice", str(tiny_voice_dir), "--pronouncing-dictionary", str(lexicon))
    assert code == 2 and err == "error: --pronouncing-dictionary goes with --tacotron2 (a voice folder brings its own)\n"
    checkpoint = ["--tacotron2", str(tiny_voice_dir / "tacotron2.pt"), "--max-decoder-steps", "8"]
    code, _, err = _run(capsys, "Hi.", "-o", out, *checkpoint, "--pronouncing-dictionary", str(tmp_path / "none.txt"))
    assert code == 2 and err.startswith("error: --pronouncing-dictionary: file not found: ")
    with pytest.warns(UserWarning, match="not trained to read phones"):  # this tiny model reads letters
        code, _, err = _run(capsys, "The ship.", "-o", out, *checkpoint, "--pronouncing-dictionary", str(lexicon))
    assert code == 0, err


def test_list_voices(capsys, monkeypatch, tiny_voice_dir, tiny_voice_dir_r2):
    import tts.runtime.voices

    monkeypatch.setattr(tts.runtime.voices, "find_voices", lambda: {"tiny": tiny_voice_dir, "tiny-r2": tiny_voice_dir_r2})
    code, out, _ = _run(capsys, "--list-voices")
    assert code == 0
    shipped = [line.split()[:3] for line in out.splitlines() if "shipped" in line]
    assert shipped == [["tiny", "griffin-lim", "shipped"], ["tiny-r2", "griffin-lim", "shipped"]]


def test_int8_waveglow_from_the_command_line(capsys, tmp_path):
    """--quantize int8 loads WaveGlow with int8 products; the audio stays close to the float32 run."""
    from tests.conftest import TINY_SYNTHESIS, tiny_tacotron2
    from tests.test_waveglow import TINY, tiny_waveglow
    from tts.runtime.voices import save_voice

    voice = tmp_path / "voice"
    save_voice(voice, tiny_tacotron2(1), vocoders={"waveglow": tiny_waveglow(2, TINY)}, default_vocoder="waveglow",
               synthesis=TINY_SYNTHESIS)
    outs = {}
    for extra in ([], ["--quantize", "int8"]):
        out = tmp_path / f"q{len(extra)}.wav"
        code, _, err = _run(capsys, "Quantized.", "-o", str(out), "--voice", str(voice), "--max-decoder-steps", "8",
                            "--device", "cpu", "--seed", "1", "--sigma", "0", "--denoise", "0", *extra)
        assert code == 0, err
        outs[len(extra)] = soundfile.read(out, dtype="float32")[0]
    a, b = outs[0], outs[2]
    assert a.shape == b.shape and np.abs(a).max() > 0 and not np.array_equal(a, b)
    assert 10 * np.log10(np.sum(a.astype(np.float64) ** 2) / np.sum((a - b).astype(np.float64) ** 2)) > 20


@pytest.mark.parametrize("content", [b"\x17" + bytes(range(256)) * 8, b"Some notes, not weights.\n"],
                         ids=["binary", "text"])
def test_foreign_file_as_checkpoint_is_not_called_a_pickle(capsys, tmp_path, tiny_voice_dir, content):
    import shutil

    voice = tmp_path / "foreign"
    shutil.copytree(tiny_voice_dir, voice)
    (voice / "tacotron2.pt").write_bytes(content)
    (tmp_path / "t2.pt").write_bytes(content)
    for args in (["--voice", str(voice)], ["--tacotron2", str(tmp_path / "t2.pt")]):
        code, _, err = _run(capsys, "Hi.", "-o", str(tmp_path / "x.wav"), *args)
        assert code == 1 and err.count("\n") == 1
        assert "is not a PyTorch checkpoint (corrupt or another file type)" in err and "pickled" not in err


def test_unclosed_arpabet_block_is_a_usage_error(capsys, tmp_path, tiny_voice_dir):
    out = tmp_path / "x.wav"
    code, _, err = _run(capsys, "{HH AH0", "-o", str(out), "--voice", str(tiny_voice_dir))
    assert code == 2 and err.count("\n") == 1
    assert err.startswith("error: unclosed ARPAbet block '{HH AH0'")
    assert not out.exists()


def test_cuda_without_cuda_is_a_usage_error(capsys, tmp_path, tiny_voice_dir, monkeypatch):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)  # as on a CPU-only torch build
    out = tmp_path / "x.wav"
    for device in ("cuda", "cuda:0"):
        code, _, err = _run(capsys, "Hi.", "-o", str(out), "--voice", str(tiny_voice_dir), "--device", device)
        assert code == 2 and err.count("\n") == 1, err
        assert err.startswith(f"error: --device {device}: CUDA is not available") and "--device cpu" in err
    assert not out.exists()


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs Linux's /proc")
def test_unwritable_output_folder_fails_before_synthesis(capsys, tiny_voice_dir, monkeypatch):
    import tts.runtime.pipeline

    def no_synthesis(*args, **kwargs):
        raise AssertionError("the models should not load when the output cannot be written")

    monkeypatch.setattr(tts.runtime.pipeline.Pipeline, "from_pretrained", no_synthesis)
    # /proc refuses new files even to root, for whom os.access says "writable"
    code, _, err = _run(capsys, "Hi.", "-o", "/proc/a.wav", "--voice", str(tiny_voice_dir))
    assert code == 2 and err.count("\n") == 1, err
    assert err.startswith("error: cannot write /proc/a.wav: no file can be created in /proc")


def test_quantize_without_waveglow_warns(capsys, tmp_path, tiny_voice_dir, tiny_voice_dir_r2):
    out = tmp_path / "x.wav"
    common = ["Hi.", "-o", str(out), "--device", "cpu", "--quantize", "int8", "--max-decoder-steps", "4"]
    code, _, err = _run(capsys, *common, "--voice", str(tiny_voice_dir_r2))
    assert code == 0, err
    assert ("warning: --quantize int8 applies only to the WaveGlow vocoder and this voice has none; ignored"
            in err.splitlines())
    assert out.exists()
    code, _, err = _run(capsys, *common, "--voice", str(tiny_voice_dir))  # has a WaveGlow, uses Griffin-Lim
    assert code == 0, err
    assert "warning: --quantize int8 applies only to the WaveGlow vocoder and this run uses griffin-lim; ignored" in err
    code, _, err = _run(capsys, *common, "--voice", str(tiny_voice_dir), "--vocoder", "waveglow")
    assert code == 0, err
    assert "--quantize" not in err
    code, _, err = _run(capsys, *common, "--voice", str(tiny_voice_dir_r2), "--quiet")
    assert code == 0 and err == ""


def test_download_and_list_downloadable_voices(capsys, monkeypatch, tmp_path, free_port):
    monkeypatch.setenv("TTS_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("TTS_MIRROR", f"http://127.0.0.1:{free_port}")  # nothing listens there: offline
    code, out, _ = _run(capsys, "--list-voices")
    assert code == 0
    listed = {line.split()[0]: line for line in out.splitlines()}
    assert "shipped" in listed["default"] and "download, about" in listed["nvidia-ljspeech"]
    code, _, err = _run(capsys, "--download", "nvidia-ljspeech", "--quiet")
    assert code == 1 and err.count("error:") == 1 and f"127.0.0.1:{free_port}" in err and "by hand" in err
    assert "Traceback" not in err
    code, _, err = _run(capsys, "--download", "no-such-voice")
    assert code == 2 and "not a downloadable voice" in err


def test_manifest_from_the_command_line(capsys, tiny_voice_dir, tmp_path):
    manifest = tmp_path / "lines.tsv"
    manifest.write_text("one\tFirst line.\ntwo\tSecond line!\n", encoding="utf-8")
    out = tmp_path / "out"
    args = ["--manifest", str(manifest), "--out-dir", str(out), "--voice", str(tiny_voice_dir), "--format", "flac"]
    code, _, err = _run(capsys, *args, "--seed", "0")
    assert code == 0, err
    assert sorted(p.name for p in out.iterdir()) == ["one.flac", "report.jsonl", "two.flac"]
    assert "2 ok, 0 skipped, 0 failed" in err
    code, _, err = _run(capsys, *args)  # a rerun skips what is done
    assert code == 0 and "0 ok, 2 skipped" in err
    code, _, err = _run(capsys, "--manifest", str(manifest), "--voice", str(tiny_voice_dir))
    assert code == 2 and "--out-dir" in err
    code, _, err = _run(capsys, *args, "-o", str(tmp_path / "x.wav"))
    assert code == 2 and "drop the text" in err

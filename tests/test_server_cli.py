"""`tts-server` as people start it (`python -m tts.server`): its arguments, its one-line errors, and a
real start with a voice folder, the API key from the environment, and the access log."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

httpx = pytest.importorskip("httpx")
pytest.importorskip("uvicorn")
pytest.importorskip("fastapi")

REPO = Path(__file__).resolve().parents[1]


def _server(*args: str, env: dict | None = None, **kwargs) -> subprocess.Popen:
    environment = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1", **(env or {})}
    return subprocess.Popen([sys.executable, "-m", "tts.server", *args], cwd=REPO, env=environment,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kwargs)


def _run(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    process = _server(*args)
    out, err = process.communicate(timeout=timeout)
    return subprocess.CompletedProcess(process.args, process.returncode, out, err)


def test_help_shows_the_defaults():
    result = _run("--help")
    assert result.returncode == 0
    for text in ("--port PORT", "(default: 8000)", "(default: 127.0.0.1)", "(default: 4096)", "--workers",
                 "--queue", "TTS_API_KEY"):
        assert text in result.stdout, text


@pytest.mark.parametrize("args, message", [
    (["--port", "99999"], "argument --port: a port is a number from 0 to 65535, got 99999"),
    (["--port", "http"], "argument --port: a port is a number from 0 to 65535"),
    (["--workers", "0"], "argument --workers: must be >= 1, got 0"),
    (["--queue", "-1"], "argument --queue: must be >= 0"),
    (["--timeout", "0"], "argument --timeout: must be a positive number of seconds"),
    (["--bogus"], "unrecognized arguments: --bogus"),
])
def test_bad_arguments_are_one_error_line_and_exit_2(args, message):
    result = _run(*args)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], result.stderr


def test_a_port_in_use_or_a_missing_voice_is_one_error_line(tmp_path, tiny_voice_dir):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = _run("--port", str(port), "--voice", str(tiny_voice_dir))
    assert result.returncode == 2
    assert result.stderr.strip() == f"error: cannot listen on 127.0.0.1:{port}: the port is in use (another server " \
                                    "is listening there)"
    result = _run("--port", "0", "--voice", str(tmp_path / "nowhere"))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.strip().startswith("error: voice folder not found")
    result = _run("--host", "no-such-host.invalid", "--port", "0")
    assert result.returncode == 2 and result.stderr.strip().startswith("error: cannot listen on no-such-host.invalid")


@pytest.mark.slow
def test_serves_a_voice_with_the_key_from_the_environment(tiny_voice_dir, free_port):
    openai = pytest.importorskip("openai")
    process = _server("--port", str(free_port), "--voice", str(tiny_voice_dir), "--workers", "1", "--no-ui",
                      env={"TTS_API_KEY": "k3y"})
    url = f"http://127.0.0.1:{free_port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            assert process.poll() is None, process.communicate()[1]
            try:
                health = httpx.get(url + "/health", timeout=2)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "the server did not answer"
                time.sleep(0.2)
        assert health.status_code == 200 and health.json()["voices"] == ["tiny"]
        assert httpx.post(url + "/v1/audio/speech", json={"input": "Hi."}).status_code == 401
        client = openai.OpenAI(base_url=url + "/v1", api_key="k3y", max_retries=0)
        assert client.audio.speech.create(model="tts-1", voice="alloy", input="Hello there.").content
        assert httpx.get(url + "/", timeout=10).status_code == 404  # --no-ui
    finally:
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    assert "serving tiny on http://127.0.0.1:" in err and "API key required" in err
    assert '"POST /v1/audio/speech" 200 chars=12 audio=' in err

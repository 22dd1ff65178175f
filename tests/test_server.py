"""The OpenAI-compatible speech server (tts.server), served by a real uvicorn on 127.0.0.1 and called
with httpx and the official `openai` client, as its users call it.

Tiny random-weight voices (tests/conftest.py) make every chunk exactly `max_decoder_steps` frames, so
durations are known; a wrapper that adds a fixed delay per chunk makes queueing and time limits
deterministic.
"""
from __future__ import annotations

import base64
import io
import json
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import numpy as np
import pytest
import soundfile

httpx = pytest.importorskip("httpx")
uvicorn = pytest.importorskip("uvicorn")
pytest.importorskip("fastapi")
openai = pytest.importorskip("openai")

# gradio's queue uses pandas options that pandas 3 deprecates; not ours to fix
pytestmark = pytest.mark.filterwarnings("ignore::Warning:gradio.queueing")

TWO_SENTENCES = "Hello there. A second sentence!"
MANY_SENTENCES = " ".join(f"This is sentence number {n}." for n in range(1, 9))
HOP = 256
RATE = 22050


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def serve(app):
    """Run `app` on a real uvicorn server on 127.0.0.1 in a thread; yields its base URL."""
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=_free_port(), log_config=None,
                                           log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the server did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{server.config.port}"
    finally:
        server.should_exit = True
        thread.join(15)


class SlowPipeline:
    """A real pipeline whose every chunk takes `delay` seconds longer: deterministic timing."""

    def __init__(self, pipe, delay: float):
        self._pipe = pipe
        self.delay = delay

    def __getattr__(self, name):
        return getattr(self._pipe, name)

    def stream(self, text, **overrides):
        chunks = self._pipe.stream(text, **overrides)

        def slow():
            try:
                for chunk in chunks:
                    time.sleep(self.delay)
                    yield chunk
            finally:
                chunks.close()
        return slow()


@pytest.fixture(scope="module")
def long_pipeline(tiny_voice_dir):
    """The tiny voice with 100 decoder steps per chunk: synthesis time dominates a request."""
    from tts import Pipeline

    pipe = Pipeline.from_pretrained(tiny_voice_dir, device="cpu")
    pipe.config = pipe.config.replace(max_decoder_steps=100)
    return pipe.warm_up()


@pytest.fixture(scope="module")
def base_url(tiny_pipeline, long_pipeline):
    from tts.server import create_app

    app = create_app({"tiny": tiny_pipeline, "tiny-long": long_pipeline}, workers=2, queue_size=8, api_key=None)
    with serve(app) as url:
        yield url


@pytest.fixture(scope="module")
def client(base_url):
    return openai.OpenAI(base_url=base_url + "/v1", api_key="not-needed", max_retries=0, timeout=60)


def _speak(base_url, **body):
    body.setdefault("model", "tts-1")
    body.setdefault("voice", "alloy")
    return httpx.post(base_url + "/v1/audio/speech", json=body, timeout=60)


def _decode(data: bytes, format: str) -> tuple[np.ndarray, int]:
    if format == "pcm":
        return soundfile.read(io.BytesIO(data), format="RAW", subtype="PCM_16", samplerate=24000, channels=1,
                              endian="LITTLE")
    return soundfile.read(io.BytesIO(data))


def _expected_seconds(pipe, text, **overrides) -> float:
    return pipe.speak(text, **overrides).duration


def _error(response, status: int, code: str | None = None, param: str | None = None) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    error = response.json()["error"]
    assert set(error) == {"message", "type", "param", "code"} and error["message"]
    if code is not None:
        assert error["code"] == code, error
    if param is not None:
        assert error["param"] == param, error
    return error


# -- endpoints ---------------------------------------------------------------------------------------
def test_health_voices_and_models(base_url):
    health = httpx.get(base_url + "/health").json()
    assert health["status"] == "ok" and health["default_voice"] == "tiny" and health["voices"] == ["tiny", "tiny-long"]
    voices = httpx.get(base_url + "/v1/audio/voices").json()
    tiny = voices["voices"][0]
    assert tiny["id"] == "tiny" and tiny["default"] and tiny["language"] == "en" and tiny["sample_rate"] == RATE
    assert tiny["pcm_sample_rate"] == 24000 and "griffin-lim" in tiny["vocoders"]
    assert voices["aliases"]["alloy"] == "tiny"
    ids = [m["id"] for m in httpx.get(base_url + "/v1/models").json()["data"]]
    assert {"tts-1", "tts-1-hd", "gpt-4o-mini-tts", "tiny"} <= set(ids)
    assert httpx.get(base_url + "/v1/models/tts-1").json()["id"] == "tts-1"


@pytest.mark.parametrize("format, media_type, tolerance", [
    ("mp3", "audio/mpeg", 0.13),  # the MP3 encoder's delay and padding
    ("opus", "audio/ogg", 0.03),
    ("flac", "audio/flac", 1e-6),
    ("wav", "audio/wav", 1e-6),
    ("pcm", "audio/pcm", 0.002),  # resampled to 24 kHz
])
def test_every_format_decodes_with_the_right_duration(base_url, tiny_pipeline, format, media_type, tolerance):
    response = _speak(base_url, input=TWO_SENTENCES, response_format=format)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith(media_type)
    audio, rate = _decode(response.content, format)
    assert rate == {"opus": 48000, "pcm": 24000}.get(format, RATE)
    expected = _expected_seconds(tiny_pipeline, TWO_SENTENCES)
    assert expected == pytest.approx((2 * 24 * HOP + round(0.35 * RATE)) / RATE)
    assert abs(len(audio) / rate - expected) <= tolerance, (len(audio) / rate, expected)
    assert np.abs(audio).max() > 0
    if format == "flac":
        assert int(response.headers["content-length"]) == len(response.content)  # whole, not streamed
    else:
        assert response.headers.get("transfer-encoding") == "chunked"


def test_wav_streams_with_an_open_ended_header(base_url):
    data = _speak(base_url, input="Short.", response_format="wav").content
    assert data[:4] == b"RIFF" and data[4:8] == b"\xff\xff\xff\xff" and data[40:44] == b"\xff\xff\xff\xff"


def test_openai_client_create_and_streaming_response(client, tiny_pipeline):
    speech = client.audio.speech.create(model="tts-1", voice="alloy", input=TWO_SENTENCES, response_format="wav")
    audio, rate = _decode(speech.content, "wav")
    assert len(audio) / rate == pytest.approx(_expected_seconds(tiny_pipeline, TWO_SENTENCES))
    with client.audio.speech.with_streaming_response.create(model="gpt-4o-mini-tts", voice="nova", input=TWO_SENTENCES,
                                                            response_format="pcm") as response:
        assert response.headers["x-tts-voice"] == "tiny"
        pieces = list(response.iter_bytes())
    audio, rate = _decode(b"".join(pieces), "pcm")
    assert abs(len(audio) / rate - _expected_seconds(tiny_pipeline, TWO_SENTENCES)) < 0.002
    mp3 = client.audio.speech.create(model="tts-1-hd", voice="tiny", input="Default format.")  # mp3
    assert _decode(mp3.content, "mp3")[1] == RATE


def test_openai_client_sees_errors(client):
    with pytest.raises(openai.NotFoundError) as found:
        client.audio.speech.create(model="tts-1", voice="nobody", input="Hi.")
    assert found.value.status_code == 404 and "nobody" in str(found.value)
    with pytest.raises(openai.BadRequestError) as bad:
        client.audio.speech.create(model="tts-1", voice="alloy", input="Hi.", response_format="aac")
    assert "not offered" in str(bad.value)
    with pytest.raises(openai.BadRequestError):
        client.audio.speech.create(model="tts-1", voice="alloy", input="Hi.", speed=4.5)


def test_speed_two_halves_the_duration(base_url):
    normal = _decode(_speak(base_url, input=TWO_SENTENCES, response_format="wav").content, "wav")[0]
    fast = _decode(_speak(base_url, input=TWO_SENTENCES, response_format="wav", speed=2.0).content, "wav")[0]
    assert len(fast) / len(normal) == pytest.approx(0.5, abs=0.01)


def test_streaming_sends_first_bytes_early(base_url):
    body = {"model": "tts-1", "voice": "tiny-long", "input": MANY_SENTENCES, "response_format": "pcm"}
    start = time.perf_counter()
    first = None
    total_bytes = 0
    with httpx.stream("POST", base_url + "/v1/audio/speech", json=body, timeout=60) as response:
        assert response.status_code == 200 and response.headers["transfer-encoding"] == "chunked"
        for piece in response.iter_raw():
            if piece and first is None:
                first = time.perf_counter() - start
            total_bytes += len(piece)
    total = time.perf_counter() - start
    assert total_bytes / 2 / 24000 > 8 * 100 * HOP / RATE * 0.99  # all eight chunks arrived
    assert first < 0.4 * total, (first, total)


def test_sse_events_carry_the_audio(base_url, tiny_pipeline):
    response = _speak(base_url, input=TWO_SENTENCES, response_format="pcm", stream_format="sse")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/event-stream")
    events = [json.loads(line[len("data: "):]) for line in response.text.splitlines() if line.startswith("data: ")]
    assert [e["type"] for e in events[:-1]] == ["speech.audio.delta"] * (len(events) - 1) and len(events) >= 3
    assert events[-1]["type"] == "speech.audio.done" and events[-1]["usage"]["input_characters"] == len(TWO_SENTENCES)
    audio, rate = _decode(b"".join(base64.b64decode(e["audio"]) for e in events[:-1]), "pcm")
    assert abs(len(audio) / rate - _expected_seconds(tiny_pipeline, TWO_SENTENCES)) < 0.002


def test_instructions_are_accepted_and_said_to_be_ignored(base_url):
    response = _speak(base_url, input="Hi.", response_format="wav", instructions="Speak like a pirate.")
    assert response.status_code == 200 and "ignored" in response.headers["x-tts-instructions"]
    assert "x-tts-instructions" not in _speak(base_url, input="Hi.", response_format="wav").headers


def test_project_extensions(base_url):
    first = _speak(base_url, input="Repeat me.", response_format="wav", seed=3).content
    again = _speak(base_url, input="Repeat me.", response_format="wav", seed=3, denoise=0.0).content
    other = _speak(base_url, input="Repeat me.", response_format="wav", seed=3, vocoder="waveglow", sigma=0.5)
    assert other.status_code == 200 and other.content != first
    assert len(first) == len(again)
    warned = _speak(base_url, input="Repeat me.", response_format="wav", sigma=0.3)  # Griffin-Lim has no sigma
    assert "sigma=0.3 has no effect" in warned.headers["x-tts-warnings"]
    matched = _speak(base_url, input="Repeat me.", response_format="wav", seed=3, vocoder="waveglow", sigma=0.5,
                     mel_match=4)
    assert matched.status_code == 200 and "mel_match" not in matched.headers.get("x-tts-warnings", "")
    assert len(matched.content) == len(other.content) and matched.content != other.content


def test_ssml_input(base_url, tiny_pipeline):
    plain = _speak(base_url, input="Hello there.", response_format="wav", seed=1)
    paused = _speak(base_url, input='<speak>Hello there.<break time="800ms"/></speak>', response_format="wav", seed=1)
    assert plain.status_code == paused.status_code == 200
    (said, rate), (with_break, _) = _decode(plain.content, "wav"), _decode(paused.content, "wav")
    assert abs((len(with_break) - len(said)) / rate - 0.8) < 0.05


# -- errors ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("body, status, code, param", [
    ({"input": ""}, 400, "empty_input", "input"),
    ({"input": "   "}, 400, "empty_input", "input"),
    ({"input": "x" * 4097}, 400, "string_above_max_length", "input"),
    ({"input": "?!..."}, 400, None, "input"),
    ({"input": "Hi.", "response_format": "ogg-vorbis"}, 400, None, "response_format"),
    ({"input": "Hi.", "response_format": "aac"}, 400, "unsupported_response_format", "response_format"),
    ({"input": "Hi.", "stream_format": "websocket"}, 400, None, "stream_format"),
    ({"input": "Hi.", "speed": 0.1}, 400, None, "speed"),
    ({"input": "Hi.", "speed": 4.01}, 400, None, "speed"),
    ({"input": "Hi.", "denoise": 0.9}, 400, None, "denoise"),
    ({"input": "Hi.", "mel_match": 51}, 400, None, "mel_match"),
    ({"input": "Hi.", "mel_match": 1.5}, 422, None, "mel_match"),
    ({"input": "Hi.", "vocoder": "nonesuch"}, 400, None, "vocoder"),
    ({"input": "Hi.", "loudness": 3}, 400, "unknown_parameter", "loudness"),
    ({"input": "Hi.", "voice": "nobody"}, 404, "voice_not_found", "voice"),
    ({"input": "Hi.", "model": "tts-9"}, 404, "model_not_found", "model"),
    ({"input": 123}, 422, None, "input"),
    ({"input": "Hi.", "speed": "fast"}, 422, None, "speed"),
    ({"input": "Hi.", "sigma": "high"}, 422, None, "sigma"),
    ({"input": "Hi.", "ssml": "yes"}, 422, None, "ssml"),
    ({"input": "<speak>Hi <break time='1s'></speak>", "ssml": True}, 400, None, "input"),
    ({"input": "Hi.", "voice": ["a"]}, 422, None, "voice"),
    ({"voice": "alloy"}, 422, "missing_required_parameter", "input"),
])
def test_bad_requests_get_their_status_and_a_json_error(base_url, body, status, code, param):
    _error(httpx.post(base_url + "/v1/audio/speech", json=body, timeout=30), status, code, param)


@pytest.mark.parametrize("content", [b"{not json", b"[1, 2]", b"", "\u00ff".encode("latin-1")])
def test_malformed_bodies_are_422(base_url, content):
    response = httpx.post(base_url + "/v1/audio/speech", content=content,
                          headers={"content-type": "application/json"}, timeout=30)
    _error(response, 422)


def test_large_body_is_413_and_unknown_paths_are_json(base_url):
    _error(httpx.post(base_url + "/v1/audio/speech", json={"input": "x" * 200_000}, timeout=30), 413,
           "request_too_large")
    _error(httpx.get(base_url + "/v1/audio/transcriptions"), 404, "not_found")
    response = httpx.get(base_url + "/v1/audio/speech")
    _error(response, 405)
    assert response.headers["allow"] == "POST"


def test_gradio_page_at_root(base_url):
    response = httpx.get(base_url + "/", timeout=30)
    assert response.status_code == 200 and "text/html" in response.headers["content-type"]
    config = httpx.get(base_url + "/config", timeout=30).json()
    assert config["title"] == "tts: Tacotron 2 text to speech"


def test_access_log_has_one_line_per_request(base_url, caplog):
    with caplog.at_level("INFO", logger="tts.server.access"):
        _speak(base_url, input=TWO_SENTENCES, response_format="mp3")
        deadline = time.monotonic() + 5
        while not any("/v1/audio/speech" in r.getMessage() for r in caplog.records) and time.monotonic() < deadline:
            time.sleep(0.02)
    line = next(r.getMessage() for r in caplog.records if "/v1/audio/speech" in r.getMessage())
    assert '"POST /v1/audio/speech" 200' in line and f"chars={len(TWO_SENTENCES)}" in line
    assert "audio=0.91s" in line and "latency=" in line and "format=mp3" in line


# -- load: disconnects, the bounded queue, time limits, memory -----------------------------------------
def _health(url):
    return httpx.get(url + "/health").json()["queue"]


def _wait_idle(url, timeout=30.0):
    deadline = time.monotonic() + timeout
    while True:
        queue = _health(url)
        if queue["running"] == 0 and queue["waiting"] == 0:
            return queue
        assert time.monotonic() < deadline, queue
        time.sleep(0.05)


def test_client_disconnect_stops_synthesis(tiny_pipeline):
    from tts.server import create_app

    text = " ".join(f"Sentence number {n}." for n in range(40))
    with serve(create_app({"slow": SlowPipeline(tiny_pipeline, 0.05)}, workers=1, ui=False, api_key=None)) as url:
        before = _wait_idle(url)
        with httpx.stream("POST", url + "/v1/audio/speech", json={"input": text, "response_format": "pcm"},
                          timeout=30) as response:
            assert response.status_code == 200
            next(response.iter_raw())  # the first chunk, then hang up
        after = _wait_idle(url)
    assert after["cancelled"] == before["cancelled"] + 1
    assert after["chunks"] - before["chunks"] < 10  # of 40


def test_full_queue_is_503_with_retry_after(tiny_pipeline):
    from tts.server import create_app

    app = create_app({"slow": SlowPipeline(tiny_pipeline, 0.3)}, workers=1, queue_size=1, ui=False, api_key=None)
    with serve(app) as url, ThreadPoolExecutor(5) as pool:
        responses = list(pool.map(lambda _: _speak(url, input=TWO_SENTENCES, response_format="wav"), range(5)))
    statuses = sorted(r.status_code for r in responses)
    assert statuses.count(200) >= 2 and statuses.count(503) >= 1 and set(statuses) == {200, 503}, statuses
    for response in responses:
        if response.status_code == 503:
            _error(response, 503, "server_busy")
            assert int(response.headers["retry-after"]) >= 1


def test_time_limit_is_504_before_audio_and_a_cut_stream_after(tiny_pipeline):
    from tts.server import create_app

    app = create_app({"slow": SlowPipeline(tiny_pipeline, 0.6)}, workers=1, request_timeout=0.4, ui=False, api_key=None)
    with serve(app) as url:  # no audio before the limit
        _error(_speak(url, input="One.", response_format="wav"), 504, "timeout")
        assert _wait_idle(url)["timeout"] == 1
    app = create_app({"slow": SlowPipeline(tiny_pipeline, 0.2)}, workers=1, request_timeout=1.0, ui=False, api_key=None)
    with serve(app) as url:  # 8 chunks of 0.2 s: audio starts, then the limit cuts the response
        with pytest.raises(httpx.RemoteProtocolError):  # an incomplete response, not silently short audio
            _speak(url, input=MANY_SENTENCES, response_format="pcm")
        sse = _speak(url, input=MANY_SENTENCES, response_format="pcm", stream_format="sse")
        assert sse.status_code == 200 and '"type":"error"' in sse.text and '"code":"timeout"' in sse.text
        assert _wait_idle(url)["timeout"] == 2


def _rss_mb() -> float:
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS:")) / 1024


@pytest.mark.slow
def test_eight_concurrent_clients_are_all_answered_and_memory_stays_flat(tiny_pipeline):
    from tts.server import create_app

    app = create_app({"tiny": tiny_pipeline}, workers=2, queue_size=4, ui=False, api_key=None)
    formats = ["mp3", "opus", "wav", "pcm", "flac", "mp3", "wav", "pcm"]
    with serve(app) as url:
        _speak(url, input=TWO_SENTENCES)
        before = _rss_mb()
        for _ in range(2):
            with ThreadPoolExecutor(8) as pool:
                responses = list(pool.map(lambda f: _speak(url, input=MANY_SENTENCES, response_format=f), formats))
            for response, format in zip(responses, formats):
                assert response.status_code in (200, 503), response.text
                if response.status_code == 200:
                    assert len(_decode(response.content, format)[0]) > 0
                else:
                    assert int(response.headers["retry-after"]) >= 1
            assert sum(r.status_code == 200 for r in responses) >= 6  # 2 workers + 4 waiting
        growth = _rss_mb() - before
        assert _wait_idle(url)["error"] == 0
    assert growth < 600, f"RSS grew by {growth:.0f} MB"


def test_api_key(tiny_pipeline, monkeypatch):
    from tts.server import create_app

    monkeypatch.setenv("TTS_API_KEY", "s3cret")
    with serve(create_app({"tiny": tiny_pipeline}, workers=1)) as url:  # the key from the environment
        speech = url + "/v1/audio/speech"
        body = {"input": "Hi.", "response_format": "wav"}
        missing = httpx.post(speech, json=body)
        _error(missing, 401, "invalid_api_key")
        assert missing.headers["www-authenticate"] == "Bearer"
        _error(httpx.post(speech, json=body, headers={"Authorization": "Bearer s3crez"}), 401, "invalid_api_key")
        _error(httpx.post(speech, json=body, headers={"Authorization": "Basic s3cret"}), 401, "invalid_api_key")
        _error(httpx.get(url + "/v1/models"), 401)
        assert httpx.post(speech, json=body, headers={"Authorization": "Bearer s3cret"}).status_code == 200
        assert httpx.get(url + "/health").status_code == 200  # probes need no key
        good = openai.OpenAI(base_url=url + "/v1", api_key="s3cret", max_retries=0)
        assert good.audio.speech.create(model="tts-1", voice="alloy", input="Hi.", response_format="wav").content
        with pytest.raises(openai.AuthenticationError):
            openai.OpenAI(base_url=url + "/v1", api_key="wrong", max_retries=0).audio.speech.create(
                model="tts-1", voice="alloy", input="Hi.")
        # the web app asks for the key as its password
        assert httpx.get(url + "/config").status_code == 401
        assert httpx.post(url + "/login", data={"username": "me", "password": "wrong"}).status_code == 400
        login = httpx.post(url + "/login", data={"username": "me", "password": "s3cret"})
        assert login.status_code == 200 and httpx.get(url + "/config", cookies=login.cookies).status_code == 200
    with serve(create_app({"tiny": tiny_pipeline}, workers=1, ui=False, api_key=None)) as url:  # explicit: open
        assert httpx.post(url + "/v1/audio/speech", json={"input": "Hi."}).status_code == 200

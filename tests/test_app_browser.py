"""The web app in a real browser: type, click Speak, get a playable <audio> element.

Uses Debian's Chromium (/usr/bin/chromium) through playwright-python; `playwright install` is not
needed. Also saves a screenshot: to docs/screenshot.png when that file does not exist yet or when
TTS_UPDATE_SCREENSHOT=1, otherwise to a temporary folder. To picture a real voice instead of the tiny
random one: TTS_UPDATE_SCREENSHOT=1 TTS_SCREENSHOT_VOICE=checkpoints/default pytest tests/test_app_browser.py
"""
from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOT = Path(__file__).resolve().parents[1] / "docs" / "screenshot.png"
TEXT = "Call me Ishmael. Some years ago, never mind how long precisely, I thought I would sail about a little."

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Chromium is not installed at /usr/bin/chromium"),
    pytest.mark.filterwarnings("ignore::Warning:gradio.queueing"),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def app_url(tiny_pipeline):
    from tts.app import build_demo
    from tts.runtime.pipeline import Pipeline

    voice_dir = os.environ.get("TTS_SCREENSHOT_VOICE")
    pipeline = Pipeline.from_pretrained(voice_dir, device="cpu") if voice_dir else tiny_pipeline
    demo = build_demo({pipeline.name: pipeline})
    port = _free_port()
    demo.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True, ssr_mode=False)
    yield f"http://127.0.0.1:{port}/"
    demo.close()


def test_type_click_and_get_audio(app_url, tmp_path):
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install playwright)")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(app_url)
            page.locator("#tts-text textarea").fill(TEXT)
            page.locator("#tts-speak").click()
            page.wait_for_function(
                "() => [...document.querySelectorAll('audio')].some(a => a.getAttribute('src'))", timeout=120_000)
            sources = page.evaluate("() => [...document.querySelectorAll('audio')].map(a => a.src).filter(Boolean)")
            assert len(sources) == 1 and sources[0].endswith(".wav")
            # the file behind the player is real audio
            response = page.request.get(sources[0])
            assert response.ok and response.body()[:4] == b"RIFF"
            summary = page.locator("#tts-summary").inner_text()
            assert "chunk(s)" in summary and "real time" in summary

            update = os.environ.get("TTS_UPDATE_SCREENSHOT") == "1" or not SCREENSHOT.exists()
            target = SCREENSHOT if update else tmp_path / "screenshot.png"
            target.parent.mkdir(parents=True, exist_ok=True)
            page.wait_for_timeout(500)  # let the images finish drawing
            page.screenshot(path=str(target), full_page=True)
            assert target.stat().st_size > 10_000
        finally:
            browser.close()

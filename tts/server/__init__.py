"""An HTTP speech server that OpenAI's clients use unchanged: `POST /v1/audio/speech` (streamed sentence
by sentence), `/v1/audio/voices`, `/v1/models`, `/health`, and the Gradio app at `/`.

    tts-server --port 8000                       # or: python -m tts.server
    from tts.server import create_app            # the ASGI app over ready Pipelines, for uvicorn/tests

An interface over `Pipeline.stream` (synthesis) and `tts.core.audio_files` (encoding): `cli` (the
command), `app` (routes), `schema` (the request body), `workers` (bounded queue, synthesis threads),
`responses` (streaming, disconnects, access log), `voices` (names), `errors` (OpenAI's error shape).
Needs the `[server]` extra (FastAPI, uvicorn).
"""
from __future__ import annotations

from typing import Any

__all__ = ["create_app", "main"]


def __getattr__(name: str) -> Any:  # FastAPI is imported when the server is used, not with the package
    if name == "create_app":
        from tts.server.app import create_app

        return create_app
    if name == "main":
        from tts.server.cli import main

        return main
    raise AttributeError(f"module 'tts.server' has no attribute {name!r}")

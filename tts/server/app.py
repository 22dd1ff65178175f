"""The FastAPI application: OpenAI's speech endpoint and its neighbours, over shared `Pipeline`s.

    POST /v1/audio/speech      OpenAI's body -> audio, streamed sentence by sentence (FLAC: whole)
    GET  /v1/audio/voices      voices, languages, sample rates, OpenAI voice names and what they mean
    GET  /v1/models[/{id}]     OpenAI's model names and the voices
    GET  /health               200 {"status": "ok"} while serving (voices load before the port opens)
    /                          the Gradio app (tts.app), in the same process

When an API key is set (`TTS_API_KEY` or `api_key=`), /v1 needs `Authorization: Bearer <key>`
(compared in constant time) and the Gradio page asks for it as its password; /health stays open.
This module parses and presents; synthesis is `Pipeline.stream`, audio writing `tts.core.audio_files`.
"""
from __future__ import annotations

import asyncio
import hashlib
import hmac
import os
import time
from collections.abc import Mapping
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from tts import __version__
from tts.core.audio_files import Encoder
from tts.server.config import API_KEY_ENV, MAX_CHARS, QUEUE_SIZE, REQUEST_TIMEOUT, default_workers
from tts.server.errors import APIError, bad_request
from tts.server.responses import (
    AccessLog,
    ClientGone,
    JobResponse,
    access_info,
    collect,
    read_body,
    wait_for_item,
)
from tts.server.schema import SpeechBody, parse_speech
from tts.server.voices import VoiceCatalog
from tts.server.workers import Job, Scheduler

_FROM_ENV: Any = object()
#: the routes under /v1 and their methods (anything else there is a JSON 404 or 405)
_ROUTES = {"/v1/audio/speech": ("POST",), "/v1/audio/voices": ("GET",), "/v1/models": ("GET",)}
_WARNINGS_HEADER_CHARS = 1000


def create_app(
    voices: VoiceCatalog | Mapping[str, Any],
    *,
    default_voice: str | None = None,
    workers: int | None = None,
    queue_size: int = QUEUE_SIZE,
    threads: int | None = None,
    max_chars: int = MAX_CHARS,
    request_timeout: float = REQUEST_TIMEOUT,
    api_key: str | None = _FROM_ENV,
    ui: bool = True,
) -> FastAPI:
    """The server's ASGI app. `voices`: ready `Pipeline`s by name (the first, or `default_voice`, is the
    default). `workers` synthesis threads (default: `default_workers()`), each running torch with
    `threads` threads (None: leave torch's setting), serve at most `workers + queue_size` requests at
    once, which take turns chunk by chunk (more get 503 + Retry-After). `request_timeout` seconds per
    request, queue wait included (504).
    `api_key`: None = open; default: $TTS_API_KEY. `ui`: mount the Gradio app at `/`."""
    catalog = voices if isinstance(voices, VoiceCatalog) else VoiceCatalog(voices, default_voice)
    if max_chars < 1:
        raise ValueError(f"max_chars must be >= 1, got {max_chars}")
    if not request_timeout > 0:
        raise ValueError(f"request_timeout must be > 0, got {request_timeout}")
    scheduler = Scheduler(workers or default_workers(), queue_size, threads)
    key = (os.environ.get(API_KEY_ENV) if api_key is _FROM_ENV else api_key) or None
    body_limit = max(65536, 16 * max_chars)  # 4 bytes of UTF-8 per character, JSON escapes, other fields

    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        scheduler.start()
        try:
            yield
        finally:
            await run_in_threadpool(scheduler.close)

    app = FastAPI(title="tacoglow speech server", version=__version__, lifespan=lifespan,
                  description="OpenAI-compatible text to speech (Tacotron 2 + vocoder).")
    app.state.catalog = catalog
    app.state.scheduler = scheduler
    app.add_middleware(AccessLog)

    @app.exception_handler(APIError)
    async def api_error(_request: Request, exc: APIError) -> JSONResponse:
        return exc.response()

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return APIError(exc.status_code, str(exc.detail), headers=exc.headers).response()

    @app.exception_handler(Exception)
    async def server_error(_request: Request, exc: Exception) -> JSONResponse:  # a bug, logged by Starlette
        return APIError(500, f"internal error: {exc.__class__.__name__}", code="internal_error").response()

    def authorize(request: Request) -> None:
        if key is None:
            return
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if not token:
            raise APIError(401, f"missing API key: send `Authorization: Bearer <key>` (the server's {API_KEY_ENV})",
                           code="invalid_api_key", headers={"WWW-Authenticate": "Bearer"})
        if scheme.lower() != "bearer" or not same_secret(token.strip(), key):
            raise APIError(401, "incorrect API key provided", code="invalid_api_key",
                           headers={"WWW-Authenticate": "Bearer"})

    @app.get("/health")
    async def health() -> JSONResponse:
        stats = scheduler.stats()
        ready = not scheduler.closing
        return JSONResponse({"status": "ok" if ready else "stopping", "default_voice": catalog.default,
                             "voices": catalog.names, "version": __version__, "queue": stats},
                            status_code=200 if ready else 503)

    @app.get("/v1/models")
    async def models(request: Request) -> JSONResponse:
        authorize(request)
        return JSONResponse({"object": "list", "data": catalog.models()})

    @app.get("/v1/models/{model_id:path}")
    async def model(request: Request, model_id: str) -> JSONResponse:
        authorize(request)
        for entry in catalog.models():
            if entry["id"] == model_id:
                return JSONResponse(entry)
        raise APIError(404, f"the model {model_id!r} does not exist on this server", param="model",
                       code="model_not_found")

    @app.get("/v1/audio/voices")
    async def voices_(request: Request) -> JSONResponse:
        authorize(request)
        return JSONResponse(catalog.describe())

    @app.post("/v1/audio/speech", response_model=None, openapi_extra={"requestBody": {
        "required": True, "content": {"application/json": {"schema": SpeechBody.model_json_schema()}}}})
    async def speech(request: Request) -> Response:
        info = access_info(request)
        start = time.monotonic()
        try:
            authorize(request)
            req = parse_speech(await read_body(request, body_limit), catalog, max_chars)
            info.update(chars=len(req.text), voice=req.voice, format=("sse:" if req.sse else "") + req.format.name)
            pipe = catalog.get(req.voice)
            try:  # plans the text now (normalization, chunking): an unspeakable input is a 400, not a stream error
                chunks, total = await run_in_threadpool(
                    lambda: (pipe.stream(req.text, **req.overrides), pipe.count_chunks(req.text, **req.overrides)))
            except ValueError as exc:
                raise bad_request(str(exc), "vocoder" if "vocoder" in str(exc) else "input") from None
            encoder = Encoder(req.format.name, pipe.sample_rate, output_rate=req.output_rate)
            job = Job(chunks, encoder, pipe.sample_rate, start + request_timeout, asyncio.get_running_loop(), total)
            try:
                scheduler.submit(job)
            except APIError:
                chunks.close()
                raise
            info["job"] = job
            first = await wait_for_item(job, request, request_timeout)  # the status depends on it
        except ClientGone:
            info["outcome"] = "disconnected"
            return Response(status_code=499)
        except APIError as exc:
            info["outcome"] = exc.code or str(exc.status)
            raise
        headers = {"X-TTS-Voice": req.voice, "X-TTS-Sample-Rate": str(encoder.sample_rate), "X-TTS-Chunks": str(total),
                   "Cache-Control": "no-store"}
        if req.instructions_ignored:
            headers["X-TTS-Instructions"] = "ignored (this server has no instruction-following voice)"
        if job.warnings:
            text = "; ".join(dict.fromkeys(job.warnings))
            headers["X-TTS-Warnings"] = text.encode("ascii", "replace").decode()[:_WARNINGS_HEADER_CHARS]
        media_type = req.format.media_type + (f";rate={encoder.sample_rate};channels=1" if req.format.name == "pcm" else "")
        info["outcome"] = "ok"
        if req.format.streams or req.sse:
            return JobResponse(job, first, media_type=media_type, headers=headers, sse=req.sse,
                               characters=len(req.text), info=info, time_limit=request_timeout)
        try:
            data = await collect(job, request, first, request_timeout)
        except ClientGone:
            info["outcome"] = "disconnected"
            return Response(status_code=499)
        return Response(data, media_type=media_type, headers=headers)

    @app.api_route("/v1/{rest:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"],
                   include_in_schema=False)
    async def not_here(request: Request, rest: str) -> JSONResponse:
        authorize(request)
        path = "/v1/" + rest
        allowed = _ROUTES.get(path.rstrip("/"))
        if allowed:
            raise APIError(405, f"{request.method} is not allowed on {path}; use {', '.join(allowed)}",
                           code="method_not_allowed", headers={"Allow": ", ".join(allowed)})
        raise APIError(404, f"no such endpoint: {request.method} {path}", code="not_found")

    if ui:
        _mount_ui(app, catalog, max_chars, key)
    return app


def same_secret(given: str, expected: str) -> bool:
    """Constant-time comparison (of digests, so the length does not show either)."""
    return hmac.compare_digest(hashlib.sha256(given.encode()).digest(), hashlib.sha256(expected.encode()).digest())


def _mount_ui(app: FastAPI, catalog: VoiceCatalog, max_chars: int, key: str | None) -> None:
    """The Gradio app of `tts.app` at `/`, on the same voices; behind a login (password = the API key)
    when a key is set."""
    import gradio as gr

    from tts.app import build_demo

    demo = build_demo(dict(catalog.pipelines), max_chars=max_chars)
    auth = (lambda _user, password: same_secret(password or "", key)) if key else None
    gr.mount_gradio_app(app, demo, path="/", auth=auth, ssr_mode=False,
                        auth_message="Log in with any user name; the password is the server's API key." if key else None)

"""The HTTP side of a job: waiting for its first audio, streaming the rest (raw audio with chunked
transfer, or SSE events), noticing a client that went away, the body-size limit, and the access log.
"""
from __future__ import annotations

import asyncio
import base64
import json
import logging
import time
from typing import Any

from starlette.requests import ClientDisconnect, Request
from starlette.responses import StreamingResponse

from tts.server.errors import APIError, bad_request, busy, timed_out
from tts.server.workers import Cancelled, Job, TimeLimit

log = logging.getLogger("tts.server")
access_log = logging.getLogger("tts.server.access")

#: scope key of the per-request facts the access log prints (characters, audio seconds, voice, outcome)
ACCESS = "tts.access"
#: how often a request waiting for audio checks whether its client is still there
POLL_SECONDS = 0.2


class ClientGone(Exception):
    """The client closed the connection before the response started."""


def access_info(request: Request) -> dict[str, Any]:
    return request.scope.setdefault(ACCESS, {})


async def read_body(request: Request, limit: int) -> bytes:
    """The request body, refused with 413 as soon as it is known to exceed `limit` bytes."""
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > limit):
        raise APIError(413, f"the request body is larger than this server accepts ({limit:,} bytes)",
                       code="request_too_large")
    body = bytearray()
    try:
        async for piece in request.stream():
            body += piece
            if len(body) > limit:
                raise APIError(413, f"the request body is larger than this server accepts ({limit:,} bytes)",
                               code="request_too_large")
    except ClientDisconnect:
        raise ClientGone() from None
    return bytes(body)


def error_for(exc: BaseException, time_limit: float) -> APIError:
    """What a job's failure means for the caller."""
    if isinstance(exc, TimeLimit):
        return timed_out(time_limit)
    if isinstance(exc, Cancelled):  # not by this request's client, which is gone: the server is stopping
        return busy("the server is shutting down", 5)
    if isinstance(exc, ValueError):  # the pipeline's word for bad input
        return bad_request(str(exc), "input")
    log.error("synthesis failed", exc_info=exc)
    return APIError(500, f"synthesis failed: {exc.__class__.__name__}: {exc}", code="synthesis_failed")


async def wait_for_item(job: Job, request: Request, time_limit: float) -> tuple[str, Any]:
    """The job's next item; 504 past its deadline, `ClientGone` when the client leaves meanwhile,
    the job's error as an APIError."""
    while True:
        remaining = job.deadline - time.monotonic()
        if remaining <= 0:
            job.cancel("timeout")
            raise timed_out(time_limit)
        try:
            kind, value = await asyncio.wait_for(job.next_item(), min(remaining, POLL_SECONDS))
        except asyncio.TimeoutError:
            if await request.is_disconnected():
                job.cancel()
                raise ClientGone() from None
            continue
        if kind == "error":
            job.cancel()
            raise error_for(value, time_limit)
        return kind, value


async def collect(job: Job, request: Request, first: tuple[str, Any], time_limit: float) -> bytes:
    """The whole audio (FLAC, whose header is completed at the end)."""
    parts, (kind, value) = [], first
    while True:
        parts.append(value)
        if kind == "done":
            return b"".join(parts)
        kind, value = await wait_for_item(job, request, time_limit)


def sse_event(payload: dict[str, Any]) -> bytes:
    return f"data: {json.dumps(payload, separators=(',', ':'))}\n\n".encode()


class JobResponse(StreamingResponse):
    """Streams a job's bytes as they are made: raw audio (chunked transfer) or, with `sse`, events
    `speech.audio.delta` {audio: base64} and `speech.audio.done` {usage}. The client going away cancels
    the job (its synthesis stops before the next chunk). A failure after the first bytes cannot change
    the status any more: an SSE stream ends with an `error` event, a raw stream is cut off without
    its end marker, so that the client sees an incomplete response rather than silently short audio."""

    def __init__(self, job: Job, first: tuple[str, Any], *, media_type: str, headers: dict[str, str], sse: bool,
                 characters: int, info: dict[str, Any], time_limit: float):
        super().__init__(iter(()), media_type="text/event-stream" if sse else media_type, headers=headers)
        self.job = job
        self.first = first
        self.sse = sse
        self.characters = characters
        self.info = info
        self.time_limit = time_limit
        self._ended = False

    async def __call__(self, scope, receive, send) -> None:
        watcher = asyncio.ensure_future(self._watch(receive))
        try:
            await send({"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers})
            kind, value = self.first
            while True:
                await self._send_audio(send, value)
                if kind == "done":
                    break
                kind, value = await self.job.next_item()
                if kind == "error" and isinstance(value, Cancelled):
                    if self.info.get("outcome") != "disconnected":
                        self.info["outcome"] = "cancelled"
                    return
                if kind == "error":
                    error = error_for(value, self.time_limit)
                    self.info["outcome"] = "timeout" if error.status == 504 else "failed"
                    if not self.sse:
                        log.warning("%s after %.2f s of audio; the response was cut off",
                                    "time limit reached" if error.status == 504 else "synthesis failed",
                                    self.job.audio_seconds)
                        return  # no end marker: the client sees an incomplete response
                    await send({"type": "http.response.body", "body": sse_event({"type": "error", **error.body()}),
                                "more_body": True})
                    break
            if self.sse and kind == "done":
                usage = {"input_characters": self.characters, "output_audio_seconds": round(self.job.audio_seconds, 3)}
                await send({"type": "http.response.body", "body": sse_event({"type": "speech.audio.done",
                                                                                "usage": usage}), "more_body": True})
            self._ended = True
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        except (OSError, ClientDisconnect):
            self.info["outcome"] = "disconnected"
        finally:
            watcher.cancel()
            self.job.cancel()  # a no-op once the job is done

    async def _send_audio(self, send, data: bytes) -> None:
        if not data:
            return
        body = sse_event({"type": "speech.audio.delta", "audio": base64.b64encode(data).decode()}) if self.sse else data
        await send({"type": "http.response.body", "body": body, "more_body": True})

    async def _watch(self, receive) -> None:
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                if self._ended:  # the response is complete: nothing was cut short
                    return
                self.info["outcome"] = "disconnected"
                self.job.cancel()
                return


class AccessLog:
    """One log line per HTTP request: client, method, path, status, characters, audio seconds, time to
    first byte and latency (until the last byte), plus voice, format and outcome for speech."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.monotonic()
        info: dict[str, Any] = scope.setdefault(ACCESS, {})
        seen: dict[str, Any] = {"status": None, "first": None}

        async def send_and_note(message) -> None:
            if message["type"] == "http.response.start":
                seen["status"] = message["status"]
            elif message["type"] == "http.response.body" and seen["first"] is None:
                seen["first"] = time.monotonic()
            await send(message)

        try:
            await self.app(scope, receive, send_and_note)
        finally:
            self._log(scope, info, seen, start)

    @staticmethod
    def _log(scope, info: dict[str, Any], seen: dict[str, Any], start: float) -> None:
        end = time.monotonic()
        client = scope.get("client")
        job = info.get("job")
        audio = f"{job.audio_seconds:.2f}s" if job is not None else "-"
        status = seen["status"] if seen["status"] is not None else info.get("status", 500)
        ttfb = f"{seen['first'] - start:.3f}s" if seen["first"] is not None else "-"
        extra = "".join(f" {key}={info[key]}" for key in ("voice", "format", "outcome") if info.get(key))
        access_log.info('%s "%s %s" %s chars=%s audio=%s ttfb=%s latency=%.3fs%s',
                        f"{client[0]}:{client[1]}" if client else "-", scope.get("method"), scope.get("path"), status,
                        info.get("chars", "-"), audio, ttfb, end - start, extra)

"""Errors as OpenAI's clients expect them: a status and `{"error": {"message", "type", "param", "code"}}`.

Bad input is always a 4xx with a message written for the caller, never a 500: 400 bad values, 401 a
missing or wrong API key, 404 unknown voice, model or path, 405 wrong method, 413 body too large,
422 malformed JSON or wrong types, 503 (+ Retry-After) queue full or shutting down, 504 time limit.
"""
from __future__ import annotations

from collections.abc import Mapping

from fastapi.responses import JSONResponse

#: error types by status, as OpenAI names them
_TYPES = {400: "invalid_request_error", 401: "invalid_request_error", 404: "invalid_request_error",
          405: "invalid_request_error", 413: "invalid_request_error", 422: "invalid_request_error",
          429: "rate_limit_error", 503: "server_error", 504: "server_error"}


class APIError(Exception):
    """An error answer: raised anywhere in a request handler, turned into a JSON response."""

    def __init__(self, status: int, message: str, *, param: str | None = None, code: str | None = None,
                 type: str | None = None, headers: Mapping[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.param = param
        self.code = code
        self.type = type or _TYPES.get(status, "server_error")
        self.headers = dict(headers or {})

    def body(self) -> dict:
        return {"error": {"message": self.message, "type": self.type, "param": self.param, "code": self.code}}

    def response(self) -> JSONResponse:
        return JSONResponse(self.body(), status_code=self.status, headers=self.headers)


def bad_request(message: str, param: str | None = None, code: str = "invalid_value") -> APIError:
    return APIError(400, message, param=param, code=code)


def busy(message: str, retry_after: int) -> APIError:
    """The bounded queue is full (or the server is stopping): try again after `retry_after` seconds."""
    return APIError(503, message, code="server_busy", headers={"Retry-After": str(int(retry_after))})


def timed_out(seconds: float) -> APIError:
    return APIError(504, f"the request exceeded the server's time limit of {seconds:g} s; send a shorter input "
                    "or try again when the server is less busy", code="timeout")

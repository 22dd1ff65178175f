"""`tts-server` / `python -m tts.server`: the OpenAI-compatible speech server on uvicorn.

    tts-server                                   # http://127.0.0.1:8000, the default voice
    tts-server --host 0.0.0.0 --port 8000 --voice default --voice path/to/voice --workers 2 --queue 8
    TTS_API_KEY=secret tts-server                # /v1 then needs `Authorization: Bearer secret`

The port is taken first (a port in use is one `error:` line), then the voices load, then the server
answers: /health is 200 as soon as it answers at all. Exit status: 0 stopped normally, 2 bad
arguments, a port that cannot be used or a voice folder that is not one, 1 a voice failed to load.
"""
from __future__ import annotations

import argparse
import logging
import os
import signal
import socket
import sys
from collections.abc import Sequence
from typing import NoReturn

from tts import __version__

EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2
log = logging.getLogger("tts.server")


class _Parser(argparse.ArgumentParser):
    """Bad arguments are one `error:` line and exit status 2."""

    def error(self, message: str) -> NoReturn:
        print(f"error: {message} (see {self.prog} --help)", file=sys.stderr)
        raise SystemExit(EXIT_USAGE)


class _Formatter(argparse.ArgumentDefaultsHelpFormatter):
    """Shows defaults, except where there is none to show (None, on/off switches)."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        if action.default is None or isinstance(action.default, bool):
            return action.help
        return super()._get_help_string(action)


def _count(minimum: int):
    def parse(value: str) -> int:
        try:
            number = int(value)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer, got {value!r}") from None
        if number < minimum:
            raise argparse.ArgumentTypeError(f"must be >= {minimum}, got {number}")
        return number
    return parse


def _port(value: str) -> int:
    try:
        port = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"a port is a number from 0 to 65535, got {value!r}") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"a port is a number from 0 to 65535, got {port}")
    return port


def _seconds(value: str) -> float:
    try:
        seconds = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected seconds, got {value!r}") from None
    if not seconds > 0 or seconds == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds, got {value}")
    return seconds


def build_parser() -> argparse.ArgumentParser:
    from tts.server.config import MAX_CHARS, QUEUE_SIZE, REQUEST_TIMEOUT, default_workers

    workers = default_workers()
    parser = _Parser(
        prog="tts-server", formatter_class=_Formatter,
        description="OpenAI-compatible text-to-speech server (POST /v1/audio/speech) with the web app at /.",
        epilog="Environment: TTS_API_KEY (require `Authorization: Bearer <key>` on /v1; the web app's password), "
               "TTS_VOICE_DIR (the default voice folder). Exit status: 0 ok, 2 bad arguments, port or voice "
               "folder, 1 a voice failed to load.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (0.0.0.0 = every interface)")
    parser.add_argument("--port", type=_port, default=8000, help="port to listen on (0 = any free port)")
    parser.add_argument("--voice", metavar="NAME|DIR", action="append",
                        help="voice to serve: a name under checkpoints/ or a voice folder; repeatable, the first is "
                             "the default (default: the shipped default voice or $TTS_VOICE_DIR)")
    parser.add_argument("--workers", type=_count(1), default=workers, metavar="N", help="synthesis threads")
    parser.add_argument("--threads", type=_count(1), metavar="N",
                        help="torch intra-op threads (one model call runs at a time; default: $TTS_NUM_THREADS, "
                             "else the cores not busy with other work)")
    parser.add_argument("--queue", type=_count(0), default=QUEUE_SIZE, metavar="N",
                        help="requests accepted beyond one per worker (all take turns chunk by chunk); more are "
                             "answered 503 with Retry-After")
    parser.add_argument("--max-chars", type=_count(1), default=MAX_CHARS, metavar="N", help="longest input accepted (characters)")
    parser.add_argument("--timeout", type=_seconds, default=REQUEST_TIMEOUT, metavar="SECONDS",
                        help="time limit per request in seconds, queue wait included (504 past it)")
    parser.add_argument("--no-ui", dest="ui", action="store_false", help="do not mount the Gradio app at /")
    parser.add_argument("--device", help='torch device (default: "cuda" when available, else "cpu")')
    parser.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"],
                        help="log level (info shows one access line per request)")
    return parser


def bind(host: str, port: int) -> socket.socket:
    """A listening-ready socket on host:port; OSError with a readable message otherwise."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise OSError(f"cannot listen on {host}:{port}: unknown host ({exc.strerror})") from None
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
    except OSError as exc:
        sock.close()
        reason = "the port is in use (another server is listening there)" if exc.errno == 98 else exc.strerror or exc
        raise OSError(f"cannot listen on {host}:{port}: {reason}") from None
    sock.set_inheritable(True)
    return sock


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        sock = bind(args.host, args.port)  # first: a port in use is an answer within a second
    except OSError as exc:
        return _fail(str(exc), EXIT_USAGE)
    try:
        from tts.runtime.voices import VoiceError
        from tts.server.voices import load_voices, voice_dirs

        try:
            import fastapi  # noqa: F401
            import uvicorn  # noqa: F401
        except ImportError as exc:
            return _fail(f"the server needs FastAPI and uvicorn ({exc}): pip install 'tacoglow[server]'", EXIT_FAILURE)
        try:
            dirs = voice_dirs(args.voice)
        except (VoiceError, OSError, ValueError) as exc:
            return _fail(str(exc), EXIT_USAGE)
        from tts.core.device import THREADS_ENV, choose_threads, prefer_passive_waiting

        try:  # a bad $TTS_NUM_THREADS is a usage error, found before torch loads
            threads, why = choose_threads(args.threads)
        except ValueError as exc:
            return _fail(str(exc), EXIT_USAGE)
        if args.threads is None and not os.environ.get(THREADS_ENV):
            # the free cores shared by the workers: measured faster than one model call on all of them
            threads, why = max(1, threads // args.workers), f"{why}, shared by {args.workers} worker(s)"
        prefer_passive_waiting()  # before torch starts its thread pool
        import torch

        torch.set_num_threads(threads)
        args.threads = threads
        log.info("torch: %d intra-op thread(s) per worker (%s)", threads, why)
        try:
            for name, directory in dirs.items():
                log.info("loading voice %s from %s", name, directory)
            pipelines = load_voices(dirs, device=args.device)
        except Exception as exc:
            return _fail(f"cannot load the voices: {exc.__class__.__name__}: {exc}", EXIT_FAILURE)
        return serve(sock, pipelines, args)
    finally:
        sock.close()


def serve(sock: socket.socket, pipelines, args: argparse.Namespace) -> int:
    import uvicorn

    from tts.server.app import create_app
    from tts.server.config import API_KEY_ENV

    app = create_app(pipelines, workers=args.workers, queue_size=args.queue, threads=args.threads,
                     max_chars=args.max_chars, request_timeout=args.timeout, ui=args.ui)
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    log.info("serving %s on http://%s:%d (%d worker(s) x %d torch thread(s), queue %d, API key %s)",
             ", ".join(pipelines), shown, port, args.workers, args.threads, args.queue,
             "required" if os.environ.get(API_KEY_ENV) else "off")
    config = uvicorn.Config(app, host=host, port=port, log_config=None, access_log=False,
                            log_level=args.log_level, timeout_graceful_shutdown=10)
    server = uvicorn.Server(config)
    # uvicorn stops gracefully on SIGINT / SIGTERM, then raises the signal again: either is a normal stop
    signal.signal(signal.SIGTERM, _stopped)
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:
        pass
    return EXIT_OK if server.started else EXIT_FAILURE


def _stopped(signum, frame) -> NoReturn:
    raise SystemExit(EXIT_OK)


def _fail(message: str, code: int) -> int:
    print(f"error: {' '.join(message.split())}", file=sys.stderr)
    return code


if __name__ == "__main__":
    sys.exit(main())

"""Load on the speech server: 1, 4, 8, 16 concurrent clients -> requests/s, latency, time to first byte, RSS.

    python3 bench/server_load.py                           # starts tts-server (the default voice) on a free port
    python3 bench/server_load.py --clients 1,4 --per-client 3 --format pcm --json
    python3 bench/server_load.py --url http://127.0.0.1:8000 --pid 1234    # a server already running

Each client is a closed loop over `POST /v1/audio/speech` (OpenAI's body, streamed with httpx) until it
has `--per-client` answers with audio; a 503 (queue full) is counted and retried after its Retry-After.
Per level: successful requests per second, seconds of audio per second, latency (p50/p95, to the last
byte), time to first byte (p50/p95), rejections, and the server's resident memory (at the end of the
level and the peak, sampled every 0.1 s from /proc). The server runs in its own process
(`python -m tts.server --no-ui`), so the memory is the server's alone.

Output: a table, or with --json one JSON object per line (one per concurrency level). Bad arguments are
one `error:` line and exit status 2; a server that does not start, or any other failure, exit status 1
(bench/report.py); --verbose shows the traceback.
"""
from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx

from bench.report import ArgumentParser, BadInput, emit, positive_int, positive_ints, print_table, run

TEXT = ("It was a bright cold day in April. The clocks were striking thirteen. A small bird sang on the "
        "window sill, and then it flew away.")
FORMATS = ("mp3", "opus", "flac", "wav", "pcm")  # tts.server.schema.RESPONSE_FORMATS (not imported: heavy)
BYTES_PER_SECOND = {"pcm": 48000}  # audio seconds are read from the access facts where the format allows


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_mb(pid: int) -> float | None:
    try:
        with open(f"/proc/{pid}/status") as status:
            return next(int(line.split()[1]) for line in status if line.startswith("VmRSS:")) / 1024
    except (OSError, StopIteration):
        return None


class MemoryWatch:
    """Samples a process's RSS every 0.1 s; `peak()` since the last `reset()`."""

    def __init__(self, pid: int | None):
        self.pid = pid
        self._peak = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        if pid is not None:
            self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(0.1):
            value = rss_mb(self.pid)
            if value is not None:
                self._peak = max(self._peak, value)

    def reset(self) -> None:
        self._peak = rss_mb(self.pid) or 0.0 if self.pid is not None else 0.0

    def peak(self) -> float | None:
        return self._peak if self.pid is not None else None

    def stop(self) -> None:
        self._stop.set()


def start_server(args: argparse.Namespace) -> tuple[subprocess.Popen, str]:
    port = free_port()
    command = [sys.executable, "-m", "tts.server", "--host", "127.0.0.1", "--port", str(port), "--no-ui",
               "--log-level", "warning", "--queue", str(args.queue)]
    command += ["--voice", args.voice] if args.voice else []
    command += ["--workers", str(args.workers)] if args.workers else []
    command += ["--threads", str(args.threads)] if args.threads else []
    repo = Path(__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": str(repo) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    env.pop("TTS_API_KEY", None)
    process = subprocess.Popen(command, cwd=repo, env=env, stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 300
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"the server did not start: {process.stderr.read().strip()}")
        try:
            if httpx.get(url + "/health", timeout=2).status_code == 200:
                return process, url
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            process.kill()
            raise RuntimeError("the server did not answer /health within 300 s")
        time.sleep(0.2)


def one_request(client: httpx.Client, url: str, body: dict) -> dict:
    start = time.perf_counter()
    first = None
    size = 0
    with client.stream("POST", url + "/v1/audio/speech", json=body) as response:
        for piece in response.iter_raw():
            if piece and first is None:
                first = time.perf_counter() - start
            size += len(piece)
        status = response.status_code
        retry_after = response.headers.get("retry-after")
    return {"status": status, "latency": time.perf_counter() - start, "ttfb": first, "bytes": size,
            "retry_after": float(retry_after) if retry_after else None}


def run_level(url: str, clients: int, per_client: int, body: dict) -> tuple[list[dict], float]:
    results: list[dict] = []
    lock = threading.Lock()

    def client_loop() -> None:
        done = 0
        with httpx.Client(timeout=600) as client:
            while done < per_client:
                try:
                    result = one_request(client, url, body)
                except httpx.HTTPError as exc:
                    result = {"status": f"error: {exc.__class__.__name__}"}
                with lock:
                    results.append(result)
                if result["status"] == 200:
                    done += 1
                elif result["status"] == 503:
                    time.sleep(min(result["retry_after"] or 1.0, 5.0))
                else:
                    done += 1  # an error counts as an attempt; it is reported

    threads = [threading.Thread(target=client_loop) for _ in range(clients)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results, time.perf_counter() - start


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    values = sorted(values)
    index = min(len(values) - 1, max(0, round(q / 100 * (len(values) - 1))))
    return values[index]


def audio_seconds(result: dict, format: str) -> float:
    return result["bytes"] / BYTES_PER_SECOND[format] if format in BYTES_PER_SECOND else 0.0


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=positive_ints, default="1,4,8,16", help="concurrency levels, comma-separated")
    parser.add_argument("--per-client", type=positive_int, default=2, help="answers with audio each client waits for")
    parser.add_argument("--format", choices=FORMATS, default="pcm",
                        help="response_format (pcm also gives audio seconds)")
    parser.add_argument("--text", default=TEXT, help="the input of every request")
    parser.add_argument("--voice", help="voice for the started server (default: its default voice)")
    parser.add_argument("--workers", type=positive_int, help="the started server's --workers (default: its own)")
    parser.add_argument("--threads", type=positive_int, help="the started server's --threads (default: its own)")
    parser.add_argument("--queue", type=positive_int, default=8, help="the started server's --queue")
    parser.add_argument("--url", help="use a running server instead of starting one")
    parser.add_argument("--pid", type=positive_int, help="with --url: the server's process id, for its memory")
    parser.add_argument("--json", action="store_true", help="one JSON object per level")
    args = parser.parse_args(argv)
    if not args.text.strip():
        raise BadInput("--text is empty")
    if args.url is not None and not args.url.startswith(("http://", "https://")):
        raise BadInput(f"--url must start with http:// or https://, got {args.url!r}")
    if args.pid is not None and args.url is None:
        raise BadInput("--pid names the process of a server given with --url; without --url the bench starts its own")
    if args.pid is not None and rss_mb(args.pid) is None:
        raise BadInput(f"--pid {args.pid}: no such process (or its memory is not readable)")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    levels = args.clients

    process = None
    if args.url:
        url, pid = args.url.rstrip("/"), args.pid
    else:
        process, url = start_server(args)
        pid = process.pid
    watch = MemoryWatch(pid)
    body = {"model": "tts-1", "voice": "alloy", "input": args.text, "response_format": args.format}
    rows = []
    try:
        one_request(httpx.Client(timeout=600), url, body)  # warm up
        baseline = rss_mb(pid) if pid else None
        queue = httpx.get(url + "/health").json().get("queue", {})
        for clients in levels:
            watch.reset()
            results, wall = run_level(url, clients, args.per_client, body)
            ok = [r for r in results if r["status"] == 200]
            rows.append({
                "clients": clients, "ok": len(ok), "rejected": sum(r["status"] == 503 for r in results),
                "errors": sum(r["status"] not in (200, 503) for r in results),
                "requests_per_s": len(ok) / wall,
                "audio_x_real_time": sum(audio_seconds(r, args.format) for r in ok) / wall or None,
                "latency_p50_s": percentile([r["latency"] for r in ok], 50),
                "latency_p95_s": percentile([r["latency"] for r in ok], 95),
                "ttfb_p50_s": percentile([r["ttfb"] for r in ok if r["ttfb"] is not None], 50),
                "ttfb_p95_s": percentile([r["ttfb"] for r in ok if r["ttfb"] is not None], 95),
                "rss_mb": rss_mb(pid) if pid else None, "rss_peak_mb": watch.peak(), "rss_start_mb": baseline,
                "workers": queue.get("workers"), "queue": queue.get("queue_size"), "format": args.format,
                "text_chars": len(args.text), "wall_s": wall,
            })
    finally:
        watch.stop()
        if process is not None:
            process.terminate()
            process.wait(30)

    def table(rows):
        print_table(rows, [("clients", "clients", "d"), ("ok", "ok", "d"), ("503", "rejected", "d"),
                           ("err", "errors", "d"), ("req/s", "requests_per_s", ".2f"),
                           ("audio x RT", "audio_x_real_time", ".1f"), ("p50 s", "latency_p50_s", ".2f"),
                           ("p95 s", "latency_p95_s", ".2f"), ("TTFB p50", "ttfb_p50_s", ".2f"),
                           ("TTFB p95", "ttfb_p95_s", ".2f"), ("RSS MB", "rss_mb", ".0f"),
                           ("peak MB", "rss_peak_mb", ".0f")])
        if rows and rows[0].get("rss_start_mb") is not None:
            print(f"server RSS after warm-up: {rows[0]['rss_start_mb']:.0f} MB; {rows[0]['workers']} workers, "
                  f"queue {rows[0]['queue']}, {rows[0]['text_chars']} characters per request, {args.format}")

    emit(rows, args.json, table)
    return 0


if __name__ == "__main__":
    sys.exit(run(main))

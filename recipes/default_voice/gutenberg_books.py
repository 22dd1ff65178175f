"""Fetching the default voice's source novels from Project Gutenberg by ebook number, verified
against the sha256 pins in sources.json: an alternative to the shared one-sentence-per-line book
data (`build_corpus.py --fetch`). The sentences are then cleaned and filtered by `build_corpus`'s
`prepare_sentences`, the same code as `--prepare-from`."""
from __future__ import annotations

import json
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
#: the book sentence files a fetched book can feed (of build_corpus's SOURCES, the first batch of each book)
BOOK_SOURCES = ("austen", "mobydick")


SOURCES_JSON = HERE / "sources.json"
GUTENBERG_URL_ENV = "TTS_GUTENBERG_URL"  # a mirror or a test server in place of sources.json's base_url
FETCH_CACHE = REPO / "data" / "gutenberg"
FETCH_TIMEOUT_S = 60.0
OFFLINE_HINT = "--prepare-from DIR reads local one-sentence-per-line files instead"
_SHA256 = re.compile(r"[0-9a-f]{64}")
_BOOK_START = re.compile(r"^\*\*\*\s*START OF\b.*$", re.IGNORECASE | re.MULTILINE)
_BOOK_END = re.compile(r"^\*\*\*\s*END OF\b.*$", re.IGNORECASE | re.MULTILINE)
# Gutenberg's UTF-8 typography as the plain ASCII of the shared book data (which the sentence splitter
# and the filters expect); `_italics_` lose their underscores
_TYPOGRAPHY = str.maketrans({"\u201c": '"', "\u201d": '"', "\u2018": "'", "\u2019": "'", "\u2014": " - ", "_": None})


class FetchError(RuntimeError):
    """A book could not be downloaded, or its download did not match its sha256 pin (exit status 1)."""


@dataclass(frozen=True)
class Book:
    source: str  # the book sentence file it feeds: "austen" or "mobydick"
    title: str
    ebook: int  # Project Gutenberg's ebook number
    sha256: str | None  # the pin; None until someone records it

    @property
    def filename(self) -> str:
        return f"pg{self.ebook}.txt"


def read_book_list(path: Path) -> tuple[str, list[Book]]:
    """(base URL, books) of sources.json; ValueError naming the file when it is malformed."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        books = [Book(b["source"], b["title"], int(b["ebook"]), b["sha256"]) for b in data["books"]]
        base = str(data["base_url"])
    except (KeyError, TypeError, ValueError) as e:  # JSONDecodeError is a ValueError
        raise ValueError(f"{path}: not a book list ({e.__class__.__name__}: {e})") from None
    for book in books:
        if book.source not in BOOK_SOURCES:
            raise ValueError(f"{path}: {book.filename}: source must be 'austen' or 'mobydick', got {book.source!r}")
        if book.sha256 is not None and not _SHA256.fullmatch(book.sha256):
            raise ValueError(f"{path}: {book.filename}: sha256 must be null or 64 lower-case hex digits")
    return base, books


def record_checksum(path: Path, ebook: int, sha256: str) -> None:
    """Pin `ebook` to `sha256` in sources.json (rewritten atomically, everything else kept)."""
    data = json.loads(path.read_text(encoding="utf-8"))
    for book in data["books"]:
        if int(book["ebook"]) == ebook:
            book["sha256"] = sha256
    write_atomically(path, dump_book_list(data).encode("utf-8"))


def dump_book_list(data: dict) -> str:
    """sources.json's layout: one line per key and per book, so a recorded pin is a one-line diff."""
    head = [f"  {json.dumps(k)}: {json.dumps(v, ensure_ascii=False)}," for k, v in data.items() if k != "books"]
    books = ",\n".join(f"    {json.dumps(b, ensure_ascii=False)}" for b in data["books"])
    return "{\n" + "\n".join(head) + '\n  "books": [\n' + books + "\n  ]\n}\n"


def write_atomically(path: Path, data: bytes) -> None:
    """Through a temporary name and a rename, so `path` is never half written."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def book_url(base: str, ebook: int) -> str:
    return f"{base.rstrip('/')}/{ebook}/pg{ebook}.txt"


def http_get(url: str, timeout: float) -> bytes:
    """The body of `url`; FetchError with one line saying what failed (the whole book is read into
    memory: a novel is about a megabyte)."""
    import http.client
    import urllib.error
    import urllib.request

    request = urllib.request.Request(url, headers={"User-Agent": "tacoglow recipes/default_voice (urllib)"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.read()
    except urllib.error.HTTPError as e:
        raise FetchError(f"{url}: HTTP {e.code} {e.reason}; {OFFLINE_HINT}") from None
    except (urllib.error.URLError, OSError, http.client.HTTPException) as e:  # refused, DNS, timeout, cut off
        reason = getattr(e, "reason", e)
        raise FetchError(f"cannot reach {url} ({reason or type(reason).__name__}): offline? {OFFLINE_HINT}") from None


def fetch_book(book: Book, base: str, cache: Path, timeout: float, sources_json: Path) -> Path:
    """`<cache>/pg<n>.txt`, verified against its pin. A cached file that matches its pin is kept; a
    download that does not match is discarded (FetchError naming the file, expected and got). A book
    without a pin is downloaded only here, after `check_pins(record=True)`, and its pin is recorded."""
    dest = cache / book.filename
    if book.sha256 is not None and dest.is_file() and sha256_of(dest.read_bytes()) == book.sha256:
        print(f"{book.filename} ({book.title}): cached, sha256 ok")
        return dest
    data = http_get(book_url(base, book.ebook), timeout)
    got = sha256_of(data)
    if book.sha256 is not None and got != book.sha256:
        raise FetchError(f"{book.filename} ({book.title}): sha256 mismatch: expected {book.sha256}, got {got}; "
                         "the download was discarded")
    write_atomically(dest, data)
    if book.sha256 is None:
        record_checksum(sources_json, book.ebook, got)
        print(f"{book.filename} ({book.title}): downloaded; no pin, recorded sha256 {got} in {sources_json.name} "
              "(trust on first use: compare it with another copy before committing it)")
    else:
        print(f"{book.filename} ({book.title}): downloaded, sha256 ok")
    return dest


def sha256_of(data: bytes) -> str:
    import hashlib

    return hashlib.sha256(data).hexdigest()


def check_pins(books: Sequence[Book], record: bool, sources_json: Path) -> None:
    """Refuse, before any download, books whose pin is null unless `record` (--record-checksums)."""
    unpinned = [b.filename for b in books if b.sha256 is None]
    if unpinned and not record:
        raise ValueError(f"{sources_json} pins no sha256 for {', '.join(unpinned)}; an unverifiable download is "
                         "refused. Run with --record-checksums to trust what the server sends now and pin it")


def book_sentences(text: str, name: str) -> list[str]:
    """The sentences of a Gutenberg plain text, in book order: only what lies between the
    "*** START OF ..." and "*** END OF ..." lines, typography as ASCII, split by the frontend's
    sentence splitter. Cleaning and filtering are left to `prepare_sentences`."""
    from frontend import split_sentences

    start = _BOOK_START.search(text)
    end = _BOOK_END.search(text, start.end()) if start else None
    if start is None or end is None:
        raise ValueError(f"{name}: no '*** START OF' and '*** END OF' lines: not a Project Gutenberg plain text")
    body = text[start.end() : end.start()].translate(_TYPOGRAPHY).replace("--", " - ")
    return split_sentences(body, max_chars=len(body) + 1)  # whole sentences: never cut into clauses


def write_book_sentences(books: Sequence[Book], paths: Sequence[Path], out_dir: Path) -> dict[str, int]:
    """`<out_dir>/<source>_sentences.txt`, one sentence per line, the books of a source in list order:
    the layout `prepare_sentences` reads."""
    by_source: dict[str, list[str]] = {}
    for book, path in zip(books, paths):
        text = path.read_text(encoding="utf-8-sig")  # Gutenberg's files start with a byte-order mark
        by_source.setdefault(book.source, []).extend(book_sentences(text, path.name))
    for source, lines in by_source.items():
        write_atomically(out_dir / f"{source}_sentences.txt", "".join(f"{line}\n" for line in lines).encode("utf-8"))
    return {source: len(lines) for source, lines in by_source.items()}


def fetch_books(sources_json: Path, cache: Path, base: str | None = None, record: bool = False,
                timeout: float = FETCH_TIMEOUT_S) -> dict[str, int]:
    """Download (or find cached) every book of `sources_json` into `cache` and write the book
    sentence files there; returns sentences per source. `base` (else $TTS_GUTENBERG_URL, else the
    list's base_url) is where pg<n>.txt files are fetched from."""
    default_base, books = read_book_list(sources_json)
    base = base or os.environ.get(GUTENBERG_URL_ENV) or default_base
    check_pins(books, record, sources_json)
    cache.mkdir(parents=True, exist_ok=True)
    paths = [fetch_book(book, base, cache, timeout, sources_json) for book in books]
    return write_book_sentences(books, paths, cache)

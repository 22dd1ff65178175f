"""Electronic: URLs, domain names, e-mail addresses and @handles, read symbol by symbol ("dot",
"slash", "dash", "underscore", "ampersand", "at"); short or vowel-less pieces are spelled, digit runs
read digit by digit ("asdf123" -> "asdf one two three") except round numbers ("rtx-6000" -> "six
thousand")."""

from __future__ import annotations

import re
from types import MappingProxyType

from .. import numbers as nw
from ..reports import warn
from ._context import Match, spaced, sub

_URL_SYMBOLS = MappingProxyType({
    ".": "dot", "/": "slash", ":": "colon", "-": "dash", "_": "underscore", "?": "question mark",
    "=": "equals", "&": "ampersand", "#": "hash", "%": "percent", "~": "tilde", "@": "at", "+": "plus",
    ",": "comma", ";": "semicolon", "!": "exclamation mark", "*": "star", "$": "dollar",
})
_URL_SPELLED = frozenset("www http https ftp edu html htm php asp jpg png pdf gif svg csv js py md txt".split())
_URL_WORDS = frozenset("me my us go to in on at it is be we do no".split())
_URL_PIECE = re.compile(r"[A-Za-z]+|[0-9]+|.", re.ASCII)
_TLD = (
    r"com|org|net|edu|gov|io|ai|co|uk|de|fr|us|info|biz|app|dev|me|tv|ly|ca|au|jp|cn|ru|nl|eu|ch|"
    r"py|js|ts|md|txt|pdf|jpe?g|png|gif|csv|json|html?|xml|zip|exe|docx?|xlsx?|pptx?|mp3|mp4|wav|ya?ml|sh|css|svg"
)
_URL_CHARS = r"[^\s<>\"{}|\\^`\[\]]"


def _say_url_word(w: str) -> str:
    low = w.lower()
    if low in _URL_SPELLED or (len(low) <= 2 and low not in _URL_WORDS) or not re.search("[aeiouy]", low):
        return " ".join(low)
    return low


MAX_READING = 300  # characters of speech for one address (about 20 s); the rest is left out, with a warning


def _say_address(text: str) -> str:
    out: list[str] = []
    length = 0
    for piece in _URL_PIECE.findall(text):
        if length > MAX_READING:
            warn("normalize: an address of %d characters was read only in part (%d characters of speech)",
                           len(text), length)
            break
        if piece.isascii() and piece.isalpha():
            words = _say_url_word(piece)
        elif piece.isascii() and piece.isdigit():
            round_number = len(piece) >= 3 and piece.endswith("00") and piece[0] != "0"
            words = nw.integer(piece) if round_number or len(piece) == 1 else nw.digits(piece)
        else:
            words = _URL_SYMBOLS.get(piece, piece)  # a kept symbol such as "²": the symbol rules read it later
        out.append(words)
        length += len(words) + 1
    return " ".join(out)



_TRAILING_PUNCT = re.compile(r"[.,;:!?)'\"]+$", re.ASCII)


def _url(m: Match) -> str:
    url = m.group(0)
    tail = _TRAILING_PUNCT.search(url)
    trail = ""
    if tail:
        url, trail = url[: tail.start()], tail.group(0)
    scheme, sep, rest = url.partition("://")
    words = (_say_address(scheme) + " colon slash slash " + _say_address(rest)) if sep else _say_address(url)
    return spaced(m, words, end=m.start() + len(url)) + trail


def _email(m: Match) -> str:
    domain, trail = m.group(2), ""
    tail = _TRAILING_PUNCT.search(domain)
    if tail and "/" in domain:
        domain, trail = domain[: tail.start()], tail.group(0)
    return spaced(m, f"{_say_address(m.group(1))} at {_say_address(domain)}", end=m.end() - len(trail)) + trail


_EMAIL = sub(r"(?<![\w.+&-])([A-Za-z0-9][\w.+&-]*)@([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"
             rf"(?:/{_URL_CHARS}*)?)(?![\w-])", _email)
_URLS = sub(rf"(?i)\b(?:(?:https?|ftps?|sftp|file|ssh|git)://|www\.)(?=[a-z0-9/]){_URL_CHARS}+", _url)
_DOMAINS = sub(rf"(?i)(?<![\w@./-])(?:[a-z0-9][a-z0-9-]*\.)+(?:{_TLD})(?:/{_URL_CHARS}*)?(?![\w-])", _url)
_HANDLE = sub(r"(?<![\w@])@(?=[A-Za-z_])", "at ")

RULES = (_EMAIL, _URLS, _DOMAINS, _HANDLE)

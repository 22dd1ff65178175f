"""The final clean-up: lower case, anything without a reading logged and replaced by a space, and the
punctuation and spaces tidied so that the output uses only the speakable characters."""

from __future__ import annotations

import re

from ..reports import warn

_WHITESPACE = re.compile(r"\s+", re.ASCII)
_UNSPEAKABLE = re.compile(r"[^a-z \-!'(),.:;?]", re.ASCII)
_CLEANUP = (
    (re.compile(r"\s+", re.ASCII), " "),
    (re.compile(r"\.{2,}", re.ASCII), "..."),
    (re.compile(r"([!?])[!?]+", re.ASCII), r"\1"),
    (re.compile(r"([,;:])[\s,;:]*(?=[,;:.!?])", re.ASCII), ""),
    (re.compile(r"\s+(?=[,.;:!?)])", re.ASCII), ""),
    (re.compile(r"\(\s+", re.ASCII), "("),
    (re.compile(r"\(\s*\)", re.ASCII), " "),
    (re.compile(r"([,;:!?).])(?=[a-z(])", re.ASCII), r"\1 "),
    (re.compile(r"(?<=[a-z])\((?=[a-z])", re.ASCII), " ("),
    (re.compile(r"(?:^|(?<=\s))'+(?=\s|$)", re.ASCII), " "),
    (re.compile(r"(?<=\s)-(?:\s+-)+(?=\s)", re.ASCII), "-"),
    (re.compile(r"(?:^|\s)[\s-]*-$", re.ASCII), ""),
    (re.compile(r"\s+", re.ASCII), " "),
)
LEADING_JUNK = re.compile(r"^(?:[\s,;:!?)]|\.(?![.\d])|-(?![-$£€¥.\d]))+", re.ASCII)
_LEADING_PUNCTUATION = re.compile(r"^[\s,.;:!?)\-]+", re.ASCII)


def finish(text: str, strip_leading_punctuation: bool = True) -> str:
    text = _WHITESPACE.sub(" ", text.lower())
    bad = _UNSPEAKABLE.findall(text)
    if bad:
        shown = "".join(dict.fromkeys(bad))[:40]
        warn("normalize: no reading for %r; replaced by spaces", shown)
        text = _UNSPEAKABLE.sub(" ", text)
    for _ in range(5):  # the clean-up rules interact; repeat until nothing changes
        before = text
        for pattern, repl in _CLEANUP:
            text = pattern.sub(repl, text)
        if strip_leading_punctuation:
            text = _LEADING_PUNCTUATION.sub("", text)
        text = text.strip()
        if text == before:
            break
    return text

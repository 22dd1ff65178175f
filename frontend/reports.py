"""How the frontend reports what it could not read as written (a character it cannot say, a run it
shortened): `warn(message)`. Inside `collect_warnings()` the messages go to the caller's list (the
pipeline puts them in `Speech.warnings`; the context is per thread and per task, so concurrent
requests never see each other's); outside it they go to the `frontend` logger."""
from __future__ import annotations

import contextlib
import logging
from contextvars import ContextVar
from typing import Iterator

_COLLECTED: ContextVar[list[str] | None] = ContextVar("frontend_warnings", default=None)


def warn(message: str, *args: object) -> None:
    """Report `message % args` to the active collector, else log it as a warning of `frontend`."""
    collected = _COLLECTED.get()
    if collected is None:
        logging.getLogger("frontend").warning(message, *args)
    else:
        text = message % args if args else message
        if text not in collected:  # the same text normalised twice says it once
            collected.append(text)


@contextlib.contextmanager
def collect_warnings() -> Iterator[list[str]]:
    """Collect the frontend's warnings raised in this context (thread, task) into the yielded list."""
    collected: list[str] = []
    token = _COLLECTED.set(collected)
    try:
        yield collected
    finally:
        _COLLECTED.reset(token)

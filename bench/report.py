"""How every bench reports: a table for people, or with --json one JSON object per line (one per
configuration or row), so results can be collected with `jq` or `pandas.read_json(lines=True)`.

And how every bench fails (`ArgumentParser` + `run`): bad input — a missing or corrupt file, a bad
argument value — is one `error: ...` line on stderr and exit status 2; any other failure is one
`error: ...` line and exit status 1; `--verbose` prints the traceback first. `--help` shows defaults.

    if __name__ == "__main__":
        sys.exit(run(main))
"""
from __future__ import annotations

import argparse
import json
import sys
import traceback
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, NoReturn

EXIT_FAILURE, EXIT_BAD_INPUT, EXIT_INTERRUPTED = 1, 2, 130


class BadInput(Exception):
    """A missing or corrupt input file or a bad argument value: exit status 2."""


def emit(rows: Sequence[Mapping[str, Any]], as_json: bool,
         table: Callable[[Sequence[Mapping[str, Any]]], None]) -> None:
    """Print `rows` as JSON lines, or hand them to `table` to print for people."""
    if as_json:
        for row in rows:
            print(json.dumps(row), flush=True)
    else:
        table(rows)


def print_table(rows: Iterable[Mapping[str, Any]], columns: Sequence[tuple[str, str, str]]) -> None:
    """A plain text table: `columns` are (heading, key, format spec); a missing value shows as "-"."""
    rows = list(rows)
    cells = [[("-" if row.get(key) is None else format(row[key], spec)) for _, key, spec in columns] for row in rows]
    widths = [max([len(heading)] + [len(line[i]) for line in cells]) for i, (heading, _, _) in enumerate(columns)]
    print("  ".join(heading.rjust(w) for (heading, _, _), w in zip(columns, widths)))
    for line in cells:
        print("  ".join(cell.rjust(w) for cell, w in zip(line, widths)))


# --------------------------------------------------------------------------------------------- errors


class HelpFormatter(argparse.RawDescriptionHelpFormatter, argparse.ArgumentDefaultsHelpFormatter):
    """The module docstring as written, and "(default: X)" after every option that has a default
    (not after None / False / [] defaults, nor where the help already names its default)."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        default, text = action.default, action.help or ""
        if default is None or default is False or default == [] or "(default" in text:
            return action.help
        return super()._get_help_string(action)


class ArgumentParser(argparse.ArgumentParser):
    """argparse with the benches' conventions: defaults in --help, a `--verbose` option, and a usage
    error as one `error: ...` line with exit status 2 (instead of the usage text)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", HelpFormatter)
        super().__init__(*args, **kwargs)
        self.add_argument("--verbose", action="store_true", help="show the traceback of an error")

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_BAD_INPUT, f"error: {one_line(message)} (see --help)\n")


def one_line(message: object) -> str:
    return " ".join(str(message).split())


def is_bad_input(exc: BaseException) -> bool:
    """BadInput, a missing file or folder, or a checkpoint the project's loaders refuse (missing,
    corrupt, wrong kind: `CheckpointError`, checked only when its module is loaded — if it is not,
    nothing can have raised one, and torch is not imported just to ask)."""
    if isinstance(exc, (BadInput, FileNotFoundError, NotADirectoryError, IsADirectoryError)):
        return True
    serialization = sys.modules.get("tts.core.serialization")
    return serialization is not None and isinstance(exc, serialization.CheckpointError)


def describe(exc: BaseException, bad_input: bool = False) -> str:
    """One line for people: "path: reason" for file errors; for bad input the message as written
    (it is meant for the user), for other failures prefixed with the exception's name."""
    if isinstance(exc, OSError) and exc.filename is not None and exc.strerror:
        return one_line(f"{exc.filename}: {exc.strerror}")
    text = one_line(exc)
    if bad_input and text:
        return text
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def run(main: Callable[[Sequence[str] | None], int | None], argv: Sequence[str] | None = None) -> int:
    """Call `main(argv)` under the error contract and return the exit status (main's own, or 0 for None)."""
    verbose = "--verbose" in (sys.argv[1:] if argv is None else argv)
    try:
        return main(argv) or 0
    except KeyboardInterrupt:
        return _fail("interrupted", EXIT_INTERRUPTED, verbose)
    except Exception as exc:  # noqa: BLE001 - the contract: every failure is one line and an exit status
        bad = is_bad_input(exc)
        return _fail(describe(exc, bad), EXIT_BAD_INPUT if bad else EXIT_FAILURE, verbose)


def _fail(message: str, code: int, verbose: bool) -> int:
    if verbose:
        traceback.print_exc()
    print(f"error: {message}", file=sys.stderr, flush=True)
    return code


# --------------------------------------------------------------------------------------------- argument types


def positive_int(text: str) -> int:
    """argparse type: an integer >= 1."""
    value = _number(text, int)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1, got {text!r}")
    return value


def positive_float(text: str) -> float:
    """argparse type: a finite number > 0."""
    value = _number(text, float)
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"expected a number > 0, got {text!r}")
    return value


def positive_ints(text: str) -> list[int]:
    """argparse type: comma-separated integers >= 1 ("1,4,8"), at least one."""
    values = [positive_int(part.strip()) for part in text.split(",") if part.strip()]
    if not values:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers >= 1, got {text!r}")
    return values


def _number(text: str, kind: type) -> Any:
    try:
        return kind(text)
    except ValueError:
        what = "an integer" if kind is int else "a number"
        raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None

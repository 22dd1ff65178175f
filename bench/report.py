"""How every bench reports: a table for people, or with --json one JSON object per line (one per
configuration or row), so results can be collected with `jq` or `pandas.read_json(lines=True)`."""
from __future__ import annotations

import json
from typing import Any, Callable, Iterable, Mapping, Sequence


def emit(rows: Sequence[Mapping[str, Any]], as_json: bool, table: Callable[[Sequence[Mapping[str, Any]]], None]) -> None:
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

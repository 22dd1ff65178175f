"""The repository holds no absolute path of any machine (recipes, docs and tests must run from any
clone) and no data, runs or caches."""
import re
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
MACHINE_PATH = re.compile(r"(?<![\w.~])/(?:work|root|home|Users|mnt|tmp/pytest-of-\w+)/[\w.-]+")


def tracked_text_files() -> list[Path]:
    names = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"], cwd=REPO,
                           capture_output=True, text=True, check=True).stdout.split()
    suffixes = {".py", ".md", ".yaml", ".yml", ".sh", ".toml", ".txt", ".cfg", ".in", ""}
    return [REPO / n for n in names if (REPO / n).is_file() and Path(n).suffix in suffixes]


def test_no_absolute_machine_paths():
    found = []
    for path in tracked_text_files():
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        for number, line in enumerate(text.splitlines(), 1):
            if MACHINE_PATH.search(line) and "MACHINE_PATH" not in line:
                found.append(f"{path.relative_to(REPO)}:{number}: {line.strip()[:100]}")
    assert not found, "\n".join(found)


def test_no_data_runs_or_caches_tracked():
    tracked = subprocess.run(["git", "ls-files"], cwd=REPO, capture_output=True, text=True, check=True).stdout.split()
    assert not [n for n in tracked if n.split("/")[0] in ("data", "runs", "cache", "corpus")]
    big = [n for n in tracked if (REPO / n).is_file() and (REPO / n).stat().st_size > 2**20]
    assert all(n.startswith("checkpoints/") for n in big), big  # only shipped voice weights are large

"""Installs that work outside the checkout: the wheel (and a `git+file://` install) carries every
package and the default voice, speaks from an empty folder, prints its version, serves the app;
no top-level `app` module, tests or caches in the wheel; the source distribution has what a
rebuild needs."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
import time
import tomllib
import urllib.request
import zipfile
from pathlib import Path

import pytest
import soundfile

REPO = Path(__file__).resolve().parents[1]


def listed_packages() -> list[str]:
    config = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]
    return config["packages"]


def test_every_package_folder_is_listed():
    folders = {".".join(p.parent.relative_to(REPO).parts) for top in ("tts", "frontend", "vocoder")
               for p in (REPO / top).rglob("__init__.py") if "__pycache__" not in p.parts}
    assert folders | {"tts.voices"} == set(listed_packages())


def _run(args, cwd, env, timeout=300):
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


def _isolated_env(site: Path) -> dict[str, str]:
    """Only the installed copy (and the dependencies already on this Python) can be imported."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "TTS_VOICE_DIR")}
    env["PYTHONPATH"] = str(site)
    return env


def _check_installed(site: Path, tmp_path: Path) -> None:
    env = _isolated_env(site)
    empty = tmp_path / "empty"
    empty.mkdir(exist_ok=True)
    where = _run([sys.executable, "-c", "import tts, frontend, vocoder; print(tts.__file__)"], empty, env)
    assert where.returncode == 0, where.stderr
    assert Path(where.stdout.strip()).is_relative_to(site), where.stdout  # not the checkout
    out = empty / "x.wav"
    say = _run([sys.executable, "-m", "tts.say", "The birds sang at dawn.", "-o", str(out), "--quiet"], empty, env)
    assert say.returncode == 0, say.stderr
    audio, rate = soundfile.read(out)
    assert rate == 22050 and 0.6 < len(audio) / rate < 5.0
    library = _run([sys.executable, "-c", "from tts import Pipeline; s = Pipeline.from_pretrained().speak('Hello.'); "
                    "print(s.duration)"], empty, env)
    assert library.returncode == 0 and float(library.stdout) > 0.2, library.stderr
    version = _run([str(site / "bin" / "tts-say"), "--version"], empty, env)
    expected = _run([sys.executable, "-c", "import tts; print(tts.__version__)"], empty, env).stdout.strip()
    assert version.returncode == 0 and version.stdout.strip() == f"tts-say {expected}", version.stdout + version.stderr


def _pip_install(source: str, target: Path) -> None:
    run = _run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
                "--target", str(target), source], REPO, dict(os.environ), timeout=600)
    assert run.returncode == 0, run.stderr


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("dist")
    run = _run([sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out), str(REPO)], REPO,
               dict(os.environ), timeout=600)
    assert run.returncode == 0, run.stderr[-2000:]
    return {"wheel": next(out.glob("*.whl")), "sdist": next(out.glob("*.tar.gz"))}


@pytest.mark.slow
def test_wheel_contents(built):
    names = zipfile.ZipFile(built["wheel"]).namelist()
    top = {n.split("/")[0] for n in names}
    assert {"tts", "frontend", "vocoder"} <= top
    assert not {"app.py", "tests", "checkpoints", "recipes", "bench"} & top
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]
    shipped = {f"tts/voices/default/{f.name}" for f in (REPO / "checkpoints" / "default").iterdir() if f.is_file()}
    assert {"tts/voices/default/voice.yaml", "tts/voices/default/tacotron2.pt",
            "tts/voices/default/MODEL_CARD.md"} <= shipped <= set(names)  # every file of the voice
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    scripts = zipfile.ZipFile(built["wheel"]).read(entry_points).decode()
    assert "tts-say = tts.say:main" in scripts and "tts-app = tts.app:main" in scripts


@pytest.mark.slow
def test_sdist_has_what_a_rebuild_needs(built):
    names = tarfile.open(built["sdist"]).getnames()
    inner = {n.split("/", 1)[1] for n in names if "/" in n}
    assert {"README.md", "LICENSE", "ARCHITECTURE.md", "pyproject.toml", "checkpoints/default/tacotron2.pt",
            "recipes/default_voice/build_corpus.py", "recipes/default_voice/sentences/heldout.txt"} <= inner
    assert not [n for n in inner if n.startswith(("runs/", "data/", "cache/"))]


@pytest.mark.slow
def test_wheel_installed_outside_the_checkout_speaks(built, tmp_path):
    site = tmp_path / "site"
    _pip_install(str(built["wheel"]), site)
    _check_installed(site, tmp_path)


@pytest.mark.slow
def test_git_url_install_speaks(tmp_path):
    """`pip install git+file://...` of a clone of this working tree (what is committed there, so the
    working tree is committed into a scratch repository first)."""
    clone = tmp_path / "clone"
    files = _run(["git", "ls-files", "--cached", "--others", "--exclude-standard"], REPO, dict(os.environ)).stdout.split()
    for name in files:
        if (REPO / name).is_file():
            (clone / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / name, clone / name)
    env = dict(os.environ, GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@t", GIT_COMMITTER_NAME="t",
               GIT_COMMITTER_EMAIL="t@t")
    for args in (["git", "init", "-q"], ["git", "add", "-A"], ["git", "commit", "-q", "-m", "snapshot"]):
        assert _run(args, clone, env).returncode == 0
    site = tmp_path / "site"
    _pip_install(f"git+file://{clone}", site)
    _check_installed(site, tmp_path)


@pytest.mark.slow
def test_installed_tts_app_serves_the_page(built, tmp_path, free_port):
    site = tmp_path / "site"
    _pip_install(str(built["wheel"]), site)
    env = _isolated_env(site)
    app = subprocess.Popen([str(site / "bin" / "tts-app"), "--port", str(free_port)], cwd=tmp_path, env=env,
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{free_port}/", timeout=5) as response:
                    assert response.status == 200 and b"gradio" in response.read().lower()
                    break
            except OSError:
                assert app.poll() is None, app.stderr.read()
                assert time.monotonic() < deadline, "tts-app did not serve the page within 120 s"
                time.sleep(1)
    finally:
        app.terminate()
        app.wait(timeout=30)

"""Batch manifests (`tts.batch`): parsing and checking TSV / JSONL manifests, sharding by RANK/WORLD_SIZE
or `--shard`, resumable runs (a rerun rewrites nothing, a killed run resumes), failures reported and
survived, and the report files."""
from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tts.batch import (
    Entry,
    ManifestError,
    Shard,
    main_from_cli,
    parse_manifest,
    parse_shard,
    prepare_batch,
    read_manifest,
    resolve_shard,
    run_batch,
    run_manifest,
    shard,
    shard_from_environment,
)

REPO = Path(__file__).resolve().parents[1]

#: a subprocess that runs a manifest with the conftest's fast pipeline; with STALL_AT=k it stops inside
#: the k-th file (after its first chunk was written to NAME.partial) and waits to be killed
RUNNER = r"""
import os, sys, time
from pathlib import Path
sys.path.insert(0, os.path.join(sys.argv[1], "tests"))
import torch
torch.set_num_threads(1)
from conftest import tiny_tacotron2
from tts.batch import main_from_cli
from tts.runtime.pipeline import Pipeline
from tts.runtime.settings import SynthesisConfig
from vocoder.griffin_lim import GriffinLim

pipe = Pipeline(tiny_tacotron2(1), {"griffin-lim": GriffinLim(n_iters=2, nnls_iters=2)}, name="fast",
                config=SynthesisConfig(max_decoder_steps=8, max_retries=0, denoise=0.0))

class Stalling:
    calls = 0
    def __getattr__(self, name):
        return getattr(pipe, name)
    def speak_to_file(self, text, target, **kw):
        Stalling.calls += 1
        if Stalling.calls == int(os.environ.get("STALL_AT", "0")):
            def stall(chunk):
                Path(os.environ["STALL_MARKER"]).write_text(str(target))
                time.sleep(120)
            kw["on_chunk"] = stall
        return pipe.speak_to_file(text, target, **kw)

sys.exit(main_from_cli(Stalling(), sys.argv[2], sys.argv[3], quiet=True))
"""

TEXTS = ["Hello there.", "A second line.", "Numbers like 42 are read.", "Dr. Smith paid $5.",
         "Another sentence here.", "Short.", "The last but one.", "Done."]


def write_manifest(folder: Path, n: int = len(TEXTS), name: str = "lines.tsv") -> tuple[Path, list[str]]:
    ids = [f"utt-{i:03d}" for i in range(n)]
    path = folder / name
    path.write_text("# a test manifest\n" + "".join(f"{i}\t{TEXTS[k % len(TEXTS)]}\n" for k, i in enumerate(ids)))
    return path, ids


def read_report(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def stats(folder: Path) -> dict[str, tuple[int, int, int]]:
    return {p.name: (p.stat().st_ino, p.stat().st_mtime_ns, p.stat().st_size) for p in folder.glob("*.wav")}


def runner_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("RANK", "WORLD_SIZE")}
    env.update(OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", PYTHONPATH=str(REPO), **extra)
    return env


class Spy:
    """A pipeline that counts `speak_to_file` calls and can fail chosen texts."""

    def __init__(self, pipe, fail_on: str | None = None):
        self.pipe, self.calls, self.fail_on = pipe, [], fail_on

    def __getattr__(self, name):
        return getattr(self.pipe, name)

    def speak_to_file(self, text, target, **kwargs):
        self.calls.append(Path(target).name)
        if self.fail_on is not None and self.fail_on in text:
            raise RuntimeError("the vocoder exploded")
        return self.pipe.speak_to_file(text, target, **kwargs)


# ----------------------------------------------------------------------------------------------------
# Parsing
# ----------------------------------------------------------------------------------------------------
def test_tsv_manifest():
    data = ("\ufeffid\ttext\n# comment\n\n  \nutt-1\t Hello there. \r\n  # indented comment\nb.2\tTwo: 3 words\n"
            .encode("utf-8"))
    entries = parse_manifest(data, "tsv")
    assert [(e.id, e.text, e.line, dict(e.settings)) for e in entries] == [
        ("utt-1", "Hello there.", 5, {}), ("b.2", "Two: 3 words", 7, {})]
    assert entries[1].words == 3


def test_jsonl_manifest():
    text = "\n".join([
        '{"id": "a", "text": "Plain."}',
        "",
        ('{"id": 7, "text": "With settings \u2028 and a raw line separator.", "pace": 1.5, "seed": 3, "sigma": 0.5,'
         ' "vocoder": "griffin-lim", "date_order": "dmy"}'),
    ])
    entries = parse_manifest(text, "jsonl")
    assert [e.id for e in entries] == ["a", "7"] and [e.line for e in entries] == [1, 3]
    assert dict(entries[1].settings) == {"pace": 1.5, "seed": 3, "sigma": 0.5, "vocoder": "griffin-lim",
                                         "date_order": "dmy"}
    with pytest.raises(TypeError):
        entries[1].settings["pace"] = 2  # entries are immutable


BAD_IDS = ["../x", "a/b", "a\\b", ".hidden", "..", "a..b", "trailing.", "tab\there", "nul\x00", "new\nline",
           "x" * 121, "CON", "con.txt", "LPT1", "with space", "é", ""]


@pytest.mark.parametrize("kind, content, line, fragment", [
    ("jsonl", '{"id": "a", "text": "x"}\n{"id": "b", "text": "y",}', 2, "bad JSON"),
    ("jsonl", '[1, 2]', 1, "expected a JSON object"),
    ("jsonl", '\n{"text": "no id"}', 2, "missing 'id'"),
    ("jsonl", '{"id": "a"}', 1, "missing 'text'"),
    ("jsonl", '{"id": "a", "text": "x", "speed": 2}', 1, "unknown setting(s) 'speed'"),
    ("jsonl", '{"id": "a", "text": "x", "pace": 9}', 1, "pace must be in"),
    ("jsonl", '{"id": "a", "text": "x", "seed": "seven"}', 1, "seed must be an integer"),
    ("jsonl", '{"id": "a", "text": 5}', 1, "text must be a string"),
    ("jsonl", '{"id": true, "text": "x"}', 1, "id must be a string"),
    ("jsonl", '{"id": "a", "id": "b", "text": "x"}', 1, "key 'id' appears twice"),
    ("jsonl", '{"id": "a", "text": "x"}\n\n{"id": "a", "text": "y"}', 3, "duplicate id 'a': already on line 1"),
    ("tsv", "A\tx\n# c\na\ty", 3, "ignoring case"),
    ("tsv", "a\tx\nno tab here", 2, "found no tab"),
    ("tsv", "a\tx\tthird column", 1, "3 tab-separated columns"),
    ("tsv", "a\t   ", 1, "text is empty"),
    ("tsv", b"a\tok\nb\t\xff\xfe", 2, "not UTF-8"),
    ("tsv", "# only comments\n\n", 0, "no entries"),
])
def test_manifest_errors_name_the_line(kind, content, line, fragment):
    with pytest.raises(ManifestError) as caught:
        parse_manifest(content, kind, source="lines." + kind)
    assert isinstance(caught.value, ValueError)
    assert any(n == line and fragment in message for n, message in caught.value.problems), caught.value.problems
    assert str(caught.value).startswith(f"lines.{kind}: " + (f"line {line}: " if line else ""))


@pytest.mark.parametrize("bad_id", BAD_IDS)
def test_unsafe_ids_are_refused(bad_id):
    with pytest.raises(ManifestError) as caught:
        parse_manifest(json.dumps({"id": bad_id, "text": "Hello."}) + "\n", "jsonl")
    assert caught.value.problems[0][0] == 1 and "id" in caught.value.problems[0][1]


def test_every_problem_is_collected_in_one_error():
    lines = ["ok\tfine"] + [f"bad/{i}\tx" for i in range(7)]
    with pytest.raises(ManifestError) as caught:
        parse_manifest("\n".join(lines), "tsv", source="m.tsv")
    assert [n for n, _ in caught.value.problems] == list(range(2, 9))
    message = str(caught.value)
    assert "\n" not in message and "line 2:" in message and "line 6:" in message and "(and 2 more problems)" in message


def test_read_manifest_by_extension(tmp_path):
    (tmp_path / "a.txt").write_text("x\tHello.\n")
    (tmp_path / "a.NDJSON").write_text('{"id": "x", "text": "Hello."}\n')
    assert read_manifest(tmp_path / "a.txt")[0].id == read_manifest(tmp_path / "a.NDJSON")[0].id == "x"
    (tmp_path / "a.csv").write_text("x,Hello.\n")
    with pytest.raises(ValueError, match="unknown kind '.csv'"):
        read_manifest(tmp_path / "a.csv")
    with pytest.raises(ValueError, match="cannot read manifest"):
        read_manifest(tmp_path / "missing.tsv")


# ----------------------------------------------------------------------------------------------------
# Shards
# ----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("spec, expected", [("1/4", Shard(0, 4)), (" 4 / 4 ", Shard(3, 4)), ("1/1", Shard(0, 1))])
def test_parse_shard(spec, expected):
    assert parse_shard(spec) == expected
    assert parse_shard(expected.label) == expected


@pytest.mark.parametrize("spec", ["0/4", "5/4", "1/0", "a/b", "1", "-1/2", "", "1/2/3"])
def test_parse_shard_refuses(spec):
    with pytest.raises(ValueError, match="--shard"):
        parse_shard(spec)


def test_shard_from_environment():
    assert shard_from_environment({}) is None
    assert shard_from_environment({"RANK": "1", "WORLD_SIZE": "3"}) == Shard(1, 3)
    for env in ({"RANK": "0"}, {"WORLD_SIZE": "2"}, {"RANK": "x", "WORLD_SIZE": "2"}, {"RANK": "2", "WORLD_SIZE": "2"},
                {"RANK": "-1", "WORLD_SIZE": "2"}, {"RANK": "0", "WORLD_SIZE": "0"}):
        with pytest.raises(ValueError, match="RANK|WORLD_SIZE"):
            shard_from_environment(env)
    env = {"RANK": "1", "WORLD_SIZE": "2"}
    assert resolve_shard(None, env) == Shard(1, 2)
    assert resolve_shard("3/3", env) == Shard(2, 3)  # --shard wins
    assert resolve_shard(None, {}) == Shard(0, 1)
    assert Shard(1, 2).report_name == "report.shard-2-of-2.jsonl" and Shard().report_name == "report.jsonl"


def test_shards_are_disjoint_complete_and_stable():
    entries = [Entry(f"id-{i}", "x", line=i + 1) for i in range(300)]
    for count in (1, 2, 3, 7):
        parts = [shard(entries, index, count) for index in range(count)]
        ids = [e.id for part in parts for e in part]
        assert sorted(ids) == sorted(e.id for e in entries) and len(set(ids)) == len(ids)
        for part in parts:  # manifest order kept; roughly balanced
            assert [e.line for e in part] == sorted(e.line for e in part)
            assert abs(len(part) - 300 / count) < 0.25 * 300 / count + 5
    # an id's shard depends on the id alone: reordering or growing the manifest moves nothing
    before = {e.id for e in shard(entries, 1, 3)}
    changed = list(reversed(entries[:200])) + [Entry(f"new-{i}", "x") for i in range(50)]
    assert {e.id for e in shard(changed, 1, 3) if e.id.startswith("id-")} == {i for i in before if int(i[3:]) < 200}


# ----------------------------------------------------------------------------------------------------
# Running
# ----------------------------------------------------------------------------------------------------
def test_unsafe_ids_refused_before_synthesis(fast_pipeline, tmp_path):
    manifest = tmp_path / "m.tsv"
    manifest.write_text("fine\tHello.\n../evil\tGoodbye.\n")
    spy = Spy(fast_pipeline)
    with pytest.raises(ValueError, match=r"line 2: id '\.\./evil'"):
        main_from_cli(spy, manifest, tmp_path / "out", environ={})
    with pytest.raises(ManifestError, match="line 2"):  # the library route checks too
        run_manifest(spy, [Entry("fine", "Hello.", line=1), Entry("a/b", "Bye.", line=2)], tmp_path / "out")
    with pytest.raises(ManifestError, match=r"line 2: vocoder 'waveglow' is not available"):  # against the voice
        run_manifest(spy, [Entry("a", "Hi.", line=1), Entry("b", "Bye.", {"vocoder": "waveglow"}, line=2)],
                     tmp_path / "out")
    assert spy.calls == [] and not (tmp_path / "out").exists()


def test_prepare_batch_checks_without_a_model(tmp_path):
    manifest, _ = write_manifest(tmp_path)
    job = prepare_batch(manifest, tmp_path / "new" / "out", format="FLAC", environ={"RANK": "1", "WORLD_SIZE": "2"},
                        settings={"pace": 1.2})
    assert job.out_dir.is_dir() and job.format == "flac" and job.shard == Shard(1, 2) and len(job.entries) == 8
    for kwargs, message in [({"format": "aiff"}, "unknown audio format"), ({"shard": "3/2"}, "--shard"),
                            ({"settings": {"pace": 0}}, "pace"), ({"environ": {"RANK": "0"}}, "WORLD_SIZE")]:
        with pytest.raises(ValueError, match=message):
            prepare_batch(manifest, tmp_path / "out", **{"environ": {}, **kwargs})
    with pytest.raises(ValueError, match="not a folder"):
        prepare_batch(manifest, manifest, environ={})


def test_two_shards_in_two_processes(tmp_path):
    manifest, ids = write_manifest(tmp_path)
    out = tmp_path / "out"
    procs = [subprocess.Popen([sys.executable, "-c", RUNNER, str(REPO), str(manifest), str(out)], cwd=tmp_path,
                              env=runner_env(RANK=str(rank), WORLD_SIZE="2"), stderr=subprocess.PIPE, text=True)
             for rank in range(2)]
    for proc in procs:
        assert proc.wait(timeout=120) == 0, proc.stderr.read()
        proc.stderr.close()
    assert sorted(p.stem for p in out.glob("*.wav")) == ids
    assert not list(out.glob("*.partial"))
    reports = [read_report(out / f"report.shard-{i}-of-2.jsonl") for i in (1, 2)]
    done = [[r["id"] for r in report] for report in reports]
    assert done[0] and done[1] and not set(done[0]) & set(done[1]) and sorted(done[0] + done[1]) == ids
    assert all(r["status"] == "ok" for report in reports for r in report)
    assert not (out / "report.jsonl").exists()


def test_rerun_rewrites_nothing(fast_pipeline, tmp_path):
    manifest, ids = write_manifest(tmp_path, 5)
    out = tmp_path / "out"
    assert main_from_cli(fast_pipeline, manifest, out, quiet=True, environ={}) == 0
    before = stats(out)
    assert sorted(before) == [f"{i}.wav" for i in ids]
    time.sleep(0.01)
    spy = Spy(fast_pipeline)
    job = prepare_batch(manifest, out, environ={})
    report = run_batch(spy, job, quiet=True)
    assert spy.calls == [] and (report.ok, report.skipped, report.failed, report.exit_status) == (0, 5, 0, 0)
    assert stats(out) == before
    lines = read_report(out / "report.jsonl")  # appended: 5 ok, then 5 skipped
    assert [r["status"] for r in lines] == ["ok"] * 5 + ["skipped"] * 5
    assert "\n\n" not in (out / "report.jsonl").read_text()


def test_killed_run_resumes(fast_pipeline, tmp_path):
    manifest, ids = write_manifest(tmp_path, 6)
    out, marker = tmp_path / "out", tmp_path / "stalled"
    proc = subprocess.Popen([sys.executable, "-c", RUNNER, str(REPO), str(manifest), str(out)], cwd=tmp_path,
                            env=runner_env(STALL_AT="4", STALL_MARKER=str(marker)), stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 90
        while not marker.exists():
            assert proc.poll() is None, proc.stderr.read()
            assert time.monotonic() < deadline, "the runner never reached the 4th file"
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)  # in the middle of the 4th file
        assert proc.wait(timeout=30) == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stderr.close()
    assert sorted(stats(out)) == [f"{i}.wav" for i in ids[:3]]
    assert (out / f"{ids[3]}.wav.partial").exists()  # the half file never took the final name
    assert [r["id"] for r in read_report(out / "report.jsonl")] == ids[:3]
    before = stats(out)
    spy = Spy(fast_pipeline)
    report = run_batch(spy, prepare_batch(manifest, out, environ={}), quiet=True)
    assert spy.calls == [f"{i}.wav" for i in ids[3:]]
    assert (report.skipped, report.ok, report.exit_status) == (3, 3, 0)
    after = stats(out)
    assert sorted(after) == [f"{i}.wav" for i in ids] and {k: after[k] for k in before} == before
    assert not list(out.glob("*.partial"))
    import soundfile

    assert all(soundfile.info(out / f"{i}.wav").frames > 0 for i in ids)


def test_failures_are_reported_and_the_run_goes_on(fast_pipeline, tmp_path):
    manifest = tmp_path / "m.jsonl"
    manifest.write_text("\n".join(json.dumps(r) for r in [
        {"id": "one", "text": "First line."},
        {"id": "dots", "text": "..."},  # nothing speakable: ValueError
        {"id": "boom", "text": "This one explodes."},  # a synthesis error
        {"id": "slow", "text": "Fourth line.", "pace": 0.5},
        {"id": "fast", "text": "Fourth line.", "pace": 2.0, "seed": 1},
    ]) + "\n")
    out, stream = tmp_path / "out", io.StringIO()
    job = prepare_batch(manifest, out, environ={})
    report = run_batch(Spy(fast_pipeline, fail_on="explodes"), job, stream=stream)
    assert (report.ok, report.skipped, report.failed, report.exit_status) == (3, 0, 2, 1)
    assert report.failed_ids == ["dots", "boom"]
    assert sorted(p.name for p in out.iterdir()) == ["fast.wav", "one.wav", "report.jsonl", "slow.wav"]
    log = stream.getvalue()
    assert "failed: dots (line 2): nothing speakable" in log
    assert "failed: boom (line 3): RuntimeError: the vocoder exploded" in log
    assert "3 ok, 0 skipped, 2 failed of 5" in log and "\r" not in log  # no bar: not a terminal
    lines = {r["id"]: r for r in read_report(out / "report.jsonl")}
    assert list(lines) == ["one", "dots", "boom", "slow", "fast"]
    assert set(lines["one"]) >= {"id", "status", "seconds", "words", "warnings", "error", "line", "file"}
    assert lines["one"]["status"] == "ok" and lines["one"]["file"] == "one.wav" and lines["one"]["error"] is None
    assert lines["one"]["words"] == 2 and lines["one"]["seconds"] > 0 and isinstance(lines["one"]["warnings"], list)
    assert lines["one"]["normalized"] == "first line."
    assert lines["boom"] == {**lines["boom"], "status": "failed", "error": "RuntimeError: the vocoder exploded",
                             "seconds": None, "file": None, "line": 3}
    assert lines["slow"]["seconds"] == pytest.approx(4 * lines["fast"]["seconds"], rel=0.1)  # per-line pace applied
    # a rerun retries only what failed
    spy, verbose = Spy(fast_pipeline), io.StringIO()
    again = run_batch(spy, job, verbose=True, stream=verbose)
    assert sorted(spy.calls) == ["boom.wav", "dots.wav"] and (again.skipped, again.failed) == (3, 1)
    assert "Traceback" in verbose.getvalue() and "ok: boom: " in verbose.getvalue()
    with pytest.raises(ValueError, match="nothing speakable"):  # keep_going=False stops at the first failure
        run_manifest(fast_pipeline, job.entries, out, keep_going=False, quiet=True)


def test_progress_bar_quiet_and_formats(fast_pipeline, tmp_path):
    manifest, ids = write_manifest(tmp_path, 3)
    stream = io.StringIO()
    report = run_manifest(fast_pipeline, read_manifest(manifest), tmp_path / "out", format="flac", progress=True,
                          stream=stream, settings={"seed": 1})
    assert report.ok == 3 and sorted(p.name for p in (tmp_path / "out").glob("*.flac")) == [f"{i}.flac" for i in ids]
    assert "batch: " in stream.getvalue() and "file/s" in stream.getvalue()  # tqdm's bar, then the summary
    quiet = io.StringIO()
    run_manifest(fast_pipeline, read_manifest(manifest), tmp_path / "out", format="flac", progress=True, quiet=True,
                 stream=quiet)
    assert quiet.getvalue() == ""
    # a report line cut by a kill is ended before the next run appends
    report_file = tmp_path / "out" / "report.jsonl"
    report_file.write_text(report_file.read_text() + '{"id": "cut-of')
    run_manifest(fast_pipeline, read_manifest(manifest), tmp_path / "out", format="flac", quiet=True)
    lines = report_file.read_text().splitlines()
    assert lines[-4] == '{"id": "cut-of' and all(json.loads(line)["status"] == "skipped" for line in lines[-3:])

"""The default-voice corpus builder: sentence cleaning, stable ids, held-out separation, metadata
format; `--fetch` against a real HTTP server on 127.0.0.1 (pins, trust on first use, resume, 404,
refused connection, timeout; never the internet); and, where Festival is installed, a two-sentence
build checked for the LJSpeech layout."""
from __future__ import annotations

import importlib.util
import json
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

RECIPE = Path(__file__).resolve().parents[1] / "recipes" / "default_voice"


def _load():
    if str(RECIPE) not in sys.path:  # as when the script runs: its folder is importable
        sys.path.insert(0, str(RECIPE))
    spec = importlib.util.spec_from_file_location("build_corpus", RECIPE / "build_corpus.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["build_corpus"] = module
    spec.loader.exec_module(module)
    return module


bc = _load()
import gutenberg_books as gb  # noqa: E402 - importable once _load put the recipe's folder on sys.path


@pytest.mark.parametrize(
    "raw, clean",
    [
        ("Sorrow came, a gentle sorrow., Miss Taylor married.", "Sorrow came, a gentle sorrow. Miss Taylor married."),
        ("Oh yes!, there is a great difference.", "Oh yes! there is a great difference."),
        ("What do you see?, Posted like silent sentinels.", "What do you see? Posted like silent sentinels."),
        ("., and so she went home", "and so she went home."),
        ("  It was   late;  ", "It was late."),
        ("He said, 'no.'", "He said, 'no.'"),
        (" ,. ", ""),
    ],
)
def test_clean_sentence(raw, clean):
    assert bc.clean_sentence(raw) == clean


def test_is_usable_filters_lengths_digits_capitals_and_asides():
    assert bc.is_usable("She dearly loved her father, but he was no companion.")
    assert not bc.is_usable("Too short.")
    assert not bc.is_usable("word " * 40)
    assert not bc.is_usable("In the year 1820 the ship Essex sailed from port.")
    assert not bc.is_usable("And I (which I own) do not see why it should be so.")
    assert not bc.is_usable("Your business cannot be with ME at all, madam.")


def test_ids_are_stable_line_numbers(tmp_path):
    (tmp_path / "own.txt").write_text("First sentence here.\nSecond one, please.\n")
    first = bc.read_source(tmp_path / "own.txt")
    assert [s.id for s in first] == ["own_0001", "own_0002"]
    # appending lines never renumbers the earlier ones
    (tmp_path / "own.txt").write_text("First sentence here.\nSecond one, please.\nA third sentence.\n")
    again = bc.read_source(tmp_path / "own.txt")
    assert again[:2] == first and again[2].id == "own_0003"
    assert bc.sentence_id("austen", 123) == "austen_00123"
    with pytest.raises(ValueError, match="unknown sentence source"):
        bc.sentence_id("dickens", 1)


def test_read_source_rejects_blank_lines_and_separator(tmp_path):
    (tmp_path / "own.txt").write_text("One sentence.\n\nAnother.\n")
    with pytest.raises(ValueError, match="own.txt:2: empty line"):
        bc.read_source(tmp_path / "own.txt")
    (tmp_path / "own.txt").write_text("A | B.\n")
    with pytest.raises(ValueError, match="separator"):
        bc.read_source(tmp_path / "own.txt")


def test_heldout_is_excluded_and_checked(tmp_path):
    (tmp_path / "own.txt").write_text("It costs $5 today.\nWhere is the station?\nWhere is the station?\n")
    (tmp_path / "austen.txt").write_text("She dearly loved her father.\nHe could sing a little himself.\n")
    (tmp_path / "heldout.txt").write_text(
        "# comment\nown_0002|Where is the station?\nausten_00001|She dearly loved her father.\n")
    training, heldout = bc.load_sentences(tmp_path)
    assert [s.id for s in heldout] == ["own_0002", "austen_00001"]
    # own_0003 repeats a held-out text, so it is dropped from training as well
    assert [s.id for s in training] == ["own_0001", "austen_00002"]

    (tmp_path / "heldout.txt").write_text("own_0002|Where is the bus stop?\n")
    with pytest.raises(ValueError, match="differs from its source line"):
        bc.load_sentences(tmp_path)
    (tmp_path / "heldout.txt").write_text("own_0009|Nothing here.\n")
    with pytest.raises(ValueError, match="not a line of any sentence file"):
        bc.load_sentences(tmp_path)


def test_repository_sentence_files_are_consistent():
    training, heldout = bc.load_sentences(RECIPE / "sentences")
    assert len(heldout) >= 60
    sources = {s.id.split("_")[0] for s in heldout}
    assert sources == {"own", "austen", "mobydick"}
    train_ids = {s.id for s in training}
    assert not train_ids & {s.id for s in heldout}
    assert len(training) > 5000
    assert not {bc._key(s.text) for s in training} & bc.evaluation_keys(RECIPE / "sentences")
    for s in training:
        assert 5 <= len(s.text) <= 200, s


def test_development_and_novel_texts_never_reach_training(tmp_path):
    (tmp_path / "own.txt").write_text("Where is the station?\nIt rains today.\nThe bus is late.\n")
    (tmp_path / "dev.txt").write_text("# dev\nown_0002|it  RAINS today.\n")
    (tmp_path / "novel.txt").write_text("novel_01|The bus is late.\n")
    training, heldout = bc.load_sentences(tmp_path)
    assert heldout == [] and [s.id for s in training] == ["own_0001"]


def test_prepare_extra_sentences_adds_new_files_only(tmp_path):
    src, out = tmp_path / "src", tmp_path / "out"
    src.mkdir()
    out.mkdir()
    lines = [f"The {w} sailed over the sea at dawn number {w}." for w in
             "one two three four five six seven eight nine ten eleven twelve".split()]
    (src / "austen_sentences.txt").write_text("\n".join(lines) + "\n")
    (src / "mobydick_sentences.txt").write_text("\n".join(lines[:4]) + "\nIt had 3 masts.\n")
    (out / "austen.txt").write_text(lines[0] + "\n")
    (out / "heldout.txt").write_text(f"austen_00001|{lines[0]}\n")
    (out / "dev.txt").write_text(f"mobydick_01|{lines[1]}\n")
    before = (out / "austen.txt").read_text()
    written = bc.prepare_extra_sentences(src, out, {"austen": 5, "mobydick": 5}, numbers=30, seed=3)
    again = {p.name: p.read_text() for p in out.iterdir()}
    assert bc.prepare_extra_sentences(src, out, {"austen": 5, "mobydick": 5}, numbers=30, seed=3) == written
    assert {p.name: p.read_text() for p in out.iterdir()} == again  # deterministic
    assert (out / "austen.txt").read_text() == before
    extra = (out / "austen_extra.txt").read_text().splitlines() + (out / "mobydick_extra.txt").read_text().splitlines()
    assert lines[0] not in extra and lines[1] not in extra  # in a training or an evaluation file already
    assert len(extra) == len(set(extra)) == 5 + 2  # no sentence twice; mobydick had only 2 new usable ones
    assert written == {"austen_extra": 5, "mobydick_extra": 2, "numbers": 30}
    training, _ = bc.load_sentences(out)
    assert {s.id.rsplit("_", 1)[0] for s in training} == {"austen_extra", "mobydick_extra", "numbers"}


def test_prepare_rest_sentences_takes_every_sentence_no_other_file_has(tmp_path):
    src, out = tmp_path / "src", tmp_path / "out"
    src.mkdir()
    out.mkdir()
    lines = [f"The whale number {w} rose beside the ship." for w in ("one", "two", "three", "four", "five", "six")]
    (src / "mobydick_sentences.txt").write_text("\n".join(lines + [lines[5]]) + "\nIt had 3 masts.\n")
    (out / "mobydick.txt").write_text(lines[0] + "\n" + lines[2] + "\n")
    (out / "mobydick_extra.txt").write_text(lines[1] + "\n")
    (out / "heldout.txt").write_text(f"mobydick_00002|{lines[2]}\n")
    (out / "novel.txt").write_text(f"novel_01|{lines[3].upper()}\n")
    (out / "mobydick_rest.txt").write_text(lines[4] + "\n")  # its own old version is rewritten, not excluded
    assert bc.prepare_rest_sentences(src, out) == {"mobydick_rest": 2}
    assert (out / "mobydick_rest.txt").read_text().splitlines() == [lines[4], lines[5]]  # book order, once each
    training, _ = bc.load_sentences(out)
    assert [s.id for s in training if s.id.startswith("mobydick_rest")] == ["mobydick_rest_0001", "mobydick_rest_0002"]
    with pytest.raises(ValueError, match="not a sentence source"):
        bc.prepare_rest_sentences(src, out, book="austen")


def test_number_sentences_are_distinct_deterministic_and_speakable():
    import number_sentences as ns

    from frontend import normalize

    first = ns.number_sentences(120, seed=5)
    assert first == ns.number_sentences(120, seed=5) and first != ns.number_sentences(120, seed=6)
    assert len(set(first)) == 120
    assert all(any(c.isdigit() for c in s) for s in first)
    for s in first:
        assert bc.is_speakable(bc.spoken_text(s, normalize)), s
    with pytest.raises(ValueError):
        ns.number_sentences(0)


def test_everyday_sentences_are_plain_distinct_and_all_trained_on():
    from frontend import normalize

    path = RECIPE / "sentences" / "everyday.txt"
    sentences = bc.read_source(path)
    assert len(sentences) >= 900
    assert len({bc._key(s.text) for s in sentences}) == len(sentences)
    for s in sentences:
        assert not any(c.isdigit() for c in s.text), s
        assert bc.is_speakable(bc.spoken_text(s.text, normalize)), s
    training, _ = bc.load_sentences(RECIPE / "sentences")
    trained = {s.id for s in training}
    assert all(s.id in trained for s in sentences)  # none shares a text with an evaluation sentence


def test_metadata_row_and_roundtrip(tmp_path):
    row = bc.metadata_row("own_0003", "It cost $3.50.", "It cost three dollars fifty.")
    assert row == "own_0003|It cost $3.50.|It cost three dollars fifty."
    bc.write_metadata(tmp_path / "metadata.csv", [row, bc.metadata_row("a_1", 'He said "so".', 'He said "so".')])
    assert bc.read_metadata(tmp_path / "metadata.csv") == {
        "own_0003": ("It cost $3.50.", "It cost three dollars fifty."),
        "a_1": ('He said "so".', 'He said "so".'),
    }
    for bad in ("a|b", "", "line\nbreak"):
        with pytest.raises(ValueError):
            bc.metadata_row("x", "text", bad)


def test_speakable_check():
    assert bc.is_speakable("it cost three dollars and fifty cents, didn't it?")
    assert not bc.is_speakable("it cost $3.50")
    assert not bc.is_speakable("fifty %")
    assert not bc.is_speakable("")


def test_prepare_sentences_is_deterministic(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    words = "alpha bravo charlie delta echo foxtrot golf hotel india juliet".split()
    lines = [" ".join(words[(i + k) % 10] for k in range(4 + i % 5)).capitalize() + "., Then more." for i in range(60)]
    (src / "austen_sentences.txt").write_text("\n".join(lines) + "\n")
    (src / "mobydick_sentences.txt").write_text("\n".join(reversed(lines)) + "\n")
    outs = []
    for name in ("a", "b"):
        out = tmp_path / name
        out.mkdir()
        (out / "own.txt").write_text("".join(f"My own sentence number {w} is here.\n" for w in words))
        bc.prepare_sentences(src, out, {"austen": 8, "mobydick": 6}, {"own": 2, "austen": 2, "mobydick": 2}, seed=7)
        outs.append({p.name: p.read_text() for p in sorted(out.iterdir())})
    assert outs[0] == outs[1]
    assert len(outs[0]["austen.txt"].splitlines()) == 8
    assert "., " not in outs[0]["austen.txt"]
    _, heldout = bc.load_sentences(tmp_path / "a")
    assert len(heldout) == 6


def test_postprocess_resamples_trims_and_levels():
    sr = 32000
    t = np.arange(int(0.8 * sr)) / sr
    tone = 0.3 * np.sin(2 * np.pi * 220 * t)
    audio = np.concatenate([np.zeros(sr // 2), tone, np.zeros(sr)]).astype(np.float32)
    out = bc.postprocess(audio, sr)
    assert out.dtype == np.float32
    # ~0.8 s of tone plus ~50 ms kept on each side, at 22050 Hz
    assert abs(out.size / bc.SAMPLE_RATE - 0.9) < 0.06
    rms_db = 20 * np.log10(np.sqrt(np.mean(out.astype(np.float64) ** 2)))
    assert abs(rms_db - bc.TARGET_RMS_DBFS) < 0.6
    with pytest.raises(ValueError, match="silence"):
        bc.postprocess(np.zeros(sr, dtype=np.float32), sr)


@pytest.mark.skipif(shutil.which("festival") is None, reason="Festival is not installed")
def test_festival_build_writes_ljspeech_layout(tmp_path):
    import soundfile as sf

    frontend = pytest.importorskip("frontend")
    if not hasattr(frontend, "normalize"):
        pytest.skip("frontend.normalize is not written yet")
    sentences = tmp_path / "sentences"
    sentences.mkdir()
    (sentences / "own.txt").write_text("It cost $3 today.\nWhere is it?\n")
    (sentences / "heldout.txt").write_text("own_0002|Where is it?\n")
    out = tmp_path / "corpus"
    assert bc.main(["--out", str(out), "--sentences", str(sentences), "--jobs", "1", "--quiet"]) == 0

    rows = (out / "metadata.csv").read_text().splitlines()
    assert rows == [f"own_0001|It cost $3 today.|{frontend.normalize('It cost $3 today.')}"]
    heldout_rows = (out / "heldout.csv").read_text().splitlines()
    assert heldout_rows == [f"own_0002|Where is it?|{frontend.normalize('Where is it?')}"]
    for uid in ("own_0001", "own_0002"):
        info = sf.info(str(out / "wavs" / f"{uid}.wav"))
        assert info.samplerate == 22050 and info.subtype == "PCM_16" and info.channels == 1
        assert 0.4 < info.duration < 4.0
    # a second run finds everything done and synthesizes nothing
    stats = bc.build_corpus(out, sentences, jobs=1, progress=False)
    assert stats["synthesized_now"] == 0 and stats["clips"] == 1 and stats["heldout_clips"] == 1


def test_development_build_speaks_only_the_development_sentences(tmp_path):
    import soundfile as sf

    frontend = pytest.importorskip("frontend")
    sentences = tmp_path / "sentences"
    sentences.mkdir()
    (sentences / "own.txt").write_text("It cost $3 today.\n")  # the training corpus: not spoken here
    (sentences / "dev.txt").write_text("# a comment\ndevnum_01|Meet me at 9:15.\n")
    (sentences / "dev_varied.txt").write_text("devvar_001|The choir sang.\n")
    out = tmp_path / "dev"
    assert bc.main(["--development", "--out", str(out), "--sentences", str(sentences), "--jobs", "1", "--quiet"]) == 0
    assert (out / "metadata.csv").read_text() == ""
    assert (out / "heldout.csv").read_text().splitlines() == [
        f"devnum_01|Meet me at 9:15.|{frontend.normalize('Meet me at 9:15.')}",
        f"devvar_001|The choir sang.|{frontend.normalize('The choir sang.')}",
    ]
    assert sorted(p.name for p in (out / "wavs").iterdir()) == ["devnum_01.wav", "devvar_001.wav"]
    assert sf.info(str(out / "wavs" / "devvar_001.wav")).samplerate == 22050
    (sentences / "dev_varied.txt").unlink()
    assert bc.main(["--development", "--out", str(out), "--sentences", str(sentences), "--quiet"]) == 2


# --------------------------------------------------------------------------------------------
# --fetch: the books from Project Gutenberg, against a local http.server (never the internet)

NOUNS = "garden letter carriage window parlour sister cousin morning evening river".split()
ADJECTIVES = "quiet gentle sudden lively honest anxious cheerful silent little pleasant".split()
VERBS = "admired noticed described remembered praised mentioned visited avoided".split()
PLACES = "village church meadow harbour library orchard".split()


def synthetic_sentences(n: int, seed: int = 0) -> list[str]:
    """`n` distinct usable sentences (lower case after the first word, 30-140 characters)."""
    combos = [(a, b, v, p) for a in ADJECTIVES for b in NOUNS for v in VERBS for p in PLACES]
    picks = np.random.default_rng(seed).choice(len(combos), size=n, replace=False)
    return [f"The {combos[i][0]} {combos[i][1]} {combos[i][2]} the walk to the {combos[i][3]}." for i in picks]


HEADER_SENTENCE = "This ebook is for the use of anyone anywhere at no cost and with almost no restrictions whatsoever."


def gutenberg_text(title: str, sentences: list[str]) -> str:
    """A Gutenberg-like plain text: a header and a licence footer (with sentences that would pass
    every filter), hard-wrapped paragraphs, typographic quotes and _italics_, CRLF line ends, a BOM."""
    paragraphs = []
    for i in range(0, len(sentences), 5):
        words = " ".join(sentences[i : i + 5]).split()
        if i == 0:
            words = "\u201cIt is a _very_ fine morning for a walk,\u201d said she.".split() + words
        lines = [" ".join(words[j : j + 11]) for j in range(0, len(words), 11)]
        paragraphs.append("\n".join(lines))
    header = (f"The Project Gutenberg eBook of {title}\n\n{HEADER_SENTENCE}\n\n"
              f"*** START OF THE PROJECT GUTENBERG EBOOK {title.upper()} ***\n\n{title.upper()}\n\nCHAPTER I.\n\n")
    footer = (f"\n\n*** END OF THE PROJECT GUTENBERG EBOOK {title.upper()} ***\n\nUpdated editions will replace "
              "the previous one and the old editions will be renamed.\n")
    return "\ufeff" + (header + "\n\n".join(paragraphs) + footer).replace("\n", "\r\n")


_POOL = synthetic_sentences(3 * 760)
BOOKS = {  # ebook number -> (source, title, sentences): enough for prepare_sentences' default counts
    11: ("austen", "Emma Synthetic", _POOL[:760]),
    12: ("austen", "Persuasion Synthetic", _POOL[760:1520]),
    13: ("mobydick", "Whale Synthetic", _POOL[1520:]),
}


@pytest.fixture(scope="module")
def gutenberg(tmp_path_factory):
    """(base URL, list of requested paths, {ebook: sha256}) of a real HTTP server on 127.0.0.1."""
    import functools
    import hashlib
    import http.server
    import threading

    root = tmp_path_factory.mktemp("gutenberg_mirror")
    digests = {}
    for number, (_, title, sentences) in BOOKS.items():
        data = gutenberg_text(title, sentences).encode("utf-8")
        (root / str(number)).mkdir()
        (root / str(number) / f"pg{number}.txt").write_bytes(data)
        digests[number] = hashlib.sha256(data).hexdigest()
    requests: list[str] = []

    class Handler(http.server.SimpleHTTPRequestHandler):
        def log_message(self, format, *args):  # the test reads the paths, nothing goes to stderr
            requests.append(self.path)

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Handler, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", requests, digests
    server.shutdown()
    server.server_close()


@pytest.fixture(autouse=True)
def _no_mirror_from_the_environment(monkeypatch):
    monkeypatch.delenv(gb.GUTENBERG_URL_ENV, raising=False)


def book_list(path: Path, base: str, pins: dict[int, str | None], books=BOOKS) -> Path:
    entries = [{"source": books[n][0], "title": books[n][1], "ebook": n, "sha256": pins.get(n)} for n in books]
    path.write_text(gb.dump_book_list({"about": "test", "base_url": base, "books": entries}))
    return path


def fetch_args(tmp_path: Path, *extra: str) -> list[str]:
    sentences = tmp_path / "sentences"
    sentences.mkdir(exist_ok=True)
    (sentences / "own.txt").write_text("".join(f"My own sentence number {w} is right here.\n" for w in NOUNS * 2))
    return ["--fetch", "--cache", str(tmp_path / "cache"), "--sources-json", str(tmp_path / "sources.json"),
            "--sentences", str(sentences), "--timeout", "10", *extra]


def one_error_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    return lines[0]


def test_book_sentences_keep_only_the_book():
    text = gutenberg_text("Tiny", ["She walked to the village church.", "He stayed at home all day long."])
    got = gb.book_sentences(text.lstrip("\ufeff").replace("\r\n", "\n"), "pg1.txt")
    assert got == ["TINY", "CHAPTER I.", '"It is a very fine morning for a walk," said she.',
                   "She walked to the village church.", "He stayed at home all day long."]
    # the title and chapter headings are dropped by the same filters as the shared book data's lines
    assert [s for s in got if bc.is_usable(bc.clean_sentence(s))] == got[2:]
    with pytest.raises(ValueError, match="pg1.txt: no '\\*\\*\\* START OF'"):
        gb.book_sentences("Just some text. Without markers.", "pg1.txt")


def test_repository_book_list_names_the_novels():
    base, books = gb.read_book_list(gb.SOURCES_JSON)
    assert base == "https://www.gutenberg.org/cache/epub"
    assert {b.ebook: b.source for b in books} == {1342: "austen", 158: "austen", 161: "austen", 105: "austen",
                                                  121: "austen", 141: "austen", 2701: "mobydick"}
    assert gb.book_url(base, 1342) == "https://www.gutenberg.org/cache/epub/1342/pg1342.txt"
    assert gb.dump_book_list(json.loads(gb.SOURCES_JSON.read_text())) == gb.SOURCES_JSON.read_text()


def test_fetch_with_pins_prepares_the_sentence_files_and_resumes(tmp_path, gutenberg, capsys):
    base, requests, digests = gutenberg
    book_list(tmp_path / "sources.json", "http://127.0.0.1:9/never-used", digests)
    before = len(requests)
    assert bc.main(fetch_args(tmp_path, "--gutenberg-url", base)) == 0
    assert len(requests) - before == 3
    cache, sentences = tmp_path / "cache", tmp_path / "sentences"
    extracted = (cache / "austen_sentences.txt").read_text().splitlines()
    assert extracted[:3] == ["EMMA SYNTHETIC", "CHAPTER I.", '"It is a very fine morning for a walk," said she.']
    assert extracted[3:763] == BOOKS[11][2] and extracted[-760:] == BOOKS[12][2]  # the books in list order
    assert HEADER_SENTENCE not in extracted and not any("renamed" in line for line in extracted)
    assert len((sentences / "austen.txt").read_text().splitlines()) == 1400
    assert len((sentences / "mobydick.txt").read_text().splitlines()) == 700
    everything = set(BOOKS[11][2] + BOOKS[12][2] + BOOKS[13][2]) | {extracted[2]}
    assert set((sentences / "mobydick.txt").read_text().splitlines()) <= everything
    training, heldout = bc.load_sentences(sentences)
    assert len(heldout) == 62 and len(training) > 2000
    assert sorted(p.name for p in cache.iterdir()) == [
        "austen_sentences.txt", "mobydick_sentences.txt", "pg11.txt", "pg12.txt", "pg13.txt"]  # no temporary files
    capsys.readouterr()

    # resume: files matching their pins are not downloaded again; a damaged one is
    (cache / "pg12.txt").write_bytes(b"half a book")
    before = len(requests)
    assert bc.main(fetch_args(tmp_path, "--gutenberg-url", base)) == 0
    assert requests[before:] == ["/12/pg12.txt"]
    out = capsys.readouterr().out
    assert "pg11.txt (Emma Synthetic): cached, sha256 ok" in out
    assert "pg12.txt (Persuasion Synthetic): downloaded" in out


def test_fetch_refuses_a_download_that_does_not_match_its_pin(tmp_path, gutenberg, capsys):
    base, _, digests = gutenberg
    book_list(tmp_path / "sources.json", base, {**digests, 12: "0" * 64})
    assert bc.main(fetch_args(tmp_path)) == 1
    line = one_error_line(capsys.readouterr().err)
    assert line == (f"error: pg12.txt (Persuasion Synthetic): sha256 mismatch: expected {'0' * 64}, got {digests[12]}; "
                    "the download was discarded")
    assert sorted(p.name for p in (tmp_path / "cache").iterdir()) == ["pg11.txt"]  # nothing of pg12 kept


def test_fetch_refuses_books_without_a_pin_before_downloading(tmp_path, gutenberg, capsys):
    base, requests, digests = gutenberg
    book_list(tmp_path / "sources.json", base, {11: digests[11]})
    before = len(requests)
    assert bc.main(fetch_args(tmp_path)) == 2
    line = one_error_line(capsys.readouterr().err)
    assert "pins no sha256 for pg12.txt, pg13.txt" in line and "--record-checksums" in line
    assert len(requests) == before and not (tmp_path / "cache").exists()


def test_fetch_records_missing_pins_when_asked(tmp_path, gutenberg, capsys, monkeypatch):
    base, requests, digests = gutenberg
    sources = book_list(tmp_path / "sources.json", "http://127.0.0.1:9/never-used", {11: digests[11]})
    monkeypatch.setenv(gb.GUTENBERG_URL_ENV, base)  # the environment variable stands in for the option
    assert bc.main(fetch_args(tmp_path, "--record-checksums")) == 0
    out = capsys.readouterr().out
    assert f"pg12.txt (Persuasion Synthetic): downloaded; no pin, recorded sha256 {digests[12]}" in out
    assert "trust on first use" in out
    assert {b.ebook: b.sha256 for b in gb.read_book_list(sources)[1]} == digests
    # now pinned: the next run needs no flag and downloads nothing
    before = len(requests)
    assert bc.main(fetch_args(tmp_path)) == 0
    assert len(requests) == before


def test_fetch_reports_a_missing_book(tmp_path, gutenberg, capsys):
    base, _, _ = gutenberg
    books = {**BOOKS, 99: ("mobydick", "Not There", [])}
    book_list(tmp_path / "sources.json", base, {}, books)
    assert bc.main(fetch_args(tmp_path, "--record-checksums")) == 1
    line = one_error_line(capsys.readouterr().err)
    assert line.startswith(f"error: {base}/99/pg99.txt: HTTP 404") and "--prepare-from DIR reads local" in line


def test_fetch_offline_says_so(tmp_path, capsys):
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    book_list(tmp_path / "sources.json", f"http://127.0.0.1:{port}", dict.fromkeys(BOOKS, "a" * 64))
    assert bc.main(fetch_args(tmp_path)) == 1
    line = one_error_line(capsys.readouterr().err)
    assert line.startswith(f"error: cannot reach http://127.0.0.1:{port}/11/pg11.txt (")
    assert "offline? --prepare-from DIR reads local one-sentence-per-line files instead" in line


def test_fetch_gives_up_after_the_timeout(tmp_path, capsys):
    import socket

    with socket.socket() as s:  # listens, never answers: the connection is made, the response never comes
        s.bind(("127.0.0.1", 0))
        s.listen()
        base = f"http://127.0.0.1:{s.getsockname()[1]}"
        book_list(tmp_path / "sources.json", base, dict.fromkeys(BOOKS, "a" * 64))
        assert bc.main([*fetch_args(tmp_path), "--timeout", "0.5"]) == 1
    line = one_error_line(capsys.readouterr().err)
    assert line.startswith(f"error: cannot reach {base}/11/pg11.txt (") and "timed out" in line

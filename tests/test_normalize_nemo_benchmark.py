"""The peer benchmark (NeMo's English text-normalization test cases, issue #26): at least 92 % exact
on the clear cases and at least 85 % in every category. The data and the scorer stay outside the
repository, in ../shared/benchmarks/nemo_tn/; the test is skipped when they are not there."""

import importlib.util
from pathlib import Path

import pytest

from frontend import normalize

SCORER = Path(__file__).resolve().parents[2] / "shared" / "benchmarks" / "nemo_tn" / "score.py"


@pytest.fixture(scope="module")
def scorer():
    if not SCORER.exists():
        pytest.skip(f"{SCORER} not present")
    pytest.importorskip("jiwer")
    spec = importlib.util.spec_from_file_location("nemo_tn_score", SCORER)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_nemo_benchmark_clear_cases(scorer):
    by_category: dict[str, list[bool]] = {}
    for category, written, expected in scorer.load_cases():
        if (category, written) in scorer.QUESTIONABLE:
            continue
        refs: set[str] = set()
        for reading in expected:
            refs |= scorer.variants(reading, written)
        ok, _ = scorer.score(scorer.run(normalize, written), refs)
        by_category.setdefault(category, []).append(ok)
    every = [ok for results in by_category.values() for ok in results]
    assert sum(every) / len(every) >= 0.92
    low = {c: round(sum(r) / len(r), 3) for c, r in by_category.items() if sum(r) / len(r) < 0.85}
    assert not low

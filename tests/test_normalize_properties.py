"""Properties of the normalizer over arbitrary text (hypothesis, bounded example counts)."""

import re
import sys

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from frontend import normalize, text_to_sequence
from frontend.normalize import ARPABET_BLOCK
from frontend.symbols import symbols

_written = st.text(
    alphabet=st.sampled_from(list("0123456789 .,:;!?-/$£€%°'\"()&#@+=xXaAbBcCdDeEmMsStTvVIiLlKkgGpPnNwW{}\n")),
    max_size=60,
)
_any_text = st.one_of(st.text(max_size=200), _written)
_SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@_SETTINGS
@given(_any_text, st.sampled_from(["mdy", "dmy"]))
def test_normalize_returns_a_string_or_raises_value_error(text, date_order):
    try:
        out = normalize(text, date_order=date_order)
    except ValueError:
        return
    assert isinstance(out, str)
    assert not re.search(r"\d", ARPABET_BLOCK.sub(" ", out))


@_SETTINGS
@given(_any_text)
def test_text_to_sequence_yields_only_valid_ids(text):
    try:
        ids = text_to_sequence(text)
    except ValueError:  # NothingToSay, malformed ARPAbet
        return
    assert ids and all(isinstance(i, int) and 0 <= i < len(symbols) == 148 for i in ids)


_digit_free = st.text(alphabet=st.characters(blacklist_categories=("Nd", "No", "Nl", "Cs")), max_size=80)


def _digit_rules():
    package = sys.modules["frontend.normalize"]  # the package (the name `frontend.normalize` is the function)
    return [rule for order in ("mdy", "dmy") for rule in package._PIPELINES[order][0]
            if getattr(rule, "needs_digit", False)]


@_SETTINGS
@given(st.one_of(_digit_free, _written.map(lambda t: re.sub(r"\d", "", t))))
def test_rules_marked_needs_digit_leave_text_without_digits_alone(text):
    """`normalize` skips these rules for text without digits; they must indeed never change it."""
    for rule in _digit_rules():
        assert rule(text) == text

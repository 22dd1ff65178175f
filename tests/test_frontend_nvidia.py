"""frontend.nvidia: exact reproduction of NVIDIA Tacotron 2's english_cleaners + text_to_sequence.

Every expectation in NVIDIA_CASES was produced by running NVIDIA's own code, unchanged:
NVIDIA/tacotron2 commit 185cd24e046cc1304b4f8e564734d2498c6e2e6f, text/ (cleaners.py, numbers.py,
__init__.py), with `text_to_sequence(text, ['english_cleaners'])` on CPython 3.13.0 and on 3.11.7
(inflect 7.6.0, Unidecode 1.4.0). The two agree except for a literal "_", which NVIDIA's
`is not '_'` test keeps (id 0) on CPython 3.11/3.12 only; the ids below are the intended behaviour
(3.13, also 3.6-3.10), which frontend.nvidia follows on every Python.
"""

from concurrent.futures import ThreadPoolExecutor

import inflect
import pytest

import frontend
from frontend.nvidia import english_cleaners, nvidia_text_to_sequence

# (input, english_cleaners(input), text_to_sequence(input, ['english_cleaners'])) from NVIDIA's code.
NVIDIA_CASES = [
    ('Dr. Smith lives at 221B Baker St. with Mrs. Hudson.',
     'doctor smith lives at two hundred twenty-oneb baker saint with misess hudson.',
     [41, 52, 40, 57, 52, 55, 11, 56, 50, 46, 57, 45, 11, 49, 46, 59, 42, 56, 11, 38, 57, 11, 57, 60, 52, 11,
      45, 58, 51, 41, 55, 42, 41, 11, 57, 60, 42, 51, 57, 62, 1, 52, 51, 42, 39, 11, 39, 38, 48, 42, 55, 11,
      56, 38, 46, 51, 57, 11, 60, 46, 57, 45, 11, 50, 46, 56, 42, 56, 56, 11, 45, 58, 41, 56, 52, 51, 7]),
    ("It cost $3.50, or £2, in 1995; now it's $1,000,000.01!",
     "it cost three dollars, fifty cents, or pstwo, in nineteen ninety-five; now it's one million dollars, one cent!",
     [46, 57, 11, 40, 52, 56, 57, 11, 57, 45, 55, 42, 42, 11, 41, 52, 49, 49, 38, 55, 56, 6, 11, 43, 46, 43,
      57, 62, 11, 40, 42, 51, 57, 56, 6, 11, 52, 55, 11, 53, 56, 57, 60, 52, 6, 11, 46, 51, 11, 51, 46, 51,
      42, 57, 42, 42, 51, 11, 51, 46, 51, 42, 57, 62, 1, 43, 46, 59, 42, 9, 11, 51, 52, 60, 11, 46, 57, 3, 56,
      11, 52, 51, 42, 11, 50, 46, 49, 49, 46, 52, 51, 11, 41, 52, 49, 49, 38, 55, 56, 6, 11, 52, 51, 42, 11,
      40, 42, 51, 57, 2]),
    ('1990s',
     'nineteen ninetys',
     [51, 46, 51, 42, 57, 42, 42, 51, 11, 51, 46, 51, 42, 57, 62, 56]),
    ('Café “quotes” ‘single’ — en–dash… Straße 北京 東京',
     'cafe "quotes" \'single\' -- en-dash... strasse bei jing dong jing ',
     [40, 38, 43, 42, 11, 54, 58, 52, 57, 42, 56, 11, 3, 56, 46, 51, 44, 49, 42, 3, 11, 1, 1, 11, 42, 51, 1,
      41, 38, 56, 45, 7, 7, 7, 11, 56, 57, 55, 38, 56, 56, 42, 11, 39, 42, 46, 11, 47, 46, 51, 44, 11, 41, 52,
      51, 44, 11, 47, 46, 51, 44, 11]),
    ('a % b',
     'a % b',
     [38, 11, 11, 39]),
    ('12345',
     'twelve thousand, three hundred forty-five',
     [57, 60, 42, 49, 59, 42, 11, 57, 45, 52, 58, 56, 38, 51, 41, 6, 11, 57, 45, 55, 42, 42, 11, 45, 58, 51,
      41, 55, 42, 41, 11, 43, 52, 55, 57, 62, 1, 43, 46, 59, 42]),
    ('3.14159',
     'three point fourteen thousand, one hundred fifty-nine',
     [57, 45, 55, 42, 42, 11, 53, 52, 46, 51, 57, 11, 43, 52, 58, 55, 57, 42, 42, 51, 11, 57, 45, 52, 58, 56,
      38, 51, 41, 6, 11, 52, 51, 42, 11, 45, 58, 51, 41, 55, 42, 41, 11, 43, 46, 43, 57, 62, 1, 51, 46, 51,
      42]),
    ('101st',
     'one hundred and first',
     [52, 51, 42, 11, 45, 58, 51, 41, 55, 42, 41, 11, 38, 51, 41, 11, 43, 46, 55, 56, 57]),
    ('2000',
     'two thousand',
     [57, 60, 52, 11, 57, 45, 52, 58, 56, 38, 51, 41]),
    ('2005',
     'two thousand five',
     [57, 60, 52, 11, 57, 45, 52, 58, 56, 38, 51, 41, 11, 43, 46, 59, 42]),
    ('1900',
     'nineteen hundred',
     [51, 46, 51, 42, 57, 42, 42, 51, 11, 45, 58, 51, 41, 55, 42, 41]),
    ('1234',
     'twelve thirty-four',
     [57, 60, 42, 49, 59, 42, 11, 57, 45, 46, 55, 57, 62, 1, 43, 52, 58, 55]),
    ('$1',
     'one dollar',
     [52, 51, 42, 11, 41, 52, 49, 49, 38, 55]),
    ('$0.01',
     'one cent',
     [52, 51, 42, 11, 40, 42, 51, 57]),
    ('$1.2.3',
     'one point two.three dollars',
     [52, 51, 42, 11, 53, 52, 46, 51, 57, 11, 57, 60, 52, 7, 57, 45, 55, 42, 42, 11, 41, 52, 49, 49, 38, 55,
      56]),
    ('  leading and trailing  ',
     ' leading and trailing ',
     [11, 49, 42, 38, 41, 46, 51, 44, 11, 38, 51, 41, 11, 57, 55, 38, 46, 49, 46, 51, 44, 11]),
    ('{HH AW1 S T AH0 N}',
     '{hh awone s t ahzero n}',
     [106, 82, 131, 133, 73, 119]),
    ('{hh aw1}',
     '{hh awone}',
     []),
    ('{HH AW1 XX}',
     '{hh awone xx}',
     [106, 82]),
    ('Turn left on {HH AW1 S T AH0 N} Street, then {W EH1 S T} again.',
     'turn left on {hh awone s t ahzero n} street, then {w ehone s t} again.',
     [57, 58, 55, 51, 11, 49, 42, 43, 57, 11, 52, 51, 11, 106, 82, 131, 133, 73, 119, 11, 56, 57, 55, 42, 42,
      57, 6, 11, 57, 45, 42, 51, 11, 144, 94, 131, 133, 11, 38, 44, 38, 46, 51, 7]),
    ('snake_case_name',
     'snake_case_name',
     [56, 51, 38, 48, 42, 40, 38, 56, 42, 51, 38, 50, 42]),
    ('$0',
     'zero dollars',
     [63, 42, 55, 52, 11, 41, 52, 49, 49, 38, 55, 56]),
    ('$0.00',
     'zero dollars',
     [63, 42, 55, 52, 11, 41, 52, 49, 49, 38, 55, 56]),
    ('$.50',
     'fifty cents',
     [43, 46, 43, 57, 62, 11, 40, 42, 51, 57, 56]),
    ('$1.00',
     'one dollar',
     [52, 51, 42, 11, 41, 52, 49, 49, 38, 55]),
    ('$2.01',
     'two dollars, one cent',
     [57, 60, 52, 11, 41, 52, 49, 49, 38, 55, 56, 6, 11, 52, 51, 42, 11, 40, 42, 51, 57]),
    ('$12,345.67',
     'twelve thousand, three hundred forty-five dollars, sixty-seven cents',
     [57, 60, 42, 49, 59, 42, 11, 57, 45, 52, 58, 56, 38, 51, 41, 6, 11, 57, 45, 55, 42, 42, 11, 45, 58, 51,
      41, 55, 42, 41, 11, 43, 52, 55, 57, 62, 1, 43, 46, 59, 42, 11, 41, 52, 49, 49, 38, 55, 56, 6, 11, 56,
      46, 61, 57, 62, 1, 56, 42, 59, 42, 51, 11, 40, 42, 51, 57, 56]),
    ('1,5',
     'fifteen',
     [43, 46, 43, 57, 42, 42, 51]),
    ('1000 1001 2019 2100 2500 2999 3000',
     'one thousand ten oh one twenty nineteen twenty-one hundred twenty-five hundred '
     'twenty-nine ninety-nine three thousand',
     [52, 51, 42, 11, 57, 45, 52, 58, 56, 38, 51, 41, 11, 57, 42, 51, 11, 52, 45, 11, 52, 51, 42, 11, 57, 60,
      42, 51, 57, 62, 11, 51, 46, 51, 42, 57, 42, 42, 51, 11, 57, 60, 42, 51, 57, 62, 1, 52, 51, 42, 11, 45,
      58, 51, 41, 55, 42, 41, 11, 57, 60, 42, 51, 57, 62, 1, 43, 46, 59, 42, 11, 45, 58, 51, 41, 55, 42, 41,
      11, 57, 60, 42, 51, 57, 62, 1, 51, 46, 51, 42, 11, 51, 46, 51, 42, 57, 62, 1, 51, 46, 51, 42, 11, 57,
      45, 55, 42, 42, 11, 57, 45, 52, 58, 56, 38, 51, 41]),
    ('1000000 1234567',
     'one million one million, two hundred thirty-four thousand, five hundred sixty-seven',
     [52, 51, 42, 11, 50, 46, 49, 49, 46, 52, 51, 11, 52, 51, 42, 11, 50, 46, 49, 49, 46, 52, 51, 6, 11, 57,
      60, 52, 11, 45, 58, 51, 41, 55, 42, 41, 11, 57, 45, 46, 55, 57, 62, 1, 43, 52, 58, 55, 11, 57, 45, 52,
      58, 56, 38, 51, 41, 6, 11, 43, 46, 59, 42, 11, 45, 58, 51, 41, 55, 42, 41, 11, 56, 46, 61, 57, 62, 1,
      56, 42, 59, 42, 51]),
    ('0 007 0th 1st 2nd 3rd 4th 11th 12th 13th 21st 112th',
     'zero seven zeroth first second third fourth eleventh twelfth thirteenth twenty-first one hundred and twelfth',
     [63, 42, 55, 52, 11, 56, 42, 59, 42, 51, 11, 63, 42, 55, 52, 57, 45, 11, 43, 46, 55, 56, 57, 11, 56, 42,
      40, 52, 51, 41, 11, 57, 45, 46, 55, 41, 11, 43, 52, 58, 55, 57, 45, 11, 42, 49, 42, 59, 42, 51, 57, 45,
      11, 57, 60, 42, 49, 43, 57, 45, 11, 57, 45, 46, 55, 57, 42, 42, 51, 57, 45, 11, 57, 60, 42, 51, 57, 62,
      1, 43, 46, 55, 56, 57, 11, 52, 51, 42, 11, 45, 58, 51, 41, 55, 42, 41, 11, 38, 51, 41, 11, 57, 60, 42,
      49, 43, 57, 45]),
    ('3.14.15',
     'three point fourteen.fifteen',
     [57, 45, 55, 42, 42, 11, 53, 52, 46, 51, 57, 11, 43, 52, 58, 55, 57, 42, 42, 51, 7, 43, 46, 43, 57, 42,
      42, 51]),
    ('Mr. and Mrs. Jones met Dr Who and Drs. Lee at St. Louis vs. Mt. Everest etc.',
     'mister and misess jones met dr who and doctors lee at saint louis vs. mt. everest etc.',
     [50, 46, 56, 57, 42, 55, 11, 38, 51, 41, 11, 50, 46, 56, 42, 56, 56, 11, 47, 52, 51, 42, 56, 11, 50, 42,
      57, 11, 41, 55, 11, 60, 45, 52, 11, 38, 51, 41, 11, 41, 52, 40, 57, 52, 55, 56, 11, 49, 42, 42, 11, 38,
      57, 11, 56, 38, 46, 51, 57, 11, 49, 52, 58, 46, 56, 11, 59, 56, 7, 11, 50, 57, 7, 11, 42, 59, 42, 55,
      42, 56, 57, 11, 42, 57, 40, 7]),
    ('Capt. Hook, Lt. Dan, Sgt. Pepper, Maj. Gen. Col. Rev. Hon. Jr. Esq. Co. Ltd. Ft. Worth',
     'captain hook, lieutenant dan, sergeant pepper, major general colonel reverend honorable junior esquire '
     'company limited fort worth',
     [40, 38, 53, 57, 38, 46, 51, 11, 45, 52, 52, 48, 6, 11, 49, 46, 42, 58, 57, 42, 51, 38, 51, 57, 11, 41,
      38, 51, 6, 11, 56, 42, 55, 44, 42, 38, 51, 57, 11, 53, 42, 53, 53, 42, 55, 6, 11, 50, 38, 47, 52, 55,
      11, 44, 42, 51, 42, 55, 38, 49, 11, 40, 52, 49, 52, 51, 42, 49, 11, 55, 42, 59, 42, 55, 42, 51, 41, 11,
      45, 52, 51, 52, 55, 38, 39, 49, 42, 11, 47, 58, 51, 46, 52, 55, 11, 42, 56, 54, 58, 46, 55, 42, 11, 40,
      52, 50, 53, 38, 51, 62, 11, 49, 46, 50, 46, 57, 42, 41, 11, 43, 52, 55, 57, 11, 60, 52, 55, 57, 45]),
    ('MR. SMITH AND DR. JONES',
     'mister smith and doctor jones',
     [50, 46, 56, 57, 42, 55, 11, 56, 50, 46, 57, 45, 11, 38, 51, 41, 11, 41, 52, 40, 57, 52, 55, 11, 47, 52,
      51, 42, 56]),
    ('Dr. Smith paid $3.50 on Jan 5, 2021 at 10:30 a.m.',
     'doctor smith paid three dollars, fifty cents on jan five, twenty twenty-one at ten:thirty a.m.',
     [41, 52, 40, 57, 52, 55, 11, 56, 50, 46, 57, 45, 11, 53, 38, 46, 41, 11, 57, 45, 55, 42, 42, 11, 41, 52,
      49, 49, 38, 55, 56, 6, 11, 43, 46, 43, 57, 62, 11, 40, 42, 51, 57, 56, 11, 52, 51, 11, 47, 38, 51, 11,
      43, 46, 59, 42, 6, 11, 57, 60, 42, 51, 57, 62, 11, 57, 60, 42, 51, 57, 62, 1, 52, 51, 42, 11, 38, 57,
      11, 57, 42, 51, 8, 57, 45, 46, 55, 57, 62, 11, 38, 7, 50, 7]),
    ('It costs €20 or ¥300 or £5,000.',
     'it costs eurtwenty or y=three hundred or psfive thousand.',
     [46, 57, 11, 40, 52, 56, 57, 56, 11, 42, 58, 55, 57, 60, 42, 51, 57, 62, 11, 52, 55, 11, 62, 57, 45, 55,
      42, 42, 11, 45, 58, 51, 41, 55, 42, 41, 11, 52, 55, 11, 53, 56, 43, 46, 59, 42, 11, 57, 45, 52, 58, 56,
      38, 51, 41, 7]),
    ('The 21st century; 1999 and 2005; 3.14; -7; 50%',
     'the twenty-first century; nineteen ninety-nine and two thousand five; three point fourteen; -seven; fifty%',
     [57, 45, 42, 11, 57, 60, 42, 51, 57, 62, 1, 43, 46, 55, 56, 57, 11, 40, 42, 51, 57, 58, 55, 62, 9, 11,
      51, 46, 51, 42, 57, 42, 42, 51, 11, 51, 46, 51, 42, 57, 62, 1, 51, 46, 51, 42, 11, 38, 51, 41, 11, 57,
      60, 52, 11, 57, 45, 52, 58, 56, 38, 51, 41, 11, 43, 46, 59, 42, 9, 11, 57, 45, 55, 42, 42, 11, 53, 52,
      46, 51, 57, 11, 43, 52, 58, 55, 57, 42, 42, 51, 9, 11, 1, 56, 42, 59, 42, 51, 9, 11, 43, 46, 43, 57, 62]),
    ('Call 555-1234. Version 2.0.1',
     'call five hundred fifty-five-twelve thirty-four. version two point zero.one',
     [40, 38, 49, 49, 11, 43, 46, 59, 42, 11, 45, 58, 51, 41, 55, 42, 41, 11, 43, 46, 43, 57, 62, 1, 43, 46,
      59, 42, 1, 57, 60, 42, 49, 59, 42, 11, 57, 45, 46, 55, 57, 62, 1, 43, 52, 58, 55, 7, 11, 59, 42, 55, 56,
      46, 52, 51, 11, 57, 60, 52, 11, 53, 52, 46, 51, 57, 11, 63, 42, 55, 52, 7, 52, 51, 42]),
    ('He arrived at 7:05pm, on 12/25/2023.',
     'he arrived at seven:fivepm, on twelve/twenty-five/twenty twenty-three.',
     [45, 42, 11, 38, 55, 55, 46, 59, 42, 41, 11, 38, 57, 11, 56, 42, 59, 42, 51, 8, 43, 46, 59, 42, 53, 50,
      6, 11, 52, 51, 11, 57, 60, 42, 49, 59, 42, 57, 60, 42, 51, 57, 62, 1, 43, 46, 59, 42, 57, 60, 42, 51,
      57, 62, 11, 57, 60, 42, 51, 57, 62, 1, 57, 45, 55, 42, 42, 7]),
    ('Hello, World! (Yes?) It\'s: fine; ok - "quoted" & #tag @me ~tilde',
     'hello, world! (yes?) it\'s: fine; ok - "quoted" & #tag @me ~tilde',
     [45, 42, 49, 49, 52, 6, 11, 60, 52, 55, 49, 41, 2, 11, 4, 62, 42, 56, 10, 5, 11, 46, 57, 3, 56, 8, 11,
      43, 46, 51, 42, 9, 11, 52, 48, 11, 1, 11, 54, 58, 52, 57, 42, 41, 11, 11, 57, 38, 44, 11, 50, 42, 11,
      57, 46, 49, 41, 42]),
    ('line one\n\tline two\r\n  end',
     'line one line two end',
     [49, 46, 51, 42, 11, 52, 51, 42, 11, 49, 46, 51, 42, 11, 57, 60, 52, 11, 42, 51, 41]),
    ('{HH AY1} there\nand more',
     '{hh ayone} there and more',
     [106, 86, 11, 57, 45, 42, 55, 42]),
    ('first line\n{HH AY1}',
     'first line {hh ayone}',
     [43, 46, 55, 56, 57, 11, 49, 46, 51, 42, 11, 45, 45, 11, 38, 62, 52, 51, 42]),
    ('a {} b',
     'a {} b',
     [38, 11, 11, 39]),
    ('{ }',
     '{ }',
     []),
    ('',
     '',
     []),
    ('{HH} {AY1}',
     '{hh} {ayone}',
     [106, 11, 86]),
    ('x{HH}y',
     'x{hh}y',
     [61, 106, 62]),
    ('{HH AW1 S T AH0 N',
     '{hh awone s t ahzero n',
     [45, 45, 11, 38, 60, 52, 51, 42, 11, 56, 11, 57, 11, 38, 45, 63, 42, 55, 52, 11, 51]),
    ('a\xa0b\u2003c',
     'a b c',
     [38, 11, 39, 11, 40]),
    ('$ 5',
     '$ five',
     [11, 43, 46, 59, 42]),
    ('1.5th',
     'one point fifth',
     [52, 51, 42, 11, 53, 52, 46, 51, 57, 11, 43, 46, 43, 57, 45]),
]


@pytest.mark.parametrize("text, cleaned, ids", NVIDIA_CASES, ids=[repr(c[0])[:40] for c in NVIDIA_CASES])
def test_reproduces_nvidia(text, cleaned, ids):
    assert english_cleaners(text) == cleaned
    assert nvidia_text_to_sequence(text) == ids


def test_pad_and_tilde_are_dropped_on_every_python():
    # NVIDIA's intended _should_keep_symbol, not the CPython 3.11/3.12 accident that keeps "_" as id 0.
    assert nvidia_text_to_sequence("a_b~c") == [38, 39, 40]
    assert nvidia_text_to_sequence("_") == []


def test_no_eos_and_empty_allowed():
    assert nvidia_text_to_sequence("a") == [38]
    assert nvidia_text_to_sequence("%&#") == []
    assert nvidia_text_to_sequence("{XX YY}") == []


def test_fails_where_nvidia_fails():
    # NVIDIA's _expand_dollars calls int(",5") and raises ValueError; so do we, with a clearer message.
    with pytest.raises(ValueError, match="cannot read the amount"):
        english_cleaners("$,5")
    with pytest.raises(ValueError, match="cannot read the amount"):
        nvidia_text_to_sequence("pay $1.,5 now")
    # Beyond inflect's scale names NVIDIA's code raises inflect's error; it passes through unchanged.
    with pytest.raises(inflect.NumOutOfRangeError):
        english_cleaners("1" * 40)


def test_threads_do_not_mix_up_inflect_arguments():
    # number_to_words keeps its andword/zero arguments on the engine during a call.
    texts = ["1001", "101st", "12345", "3.05", "$2.01", "2019"] * 50
    serial = [english_cleaners(t) for t in texts]
    with ThreadPoolExecutor(4) as pool:
        assert list(pool.map(english_cleaners, texts)) == serial


def test_project_default_is_unchanged():
    # The project's normalizer stays the default and keeps its own readings.
    assert frontend.normalize("$12.50") == "twelve dollars and fifty cents"
    assert frontend.text_to_sequence("$12.50") == frontend.text_to_sequence(
        "twelve dollars and fifty cents", normalize=False
    )
    assert frontend.text_to_sequence("$12.50") == [
        57, 60, 42, 49, 59, 42, 11, 41, 52, 49, 49, 38, 55, 56, 11, 38, 51, 41, 11, 43, 46, 43, 57, 62, 11,
        40, 42, 51, 57, 56,
    ]
    assert frontend.normalize("12345") == "twelve thousand three hundred forty-five"
    # ...while the NVIDIA reproduction gives NVIDIA's readings.
    assert english_cleaners("$12.50") == "twelve dollars, fifty cents"
    assert nvidia_text_to_sequence("$12.50") != frontend.text_to_sequence("$12.50")

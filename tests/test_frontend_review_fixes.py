"""Readings a reviewer found wrong in `normalize` / `split_sentences`, with what a reader says."""

import pytest

from frontend import normalize, split_sentences
from frontend.normalize import pronounceable

FIXES = {
    "year after a determiner": [
        ("a 2019 study found", "a twenty nineteen study found"),
        ("the 1918 flu pandemic", "the nineteen eighteen flu pandemic"),
        ("his 1995 album", "his nineteen ninety-five album"),
        ("the 2008 financial crisis", "the two thousand eight financial crisis"),
        ("their 2016 census data", "their twenty sixteen census data"),
        # a plural noun after it keeps the count (the documented trade-off)
        ("the 1500 people", "the one thousand five hundred people"),
        ("his 1200 soldiers", "his one thousand two hundred soldiers"),
        ("1234 apples", "one thousand two hundred thirty-four apples"),
    ],
    "money ranges": [
        ("$3-4 million", "three to four million dollars"),
        ("$1.5-2 billion", "one point five to two billion dollars"),
        ("costs $20-30", "costs twenty to thirty dollars"),
        ("$5-10", "five to ten dollars"),
        ("$3.50-4.50", "three dollars and fifty cents to four dollars and fifty cents"),
        ("$10-$20", "ten dollars to twenty dollars"),
        ("10-20", "ten to twenty"),
    ],
    "time and date ranges": [
        ("5-7 pm", "five to seven p m"),
        ("9am-5pm", "nine a m to five p m"),
        ("9:00-17:00", "nine o'clock to seventeen hundred"),
        ("9:30-11", "nine thirty to eleven"),
        ("June 1-5", "june first to fifth"),
        ("May 3-5, 2021", "may third to fifth, twenty twenty-one"),
        ("Mon-Fri", "monday to friday"),
        ("Open Monday-Friday.", "open monday to friday."),
        ("They won 2-1.", "they won two to one."),
    ],
    "magnitudes without currency": [
        ("5M users", "five million users"),
        ("Revenue hit 3bn", "revenue hit three billion"),
        ("1.5M downloads", "one point five million downloads"),
        ("a 10K run", "a ten k run"),
        ("$5M", "five million dollars"),
        ("221B Baker Street", "two hundred twenty-one b baker street"),
    ],
    "all-caps words": [
        ("STOCKS FALL", "stocks fall"),
        ("WORKS", "works"),
        ("FACTS", "facts"),
        ("STRENGTH", "strength"),
        ("FBI", "f b i"),
        ("USA", "u s a"),
        ("IBM", "i b m"),
        ("NASA", "nasa"),
        ("NATO", "nato"),
    ],
    "unit as an adjective": [
        ("a $20 bill", "a twenty dollar bill"),
        ("a 5 km run", "a five kilometer run"),
        ("a $1.2 million deal", "a one point two million dollar deal"),
        ("an 8 hour shift", "an eight hour shift"),
        ("it costs $20", "it costs twenty dollars"),
        ("a 5 km or 10 km run", "a five kilometers or ten kilometers run"),
    ],
    "lists and bullets": [
        ("* bullet\n* bullet two", "bullet. bullet two"),
        ("1. Apples\n2. Oranges", "one, apples. two, oranges"),
        ("Shopping list:\n1. Apples\n2) Oranges", "shopping list: one, apples. two, oranges"),
        ("- bullet item", "bullet item"),
        ("5 * 4", "five times four"),
    ],
    "duplicated currency": [
        ("$10 USD", "ten dollars"),
        ("USD $10", "ten dollars"),
        ("$10 CAD", "ten canadian dollars"),
        ("100 USD", "one hundred dollars"),
    ],
    "roman numerals": [
        ("Charles I was executed", "charles the first was executed"),
        ("Elizabeth I was a queen", "elizabeth the first was a queen"),
        ("Rocky II", "rocky two"),
        ("Star Trek II", "star trek two"),
        ("King Tut II", "king tut the second"),
        ("Henry VIII", "henry the eighth"),
        ("World War II", "world war two"),
        ("Louis XIV", "louis the fourteenth"),
        ("Chapter XII", "chapter twelve"),
        ("Super Bowl LVII", "super bowl fifty-seven"),
        ("Henry I think", "henry i think"),
        ("Charles, I was late", "charles, i was late"),
    ],
    "feet and inches": [
        ("He is 6' tall.", "he is six feet tall."),
        ('a 12" pizza', "a twelve inch pizza"),
        ("a 6' fence", "a six foot fence"),
        ("5'10\"", "five feet ten inches"),
        ('He said "12" twice', "he said twelve twice"),
    ],
    "arpabet after a title": [
        ("Dr. {S M IH1 TH}", "doctor {S M IH1 TH}"),
        ("Thank you, Dr. {S M IH1 TH}.", "thank you, doctor {S M IH1 TH}."),
        ("Hello. {HH AH0 L OW1}", "hello. {HH AH0 L OW1}"),
    ],
    "month abbreviations": [
        ("Sales rose in Jan. and Feb.", "sales rose in january and february."),
        ("from Sept. to Dec.", "from september to december."),
        ("I met Jan. Then we left.", "i met jan. then we left."),
    ],
}
TABLE = [(category, raw, expected) for category, rows in FIXES.items() for raw, expected in rows]


@pytest.mark.parametrize("category, raw, expected", TABLE, ids=[f"{c}:{r}" for c, r, _ in TABLE])
def test_reading(category, raw, expected):
    assert normalize(raw) == expected


@pytest.mark.parametrize("word, expected", [("STOCKS", True), ("WORKS", True), ("FACTS", True), ("STRENGTH", True),
                                            ("STRENGTHS", True), ("ABCS", False), ("ISBN", False)])
def test_pronounceable_consonant_clusters(word, expected):
    assert pronounceable(word) is expected


def test_numbered_list_lines_are_chunks_not_sentence_ends():
    text = "Shopping list:\n1. Apples\n2. Oranges\n3. Milk"
    assert split_sentences(text) == ["Shopping list:", "1. Apples", "2. Oranges", "3. Milk"]


def test_bullet_lines_are_chunks():
    assert split_sentences("Todo:\n* eggs\n* milk") == ["Todo:", "* eggs", "* milk"]


def test_a_number_ending_a_sentence_still_ends_it():
    assert split_sentences("It was 5. Then we left.") == ["It was 5.", "Then we left."]

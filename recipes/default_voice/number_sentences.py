"""Everyday sentences with numbers, money, times, dates and units, for the default voice's corpus.

The book sentences (Austen, Melville) hold no digits at all, so a voice trained on them alone has
never heard "eighty-four dollars and twenty cents" or "a quarter past seven": it mumbles the number
words a user types most (held-out WER of the shipped voice on the 15 hand-written `own` sentences:
9.9 %, its teacher's 0.7 %). These templates put the written forms the frontend verbalizes (digits,
currency, clock times, dates, ordinals, percentages, units, abbreviations) into plain modern carrier
sentences. Deterministic: the same seed writes the same file.

    python3 recipes/default_voice/build_corpus.py --prepare-extra-from ../shared/data
"""
from __future__ import annotations

import random
from collections.abc import Callable

NAMES = ("Maria", "James", "Priya", "Daniel", "Chen", "Olivia", "Ahmed", "Sofia", "Lucas", "Grace", "Noah", "Emma",
         "Kenji", "Fatima", "Oscar", "Hannah", "Mateo", "Chloe", "Ethan", "Zoe")
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December")
DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
ITEMS = ("jacket", "lamp", "bicycle", "ticket", "phone case", "coffee maker", "backpack", "textbook", "blender",
         "pair of boots", "desk chair", "concert pass", "haircut", "pizza", "train fare", "parking permit")
PLACES = ("the library", "the airport", "the dentist", "the office", "the gym", "the bakery", "the station",
          "the clinic", "the museum", "the bank", "the post office", "the market")
STREETS = ("Elm St.", "Oak Ave.", "Maple Rd.", "Pine St.", "Cedar Ln.", "Main St.", "Park Ave.", "Lake Dr.",
           "Hill Rd.", "River St.")
THINGS = ("people", "students", "emails", "boxes", "chairs", "apples", "pages", "votes", "tickets", "cars",
          "trees", "songs", "orders", "patients", "players", "windows")
LENGTHS = ("km", "miles", "meters", "feet", "yards")
WEIGHTS = ("kg", "pounds", "grams", "ounces", "tons")


def _money(r: random.Random) -> str:
    return f"${r.randint(1, 999)}.{r.randint(1, 99):02d}" if r.random() < 0.6 else f"${r.choice((5, 12, 40, 75, 150, 300, 1200, 2500))}"


def _clock(r: random.Random) -> str:
    return f"{r.randint(1, 12)}:{r.choice(('00', '05', '15', '20', '30', '45', '50'))} {r.choice(('a.m.', 'p.m.'))}"


def _date(r: random.Random) -> str:
    month, day, year = r.randrange(12), r.randint(1, 28), r.randint(1950, 2030)
    style = r.randrange(3)
    if style == 0:
        return f"{MONTHS[month]} {day}, {year}"
    if style == 1:
        return f"{month + 1}/{day}/{year}"
    return f"{MONTHS[month]} {day}"


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


TEMPLATES: tuple[Callable[[random.Random], str], ...] = (
    lambda r: f"The {r.choice(ITEMS)} cost {_money(r)} at the shop on {r.choice(DAYS)}.",
    lambda r: f"{r.choice(NAMES)} paid {_money(r)} for a {r.choice(ITEMS)} last week.",
    lambda r: f"Your total comes to {_money(r)}, including tax.",
    lambda r: f"We need to leave for {r.choice(PLACES)} by {_clock(r)}, at the latest.",
    lambda r: f"The meeting starts at {_clock(r)} on {r.choice(DAYS)}.",
    lambda r: f"Can you call me back after {r.randint(1, 12)} {r.choice(('a.m.', 'p.m.'))}?",
    lambda r: f"{r.choice(NAMES)} was born on {_date(r)}.",
    lambda r: f"The report is due on {_date(r)}, so please start early.",
    lambda r: f"Sales rose by {r.randint(2, 95)}% in the {_ordinal(r.randint(1, 4))} quarter.",
    lambda r: f"About {r.randint(1, 9)} in {r.randint(10, 20)} {r.choice(THINGS)} arrived late.",
    lambda r: f"There were {r.randint(11, 9999):,} {r.choice(THINGS)} at the event.",
    lambda r: f"{r.choice(NAMES)} lives at {r.randint(2, 999)} {r.choice(STREETS)}, near {r.choice(PLACES)}.",
    lambda r: f"Take the elevator to the {_ordinal(r.randint(2, 40))} floor and turn left.",
    lambda r: f"The trail is {r.randint(2, 60)}.{r.randint(1, 9)} {r.choice(LENGTHS)} long.",
    lambda r: f"It weighs {r.randint(2, 500)} {r.choice(WEIGHTS)}, give or take.",
    lambda r: f"The temperature dropped to {r.randint(-20, 40)}°{r.choice('CF')} overnight.",
    lambda r: f"In {r.randint(1900, 2030)}, the town had only {r.randint(200, 90000):,} residents.",
    lambda r: f"Dr. {r.choice(NAMES)} will see you in room {r.randint(100, 999)}.",
    lambda r: f"Flight {r.randint(10, 999)} boards at {_clock(r)} from gate {r.randint(1, 60)}.",
    lambda r: f"She finished {_ordinal(r.randint(1, 99))} out of {r.randint(100, 500)} runners.",
    lambda r: f"The recipe needs {r.randint(2, 9)} eggs and {r.randint(100, 900)} grams of flour.",
    lambda r: f"Mr. {r.choice(NAMES)} has worked here for {r.randint(2, 45)} years.",
    lambda r: f"Only {r.randint(1, 99)}.{r.randint(1, 9)}% of the {r.choice(THINGS)} were missing.",
    lambda r: f"The score was {r.randint(0, 9)} to {r.randint(0, 9)} at halftime.",
    lambda r: f"Chapter {r.randint(2, 40)} begins on page {r.randint(20, 800)}.",
    lambda r: f"The store opens at {r.randint(6, 11)} a.m. and closes at {r.randint(5, 11)} p.m.",
    lambda r: f"We drove {r.randint(20, 900)} miles in {r.randint(2, 14)} hours.",
    lambda r: f"The bill came to {_money(r)}, and we split it {r.randint(2, 8)} ways.",
)


def number_sentences(n: int, seed: int = 2026) -> list[str]:
    """`n` distinct sentences, the templates taken in turn with seeded fillers."""
    if n < 1:
        raise ValueError(f"need at least one sentence, got {n}")
    rng = random.Random(seed)
    out: list[str] = []
    seen: set[str] = set()
    attempts = 0
    while len(out) < n:
        attempts += 1
        if attempts > 50 * n:
            raise ValueError(f"only {len(out)} distinct sentences after {attempts} draws; ask for fewer")
        text = TEMPLATES[len(out) % len(TEMPLATES)](rng)
        if text not in seen:
            seen.add(text)
            out.append(text)
    return out

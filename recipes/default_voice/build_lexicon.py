"""Write the teacher's pronouncing dictionary as CMUdict-format ARPAbet (`frontend.arpabet`).

The teacher (Festival, `cmu_us_slt_arctic_hts`) reads words from the CMU lexicon that Debian ships
as `festlex-cmu` (`cmudict-0.4.out`, Festival's compiled form: `("word" pos (((ph ph) stress) ...))`)
plus the addenda in `cmulex.scm`, which Festival consults first. Giving the student the same phones
the teacher spoke takes English spelling out of what it has to learn. Festival's phones are CMUdict's
in lower case, with `ax` for the unstressed schwa (ARPAbet `AH0`); stress is per syllable and goes
on the syllable's vowel. A word with two different readings ("read", "does", "lives", "a" as the
article and as the letter) is left out: Festival picks among them by part of speech, which a lookup
cannot do, so the student reads such words from their letters (FastPitch's `ignore` policy for
ambiguous words). The addenda replace the main lexicon's entries, as in Festival.

    python3 recipes/default_voice/build_lexicon.py --out data/default_voice/lexicon.txt.gz

The CMU Pronouncing Dictionary is Carnegie Mellon University's, under a BSD-style licence
(`/usr/share/doc/festlex-cmu/copyright`); the written file keeps that notice, with its conditions, and
says what was changed, in its leading comment (the default voice ships the file).
"""
from __future__ import annotations

import argparse
import gzip
import re
import sys
from pathlib import Path

FESTIVAL_CMU = Path("/usr/share/festival/dicts/cmu")
VOWELS = frozenset(("aa", "ae", "ah", "ao", "aw", "ax", "axr", "ay", "eh", "er", "ey", "ih", "iy", "ow", "oy", "uh", "uw"))
RENAME = {"ax": "ah", "axr": "er"}
NOTICE = (
    "# The CMU Pronouncing Dictionary (Festival's cmudict-0.4 and cmulex.scm addenda), in ARPAbet.\n"
    "# Copyright (C) 1993-2015 Carnegie Mellon University. All rights reserved. Redistributed under\n"
    "# its BSD-style licence; converted from Festival's form by recipes/default_voice/build_lexicon.py.\n"
    "# Modified: Festival's phones written as CMUdict's (ax -> AH, axr -> ER), each syllable's stress on\n"
    "# its vowel; words with more than one reading, or with characters other than letters and\n"
    "# apostrophes, left out. Festival's lexicon, as Debian's festlex-cmu ships it\n"
    "# (/usr/share/doc/festlex-cmu/copyright), carries this notice:\n"
    "#\n"
    "#                 Centre for Speech Technology Research\n"
    "#                      University of Edinburgh, UK\n"
    "#                        Copyright (c) 1996,1997\n"
    "#                         All Rights Reserved.\n"
    "#\n"
    "#   Permission is hereby granted, free of charge, to use and distribute\n"
    "#   this software and its documentation without restriction, including\n"
    "#   without limitation the rights to use, copy, modify, merge, publish,\n"
    "#   distribute, sublicense, and/or sell copies of this work, and to\n"
    "#   permit persons to whom this work is furnished to do so, subject to\n"
    "#   the following conditions:\n"
    "#    1. The code must retain the above copyright notice, this list of\n"
    "#       conditions and the following disclaimer.\n"
    "#    2. Any modifications must be clearly marked as such.\n"
    "#    3. Original authors' names are not deleted.\n"
    "#    4. The authors' names are not used to endorse or promote products\n"
    "#       derived from this software without specific prior written\n"
    "#       permission.\n"
    "#\n"
    "#   THE UNIVERSITY OF EDINBURGH AND THE CONTRIBUTORS TO THIS WORK\n"
    "#   DISCLAIM ALL WARRANTIES WITH REGARD TO THIS SOFTWARE, INCLUDING\n"
    "#   ALL IMPLIED WARRANTIES OF MERCHANTABILITY AND FITNESS, IN NO EVENT\n"
    "#   SHALL THE UNIVERSITY OF EDINBURGH NOR THE CONTRIBUTORS BE LIABLE\n"
    "#   FOR ANY SPECIAL, INDIRECT OR CONSEQUENTIAL DAMAGES OR ANY DAMAGES\n"
    "#   WHATSOEVER RESULTING FROM LOSS OF USE, DATA OR PROFITS, WHETHER IN\n"
    "#   AN ACTION OF CONTRACT, NEGLIGENCE OR OTHER TORTIOUS ACTION,\n"
    "#   ARISING OUT OF OR IN CONNECTION WITH THE USE OR PERFORMANCE OF\n"
    "#   THIS SOFTWARE.\n"
)
_ENTRY = re.compile(r'^\s*\(\s*(?:lex\.add\.entry\s+\'\()?\s*"([^"]+)"\s+\S+\s+\((.*)\)\s*\)\s*\)?\s*\)?\s*$')
_SYLLABLE = re.compile(r"\(\(([a-z ]+)\)\s+([0-9])\)")
_WORD = re.compile(r"[a-z]+(?:'[a-z]+)*")


def syllables_to_arpabet(syllables: str) -> list[str]:
    """`((hh ax) 0) ((l ow) 1)` -> ["HH", "AH0", "L", "OW1"]."""
    phones = []
    for group, stress in _SYLLABLE.findall(syllables):
        for ph in group.split():
            name = RENAME.get(ph, ph).upper()
            phones.append(name + stress if ph in VOWELS else name)
    return phones


def festival_entries(lines) -> dict[str, set[tuple[str, ...]]]:
    """{word: its distinct readings} for the entries of Festival lexicon lines."""
    out: dict[str, set[tuple[str, ...]]] = {}
    for line in lines:
        m = _ENTRY.match(line)
        if not m:
            continue
        word = m.group(1).lower()
        phones = syllables_to_arpabet(m.group(2))
        if _WORD.fullmatch(word) and phones:
            out.setdefault(word, set()).add(tuple(phones))
    return out


def build(festival_dir: Path) -> tuple[dict[str, list[str]], int]:
    """({word: phones} of the words with one reading, how many words had more than one)."""
    addenda = festival_entries((festival_dir / "cmulex.scm").read_text(encoding="latin-1").splitlines())
    main = festival_entries((festival_dir / "cmudict-0.4.out").read_text(encoding="latin-1").splitlines())
    readings = {**main, **addenda}  # the addenda replace a word's entries, as in Festival
    single = {word: list(next(iter(r))) for word, r in readings.items() if len(r) == 1}
    return single, len(readings) - len(single)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--festival-dir", type=Path, default=FESTIVAL_CMU,
                   help=f"folder with cmudict-0.4.out and cmulex.scm (default: {FESTIVAL_CMU})")
    p.add_argument("--out", type=Path, required=True, help="the dictionary to write (.gz: compressed)")
    args = p.parse_args(argv)
    if not (args.festival_dir / "cmudict-0.4.out").is_file():
        print(f"error: {args.festival_dir}/cmudict-0.4.out not found (Debian package festlex-cmu)", file=sys.stderr)
        return 2
    entries, ambiguous = build(args.festival_dir)
    text = NOTICE + "".join(f"{w} {' '.join(ph)}\n" for w, ph in sorted(entries.items()))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    data = text.encode("utf-8")
    # mtime 0: the same dictionary gives the same bytes
    args.out.write_bytes(gzip.compress(data, compresslevel=9, mtime=0) if args.out.suffix == ".gz" else data)
    print(f"{len(entries)} words -> {args.out} ({args.out.stat().st_size / 1e6:.2f} MB); {ambiguous} words with "
          "more than one reading left out")
    return 0


if __name__ == "__main__":
    sys.exit(main())

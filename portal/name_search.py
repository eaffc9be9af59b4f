"""Names as searched: "jose" finds "José", "o'brien" finds "O’Brien-Smith", "MÜLLER" finds
"Müller", on SQLite as on MariaDB.

SQLite's LIKE folds only ASCII letters, so "сергей" missed "Сергей Иванов" and "jose" missed
"José Núñez"; a name typed decomposed ("Rene\u0301e") missed "Renée" everywhere (an audit of
names and languages). Each patient keeps its name folded here (`Patient.name_folded`, set
with the name) and searches fold the text typed the same way.
"""

from __future__ import annotations

import re
import unicodedata

FOLDED_CHARS = 240  # "ß" folds to "ss", a ligature to two letters: room to grow
# Marks dropped only on the scripts whose accents people leave out when they type (Latin,
# Greek, Cyrillic, and Vietnamese's Latin Extended Additional): an Indic vowel sign is part
# of the letter, not an accent.
ACCENTED_SCRIPTS = ((0x0000, 0x052F), (0x1E00, 0x1FFF))
# Latin letters with no decomposition to a base letter, spelled as people type them without
# the letter ("lukasz" for "Łukasz", "oyvind" for "Øyvind": an audit found them missed).
UNDECOMPOSED = str.maketrans(
    {"ł": "l", "Ł": "l", "đ": "d", "Đ": "d", "ø": "o", "Ø": "o", "æ": "ae", "Æ": "ae",
     "œ": "oe", "Œ": "oe", "þ": "th", "Þ": "th", "ð": "d", "Ð": "d", "ı": "i", "ħ": "h",
     "Ħ": "h", "ŀ": "l", "Ŀ": "l"}
)  # fmt: skip
# Apostrophes and hyphens (straight or typographic) separate the parts of a name.
SEPARATORS = re.compile(r"['\u2018\u2019\u02bc`\u00b4\-\u2010\u2011\u2012\u2013\u2014\s]+")


def folded(text: str) -> str:
    """`text` without case, accents (`ACCENTED_SCRIPTS`) or separators between name parts:
    "O’Brien-Smith, José" -> "o brien smith, jose"."""
    kept: list[str] = []
    base = 0
    for character in unicodedata.normalize("NFKD", text.translate(UNDECOMPOSED)):
        if unicodedata.combining(character):
            if any(low <= base <= high for low, high in ACCENTED_SCRIPTS):
                continue
        else:
            base = ord(character)
        kept.append(character)
    bare = unicodedata.normalize("NFC", "".join(kept)).casefold()
    return " ".join(SEPARATORS.sub(" ", bare).split())[:FOLDED_CHARS]


def name_words(text: str) -> str:
    """The name's parts in their order, folded: "JOSÉ  María López" is "jose maria lopez", the
    same name, while "María José López" is another person's (siblings, twins; an identity
    audit, 2026-12-07, found a record renamed so into its twin's with no check)."""
    return " ".join(re.findall(r"\w+", folded(text)))


def name_key(text: str) -> str:
    """The name's parts in any order, folded: "Garcia, Maria" and "maria garcía" give the
    same key (a duplicate registered surname-first had passed the check; an audit). For
    catching a likely duplicate only: whether a name changed is `name_words`."""
    return " ".join(sorted(name_words(text).split()))

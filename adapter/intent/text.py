"""The message as the grammar reads it: folded like keywords are, with every character mapped
back to the message, so a trigger is always quoted in the sender's own words."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache

from rapidfuzz import process
from rapidfuzz.distance import OSA

from ..keywords import fold

# Phones and keyboards vary these; the grammar is written with the ASCII ones only.
_APOSTROPHES = "\u2019\u2018\u02bc\u00b4`\u2032"
_QUOTES = "\u201c\u201d\u201e\u00ab\u00bb\u2033"
# Hyphens join words the grammar treats as separate ("désabonnez-moi", "opt-out").
_HYPHENS = "-\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d_"
_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")
# Clauses end at sentence punctuation, commas and line breaks; a question mark anywhere in the
# run that ends a clause makes it a question.
_CLAUSE_END = re.compile(r"[.!?;,:\n\u2026\u00a1\u00bf]+")


@dataclass(frozen=True)
class Clause:
    start: int
    end: int
    text: str
    question: bool
    # It goes on the sentence of the clause before it (they are parted by a comma or colon).
    continues: bool


@dataclass(frozen=True)
class Folded:
    """``text`` is the folded message; ``origin[i]`` is the index in the original message of
    the character ``text[i]`` came from."""

    text: str
    origin: tuple[int, ...]
    original: str

    def quote(self, start: int, end: int) -> str:
        """The original characters behind ``text[start:end]``."""
        if start >= end:
            return ""
        return self.original[self.origin[start] : self.origin[end - 1] + 1]

    def clauses(self) -> list[Clause]:
        found = []
        position, opener = 0, ""
        for end in [*_CLAUSE_END.finditer(self.text), None]:
            stop = end.start() if end else len(self.text)
            closer = end.group() if end else ""
            chunk = self.text[position:stop]
            body = chunk.strip()
            if body:
                start = position + len(chunk) - len(chunk.lstrip())
                # Spanish opens a question with its own mark.
                question = "?" in closer or "\u00bf" in opener
                continues = bool(found) and not re.search(r"[.!?\n\u2026]", opener)
                found.append(Clause(start, start + len(body), body, question, continues))
            if end is None:
                break
            position, opener = end.end(), closer
        return found

    def quoted_spans(self) -> list[tuple[int, int]]:
        """Spans between double quotes, and between single quotes that open after a space (so
        the apostrophe of "don't" opens nothing)."""
        spans = [(m.start(), m.end()) for m in re.finditer(r'"[^"]*"', self.text)]
        spans += [
            (m.start(1), m.end(1))
            for m in re.finditer(r"(?:^|(?<=[\s(\[:]))('[^']+')(?=$|[\s.,!?;:)\]])", self.text)
        ]
        return spans


def fold_message(text: str) -> Folded:
    """Fold ``text`` character by character (NFKC, case folding, accents dropped: the keyword
    normaliser's :func:`~adapter.keywords.fold`), with apostrophes, quotes and hyphens made
    ASCII and runs of white space collapsed to one space."""
    chars: list[str] = []
    origin: list[int] = []
    for index, char in enumerate(text):
        if char in _APOSTROPHES:
            folded = "'"
        elif char in _QUOTES:
            folded = '"'
        elif char in _HYPHENS or char.isspace():
            folded = " " if char != "\n" else "\n"
        else:
            folded = fold(char)
        for piece in folded:
            if piece == " " and (not chars or chars[-1] in " \n"):
                continue
            chars.append(piece)
            origin.append(index)
    return Folded("".join(chars), tuple(origin), text)


@dataclass(frozen=True)
class Speller:
    """Misspelt key words put right by a small edit distance (optimal string alignment, so a
    swap of two neighbouring letters counts as one edit), never a real word: a word on the
    ``known`` list is left alone, and a short word only gets two letters swapped back
    ("stpo") or a missing one put back ("sto"), since one changed letter in a four-letter word
    makes another word ("step", "shop")."""

    targets: frozenset[str]
    known: frozenset[str]

    def correct(self, word: str) -> str:
        if word in self.targets or word in self.known or len(word) < 3:
            return word
        return _closest(word, self.targets)


@cache
def _sorted_targets(targets: frozenset[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    return tuple(sorted(t for t in targets if len(t) <= 5)), tuple(
        sorted(t for t in targets if len(t) > 5)
    )


def _closest(word: str, targets: frozenset[str]) -> str:
    short, long = _sorted_targets(targets)
    for target in short:
        # Two letters swapped ("stpo") or one left out ("sto").
        swapped = sorted(target) == sorted(word)
        dropped = len(word) == len(target) - 1
        if (swapped or dropped) and OSA.distance(word, target) == 1:
            return target
    # Longer words tolerate more slips; the first letter is rarely the wrong one and keeps
    # "sexting" away from "texting".
    candidates = [t for t in long if t[0] == word[0] and abs(len(t) - len(word)) <= 2]
    if not candidates:
        return word
    match = process.extractOne(word, candidates, scorer=OSA.distance, score_cutoff=2)
    if match is None:
        return word
    target, distance, _ = match
    allowed = 2 if len(target) >= 9 else 1
    return target if distance <= allowed else word


def spell_corrected(folded: Folded, speller: Speller) -> Folded:
    """``folded`` with its misspelt key words replaced; each replacement maps to the original
    word, so a trigger still quotes what was typed."""
    chars: list[str] = []
    origin: list[int] = []
    position = 0
    for match in _WORD.finditer(folded.text):
        word = match.group()
        right = speller.correct(word)
        if right == word:
            continue
        chars.append(folded.text[position : match.start()])
        origin.extend(folded.origin[position : match.start()])
        chars.append(right)
        first, last = folded.origin[match.start()], folded.origin[match.end() - 1]
        origin.extend(first if i < len(right) - 1 else last for i in range(len(right)))
        position = match.end()
    if position == 0:
        return folded
    chars.append(folded.text[position:])
    origin.extend(folded.origin[position:])
    return Folded("".join(chars), tuple(origin), folded.original)


def words(values: Iterable[str]) -> frozenset[str]:
    """A word list written with accents, folded the way messages are."""
    return frozenset(fold(value) for value in values)

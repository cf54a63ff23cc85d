"""Precision and recall of the detector on a labelled set (``tests/data/opt_out_intent*.csv``:
columns ``text``, ``language``, ``label`` = ``intent`` | ``not``, ``note``)."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .detector import detect


@dataclass(frozen=True)
class Labelled:
    text: str
    language: str
    intent: bool
    note: str


@dataclass
class Counts:
    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0

    def add(self, predicted: bool, actual: bool) -> None:
        if predicted and actual:
            self.tp += 1
        elif predicted:
            self.fp += 1
        elif actual:
            self.fn += 1
        else:
            self.tn += 1

    @property
    def precision(self) -> float:
        # No intent found means no wrong one either.
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0


@dataclass
class Scores:
    overall: Counts = field(default_factory=Counts)
    by_language: dict[str, Counts] = field(default_factory=dict)
    # The messages it got wrong, for reading, not for asserting.
    misses: list[Labelled] = field(default_factory=list)


def load_labelled(path: Path) -> list[Labelled]:
    with path.open(encoding="utf-8", newline="") as file:
        rows = list(csv.DictReader(file))
    labels = {"intent": True, "not": False}
    unknown = {row["label"] for row in rows} - labels.keys()
    if unknown:
        raise ValueError(f"{path.name}: labels must be 'intent' or 'not', found {sorted(unknown)}")
    return [
        Labelled(row["text"], row["language"], labels[row["label"]], row.get("note") or "")
        for row in rows
    ]


def score(messages: Iterable[Labelled], languages: Sequence[str] = ("en", "es", "fr")) -> Scores:
    scores = Scores()
    for message in messages:
        predicted = detect(message.text, languages).is_intent
        scores.overall.add(predicted, message.intent)
        scores.by_language.setdefault(message.language, Counts()).add(predicted, message.intent)
        if predicted != message.intent:
            scores.misses.append(message)
    return scores
